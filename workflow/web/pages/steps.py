"""Step pages: a form per transition built from its input model, a confirmation, then the engine."""

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from notifications.render import dutch_date, euros
from workflow import services
from workflow.app import App
from workflow.definition import Flow, Transition
from workflow.errors import Conflict, InvalidInput, PermissionDenied
from workflow.inputs import validate_input
from workflow.web import forms, queries
from workflow.web.accounts import Authenticated
from workflow.web.deps import AppDep, CurrentUser, FormDep, check_csrf
from workflow.web.pages._render import page

router = APIRouter()

COMMENT_MAX = 5_000
HOME_FIELD = "namens"


@dataclass
class Step:
    """What a step page needs: the transition, where to post, and the initiative it is for."""

    transition: Transition
    heading: str
    action: str
    back: str
    intro: str = ""
    initiative: services.InitiativeDetail | None = None
    version: int | None = None
    own_scope: tuple[str, list[str]] | None = None
    homes: list[tuple[str, str]] = field(default_factory=list)  # for a new initiative: on whose behalf
    flow_name: str = ""
    flows: list[tuple[str, str]] = field(default_factory=list)  # (name, label) the user may start


# --- shared with the initiative page ----------------------------------------------------------


def reference_options(app: App) -> dict[str, list[tuple[str, str]]]:
    return queries.reference_options(app.engine)


def timeline_entries(
    spec: Flow, timeline: list[dict[str, Any]], ref: dict[str, list[tuple[str, str]]]
) -> list[dict[str, Any]]:
    """Each event with its input as (Dutch field title, shown value) pairs."""
    out = []
    for event in timeline:
        t = spec.transition(event["trigger"])
        model = t.requires if t else None
        values = {k: str(v) for k, v in (event.get("data") or {}).items() if v not in (None, "")}
        fields = forms.build_fields(model, reference=ref, values=values)
        details = []
        for f in fields:
            if not values.get(f.name):
                continue
            shown = dict(f.choices).get(f.value, f.value) if f.choices else f.value
            if f.kind == "date":
                shown = dutch_date(f.value)
            elif f.kind == "number" and f.value.isdigit():
                shown = euros(int(f.value))  # number inputs are whole euros (see forms.py)
            details.append((f.label, shown))
        out.append({**event, "details": details})
    return out


# --- a step on an existing initiative -----------------------------------------------------------


def _step(app: App, auth: Authenticated, initiative_id: int, trigger: str) -> Step:
    detail = services.show_initiative(app.engine, initiative_id, None)
    offered = {a.trigger: a for a in queries.initiative_actions(app.engine, initiative_id, auth.actor)}
    action = offered.get(trigger)
    if action is None:
        raise PermissionDenied("U kunt deze stap bij dit initiatief nu niet zetten.")
    if action.blocked:
        raise Conflict(f"'{action.label}' kan nu niet: {action.blocked}")
    t = action.transition
    return Step(
        transition=t,
        heading=t.label,
        action=f"/initiatieven/{initiative_id}/stap/{trigger}",
        back=f"/initiatieven/{initiative_id}",
        intro=t.help,
        initiative=detail,
        version=detail.version,
        own_scope=forms.own_scope(t, auth.actor),
    )


@router.get("/initiatieven/{initiative_id:int}/stap/{trigger}")
def step_form(
    request: Request, app: AppDep, auth: CurrentUser, initiative_id: int, trigger: str
) -> Response:
    step = _step(app, auth, initiative_id, trigger)
    return _form(request, app, step, {})


@router.post("/initiatieven/{initiative_id:int}/stap/{trigger}")
def step_post(
    request: Request, app: AppDep, auth: CurrentUser, form: FormDep, initiative_id: int, trigger: str
) -> Response:
    check_csrf(request, form, auth)
    step = _step(app, auth, initiative_id, trigger)
    step.version = _int(form.get("versie"), step.version)

    def fire(raw: dict[str, str], comment: str) -> str:
        app.engine.fire(
            initiative_id, trigger, actor=auth.actor, data=raw, comment=comment,
            expected_version=step.version,
        )
        return f"/initiatieven/{initiative_id}?gezet={trigger}"

    return _handle(request, app, step, form, fire)


# --- a new initiative -------------------------------------------------------------------------


def _new_step(app: App, auth: Authenticated, flow_name: str | None) -> Step:
    flows = queries.submit_flows(app.registry, auth.actor)
    if not flows:
        raise PermissionDenied(
            "Alleen een lid van een raadsfractie kan een voorstel indienen, en alleen een college "
            "kan een initiatief uit de samenleving registreren."
        )
    spec = next((f for f in flows if f.name == flow_name), flows[0])
    start = spec.start
    roles = {a.role for a in start.roles}
    kinds = app.registry.role_kinds
    names = dict(reference_options(app)["municipality"])
    homes = []
    for g in sorted(auth.actor.grants, key=lambda g: (g.role, g.scope)):
        if g.role in roles and g.role in kinds:
            parts = dict(zip(kinds[g.role].scope_parts, g.scope, strict=True))
            label = names.get(parts.get("municipality", ""), parts.get("municipality", ""))
            if parts.get("faction"):
                label += f", fractie {parts['faction'].upper()}"
            homes.append((":".join(g.scope), label))
    return Step(
        transition=start,
        heading="Nieuw voorstel indienen",
        action="/initiatieven/nieuw",
        back="/wacht-op-mij",
        intro=spec.label,
        homes=homes,
        flow_name=spec.name,
        flows=[(f.name, f.label) for f in flows],
    )


