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
characters than the cell can hold at one em each pay for the check. Where the cell hyphenates
(``hyphenation_language``), such a word of letters breaks at its hyphenation points in the
report's language instead (soft hyphens, from pyphen's dictionaries), and after any character
only in a piece still wider than the cell; a code, a number or a URL never gets a hyphen.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"s": ["short", "a text much too long for its cell"]})
    >>> frame.select(ellipsized(pl.col("s"), width=60.0, size=8.5, bold=False, italic=False))["s"].to_list()
    ['short', 'a text much t…']
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Callable

import polars as pl
import pyphen

from polarreports.compute.metrics import UNKNOWN_ADVANCE, font_widths, text_font
from polarreports.definition.elements import Barcode, Box, Chart, Crosstab, Element, Image, Label, Line
from polarreports.plan.geometry import is_placed, wraps
from polarreports.plan.model import BandPlan, ReportPlan
from polarreports.units import to_points

__all__ = [
    "ELLIPSIS",
    "ZERO_WIDTH_SPACE",
    "breakable",
    "breakable_text",
    "clipped",
    "cut_cells",
    "cut_message",
    "ellipsized",
    "hyphenation_language",
    "overflow_text",
    "word_breaker",
]

ELLIPSIS = "…"
NO_BREAK_SPACE = "\u00a0"
WORD_JOINER = "\u2060"
SOFT_HYPHEN = "\u00ad"
"""A hyphenation point: a break there shows a hyphen; elsewhere it shows nothing."""
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


NARROW = "0123456789abcdefghijklnopqrstuvxyz .,:;-'()/"
"""Characters much narrower than an em in every shipped font: a word made of them can be told
to fit its cell without measuring it."""


NARROW_ADVANCE = 0.7
"""Em width no character of ``NARROW`` exceeds in the shipped fonts (the bold digits, 0.69):
a constant, so that the bound needs no font read (``test_text_loss`` checks it)."""


def hyphenation_language(element: Element, *, hyphenate: bool | str, locale: str) -> str | None:
    """The language (a pyphen dictionary) whose hyphenation points the wrapped text of
    ``element`` breaks at, given the report's ``hyphenate`` and ``locale``; None where it does
    not hyphenate, or no dictionary has the language.

    >>> from polarreports.definition.elements import Label
    >>> hyphenation_language(Label(text="x", align="justify"), hyphenate="auto", locale="de_DE")
    'de_DE'
    >>> hyphenation_language(Label(text="x"), hyphenate="auto", locale="de_DE") is None
    True
    """
    if element.overflow != "wrap" or hyphenate is False or (hyphenate == "auto" and element.align != "justify"):
        return None
    language: str | None = pyphen.language_fallback(locale.replace("-", "_"))
    return language


_LETTERS = re.compile(r"[\"'(«„“‘]*[^\W\d_]+(?:['’-][^\W\d_]+)*[\"')»“”’.,;:!?]*")
"""A word to hyphenate: letters (an apostrophe or a hyphen between them), with quotes or
punctuation around them; anything else (a code, a number, a URL) breaks without a hyphen."""


@functools.cache
def _dictionary(language: str) -> pyphen.Pyphen:
    return pyphen.Pyphen(lang=language)


def breakable(
    text: pl.Expr, *, width: float, size: float, bold: bool, italic: bool, language: str | None = None
) -> pl.Expr:
    """``text`` whose words wider than ``width`` points may break after any character (at
    their hyphenation points in ``language`` first, when given); the other words, and values
    too short to hold such a word, are left as they are."""
    return text.map_batches(
        functools.partial(_break_wide_words, width=width, size=size, bold=bold, italic=italic, language=language),
        return_dtype=pl.String,
    )


def _bounded(values: pl.Series, width: float, size: float) -> pl.DataFrame:
    """The values (``i``: their position, ``s``) that may be wider than ``width`` points.
    Cheap bounds tell most that are not without measuring them: their bytes at an em each,
    then their characters at ``NARROW_ADVANCE``, but those not in ``NARROW`` at an em (few,
    so counting them is quick)."""
    text = pl.col("s")
    frame = values.to_frame("s").with_row_index("i").filter(text.str.len_bytes() * (WIDEST * size) > width)
    wide = text.str.count_matches(f"[^{re.escape(NARROW)}]")
    return frame.filter((text.str.len_chars() * NARROW_ADVANCE + wide * (WIDEST - NARROW_ADVANCE)) * size > width)


