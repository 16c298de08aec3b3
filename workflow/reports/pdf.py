"""Printable PDF reports (reportlab): a title page block, headings, tables and bar charts.

Built from plain blocks so every report (monitor, council list) prints the same way: A4,
tagged with a title and language, tables that repeat their header row across pages.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO

from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus.doctemplate import BaseDocTemplate

PRIMARY = colors.HexColor("#154273")
STRIPE = colors.HexColor("#f3f3f3")


@dataclass
class Block:
    """One section: a heading, optional text, an optional chart and an optional table."""

    heading: str
    text: str = ""
    header: Sequence[str] = ()
    rows: Sequence[Sequence[str]] = ()
    chart: Sequence[tuple[str, float, str]] = ()  # (label, value, value as text)
    widths: Sequence[float] | None = None  # relative column widths
    empty: str = "Geen gegevens in deze periode."
    numeric: set[int] = field(default_factory=set)  # columns aligned right


def render(title: str, subtitle: str, blocks: Sequence[Block], *, wide: bool = False) -> bytes:
    """The PDF as bytes; `wide` prints landscape (for lists with many columns)."""
    buffer = BytesIO()
    size = landscape(A4) if wide else A4
    doc = SimpleDocTemplate(
        buffer, pagesize=size, title=title, subject=subtitle, author="Initiatief", lang="nl-NL",
        leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
    )
    styles = _styles()
    story: list[Flowable] = [Paragraph(_esc(title), styles["title"]),
                             Paragraph(_esc(subtitle), styles["body"]), Spacer(1, 4 * mm)]
    for block in blocks:
        story.append(Paragraph(_esc(block.heading), styles["h2"]))
        if block.text:
            story.append(Paragraph(_esc(block.text), styles["body"]))
        if block.chart:
            story.append(_chart(block.chart, doc.width))
            story.append(Spacer(1, 2 * mm))
        if block.header:
            if block.rows:
                story.append(_table(block, doc, styles))
            else:
                story.append(Paragraph(_esc(block.empty), styles["body"]))
        story.append(Spacer(1, 4 * mm))
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("titel", parent=base["Title"], textColor=PRIMARY, alignment=0),
        "h2": ParagraphStyle("kop", parent=base["Heading2"], textColor=PRIMARY),
        "body": ParagraphStyle("tekst", parent=base["BodyText"], fontSize=10, leading=13),
        "cell": ParagraphStyle("cel", parent=base["BodyText"], fontSize=8.5, leading=10.5),
        "head": ParagraphStyle("kopcel", parent=base["BodyText"], fontSize=8.5, leading=10.5,
                               fontName="Helvetica-Bold", textColor=colors.white),
    }


def _table(block: Block, doc: BaseDocTemplate, styles: dict[str, ParagraphStyle]) -> LongTable:
    header = [Paragraph(_esc(h), styles["head"]) for h in block.header]
    body = [[Paragraph(_esc(str(c)), styles["cell"]) for c in row] for row in block.rows]
    weights = block.widths or [1.0] * len(block.header)
    total = sum(weights)
    widths = [doc.width * w / total for w in weights]
    table = LongTable([header, *body], colWidths=widths, repeatRows=1)
    commands: list[tuple[object, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), PRIMARY),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
    ]
    commands += [("BACKGROUND", (0, r), (-1, r), STRIPE) for r in range(2, len(body) + 1, 2)]
    table.setStyle(TableStyle(commands))
    return table


def _chart(items: Sequence[tuple[str, float, str]], width: float) -> Drawing:
    bar, gap, label_w, value_w = 11.0, 4.0, width * 0.38, 70.0
    height = len(items) * (bar + gap) + gap
    drawing = Drawing(width, height)
    top = max((v for _, v, _ in items), default=0) or 1
    area = width - label_w - value_w
    for i, (label, value, shown) in enumerate(items):
        y = height - gap - (i + 1) * (bar + gap) + gap
        length = max(0.0, value) / top * area
        drawing.add(String(label_w - 4, y + 2.5, label[:48], fontSize=8, textAnchor="end"))
        drawing.add(Rect(label_w, y, length, bar, fillColor=PRIMARY, strokeColor=None))
        drawing.add(String(label_w + length + 4, y + 2.5, shown, fontSize=8))
    return drawing


def _footer(canvas: object, doc: BaseDocTemplate) -> None:
    canvas.saveState()  # type: ignore[attr-defined]
    canvas.setFont("Helvetica", 8)  # type: ignore[attr-defined]
    canvas.drawRightString(  # type: ignore[attr-defined]
        doc.pagesize[0] - 18 * mm, 10 * mm, f"Pagina {doc.page}"
    )
    canvas.restoreState()  # type: ignore[attr-defined]


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
