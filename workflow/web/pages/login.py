"""Logging in and out: password, one-time e-mailed link, and the first-run page for the first admin."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from workflow.errors import InvalidInput
from workflow.web import accounts
from workflow.web.accounts import SESSION_MAX
from workflow.web.deps import (
    SESSION_COOKIE,
    AppDep,
    FormDep,
    OptionalUser,
    check_csrf,
    client_ip,
    set_cookie,
)
from workflow.web.errors import TooManyAttempts
from workflow.web.pages._render import page

router = APIRouter()


def _safe_next(value: object) -> str:
    """Only a path on this site: never another host (no open redirect)."""
    text = str(value or "")
    if not text.startswith("/") or text.startswith("//") or "\\" in text:
        return "/wacht-op-mij"
    return text


def _logged_in(request: Request, user_id: int, next_path: str) -> Response:
    token = accounts.start_session(request.app.state.initiatief.db, user_id)
    response = RedirectResponse(_safe_next(next_path), status_code=303)
    set_cookie(request, response, SESSION_COOKIE, token, max_age=int(SESSION_MAX.total_seconds()))
    return response


@router.get("/")
def home(auth: OptionalUser) -> Response:
    return RedirectResponse("/wacht-op-mij" if auth else "/inloggen", status_code=303)


@router.get("/inloggen")
def login_form(request: Request, app: AppDep, auth: OptionalUser) -> Response:
    if auth is not None:
        return RedirectResponse("/wacht-op-mij", status_code=303)
    return _login_page(request, app, status=200)


def _login_page(
    request: Request, app: AppDep, *, status: int, error: str | None = None, email: str = "",
    field_errors: dict[str, str] | None = None,
) -> Response:
    return page(
        request,
        "login.html",
        {
            "title": "Inloggen",
            "next": _safe_next(request.query_params.get("volgende")),
            "error": error,
            "errors": field_errors or {},
            "email": email,
            "first_run": accounts.needs_first_admin(app.db),
            "logged_out": request.query_params.get("uitgelogd") == "1",
        },
        status=status,
    )


@router.post("/inloggen")
def login(request: Request, app: AppDep, form: FormDep) -> Response:
    check_csrf(request, form, None)
    email = str(form.get("email", "")).strip()
    next_path = _safe_next(form.get("volgende"))
    try:
        user = accounts.login_with_password(
            app.db, email, str(form.get("password", "")), ip=client_ip(request)
        )
    except TooManyAttempts as exc:
        return _login_page(request, app, status=429, error=exc.message, email=email)
    except InvalidInput as exc:
        return _login_page(
            request, app, status=401, error=exc.message, email=email,
            field_errors={"password": exc.message},
        )
    if user.id is None:
        raise RuntimeError("user has no id")
    return _logged_in(request, user.id, next_path)


@router.post("/inloggen/link")
def request_link(request: Request, app: AppDep, form: FormDep) -> Response:
    check_csrf(request, form, None)
    email = str(form.get("link_email", "")).strip()
    try:
        accounts.request_login_link(app, email, ip=client_ip(request))
    except TooManyAttempts as exc:
        return _login_page(request, app, status=429, error=exc.message, email=email)
    except InvalidInput as exc:
        return _login_page(
            request, app, status=422, error=exc.message, email=email,
            field_errors={"link_email": exc.message},
        )
    return page(request, "link_sent.html", {"title": "Kijk in uw e-mail", "email": email})


@router.get("/inloggen/link/{token}")
def link_confirm(request: Request, app: AppDep, token: str) -> Response:
    try:
        accounts.peek_login_link(app.db, token)
    except InvalidInput as exc:
        return page(request, "error.html",
                    {"title": "Deze link werkt niet meer", "message": exc.message, "status": 410},
                    status=410)
    # A button, not an automatic login: mail scanners open links and must not use them up.
    return page(request, "link_confirm.html", {"title": "Inloggen met uw link", "token": token})


@router.post("/inloggen/link/{token}")
def link_login(request: Request, app: AppDep, form: FormDep, token: str) -> Response:
    check_csrf(request, form, None)
    try:
        user = accounts.consume_login_link(app.db, token)
    except InvalidInput as exc:
        return page(request, "error.html",
                    {"title": "Deze link werkt niet meer", "message": exc.message, "status": 410},
                    status=410)
    if user.id is None:
        raise RuntimeError("user has no id")
    return _logged_in(request, user.id, "/wacht-op-mij")


@router.post("/uitloggen")
def logout(request: Request, app: AppDep, form: FormDep, auth: OptionalUser) -> Response:
    check_csrf(request, form, auth)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.end_session(app.db, token)
    response = RedirectResponse("/inloggen?uitgelogd=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


# --- first run ----------------------------------------------------------------------------


@router.get("/eerste-keer/{token}")
def setup_form(request: Request, app: AppDep, token: str) -> Response:
    try:
        accounts.check_setup_link(app.db, token)
    except InvalidInput as exc:
        return page(request, "error.html",
                    {"title": "Deze link werkt niet meer", "message": exc.message, "status": 410},
                    status=410)
    return page(request, "setup.html",
                {"title": "Eerste beheerder aanmaken", "token": token, "values": {}, "errors": {},
                 "error": None})


@router.post("/eerste-keer/{token}")
def setup(request: Request, app: AppDep, form: FormDep, token: str) -> Response:
    check_csrf(request, form, None)
    values = {k: str(form.get(k, "")).strip() for k in ("name", "email")}
    password = str(form.get("password", ""))
    errors: dict[str, str] = {}
    if password != str(form.get("password_repeat", "")):
        errors["password_repeat"] = "De twee wachtwoorden zijn niet gelijk."
    if not errors:
        try:
            user = accounts.create_first_admin(
                app, token, name=values["name"], email=values["email"], password=password
            )
        except InvalidInput as exc:
            if not exc.field_errors:
                return page(request, "setup.html",
                            {"title": "Eerste beheerder aanmaken", "token": token, "values": values,
                             "errors": {}, "error": exc.message}, status=422)
            errors = {name: exc.message for name in exc.field_errors}
        else:
            if user.id is None:
                raise RuntimeError("user has no id")
            return _logged_in(request, user.id, "/beheer/gebruikers")
    return page(request, "setup.html",
                {"title": "Eerste beheerder aanmaken", "token": token, "values": values,
                 "errors": errors, "error": "Controleer de gemarkeerde velden."}, status=422)
