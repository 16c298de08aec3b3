"""Bad input gets a clear Dutch error and writes nothing: row counts are the same before and after."""

import pytest
from sqlmodel import func, select

from tests.routes import drive, submit
from workflow import services
from workflow.app import open_app
from workflow.errors import (
    GuardFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TransitionNotAllowed,
    UnknownTrigger,
)
from workflow.models import Deadline, Event, Initiative, OutboxMessage, Participant, Reminder, User

TABLES = (Initiative, Event, Participant, Deadline, Reminder, OutboxMessage, User)


def counts(app):
    with app.db.read() as s:
        return {t.__name__: s.exec(select(func.count()).select_from(t)).one() for t in TABLES}


@pytest.fixture
def tabled(app, engine, people):
    return drive(engine, people, "tabled")


def test_unknown_trigger(app, engine, people, tabled):
    before = counts(app)
    with pytest.raises(UnknownTrigger) as err:
        engine.fire(tabled, "approve_everything", actor=people["secretaris_wonen"])
    assert "onbekende_stap" == err.value.code
    assert "Onbekende stap 'approve_everything'" in err.value.message
    assert "record_participation" in err.value.message  # says what is possible instead
    assert before == counts(app)


def test_trigger_from_the_wrong_state(app, engine, people, tabled):
    before = counts(app)
    with pytest.raises(TransitionNotAllowed) as err:
        engine.fire(tabled, "decide_go", actor=people["secretaris_wonen"])
    assert (
        "'Besluit: go' kan niet in de status 'Geagendeerd in de werkgroep'. Mogelijk in de status "
        "'Geagendeerd in de werkgroep': record_participation (Deelname vastleggen (meedoen of "
        "afzien)), stop (Stoppen), set_accountability (Bestuurlijk trekker en penvoerder vastleggen)."
    ) == err.value.message
    assert before == counts(app)


def test_missing_input(app, engine, people, tabled):
    before = counts(app)
    with pytest.raises(InvalidInput) as err:
        engine.fire(tabled, "record_participation", actor=people["secretaris_wonen"], data={})
    assert {"municipality": "is verplicht", "choice": "is verplicht"} == err.value.field_errors
    assert before == counts(app)


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"approach": "Aanpak", "budget": "veel", "planning": "2027"}, "budget",
     "moet een bedrag in hele euro's zijn, bijvoorbeeld 250000"),
    ({"approach": "Aanpak", "budget": -5, "planning": "2027"}, "budget", "moet minstens 0 zijn"),
    ({"approach": "Aanpak", "budget": 12.5, "planning": "2027"}, "budget",
     "moet een heel getal zijn (zonder decimalen)"),
    ({"approach": "Aanpak", "budget": 100, "planning": "2027", "colour": "blue"}, "colour",
     "onbekend veld"),
])
def test_ill_typed_input(app, engine, people, data, field, message):
    iid = drive(engine, people, "elaboration")
    before = counts(app)
    with pytest.raises(InvalidInput) as err:
        engine.fire(iid, "submit_plan", actor=people["secretaris_wonen"], data=data)
    assert message == err.value.field_errors[field]
    assert before == counts(app)


def test_budget_accepts_dutch_notation(app, engine, people):
    iid = drive(engine, people, "elaboration")
    engine.fire(iid, "submit_plan", actor=people["secretaris_wonen"],
                data={"approach": "Aanpak", "budget": "€ 1.250.000", "planning": "2027"})
    with app.db.read() as s:
        assert 1_250_000 == s.get(Initiative, iid).data["plan"]["budget"]


def test_wrong_choice_value(app, engine, people, tabled):
    before = counts(app)
    with pytest.raises(InvalidInput) as err:
        engine.fire(tabled, "record_participation", actor=people["secretaris_wonen"],
                    data={"municipality": "dordrecht", "choice": "maybe"})
    assert "moet een van deze waarden zijn: join, decline" == err.value.field_errors["choice"]
    assert before == counts(app)


def test_bad_date(app, engine, people):
    iid = drive(engine, people, "agreements")
    before = counts(app)
    with pytest.raises(InvalidInput) as err:
        engine.fire(iid, "record_agreements", actor=people["secretaris_wonen"],
                    data={"form": "sok", "date": "15-01-2027"})
    assert "moet een datum zijn als JJJJ-MM-DD" == err.value.field_errors["date"]
    assert before == counts(app)


def test_unknown_municipality(app, engine, people, tabled):
    before = counts(app)
    with pytest.raises(InvalidInput) as err:
        engine.fire(tabled, "record_participation", actor=people["secretaris_wonen"],
                    data={"municipality": "utrecht", "choice": "join"})
    assert {"municipality": "onbekend: 'utrecht'"} == err.value.field_errors
    assert before == counts(app)


def test_unknown_working_group(app, engine, people):
    iid = drive(engine, people, "with_college")
    before = counts(app)
    with pytest.raises(InvalidInput):
        engine.fire(iid, "route_to_working_group", actor=people["college_sliedrecht"],
                    data={"working_group": "cultuur"})
    assert before == counts(app)


