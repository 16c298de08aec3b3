"""The voortgangsmonitor as people read it: charts and tables for the page, HTML file and PDF."""

from typing import Any

from workflow.monitor import MonitorReport
from workflow.reports import formatting as fmt
from workflow.reports.charts import bar_chart
from workflow.web.rendering import render


def title(report: MonitorReport) -> str:
    scope = f"thema {report.theme_name}" if report.theme_name else "de hele regio"
    return f"Voortgangsmonitor {report.year}, {scope}"


def subtitle(report: MonitorReport) -> str:
    return (f"Periode 1 januari tot en met 31 december {report.year}; "
            f"standen per {fmt.date_text(report.as_of)}.")


def charts(report: MonitorReport) -> dict[str, str]:
    """The SVG charts by name; every chart has a table with the same figures beside it."""
    return {
        "per_state": bar_chart(
            "Initiatieven per status", [(c.label, c.count) for c in report.per_state],
            value_text=lambda v: f"{v:g}"),
        "lead_times": bar_chart(
            "Mediane doorlooptijd per stap in dagen",
            [(t.label, t.median_days) for t in report.lead_times], value_text=fmt.days),
        "budget": bar_chart(
            "Budget per thema: vastgelegd", [(b.name, b.committed_cents / 100) for b in report.budget],
            value_text=lambda v: fmt.euro_cents(round(v * 100))),
    }


def context(report: MonitorReport) -> dict[str, Any]:
    """What the templates `monitor_body.html` and `monitor_standalone.html` need."""
    return {"report": report, "charts": charts(report), "fmt": fmt,
            "report_title": title(report), "report_subtitle": subtitle(report)}


def standalone_html(report: MonitorReport) -> str:
    """One self-contained HTML file (for `initiatief report monitor --format html`)."""
    return render("monitor_standalone.html", context(report))


def to_pdf(report: MonitorReport) -> bytes:
    """The monitor as a PDF a griffie can attach to a council agenda."""
    from workflow.reports import pdf  # reportlab is loaded when the first PDF is asked for

    blocks = [
        pdf.Block("Samenvatting", header=("Kengetal", "Aantal"), widths=(3, 1), rows=[
            ("Initiatieven (stand einde periode)", str(report.initiatives)),
            ("Nieuw in de periode", str(report.new)),
            ("Afgerond in de periode", str(report.completed)),
            ("Gestopt of afgewezen in de periode", str(report.stopped)),
        ]),
        pdf.Block("Initiatieven per status", header=("Status", "Aantal"), widths=(3, 1),
                  chart=[(c.label, c.count, str(c.count)) for c in report.per_state],
                  rows=[(c.label, str(c.count)) for c in report.per_state]),
        pdf.Block("Initiatieven per gemeente",
                  header=("Gemeente", "Totaal", *(c.label for c in report.per_state)),
                  rows=[(m.name, str(m.total), *(str(m.by_state.get(c.key, 0)) for c in report.per_state))
                        for m in report.per_municipality]),
        pdf.Block("Doorlooptijd per stap",
                  text="Over de stappen die in de periode zijn afgesloten.",
                  header=("Stap", "Aantal", "Mediaan", "Langste"), widths=(3, 1, 1.2, 1.2),
                  chart=[(t.label, t.median_days, fmt.days(t.median_days)) for t in report.lead_times],
                  rows=[(t.label, str(t.stays), fmt.days(t.median_days), fmt.days(t.longest_days))
                        for t in report.lead_times]),
        pdf.Block("Knelpunten: waar initiatieven het langst wachten",
                  header=("Status", "Wachtend", "Mediaan", "Langste"), widths=(3, 1, 1.2, 1.2),
                  rows=[(b.label, str(b.waiting), fmt.days(b.median_days), fmt.days(b.longest_days))
                        for b in report.bottlenecks]),
        pdf.Block("Verlopen termijnen: op wie ze wachten", empty="Geen verlopen termijnen.",
                  text=f"{report.overdue_total} verlopen termijnen, nog niet gehaald.",
                  header=("Wacht op", "Verlopen termijnen"), widths=(4, 1),
                  rows=[(p.label, str(p.count)) for p in report.overdue_by_party]),
        pdf.Block("Langst verlopen termijnen", empty="Geen verlopen termijnen.",
                  header=("Initiatief", "Gemeente", "Termijn", "Uiterste datum", "Dagen over",
                          "Wacht op"), widths=(3, 1.4, 2, 1.5, 1, 3),
                  rows=[(f"{o.initiative_id}. {o.title}", o.municipality, o.label,
                         fmt.date_text(o.due_at), str(o.days_overdue), "; ".join(o.waiting_on) or "–")
                        for o in report.overdue]),
        pdf.Block("Budget per thema",
                  text="Opgaveblad: budget van het jaar; vastgelegd: initiatieven in de fase "
                  "afspraken of uitvoering; besteed: zoals gerapporteerd; vrij: opgaveblad min "
                  "vastgelegd.",
                  header=("Thema", "Opgaveblad", "Vastgelegd", "Besteed", "Vrij"),
                  widths=(2, 1.5, 1.5, 1.5, 1.5),
                  rows=[(b.name, fmt.euro_cents(b.budget_cents), fmt.euro_cents(b.committed_cents),
                         fmt.euro_cents(b.spent_cents), fmt.euro_cents(b.left_cents))
                        for b in report.budget]),
    ]
    return pdf.render(title(report), subtitle(report), blocks)
