"""Server-rendered SVG bar charts: readable in print, with a title and description for screen readers.

Each chart is drawn next to a table with the same figures (the text alternative), so the SVG
carries a short description and no interaction.
"""

from collections.abc import Callable, Sequence
from html import escape
from itertools import count

BAR_HEIGHT = 24
GAP = 8
LABEL_WIDTH = 250
BAR_AREA = 260
VALUE_WIDTH = 130
COLOURS = ("#154273", "#01578a", "#5a2d82", "#2b5e0b", "#8a4b08")  # all ≥ 4.5:1 on white

_ids = count(1)


def bar_chart(
    title: str,
    items: Sequence[tuple[str, float]],
    *,
    value_text: Callable[[float], str] = lambda v: f"{v:g}",
    description: str = "",
) -> str:
    """A horizontal bar chart as an inline `<svg>` string (safe: every text is escaped)."""
    n = next(_ids)
    width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH
    height = max(1, len(items)) * (BAR_HEIGHT + GAP) + GAP
    top = max((v for _, v in items), default=0) or 1
    summary = description or "; ".join(f"{label}: {value_text(v)}" for label, v in items)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'aria-labelledby="grafiek-{n}-titel grafiek-{n}-beschrijving">',
        f'<title id="grafiek-{n}-titel">{escape(title)}</title>',
        f'<desc id="grafiek-{n}-beschrijving">{escape(summary)}</desc>',
    ]
    for i, (label, value) in enumerate(items):
        y = GAP + i * (BAR_HEIGHT + GAP)
        bar = max(0.0, value) / top * BAR_AREA
        colour = COLOURS[i % len(COLOURS)]
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 17}" text-anchor="end" font-size="15" '
            f'fill="#1b1b1b">{escape(_short(label))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{bar:.1f}" height="{BAR_HEIGHT}" fill="{colour}"/>'
            f'<text x="{LABEL_WIDTH + bar + 6:.1f}" y="{y + 17}" font-size="15" '
            f'fill="#1b1b1b">{escape(value_text(value))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _short(label: str, limit: int = 32) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
