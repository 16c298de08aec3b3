"""Joint council tracks: factions of several municipalities co-submit one proposal; each council
deals with it; it reaches the college when all have, with those that adopted it."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from tests.routes import submit
from workflow.deadline_listing import list_deadlines
from workflow.deadlines import sweep
from workflow.errors import GuardFailed, PermissionDenied, TransitionNotAllowed
from workflow.models import Deadline, Event, Initiative, Participant, Reminder
from workflow.services import show_initiative
from workflow.testing import rendered_outbox

START = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


@pytest.fixture
def cast(people):
    people.add("griffie_papendrecht", "griffie:papendrecht")
    people.add("griffie_zwijndrecht", "griffie:zwijndrecht")
    people.add("fractie_papendrecht", "fractie:papendrecht:vvd")
    return people


def joint(engine, people):
    """Sliedrecht's CDA with Dordrecht's CDA and Papendrecht's VVD as co-submitters."""
    iid = submit(engine, people)
    for municipality, faction in (("dordrecht", "cda"), ("papendrecht", "VVD")):
        engine.fire(iid, "add_co_submitter", actor=people["fractie_sliedrecht"],
                    data={"municipality": municipality, "faction": faction})
    return iid


def decide(engine, people, iid, municipality, outcome, **extra):
    return engine.fire(iid, "record_council_decision", actor=people[f"griffie_{municipality}"],
                       data={"outcome": outcome, **extra})


def _row(app, iid):
    with app.db.read() as s:
        return s.get(Initiative, iid)


def _events(app, iid):
    with app.db.read() as s:
        return list(s.exec(select(Event).where(Event.initiative_id == iid).order_by(Event.id)))


class TestTracks:
    def test_every_council_deals_with_it_then_the_college_has_it(self, app, engine, cast):
        iid = joint(engine, cast)
        assert "council_tracks" == _row(app, iid).state
        decide(engine, cast, iid, "sliedrecht", "motion", reference="M-2026-07")
        decide(engine, cast, iid, "dordrecht", "rejected")
        assert "council_tracks" == _row(app, iid).state  # Papendrecht has not dealt with it yet
        result = decide(engine, cast, iid, "papendrecht", "commitment", date="2026-03-12")

        assert "with_college" == result.state
        row = _row(app, iid)
        assert {
            "sliedrecht": "motion", "dordrecht": "rejected", "papendrecht": "commitment",
        } == {m: t["status"] for m, t in row.data["council_tracks"].items()}
        assert "motion" == row.data["council"]["instrument"]
        events = _events(app, iid)
        assert [
            ("submit", None, "submitted"),
            ("add_co_submitter", "submitted", "council_tracks"),
            ("add_co_submitter", "council_tracks", "council_tracks"),
            ("record_council_decision", "council_tracks", "council_tracks"),
            ("record_council_decision", "council_tracks", "council_tracks"),
            ("record_council_decision", "council_tracks", "council_tracks"),
            ("council_tracks_complete", "council_tracks", "with_college"),
        ] == [(e.trigger, e.from_state, e.to_state) for e in events]
        closing = events[-1]
        assert ("systeem", ["papendrecht", "sliedrecht"], ["dordrecht"]) == (
            closing.actor_name, closing.data["adopted"], closing.data["dropped_out"]
        )

    def test_those_that_rejected_drop_out_of_the_participants(self, app, engine, cast):
        iid = joint(engine, cast)
        decide(engine, cast, iid, "sliedrecht", "motion")
        decide(engine, cast, iid, "dordrecht", "rejected")
        decide(engine, cast, iid, "papendrecht", "motion")
        engine.fire(iid, "route_to_working_group", actor=cast["college_sliedrecht"],
                    data={"working_group": "bouwen-en-wonen"})
        with app.db.read() as s:
            participants = {p.municipality: p.status for p in s.exec(
                select(Participant).where(Participant.initiative_id == iid))}
        assert {"sliedrecht": "joined", "papendrecht": "joined"} == participants

    def test_the_dropping_out_is_on_the_timeline(self, app, engine, cast):
        iid = joint(engine, cast)
        decide(engine, cast, iid, "sliedrecht", "motion")
        decide(engine, cast, iid, "dordrecht", "rejected")
        decide(engine, cast, iid, "papendrecht", "motion")
        timeline = show_initiative(engine, iid, cast["fractie_sliedrecht"]).timeline
        rejected = [t for t in timeline if t["data"].get("outcome") == "rejected"]
        assert [("Besluit van de raad vastleggen", "griffie_dordrecht", "dordrecht")] == [
            (t["label"], t["actor"], t["data"]["municipality"]) for t in rejected
        ]
        assert (["dordrecht"], "Alle raden besloten: naar het college") == (
            timeline[-1]["data"]["dropped_out"], timeline[-1]["label"]
        )

    def test_when_no_council_adopts_it_it_is_rejected(self, app, engine, cast):
        iid = joint(engine, cast)
        for m in ("sliedrecht", "dordrecht", "papendrecht"):
            result = decide(engine, cast, iid, m, "rejected")
        assert ("rejected_by_council", "council_tracks_rejected") == (
            result.state, _events(app, iid)[-1].trigger
        )

    def test_the_home_council_may_reject_while_others_adopt(self, app, engine, cast):
        iid = joint(engine, cast)
        decide(engine, cast, iid, "sliedrecht", "rejected")
        decide(engine, cast, iid, "dordrecht", "motion")
        assert "with_college" == decide(engine, cast, iid, "papendrecht", "rejected").state
        assert "council" not in _row(app, iid).data


