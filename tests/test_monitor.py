"""The voortgangsmonitor: exact figures from a hand-built history, its PDF, page, JSON and CLI."""

import io
import json
from datetime import timedelta

import pytest
from pypdf import PdfReader

from tests import monitor_history
from tests.monitor_history import day
from workflow.models import Event
from workflow.monitor import Bottleneck, BudgetLine, Count, LeadTime, progress_monitor
from workflow.reports import monitor_view
from workflow.reports.formatting import days, euro_cents

END_OF_2026 = day("2027-02-01")


@pytest.fixture
def history(app):
    return monitor_history.build(app)


def monitor(app, **kwargs):
    return progress_monitor(app.db, app.registry, **kwargs)


class TestFigures:
    """Every figure follows from the dates in tests/monitor_history.py."""

    def test_counts_per_state_at_the_end_of_the_year(self, app, history):
        report = monitor(app, year=2026, now=END_OF_2026)
        assert 5 == report.initiatives  # F is submitted in 2027
        assert [
            Count("with_college", "Bij het college", 1),
            Count("executing", "In uitvoering", 1),
            Count("completed", "Afgerond", 1),
            Count("rejected_by_council", "Verworpen door de raad", 1),
            Count("stopped", "Gestopt", 1),
        ] == report.per_state

    def test_counts_per_municipality(self, app, history):
        report = monitor(app, year=2026, now=END_OF_2026)
        assert [
            ("Dordrecht", 2, {"completed": 1, "stopped": 1}),
            ("Sliedrecht", 3, {"executing": 1, "rejected_by_council": 1, "with_college": 1}),
        ] == [(m.name, m.total, m.by_state) for m in report.per_municipality]

    def test_new_completed_and_stopped_in_the_period(self, app, history):
        report = monitor(app, year=2026, now=END_OF_2026)
        assert (4, 1, 2) == (report.new, report.completed, report.stopped)

    def test_lead_times_per_step(self, app, history):
        report = monitor(app, year=2026, now=END_OF_2026)
        assert [
            LeadTime("submitted", "Ingediend, bij de raad", 5, 10.0, 70.0),
            LeadTime("with_college", "Bij het college", 3, 30.0, 60.0),
            LeadTime("tabled", "Geagendeerd in de werkgroep", 3, 30.0, 60.0),
            LeadTime("elaboration", "In uitwerking", 2, 30.0, 30.0),
            LeadTime("go_decision", "Besluit go/no-go", 2, 10.0, 10.0),
            LeadTime("frameworks_check", "Toets aan de kaders", 2, 10.0, 10.0),
            LeadTime("agreements", "Afspraken vastleggen", 2, 30.0, 30.0),
            LeadTime("executing", "In uitvoering", 1, 153.0, 153.0),
        ] == report.lead_times

    def test_bottlenecks_longest_wait_first(self, app, history):
        report = monitor(app, year=2026, now=END_OF_2026)
        assert [
            Bottleneck("with_college", "Bij het college", 1, 301.0, 301.0),
            Bottleneck("executing", "In uitvoering", 1, 211.0, 211.0),
        ] == report.bottlenecks

    def test_overdue_deadlines_and_who_they_wait_on(self, app, history):
        report = monitor(app, year=2026, now=END_OF_2026)
        assert [(history.ids["C"], "Reactie van het college", 245,
                 ["het college van de gemeente (Sliedrecht)"])] == [
            (o.initiative_id, o.label, o.days_overdue, o.waiting_on) for o in report.overdue
        ]

    def test_budget_per_theme(self, app, history):
        report = monitor(app, year=2026, now=END_OF_2026)
        assert [
            BudgetLine("bereikbaarheid", "Bereikbaarheid", 0, 0, 0),
            BudgetLine("bouwen-en-wonen", "Bouwen en Wonen", 100_000_000, 123_456, 75_050),
            BudgetLine("economie-en-werken", "Economie en Werken", 0, 0, 0),
            BudgetLine("energie", "Energie", 25_000_000, 0, 1_000_000),
        ] == report.budget
        assert 99_876_544 == report.budget[1].left_cents

    def test_one_theme(self, app, history):
        report = monitor(app, year=2026, theme="energie", now=END_OF_2026)
        assert ("Energie", 2, 1, 1, 1) == (
            report.theme_name, report.initiatives, report.new, report.completed, report.stopped)
        assert [BudgetLine("energie", "Energie", 25_000_000, 0, 1_000_000)] == report.budget
        assert [] == report.overdue

    def test_during_the_year_states_are_read_now(self, app, history):
        report = monitor(app, year=2026, now=day("2026-04-01"))
        assert day("2026-04-01") == report.as_of
        # A is in elaboration since 16 March, B and E are tabled, C with the college.
        assert {"elaboration": 1, "tabled": 2, "with_college": 1} == {
            c.key: c.count for c in report.per_state}
        assert 0 == report.completed
        assert [("Reactie van het college", 0)] != [(o.label, o.days_overdue) for o in report.overdue]
        assert [] == report.overdue  # C's deadline falls on 1 May

    def test_json_is_plain(self, app, history):
        data = monitor(app, year=2026, now=END_OF_2026).as_dict()
        assert 99_876_544 == json.loads(json.dumps(data))["budget"][1]["left_cents"]


