"""Typed errors with a Dutch message for people and a stable code for machines."""

from collections.abc import Mapping, Sequence
from typing import ClassVar


class WorkflowError(Exception):
    """Base of every error the engine raises on purpose; carries `code` and a Dutch `message`."""

    code: ClassVar[str] = "fout"
    http_status: ClassVar[int] = 400
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, details: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, object] = dict(details or {})

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, **self.details}


class NotFound(WorkflowError):
    code = "niet_gevonden"
    http_status = 404
    exit_code = 6


class PermissionDenied(WorkflowError):
    code = "niet_toegestaan"
    http_status = 403
    exit_code = 3


class Conflict(WorkflowError):
    """The initiative is not where the caller thought it was."""

    code = "conflict"
    http_status = 409
    exit_code = 4


class StaleVersion(Conflict):
    code = "verouderde_versie"


class TransitionNotAllowed(Conflict):
    """The trigger exists but cannot fire from the current state."""

    code = "stap_niet_mogelijk"


class GuardFailed(Conflict):
    """The trigger may fire from this state, but a condition of the flow does not hold."""

    code = "voorwaarde_niet_vervuld"


class InvalidInput(WorkflowError):
    code = "ongeldige_invoer"
    http_status = 422
    exit_code = 5

    def __init__(
        self,
        message: str,
        *,
        field_errors: Mapping[str, str] | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.field_errors: dict[str, str] = dict(field_errors or {})
        if self.field_errors:
            self.details["fields"] = self.field_errors


class UnknownTrigger(InvalidInput):
    code = "onbekende_stap"


class DatabaseNotReady(WorkflowError):
    code = "database_niet_bijgewerkt"
    http_status = 503
    exit_code = 7


class FlowDefinitionError(Exception):
    """A flow that cannot be loaded; the message names the flow and the offending states."""

    def __init__(self, flow: str, problems: Sequence[str]) -> None:
        self.flow = flow
        self.problems = list(problems)
        listing = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"Flow {flow!r} is invalid:\n{listing}")
