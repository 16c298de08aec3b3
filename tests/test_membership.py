"""Joining and leaving (toe- en uittreding) and accountability, in both routes.

A municipality joins after the go and another leaves during execution: the participant list,
the mail that arrives (drained through a real SMTP server) and the timeline all show it.
"""

import asyncio
import json

import pytest
from sqlmodel import select

from notifications.delivery import drain
from tests import coalition_routes, routes
from workflow import services
from workflow.errors import GuardFailed, InvalidInput, PermissionDenied, TransitionNotAllowed
from workflow.models import Event
from workflow.web import queries


@pytest.fixture
def sender(apps, smtp):
    """The app with mail going to the aiosmtpd server on loopback."""
    return apps(INITIATIEF_SMTP_URL=smtp.url, INITIATIEF_MAIL_RETRY_SECONDS="0",
                INITIATIEF_BASE_URL="https://initiatief.example")


def _delivered(sender, smtp):
    """Drain the outbox to the SMTP server; (recipient, subject, plain text) of what arrived."""
    result = asyncio.run(drain(sender.db, sender.settings, worker="test"))
    smtp.recorder.wait_for(result.sent)
    out = []
    for message in smtp.recorder.messages():
        text = message.get_body(("plain",)).get_content()
        out.append((message["To"], " ".join(message["Subject"].split()), text))
    smtp.recorder.received.clear()
    return out


def _participants(engine, iid):
    detail = services.show_initiative(engine, iid, None)
    return {p["municipality"]: p["status_label"] for p in detail.participants}


def _timeline(engine, iid):
    return [(e["trigger"], e["label"], e["actor"]) for e in services.show_initiative(engine, iid, None).timeline]


class TestJoining:
    def test_a_neighbour_joins_the_groeiagenda_after_the_go(self, sender, smtp, people):
        engine = sender.engine
        iid = routes.drive(engine, people, "agreements")
        _delivered(sender, smtp)
        engine.fire(iid, "join", actor=people["college_gorinchem"], comment="Raad akkoord")

        assert {"dordrecht": "doet mee", "gorinchem": "doet mee", "papendrecht": "doet mee",
                "sliedrecht": "doet mee"} == _participants(engine, iid)
        assert ("join", "Toetreden (eigen gemeente)", "college_gorinchem") == _timeline(engine, iid)[-1]
        mail = _delivered(sender, smtp)
        assert sorted(["secretaris_wonen@example.nl", "college_dordrecht@example.nl",
                       "college_papendrecht@example.nl", "college_sliedrecht@example.nl",
                       "fractie_sliedrecht@example.nl"]) == sorted(to for to, _s, _t in mail)
        assert {"Toegetreden: Gorinchem doet mee aan Starterswoningen"} == {s for _to, s, _t in mail}
        assert "Het college van Gorinchem is toegetreden" in mail[0][2]

    def test_a_college_joins_only_for_its_own_municipality_and_once(self, app, engine, people):
        iid = routes.drive(engine, people, "agreements")
        with pytest.raises(PermissionDenied):
            engine.fire(iid, "join", actor=people["college_gorinchem"], data={"municipality": "molenlanden"})
        with pytest.raises(GuardFailed, match="De gemeente dordrecht doet al mee"):
            engine.fire(iid, "join", actor=people["college_dordrecht"])

    def test_joining_is_offered_only_to_colleges_that_do_not_take_part(self, engine, people):
        iid = routes.drive(engine, people, "agreements")

        def offered(who):
            return [a.trigger for a in queries.initiative_actions(engine, iid, people[who])]

        assert "join" in offered("college_gorinchem")
        assert "join" not in offered("college_dordrecht")  # takes part already: no closed door
        assert "leave" in offered("college_dordrecht")
        engine.fire(iid, "join", actor=people["college_gorinchem"])
        assert "join" not in offered("college_gorinchem")

    def test_joining_is_closed_once_the_initiative_is_executed(self, engine, people):
        iid = routes.drive(engine, people, "executing")
        with pytest.raises(TransitionNotAllowed):
            engine.fire(iid, "join", actor=people["college_gorinchem"])

    def test_a_late_joiner_of_a_coalition_vote_must_vote_too(self, app, engine, people):
        iid = coalition_routes.drive(engine, people, "go_decision")
        for who in ("college_sliedrecht", "college_gorinchem"):
            engine.fire(iid, "cast_vote", actor=people[who], data={"vote": "for"})
        engine.fire(iid, "join", actor=people["college_dordrecht"])
        engine.fire(iid, "cast_vote", actor=people["college_molenlanden"], data={"vote": "for"})
        assert "go_decision" == services.show_initiative(engine, iid, None).state
        assert "agreements" == engine.fire(iid, "cast_vote", actor=people["college_dordrecht"],
                                           data={"vote": "for"}).state


