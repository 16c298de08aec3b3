"""Rendering a notification: a Jinja2 pair per notification (`x.txt.j2`, `x.html.j2`) plus subject."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from notifications.ics import deadline_attachment
from workflow.calendar import LOCAL
from workflow.outbox import Rendered

TEMPLATE_DIR = Path(__file__).parent / "templates"

MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)


def dutch_date(value: date | datetime | str | None) -> str:
    """`24 november 2026`; a datetime is first put in Dutch local time."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text[:10])
        except ValueError:
            return text
    if isinstance(value, datetime):
        value = value.astimezone(LOCAL).date()
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def euros(value: int | None) -> str:
    """`€ 250.000` for whole euros, the Dutch way."""
    if value is None:
        return ""
    return "€ " + f"{int(value):,}".replace(",", ".")


def listing(items: Sequence[str]) -> str:
    """`a, b en c`: a list inside a Dutch sentence."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " en " + items[-1]


class TemplateRenderer:
    """Renders `<name>.txt.j2` and `<name>.html.j2`; the subject is the txt's `subject` block."""

    def __init__(self, directory: Path = TEMPLATE_DIR) -> None:
        self.directory = directory
        self.text_env = self._env(autoescape=False)
        self.html_env = self._env(autoescape=True)

    def _env(self, *, autoescape: bool) -> Environment:
        env = Environment(
            auto_reload=False,  # templates ship with the code; no stat() per rendered mail
            loader=FileSystemLoader(self.directory),
            undefined=StrictUndefined,
            autoescape=autoescape,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        env.filters["datum"] = dutch_date
        env.filters["euro"] = euros
        env.filters["opsomming"] = listing
        return env

    def templates(self) -> frozenset[str]:
        """Names with both parts present; a half pair does not count."""
        text = {p.name.removesuffix(".txt.j2") for p in self.directory.glob("*.txt.j2")}
        html = {p.name.removesuffix(".html.j2") for p in self.directory.glob("*.html.j2")}
        return frozenset(n for n in text & html if not n.startswith("_"))

    def render(self, template: str, context: Mapping[str, Any]) -> Rendered:
        text_tmpl = self.text_env.get_template(f"{template}.txt.j2")
        ctx = text_tmpl.new_context(dict(context))
        subject = "".join(text_tmpl.blocks["subject"](ctx))
        text = text_tmpl.render(context)
        html = self.html_env.get_template(f"{template}.html.j2").render(
            {**context, "subject": subject}
        )
        attachment = deadline_attachment(context)
        return Rendered(
            subject=" ".join(subject.split()),
            text=text,
            html=html,
            attachments=(attachment,) if attachment else (),
        )
