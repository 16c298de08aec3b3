"""Open data: the JSON export validates against its published schema; the ZGW export maps the flow."""

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tests import monitor_history
from workflow.exports import export_json, export_zgw, schema_text

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "export.schema.json"


@pytest.fixture
def history(app):
    return monitor_history.build(app)


def validate(document):
    schema = json.loads(SCHEMA_FILE.read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [e.message for e in validator.iter_errors(document)]


def test_json_export_validates_against_its_schema(app, history):
    document = json.loads(json.dumps(export_json(app.db, app.registry, base_url="https://initiatief.example")))
    assert [] == validate(document)
    assert "https://initiatief.example/schemas/export.schema.json" == document["$schema"]
    assert 6 == len(document["initiatives"])


def test_json_export_uses_open_raadsinformatie_terms(app, history):
    items = {i["id"]: i for i in export_json(app.db, app.registry)["initiatives"]}
    ids = history.ids
    assert {"classification": "Motie", "kind": "motie", "result": "Aangenomen", "date": "2026-01-15"} == items[ids["A"]]["council"]
    assert {"classification": "Toezegging", "kind": "toezegging", "result": None, "date": "2026-01-10"} == items[ids["B"]]["council"]
    assert "Verworpen" == items[ids["D"]]["council"]["result"]
    assert None is items[ids["F"]]["council"]


def test_json_export_holds_no_personal_names(app, history):
    dumped = json.dumps(export_json(app.db, app.registry), ensure_ascii=False)
    assert monitor_history.PERSON not in dumped
    assert monitor_history.PERSON_EMAIL not in dumped


def test_an_invalid_document_is_caught_by_the_schema(app, history):
    document = json.loads(json.dumps(export_json(app.db, app.registry)))
    document["initiatives"][0]["council"] = {"classification": "Amendement", "kind": "motie", "result": None,
                                             "date": "2026-01-15"}
    assert validate(document)


def test_zgw_export_maps_flows_states_decisions_and_roles(app, history):
    zgw = export_zgw(app.db, app.registry)
    types = {t["identificatie"]: t for t in zgw["zaaktypen"]}
    groeiagenda = types["groeiagenda-v1"]
    flow = app.registry.get("groeiagenda")
    assert [(n, name) for n, name in enumerate(flow.states, start=1)] == [
        (s["volgnummer"], s["code"]) for s in groeiagenda["statustypen"]]
    assert {"initiator", "behandelaar", "zaakcoordinator"} == {r["omschrijvingGeneriek"] for r in groeiagenda["roltypen"]}
    zaken = {z["identificatie"]: z for z in zgw["zaken"]}
    a = zaken[f"INI-{history.ids['A']}"]
    assert ("groeiagenda-v1", "sliedrecht", "2026-01-05", None) == (
        a["zaaktype"], a["bronorganisatie"], a["startdatum"], a["einddatum"])
    assert ["submitted", "with_college", "tabled", "elaboration", "go_decision", "frameworks_check",
            "agreements", "executing"] == [s["statustype"] for s in a["statussen"]]
    assert [("adopt_motion", "2026-01-15"), ("decide_go", "2026-04-25"), ("confirm_fits_frameworks", "2026-05-05")] == [
        (b["besluittype"], b["datum"]) for b in a["besluiten"]]
    assert [
        {"roltype": "initiator", "betrokkene": "Fractie cda, gemeente Sliedrecht"},
        {"roltype": "behandelaar", "betrokkene": "College van B&W Sliedrecht"},
        {"roltype": "zaakcoordinator", "betrokkene": "Secretaris, Bestuurlijke werkgroep Bouwen en Wonen"},
    ] == a["rollen"]
    e = zaken[f"INI-{history.ids['E']}"]
    assert ("completed", "2026-12-01") == (e["status"]["statustype"], e["einddatum"])


def test_cli_exports_both_formats(run, app, history, tmp_path):
    code, out, _err = run("export", "--format", "json", "-o", tmp_path / "open.json")
    assert (0, f"6 initiatieven geëxporteerd naar {tmp_path / 'open.json'}.\n") == (code, out)
    assert [] == validate(json.loads((tmp_path / "open.json").read_text("utf-8")))
    code, out, _err = run("export", "--format", "zgw", "-o", tmp_path / "zgw.json")
    assert 0 == code
    assert 6 == len(json.loads((tmp_path / "zgw.json").read_text("utf-8"))["zaken"])


def test_progress_is_reported_per_batch(app, history):
    seen = []
    export_json(app.db, app.registry, progress=lambda done, total: seen.append((done, total)))
    assert [(6, 6)] == seen


def test_schema_file_is_the_served_one():
    assert SCHEMA_FILE.read_text("utf-8") == schema_text()