class TestWhoMayDoWhat:
    def test_only_griffies_of_pending_councils_record_and_each_for_its_own(self, app, engine, cast):
        iid = joint(engine, cast)
        with pytest.raises(PermissionDenied):
            decide(engine, cast, iid, "zwijndrecht", "motion")
        with pytest.raises(PermissionDenied):
            engine.fire(iid, "record_council_decision", actor=cast["griffie_dordrecht"],
                        data={"municipality": "sliedrecht", "outcome": "motion"})
        decide(engine, cast, iid, "dordrecht", "motion")
        with pytest.raises(PermissionDenied):  # dealt with: no longer a pending griffie
            decide(engine, cast, iid, "dordrecht", "rejected")
        assert 4 == _row(app, iid).version

    def test_co_submitters_are_new_municipalities(self, engine, cast):
        iid = joint(engine, cast)
        with pytest.raises(GuardFailed) as err:
            engine.fire(iid, "add_co_submitter", actor=cast["fractie_sliedrecht"],
                        data={"municipality": "sliedrecht", "faction": "vvd"})
        assert "De gemeente sliedrecht is de gemeente van de indienende fractie zelf." == err.value.message
        with pytest.raises(GuardFailed):
            engine.fire(iid, "add_co_submitter", actor=cast["fractie_sliedrecht"],
                        data={"municipality": "dordrecht", "faction": "cda"})
        with pytest.raises(PermissionDenied):
            engine.fire(iid, "add_co_submitter", actor=cast["fractie_dordrecht"],
                        data={"municipality": "zwijndrecht", "faction": "cda"})

    def test_the_single_council_steps_do_not_apply_to_joint_tracks(self, engine, cast):
        iid = joint(engine, cast)
        with pytest.raises(TransitionNotAllowed):
            engine.fire(iid, "adopt_motion", actor=cast["griffie_sliedrecht"])

    def test_a_single_council_proposal_is_unchanged(self, app, engine, cast):
        iid = submit(engine, cast)
        assert ["adopt_motion", "record_commitment", "reject_motion"] == sorted(
            engine.allowed_triggers(iid, cast["griffie_sliedrecht"]))
        assert "with_college" == engine.fire(iid, "adopt_motion", actor=cast["griffie_sliedrecht"]).state
        assert "council_tracks" not in _row(app, iid).data


