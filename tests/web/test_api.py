"""The JSON API: every endpoint, every error status with its code, permissions, idempotency, versions."""

from datetime import timedelta

import pytest
from sqlmodel import func, select

from tests import routes
from workflow.clock import utcnow
from workflow.models import Deadline, Event, Initiative, WorkingGroupMember
from workflow.testing import DEFAULT_CAST

NEW = {"flow": "groeiagenda",
       "data": {"title": "Starterswoningen in de regio", "summary": "Samen bouwen voor starters."}}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def count(app, model, *where):
    with app.db.read() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.fixture
def api(client, token_for):
    """`api(who, method, path, **kw)`: a request with `who`'s Bearer token."""
    tokens = {}

    def call(who, method, path, **kw):
        if who not in tokens:
            tokens[who] = token_for(who)
        headers = {**bearer(tokens[who]), **kw.pop("headers", {})}
        return client.request(method, path, headers=headers, **kw)

    return call


class TestSubmit:
    def test_a_faction_member_submits_and_gets_201_with_id_state_version(self, app, people, api):
        response = api("fractie_sliedrecht", "POST", "/api/initiatives", json=NEW)
        assert 201 == response.status_code
        body = response.json()
        assert {"id", "state", "state_label", "version", "events"} <= set(body)
        assert ("submitted", 1) == (body["state"], body["version"])
        with app.db.read() as session:
            row = session.get(Initiative, body["id"])
        assert ("sliedrecht", "cda", "Starterswoningen in de regio") == (row.municipality, row.faction, row.title)

    def test_a_college_may_not_submit(self, app, people, api):
        response = api("college_sliedrecht", "POST", "/api/initiatives", json=NEW)
        assert (403, "niet_toegestaan") == (response.status_code, response.json()["code"])
        assert 0 == count(app, Initiative)

    def test_without_flow_the_first_flow_the_caller_may_submit_in_is_used(self, app, people, api):
        faction = api("fractie_sliedrecht", "POST", "/api/initiatives", json={"data": NEW["data"]})
        civic = {"title": "Buurttuin", "summary": "Een tuin voor de wijk.", "initiator_name": "Anna de Vries",
                 "initiator_kind": "inwoners", "initiator_email": "anna@example.nl"}
        college = api("college_sliedrecht", "POST", "/api/initiatives", json={"data": civic})
        with app.db.read() as session:
            flows = [session.get(Initiative, r.json().get("id")) for r in (faction, college)]
        assert [201, 201] == [faction.status_code, college.status_code], college.json()
        assert ["groeiagenda", "samenleving"] == [row.flow for row in flows]
        nobody = api("secretaris_wonen", "POST", "/api/initiatives", json={"data": NEW["data"]})
        assert (403, "niet_toegestaan") == (nobody.status_code, nobody.json()["code"])

    def test_invalid_input_is_422_with_the_fields_in_dutch_and_nothing_written(self, app, people, api):
        response = api("fractie_sliedrecht", "POST", "/api/initiatives",
                       json={"flow": "groeiagenda", "data": {"title": "ab", "colour": "rood"}})
        body = response.json()
        assert (422, "ongeldige_invoer") == (response.status_code, body["code"])
        assert {"title", "summary", "colour"} == set(body["fields"])
        assert "onbekend veld" == body["fields"]["colour"]
        assert body["message"].startswith("Ongeldige invoer")
        assert 0 == count(app, Initiative)

    def test_a_malformed_body_is_422_with_a_code(self, people, api):
        response = api("fractie_sliedrecht", "POST", "/api/initiatives", json={"titel": "x"})
        body = response.json()
        assert (422, "ongeldige_invoer") == (response.status_code, body["code"])
        assert {"data", "titel"} == set(body["fields"])

    def test_an_unknown_flow_is_404(self, people, api):
        response = api("fractie_sliedrecht", "POST", "/api/initiatives", json={**NEW, "flow": "onbekend"})
        assert (404, "niet_gevonden") == (response.status_code, response.json()["code"])

    def test_without_a_token_it_is_401_with_a_bearer_challenge(self, client, people):
        response = client.post("/api/initiatives", json=NEW)
        assert (401, "niet_ingelogd") == (response.status_code, response.json()["code"])
        assert "Bearer" == response.headers["www-authenticate"]

    def test_an_unknown_token_is_401(self, client, people):
        response = client.get("/api/initiatives", headers=bearer("ini_nietbestaand"))
        assert (401, "niet_ingelogd") == (response.status_code, response.json()["code"])

    def test_a_non_bearer_authorization_is_401(self, client, people):
        response = client.get("/api/initiatives", headers={"Authorization": "Basic YTpi"})
        assert (401, "niet_ingelogd") == (response.status_code, response.json()["code"])


