"""Moving running initiatives to a new flow version: explicit mapping, all or nothing, audited."""

import dataclasses
import json

import pytest
from sqlmodel import func, select

import flows
from tests.routes import drive, submit
from workflow.errors import InvalidInput, PermissionDenied, UnknownTrigger
from workflow.migrate_flows import migrate, parse_mapping
from workflow.models import Deadline, Event, Initiative
from workflow.services import show_initiative

MAPPING = {"submitted": "submitted", "with_college": "with_college", "tabled": "elaboration"}


def v2_of(v1):
    """Groeiagenda 2027: commitments are no longer recorded as a separate step."""
    return dataclasses.replace(
        v1, version=2, label="Groeiagenda (2027)",
        transitions=[t for t in v1.transitions if t.trigger != "record_commitment"],
    )


@pytest.fixture
def v2(app):
    """Registered after the initiatives of a test that asks for `running` first."""
    flow = v2_of(app.registry.get("groeiagenda", 1))
    app.registry.add(flow)
    return flow


@pytest.fixture
def running(app, engine, people):
    """Three running initiatives on version 1 and one finished one."""
    ids = {
        "submitted": submit(engine, people, "Nog bij de raad"),
        "with_college": drive(engine, people, "with_college", title="Bij het college"),
        "tabled": drive(engine, people, "tabled", title="In de werkgroep"),
    }
    done = drive(engine, people, "with_college", title="Afgewezen")
    engine.fire(done, "decline", actor=people["college_sliedrecht"], data={"reason": "Geen prioriteit."})
    ids["declined_by_college"] = done
    return ids


def _snapshot(app):
    with app.db.read() as s:
        rows = {r.id: (r.flow_version, r.state, r.version) for r in s.exec(select(Initiative))}
        events = s.exec(select(func.count()).select_from(Event)).one()
    return rows, events


def _run(engine, people, mapping=MAPPING, **kw):
    return migrate(engine, flow="groeiagenda", from_version=1, to_version=2, mapping=mapping,
                   actor=people["admin"], **kw)


class TestDryRun:
    def test_a_dry_run_shows_the_moves_and_changes_nothing(self, app, engine, people, running, v2):
        before = _snapshot(app)
        result = _run(engine, people, dry_run=True)
        assert [
            (running["submitted"], "submitted", "submitted"),
            (running["with_college"], "with_college", "with_college"),
            (running["tabled"], "tabled", "elaboration"),
        ] == [(m.initiative_id, m.from_state, m.to_state) for m in result.moves]
        assert ([], True) == (result.event_ids, result.dry_run)
        assert before == _snapshot(app)


class TestMigration:
    def test_moves_only_the_running_initiatives_of_the_old_version(self, app, engine, people, running, v2):
        newer = submit(engine, people, "Al op versie 2")
        before, _ = _snapshot(app)
        result = _run(engine, people, comment="Nieuwe versie na evaluatie")

        after, _ = _snapshot(app)
        assert 3 == len(result.event_ids)
        for key, iid in running.items():
            if key == "declined_by_college":
                assert before[iid] == after[iid]  # finished initiatives keep their version
            else:
                assert (2, MAPPING[key], before[iid][2] + 1) == after[iid]
        assert before[newer] == after[newer]
        with app.db.read() as s:
            event = s.get(Event, result.event_ids[-1])
        assert ("migrate_flow", "tabled", "elaboration", "admin", "Nieuwe versie na evaluatie") == (
            event.trigger, event.from_state, event.to_state, event.actor_name, event.comment
        )
        assert {"flow": "groeiagenda", "from_version": 1, "to_version": 2,
                "mapping": {"tabled": "elaboration"}} == event.data

    def test_the_deadline_of_a_state_left_stops_and_one_of_a_kept_state_runs_on(
        self, app, engine, people, running, v2
    ):
        _run(engine, people)
        with app.db.read() as s:
            statuses = {(d.initiative_id, d.state): d.status for d in s.exec(select(Deadline))}
        assert "cancelled" == statuses[(running["tabled"], "tabled")]
        assert "open" == statuses[(running["with_college"], "with_college")]

    def test_a_moved_initiative_follows_the_new_version(self, app, engine, people, running, v2):
        _run(engine, people)
        with pytest.raises(UnknownTrigger):
            engine.fire(running["submitted"], "record_commitment", actor=people["griffie_sliedrecht"])
        timeline = show_initiative(engine, running["tabled"], None).timeline
        assert ("Overgezet naar een andere versie van het proces", "In uitwerking") == (
            timeline[-1]["label"], timeline[-1]["to_label"]
        )


class TestRefusals:
    def test_an_unmapped_state_refuses_the_whole_migration(self, app, engine, people, running, v2):
        before = _snapshot(app)
        with pytest.raises(InvalidInput) as err:
            _run(engine, people, mapping={"submitted": "submitted", "with_college": "with_college"})
        assert (
            "Niet overgezet: voor deze statussen ontbreekt een toewijzing: tabled (Geagendeerd in "
            "de werkgroep, 1 initiatief). Voeg ze toe met --map oud=nieuw; er is niets gewijzigd."
        ) == err.value.message
        assert before == _snapshot(app)

    def test_unknown_states_in_the_mapping(self, engine, people, v2):
        with pytest.raises(InvalidInput) as err:
            _run(engine, people, mapping={"tabeld": "tabled", "tabled": "nergens"})
        assert {"tabeld": "geen status van versie 1", "nergens": "geen status van versie 2"} == (
            err.value.field_errors
        )

    def test_only_an_admin_migrates(self, engine, people, v2):
        with pytest.raises(PermissionDenied):
            migrate(engine, flow="groeiagenda", from_version=1, to_version=2, mapping=MAPPING,
                    actor=people["regiekamer"])

    def test_bad_map_pairs(self):
        assert {"a": "b", "c": "d"} == parse_mapping(["a=b", " c = d "])
        with pytest.raises(InvalidInput):
            parse_mapping(["a"])
        with pytest.raises(InvalidInput):
            parse_mapping(["a=b", "a=c"])


class TestCli:
    @pytest.fixture
    def region_with_v2(self, monkeypatch):
        region = flows.REGION
        v1 = next(f for f in region.flows if f.name == "groeiagenda")
        monkeypatch.setattr(flows, "REGION", dataclasses.replace(region, flows=(*region.flows, v2_of(v1))))

    def test_dry_run_then_real_run_then_refusal(self, app, engine, people, running, region_with_v2, run):
        maps = [a for k, v in MAPPING.items() for a in ("--map", f"{k}={v}")]
        base = ("flows", "migrate", "groeiagenda", "--from", "1", "--to", "2", "--as", "admin")
        before = _snapshot(app)
        code, out, _ = run(*base, *maps, "--dry-run")
        assert 0 == code
        assert "tabled → elaboration  In de werkgroep" in out
        assert "Proefdraai: 3 initiatief/initiatieven zou overzetten" in out
        assert before == _snapshot(app)

        code, out, err = run(*base, "--map", "submitted=submitted")
        assert 5 == code
        assert err.startswith("Fout: Niet overgezet: voor deze statussen ontbreekt een toewijzing")
        assert before == _snapshot(app)

        code, out, _ = run(*base, *maps, "--json")
        assert (0, 3) == (code, len(json.loads(out)["event_ids"]))
        with app.db.read() as s:
            assert 2 == s.get(Initiative, running["tabled"]).flow_version
