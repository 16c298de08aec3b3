"""The report pages for logged-in users: monitor (page, PDF, JSON), council list (page, files), agenda link."""

import csv
import io

import pytest
import time_machine

from tests import monitor_history
from tests.test_monitor import pdf_text
from tests.web.helpers import csrf_of


@pytest.fixture
def history(app):
    return monitor_history.build(app)


@pytest.fixture
def regiekamer(browser_for):
    """The steering room, logged in on 1 February 2027: the year 2026 is complete."""
    with time_machine.travel("2027-02-01T12:00:00Z"):
        client, _csrf = browser_for("regiekamer")
        yield client


def test_reports_need_a_login(client):
    for path in ("/monitor", "/monitor.pdf", "/raadslijst", "/raadslijst.csv?gemeente=sliedrecht",
                 "/account/agenda"):
        assert 303 == client.get(path).status_code, path


def test_monitor_page_has_charts_with_tables(regiekamer, history):
    page = regiekamer.get("/monitor?jaar=2026")
    assert 200 == page.status_code
    html = page.text
    assert "<h1>Voortgangsmonitor 2026, de hele regio</h1>" in html
    assert 3 == html.count('role="img"')  # every chart is labelled …
    assert 3 == html.count('<figure class="chart-figure">')  # … and has a table beside it
    for expected in ("€ 1.234,56", "€ 998.765,44", "301 dagen", "het college van de gemeente (Sliedrecht)"):
        assert expected in html


def test_monitor_per_theme_and_downloads(regiekamer, history):
    page = regiekamer.get("/monitor?jaar=2026&thema=energie")
    pdf = regiekamer.get("/monitor.pdf?jaar=2026&thema=energie")
    data = regiekamer.get("/monitor.json?jaar=2026&thema=energie").json()
    assert "Voortgangsmonitor 2026, thema Energie" in page.text
    assert ("application/pdf", 'attachment; filename="voortgangsmonitor-2026-energie.pdf"') == (
        pdf.headers["content-type"], pdf.headers["content-disposition"])
    assert "Voortgangsmonitor 2026, thema Energie" in pdf_text(pdf.content)
    assert (2, 1_000_000) == (data["initiatives"], data["budget"][0]["spent_cents"])
    assert 404 == regiekamer.get("/monitor?thema=kunst").status_code


def test_council_list_page_and_files(regiekamer, history):
    page = regiekamer.get("/raadslijst?gemeente=sliedrecht&status=lopend")
    assert 200 == page.status_code
    assert ["A", "C"] == [k for k, t in monitor_history.TITLES.items() if t in page.text]
    assert "/raadslijst.xlsx?gemeente=sliedrecht&amp;status=lopend" in page.text
    found = regiekamer.get("/raadslijst.csv?gemeente=sliedrecht&status=lopend")
    rows = list(csv.reader(io.StringIO(found.content.decode("utf-8-sig")), delimiter=";"))
    assert [monitor_history.TITLES["A"], "Fietspad langs de Merwede"] == [r[1] for r in rows[1:]]
    assert 200 == regiekamer.get("/raadslijst.xlsx?gemeente=sliedrecht").status_code
    assert 422 == regiekamer.get("/raadslijst.csv?gemeente=sliedrecht&van=gisteren").status_code
    assert 422 == regiekamer.get("/raadslijst.doc?gemeente=sliedrecht").status_code


def test_agenda_link_is_shown_once_and_can_be_revoked(browser_for, app):
    client, _csrf = browser_for("college_sliedrecht")
    page = client.get("/account/agenda")
    made = client.post("/account/agenda", data={"csrf_token": csrf_of(page.text)})
    url = made.text.split('id="agenda-url" type="text" readonly value="')[1].split('"')[0]
    path = url.removeprefix(app.settings.base_url.rstrip("/"))
    assert 200 == client.get(path).status_code
    assert url not in client.get("/account/agenda").text
    client.post("/account/agenda/intrekken", data={"csrf_token": csrf_of(page.text)})
    assert 404 == client.get(path).status_code