class TestRead:
    def test_one_initiative_has_the_documented_fields(self, engine, people, api):
        iid = routes.drive(engine, people, "with_college")
        body = api("college_sliedrecht", "GET", f"/api/initiatives/{iid}").json()
        expected = {"id", "title", "summary", "flow", "state", "state_label", "version", "municipality",
                    "participants", "deadlines", "allowed_triggers"}
        assert expected <= set(body)
        assert (iid, "with_college", "Bij het college", 2) == (
            body["id"], body["state"], body["state_label"], body["version"])
        assert ["route_to_working_group", "handle_locally", "decline", "set_accountability"] == (
            body["allowed_triggers"])
        assert ["working_group"] == [f["name"] for f in body["actions"][0]["fields"]]
        assert ["Reactie van het college"] == [d["label"] for d in body["deadlines"]]

    def test_allowed_triggers_are_the_callers_own(self, engine, people, api):
        iid = routes.drive(engine, people, "with_college")
        assert [] == api("college_dordrecht", "GET", f"/api/initiatives/{iid}").json()["allowed_triggers"]
        assert ["withdraw"] == api("fractie_sliedrecht", "GET", f"/api/initiatives/{iid}").json()[
            "allowed_triggers"]

    def test_an_unknown_initiative_is_404_and_a_bad_id_422(self, people, api):
        missing = api("regiekamer", "GET", "/api/initiatives/999")
        assert (404, "niet_gevonden") == (missing.status_code, missing.json()["code"])
        bad = api("regiekamer", "GET", "/api/initiatives/abc")
        assert (422, "ongeldige_invoer") == (bad.status_code, bad.json()["code"])

    def test_the_events_are_the_timeline_with_who_when_and_why(self, engine, people, api):
        iid = routes.drive(engine, people, "with_college")
        engine.fire(iid, "route_to_working_group", actor=people["college_sliedrecht"],
                    data={"working_group": "bouwen-en-wonen"}, comment="Past bij de woonagenda.")
        events = api("regiekamer", "GET", f"/api/initiatives/{iid}/events").json()
        assert ["submit", "adopt_motion", "route_to_working_group"] == [e["trigger"] for e in events]
        last = events[-1]
        assert ("college_sliedrecht", "tabled", "Past bij de woonagenda.") == (
            last["actor"], last["to_state"], last["comment"])
        assert {"working_group": "bouwen-en-wonen"} == last["data"]
        assert last["at"].startswith(str(utcnow().year))

    def test_the_joint_decision_per_municipality(self, engine, people, api):
        iid = routes.drive(engine, people, "frameworks_check")
        assert 404 == api("regiekamer", "GET", f"/api/initiatives/{iid}/decisions").status_code
        engine.fire(iid, "require_participant_decisions", actor=people["secretaris_wonen"],
                    data={"date": "2027-03-01", "decision_text": "Wij stemmen in met het programma."})
        engine.fire(iid, "record_participant_decision", actor=people["college_dordrecht"],
                    data={"decision": "approve", "date": "2026-11-20"})
        found = api("regiekamer", "GET", f"/api/initiatives/{iid}/decisions").json()
        assert ("Wij stemmen in met het programma.", "2027-03-01", True) == (
            found["text"], found["due"], found["open"])
        answers = {a["municipality"]: a["decision"] for a in found["answers"] if a["taking_part"]}
        assert {"dordrecht": "for", "papendrecht": None, "sliedrecht": None} == answers
        assert {"asked": 3, "for": 1, "undecided": 2} == {
            k: v for k, v in found["counts"].items() if k in ("asked", "for", "undecided")}

    def test_the_list_filters_by_state_municipality_group_theme_and_text(self, app, engine, people, api):
        a = routes.drive(engine, people, "elaboration", title="Warmtenet Sliedrecht")
        b = routes.submit(engine, people, "Fietsroute langs de rivier")
        c = engine.submit(actor=people["fractie_dordrecht"], flow="groeiagenda",
                          data={"title": "Dordtse haven", "summary": "Kade vernieuwen."}).initiative_id

        def ids(query):
            response = api("regiekamer", "GET", f"/api/initiatives?{query}")
            assert 200 == response.status_code
            return [item["id"] for item in response.json()["items"]]

        assert [c, b, a] == ids("")
        assert [c, b] == ids("state=submitted")
        assert [c, a] == ids("municipality=dordrecht")
        assert [a] == ids("municipality=papendrecht")  # taking part counts too
        assert [a] == ids("working_group=bouwen-en-wonen")
        assert [a] == ids("theme=bouwen-en-wonen")
        assert [] == ids("theme=energie")
        assert [b] == ids("q=fietsroute")
        assert [b] == ids("q=RIVIER langs")
        assert [c] == ids(f"q={c}")

    def test_the_list_is_paginated_and_marks_overdue(self, app, engine, people, api):
        first = routes.drive(engine, people, "with_college")
        second = routes.submit(engine, people, "Tweede")
        with app.db.write() as session:
            deadline = session.exec(select(Deadline).where(Deadline.initiative_id == first)).one()
            deadline.due_at = utcnow() - timedelta(days=1)
            session.add(deadline)
        page = api("regiekamer", "GET", "/api/initiatives?page_size=1&page=2").json()
        assert (2, 2, 2, [first]) == (page["total"], page["pages"], page["page"],
                                      [i["id"] for i in page["items"]])
        overdue = api("regiekamer", "GET", "/api/initiatives?overdue=true").json()
        assert [first] == [i["id"] for i in overdue["items"]]
        assert overdue["items"][0]["deadline"]["overdue"] is True
        assert second not in [i["id"] for i in overdue["items"]]
        bad = api("regiekamer", "GET", "/api/initiatives?page=0")
        assert (422, "ongeldige_invoer") == (bad.status_code, bad.json()["code"])

    def test_flows_their_spec_and_diagram(self, people, api):
        flows = api("regiekamer", "GET", "/api/flows").json()
        assert {"coalitie", "groeiagenda"} <= {f["name"] for f in flows}
        spec = api("regiekamer", "GET", "/api/flows/groeiagenda").json()
        assert "submitted" == spec["initial"]
        assert "Bij het college" == {s["name"]: s["label"] for s in spec["states"]}["with_college"]
        triggers = {t["trigger"]: t for t in spec["transitions"]}
        assert (["with_college"], "tabled") == (
            triggers["route_to_working_group"]["sources"], triggers["route_to_working_group"]["dest"])
        diagram = api("regiekamer", "GET", "/api/flows/groeiagenda/diagram?current=tabled")
        assert 200 == diagram.status_code
        assert diagram.text.startswith("stateDiagram-v2")
        assert "class tabled current" in diagram.text
        missing = api("regiekamer", "GET", "/api/flows/onbekend")
        assert (404, "niet_gevonden") == (missing.status_code, missing.json()["code"])

    def test_openapi_and_health(self, client):
        spec = client.get("/api/openapi.json").json()
        paths = set(spec["paths"])
        assert {"/api/initiatives", "/api/initiatives/{initiative_id}",
                "/api/initiatives/{initiative_id}/transitions", "/api/initiatives/{initiative_id}/events",
                "/api/flows", "/api/flows/{name}", "/api/flows/{name}/diagram"} <= paths
        assert not any(p.startswith("/initiatieven") for p in paths)
        assert {"status": "ok", "scheduler": "uit"} == client.get("/api/health").json()

    def test_an_unknown_api_address_is_a_json_404(self, client):
        response = client.get("/api/bestaat-niet")
        assert (404, "niet_gevonden") == (response.status_code, response.json()["code"])


