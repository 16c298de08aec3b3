"""The coalition route on the command line: from the fractie's proposal to the colleges' vote."""

import json

from tests.coalition_routes import PLAN, add_coalition_people


def _fire(run, iid, trigger, who, **sets):
    args = ["fire", iid, trigger, "--as", f"{who}@example.nl"]
    for key, value in sets.items():
        args += ["--set", f"{key}={value}"]
    return run(*args)


def test_the_whole_route_on_the_command_line(run, people):
    add_coalition_people(people)
    code, out, _ = run("submit", "--as", "fractie_sliedrecht@example.nl", "--flow", "coalitie",
                       "--title", "Fietsroute langs de Merwede", "--summary", "Samen met de buren")
    assert (0, "Initiatief 1 ingediend. Status nu: Ingediend, bij de raad (submitted), versie 1.\n") == (code, out)
    assert 0 == _fire(run, 1, "adopt_motion", "griffie_sliedrecht")[0]
    code, out, _ = _fire(run, 1, "route_to_coalition", "college_sliedrecht",
                         municipalities="Gorinchem, molenlanden", rule="weighted")
    assert (0, "Stap 'route_to_coalition' gezet bij initiatief 1. Status nu: Bespreken met de coalitie "
            "(tabled), versie 3.\n") == (code, out)
    for who in ("college_gorinchem", "college_molenlanden"):
        assert 0 == _fire(run, 1, "answer_participation", who, choice="join")[0]
    assert 0 == _fire(run, 1, "start_elaboration", "college_sliedrecht")[0]
    assert 0 == _fire(run, 1, "submit_plan", "college_sliedrecht", **PLAN)[0]
    assert 0 == _fire(run, 1, "cast_vote", "college_sliedrecht", vote="for")[0]
    assert 0 == _fire(run, 1, "cast_vote", "college_gorinchem", vote="against")[0]

    code, out, _ = run("decisions", 1)
    assert 0 == code
    assert "  Besluitregel:   gewogen naar inwonertal, met een plafond per blok" in out.splitlines()
    assert "    - Molenlanden              nog niet besloten" in out.splitlines()

    code, out, _ = _fire(run, 1, "cast_vote", "college_molenlanden", vote="for")
    assert (0, "Stap 'cast_vote' gezet bij initiatief 1. Status nu: Afspraken vastleggen (agreements), "
            "versie 11.\n") == (code, out)
    code, out, _ = run("decisions", 1, "--json")
    outcome = json.loads(out)["outcome"]
    # All polder: no cap applies; 26,000 + 45,400 of 109,500 inhabitants voted for.
    assert (True, "65,2%") == (outcome["passed"], outcome["share_for_percent"])

    code, out, _ = run("show", 1)
    assert "  Proces:    Coalitie: voorstel via een coalitie van colleges (versie 1)" in out.splitlines()
    assert ["    - Gorinchem: doet mee", "    - Molenlanden: doet mee", "    - Sliedrecht: doet mee"] == [
        line for line in out.splitlines() if line.startswith("    - ")]
    assert "Alle colleges gestemd: go door systeem → Afspraken vastleggen" in out


def test_a_vote_for_another_municipality_is_refused_with_exit_3(run, people):
    add_coalition_people(people)
    run("submit", "--as", "fractie_sliedrecht@example.nl", "--flow", "coalitie",
        "--title", "Fietsroute", "--summary", "Samen")
    _fire(run, 1, "adopt_motion", "griffie_sliedrecht")
    _fire(run, 1, "route_to_coalition", "college_sliedrecht", municipalities="gorinchem")
    code, _out, err = _fire(run, 1, "answer_participation", "college_gorinchem",
                            municipality="molenlanden", choice="join")
    assert 3 == code
    assert err.startswith("Fout: U mag 'Meedoen of afzien (eigen gemeente)' niet uitvoeren met deze gegevens")
    code, _out, err = _fire(run, 1, "route_to_coalition", "college_sliedrecht", municipalities="x")
    assert 4 == code  # no longer possible: it is already at the table


def test_the_flow_exports_as_mermaid(run):
    code, out, _ = run("flows", "show", "coalitie", "--format", "mermaid")
    assert 0 == code
    assert out.startswith("stateDiagram-v2\n")
    assert "    tabled --> elaboration: Uitwerking starten (het college van de penvoerder)" in out
    assert "    go_decision --> agreements: Alle colleges gestemd - go" in out
    assert "    go_decision --> go_decision: Stem van het college vastleggen (de colleges van de deelnemende gemeenten)" in out


def test_optional_side_steps_are_listed_but_kept_out_of_the_diagram(run):
    _code, diagram, _ = run("flows", "show", "coalitie", "--format", "mermaid")
    _code, text, _ = run("flows", "show", "coalitie")
    assert "join" not in diagram and "Toetreden" not in diagram
    assert "  join                           tabled, elaboration, go_decision, agreements → (blijft)  " \
        "(het college van de gemeente zelf)" in text.splitlines()
