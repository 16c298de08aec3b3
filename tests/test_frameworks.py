"""The frameworks check: a plan fits its theme's task sheet in content and money, or it goes to
the participants' separate decisions; spending is reported in exact cents."""

import json
from decimal import Decimal

import pytest
from sqlmodel import select

from tests.routes import PLAN, drive
from tests.test_concurrency import _race, _writers
from workflow import frameworks
from workflow.errors import GuardFailed, InvalidInput
from workflow.models import Event, Initiative, TaskSheet

BUDGET_2027 = 2_100_000_00  # Bouwen en Wonen, opgaveblad 2027 (flows/reference.py)


def _set_budget(app, cents, *, theme="bouwen-en-wonen", year=2027):
    with app.db.write() as s:
        sheet = s.exec(select(TaskSheet).where(TaskSheet.theme_slug == theme,
                                               TaskSheet.year == year)).one()
        sheet.budget_cents = cents
        s.add(sheet)


def _at_check(engine, people, **plan):
    """An initiative at the frameworks check whose plan is PLAN with `plan` changed."""
    iid = drive(engine, people, "elaboration")
    sec = people["secretaris_wonen"]
    engine.fire(iid, "submit_plan", actor=sec, data={**PLAN, **plan})
    engine.fire(iid, "decide_go", actor=sec)
    return iid


def _state(app, iid):
    with app.db.read() as s:
        return s.get(Initiative, iid).state


class TestThePlanNamesItsFrameworks:
    def test_plan_stores_core_task_budget_in_cents_and_year(self, app, engine, people):
        iid = _at_check(engine, people, budget="€ 1.250.000", core_task="bw-1")
        with app.db.read() as s:
            data = s.get(Initiative, iid).data
        assert ("BW-1", 125_000_000, 2027) == (
            data["core_task"], data["budget_cents"], data["framework_year"]
        )

    def test_year_defaults_to_this_year(self, app, engine, people):
        iid = drive(engine, people, "elaboration")
        plan = {k: v for k, v in PLAN.items() if k != "year"}
        engine.fire(iid, "submit_plan", actor=people["secretaris_wonen"], data=plan)
        with app.db.read() as s:
            row = s.get(Initiative, iid)
            assert row.created_at.year == row.data["framework_year"]


class TestFits:
    def test_fits_and_goes_to_agreements(self, app, engine, people):
        iid = _at_check(engine, people)
        check = frameworks.check_for(engine, iid)
        assert (True, True, True) == (check.content_fits, check.money_fits, check.fits)
        assert ("bouwen-en-wonen", 2027, BUDGET_2027, 0, 250_000_00) == (
            check.theme, check.year, check.budget_cents, check.committed_cents, check.plan_cents
        )
        assert "Betaalbare woningen voor starters en middeninkomens" == check.core_task_name
        result = engine.fire(iid, "confirm_fits_frameworks", actor=people["secretaris_wonen"])
        assert "agreements" == result.state

    def test_exactly_what_is_left_fits(self, app, engine, people):
        _set_budget(app, 250_000_00)
        iid = _at_check(engine, people)
        assert "agreements" == engine.fire(iid, "confirm_fits_frameworks",
                                           actor=people["secretaris_wonen"]).state

    def test_committed_counts_agreements_and_execution_of_the_theme_and_year_only(
        self, app, engine, people
    ):
        in_agreements = drive(engine, people, "agreements", title="Eerste plan")
        executing = drive(engine, people, "executing", title="Tweede plan")
        completed = drive(engine, people, "executing", title="Derde plan")
        engine.fire(completed, "complete", actor=people["secretaris_wonen"], data={"result": "Klaar"})
        other_year = _at_check(engine, people, year=2026)
        engine.fire(other_year, "confirm_fits_frameworks", actor=people["secretaris_wonen"])
        iid = _at_check(engine, people)
        check = frameworks.check_for(engine, iid)
        assert 2 * 250_000_00 == check.committed_cents, (in_agreements, executing)
        assert BUDGET_2027 - 2 * 250_000_00 == check.remaining_cents


