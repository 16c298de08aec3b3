"""Initiative pages: the inbox, the list with filters, one initiative, and following it."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from workflow import frameworks, services
from workflow.clock import utcnow
from workflow.diagram import to_mermaid
from workflow.web import accounts, queries
from workflow.web.deps import AppDep, CurrentUser, FormDep, check_csrf
from workflow.web.pages._render import page
from workflow.web.pages.steps import timeline_entries

router = APIRouter()

DEADLINE_STATUS = {"open": "loopt", "met": "gehaald", "cancelled": "vervallen", "escalated": "verlopen"}


@router.get("/wacht-op-mij")
def inbox(
    request: Request,
    app: AppDep,
    auth: CurrentUser,
    pagina: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    found = queries.inbox(app.engine, auth.actor, page=pagina)
    return page(
        request,
        "inbox.html",
        {"title": "Wacht op mij", "nav": "inbox", "inbox": found},
    )


@router.get("/initiatieven")
def listing(
    request: Request,
    app: AppDep,
    auth: CurrentUser,
    status: Annotated[str, Query(max_length=64)] = "",
    gemeente: Annotated[str, Query(max_length=64)] = "",
    werkgroep: Annotated[str, Query(max_length=64)] = "",
    thema: Annotated[str, Query(max_length=64)] = "",
    verlopen: Annotated[str, Query(max_length=8)] = "",
    zoek: Annotated[str, Query(max_length=200)] = "",
    pagina: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    filters = queries.Filters(
        state=status, municipality=gemeente, working_group=werkgroep, theme=thema,
        overdue=verlopen == "ja", q=zoek, page=pagina,
    )
    result = queries.search(app.engine, filters)
    params = {k: v for k, v in {"status": status, "gemeente": gemeente, "werkgroep": werkgroep,
                                "thema": thema, "verlopen": verlopen, "zoek": zoek}.items() if v}
    return page(
        request,
        "list.html",
        {
            "title": "Initiatieven",
            "nav": "list",
            "result": result,
            "filters": filters,
            "params": params,
            "states": queries.state_choices(app.registry),
            "ref": result.options,
        },
    )


@router.get("/initiatieven/{initiative_id:int}")
def detail(request: Request, app: AppDep, auth: CurrentUser, initiative_id: int) -> Response:
    found = services.show_initiative(app.engine, initiative_id, None)
    spec = app.registry.get(found.flow, found.flow_version)
    around = queries.around_initiative(app.engine, initiative_id, found.version, auth.actor, auth.user_id)
    done = request.query_params.get("gezet")
    done_label = None
    if done:
        t = spec.transition(done)
        done_label = t.label if t else None
    ref = around.options
    group = found.data.get("working_group")
    now = utcnow()
    deadlines = [
        {**d, "overdue": d["status"] == "open" and d["due_at"] < now} for d in found.deadlines
    ]
    return page(
        request,
        "initiative.html",
        {
            "title": found.title,
            "nav": "list",
            "i": found,
            "spec": spec,
            "actions": around.actions,
            "diagram": to_mermaid(spec, current=found.state),
            "states": list(spec.states.values()),
            "timeline": timeline_entries(spec, found.timeline, ref),
            "deadlines": deadlines,
            "deadline_status": DEADLINE_STATUS,
            "working_group": dict(ref["working_group"]).get(group, group) if group else None,
            "following": around.following,
            "done_label": done_label,
            "frameworks": _frameworks(app, found),
            "municipality_names": dict(ref.get("municipality", [])),
        },
    )


def _frameworks(app: AppDep, found: services.InitiativeDetail) -> dict[str, object] | None:
    """The frameworks check of a plan with a budget, for the small block on the page."""
    if "budget_cents" not in found.data or "frameworks" not in app.registry.region.lookups:
        return None
    check = frameworks.check_for(app.engine, found.id)
    money = {k: frameworks.format_cents(v) for k, v in (
        ("budget", check.budget_cents), ("committed", check.committed_cents),
        ("remaining", check.remaining_cents), ("plan", check.plan_cents or 0))}
    return {"check": check, "money": money}


@router.post("/initiatieven/{initiative_id:int}/volgen")
def follow(
    request: Request, app: AppDep, auth: CurrentUser, form: FormDep, initiative_id: int
) -> Response:
    check_csrf(request, form, auth)
    accounts.set_following(app.db, auth.user_id, initiative_id, form.get("volgen") == "ja")
    return RedirectResponse(f"/initiatieven/{initiative_id}", status_code=303)