class TestNotificationsAndDeadline:
    def test_the_co_submitting_griffies_and_factions_are_told(self, app, engine, cast):
        joint(engine, cast)
        told = sorted(m.recipient for m in rendered_outbox(app, "ingediend"))
        assert [
            "fractie_dordrecht@example.nl", "fractie_papendrecht@example.nl",
            "griffie_dordrecht@example.nl", "griffie_papendrecht@example.nl",
            "griffie_sliedrecht@example.nl",  # on submit; then told of each co-submitter
        ] == told
        assert ["griffie_sliedrecht@example.nl"] * 2 == [
            m.recipient for m in rendered_outbox(app, "status_gewijzigd")
            if m.recipient.startswith("griffie")
        ]

    def test_a_council_that_never_answers_is_reminded_alone_and_shows_overdue(self, app, engine, cast):
        with time_machine.travel(START, tick=False):
            iid = joint(engine, cast)
            decide(engine, cast, iid, "sliedrecht", "motion")
            decide(engine, cast, iid, "dordrecht", "rejected")
        with app.db.read() as s:
            deadline = s.exec(select(Deadline).where(Deadline.initiative_id == iid)).one()
            first = min(r.remind_at for r in s.exec(
                select(Reminder).where(Reminder.deadline_id == deadline.id)))
        assert ("council_tracks", "Besluit van elke raad") == (deadline.state, deadline.label)
        with time_machine.travel(first, tick=False):
            assert 1 == sweep(engine, worker="test").messages
        assert ["griffie_papendrecht@example.nl"] == [m.recipient for m in rendered_outbox(app, "herinnering")]

        due = deadline.due_at.replace(tzinfo=deadline.due_at.tzinfo or UTC)
        after = due + timedelta(seconds=1)
        with time_machine.travel(after, tick=False):
            sweep(engine, worker="test")
        overdue = list_deadlines(engine, overdue=True, now=after)
        assert [iid] == [d["initiative_id"] for d in overdue]
        assert "council_tracks" == _row(app, iid).state  # nothing moves on by itself


class TestCli:
    def test_joint_tracks_through_the_cli(self, app, cast, run):
        _code, out, _ = run("submit", "--as", "fractie_sliedrecht", "--title", "Waterbus",
                           "--summary", "Meer afvaarten", "--json")
        iid = json.loads(out)["id"]

        def fire(who, trigger, *sets):
            args = [a for s in sets for a in ("--set", s)]
            code, out, err = run("fire", iid, trigger, "--as", who, *args, "--json")
            assert 0 == code, err
            return json.loads(out)

        fire("fractie_sliedrecht", "add_co_submitter", "municipality=dordrecht", "faction=cda")
        fire("griffie_sliedrecht", "record_council_decision", "outcome=motion")
        done = fire("griffie_dordrecht", "record_council_decision", "outcome=commitment",
                    "reference=T-12")
        assert "with_college" == done["state"]


class TestApiAndPage:
    def test_through_the_api_and_on_the_page(self, app, engine, cast):
        from fastapi.testclient import TestClient

        from tests.web.helpers import log_in
        from workflow.web import accounts, create_app

        iid = joint(engine, cast)
        token, _ = accounts.create_api_token(app.db, cast["griffie_dordrecht"].user_id, "test")
        with TestClient(create_app(app, run_scheduler=False), follow_redirects=False) as client:
            answer = client.post(f"/api/initiatives/{iid}/transitions",
                                 headers={"Authorization": f"Bearer {token}"},
                                 json={"trigger": "record_council_decision",
                                       "data": {"outcome": "rejected"}})
            assert (200, "council_tracks") == (answer.status_code, answer.json()["state"])
            log_in(client, app, cast, "fractie_sliedrecht")
            html = " ".join(client.get(f"/initiatieven/{iid}").text.split())
        assert "Raden van de mede-indieners</h2>" in html
        assert ('<td data-label="Gemeente">Dordrecht</td> <td data-label="Fractie">CDA</td> '
                '<td data-label="Besluit van de raad">verworpen: valt af</td>') in html
        assert '<td data-label="Besluit van de raad">nog niet besloten</td>' in html


class TestParallelCouncils:
    def test_councils_deciding_at_once_lose_nothing_and_move_on_once(self, app, engine, cast):
        from tests.test_concurrency import _race, _writers

        iid = joint(engine, cast)
        who = ["sliedrecht", "dordrecht", "papendrecht"]
        engines = _writers(app, len(who))
        for e in engines:
            e._fault = lambda point: None  # maximal contention on the same row
        outcomes = _race(engines, lambda i, e: e.fire(
            iid, "record_council_decision", actor=cast[f"griffie_{who[i]}"], data={"outcome": "motion"}))
        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        row = _row(app, iid)
        assert ("with_college", {"motion"}) == (
            row.state, {t["status"] for t in row.data["council_tracks"].values()}
        )
        assert 1 == sum(e.trigger == "council_tracks_complete" for e in _events(app, iid))