class TestDoesNotFit:
    def test_money_by_one_cent(self, app, engine, people):
        _set_budget(app, 250_000_00 - 1)
        iid = _at_check(engine, people)
        sec = people["secretaris_wonen"]
        with pytest.raises(GuardFailed) as err:
            engine.fire(iid, "confirm_fits_frameworks", actor=sec)
        assert (
            "Het plan past niet binnen de kaders: De begroting van het plan (€ 250.000,00) is "
            "groter dan wat er over is van het budget (€ 249.999,99). Kies daarom 'Past niet "
            "binnen de kaders: apart besluit per gemeente'."
        ) == err.value.message
        assert "frameworks_check" == _state(app, iid)
        result = engine.fire(iid, "require_participant_decisions", actor=sec,
                             data={"date": "2027-03-01"})
        assert "participant_decisions" == result.state

    def test_money_when_others_committed_the_budget(self, app, engine, people):
        _set_budget(app, 400_000_00)
        drive(engine, people, "agreements", title="Eerder plan")
        iid = _at_check(engine, people)
        check = frameworks.check_for(engine, iid)
        assert (True, False) == (check.content_fits, check.money_fits)
        with pytest.raises(GuardFailed):
            engine.fire(iid, "confirm_fits_frameworks", actor=people["secretaris_wonen"])

    def test_content_core_task_not_on_the_task_sheet(self, app, engine, people):
        iid = _at_check(engine, people, core_task="EN-1")  # an Energie task, not Bouwen en Wonen
        check = frameworks.check_for(engine, iid)
        assert (False, True) == (check.content_fits, check.money_fits)
        with pytest.raises(GuardFailed) as err:
            engine.fire(iid, "confirm_fits_frameworks", actor=people["secretaris_wonen"])
        assert "De kernopgave EN-1 staat niet in het opgaveblad 2027 van Bouwen en Wonen." in (
            err.value.message
        )

    def test_no_core_task_and_no_task_sheet(self, app, engine, people):
        plan = {k: v for k, v in PLAN.items() if k != "core_task"}
        iid = drive(engine, people, "elaboration")
        engine.fire(iid, "submit_plan", actor=people["secretaris_wonen"], data={**plan, "year": 2031})
        engine.fire(iid, "decide_go", actor=people["secretaris_wonen"])
        assert [
            "Er is geen opgaveblad 2031 voor het thema Bouwen en Wonen.",
            "Het plan noemt geen kernopgave.",
        ] == frameworks.check_for(engine, iid).problems()

    def test_the_blocked_step_is_shown_with_its_reason(self, app, engine, people):
        from workflow.services import show_initiative

        _set_budget(app, 1)
        iid = _at_check(engine, people)
        allowed = show_initiative(engine, iid, people["secretaris_wonen"]).allowed
        blocked = {a["trigger"]: a["blocked"] for a in allowed}
        assert blocked["confirm_fits_frameworks"].startswith("Het plan past niet binnen de kaders")
        assert blocked["require_participant_decisions"] is None


class TestConcurrentPlans:
    def test_two_plans_that_fit_alone_but_not_together(self, app, engine, people):
        """The check runs under the task sheet's lock: the second writer sees the first's commitment."""
        _set_budget(app, 400_000_00)
        first, second = _at_check(engine, people), _at_check(engine, people)
        assert frameworks.check_for(engine, first).fits and frameworks.check_for(engine, second).fits
        sec = people["secretaris_wonen"]
        ids = (first, second)
        outcomes = _race(_writers(app, 2),
                         lambda i, e: e.fire(ids[i], "confirm_fits_frameworks", actor=sec))
        assert 1 == sum(isinstance(o, GuardFailed) for o in outcomes), outcomes
        assert 1 == sum(not isinstance(o, Exception) for o in outcomes), outcomes
        assert ["agreements", "frameworks_check"] == sorted(_state(app, i) for i in ids)


