"""Dutch formatting of the figures in reports: euros with cents, days, dates."""

from datetime import date, datetime

from notifications.render import dutch_date


def euro_cents(cents: int | None) -> str:
    """`€ 1.234,56` (and `-€ 12,00`): cents as Dutch euros, thousands with dots."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    return f"{sign}€ {whole:,}".replace(",", ".") + f",{rest:02d}"


def days(value: float) -> str:
    """`10 dagen`, `1 dag`, `10,5 dagen`."""
    shown = f"{value:.1f}".replace(".", ",").removesuffix(",0")
    return f"{shown} {'dag' if shown == '1' else 'dagen'}"


def number(value: float) -> str:
    return f"{value:.1f}".replace(".", ",").removesuffix(",0")


def date_text(value: date | datetime | str | None) -> str:
    """`24 november 2026`, or a dash when there is no date."""
    return dutch_date(value) or "–"
