"""The account page: password, e-mail preference and API tokens of the logged-in user."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from workflow.errors import InvalidInput
from workflow.roles import format_grant
from workflow.web import accounts
from workflow.web.deps import AppDep, CurrentUser, FormDep, check_csrf
from workflow.web.pages._render import page

router = APIRouter()


def _account(
    request: Request, app: AppDep, auth: CurrentUser, *, status: int = 200, **extra: Any
) -> Response:
    kinds = app.registry.role_kinds
    context = {
        "title": "Mijn account",
        "nav": "account",
        "roles": sorted(_role_label(format_grant(g, kinds), kinds) for g in auth.actor.grants),
        "tokens": accounts.list_api_tokens(app.db, auth.user_id),
        "notifications": auth.user.email_notifications is not False,
        "has_password": bool(auth.user.password_hash),
        "errors": {},
        "message": None,
        "new_token": None,
        **extra,
    }
    return page(request, "account.html", context, status=status)


def _role_label(token: str, kinds: dict[str, Any]) -> str:
    by_token = {k.token: k for k in kinds.values()}
    head, *scope = token.split(":")
    kind = by_token.get(head)
    label = kind.label if kind else head
    return f"{label} ({', '.join(scope)})" if scope else label


@router.get("/account")
def account(request: Request, app: AppDep, auth: CurrentUser) -> Response:
    saved = request.query_params.get("opgeslagen")
    messages = {
        "wachtwoord": "Uw wachtwoord is gewijzigd.",
        "meldingen": "Uw voorkeur voor e-mail is opgeslagen.",
        "ingetrokken": "Het token is ingetrokken.",
    }
    return _account(request, app, auth, message=messages.get(saved or ""))


@router.post("/account/wachtwoord")
def change_password(request: Request, app: AppDep, auth: CurrentUser, form: FormDep) -> Response:
    check_csrf(request, form, auth)
    new = str(form.get("new_password", ""))
    if new != str(form.get("new_password_repeat", "")):
        return _account(request, app, auth, status=422,
                        errors={"new_password_repeat": "De twee wachtwoorden zijn niet gelijk."})
    try:
        accounts.set_password(
            app.db, auth.user_id, new, current_password=str(form.get("current_password", ""))
        )
    except InvalidInput as exc:
        errors = {("new_password" if k == "password" else k): exc.message for k in exc.field_errors}
        return _account(request, app, auth, status=422, errors=errors or {"new_password": exc.message})
    return RedirectResponse("/account?opgeslagen=wachtwoord", status_code=303)


@router.post("/account/meldingen")
def notifications(request: Request, app: AppDep, auth: CurrentUser, form: FormDep) -> Response:
    check_csrf(request, form, auth)
    accounts.set_email_notifications(app.db, auth.user_id, form.get("email_notifications") == "ja")
    return RedirectResponse("/account?opgeslagen=meldingen", status_code=303)


@router.post("/account/tokens")
def create_token(request: Request, app: AppDep, auth: CurrentUser, form: FormDep) -> Response:
    check_csrf(request, form, auth)
    try:
        token, _row = accounts.create_api_token(app.db, auth.user_id, str(form.get("name", "")))
    except InvalidInput as exc:
        return _account(request, app, auth, status=422, errors={"token_name": exc.message})
    # Shown once, on this response only: it is not stored and never shown again.
    return _account(request, app, auth, new_token=token,
                    message="Uw nieuwe token staat hieronder. Kopieer het nu: het wordt niet meer getoond.")


@router.post("/account/tokens/{token_id:int}/intrekken")
def revoke_token(
    request: Request, app: AppDep, auth: CurrentUser, form: FormDep, token_id: int
) -> Response:
    check_csrf(request, form, auth)
    accounts.revoke_api_token(app.db, token_id, by=auth)
    back = str(form.get("terug", ""))
    target = back if back.startswith("/beheer/") else "/account?opgeslagen=ingetrokken"
    return RedirectResponse(target, status_code=303)