FEW_IN_PYTHON = 2_000
"""Up to this many values, :func:`breakable` bounds them in Python rather than in a query."""
_NARROW_SET = frozenset(NARROW)


def _may_be_wider(text: str, width: float, size: float) -> bool:
    """:func:`_bounded`'s two bounds for one text, in Python (the same arithmetic, in the same
    order, so the same answer).

    >>> _may_be_wider("1,234.50", 60.0, 8.5), _may_be_wider("WWWWWWWWWW", 60.0, 8.5)
    (False, True)
    """
    if not len(text.encode()) * (WIDEST * size) > width:
        return False
    wide = sum(1 for char in text if char not in _NARROW_SET)
    return (len(text) * NARROW_ADVANCE + wide * (WIDEST - NARROW_ADVANCE)) * size > width


def _width(text: str, advance: dict[str, float], size: float) -> float:
    """The width (pt) of one line of ``text`` (kerning left out)."""
    return sum(advance.get(char, UNKNOWN_ADVANCE) for char in text) * size


def _break_wide_words(
    values: pl.Series, *, width: float, size: float, bold: bool, italic: bool, language: str | None
) -> pl.Series:
    """:func:`breakable` on a Series: only the few values that may hold a word too wide are
    measured (in Python, character by character), the others cost a length and a count (a
    few values: all in Python, as a query costs more than their bounds)."""
    if len(values) <= FEW_IN_PYTHON:
        texts = values.to_list()
        broken = [
            text
            if text is None or not _may_be_wider(text, width, size)
            else _broken_words(text, width=width, size=size, bold=bold, italic=italic, language=language)
            for text in texts
        ]
        return values if broken == texts else pl.Series(values.name, broken, dtype=pl.String)
    longest = values.str.len_bytes().max()
    if longest is None or longest * (WIDEST * size) <= width:  # type: ignore[operator]
        return values  # none can hold a word too wide (``_bounded``'s first bound), without a query
    frame = _bounded(values, width, size)
    if frame.is_empty():
        return values
    texts = [
        _broken_words(text, width=width, size=size, bold=bold, italic=italic, language=language) for text in frame["s"]
    ]
    return values.clone().scatter(frame["i"], pl.Series("s", texts, dtype=pl.String))


def _broken_words(
    text: str, *, width: float, size: float, bold: bool, italic: bool, language: str | None = None
) -> str:
    """``text`` whose words wider than ``width`` points may break after any character (or at
    their hyphenation points in ``language``). A word of at most ``width / size`` characters
    fits whatever they are: only longer ones are found (one regular expression) and measured."""
    long_word = re.compile(f"[^ \\n]{{{int(width / (WIDEST * size)) + 1},}}")
    if long_word.search(text) is None:
        return text
    advance = font_widths(text_font(bold=bold, italic=italic)).advance

    def broken(match: re.Match[str]) -> str:
        word = match.group()
        if _width(word, advance, size) <= width:
            return word
        if language is None or not _LETTERS.fullmatch(word):  # a code, a number, a URL: no hyphen
            return ZERO_WIDTH_SPACE.join(word)
        return _hyphenated(word, _dictionary(language), advance, width=width, size=size)

    return long_word.sub(broken, text)


def _hyphenated(word: str, dictionary: pyphen.Pyphen, advance: dict[str, float], *, width: float, size: float) -> str:
    """``word`` with a soft hyphen at each of its hyphenation points; a piece wider than
    ``width`` with its hyphen may also break after any of its characters.

    >>> _hyphenated("Donaudampfschifffahrt", _dictionary("de_DE"), {}, width=1e9, size=10.0).split(SOFT_HYPHEN)
    ['Do', 'nau', 'dampf', 'schiff', 'fahrt']
    """
    points = [0, *dictionary.positions(word), len(word)]
    hyphen = advance.get("-", UNKNOWN_ADVANCE) * size
    pieces = []
    for start, end in itertools.pairwise(points):
        piece = word[start:end]
        fits = _width(piece, advance, size) + (hyphen if end < len(word) else 0.0) <= width
        pieces.append(piece if fits else ZERO_WIDTH_SPACE.join(piece))
    return SOFT_HYPHEN.join(pieces)


