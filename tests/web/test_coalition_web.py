"""The coalition route through the JSON API, and the initiative page's joint decision and accountability."""

import re
from datetime import UTC, datetime

import pytest
import time_machine

from tests import coalition_routes
from tests.coalition_routes import PLAN, add_coalition_people


@pytest.fixture
def api(client, token_for):
    tokens = {}

    def call(who, method, path, **kw):
        if who not in tokens:
            tokens[who] = token_for(who)
        return client.request(method, path, headers={"Authorization": f"Bearer {tokens[who]}"}, **kw)

    return call


def _fire(api, who, iid, trigger, **data):
    response = api(who, "POST", f"/api/initiatives/{iid}/transitions", json={"trigger": trigger, "data": data})
    return response.status_code, response.json()


def _text(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


class TestApi:
    def test_the_route_end_to_end_with_a_no_go(self, people, api):
        add_coalition_people(people)
        response = api("fractie_sliedrecht", "POST", "/api/initiatives", json={
            "flow": "coalitie", "data": {"title": "Fietsroute langs de Merwede", "summary": "Samen"}})
        assert (201, "submitted") == (response.status_code, response.json()["state"])
        iid = response.json()["id"]
        assert 200 == _fire(api, "griffie_sliedrecht", iid, "record_commitment")[0]
        assert (200, "tabled") == (lambda r: (r[0], r[1]["state"]))(
            _fire(api, "college_sliedrecht", iid, "route_to_coalition", municipalities="gorinchem"))
        assert 200 == _fire(api, "college_gorinchem", iid, "answer_participation", choice="join")[0]
        assert 200 == _fire(api, "college_sliedrecht", iid, "start_elaboration")[0]
        assert 200 == _fire(api, "college_sliedrecht", iid, "submit_plan", **PLAN)[0]
        assert 200 == _fire(api, "college_sliedrecht", iid, "cast_vote", vote="for")[0]
        status, body = _fire(api, "college_gorinchem", iid, "cast_vote", vote="abstain")
        assert (200, "stopped") == (status, body["state"])
        events = api("regiekamer", "GET", f"/api/initiatives/{iid}/events").json()
        assert "Geen consensus: niet voor stemden gorinchem." == events[-1]["data"]["outcome"]["summary"]

    def test_a_vote_in_the_wrong_state_is_409_and_bad_input_422(self, engine, people, api):
        iid = coalition_routes.drive(engine, people, "elaboration")
        status, body = _fire(api, "college_gorinchem", iid, "cast_vote", vote="for")
        assert 409 == status
        status, body = _fire(api, "college_sliedrecht", iid, "submit_plan", approach="Aanpak", budget=1,
                             planning="Q1 2027", decision_text="Besluit", date="morgen")
        assert (422, ["date"]) == (status, list(body["fields"]))


class TestPage:
    def test_the_page_shows_the_joint_decision_with_the_late_college(self, engine, people, browser_for):
        start = datetime(2026, 11, 2, 9, tzinfo=UTC)
        with time_machine.travel(start, tick=False):
            iid = coalition_routes.drive(engine, people, "go_decision")
            engine.fire(iid, "cast_vote", actor=people["college_sliedrecht"], data={"vote": "for"})
            engine.fire(iid, "cast_vote", actor=people["college_molenlanden"], data={"vote": "against"})
        with time_machine.travel(datetime(2027, 3, 5, 9, tzinfo=UTC), tick=False):
            client, _ = browser_for("regiekamer")
            page = _text(client.get(f"/initiatieven/{iid}").text)
        assert f"Conceptbesluit {PLAN['decision_text']} Uiterlijk 1 maart 2027" in page
        assert "Besluitregel consensus (iedereen voor)" in page
        assert "Gorinchem nog niet besloten Verlopen –" in page
        assert "Molenlanden tegen 2 november 2026" in page
        assert "Sliedrecht voor 2 november 2026" in page

    def test_the_page_names_the_local_portfolio_holder(self, engine, people, browser_for):
        iid = coalition_routes.drive(engine, people, "agreements")
        engine.fire(iid, "set_accountability", actor=people["college_sliedrecht"], data={
            "lead_alderman": "Wethouder De Boer", "lead_alderman_municipality": "gorinchem",
            "lead_municipality": "sliedrecht"})
        engine.fire(iid, "set_portfolio_holder", actor=people["college_sliedrecht"],
                    data={"portfolio_holder": "Wethouder Van Dam"})
        engine.fire(iid, "join", actor=people["college_dordrecht"])
        client, _ = browser_for("griffie_sliedrecht")
        page = _text(client.get(f"/initiatieven/{iid}").text)
        assert "Bestuurlijk trekker Wethouder De Boer (wethouder in Gorinchem) Penvoerder Sliedrecht" in page
        assert "Dordrecht nog niet vastgelegd" in page
        assert "Gorinchem Wethouder De Boer (bestuurlijk trekker)" in page
        assert "Sliedrecht Wethouder Van Dam" in page
        assert re.search(r"Dordrecht doet mee \(toegetreden \d+ \w+ \d{4}\)", page)


class TestInbox:
    """A college sees the vote it owes under 'Wacht op mij'; side steps (join, leave) do not count."""

    def test_the_vote_waits_on_the_college_until_it_is_cast_through_the_form(self, engine, people, browser_for):
        iid = coalition_routes.drive(engine, people, "go_decision")
        client, token = browser_for("college_gorinchem")
        assert f"/initiatieven/{iid}/stap/cast_vote" in client.get("/wacht-op-mij").text
        version = str(engine.fire(iid, "cast_vote", actor=people["college_sliedrecht"], data={"vote": "for"}).version)
        done = client.post(f"/initiatieven/{iid}/stap/cast_vote", data={
            "csrf_token": token, "fase": "bevestigen", "versie": version,
            "municipality": "gorinchem", "vote": "for"})
        assert 303 == done.status_code
        inbox = client.get("/wacht-op-mij").text
        assert f"/initiatieven/{iid}/stap/" not in inbox  # leave and portfolio holder remain possible
        page = client.get(f"/initiatieven/{iid}").text
        assert f"/initiatieven/{iid}/stap/leave" in page

    def test_a_college_outside_the_initiative_is_not_asked_anything(self, engine, people, browser_for):
        iid = coalition_routes.drive(engine, people, "agreements")
        client, _ = browser_for("college_zwijndrecht")
        assert f"/initiatieven/{iid}/stap/" not in client.get("/wacht-op-mij").text
        assert f"/initiatieven/{iid}/stap/join" in client.get(f"/initiatieven/{iid}").text
