"""Forms built from a step's input model: field kinds, choices with Dutch labels, posted values."""

import datetime as dt
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from workflow.definition import Transition
from workflow.inputs import describe_fields, refs
from workflow.roles import Actor

LONG_TEXT = 300  # a text field allowing more characters than this is a textarea
_CHOICE_LABELS = re.compile(r"^(?P<title>.*?)\s*\((?P<pairs>[^()]*=[^()]*)\)\s*$")
_DATE_HINT = re.compile(r"\s*\((JJJJ-MM-DD)\)\s*$")


@dataclass
class FormField:
    """One input of a step's form, ready for the template."""

    name: str
    label: str
    kind: str  # text | textarea | date | number | select | radio
    required: bool
    hint: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: str = ""
    error: str | None = None
    max_length: int | None = None

    @property
    def dom_id(self) -> str:
        return f"veld-{self.name}"


def build_fields(
    model: type[BaseModel] | None,
    *,
    reference: Mapping[str, list[tuple[str, str]]],
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    own_scope: tuple[str, list[str]] | None = None,
) -> list[FormField]:
    """The fields of `model` in declaration order, with reference options and posted values.

    `reference` maps a reference table (municipality, working_group) to (slug, name) options;
    `own_scope` is (field, slugs) for a field the engine fills from the actor's own role.
    """
    values = values or {}
    errors = errors or {}
    ref_tables = refs(model)
    out: list[FormField] = []
    if model is None:
        return out
    for described in describe_fields(model):
        name = described["name"]
        info = model.model_fields[name]
        label, choices = _label_and_choices(described["title"], described["choices"])
        kind = _kind(info.annotation, _max_length(info))
        if choices:
            kind = "radio"
        if name in ref_tables:
            kind = "select"
            choices = list(reference.get(ref_tables[name], []))
            if own_scope is not None and own_scope[0] == name:
                choices = [c for c in choices if c[0] in own_scope[1]]
        hint = described["description"]
        if kind == "date":
            label = _DATE_HINT.sub("", label)
        if kind == "number":
            hint = hint or "Een bedrag in hele euro's, bijvoorbeeld 250000."
        value = values.get(name, "")
        if not value and kind == "select" and len(choices) == 1 and described["required"]:
            value = choices[0][0]
        out.append(
            FormField(
                name=name,
                label=label,
                kind=kind,
                required=bool(described["required"]),
                hint=hint,
                choices=choices,
                value=value,
                error=errors.get(name),
                max_length=_max_length(info),
            )
        )
    return out


def own_scope(t: Transition, actor: Actor) -> tuple[str, list[str]] | None:
    """The field the engine fills from the actor's role, and the actor's scopes for it."""
    if t.actor_scope_field is None:
        return None
    roles = {a.role for a in t.roles}
    return t.actor_scope_field, sorted({g.scope[0] for g in actor.grants if g.role in roles and g.scope})


def posted_input(model: type[BaseModel] | None, form: Mapping[str, Any]) -> dict[str, str]:
    """The values posted for `model`'s fields; empty optional fields are left out."""
    if model is None:
        return {}
    raw = {}
    for name, info in model.model_fields.items():
        value = str(form.get(name, "") or "").strip()
        if value or info.is_required():
            raw[name] = value
    return raw


def summary(fields: list[FormField]) -> list[tuple[str, str]]:
    """(label, shown value) per field, for the confirmation page."""
    out = []
    for f in fields:
        shown = dict(f.choices).get(f.value, f.value) if f.choices else f.value
        out.append((f.label, shown or "–"))
    return out


def _label_and_choices(title: str, choices: list[str]) -> tuple[str, list[tuple[str, str]]]:
    """"Keuze (join = meedoen, decline = afzien)" → "Keuze", [("join", "meedoen"), ...]."""
    if not choices:
        return title, []
    # Short codes are abbreviations (sok → SOK); longer ones read as words.
    labels = {c: c.upper() if len(c) <= 3 else c.replace("_", " ").capitalize() for c in choices}
    match = _CHOICE_LABELS.match(title)
    if match:
        for pair in match.group("pairs").split(","):
            key, sep, text = pair.partition("=")
            if sep and key.strip() in labels:
                labels[key.strip()] = text.strip()
        title = match.group("title")
    return title, [(c, labels[c]) for c in choices]


def _kind(annotation: Any, max_length: int | None) -> str:
    inner = _unwrap_optional(annotation)
    if inner is dt.date:
        return "date"
    if inner is int:
        return "number"
    if inner is str and (max_length is None or max_length > LONG_TEXT):
        return "textarea"
    return "text"


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _max_length(info: Any) -> int | None:
    for meta in info.metadata:
        value = getattr(meta, "max_length", None)
        if isinstance(value, int):
            return value
    return None
