"""Request dependencies: the app, who is asking (session cookie or Bearer token), CSRF checks."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import FormData
from starlette.responses import Response

from workflow.app import App
from workflow.errors import PermissionDenied
from workflow.web import accounts, security
from workflow.web.accounts import Authenticated
from workflow.web.errors import CsrfFailed, NotAuthenticated

SESSION_COOKIE = "initiatief_sessie"
ANON_COOKIE = "initiatief_csrf"  # double-submit token for forms used before logging in
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="Een API-token (maak er een aan op de accountpagina of met `initiatief tokens create`).",
)


class LoginRequired(Exception):
    """A page needs a logged-in user; answered with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def get_app(request: Request) -> App:
    application: App = request.app.state.initiatief
    return application


async def app_dependency(request: Request) -> App:
    """`get_app` for `Depends`: async because it does no I/O, so FastAPI calls it in the
    request's own task instead of handing it to the thread pool (a hop per request)."""
    return get_app(request)


AppDep = Annotated[App, Depends(app_dependency)]


async def form_data(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(form_data)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "onbekend"


def uses_https(request: Request) -> bool:
    return request.url.scheme == "https" or get_app(request).settings.base_url.startswith("https://")


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int) -> None:
    """Every cookie we set: HttpOnly, SameSite=Lax, Secure when served over https."""
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="lax",
        secure=uses_https(request), path="/",
    )


# --- one read transaction per page request ----------------------------------------------------


async def shared_reads(request: Request) -> AsyncIterator[None]:
    """GET and HEAD requests read in one transaction (see `Database.shared_reads`).

    Async, so that it runs in the request's own task: the thread-pool calls after it (the other
    dependencies, the page) get a copy of the context that holds the shared transaction."""
    if request.method not in ("GET", "HEAD"):
        yield
        return
    # Ending the shared read costs no round trip (SQLite; PostgreSQL reads in autocommit), so it
    # ends here rather than in one more hop to the thread pool.
    with get_app(request).db.shared_reads():
        yield


# --- pages: session cookie only -------------------------------------------------------------


def page_user(request: Request) -> Authenticated | None:
    """The logged-in user of a page request, or None; looked up once per request."""
    if hasattr(request.state, "auth"):
        found: Authenticated | None = request.state.auth
        return found
    token = request.cookies.get(SESSION_COOKIE)
    auth = accounts.load_session(get_app(request).db, token) if token else None
    request.state.auth = auth
    return auth


def require_user(request: Request) -> Authenticated:
    auth = page_user(request)
    if auth is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return auth


def require_admin(request: Request) -> Authenticated:
    auth = require_user(request)
    if not auth.is_admin:
        raise PermissionDenied("Deze pagina is alleen voor beheerders.")
    return auth


OptionalUser = Annotated[Authenticated | None, Depends(page_user)]
CurrentUser = Annotated[Authenticated, Depends(require_user)]
AdminUser = Annotated[Authenticated, Depends(require_admin)]


def csrf_token(request: Request, auth: Authenticated | None) -> str:
    """The token a page puts in its forms: the session's, or the anonymous cookie's."""
    if auth is not None and auth.session is not None:
        return auth.session.csrf_token
    existing = request.cookies.get(ANON_COOKIE)
    if existing:
        return existing
    fresh: str | None = getattr(request.state, "new_anon_csrf", None)
    if fresh is None:
        fresh = security.new_token(24)
        request.state.new_anon_csrf = fresh
    return fresh


def check_csrf(request: Request, form: FormData | dict[str, Any], auth: Authenticated | None) -> None:
    """Refuses a form post whose token does not match the session (or the anonymous cookie)."""
    sent = form.get(CSRF_FIELD)
    expected = (
        auth.session.csrf_token
        if auth is not None and auth.session is not None
        else request.cookies.get(ANON_COOKIE)
    )
    if not isinstance(sent, str) or not security.same(sent, expected):
        raise CsrfFailed(
            "Het formulier is verlopen of niet van deze site afkomstig. "
            "Laad de pagina opnieuw en probeer het nog eens."
        )


# --- the API: Bearer token, or a session cookie with the CSRF header on writes ---------------------


def api_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Authenticated:
    application = get_app(request)
    header = request.headers.get("authorization")
    if header:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise NotAuthenticated("Stuur het token mee als 'Authorization: Bearer <token>'.")
        return accounts.authenticate_token(application.db, credentials.credentials)
    cookie = request.cookies.get(SESSION_COOKIE)
    auth = accounts.load_session(application.db, cookie) if cookie else None
    if auth is None:
        raise NotAuthenticated(
            "U bent niet ingelogd. Stuur een API-token mee als 'Authorization: Bearer <token>'."
        )
    if request.method not in SAFE_METHODS and auth.session is not None and not security.same(
        request.headers.get(CSRF_HEADER), auth.session.csrf_token
    ):
        raise CsrfFailed(f"Een schrijvend verzoek met een sessiecookie vraagt de kop {CSRF_HEADER}.")
    return auth


ApiUser = Annotated[Authenticated, Depends(api_user)]