class TestLeaving:
    def test_a_participant_leaves_a_coalition_during_execution(self, sender, smtp, people):
        engine = sender.engine
        iid = coalition_routes.drive(engine, people, "executing")
        _delivered(sender, smtp)
        engine.fire(iid, "leave", actor=people["college_molenlanden"],
                    data={"reason": "Geen budget meer in de begroting 2028"})

        assert {"gorinchem": "doet mee", "molenlanden": "uitgetreden",
                "sliedrecht": "doet mee"} == _participants(engine, iid)
        left = next(p for p in services.show_initiative(engine, iid, None).participants
                    if p["municipality"] == "molenlanden")
        assert "Geen budget meer in de begroting 2028" == left["left_reason"]
        assert ("leave", "Uittreden (eigen gemeente, met reden)", "college_molenlanden") == (
            _timeline(engine, iid)[-1])
        mail = _delivered(sender, smtp)
        assert sorted(["college_gorinchem@example.nl", "college_sliedrecht@example.nl",
                       "fractie_sliedrecht@example.nl"]) == sorted(to for to, _s, _t in mail)
        assert "Reden: Geen budget meer in de begroting 2028" in mail[0][2]
        assert "Uitgetreden: Molenlanden doet niet meer mee aan Fietsroute langs de Merwede" == mail[0][1]
        with sender.db.read() as session:
            event = session.exec(select(Event).where(Event.trigger == "leave")).one()
        assert {"municipality": "molenlanden", "reason": "Geen budget meer in de begroting 2028",
                "municipality_name": "Molenlanden"} == event.data

    def test_leaving_needs_a_reason_and_only_the_own_college(self, engine, people):
        iid = routes.drive(engine, people, "executing")
        with pytest.raises(InvalidInput, match="reason"):
            engine.fire(iid, "leave", actor=people["college_dordrecht"])
        with pytest.raises(PermissionDenied):
            engine.fire(iid, "leave", actor=people["college_dordrecht"],
                        data={"municipality": "papendrecht", "reason": "Niet meer nodig"})

    def test_when_the_last_undecided_leaves_the_joint_decision_completes(self, engine, people):
        iid = routes.drive(engine, people, "participant_decisions")
        for who in ("college_dordrecht", "college_sliedrecht"):
            engine.fire(iid, "record_participant_decision", actor=people[who],
                        data={"decision": "approve", "date": "2027-02-01"})
        result = engine.fire(iid, "leave", actor=people["college_papendrecht"],
                             data={"reason": "De raad trekt zich terug"})
        assert "agreements" == result.state


class TestAccountability:
    """The lead alderman may be of another municipality; every council sees who answers to it."""

    def _name_them(self, engine, people, iid):
        engine.fire(iid, "set_accountability", actor=people["secretaris_wonen"], data={
            "lead_alderman": "Wethouder Jansen", "lead_alderman_municipality": "dordrecht",
            "lead_municipality": "dordrecht"})
        engine.fire(iid, "set_portfolio_holder", actor=people["college_sliedrecht"],
                    data={"portfolio_holder": "Wethouder Van Dam"})
        engine.fire(iid, "set_portfolio_holder", actor=people["college_papendrecht"],
                    data={"portfolio_holder": "Wethouder Bakker"})

    def test_stored_in_the_initiative_and_named_in_every_mail(self, sender, smtp, people):
        engine = sender.engine
        people.add("griffie_papendrecht", "griffie:papendrecht")
        iid = routes.drive(engine, people, "elaboration")
        self._name_them(engine, people, iid)
        data = services.show_initiative(engine, iid, None).data["accountability"]
        assert {
            "lead_alderman": {"name": "Wethouder Jansen", "municipality": "dordrecht",
                              "municipality_name": "Dordrecht"},
            "lead_municipality": "dordrecht", "lead_municipality_name": "Dordrecht",
            "portfolio_holders": {
                "papendrecht": {"name": "Wethouder Bakker", "municipality_name": "Papendrecht"},
                "sliedrecht": {"name": "Wethouder Van Dam", "municipality_name": "Sliedrecht"},
            },
        } == data
        _delivered(sender, smtp)
        engine.fire(iid, "submit_plan", actor=people["secretaris_wonen"], data=routes.PLAN)
        mail = _delivered(sender, smtp)
        assert mail
        for _to, _subject, text in mail:
            assert "Bestuurlijk trekker: Wethouder Jansen (wethouder in Dordrecht)" in text
            assert "Verantwoording in de raad van Papendrecht: Wethouder Bakker" in text
            assert "Verantwoording in de raad van Sliedrecht: Wethouder Van Dam" in text

    def test_the_clerks_of_the_participants_are_told(self, app, engine, people):
        people.add("griffie_papendrecht", "griffie:papendrecht")
        iid = routes.drive(engine, people, "elaboration")
        self._name_them(engine, people, iid)
        from workflow.testing import rendered_outbox

        told = {m.recipient for m in rendered_outbox(app, "verantwoording")}
        assert {"griffie_sliedrecht@example.nl", "griffie_papendrecht@example.nl"} <= told

    def test_a_college_names_only_its_own_portfolio_holder(self, engine, people):
        iid = routes.drive(engine, people, "elaboration")
        with pytest.raises(PermissionDenied):
            engine.fire(iid, "set_portfolio_holder", actor=people["college_sliedrecht"],
                        data={"municipality": "dordrecht", "portfolio_holder": "Wethouder X"})
        with pytest.raises(PermissionDenied):
            engine.fire(iid, "set_accountability", actor=people["college_dordrecht"], data={
                "lead_alderman": "Wethouder Jansen", "lead_alderman_municipality": "dordrecht",
                "lead_municipality": "dordrecht"})


def test_open_data_leaves_out_the_names_of_aldermen(app, engine, people):
    from workflow.exports import export_json

    iid = routes.drive(engine, people, "elaboration")
    TestAccountability()._name_them(engine, people, iid)
    dumped = json.dumps(export_json(app.db, app.registry), ensure_ascii=False)
    assert ("Wethouder" not in dumped) and ("set_portfolio_holder" in dumped)
