"""The public pages: only public initiatives, no personal names or e-mail addresses; the flag form."""

import re

import pytest
from sqlmodel import select

from tests import monitor_history
from tests.web.helpers import csrf_of
from workflow.errors import PermissionDenied
from workflow.models import Event, Initiative
from workflow.reports import public


@pytest.fixture
def history(app):
    return monitor_history.build(app)


EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def assert_no_personal_data(html):
    assert monitor_history.PERSON not in html
    assert [] == EMAIL.findall(html)


def titles(html):
    return [t for key, t in monitor_history.TITLES.items() if t in html]


def test_region_page_lists_only_public_initiatives(client, history):
    page = client.get("/openbaar")
    assert 200 == page.status_code
    # A and B: the council handed them on (default rule); E: made public; C: made private;
    # D: motion rejected; F: not yet in the council.
    assert [monitor_history.TITLES[k] for k in ("A", "B", "E")] == titles(page.text)
    assert_no_personal_data(page.text)


def test_municipality_page(client, history):
    page = client.get("/openbaar/gemeente/sliedrecht")
    assert [monitor_history.TITLES["A"]] == titles(page.text)
    assert "Openbare initiatieven – gemeente Sliedrecht" in page.text
    assert 404 == client.get("/openbaar/gemeente/atlantis").status_code


def test_municipality_page_includes_what_it_takes_part_in(client, history):
    # Dordrecht: B and E are its own; it joined Sliedrecht's A.
    page = client.get("/openbaar/gemeente/dordrecht")
    assert [monitor_history.TITLES[k] for k in ("A", "B", "E")] == titles(page.text)


def test_initiative_page_shows_roles_and_factions_not_people(client, history):
    page = client.get(f"/openbaar/initiatief/{history.ids['A']}")
    assert 200 == page.status_code
    assert_no_personal_data(page.text)
    assert "door fractie cda" in page.text
    assert "Motie aangenomen</strong> – 15 januari 2026, door de griffie van de gemeente" in page.text
    assert "Toelichting" not in page.text  # comments stay private


def test_private_initiatives_are_not_found(client, history):
    for key in ("C", "D", "F"):
        assert 404 == client.get(f"/openbaar/initiatief/{history.ids[key]}").status_code


def test_the_college_and_submitter_set_the_flag_audited(app, people, history):
    a = history.ids["A"]
    public.set_public(app.engine, a, actor=people["college_sliedrecht"], public=False)
    public.set_public(app.engine, a, actor=people["fractie_sliedrecht"], public=True)
    with app.db.read() as session:
        row = session.get(Initiative, a)
        flags = [e.data for e in session.exec(select(Event).where(Event.initiative_id == a,
                                                                  Event.trigger == public.SET_PUBLIC))]
    assert (True, [{"public": False, "before": None}, {"public": True, "before": False}]) == (row.public, flags)


def test_others_may_not_set_the_flag(app, people, history):
    with pytest.raises(PermissionDenied):
        public.set_public(app.engine, history.ids["A"], actor=people["secretaris_wonen"], public=False)
    with pytest.raises(PermissionDenied):
        public.set_public(app.engine, history.ids["A"], actor=people["college_dordrecht"], public=False)


def test_flag_form(app, people, history, browser_for):
    a = history.ids["A"]
    client, _csrf = browser_for("college_sliedrecht")
    form = client.get(f"/initiatieven/{a}/openbaarheid")
    assert "Dit initiatief staat nu wel op de" in form.text
    done = client.post(f"/initiatieven/{a}/openbaarheid", data={"openbaar": "nee", "csrf_token": csrf_of(form.text)})
    assert (303, f"/initiatieven/{a}/openbaarheid?opgeslagen=1") == (done.status_code, done.headers["location"])
    assert monitor_history.TITLES["A"] not in client.get("/openbaar").text
    refused = client.post(f"/initiatieven/{a}/openbaarheid", data={"openbaar": "ja"})
    assert 403 == refused.status_code


def test_schema_is_published(client):
    response = client.get("/schemas/export.schema.json")
    assert (200, "application/schema+json") == (response.status_code, response.headers["content-type"])
    assert "Initiatief: export van initiatieven en hun gebeurtenissen" == response.json()["title"]
