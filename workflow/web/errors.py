"""Errors of the web layer (login, CSRF, tokens, idempotency), typed like the engine's."""

from workflow.errors import Conflict, InvalidInput, PermissionDenied, WorkflowError


class NotAuthenticated(WorkflowError):
    code = "niet_ingelogd"
    http_status = 401


class TokenRevoked(NotAuthenticated):
    code = "token_ingetrokken"


class CsrfFailed(PermissionDenied):
    code = "csrf_ongeldig"


class TooManyAttempts(WorkflowError):
    code = "te_veel_pogingen"
    http_status = 429


class IdempotencyKeyReused(InvalidInput):
    """The same Idempotency-Key came back with a different request."""

    code = "idempotentiesleutel_hergebruikt"


class RequestInProgress(Conflict):
    """A request with this Idempotency-Key is still being handled."""

    code = "verzoek_in_behandeling"
