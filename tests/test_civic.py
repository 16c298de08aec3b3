"""Civic initiatives: the college registers an initiative from society on the initiator's behalf;
the initiator follows it by e-mail without an account; after the college it runs as a Groeiagenda."""

import asyncio
import json

import pytest
from sqlmodel import select

from notifications.delivery import drain
from tests.routes import PLAN
from workflow.errors import InvalidInput, PermissionDenied
from workflow.models import Event, Initiative, OutboxMessage, Participant

INITIATOR = {
    "initiator_name": "Fatima el Amrani",
    "initiator_organisation": "Stichting Buurtkracht Sliedrecht",
    "initiator_kind": "maatschappelijke_organisatie",
    "initiator_email": "Fatima@Buurtkracht.example",
}
NEW = {"title": "Buurtbatterijen in de Baanhoek", "summary": "Samen energie opslaan in de wijk.",
       **INITIATOR}
EMAIL = "fatima@buurtkracht.example"


def register(engine, people, **changes):
    return engine.submit(actor=people["college_sliedrecht"], flow="samenleving",
                         data={**NEW, **changes}).initiative_id


def _state(app, iid):
    with app.db.read() as s:
        return s.get(Initiative, iid).state


def _to_initiator(app, iid):
    with app.db.read() as s:
        return [m.template for m in s.exec(
            select(OutboxMessage).where(OutboxMessage.initiative_id == iid,
                                        OutboxMessage.recipient == EMAIL).order_by(OutboxMessage.id))]


def _to_tabled(engine, people, iid):
    engine.fire(iid, "route_to_working_group", actor=people["college_sliedrecht"],
                data={"working_group": "bouwen-en-wonen"})


def _to_frameworks_check(engine, people, iid):
    _to_tabled(engine, people, iid)
    sec = people["secretaris_wonen"]
    engine.fire(iid, "record_participation", actor=sec, data={"municipality": "dordrecht", "choice": "join"})
    engine.fire(iid, "start_elaboration", actor=sec)
    engine.fire(iid, "submit_plan", actor=sec, data=PLAN)
    engine.fire(iid, "decide_go", actor=sec)


class TestRegistration:
    def test_the_college_registers_with_the_initiators_contact_details(self, app, engine, people):
        iid = register(engine, people)
        with app.db.read() as s:
            row = s.get(Initiative, iid)
            event = s.exec(select(Event).where(Event.initiative_id == iid)).one()
        assert ("samenleving", "with_college", "sliedrecht", None) == (
            row.flow, row.state, row.municipality, row.faction
        )
        assert {"name": "Fatima el Amrani", "organisation": "Stichting Buurtkracht Sliedrecht",
                "kind": "maatschappelijke_organisatie", "email": EMAIL} == row.data["initiator"]
        assert ("register", None, "with_college", "college_sliedrecht") == (
            event.trigger, event.from_state, event.to_state, event.actor_name
        )
        assert ["samenleving_ontvangen"] == _to_initiator(app, iid)

    def test_there_is_no_council_step(self, app):
        flow = app.registry.get("samenleving")
        assert {"submitted", "rejected_by_council", "council_tracks"}.isdisjoint(flow.states)
        assert "with_college" == flow.initial.name
        assert not {"adopt_motion", "record_commitment", "reject_motion", "record_council_decision"} & {
            t.trigger for t in flow.transitions
        }

    @pytest.mark.parametrize("who", ["fractie_sliedrecht", "griffie_sliedrecht", "secretaris_wonen"])
    def test_only_a_college_registers(self, engine, people, who):
        with pytest.raises(PermissionDenied):
            engine.submit(actor=people[who], flow="samenleving", data=NEW)

    @pytest.mark.parametrize(("field", "value", "message"), [
        ("initiator_email", "fatima at buurtkracht", "moet een geldig e-mailadres zijn, bijvoorbeeld naam@voorbeeld.nl"),
        ("initiator_kind", "vereniging", "moet een van deze waarden zijn: inwoners, bedrijf, "
                                         "maatschappelijke_organisatie, kennisinstelling"),
        ("initiator_name", "", "mag niet leeg zijn"),
    ])
    def test_bad_contact_details_write_nothing(self, app, engine, people, field, value, message):
        with pytest.raises(InvalidInput) as err:
            register(engine, people, **{field: value})
        assert message == err.value.field_errors[field]
        with app.db.read() as s:
            assert [] == s.exec(select(Initiative)).all()


