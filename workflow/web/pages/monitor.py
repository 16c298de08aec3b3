"""The voortgangsmonitor page, with its PDF and JSON downloads (any logged-in user may read it)."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import col, select

from workflow.app import App
from workflow.clock import utcnow
from workflow.errors import NotFound
from workflow.models import Theme
from workflow.monitor import MonitorReport, progress_monitor
from workflow.reports import monitor_view
from workflow.web.deps import AppDep, CurrentUser
from workflow.web.pages._render import page

router = APIRouter(include_in_schema=False)

YearQuery = Annotated[int | None, Query(ge=2000, le=2100)]
ThemeQuery = Annotated[str, Query(max_length=64)]


def _report(app: App, jaar: int | None, thema: str) -> MonitorReport:
    year = jaar or utcnow().year
    if thema:
        with app.db.read() as session:
            if session.get(Theme, thema) is None:
                raise NotFound(f"Onbekend thema {thema!r}.")
    return progress_monitor(app.db, app.registry, year=year, theme=thema or None)


def _query(report: MonitorReport) -> str:
    return urlencode({"jaar": report.year, **({"thema": report.theme} if report.theme else {})})


@router.get("/monitor")
def monitor_page(
    request: Request, app: AppDep, auth: CurrentUser, jaar: YearQuery = None, thema: ThemeQuery = ""
) -> Response:
    report = _report(app, jaar, thema)
    with app.db.read() as session:
        themes = [(t.slug, t.name) for t in session.exec(select(Theme).order_by(col(Theme.name)))]
    this_year = utcnow().year
    return page(request, "monitor.html", {
        "title": monitor_view.title(report),
        "nav": "monitor",
        "years": list(range(this_year, this_year - 6, -1)),
        "themes": themes,
        "query": _query(report),
        **monitor_view.context(report),
    })


@router.get("/monitor.pdf")
def monitor_pdf(app: AppDep, auth: CurrentUser, jaar: YearQuery = None, thema: ThemeQuery = "") -> Response:
    report = _report(app, jaar, thema)
    name = f"voortgangsmonitor-{report.year}{'-' + report.theme if report.theme else ''}.pdf"
    return Response(monitor_view.to_pdf(report), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/monitor.json")
def monitor_json(app: AppDep, auth: CurrentUser, jaar: YearQuery = None, thema: ThemeQuery = "") -> Response:
    return JSONResponse(_report(app, jaar, thema).as_dict())