class TestFormatting:
    def test_euros_the_dutch_way(self):
        assert ["€ 1.234,56", "€ 0,05", "-€ 12,00", "€ 1.000.000,00"] == [
            euro_cents(123_456), euro_cents(5), euro_cents(-1200), euro_cents(100_000_000)]

    def test_days(self):
        assert ["1 dag", "10 dagen", "10,5 dagen"] == [days(1), days(10), days(10.5)]


def pdf_text(content: bytes) -> str:
    """The text of every page, whitespace (also where a table cell wraps) folded to one space."""
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


class TestPdf:
    def test_contains_headings_and_figures(self, app, history):
        report = monitor(app, year=2026, now=END_OF_2026)
        content = monitor_view.to_pdf(report)
        assert content.startswith(b"%PDF")
        text = pdf_text(content)
        for expected in (
            "Voortgangsmonitor 2026, de hele regio",
            "Initiatieven per status", "Doorlooptijd per stap", "Knelpunten",
            "Verlopen termijnen", "Budget per thema",
            "€ 1.000.000,00", "€ 1.234,56", "€ 998.765,44", "€ 750,50", "€ 10.000,00",
            "Fietspad langs de Merwede", "het college van de gemeente (Sliedrecht)",
            "153 dagen", "301 dagen",
        ):
            assert expected in text, expected

    def test_has_title_metadata(self, app, history):
        reader = PdfReader(io.BytesIO(monitor_view.to_pdf(monitor(app, year=2026, now=END_OF_2026))))
        assert "Voortgangsmonitor 2026, de hele regio" == reader.metadata.title


class TestCli:
    def test_writes_pdf_json_and_html(self, run, app, history, tmp_path):
        for fmt in ("pdf", "json", "html"):
            target = tmp_path / f"monitor.{fmt}"
            code, out, err = run("report", "monitor", "--year", 2026, "--format", fmt, "-o", target)
            assert (0, "") == (code, err)
            assert "Voortgangsmonitor 2026, de hele regio geschreven naar" in out
        data = json.loads((tmp_path / "monitor.json").read_text("utf-8"))
        assert (2026, 4) == (data["year"], data["new"])
        html = (tmp_path / "monitor.html").read_text("utf-8")
        assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"' in html
        assert "€ 1.234,56" in html
        assert "Voortgangsmonitor 2026" in pdf_text((tmp_path / "monitor.pdf").read_bytes())

    def test_unknown_theme(self, run, app, tmp_path):
        code, _out, err = run("report", "monitor", "--year", 2026, "--theme", "kunst", "-o", tmp_path / "x")
        assert (5, "Fout: Onbekend thema 'kunst'.\n") == (code, err)


class TestKeptReports:
    """A report is computed once per minute while nothing it depends on changes."""

    def test_same_report_until_the_log_grows(self, app, history):
        first = monitor(app, year=2026, now=END_OF_2026)
        assert first is monitor(app, year=2026, now=END_OF_2026)
        with app.db.write() as session:
            session.add(Event(initiative_id=history.ids["A"], version=12, at=day("2026-10-01"),
                              actor_name="x", trigger="report_spending", from_state="executing",
                              to_state="executing", data={"amount_cents": 100}))
        again = monitor(app, year=2026, now=END_OF_2026)
        assert (75_150, False) == (again.budget[1].spent_cents, again is first)

    def test_the_running_year_is_kept_per_minute(self, app, history):
        now = day("2026-07-01")
        first = monitor(app, year=2026, now=now)
        assert first is monitor(app, year=2026, now=now + timedelta(seconds=59))
        assert first is not monitor(app, year=2026, now=now + timedelta(seconds=60))


class TestOverdueSummary:
    def test_counts_per_party(self, app, history):
        report = monitor(app, year=2026, now=END_OF_2026)
        assert (1, [Count("het college van de gemeente (Sliedrecht)", "het college van de gemeente (Sliedrecht)", 1)]) == (
            report.overdue_total, report.overdue_by_party)