class TestTheInitiatorIsKeptInformed:
    def test_mail_reaches_the_initiator_without_an_account(self, apps, people, smtp):
        sender = apps(INITIATIEF_SMTP_URL=smtp.url, INITIATIEF_MAIL_RETRY_SECONDS="0")
        iid = register(sender.engine, people)
        _to_tabled(sender.engine, people, iid)

        asyncio.run(drain(sender.db, sender.settings, worker="test"))

        smtp.recorder.wait_for(3)
        mails = [m for m in smtp.recorder.messages() if m["To"].addresses[0].addr_spec == EMAIL]
        assert [
            "Uw initiatief is ontvangen: Buurtbatterijen in de Baanhoek",
            "Nieuws over uw initiatief: Buurtbatterijen in de Baanhoek – Geagendeerd in de werkgroep",
        ] == [m["Subject"] for m in mails]
        received = mails[0].get_body(("plain",)).get_content()
        assert "Beste Fatima el Amrani," in received
        assert "Het college van Sliedrecht heeft uw initiatief" in received
        assert "namens Stichting Buurtkracht Sliedrecht" in received
        assert "U hoeft hiervoor geen account te hebben" in received
        status = mails[1].get_body(("plain",)).get_content()
        assert "Het initiatief ligt bij de Bestuurlijke werkgroep Bouwen en Wonen." in status

    def test_every_status_change_is_mailed_to_the_initiator(self, app, engine, people):
        iid = register(engine, people)
        _to_frameworks_check(engine, people, iid)
        sec = people["secretaris_wonen"]
        engine.fire(iid, "confirm_fits_frameworks", actor=sec)
        engine.fire(iid, "record_agreements", actor=sec, data={"form": "sok", "date": "2027-01-15"})
        engine.fire(iid, "complete", actor=sec, data={"result": "Twaalf buurtbatterijen"})
        assert "completed" == _state(app, iid)
        sent = _to_initiator(app, iid)
        assert ["samenleving_ontvangen"] + ["samenleving_status"] * (len(sent) - 1) == sent
        assert len(sent) >= 5


class TestBranches:
    def test_to_completion_the_groeiagenda_way(self, app, engine, people):
        iid = register(engine, people)
        _to_frameworks_check(engine, people, iid)
        sec = people["secretaris_wonen"]
        engine.fire(iid, "confirm_fits_frameworks", actor=sec)
        engine.fire(iid, "record_agreements", actor=sec, data={"form": "sok", "date": "2027-01-15"})
        engine.fire(iid, "report_spending", actor=sec, data={"amount": "15000"})
        engine.fire(iid, "complete", actor=sec, data={"result": "Twaalf buurtbatterijen"})
        with app.db.read() as s:
            triggers = [e.trigger for e in s.exec(select(Event).where(Event.initiative_id == iid)
                                                   .order_by(Event.id))]
            participants = {p.municipality: p.status for p in s.exec(
                select(Participant).where(Participant.initiative_id == iid))}
        assert ["register", "route_to_working_group", "record_participation", "start_elaboration",
                "submit_plan", "decide_go", "confirm_fits_frameworks", "record_agreements",
                "report_spending", "complete"] == triggers
        assert {"sliedrecht": "joined", "dordrecht": "joined"} == participants

    def test_participant_decisions(self, app, engine, people):
        iid = register(engine, people)
        _to_frameworks_check(engine, people, iid)
        engine.fire(iid, "require_participant_decisions", actor=people["secretaris_wonen"],
                    data={"date": "2027-03-01"})
        for who, m in (("college_sliedrecht", "sliedrecht"), ("college_dordrecht", "dordrecht")):
            engine.fire(iid, "record_participant_decision", actor=people[who],
                        data={"municipality": m, "decision": "approve", "date": "2027-02-15"})
        assert "agreements" == _state(app, iid)
        assert "samenleving_status" == _to_initiator(app, iid)[-1]  # also after the automatic step

    @pytest.mark.parametrize(("trigger", "end"), [("handle_locally", "handled_locally"),
                                                  ("decline", "declined_by_college")])
    def test_the_college_closes_it_with_reasons(self, app, engine, people, trigger, end):
        iid = register(engine, people)
        engine.fire(iid, trigger, actor=people["college_sliedrecht"], data={"reason": "Past in het wijkplan."})
        assert end == _state(app, iid)
        assert ["samenleving_ontvangen", "samenleving_status"] == _to_initiator(app, iid)

    def test_the_college_withdraws_it_on_the_initiators_behalf(self, app, engine, people):
        iid = register(engine, people)
        with pytest.raises(PermissionDenied):
            engine.fire(iid, "withdraw", actor=people["fractie_sliedrecht"])
        engine.fire(iid, "withdraw", actor=people["college_sliedrecht"],
                    data={"reason": "De stichting trekt het initiatief in."})
        assert "withdrawn" == _state(app, iid)

    def test_no_go(self, app, engine, people):
        iid = register(engine, people)
        _to_tabled(engine, people, iid)
        sec = people["secretaris_wonen"]
        engine.fire(iid, "record_participation", actor=sec, data={"municipality": "dordrecht", "choice": "join"})
        engine.fire(iid, "start_elaboration", actor=sec)
        engine.fire(iid, "submit_plan", actor=sec, data=PLAN)
        engine.fire(iid, "decide_no_go", actor=sec, data={"reason": "Geen draagvlak."})
        assert "stopped" == _state(app, iid)