class TestSpending:
    def test_report_spending_records_exact_cents_and_stays_in_execution(self, app, engine, people):
        iid = drive(engine, people, "executing")
        sec = people["secretaris_wonen"]
        engine.fire(iid, "report_spending", actor=sec, data={"amount": "1.250,50", "note": "Q1"})
        result = engine.fire(iid, "report_spending", actor=sec, data={"amount": "0,10"})
        assert "executing" == result.state
        with app.db.read() as s:
            events = s.exec(select(Event).where(Event.initiative_id == iid,
                                                Event.trigger == "report_spending")).all()
            row = s.get(Initiative, iid)
        assert [(125_050, "1250.50", "Q1"), (10, "0.10", "")] == [
            (e.data["amount_cents"], e.data["amount"], e.data["note"]) for e in events
        ]
        assert 125_060 == row.data["spent_cents"]

    @pytest.mark.parametrize(("amount", "message"), [
        ("veel", "moet een bedrag in euro's zijn, bijvoorbeeld 1250,50"),
        ("12,345", "mag hoogstens twee cijfers achter de komma hebben"),
        ("0", "moet groter dan nul zijn"),
    ])
    def test_bad_amounts_write_nothing(self, app, engine, people, amount, message):
        iid = drive(engine, people, "executing")
        with app.db.read() as s:
            before = s.get(Initiative, iid).version
        with pytest.raises(InvalidInput) as err:
            engine.fire(iid, "report_spending", actor=people["secretaris_wonen"],
                        data={"amount": amount})
        assert {"amount": message} == err.value.field_errors
        with app.db.read() as s:
            assert before == s.get(Initiative, iid).version

    def test_only_in_execution(self, app, engine, people):
        from workflow.errors import TransitionNotAllowed

        iid = drive(engine, people, "agreements")
        with pytest.raises(TransitionNotAllowed):
            engine.fire(iid, "report_spending", actor=people["secretaris_wonen"],
                        data={"amount": "10"})


class TestMoney:
    @pytest.mark.parametrize(("value", "cents"), [
        (1250, 125_000), ("1250", 125_000), ("1.250.000", 125_000_000), ("€ 1.250,50", 125_050),
        ("1250.5", 125_050), ("12,-", 1_200), (Decimal("0.01"), 1), (0.1, 10),
    ])
    def test_euros_to_cents(self, value, cents):
        assert cents == frameworks.euros_to_cents(value)

    def test_format_cents(self):
        assert ("€ 1.250.000,50", "-€ 0,01") == (
            frameworks.format_cents(125_000_050), frameworks.format_cents(-1)
        )


