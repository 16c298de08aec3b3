"""The `initiatief` command: every branch of the route, Dutch messages and distinct exit codes."""

import json
import os
import subprocess
import sys

import pytest

from workflow.testing import DEFAULT_CAST

OK, NOT_ALLOWED, CONFLICT, INVALID, NOT_FOUND, NOT_MIGRATED = 0, 3, 4, 5, 6, 7


def fire(run, iid, trigger, who, *sets, expect=OK):
    args = ["fire", iid, trigger, "--as", f"{who}@example.nl"]
    for s in sets:
        args += ["--set", s]
    code, out, err = run(*args, "--json")
    assert expect == code, (out, err)
    return json.loads(out) if code == OK else err


def new(run, title="Starterswoningen"):
    code, out, err = run("submit", "--as", "fractie_sliedrecht", "--title", title,
                         "--summary", "Samen bouwen voor starters.", "--json")
    assert OK == code, err
    return json.loads(out)["id"]


def to_tabled(run):
    iid = new(run)
    fire(run, iid, "adopt_motion", "griffie_sliedrecht")
    fire(run, iid, "route_to_working_group", "college_sliedrecht", "working_group=bouwen-en-wonen")
    return iid


def to_frameworks_check(run):
    iid = to_tabled(run)
    fire(run, iid, "record_participation", "secretaris_wonen", "municipality=dordrecht", "choice=join")
    fire(run, iid, "record_participation", "secretaris_wonen", "municipality=papendrecht", "choice=join")
    fire(run, iid, "start_elaboration", "secretaris_wonen")
    fire(run, iid, "submit_plan", "secretaris_wonen", "approach=Samen", "budget=250000", "planning=2027",
         "core_task=BW-2", "year=2027")
    fire(run, iid, "decide_go", "secretaris_wonen")
    return iid


class TestRouteThroughTheCli:
    def test_fits_frameworks_to_completed(self, run):
        iid = to_frameworks_check(run)
        fire(run, iid, "confirm_fits_frameworks", "secretaris_wonen")
        fire(run, iid, "record_agreements", "secretaris_wonen", "form=uitvoeringsovereenkomst",
             "date=2027-01-15")
        done = fire(run, iid, "complete", "secretaris_wonen", "result=Opgeleverd")
        assert ("completed", "Afgerond") == (done["state"], done["state_label"])

    @pytest.mark.parametrize(("decisions", "end"), [
        ({"dordrecht": "approve", "papendrecht": "reject", "sliedrecht": "approve"}, "agreements"),
        ({"dordrecht": "reject", "papendrecht": "reject", "sliedrecht": "approve"}, "stopped"),
    ])
    def test_participant_decisions(self, run, decisions, end):
        iid = to_frameworks_check(run)
        fire(run, iid, "require_participant_decisions", "secretaris_wonen", "date=2027-03-01")
        for municipality, decision in decisions.items():
            result = fire(run, iid, "record_participant_decision", f"college_{municipality}",
                          f"decision={decision}", "date=2027-02-15")
        assert end == result["state"]
        _, out, _ = run("show", iid, "--json")
        shown = json.loads(out)
        assert {m: ("approved" if d == "approve" else "rejected") for m, d in decisions.items()} == {
            p["municipality"]: p["status"] for p in shown["participants"]
        }
        assert "systeem" == shown["timeline"][-1]["actor"]

    def test_rejected_by_council(self, run):
        iid = new(run)
        assert "rejected_by_council" == fire(run, iid, "reject_motion", "griffie_sliedrecht")["state"]

    @pytest.mark.parametrize(("trigger", "end"), [("handle_locally", "handled_locally"),
                                                  ("decline", "declined_by_college")])
    def test_college_closes(self, run, trigger, end):
        iid = new(run)
        fire(run, iid, "record_commitment", "griffie_sliedrecht")
        assert end == fire(run, iid, trigger, "college_sliedrecht", "reason=Lokaal beleid")["state"]

    def test_no_go(self, run):
        iid = to_tabled(run)
        fire(run, iid, "record_participation", "secretaris_wonen", "municipality=dordrecht", "choice=join")
        fire(run, iid, "start_elaboration", "secretaris_wonen")
        fire(run, iid, "submit_plan", "secretaris_wonen", "approach=Samen", "budget=1", "planning=2027")
        assert "stopped" == fire(run, iid, "decide_no_go", "secretaris_wonen", "reason=Te duur")["state"]

    def test_withdraw(self, run):
        iid = to_tabled(run)
        assert "withdrawn" == fire(run, iid, "withdraw", "fractie_sliedrecht")["state"]