class TestFire:
    def fire(self, api, who, iid, trigger, **body):
        return api(who, "POST", f"/api/initiatives/{iid}/transitions", json={"trigger": trigger, **body})

    def test_a_step_returns_the_new_state_and_version(self, engine, people, api):
        iid = routes.submit(engine, people)
        response = self.fire(api, "griffie_sliedrecht", iid, "adopt_motion",
                             data={"date": "2026-11-05", "reference": "M-12"}, expected_version=1)
        assert 200 == response.status_code
        assert ("with_college", "Bij het college", 2) == tuple(
            response.json()[k] for k in ("state", "state_label", "version"))

    def test_another_role_gets_403_and_nothing_is_written(self, app, engine, people, api):
        iid = routes.submit(engine, people)
        response = self.fire(api, "griffie_dordrecht", iid, "adopt_motion")
        assert (403, "niet_toegestaan") == (response.status_code, response.json()["code"])
        assert 1 == count(app, Event, Event.initiative_id == iid)

    def test_a_step_not_possible_in_this_state_is_409(self, app, engine, people, api):
        iid = routes.drive(engine, people, "with_college")
        response = self.fire(api, "griffie_sliedrecht", iid, "adopt_motion")
        body = response.json()
        assert (409, "stap_niet_mogelijk") == (response.status_code, body["code"])
        assert "Bij het college" in body["message"]
        assert 2 == count(app, Event, Event.initiative_id == iid)

    def test_a_stale_expected_version_is_409_and_nothing_is_written(self, app, engine, people, api):
        iid = routes.submit(engine, people)
        response = self.fire(api, "griffie_sliedrecht", iid, "adopt_motion", expected_version=0)
        body = response.json()
        assert (409, "verouderde_versie", 1) == (response.status_code, body["code"], body["current_version"])
        with app.db.read() as session:
            row = session.get(Initiative, iid)
        assert ("submitted", 1) == (row.state, row.version)
        assert 1 == count(app, Event, Event.initiative_id == iid)

    def test_invalid_input_is_422_naming_the_field(self, app, engine, people, api):
        iid = routes.drive(engine, people, "with_college")
        response = self.fire(api, "college_sliedrecht", iid, "route_to_working_group",
                             data={"working_group": "bestaat-niet"})
        body = response.json()
        assert (422, "ongeldige_invoer") == (response.status_code, body["code"])
        assert ["working_group"] == list(body["fields"])
        assert 2 == count(app, Event, Event.initiative_id == iid)

    def test_an_unknown_trigger_is_422_onbekende_stap(self, engine, people, api):
        iid = routes.submit(engine, people)
        response = self.fire(api, "griffie_sliedrecht", iid, "dans")
        assert (422, "onbekende_stap") == (response.status_code, response.json()["code"])

    def test_a_guard_that_does_not_hold_is_409_with_the_reason(self, app, engine, people, api):
        iid = routes.drive(engine, people, "tabled")  # only the home municipality takes part yet
        response = self.fire(api, "secretaris_wonen", iid, "start_elaboration")
        body = response.json()
        assert (409, "voorwaarde_niet_vervuld") == (response.status_code, body["code"])
        assert "minstens twee gemeenten" in body["message"]

    def test_an_unknown_initiative_is_404(self, people, api):
        response = self.fire(api, "griffie_sliedrecht", 404404, "adopt_motion")
        assert (404, "niet_gevonden") == (response.status_code, response.json()["code"])