def breakable_text(
    text: str, *, width: float, size: float, bold: bool, italic: bool, language: str | None = None
) -> str:
    """:func:`breakable` for one text of the definition (a label), without a Polars query."""
    if len(text) * size * WIDEST <= width:
        return text
    return _broken_words(text, width=width, size=size, bold=bold, italic=italic, language=language)


def overflow_text(
    text: pl.Expr,
    element: Element,
    *,
    width: float,
    font_size: float,
    words: bool = True,
    language: str | None = None,
) -> pl.Expr:
    """A cell's display string prepared for its ``overflow`` mode (Polars). ``words``: the value
    is text, whose words may break where wider than the cell (at their hyphenation points in
    ``language``, when given); a formatted number or date (``words=False``) is never broken, as
    a figure is read whole."""
    if element.overflow == "clip":
        return clipped(text)
    if element.overflow == "ellipsis":
        size = element.size or font_size
        return ellipsized(text, width=width, size=size, bold=bool(element.bold), italic=bool(element.italic))
    breaker = word_breaker(element, width=width, font_size=font_size, words=words, language=language)
    return text if breaker is None else text.map_batches(breaker, return_dtype=pl.String)


def word_breaker(
    element: Element, *, width: float, font_size: float, words: bool = True, language: str | None = None
) -> Callable[[pl.Series], pl.Series] | None:
    """What :func:`overflow_text` maps a cell's display strings through where it breaks their
    wide words (:func:`breakable`), as a function of a Series; None where it does not (for a
    Series at hand, without a query)."""
    if element.overflow in ("clip", "ellipsis") or not (words and wraps(element) and width > 0):
        return None
    size = element.size or font_size
    bold, italic = bool(element.bold), bool(element.italic)
    return functools.partial(_break_wide_words, width=width, size=size, bold=bold, italic=italic, language=language)


# -- what is cut ---------------------------------------------------------------------------


CLIPPED = "clipped at the cell's edge (overflow: clip)"
ELLIPSIZED = 'cut to end in "…" (overflow: ellipsis)'
HEIGHT_CUT = "taller than its fixed height, cut off"


def _wider(values: pl.Series, width: float, size: float, font: str) -> pl.Series:
    """Whether each text (one line) is wider than ``width`` points."""
    frame = _bounded(values, width, size)
    if frame.is_empty():
        return pl.Series("w", [False] * len(values), dtype=pl.Boolean)
    advance = font_widths(font).advance
    wider = pl.Series("w", [_width(text, advance, size) > width for text in frame["s"]], dtype=pl.Boolean)
    return pl.Series("w", [False] * len(values), dtype=pl.Boolean).scatter(frame["i"], wider)


def _too_tall(values: pl.Series, width: float, size: float, font: str, height: float) -> pl.Series:
    """Whether each text, wrapped in ``width`` points, needs more lines than ``height`` holds:
    an estimate from its width (each paragraph takes its width over the cell's, rounded up;
    words are not moved whole), so a text that just fits may be missed."""
    lines = max(int((height + 0.45 * size) / (size * LINE_PITCH)), 1)
    text = pl.col("s")
    paragraphs = text.str.count_matches("\n", literal=True) + 1
    frame = values.to_frame("s").with_row_index("i")
    # at most its bytes at an em each over the width, plus one line per paragraph
    frame = frame.filter(text.str.len_bytes() * (WIDEST * size) / max(width, 1.0) + paragraphs > lines)
    if frame.is_empty():
        return pl.Series("t", [False] * len(values), dtype=pl.Boolean)
    advance = font_widths(font).advance
    needed = [
        sum(max(math.ceil(_width(line, advance, size) / max(width, 1.0)), 1) for line in value.split("\n"))
        for value in frame["s"]
    ]
    tall = pl.Series("t", [count > lines for count in needed], dtype=pl.Boolean)
    return pl.Series("t", [False] * len(values), dtype=pl.Boolean).scatter(frame["i"], tall)


LINE_PITCH = 0.7273 + 0.45
"""From one text line's top to the next one's, in em (as ``plan.geometry.LINE_PITCH_EM``)."""


