"""The JSON API under /api: thin routes over the engine, the service layer and the web queries."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from workflow import joint, services
from workflow.app import App
from workflow.diagram import to_mermaid
from workflow.engine import FireResult
from workflow.errors import PermissionDenied
from workflow.inputs import describe_fields
from workflow.roles import Actor
from workflow.web import idempotency, queries
from workflow.web.deps import ApiUser, AppDep

router = APIRouter(prefix="/api")


# --- models: what goes in and comes out ---------------------------------------------------------


class ErrorOut(BaseModel):
    code: str = Field(description="Vaste code voor programma's, bv. niet_toegestaan.")
    message: str = Field(description="Uitleg in het Nederlands voor mensen.")


class SubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    flow: str | None = Field(default=None, description="Proces; weglaten als er maar één is.")
    data: dict[str, Any] = Field(description="Invoer van de indienstap, bv. title en summary.")
    comment: str = Field(default="", max_length=5_000, description="Toelichting voor de tijdlijn.")


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    trigger: str = Field(description="De stap, bv. adopt_motion.")
    data: dict[str, Any] = Field(default_factory=dict, description="Invoer van de stap.")
    comment: str = Field(default="", max_length=5_000, description="Toelichting voor de tijdlijn.")
    expected_version: int | None = Field(
        default=None, description="Weiger (409) als het initiatief intussen een andere versie heeft."
    )


class FireOut(BaseModel):
    id: int
    state: str
    state_label: str
    version: int
    events: list[int]


class ActionOut(BaseModel):
    trigger: str
    label: str
    blocked: str | None
    fields: list[dict[str, Any]]


class InitiativeOut(BaseModel):
    id: int
    title: str
    summary: str
    flow: str
    flow_version: int
    state: str
    state_label: str
    final: bool
    version: int
    municipality: str
    municipality_name: str
    faction: str | None
    data: dict[str, Any]
    participants: list[dict[str, Any]]
    deadlines: list[dict[str, Any]]
    allowed_triggers: list[str] = Field(description="Stappen die de aanvrager nu kan zetten.")
    actions: list[ActionOut] = Field(description="Dezelfde stappen, met hun invoervelden.")


class ListOut(BaseModel):
    items: list[dict[str, Any]]
    page: int
    page_size: int
    total: int
    pages: int


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Niet ingelogd, of token onbekend of ingetrokken."},
    403: {"model": ErrorOut, "description": "Niet toegestaan."},
    404: {"model": ErrorOut, "description": "Niet gevonden."},
    409: {"model": ErrorOut, "description": "Verouderde versie of stap niet mogelijk in deze status."},
    422: {"model": ErrorOut, "description": "Ongeldige invoer."},
}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Een unieke sleutel per verzoek: een herhaald verzoek met dezelfde sleutel "
        "voert de stap niet nog eens uit, maar geeft het eerste antwoord terug.",
    ),
]


# --- routes ---------------------------------------------------------------------------------


@router.get("/health", tags=["systeem"], summary="Draait de dienst?")
async def health(request: Request) -> dict[str, str]:
    running = getattr(request.app.state, "scheduler", None) is not None
    return {"status": "ok", "scheduler": "actief" if running else "uit"}


@router.post(
    "/initiatives", status_code=201, response_model=FireOut, responses=ERRORS,
    tags=["initiatieven"], summary="Dien een initiatief in",
)
def create_initiative(
    body: SubmitIn, request: Request, app: AppDep, auth: ApiUser, key: IdempotencyKey = None
) -> JSONResponse:
    def act() -> idempotency.Outcome:
        flow = body.flow or _default_flow(app, auth.actor)
        result = app.engine.submit(actor=auth.actor, flow=flow, data=body.data, comment=body.comment)
        return idempotency.Outcome(201, _fired(result))

    return _answer(app, auth.user_id, key, request, body.model_dump(mode="json"), act)


@router.get(
    "/initiatives", response_model=ListOut, responses=ERRORS, tags=["initiatieven"],
    summary="Zoek initiatieven (per pagina)",
)
def list_initiatives(
    app: AppDep,
    auth: ApiUser,
    state: Annotated[str, Query(description="Status (code), bv. with_college.")] = "",
    municipality: Annotated[str, Query(description="Betrokken gemeente (indiener of deelnemer).")] = "",
    working_group: Annotated[str, Query(description="Werkgroep (code).")] = "",
    theme: Annotated[str, Query(description="Thema (code).")] = "",
    overdue: Annotated[bool, Query(description="Alleen met een verlopen termijn.")] = False,
    q: Annotated[str, Query(max_length=200, description="Zoek in titel en samenvatting.")] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=queries.MAX_PAGE_SIZE)] = queries.PAGE_SIZE,
) -> ListOut:
    filters = queries.Filters(
        state=state, municipality=municipality, working_group=working_group, theme=theme,
        overdue=overdue, q=q, page=page, page_size=page_size,
    )
    result = queries.search(app.engine, filters)
    return ListOut(
        items=[r.as_dict() for r in result.rows], page=result.page, page_size=result.page_size,
        total=result.total, pages=result.pages,
    )


@router.get(
    "/initiatives/{initiative_id}", response_model=InitiativeOut, responses=ERRORS,
    tags=["initiatieven"], summary="Eén initiatief, met wat u nu kunt doen",
)
def get_initiative(initiative_id: int, app: AppDep, auth: ApiUser) -> InitiativeOut:
    detail = services.show_initiative(app.engine, initiative_id, auth.actor)
    data = detail.as_dict()
    offered = queries.initiative_actions(app.engine, initiative_id, auth.actor)
    return InitiativeOut(
        **{k: data[k] for k in InitiativeOut.model_fields if k in data},
        allowed_triggers=[a.trigger for a in offered if a.blocked is None],
        actions=[
            ActionOut(trigger=a.trigger, label=a.label, blocked=a.blocked,
                      fields=describe_fields(a.transition.requires))
            for a in offered
        ],
    )


@router.post(
    "/initiatives/{initiative_id}/transitions", response_model=FireOut, responses=ERRORS,
    tags=["initiatieven"], summary="Zet een stap",
)
def fire_transition(
    initiative_id: int,
    body: TransitionIn,
    request: Request,
    app: AppDep,
    auth: ApiUser,
    key: IdempotencyKey = None,
) -> JSONResponse:
    def act() -> idempotency.Outcome:
        result = app.engine.fire(
            initiative_id, body.trigger, actor=auth.actor, data=body.data, comment=body.comment,
            expected_version=body.expected_version,
        )
        return idempotency.Outcome(200, _fired(result))

    return _answer(app, auth.user_id, key, request, body.model_dump(mode="json"), act)


@router.get(
    "/initiatives/{initiative_id}/events", responses=ERRORS, tags=["initiatieven"],
    summary="De tijdlijn: wie deed wat, wanneer en waarom",
)
def events(initiative_id: int, app: AppDep, auth: ApiUser) -> list[dict[str, Any]]:
    detail = services.show_initiative(app.engine, initiative_id, None)
    timeline: list[dict[str, Any]] = detail.as_dict()["timeline"]
    return timeline


@router.get(
    "/initiatives/{initiative_id}/decisions", responses=ERRORS, tags=["initiatieven"],
    summary="Het gezamenlijke besluit: per gemeente gevraagd, voor, tegen of te laat",
)
def decisions(initiative_id: int, app: AppDep, auth: ApiUser) -> dict[str, Any]:
    """The concept decision, its shared date, the decision rule and each municipality's answer
    (as `initiatief decisions NR` and the initiative page show them); 404 when none was asked."""
    return joint.overview(app.engine, initiative_id).as_dict()


@router.get("/flows", responses=ERRORS, tags=["processen"], summary="De processen")
def flows(app: AppDep, auth: ApiUser) -> list[dict[str, Any]]:
    return [
        {"name": f.name, "version": f.version, "label": f.label}
        for f in app.registry.latest()
    ]


@router.get("/flows/{name}", responses=ERRORS, tags=["processen"], summary="Eén proces: statussen en stappen")
def flow(
    name: str, app: AppDep, auth: ApiUser, version: Annotated[int | None, Query(ge=1)] = None
) -> dict[str, Any]:
    spec = app.registry.get(name, version)
    return {
        "name": spec.name,
        "version": spec.version,
        "label": spec.label,
        "initial": spec.initial.name,
        "states": [
            {
                "name": s.name, "label": s.label, "kind": s.kind.value, "help": s.help,
                "deadline": s.deadline.label if s.deadline else None,
            }
            for s in spec.states.values()
        ],
        "transitions": [
            {
                "trigger": t.trigger,
                "label": t.label,
                "sources": [s.name for s in t.sources],
                "dest": t.dest.name if t.dest else None,
                "automatic": t.automatic,
                "roles": [a.label for a in t.roles],
                "fields": describe_fields(t.requires),
            }
            for t in spec.transitions
        ],
    }


@router.get(
    "/flows/{name}/diagram", responses=ERRORS, tags=["processen"],
    summary="Het proces als Mermaid-diagram", response_class=PlainTextResponse,
)
def flow_diagram(
    name: str,
    app: AppDep,
    auth: ApiUser,
    version: Annotated[int | None, Query(ge=1)] = None,
    current: Annotated[str | None, Query(description="Status om te markeren.")] = None,
) -> PlainTextResponse:
    spec = app.registry.get(name, version)
    highlight = current if current in spec.states else None
    return PlainTextResponse(to_mermaid(spec, current=highlight), media_type="text/vnd.mermaid")


# --- helpers ----------------------------------------------------------------------------------


def _answer(
    app: App,
    user_id: int,
    key: str | None,
    request: Request,
    body: Any,
    act: Callable[[], idempotency.Outcome],
) -> JSONResponse:
    request_hash = idempotency.fingerprint(request.method, request.url.path, body)
    outcome = idempotency.run_once(app.db, user_id=user_id, key=key, request_hash=request_hash, action=act)
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


def _fired(result: FireResult) -> dict[str, Any]:
    return {
        "id": result.initiative_id,
        "state": result.state,
        "state_label": result.state_label,
        "version": result.version,
        "events": list(result.event_ids),
    }


def _default_flow(app: App, actor: Actor) -> str:
    """Without `flow`: the first of the region's flows in which the caller may submit."""
    flows = queries.submit_flows(app.registry, actor)
    if not flows:
        names = sorted(app.registry.names())
        raise PermissionDenied(
            "U heeft geen rol waarmee u een initiatief kunt indienen. Bekende processen: "
            + ", ".join(names) + "."
        )
    return flows[0].name