def test_unknown_initiative(app, engine, people):
    before = counts(app)
    with pytest.raises(NotFound) as err:
        engine.fire(999, "adopt_motion", actor=people["griffie_sliedrecht"])
    assert "Initiatief 999 bestaat niet." == err.value.message
    assert before == counts(app)


def test_unknown_user(app):
    with pytest.raises(InvalidInput) as err:
        services.resolve_actor(app.db, "niemand@example.nl")
    assert "Onbekende gebruiker 'niemand@example.nl'" in err.value.message


def test_input_for_a_step_that_takes_none(app, engine, people):
    iid = drive(engine, people, "go_decision")
    before = counts(app)
    with pytest.raises(InvalidInput) as err:
        engine.fire(iid, "decide_go", actor=people["secretaris_wonen"], data={"budget": 5})
    assert {"budget": "onbekend veld"} == err.value.field_errors
    assert before == counts(app)


def test_empty_title_is_refused(app, engine, people):
    before = counts(app)
    with pytest.raises(InvalidInput) as err:
        engine.submit(actor=people["fractie_sliedrecht"], flow="groeiagenda",
                      data={"title": "  ", "summary": "x"})
    assert "title" in err.value.field_errors
    assert before == counts(app)


def test_guard_failure_writes_nothing(app, engine, people, tabled):
    before = counts(app)
    with pytest.raises(GuardFailed):
        engine.fire(tabled, "start_elaboration", actor=people["secretaris_wonen"])
    assert before == counts(app)


class TestUsers:
    def test_bad_role_adds_nobody(self, app):
        before = counts(app)
        for role, message in [
            ("burgemeester:sliedrecht", "Onbekende rol 'burgemeester'"),
            ("college", "De rol 'college' wordt geschreven als college:<municipality>."),
            ("college:utrecht", "Onbekende gemeente 'utrecht'"),
            ("secretaris:cultuur", "Onbekende werkgroep 'cultuur'"),
        ]:
            with pytest.raises(InvalidInput) as err:
                services.add_user(app.db, app.registry, name="Piet", email="piet@example.nl",
                                  roles=["griffie:sliedrecht", role])
            assert message in err.value.message
        assert before == counts(app)

    def test_duplicate_email(self, app, people):
        with pytest.raises(InvalidInput):
            services.add_user(app.db, app.registry, name="Nog een",
                              email="FRACTIE_SLIEDRECHT@example.nl", roles=["regiekamer"])


class TestAtomicity:
    """A crash after the state update and before the commit leaves everything as it was."""

    @pytest.mark.parametrize("point", ["after_state_update", "before_commit"])
    def test_injected_failure_changes_nothing(self, app, engine, people, point):
        iid = drive(engine, people, "participant_decisions")
        engine.fire(iid, "record_participant_decision", actor=people["college_dordrecht"],
                    data={"decision": "approve", "date": "2027-02-01"})
        engine.fire(iid, "record_participant_decision", actor=people["college_papendrecht"],
                    data={"decision": "approve", "date": "2027-02-01"})
        before = _snapshot(app, iid)

        def crash(at):
            if at == point:
                raise RuntimeError(f"injected at {at}")

        faulty = open_app(app.settings).engine
        faulty._fault = crash
        # The last decision would also fire the automatic step and open new deadlines and mail.
        with pytest.raises(RuntimeError, match="injected"):
            faulty.fire(iid, "record_participant_decision", actor=people["college_sliedrecht"],
                        data={"decision": "approve", "date": "2027-02-01"})
        faulty.db.dispose()
        assert before == _snapshot(app, iid)

        result = engine.fire(iid, "record_participant_decision", actor=people["college_sliedrecht"],
                             data={"decision": "approve", "date": "2027-02-01"})
        assert "agreements" == result.state


def _snapshot(app, iid):
    with app.db.read() as s:
        row = s.get(Initiative, iid)
        return {
            "state": (row.state, row.version, dict(row.data)),
            "events": s.exec(select(Event.id, Event.trigger).where(Event.initiative_id == iid)).all(),
            "participants": sorted(
                (p.municipality, p.status) for p in
                s.exec(select(Participant).where(Participant.initiative_id == iid))
            ),
            "deadlines": s.exec(select(Deadline.id, Deadline.status).where(Deadline.initiative_id == iid)).all(),
            "reminders": s.exec(select(func.count()).select_from(Reminder)).one(),
            "outbox": s.exec(select(func.count()).select_from(OutboxMessage)).one(),
        }


def test_permission_denied_on_submit_for_secretary(app, engine, people):
    before = counts(app)
    with pytest.raises(PermissionDenied) as err:
        submit_as = people["secretaris_wonen"]
        engine.submit(actor=submit_as, flow="groeiagenda", data={"title": "Iets", "summary": "x"})
    assert "Alleen de indienende fractie kan een initiatief indienen" in err.value.message
    assert before == counts(app)


def test_submit_on_unknown_flow(app, engine, people):
    with pytest.raises(NotFound) as err:
        engine.submit(actor=people["fractie_sliedrecht"], flow="onbekend", data={})
    assert "Onbekend proces 'onbekend'. Bekende processen: coalitie, groeiagenda, samenleving." == (
        err.value.message
    )


def test_submit_helper_still_works(app, engine, people):
    assert 1 == submit(engine, people)