def cut_cells(plan: ReportPlan, band: BandPlan, cells: pl.Series) -> dict[tuple[str, str], int]:
    """Of the instances of ``band`` (``cells``: each one's display strings), how many have
    text cut, per element: ``(element where, how)`` -> rows. Clipped and ellipsized text, and
    text taller than a fixed height (the band's, or a placed element's) count; a label counts
    in every instance it is cut in."""
    page = plan.page
    definition = band.band
    placed = is_placed(definition)
    shown = band.shown_cells
    widths = dict(zip((id(c) for c in shown), band.widths, strict=True))
    index = {id(cell): i for i, cell in enumerate(band.data_cells)}
    found: dict[tuple[str, str], int] = {}
    for cell in shown:
        element = cell.element
        if isinstance(element, Barcode | Box | Chart | Crosstab | Image | Line) or (
            cell.value is None and not isinstance(element, Label)
        ):
            continue
        size = element.size or page.font_size
        font = text_font(bold=bool(element.bold), italic=bool(element.italic))
        width = to_points(element.width, whole=plan.column_width, font_size=size) if placed else widths[id(cell)]
        if placed and element.width is None:
            continue  # as wide as its text
        if isinstance(element, Label):
            values = pl.Series("s", [element.text] * len(cells), dtype=pl.String)
        else:
            values = cells.list.get(index[id(cell)], null_on_oob=True).fill_null("")
        if element.overflow == "ellipsis" and not isinstance(element, Label):
            cut = values.str.ends_with(ELLIPSIS)
            how = ELLIPSIZED
        elif element.overflow != "wrap":
            cut, how = _wider(values.str.replace_all("\n", " ", literal=True), width, size, font), CLIPPED
        else:
            height = element.height if placed else definition.height
            if height is None:
                continue
            points = to_points(height, whole=0, font_size=size)
            if not placed:  # less the band's padding above and below (1.5pt unless styled)
                padding = band.styling.band.padding if band.styling else None
                points -= 2 * to_points(padding or "1.5pt", whole=0, font_size=size)
            cut, how = _too_tall(values, width, size, font, points), HEIGHT_CUT
        rows = int(cut.sum())
        if rows:
            found[(cell.where, how)] = found.get((cell.where, how), 0) + rows
    return found


def cut_message(where: str, how: str, rows: int) -> str:
    """The one line that says what was cut, and where."""
    return f"{where}: text {how} in {rows:,} row{'s' if rows != 1 else ''}"


def can_cut(band: BandPlan) -> bool:
    """Whether any text of ``band`` may be cut: a one-line element, or a fixed height."""
    if band.band.height is not None:
        return True
    texts = [cell.element for cell in band.cells if not cell.hidden]
    return any(e.overflow != "wrap" or (e.height is not None and is_placed(band.band)) for e in texts)


def stream_cuts(plan: ReportPlan, frame: pl.DataFrame, band_index: dict[str, int], tall: str) -> dict[str, int]:
    """:func:`cut_cells` over the band instances of a stream frame (``k``, ``c``), as
    ``cut_message`` lines -> rows; ``tall`` is the suffix of the bands' tall variants."""
    found: dict[str, int] = {}
    for band in plan.bands:
        if band.scope == "report" or band.name not in band_index or not can_cut(band):
            continue
        kinds = [band_index[name] for name in (band.name, band.name + tall) if name in band_index]
        cells = frame.filter(pl.col("k").is_in(kinds))["c"]
        for (where, how), rows in cut_cells(plan, band, cells).items():
            found[f"{where}\t{how}"] = found.get(f"{where}\t{how}", 0) + rows
    return found


def static_cuts(plan: ReportPlan, static: dict[str, list[str]]) -> dict[str, int]:
    """:func:`stream_cuts` for the report-scope bands (title, page header, summary, ...)."""
    found: dict[str, int] = {}
    for band in plan.bands:
        if band.scope == "report" and str(band.kind) in static and can_cut(band):
            cells = pl.Series("c", [static[str(band.kind)]], dtype=pl.List(pl.String))
            for (where, how), rows in cut_cells(plan, band, cells).items():
                found[f"{where}\t{how}"] = rows
    return found