class TestIdempotency:
    def test_a_retried_submit_creates_one_initiative_and_replays_the_answer(self, app, people, api):
        headers = {"Idempotency-Key": "voorstel-1"}
        first = api("fractie_sliedrecht", "POST", "/api/initiatives", json=NEW, headers=headers)
        again = api("fractie_sliedrecht", "POST", "/api/initiatives", json=NEW, headers=headers)
        assert (201, 201) == (first.status_code, again.status_code)
        assert first.json() == again.json()
        assert "true" == again.headers["idempotent-replayed"]
        assert "idempotent-replayed" not in first.headers
        assert 1 == count(app, Initiative)

    def test_a_retried_step_fires_once(self, app, engine, people, api):
        iid = routes.submit(engine, people)
        body = {"trigger": "adopt_motion", "data": {}}
        path = f"/api/initiatives/{iid}/transitions"
        responses = [api("griffie_sliedrecht", "POST", path, json=body, headers={"Idempotency-Key": "k1"})
                     for _ in range(3)]
        assert [200, 200, 200] == [r.status_code for r in responses]
        assert 1 == len({r.text for r in responses})
        assert 2 == count(app, Event, Event.initiative_id == iid)

    def test_a_failed_first_try_is_replayed_too(self, app, engine, people, api):
        iid = routes.submit(engine, people)
        body = {"trigger": "adopt_motion", "expected_version": 7}
        path = f"/api/initiatives/{iid}/transitions"
        first = api("griffie_sliedrecht", "POST", path, json=body, headers={"Idempotency-Key": "k2"})
        again = api("griffie_sliedrecht", "POST", path, json=body, headers={"Idempotency-Key": "k2"})
        assert (409, 409) == (first.status_code, again.status_code)
        assert first.json() == again.json()

    def test_the_same_key_with_another_request_is_refused(self, app, people, api):
        headers = {"Idempotency-Key": "voorstel-2"}
        api("fractie_sliedrecht", "POST", "/api/initiatives", json=NEW, headers=headers)
        other = {**NEW, "data": {**NEW["data"], "title": "Iets anders"}}
        response = api("fractie_sliedrecht", "POST", "/api/initiatives", json=other, headers=headers)
        assert (422, "idempotentiesleutel_hergebruikt") == (response.status_code, response.json()["code"])
        assert 1 == count(app, Initiative)

    def test_keys_belong_to_one_user(self, app, people, api):
        headers = {"Idempotency-Key": "gedeeld"}
        a = api("fractie_sliedrecht", "POST", "/api/initiatives", json=NEW, headers=headers)
        b = api("fractie_dordrecht", "POST", "/api/initiatives", json=NEW, headers=headers)
        assert a.json()["id"] != b.json()["id"]
        assert 2 == count(app, Initiative)

    def test_an_overlong_key_is_422(self, people, api):
        response = api("fractie_sliedrecht", "POST", "/api/initiatives", json=NEW,
                       headers={"Idempotency-Key": "x" * 201})
        assert (422, "ongeldige_invoer") == (response.status_code, response.json()["code"])