class TestCli:
    def test_check_and_list(self, app, engine, people, run):
        iid = _at_check(engine, people)
        code, out, _ = run("frameworks", "check", iid)
        assert 0 == code
        assert "Kernopgave:   BW-2 – Betaalbare woningen voor starters en middeninkomens" in out
        assert "Over:         € 2.100.000,00" in out
        assert "Uitkomst:     past binnen de kaders" in out
        code, out, _ = run("frameworks", "check", iid, "--json")
        shown = json.loads(out)
        assert (True, BUDGET_2027, []) == (shown["fits"], shown["remaining_cents"], shown["problems"])
        code, out, _ = run("frameworks", "list", "--year", "2027", "--json")
        sheets = json.loads(out)
        assert 4 == len(sheets)
        assert {"code": "BW-2", "name": "Betaalbare woningen voor starters en middeninkomens"} in next(
            s for s in sheets if s["theme"] == "bouwen-en-wonen")["core_tasks"]

    def test_report_spending_through_the_cli(self, app, engine, people, run):
        iid = drive(engine, people, "executing")
        code, _out, err = run("fire", iid, "report_spending", "--as", "secretaris_wonen",
                             "--set", "amount=99,99", "--set", "note=Drukwerk", "--json")
        assert 0 == code, err
        with app.db.read() as s:
            event = s.exec(select(Event).where(Event.initiative_id == iid)
                           .order_by(Event.id.desc())).first()
        assert 9_999 == event.data["amount_cents"]

    def test_edit_the_task_sheets(self, app, run):
        code, out, err = run("frameworks", "set-budget", "energie", "2028", "1.750.000,50")
        assert (0, "Opgaveblad energie 2028: budget € 1.750.000,50.\n") == (code, out), err
        code, out, _ = run("frameworks", "set-task", "energie", "2028", "en-9", "Zon op  dak")
        assert (0, "Kernopgave EN-9 op het opgaveblad energie 2028: Zon op dak.\n") == (code, out)
        run("frameworks", "set-task", "energie", "2028", "EN-9", "Zon op daken en parkeerplaatsen")
        sheet = next(s for s in frameworks.task_sheets(app.db, year=2028))
        assert (175_000_050, [{"code": "EN-9", "name": "Zon op daken en parkeerplaatsen"}]) == (
            sheet["budget_cents"], sheet["core_tasks"]
        )
        code, _, err = run("frameworks", "set-budget", "energie", "2028", "veel")
        assert (5, "Fout: Ongeldige invoer: budget: moet een bedrag in euro's zijn, bijvoorbeeld 1250,50.\n") == (
            code, err
        )
        code, _, err = run("frameworks", "set-task", "wonen", "2028", "X-1", "Iets")
        assert 5 == code and "er is geen opgaveblad 2028 voor het thema 'wonen'" in err

    def test_unknown_initiative(self, run):
        code, _, err = run("frameworks", "check", 999)
        assert (6, "Fout: Initiatief 999 bestaat niet.\n") == (code, err)


class TestPage:
    def test_the_initiative_page_shows_the_check(self, app, engine, people):
        from fastapi.testclient import TestClient

        from tests.web.helpers import log_in
        from workflow.web import create_app

        _set_budget(app, 250_000_00 - 1)
        iid = _at_check(engine, people)
        with TestClient(create_app(app, run_scheduler=False), follow_redirects=False) as client:
            log_in(client, app, people, "secretaris_wonen")
            html = " ".join(client.get(f"/initiatieven/{iid}").text.split())
        assert "Toets aan de kaders</h2>" in html
        assert "BW-2 – Betaalbare woningen voor starters en middeninkomens" in html
        assert "<dt>Nog over</dt><dd>€ 249.999,99</dd>" in html
        assert "Past niet binnen de kaders: De begroting van het plan (€ 250.000,00)" in html

    def test_an_admin_edits_the_task_sheets_on_the_reference_page(self, app, people):
        from fastapi.testclient import TestClient

        from tests.web.helpers import log_in
        from workflow.web import create_app

        with TestClient(create_app(app, run_scheduler=False), follow_redirects=False) as client:
            csrf = log_in(client, app, people, "admin")
            page = " ".join(client.get("/beheer/referentie").text.split())
            assert "Opgavebladen (kaders)</h2>" in page
            assert "BW-2 – Betaalbare woningen voor starters en middeninkomens" in page
            saved = client.post("/beheer/referentie/opgavebladen", data={
                "csrf_token": csrf, "sheet_theme": "energie", "sheet_year": "2028", "budget": "1.900.000"})
            assert 303 == saved.status_code
            task = client.post("/beheer/referentie/kernopgaven", data={
                "csrf_token": csrf, "task_theme": "energie", "task_year": "2028", "code": "EN-1",
                "task_name": "Grootschalige opwek"})
            assert 303 == task.status_code
            wrong = client.post("/beheer/referentie/opgavebladen", data={
                "csrf_token": csrf, "sheet_theme": "energie", "sheet_year": "2028", "budget": "veel"})
            assert 422 == wrong.status_code
            assert "moet een bedrag in euro&#39;s zijn" in wrong.text
        sheet = next(s for s in frameworks.task_sheets(app.db, year=2028))
        assert (190_000_000, ["EN-1"]) == (sheet["budget_cents"], [t["code"] for t in sheet["core_tasks"]])
