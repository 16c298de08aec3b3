"""The council list page per municipality, with CSV, XLSX and PDF downloads (logged-in users)."""

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import col, select

from workflow.app import App
from workflow.errors import InvalidInput
from workflow.models import Municipality
from workflow.reports import council_list as listing
from workflow.web.deps import AppDep, CurrentUser
from workflow.web.pages._render import page

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Query(max_length=64)]
FILES = {
    "csv": ("text/csv; charset=utf-8", listing.to_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", listing.to_xlsx),
    "pdf": ("application/pdf", listing.to_pdf),
}


def _date(value: str, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"De {what} {value!r} is geen datum (jjjj-mm-dd).") from None


def _find(app: App, gemeente: str, van: str, tot: str, status: str) -> listing.CouncilList:
    return listing.council_list(
        app.db, app.registry, municipality=gemeente, since=_date(van, "begindatum"),
        until=_date(tot, "einddatum"), status=status,
    )


@router.get("/raadslijst")
def council_page(
    request: Request, app: AppDep, auth: CurrentUser,
    gemeente: Text = "", van: Text = "", tot: Text = "", status: Text = "",
) -> Response:
    with app.db.read() as session:
        rows = session.exec(select(Municipality).order_by(col(Municipality.name)))
        places = [(m.slug, m.name) for m in rows]
    chosen = gemeente or places[0][0]
    found = _find(app, chosen, van, tot, status)
    query = urlencode({k: v for k, v in
                       {"gemeente": chosen, "van": van, "tot": tot, "status": status}.items() if v})
    return page(request, "council_list.html", {
        "title": found.title, "nav": "raadslijst", "found": found, "places": places,
        "statuses": listing.STATUS_FILTERS, "header": listing.HEADER, "van": van, "tot": tot,
        "query": query,
    })


@router.get("/raadslijst.{extension}")
def council_file(
    app: AppDep, auth: CurrentUser, extension: str,
    gemeente: Text = "", van: Text = "", tot: Text = "", status: Text = "",
) -> Response:
    if extension not in FILES:
        raise InvalidInput("Kies csv, xlsx of pdf.")
    if not gemeente:
        raise InvalidInput("Kies een gemeente.")
    media_type, write = FILES[extension]
    found = _find(app, gemeente, van, tot, status)
    name = f"moties-en-toezeggingen-{found.municipality}.{extension}"
    return Response(write(found), media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
