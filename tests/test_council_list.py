"""The council list per municipality: content, filters, and CSV/XLSX/PDF files that read back intact."""

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from tests import monitor_history
from tests.test_monitor import pdf_text
from workflow.errors import InvalidInput, NotFound
from workflow.models import Initiative
from workflow.reports.council_list import HEADER, council_list, to_csv, to_pdf, to_xlsx


@pytest.fixture
def history(app):
    return monitor_history.build(app)


def sliedrecht(app, **filters):
    return council_list(app.db, app.registry, municipality="sliedrecht", **filters)


def test_lists_every_motion_and_commitment_of_that_council(app, history):
    found = sliedrecht(app)
    # D's motion was rejected; F has not been in the council yet.
    assert [
        (str(history.ids["A"]), monitor_history.TITLES["A"], "motie", "aangenomen", "cda", "15 januari 2026",
         "Samenvatting van A: dictum met ë en €.", "Wethouder Wonen", "In uitvoering", "–", "nee"),
        (str(history.ids["C"]), "Fietspad langs de Merwede", "motie", "aangenomen", "cda", "6 maart 2026",
         "Samenvatting van C: dictum met ë en €.", "Wethouder Wonen", "Bij het college", "1 mei 2026", "nee"),
        (str(history.ids["D"]), "Gratis parkeren in het centrum", "motie", "verworpen", "sp", "11 juni 2026",
         "Samenvatting van D: dictum met ë en €.", "–", "Verworpen door de raad", "–", "ja"),
    ] == [item.cells() for item in found.items]


def test_commitments_are_named_so(app, history):
    found = council_list(app.db, app.registry, municipality="dordrecht")
    assert [("toezegging", ""), ("motie", "aangenomen")] == [(i.kind, i.outcome) for i in found.items]


def test_filters_by_status_and_period(app, history):
    keys = monitor_history.keys_by_id(history)
    assert ["D"] == [keys[i.initiative_id] for i in sliedrecht(app, status="afgedaan").items]
    assert ["A", "C"] == [keys[i.initiative_id] for i in sliedrecht(app, status="lopend").items]
    assert ["C", "D"] == [keys[i.initiative_id]
                          for i in sliedrecht(app, since=date(2026, 3, 1), until=date(2026, 12, 31)).items]


def test_bad_filters_are_refused_in_dutch(app, history):
    with pytest.raises(InvalidInput) as err:
        sliedrecht(app, status="klaar")
    assert "Onbekende status 'klaar': kies lopend of afgedaan." == err.value.message
    with pytest.raises(NotFound):
        council_list(app.db, app.registry, municipality="atlantis")


def test_csv_round_trip_keeps_dutch_characters_and_euros(app, history):
    found = sliedrecht(app)
    content = to_csv(found)
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert [list(HEADER)] + [list(item.cells()) for item in found.items] == rows
    assert "Starterswoningen in Sliedrecht – één regio, één aanpak" == rows[1][1]
    assert "Samenvatting van A: dictum met ë en €." == rows[1][6]


def test_xlsx_round_trip(app, history):
    found = sliedrecht(app)
    book = load_workbook(io.BytesIO(to_xlsx(found)))
    sheet = book["Moties en toezeggingen"]
    rows = [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert [list(HEADER)] + [list(item.cells()) for item in found.items] == rows


def test_pdf_has_the_title_and_rows(app, history):
    text = pdf_text(to_pdf(sliedrecht(app)))
    for expected in ("Lijst van moties en toezeggingen – gemeente Sliedrecht", "Fietspad langs de Merwede",
                     "verworpen", "Wethouder Wonen", "1 mei 2026", "dictum met ë en €."):
        assert expected in text, expected


def test_cli_writes_each_format(run, app, history, tmp_path):
    for fmt in ("csv", "xlsx", "pdf"):
        target = tmp_path / f"lijst.{fmt}"
        code, out, err = run("report", "council-list", "--municipality", "sliedrecht", "--format", fmt, "-o", target)
        assert (0, "", f"3 moties en toezeggingen van Sliedrecht geschreven naar {target}.\n") == (code, err, out)
    assert "Fietspad langs de Merwede" in (tmp_path / "lijst.csv").read_text("utf-8-sig")


def test_without_a_local_portfolio_holder_the_lead_alderman_is_named(app, history):
    with app.db.write() as session:
        row = session.get(Initiative, history.ids["C"])
        row.data["accountability"] = {"portfolio_holders": {"dordrecht": {"name": "Wethouder Dordrecht"}},
                                      "lead_alderman": {"name": "Wethouder Trekker", "municipality": "dordrecht",
                                                        "municipality_name": "Dordrecht"}}
    [item] = [i for i in sliedrecht(app).items if i.initiative_id == history.ids["C"]]
    assert "Wethouder Trekker (bestuurlijk trekker, Dordrecht)" == item.portfolio_holder