class TestCli:
    def test_register_fire_show_and_diagram(self, app, people, run):
        sets = [a for k, v in INITIATOR.items() for a in ("--set", f"{k}={v}")]
        code, out, err = run("submit", "--as", "college_sliedrecht", "--flow", "samenleving",
                             "--title", NEW["title"], "--summary", NEW["summary"], *sets, "--json")
        assert 0 == code, err
        iid = json.loads(out)["id"]
        code, out, err = run("fire", iid, "route_to_working_group", "--as", "college_sliedrecht",
                             "--set", "working_group=energie", "--json")
        assert (0, "tabled") == (code, json.loads(out)["state"]), err
        code, out, _ = run("show", iid, "--json")
        shown = json.loads(out)
        assert ("samenleving", EMAIL) == (shown["flow"], shown["data"]["initiator"]["email"])
        code, out, _ = run("flows", "show", "samenleving", "--format", "mermaid")
        assert 0 == code
        assert "stateDiagram-v2" in out and "with_college" in out and "submitted" not in out


class TestApi:
    def test_register_and_route_through_the_api(self, app, people):
        from fastapi.testclient import TestClient

        from workflow.web import accounts, create_app

        token, _ = accounts.create_api_token(app.db, people["college_sliedrecht"].user_id, "test")
        auth = {"Authorization": f"Bearer {token}"}
        with TestClient(create_app(app, run_scheduler=False)) as client:
            created = client.post("/api/initiatives", headers=auth, json={"flow": "samenleving", "data": NEW})
            assert (201, "with_college") == (created.status_code, created.json()["state"])
            iid = created.json()["id"]
            bad = client.post("/api/initiatives", headers=auth,
                              json={"flow": "samenleving", "data": {**NEW, "initiator_email": "geen"}})
            assert (422, ["initiator_email"]) == (bad.status_code, list(bad.json()["fields"]))
            routed = client.post(f"/api/initiatives/{iid}/transitions", headers=auth,
                                 json={"trigger": "route_to_working_group",
                                       "data": {"working_group": "energie"}})
            assert (200, "tabled") == (routed.status_code, routed.json()["state"])
        assert ["samenleving_ontvangen", "samenleving_status"] == _to_initiator(app, iid)


def test_the_open_data_export_leaves_the_initiator_out(app, engine, people):
    from workflow.exports import export_json

    iid = register(engine, people)
    document = json.dumps(export_json(app.db, app.registry), ensure_ascii=False)
    assert str(iid) in document  # the initiative itself is exported
    assert ("Fatima" not in document, EMAIL not in document.lower()) == (True, True)
