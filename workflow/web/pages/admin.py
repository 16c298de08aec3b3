"""Admin pages: users with their roles and tokens, and the reference data."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from workflow import frameworks, services
from workflow.errors import InvalidInput, NotFound
from workflow.models import User
from workflow.roles import RoleKind
from workflow.web import accounts, admin, queries
from workflow.web.deps import AdminUser, AppDep, FormDep, check_csrf, client_ip
from workflow.web.errors import TooManyAttempts
from workflow.web.pages._render import page

router = APIRouter(prefix="/beheer")

SAVED = {
    "gebruiker": "De gebruiker is opgeslagen.",
    "link": "Er is een inloglink naar de gebruiker gestuurd.",
    "referentie": "De referentiegegevens zijn opgeslagen.",
}


def _role_help(kinds: dict[str, RoleKind]) -> list[str]:
    return [":".join((k.token, *(f"<{p}>" for p in k.scope_parts))) for k in kinds.values()]


@router.get("")
def index() -> Response:
    return RedirectResponse("/beheer/gebruikers", status_code=303)


# --- users ----------------------------------------------------------------------------------


def _users(request: Request, app: AppDep, *, status: int = 200, **extra: Any) -> Response:
    context = {
        "title": "Gebruikers",
        "nav": "admin",
        "users": services.list_users(app.db, app.registry),
        "role_help": _role_help(app.registry.role_kinds),
        "values": {},
        "errors": {},
        "error": None,
        "message": SAVED.get(request.query_params.get("opgeslagen") or ""),
        **extra,
    }
    return page(request, "admin_users.html", context, status=status)


@router.get("/gebruikers")
def users(request: Request, app: AppDep, auth: AdminUser) -> Response:
    return _users(request, app)


@router.post("/gebruikers")
def add_user(request: Request, app: AppDep, auth: AdminUser, form: FormDep) -> Response:
    check_csrf(request, form, auth)
    values = {k: str(form.get(k, "")) for k in ("name", "email", "roles")}
    try:
        services.add_user(
            app.db, app.registry, name=values["name"], email=values["email"],
            roles=admin.parse_roles(values["roles"]),
        )
    except InvalidInput as exc:
        return _users(request, app, status=422, values=values, error=exc.message)
    return RedirectResponse("/beheer/gebruikers?opgeslagen=gebruiker", status_code=303)


def _user(
    request: Request, app: AppDep, user_id: int, *, status: int = 200, **extra: Any
) -> Response:
    found = next((u for u in services.list_users(app.db, app.registry) if u["id"] == user_id), None)
    if found is None:
        raise NotFound(f"Gebruiker {user_id} bestaat niet.")
    with app.db.read() as session:
        row = session.get(User, user_id)
        active = bool(row and row.active)
    context = {
        "title": f"Gebruiker {found['name']}",
        "nav": "admin",
        "u": found,
        "active": active,
        "values": {"name": found["name"], "email": found["email"], "roles": "\n".join(found["roles"])},
        "tokens": accounts.list_api_tokens(app.db, user_id),
        "role_help": _role_help(app.registry.role_kinds),
        "error": None,
        "message": SAVED.get(request.query_params.get("opgeslagen") or ""),
        **extra,
    }
    return page(request, "admin_user.html", context, status=status)


@router.get("/gebruikers/{user_id:int}")
def user(request: Request, app: AppDep, auth: AdminUser, user_id: int) -> Response:
    return _user(request, app, user_id)


@router.post("/gebruikers/{user_id:int}")
def save_user(request: Request, app: AppDep, auth: AdminUser, form: FormDep, user_id: int) -> Response:
    check_csrf(request, form, auth)
    values = {k: str(form.get(k, "")) for k in ("name", "email", "roles")}
    active = form.get("active") == "ja"
    if user_id == auth.user_id and not active:
        return _user(request, app, user_id, status=422, values=values,
                     error="U kunt uw eigen account niet uitschakelen.")
    try:
        admin.update_user(
            app.db, app.registry, user_id, name=values["name"], email=values["email"],
            roles=admin.parse_roles(values["roles"]), active=active,
        )
    except InvalidInput as exc:
        return _user(request, app, user_id, status=422, values=values, error=exc.message)
    return RedirectResponse(f"/beheer/gebruikers/{user_id}?opgeslagen=gebruiker", status_code=303)


@router.post("/gebruikers/{user_id:int}/inloglink")
def send_link(request: Request, app: AppDep, auth: AdminUser, form: FormDep, user_id: int) -> Response:
    check_csrf(request, form, auth)
    found = next((u for u in services.list_users(app.db, app.registry) if u["id"] == user_id), None)
    if found is None:
        raise NotFound(f"Gebruiker {user_id} bestaat niet.")
    try:
        accounts.request_login_link(app, found["email"], ip=client_ip(request))
    except TooManyAttempts as exc:
        return _user(request, app, user_id, status=429, error=exc.message)
    return RedirectResponse(f"/beheer/gebruikers/{user_id}?opgeslagen=link", status_code=303)


# --- reference data ---------------------------------------------------------------------------


def _reference(request: Request, app: AppDep, *, status: int = 200, **extra: Any) -> Response:
    context = {
        "title": "Referentiegegevens",
        "nav": "admin",
        "ref": queries.reference(app.engine),
        "task_sheets": frameworks.task_sheets(app.db),
        "errors": {},
        "error": None,
        "values": {},
        "message": SAVED.get(request.query_params.get("opgeslagen") or ""),
        **extra,
    }
    return page(request, "admin_reference.html", context, status=status)


def _saved() -> Response:
    return RedirectResponse("/beheer/referentie?opgeslagen=referentie", status_code=303)


@router.get("/referentie")
def reference(request: Request, app: AppDep, auth: AdminUser) -> Response:
    return _reference(request, app)


@router.post("/referentie/gemeenten")
def save_municipality(request: Request, app: AppDep, auth: AdminUser, form: FormDep) -> Response:
    check_csrf(request, form, auth)
    values = {k: str(form.get(k, "")) for k in ("slug", "name", "inhabitants", "region", "bloc")}
    try:
        admin.save_municipality(app.db, **values)
    except InvalidInput as exc:
        return _reference(request, app, status=422, values=values, errors=exc.field_errors,
                          error=exc.message)
    return _saved()


@router.post("/referentie/werkgroepen")
def save_group(request: Request, app: AppDep, auth: AdminUser, form: FormDep) -> Response:
    check_csrf(request, form, auth)
    values = {k: str(form.get(k, "")) for k in ("group_slug", "group_name", "theme")}
    try:
        admin.save_working_group(
            app.db, slug=values["group_slug"], name=values["group_name"], theme=values["theme"]
        )
    except InvalidInput as exc:
        return _reference(request, app, status=422, values=values, errors=exc.field_errors,
                          error=exc.message)
    return _saved()


@router.post("/referentie/werkgroepen/{slug}/leden")
def save_members(request: Request, app: AppDep, auth: AdminUser, form: FormDep, slug: str) -> Response:
    check_csrf(request, form, auth)
    members = [str(v) for v in form.getlist("leden")]
    try:
        admin.set_members(app.db, slug, members)
    except InvalidInput as exc:
        return _reference(request, app, status=422, error=exc.message)
    return _saved()


@router.post("/referentie/recessen")
def add_recess(request: Request, app: AppDep, auth: AdminUser, form: FormDep) -> Response:
    check_csrf(request, form, auth)
    values = {k: str(form.get(k, "")) for k in ("recess_name", "start", "end")}
    try:
        admin.add_recess(app.db, name=values["recess_name"], start=values["start"], end=values["end"])
    except InvalidInput as exc:
        return _reference(request, app, status=422, values=values, errors=exc.field_errors,
                          error=exc.message)
    return _saved()


@router.post("/referentie/recessen/{recess_id:int}/verwijderen")
def delete_recess(
    request: Request, app: AppDep, auth: AdminUser, form: FormDep, recess_id: int
) -> Response:
    check_csrf(request, form, auth)
    admin.delete_recess(app.db, recess_id)
    return _saved()


# --- task sheets (opgavebladen) ---------------------------------------------------------------


@router.post("/referentie/opgavebladen")
def save_task_sheet(request: Request, app: AppDep, auth: AdminUser, form: FormDep) -> Response:
    check_csrf(request, form, auth)
    values = {k: str(form.get(k, "")) for k in ("sheet_theme", "sheet_year", "budget")}
    try:
        frameworks.save_task_sheet(app.db, theme=values["sheet_theme"], year=values["sheet_year"],
                                   budget=values["budget"])
    except InvalidInput as exc:
        names = {"theme": "sheet_theme", "year": "sheet_year"}
        errors = {names.get(k, k): v for k, v in exc.field_errors.items()}
        return _reference(request, app, status=422, values=values, errors=errors, error=exc.message)
    return _saved()


@router.post("/referentie/kernopgaven")
def save_core_task(request: Request, app: AppDep, auth: AdminUser, form: FormDep) -> Response:
    check_csrf(request, form, auth)
    values = {k: str(form.get(k, "")) for k in ("task_theme", "task_year", "code", "task_name")}
    try:
        frameworks.save_core_task(app.db, theme=values["task_theme"], year=values["task_year"],
                                  code=values["code"], name=values["task_name"])
    except InvalidInput as exc:
        names = {"theme": "task_theme", "year": "task_year", "name": "task_name"}
        errors = {names.get(k, k): v for k, v in exc.field_errors.items()}
        return _reference(request, app, status=422, values=values, errors=errors, error=exc.message)
    return _saved()
