"""Text longer than its cell: ``overflow: wrap`` (the band grows), ``clip`` or ``ellipsis``.

Both one-line modes keep the row at the height of one line: the cell is a box one line high
(the font's cap height, as Typst's own line box) that clips what does not fit, with room
above and below for accents and descenders. ``clip`` cuts the text at the cell's edge (its
spaces become no-break spaces so that the first line runs to the edge; the cut text stays in
the PDF's text layer). ``ellipsis`` is cut in Polars before Typst sees it: character advance
widths from the shipped fonts (``metrics.py``) give where the text must end so that it and
"…" fit, so no Typst measuring is needed and the text layer holds what is shown.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"s": ["short", "a text much too long for its cell"]})
    >>> frame.select(ellipsized(pl.col("s"), width=60.0, size=8.5, bold=False, italic=False))["s"].to_list()
    ['short', 'a text much t…']
"""

from __future__ import annotations

import functools

import polars as pl

from polarreports.compute.metrics import UNKNOWN_ADVANCE, font_widths, text_font
from polarreports.definition.elements import Element

__all__ = ["ELLIPSIS", "clipped", "ellipsized", "overflow_text"]

ELLIPSIS = "…"
NO_BREAK_SPACE = "\u00a0"
WORD_JOINER = "\u2060"


def clipped(text: pl.Expr) -> pl.Expr:
    """No line-break opportunities before the cell's edge: spaces become no-break spaces and
    a word joiner follows each hyphen."""
    return text.str.replace_all(" ", NO_BREAK_SPACE, literal=True).str.replace_all("-", "-" + WORD_JOINER, literal=True)


@functools.cache
def _table(font: str) -> tuple[pl.Series, pl.Series]:
    advance = font_widths(font).advance
    return pl.Series(list(advance), dtype=pl.String), pl.Series(list(advance.values()), dtype=pl.Float64)


def ellipsized(text: pl.Expr, *, width: float, size: float, bold: bool, italic: bool) -> pl.Expr:
    """``text`` as it fits ``width`` points at ``size``: unchanged if it fits, else cut at
    the last character that leaves room for "…", which ends it."""
    font = text_font(bold=bold, italic=italic)
    chars, advances = _table(font)
    ellipsis = font_widths(font).advance.get(ELLIPSIS, 1.0) * size
    # Each character's right edge, in points from the start of the text.
    edges = text.str.split("").list.eval(
        pl.element().replace_strict(chars, advances, default=UNKNOWN_ADVANCE, return_dtype=pl.Float64).cum_sum() * size
    )
    fits = edges.list.last().fill_null(0.0) <= width
    keep = edges.list.eval((pl.element() <= width - ellipsis).sum()).list.first().fill_null(0)
    cut = text.str.slice(0, keep).str.strip_chars_end() + pl.lit(ELLIPSIS)
    return pl.when(fits | text.is_null()).then(text).otherwise(cut)


def overflow_text(text: pl.Expr, element: Element, *, width: float, font_size: float) -> pl.Expr:
    """A cell's display string prepared for its ``overflow`` mode (Polars)."""
    if element.overflow == "clip":
        return clipped(text)
    if element.overflow == "ellipsis":
        size = element.size or font_size
        return ellipsized(text, width=width, size=size, bold=bool(element.bold), italic=bool(element.italic))
    return text
