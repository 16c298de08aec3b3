"""The public pages (no login) per municipality and for the region, and the form to set the flag."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from workflow.errors import InvalidInput, NotFound
from workflow.exports import schema_text
from workflow.models import Initiative
from workflow.reports import public
from workflow.web import queries
from workflow.web.deps import AppDep, CurrentUser, FormDep, check_csrf
from workflow.web.pages._render import page

router = APIRouter(include_in_schema=False)


@router.get("/openbaar")
def region_page(request: Request, app: AppDep) -> Response:
    return _listing(request, app, None)


@router.get("/openbaar/gemeente/{municipality}")
def municipality_page(request: Request, app: AppDep, municipality: str) -> Response:
    return _listing(request, app, municipality)


def _listing(request: Request, app: AppDep, municipality: str | None) -> Response:
    name, items = public.public_initiatives(app.db, app.registry, municipality=municipality)
    places = [(m.slug, m.name) for m in queries.reference(app.engine)["municipalities"]]
    title = f"Openbare initiatieven – gemeente {name}" if name else "Openbare initiatieven in de regio"
    return page(request, "public_list.html", {
        "title": title, "nav": "openbaar", "items": items, "places": places,
        "current": municipality or "",
    })


@router.get("/openbaar/initiatief/{initiative_id:int}")
def initiative_page(request: Request, app: AppDep, initiative_id: int) -> Response:
    item = public.public_initiative(app.db, app.registry, initiative_id)
    return page(request, "public_initiative.html", {"title": item.title, "nav": "openbaar", "i": item})


@router.get("/initiatieven/{initiative_id:int}/openbaarheid")
def flag_form(request: Request, app: AppDep, auth: CurrentUser, initiative_id: int) -> Response:
    with app.db.read() as session:
        row = session.get(Initiative, initiative_id)
        if row is None:
            raise NotFound(f"Initiatief {initiative_id} bestaat niet.")
    return page(request, "public_flag.html", {
        "title": f"Openbaarheid van '{row.title}'", "nav": "list", "row": row,
        "may": public.may_set_public(auth.actor, row), "now_public": public.is_public(row),
    })


@router.post("/initiatieven/{initiative_id:int}/openbaarheid")
def flag_set(
    request: Request, app: AppDep, auth: CurrentUser, form: FormDep, initiative_id: int
) -> Response:
    check_csrf(request, form, auth)
    choice = str(form.get("openbaar", ""))
    if choice not in public.CHOICES:
        raise InvalidInput("Kies: openbaar, niet openbaar of de standaardregel.")
    public.set_public(app.engine, initiative_id, actor=auth.actor, public=public.CHOICES[choice])
    return RedirectResponse(f"/initiatieven/{initiative_id}/openbaarheid?opgeslagen=1", status_code=303)


@router.get("/schemas/export.schema.json")
def export_schema() -> Response:
    """The published JSON Schema of `initiatief export --format json` (open data)."""
    return Response(schema_text(), media_type="application/schema+json")