class TestErrorsAndExitCodes:
    def test_not_allowed(self, run):
        iid = new(run)
        err = fire(run, iid, "adopt_motion", "griffie_dordrecht", expect=NOT_ALLOWED)
        assert (
            "Fout: U mag 'Motie aangenomen' niet uitvoeren bij dit initiatief; "
            "dat mag: de griffie van de gemeente.\n"
        ) == err

    def test_wrong_state_lists_what_is_possible(self, run):
        iid = new(run)
        fire(run, iid, "adopt_motion", "griffie_sliedrecht")
        err = fire(run, iid, "reject_motion", "griffie_sliedrecht", expect=CONFLICT)
        assert (
            "Fout: 'Motie verworpen' kan niet in de status 'Bij het college'. "
            "In de status 'Bij het college' kunt u nu geen stap zetten.\n"
        ) == err

    def test_stale_version(self, run):
        iid = new(run)
        code, _, err = run("fire", iid, "adopt_motion", "--as", "griffie_sliedrecht",
                           "--expect-version", "7")
        assert CONFLICT == code
        assert "Het initiatief is intussen gewijzigd (versie 1, u had versie 7)" in err

    def test_missing_fields_are_named(self, run):
        iid = to_tabled(run)
        err = fire(run, iid, "record_participation", "secretaris_wonen", "choice=join", expect=INVALID)
        assert "municipality: is verplicht" in err

    def test_unknown_trigger(self, run):
        iid = new(run)
        err = fire(run, iid, "fly", "griffie_sliedrecht", expect=INVALID)
        assert "Onbekende stap 'fly'" in err and "adopt_motion" in err

    def test_bad_set_syntax(self, run):
        iid = new(run)
        code, _, err = run("fire", iid, "adopt_motion", "--as", "griffie_sliedrecht", "--set", "oops")
        assert (INVALID, "Fout: --set verwacht sleutel=waarde, niet 'oops'.\n") == (code, err)

    def test_unknown_user_and_initiative(self, run):
        assert INVALID == run("fire", 1, "adopt_motion", "--as", "niemand")[0]
        code, _, err = run("show", 42)
        assert (NOT_FOUND, "Fout: Initiatief 42 bestaat niet.\n") == (code, err)


class TestReading:
    def test_show_for_a_user_lists_allowed_steps_and_timeline(self, run):
        iid = to_tabled(run)
        code, out, _ = run("show", iid, "--as", "secretaris_wonen")
        assert OK == code
        assert "Status:    Geagendeerd in de werkgroep (tabled), versie 3" in out
        assert "    - record_participation: Deelname vastleggen (meedoen of afzien)  [--set municipality, choice]" in out
        assert "    - stop: Stoppen  [--set reason]" in out
        assert "start_elaboration" in out and "nu niet: Er moeten minstens twee gemeenten meedoen" in out
        assert "Doorgeleiden naar werkgroep door college_sliedrecht → Geagendeerd in de werkgroep" in out

    def test_list_and_filter(self, run):
        first = new(run, "Eerste")
        second = to_tabled(run)
        _, out, _ = run("list", "--json")
        assert [second, first] == [r["id"] for r in json.loads(out)]
        _, out, _ = run("list", "--state", "tabled", "--json")
        assert [second] == [r["id"] for r in json.loads(out)]

    def test_flows_show_mermaid(self, run):
        code, out, _ = run("flows", "show", "groeiagenda", "--format", "mermaid")
        assert code == OK and out.startswith("stateDiagram-v2\n")

    def test_users_list(self, run):
        _, out, _ = run("users", "list", "--json")
        assert len(DEFAULT_CAST) == len(json.loads(out))


def test_console_script_from_scratch(tmp_path):
    """The installed `initiatief` command on an empty data directory, as a user starts."""
    env = {**os.environ, "INITIATIEF_DATA_DIR": str(tmp_path / "data")}
    env.pop("INITIATIEF_DATABASE_URL", None)
    exe = os.path.join(os.path.dirname(sys.executable), "initiatief")

    def sh(*args):
        return subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=60)

    refused = sh("list")
    assert NOT_MIGRATED == refused.returncode
    assert "Voer eerst uit: initiatief db upgrade" in refused.stderr
    assert 0 == sh("db", "upgrade").returncode
    assert "Referentiegegevens aangevuld: 10 gemeenten" in sh("db", "seed").stdout
    added = sh("users", "add", "Anna de Vries", "--email", "anna@example.nl",
               "--role", "fractie:sliedrecht:cda")
    assert "Gebruiker Anna de Vries <anna@example.nl> toegevoegd" in added.stdout
    made = sh("submit", "--as", "Anna de Vries", "--title", "Laadpalen", "--summary", "Meer laadpalen")
    assert "Initiatief 1 ingediend. Status nu: Ingediend, bij de raad (submitted), versie 1.\n" == made.stdout
    assert (tmp_path / "data" / "initiatief.db").exists()