# --- the permission matrix: for each step, exactly the right cast members may fire it ------------

PLAN = routes.PLAN
MATRIX = [
    # (state to drive to, trigger, input, the cast members who may fire it)
    ("submitted", "adopt_motion", {}, {"griffie_sliedrecht"}),
    ("submitted", "withdraw", {}, {"fractie_sliedrecht"}),
    ("with_college", "route_to_working_group", {"working_group": "bouwen-en-wonen"}, {"college_sliedrecht"}),
    ("with_college", "decline", {"reason": "Past niet in het beleid."}, {"college_sliedrecht"}),
    ("tabled", "record_participation", {"municipality": "zwijndrecht", "choice": "join"}, {"secretaris_wonen"}),
    ("elaboration", "submit_plan", PLAN, {"secretaris_wonen"}),
    ("go_decision", "decide_go", {}, {"secretaris_wonen"}),
    ("frameworks_check", "confirm_fits_frameworks", {}, {"secretaris_wonen"}),
    ("participant_decisions", "record_participant_decision", {"decision": "approve", "date": "2027-02-01"},
     {"college_sliedrecht", "college_dordrecht", "college_papendrecht"}),
    ("agreements", "record_agreements", {"form": "sok", "date": "2027-01-15"}, {"secretaris_wonen"}),
    ("executing", "complete", {"result": "Klaar."}, {"secretaris_wonen"}),
]
CAST = [key for key, _roles in DEFAULT_CAST]


@pytest.mark.parametrize(("state", "trigger", "data", "allowed"), MATRIX, ids=[m[1] for m in MATRIX])
def test_permission_matrix_over_http(app, engine, people, api, state, trigger, data, allowed):
    """Every cast member not allowed gets 403 and sees no such step; the allowed ones succeed."""
    iid = routes.drive(engine, people, state)
    before = count(app, Event, Event.initiative_id == iid)
    path = f"/api/initiatives/{iid}/transitions"
    for who in CAST:
        offered = trigger in api(who, "GET", f"/api/initiatives/{iid}").json()["allowed_triggers"]
        assert (who in allowed) == offered, who
        if who in allowed:
            continue
        response = api(who, "POST", path, json={"trigger": trigger, "data": data})
        assert (403, "niet_toegestaan") == (response.status_code, response.json()["code"]), who
    assert before == count(app, Event, Event.initiative_id == iid)
    for who in sorted(allowed):
        response = api(who, "POST", path, json={"trigger": trigger, "data": data})
        assert 200 == response.status_code, (who, response.text)


def test_a_college_outside_the_working_group_cannot_record_a_decision(app, engine, people, api):
    """Gorinchem's college is no participant: 403 even with its own municipality in the input."""
    iid = routes.drive(engine, people, "participant_decisions")
    with app.db.read() as session:
        assert session.get(WorkingGroupMember, ("bouwen-en-wonen", "gorinchem")) is None
    response = api("college_gorinchem", "POST", f"/api/initiatives/{iid}/transitions",
                   json={"trigger": "record_participant_decision",
                         "data": {"municipality": "gorinchem", "decision": "approve", "date": "2027-02-01"}})
    assert (403, "niet_toegestaan") == (response.status_code, response.json()["code"])
