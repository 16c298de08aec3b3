"""The Jinja2 environment of the pages: autoescaped HTML, strict undefined, Dutch dates and amounts."""

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from notifications.render import dutch_date
from workflow.calendar import LOCAL

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

def dutch_datetime(value: datetime | str | None) -> str:
    """`24 november 2026, 14:05` in Dutch local time."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(LOCAL)
    return f"{dutch_date(local.date())}, {local:%H:%M}"


def iso_datetime(value: datetime | None) -> str:
    return value.astimezone(LOCAL).isoformat(timespec="minutes") if value else ""


def euros(value: Any) -> str:
    """`€ 250.000` for whole euros, the Dutch way."""
    if value is None or value == "":
        return ""
    try:
        return "€ " + f"{int(value):,}".replace(",", ".")
    except (TypeError, ValueError):
        return str(value)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["datum"] = dutch_date
    env.filters["datumtijd"] = dutch_datetime
    env.filters["isotijd"] = iso_datetime
    env.filters["euro"] = euros
    return env


def render(template: str, context: dict[str, Any]) -> str:
    return environment().get_template(template).render(context)
