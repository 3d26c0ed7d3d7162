"""Text longer than its cell: ``overflow: wrap`` (the band grows), ``clip`` or ``ellipsis``.

Both one-line modes keep the row at the height of one line: the cell is a box one line high
(the font's cap height, as Typst's own line box) that clips what does not fit, with room
above and below for accents and descenders. ``clip`` cuts the text at the cell's edge (its
spaces become no-break spaces so that the first line runs to the edge; the cut text stays in
the PDF's text layer). ``ellipsis`` is cut in Polars before Typst sees it: character advance
widths from the shipped fonts (``metrics.py``) give where the text must end so that it and
"…" fit, so no Typst measuring is needed and the text layer holds what is shown.

``wrap`` breaks lines between words; a word wider than its cell (a long code, a URL, a value
without spaces) gets a break opportunity after each of its characters (a zero-width space),
so that it wraps at the cell's edge instead of running past it. Only values with more
characters than the cell can hold at one em each pay for the check.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"s": ["short", "a text much too long for its cell"]})
    >>> frame.select(ellipsized(pl.col("s"), width=60.0, size=8.5, bold=False, italic=False))["s"].to_list()
    ['short', 'a text much t…']
"""

from __future__ import annotations

import functools
import re

import polars as pl

from polarreports.compute.metrics import UNKNOWN_ADVANCE, font_widths, text_font
from polarreports.definition.elements import Element
from polarreports.plan.geometry import wraps

__all__ = ["ELLIPSIS", "ZERO_WIDTH_SPACE", "breakable", "breakable_text", "clipped", "ellipsized", "overflow_text"]

ELLIPSIS = "…"
NO_BREAK_SPACE = "\u00a0"
WORD_JOINER = "\u2060"
ZERO_WIDTH_SPACE = "\u200b"
"""A line-break opportunity that shows nothing: put after each character of a too-wide word."""
WIDEST = 1.0
"""Em width no character of the shipped fonts exceeds (a CJK ideograph, an emoji)."""


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


def _edges(text: pl.Expr, font: str, size: float) -> pl.Expr:
    """Each character's right edge, in points from the start of ``text`` (a list per value)."""
    chars, advances = _table(font)
    return text.str.split("").list.eval(
        pl.element().replace_strict(chars, advances, default=UNKNOWN_ADVANCE, return_dtype=pl.Float64).cum_sum() * size
    )


def text_width(text: pl.Expr, *, size: float, bold: bool, italic: bool) -> pl.Expr:
    """The width (pt) of ``text`` set on one line at ``size`` (kerning left out)."""
    return _edges(text, text_font(bold=bold, italic=italic), size).list.last().fill_null(0.0)


NARROW = "0123456789abcdefghijklnopqrstuvxyz .,:;-'()/"
"""Characters much narrower than an em in every shipped font: a word made of them can be told
to fit its cell without measuring it."""


@functools.cache
def _narrow_advance(font: str) -> float:
    advance = font_widths(font).advance
    return max(advance.get(char, WIDEST) for char in NARROW)


def breakable(text: pl.Expr, *, width: float, size: float, bold: bool, italic: bool) -> pl.Expr:
    """``text`` whose words wider than ``width`` points may break after any character; the
    other words, and values too short to hold such a word, are left as they are."""
    return text.map_batches(
        functools.partial(_break_wide_words, width=width, size=size, bold=bold, italic=italic),
        return_dtype=pl.String,
    )


def _break_wide_words(values: pl.Series, *, width: float, size: float, bold: bool, italic: bool) -> pl.Series:
    """:func:`breakable` on a Series: each step keeps only the values that may still hold a
    word too wide (most stop at the first, a length in bytes), so the others cost nothing."""
    font = text_font(bold=bold, italic=italic)
    narrow = _narrow_advance(font)

    def bound(text: pl.Expr) -> pl.Expr:
        """At most this wide (pt): narrow characters at their widest, the others at an em."""
        count = text.str.count_matches(f"[{re.escape(NARROW)}]")
        return (text.str.len_chars() * WIDEST - count * (WIDEST - narrow)) * size

    frame = values.to_frame("s").with_row_index("i")
    frame = frame.filter(pl.col("s").str.len_bytes() * (WIDEST * size) > width)
    frame = frame.filter(bound(pl.col("s")) > width)
    if frame.is_empty():
        return values
    word = pl.element()
    edges = word.str.split("\n").list.eval(_edges(pl.element(), font, size).list.last().fill_null(0.0))
    broken = word.str.replace_all("(.)", "${1}" + ZERO_WIDTH_SPACE).str.strip_suffix(ZERO_WIDTH_SPACE)
    wide = (bound(word) > width) & (edges.list.max() > width)
    words = pl.col("s").str.split(" ").list.eval(pl.when(wide).then(broken).otherwise(word)).list.join(" ")
    frame = frame.with_columns(words)
    return values.clone().scatter(frame["i"], frame["s"])


def breakable_text(text: str, *, width: float, size: float, bold: bool, italic: bool) -> str:
    """:func:`breakable` for one text of the definition (a label)."""
    if len(text) * size * WIDEST <= width:
        return text
    return str(pl.select(breakable(pl.lit(text), width=width, size=size, bold=bold, italic=italic)).item())


def overflow_text(text: pl.Expr, element: Element, *, width: float, font_size: float) -> pl.Expr:
    """A cell's display string prepared for its ``overflow`` mode (Polars)."""
    if element.overflow == "clip":
        return clipped(text)
    if element.overflow == "ellipsis":
        size = element.size or font_size
        return ellipsized(text, width=width, size=size, bold=bool(element.bold), italic=bool(element.italic))
    if wraps(element) and width > 0:
        size = element.size or font_size
        return breakable(text, width=width, size=size, bold=bool(element.bold), italic=bool(element.italic))
    return text