@router.get("/initiatieven/nieuw")
def new_form(request: Request, app: AppDep, auth: CurrentUser) -> Response:
    step = _new_step(app, auth, request.query_params.get("proces"))
    return _form(request, app, step, {})


@router.post("/initiatieven/nieuw")
def new_post(request: Request, app: AppDep, auth: CurrentUser, form: FormDep) -> Response:
    check_csrf(request, form, auth)
    step = _new_step(app, auth, str(form.get("proces", "")) or None)

    def submit(raw: dict[str, str], comment: str) -> str:
        data: dict[str, Any] = dict(raw)
        home = str(form.get(HOME_FIELD, ""))
        if len(step.homes) > 1 and home:
            kinds = app.registry.role_kinds
            part_names = next(iter(kinds[a.role].scope_parts for a in step.transition.roles))
            data.update(dict(zip(part_names, home.split(":"), strict=False)))
        result = app.engine.submit(actor=auth.actor, flow=step.flow_name, data=data, comment=comment)
        return f"/initiatieven/{result.initiative_id}?gezet={step.transition.trigger}"

    return _handle(request, app, step, form, submit)


# --- the three phases: fill in, check, confirm ------------------------------------------------------


def _handle(request: Request, app: App, step: Step, form: FormData, act: Any) -> Response:
    model = step.transition.requires
    raw = forms.posted_input(model, form)
    values = dict(raw)
    comment = str(form.get("toelichting", "")).strip()
    phase = str(form.get("fase", "controleren"))
    home = str(form.get(HOME_FIELD, ""))
    if phase == "wijzigen":
        return _form(request, app, step, values, comment=comment, home=home)
    errors: dict[str, str] = {}
    if len(comment) > COMMENT_MAX:
        errors["toelichting"] = f"is te lang (hoogstens {COMMENT_MAX} tekens)"
    if step.homes and len(step.homes) > 1 and home not in dict(step.homes):
        errors[HOME_FIELD] = "kies namens wie u indient"
    try:
        validate_input(model, raw)
    except InvalidInput as exc:
        errors.update(exc.field_errors)
    if errors:
        return _form(request, app, step, values, comment=comment, home=home, errors=errors, status=422)
    if phase != "bevestigen":
        fields = _fields(app, step, values, {})
        return page(
            request,
            "step_confirm.html",
            {
                "title": f"Controleren: {step.heading}",
                "step": step,
                "fields": fields,
                "summary": _summary(fields),
                "comment": comment,
                "home": home,
                "home_label": dict(step.homes).get(home, ""),
            },
        )
    try:
        target = act(raw, comment)
    except InvalidInput as exc:
        return _form(request, app, step, values, comment=comment, home=home,
                     errors=exc.field_errors, message=exc.message, status=422)
    except Conflict as exc:
        return _form(request, app, step, values, comment=comment, home=home,
                     message=exc.message, status=409)
    return RedirectResponse(target, status_code=303)


def _fields(
    app: App, step: Step, values: dict[str, str], errors: dict[str, str]
) -> list[forms.FormField]:
    return forms.build_fields(
        step.transition.requires,
        reference=reference_options(app),
        values=values,
        errors=errors,
        own_scope=step.own_scope,
    )


def _summary(fields: list[forms.FormField]) -> list[tuple[str, str]]:
    out = []
    for label, shown in forms.summary(fields):
        out.append((label, shown))
    for i, f in enumerate(fields):
        if f.kind == "date" and f.value:
            out[i] = (f.label, dutch_date(f.value))
    return out


def _form(
    request: Request,
    app: App,
    step: Step,
    values: dict[str, str],
    *,
    comment: str = "",
    home: str = "",
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    errors = dict(errors or {})
    fields = _fields(app, step, values, errors)
    known = {f.name for f in fields} | {"toelichting", HOME_FIELD}
    summary = [(f"veld-{f.name}", f.label, f.error) for f in fields if f.error]
    if HOME_FIELD in errors:
        summary.insert(0, (f"veld-{HOME_FIELD}", "Namens", errors[HOME_FIELD]))
    if "toelichting" in errors:
        summary.append(("veld-toelichting", "Toelichting", errors["toelichting"]))
    other = [f"{k}: {v}" for k, v in errors.items() if k not in known]
    if other and not message:
        message = "; ".join(other)
    return page(
        request,
        "step_form.html",
        {
            "title": step.heading,
            "step": step,
            "fields": fields,
            "comment": comment,
            "home": home,
            "errors": errors,
            "problems": summary,
            "message": message,
        },
        status=status,
    )


def _int(value: object, default: int | None) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default
