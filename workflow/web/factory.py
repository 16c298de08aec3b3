"""The FastAPI application: API and pages on one service layer, scheduler in the lifespan."""

import importlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workflow.app import App
from workflow.errors import WorkflowError
from workflow.web import api, pages
from workflow.web.deps import LoginRequired
from workflow.web.errors import NotAuthenticated
from workflow.web.pages import calendar_feed, council, monitor, public
from workflow.web.pages._render import error_page
from workflow.web.rendering import STATIC_DIR

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; script-src 'self'; "
    # Mermaid writes a <style> element into the diagram it draws.
    "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
STATIC_VERSION = "1"  # part of static URLs, so browsers may keep the files for a year


def create_app(app: App, *, run_scheduler: bool = True) -> FastAPI:
    """The web application for `app`; with `run_scheduler` its lifespan starts the scheduler."""

    @asynccontextmanager
    async def lifespan(web: FastAPI) -> AsyncIterator[None]:
        web.state.scheduler = _start_scheduler(app) if run_scheduler else None
        try:
            yield
        finally:
            scheduler = web.state.scheduler
            if scheduler is not None:
                scheduler.shutdown(wait=False)
                web.state.scheduler = None

    web = FastAPI(
        title="Initiatief API",
        summary="Voorstellen voor meervoudig lokale samenwerking, van fractie tot uitvoering.",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,  # FastAPI's docs page loads from a CDN; ours is rendered here (/api/docs)
        redoc_url=None,
        lifespan=lifespan,
    )
    web.state.initiatief = app
    web.state.scheduler = None
    web.state.static_version = STATIC_VERSION
    web.include_router(api.router)
    web.include_router(pages.router)
    for reports in (monitor, council, public, calendar_feed):  # issue #5: reports and feeds
        web.include_router(reports.router)
    web.mount("/static", CachedStatic(directory=STATIC_DIR), name="static")
    _add_error_handlers(web)
    web.add_middleware(SecurityHeaders)
    return web


def _start_scheduler(app: App) -> Any:
    """Builds and starts the scheduler of `workflow.scheduler` inside the running event loop."""
    try:
        module = importlib.import_module("workflow.scheduler")
    except ModuleNotFoundError as exc:
        if exc.name != "workflow.scheduler":
            raise
        log.warning("workflow.scheduler ontbreekt: de server draait zonder herinneringen en e-mail")
        return None
    scheduler = module.build_scheduler(app)
    scheduler.start()
    return scheduler


# --- errors: JSON under /api, a Dutch page elsewhere ------------------------------------------


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api")


def _add_error_handlers(web: FastAPI) -> None:
    @web.exception_handler(WorkflowError)
    async def workflow_error(request: Request, exc: WorkflowError) -> Response:
        if isinstance(exc, NotAuthenticated) and not _wants_json(request):
            return _to_login(request.url.path)
        if _wants_json(request):
            headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
            return JSONResponse(exc.as_dict(), status_code=exc.http_status, headers=headers)
        return error_page(request, exc.http_status, exc.message)

    @web.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return _to_login(exc.next_path)

    @web.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        fields = {}
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
            fields[".".join(loc) or "verzoek"] = _dutch_validation(err)
        listing = "; ".join(f"{k}: {v}" for k, v in fields.items())
        message = f"Ongeldige invoer: {listing}."
        if _wants_json(request):
            body = {"code": "ongeldige_invoer", "message": message, "fields": fields}
            return JSONResponse(body, status_code=422)
        return error_page(request, 422, message)

    @web.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code, message = {
            404: ("niet_gevonden", "Deze pagina of dit adres bestaat niet."),
            405: ("methode_niet_toegestaan", "Deze methode is hier niet toegestaan."),
        }.get(exc.status_code, ("fout", "Er ging iets mis bij dit verzoek."))
        if _wants_json(request):
            return JSONResponse({"code": code, "message": message}, status_code=exc.status_code)
        return error_page(request, exc.status_code, message)


def _to_login(next_path: str) -> RedirectResponse:
    return RedirectResponse(f"/inloggen?volgende={quote(next_path, safe='/')}", status_code=303)


_VALIDATION_MESSAGES = {
    "missing": "is verplicht",
    "extra_forbidden": "onbekend veld",
    "json_invalid": "is geen geldige JSON",
    "int_parsing": "moet een heel getal zijn",
    "bool_parsing": "moet true of false zijn",
    "string_type": "moet tekst zijn",
    "dict_type": "moet een object zijn",
    "string_too_long": "is te lang",
    "greater_than_equal": "is te klein",
    "less_than_equal": "is te groot",
    "model_attributes_type": "moet een JSON-object zijn",
}


def _dutch_validation(err: Any) -> str:
    return _VALIDATION_MESSAGES.get(str(err.get("type")), "heeft een ongeldige waarde")


# --- middleware and static files ------------------------------------------------------------


class SecurityHeaders:
    """Adds security headers, no-store for personal pages, and Server-Timing (time in the app)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        is_static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                elapsed = (time.perf_counter() - started) * 1000
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"server-timing", f"app;dur={elapsed:.2f}".encode()),
                ]
                if not is_static:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = headers + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CachedStatic(StaticFiles):
    """Static files that browsers may keep: their URLs carry STATIC_VERSION."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["cache-control"] = "public, max-age=31536000, immutable"
        return response
