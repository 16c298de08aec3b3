"""Validating transition input with pydantic, reporting problems in Dutch per field."""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from workflow.errors import InvalidInput


@dataclass(frozen=True)
class Ref:
    """Marks an input field as a slug of reference data: `Annotated[str, Ref("municipality")]`."""

    table: str


@dataclass(frozen=True)
class Personal:
    """Marks an input field that names a person: `Annotated[str, Personal()]`.

    The event keeps it (the audit trail must), but open-data exports leave it out.
    """


def personal_fields(model: type[BaseModel] | None) -> frozenset[str]:
    """Names of the fields of `model` marked `Personal`."""
    if model is None:
        return frozenset()
    return frozenset(
        name for name, info in model.model_fields.items()
        if any(isinstance(meta, Personal) for meta in info.metadata)
    )


def validate_input(model: type[BaseModel] | None, raw: Mapping[str, Any]) -> BaseModel | None:
    """The validated input, or `InvalidInput` naming every wrong, missing or unknown field."""
    if model is None:
        if raw:
            raise InvalidInput(
                "Deze stap vraagt geen gegevens; laat ze weg: " + ", ".join(sorted(raw)) + ".",
                field_errors={k: "onbekend veld" for k in raw},
            )
        return None
    known = set(model.model_fields)
    unknown = sorted(set(raw) - known)
    errors: dict[str, str] = {k: "onbekend veld" for k in unknown}
    try:
        value = model.model_validate({k: v for k, v in raw.items() if k in known})
    except ValidationError as exc:
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "invoer"
            errors.setdefault(name, dutch_error(err, model))
        value = None
    if errors:
        listing = "; ".join(f"{k}: {v}" for k, v in errors.items())
        fields = ", ".join(f"{n} ({_title(model, n)})" for n in model.model_fields)
        raise InvalidInput(
            f"Ongeldige invoer: {listing}. Velden van deze stap: {fields}.", field_errors=errors
        )
    return value


@cache  # asked in every step; an input model never changes
def refs(model: type[BaseModel] | None) -> dict[str, str]:
    """Field name → reference table, for fields marked with `Ref` (read only: it is shared)."""
    if model is None:
        return {}
    found = {}
    for name, info in model.model_fields.items():
        for meta in info.metadata:
            if isinstance(meta, Ref):
                found[name] = meta.table
    return found


def describe_fields(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    """Name, Dutch title, whether required, and the allowed values of each input field."""
    if model is None:
        return []
    out = []
    for name, info in model.model_fields.items():
        choices = [a for a in get_args(info.annotation) if isinstance(a, str)]
        out.append(
            {
                "name": name,
                "title": info.title or name,
                "required": info.is_required(),
                "description": info.description or "",
                "choices": choices,
            }
        )
    return out


_MESSAGES = {
    "missing": "is verplicht",
    "string_type": "moet tekst zijn",
    "string_too_short": "mag niet leeg zijn",
    "string_too_long": "is te lang",
    "int_parsing": "moet een heel getal zijn",
    "int_type": "moet een heel getal zijn",
    "int_from_float": "moet een heel getal zijn (zonder decimalen)",
    "greater_than_equal": "moet minstens {ge} zijn",
    "greater_than": "moet groter dan {gt} zijn",
    "date_parsing": "moet een datum zijn als JJJJ-MM-DD",
    "date_from_datetime_parsing": "moet een datum zijn als JJJJ-MM-DD",
    "date_type": "moet een datum zijn als JJJJ-MM-DD",
    "bool_parsing": "moet ja of nee zijn",
}


def dutch_error(err: ErrorDetails, model: type[BaseModel]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in ("literal_error", "enum"):
        field = model.model_fields.get(str(err["loc"][0])) if err["loc"] else None
        choices = [str(a) for a in get_args(field.annotation)] if field else []
        return "moet een van deze waarden zijn: " + ", ".join(choices)
    if kind == "value_error":
        # Our validators raise ValueError with a Dutch sentence; pydantic prefixes it.
        return str(ctx.get("error", err["msg"]))
    template = _MESSAGES.get(kind)
    if template:
        return template.format(**ctx)
    return "heeft een ongeldige waarde"


def _title(model: type[BaseModel], name: str) -> str:
    info = model.model_fields[name]
    marker = "" if info.is_required() else ", optioneel"
    return f"{info.title or name}{marker}"
