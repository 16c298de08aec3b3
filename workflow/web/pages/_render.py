"""Rendering a page: the shared context (user, CSRF token, navigation) and the error page."""

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from workflow.web import queries
from workflow.web.deps import ANON_COOKIE, csrf_token, get_app, page_user, set_cookie
from workflow.web.rendering import render

ANON_COOKIE_AGE = 60 * 60 * 24


def page(request: Request, template: str, context: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    """The rendered template with the context every page shares."""
    auth = page_user(request)
    application = get_app(request)
    can_submit = auth is not None and bool(queries.submit_flows(application.registry, auth.actor))
    shared = {
        "request": request,
        "path": request.url.path,
        "user": auth,
        "csrf": csrf_token(request, auth),
        "region": application.registry.region.name,
        "can_submit": can_submit,
        "is_admin": auth is not None and auth.is_admin,
        "static_v": request.app.state.static_version,
        "nav": context.pop("nav", ""),
    }
    response = HTMLResponse(render(template, {**shared, **context}), status_code=status)
    fresh = getattr(request.state, "new_anon_csrf", None)
    if fresh is not None:
        set_cookie(request, response, ANON_COOKIE, fresh, max_age=ANON_COOKIE_AGE)
    return response


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    titles = {
        400: "Dit verzoek klopt niet",
        401: "Log eerst in",
        403: "Dit mag u niet doen",
        404: "Niet gevonden",
        409: "Dit kan nu niet (meer)",
        422: "Er klopt iets niet in de invoer",
        429: "Te veel pogingen",
        503: "De dienst is nog niet klaar",
    }
    return page(
        request,
        "error.html",
        {"title": titles.get(status, "Er ging iets mis"), "message": message, "status": status},
        status=status,
    )
