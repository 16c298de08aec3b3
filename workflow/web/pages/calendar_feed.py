"""The personal calendar feed: the secret `.ics` URL (no login) and the page to make or revoke it."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from workflow.reports import calendar_feed
from workflow.web.deps import AppDep, CurrentUser, FormDep, check_csrf
from workflow.web.pages._render import page

router = APIRouter(include_in_schema=False)


@router.get("/agenda/{token}.ics")
def feed(app: AppDep, token: str) -> Response:
    body = calendar_feed.feed(app.engine, token, base_url=app.settings.base_url)
    return Response(body, media_type=calendar_feed.CONTENT_TYPE,
                    headers={"Content-Disposition": 'inline; filename="initiatief.ics"'})


@router.get("/account/agenda")
def feed_page(request: Request, app: AppDep, auth: CurrentUser) -> Response:
    return page(request, "calendar_feed.html", {
        "title": "Mijn agenda-link", "nav": "account", "url": None,
        "active": calendar_feed.has_feed(app.engine, auth.user_id),
    })


@router.post("/account/agenda")
def feed_create(request: Request, app: AppDep, auth: CurrentUser, form: FormDep) -> Response:
    check_csrf(request, form, auth)
    token = calendar_feed.create_feed(app.engine, auth.user_id)
    url = f"{app.settings.base_url.rstrip('/')}/agenda/{token}.ics"
    return page(request, "calendar_feed.html", {
        "title": "Mijn agenda-link", "nav": "account", "url": url, "active": True,
    })


@router.post("/account/agenda/intrekken")
def feed_revoke(request: Request, app: AppDep, auth: CurrentUser, form: FormDep) -> Response:
    check_csrf(request, form, auth)
    calendar_feed.revoke_feeds(app.engine, auth.user_id)
    return page(request, "calendar_feed.html", {
        "title": "Mijn agenda-link", "nav": "account", "url": None, "active": False,
        "revoked": True,
    })
