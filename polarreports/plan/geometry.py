"""Band geometry: absolutely placed elements (forms), fixed band heights, bands taller than
the page (``split``), multi-column pages and wide listings scaled to the page (``wide: fit``).

Lengths are worked out in points here, from the definition alone, for the checks made before
Typst runs; the Typst code keeps the definition's own lengths.

    >>> from polarreports.definition.elements import Label
    >>> from polarreports.definition.report import Band, PageSetup
    >>> band = Band(elements=[Label(text="INVOICE", x="120mm", y="0mm", size=20)])
    >>> is_placed(band), placed_height(band, PageSetup())
    (True, '19.55pt')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl

from polarreports.definition.elements import Barcode, Box, Chart, Crosstab, Element, Image, Label, Line
from polarreports.definition.report import Band, PageSetup
from polarreports.units import to_points

if TYPE_CHECKING:
    from polarreports.plan.model import BandPlan

__all__ = [
    "body_size",
    "cell_thresholds",
    "cell_widths",
    "column_width",
    "fit_factor",
    "fitted",
    "is_placed",
    "long_label",
    "long_values",
    "placed_height",
    "placement_issues",
    "tall_threshold",
    "wraps",
]

LINE_PITCH_EM = 0.7273 + 0.45
"""From one text line's top to the next one's: the cap height (Typst's line box) plus the
leading the report sets."""
DESCENT_EM = 0.25
"""Room below the last baseline for descenders."""
GUTTER_PT = 4.0


def body_size(page: PageSetup) -> tuple[float, float]:
    """Width and height (pt) inside the page margins (the page header and footer not taken off)."""
    width_mm, height_mm = page.size_mm
    m, fs = page.margins, page.font_size
    width = width_mm * 72 / 25.4 - to_points(m.left, whole=0, font_size=fs) - to_points(m.right, whole=0, font_size=fs)
    height = (
        height_mm * 72 / 25.4 - to_points(m.top, whole=0, font_size=fs) - to_points(m.bottom, whole=0, font_size=fs)
    )
    return width, height


def column_width(page: PageSetup) -> float:
    """Width (pt) of one body column."""
    width, _ = body_size(page)
    gap = to_points(page.column_gap, whole=0, font_size=page.font_size)
    return (width - gap * (page.columns - 1)) / page.columns


def is_placed(band: Band) -> bool:
    """Whether the band is a form: its elements sit at declared ``x``, ``y`` positions."""
    return any(e.x is not None or e.y is not None for e in band.elements)


def _lines(element: Element) -> int:
    return element.text.count("\n") + 1 if isinstance(element, Label) else 1


def _bottom(element: Element, font_size: float) -> float:
    """The lowest point (pt) of a placed element: ``y`` plus its height, or its lines of text."""
    size = element.size or font_size
    top = to_points(element.y or "0pt", whole=0, font_size=size)
    if element.height is not None:
        return top + to_points(element.height, whole=0, font_size=size)
    if isinstance(element, Line):
        return top + element.thickness
    lines = _lines(element)
    return top + size * ((lines - 1) * LINE_PITCH_EM + 0.7273 + DESCENT_EM)


def placed_height(band: Band, page: PageSetup) -> str:
    """A placed band's height: ``Band.height``, or the bottom of its lowest element."""
    if band.height is not None:
        return band.height
    lowest = max((_bottom(e, page.font_size) for e in band.elements), default=0.0)
    return f"{lowest:.2f}pt"


def placement_issues(band: Band, name: str, page: PageSetup) -> list[str]:
    """What is wrong with a band's placement and height options, before any data is read."""
    issues = []
    placed = [i for i, e in enumerate(band.elements) if e.x is not None or e.y is not None]
    if placed and len(placed) < len(band.elements):
        flowing = [i for i in range(len(band.elements)) if i not in placed]
        issues.append(
            f"{name}: elements {placed} are placed (x, y) but elements {flowing} are not; a band is either "
            "a form or a row.\nHint: give every element of this band x and y, or move the placed ones "
            "to a band of their own."
        )
    for i in placed:
        element = band.elements[i]
        where = f"{name}.elements[{i}]"
        if element.x is None or element.y is None:
            have, missing = ("x", "y") if element.x is not None else ("y", "x")
            issues.append(f"{where}: has {have} but no {missing}.\nHint: a placed element needs both x and y.")
        for option in ("y", "height"):
            value = getattr(element, option)
            if value is not None and value.endswith(("%", "fr")):
                issues.append(
                    f"{where}: {option} {value!r} must be a fixed length such as '12mm' "
                    "(a band has no height to take a share of)"
                )
        if element.x is not None and element.x.endswith("fr"):
            issues.append(f"{where}: x {element.x!r} must be a length such as '120mm' or a percentage")
        if isinstance(element, Image) and element.height is None and element.width is None:
            issues.append(f"{where}: a placed image needs a width or a height")
    if band.height is not None:
        if band.height.endswith(("%", "fr")):
            issues.append(f"{name}.height: {band.height!r} must be a fixed length such as '20mm'")
        else:
            _, body = body_size(page)
            height = to_points(band.height, whole=0, font_size=page.font_size)
            if height > body:
                issues.append(
                    f"{name}.height: {band.height} is taller than the page body ({body * 25.4 / 72:.0f}mm inside "
                    "the margins).\nHint: make it smaller, or let the band grow (no height)."
                )
    return issues


def cell_widths(elements: Sequence[Element], whole: float) -> list[float]:
    """Approximate widths (pt) of a row's elements across ``whole`` points: fixed widths as
    given, shares (``fr``, no width) split what is left, less the gaps between cells."""
    fixed = [None if e.width is None or e.width.endswith("fr") else e.width for e in elements]
    fractions = [float(e.width[:-2]) if e.width and e.width.endswith("fr") else 1.0 for e in elements]
    points = [None if w is None else to_points(w, whole=whole, font_size=0) for w in fixed]
    rest = max(whole - sum(p for p in points if p is not None), 0.0)
    shares = sum(f for p, f in zip(points, fractions, strict=True) if p is None) or 1.0
    widths = [rest * f / shares if p is None else p for p, f in zip(points, fractions, strict=True)]
    return [w - GUTTER_PT if i else w for i, w in enumerate(widths)]


def fit_factor(bands: Sequence[Band], page: PageSetup) -> float:
    """``wide: fit``: how much to scale the report so that its widest row of fixed widths fits
    the column (1.0 when every band fits, or with ``wide: wrap``). Forms keep their size."""
    if page.wide != "fit":
        return 1.0
    whole = column_width(page)
    factor = 1.0
    for band in bands:
        if is_placed(band) or not band.elements:
            continue
        fixed = [
            to_points(e.width, whole=whole, font_size=e.size or page.font_size)
            for e in band.elements
            if e.width is not None and not e.width.endswith(("%", "fr"))
        ]
        needed = sum(fixed) + GUTTER_PT * (len(band.elements) - 1) * bool(fixed)
        if needed > whole:
            factor = min(factor, whole / needed)
    return factor


def fitted(length: str | None, factor: float) -> str | None:
    """A definition length scaled by ``factor`` (shares and percentages stay as they are)."""
    if length is None or factor == 1.0 or length.endswith(("%", "fr")):
        return length
    return f"({length} * {factor:.4f})"


TALL = "#tall"
"""Suffix of the layout name of a band's variant for values long enough to fill a page."""


def long_values(band: BandPlan, page: PageSetup) -> pl.Expr | None:
    """Whether an instance of ``band`` (its cells' display strings in ``c``) has a value long
    enough to fill a page (by its characters, a line break counting as a line's worth): those
    go to the band's tall variant. None if none can; always, for a band with a label that long."""
    limits = cell_thresholds(band, page)
    if not limits:
        return None
    if long_label(band, page):
        return pl.lit(True)
    return pl.any_horizontal(
        _cell_weight(band, i, per_line).fill_null(0) > threshold for i, (threshold, per_line) in limits.items()
    )


def _cell_weight(band: BandPlan, index: int, per_line: int) -> pl.Expr:
    """:func:`_weight` of data cell ``index``; a subreport's table (JSON text) counts each of
    its rows (at any depth: ``],[`` parts them) as a line at least, header and totals too."""
    text = pl.col("c").list.get(index, null_on_oob=True)
    weight = _weight(text, per_line)
    if band.data_cells[index].role == "subreport":
        weight = weight + (text.str.count_matches("],[", literal=True) + 3) * per_line
    return weight


def _weight(text: pl.Expr, per_line: int) -> pl.Expr:
    """A text's length in characters, each line break counting as a line of ``per_line``."""
    return text.str.len_bytes() + text.str.count_matches("\n", literal=True) * per_line


def wraps(element: Element) -> bool:
    """Whether the element's value is text that wraps onto more lines when long."""
    return element.overflow == "wrap" and not isinstance(element, Barcode | Box | Chart | Crosstab | Image | Line)


def _limits(band: BandPlan, page: PageSetup) -> list[tuple[int, int] | None]:
    """Per cell of the band: (characters that could fill half a page, characters per line) for
    a wrapping text; None for the others, and for every cell of a band that cannot grow."""
    definition = band.band
    if definition.height is not None or is_placed(definition):
        return [None] * len(band.cells)
    # the row's width is split among the cells it shows (``BandPlan.widths``), as the stream
    # and the emitters split it: a hidden cell (a link's URL, a print_when) takes none of it
    widths = dict(zip((id(cell) for cell in band.shown_cells), band.widths, strict=True))
    _, body = body_size(page)
    limits: list[tuple[int, int] | None] = []
    for cell in band.cells:
        width = widths.get(id(cell))
        if width is None or not wraps(cell.element) or (cell.value is None and not isinstance(cell.element, Label)):
            limits.append(None)
            continue
        size = cell.element.size or page.font_size
        per_line = max(int(max(width, size) / size), 1)
        lines = body / (size * LINE_PITCH_EM)
        limits.append((max(int(per_line * lines / 2), 16), per_line))
    return limits


def cell_thresholds(band: BandPlan, page: PageSetup) -> dict[int, tuple[int, int]]:
    """Data cell index -> (threshold, characters per line) of each wrapping value of ``band``:
    a value whose length (line breaks counted as lines, see :func:`long_values`) passes the
    threshold might fill half a page. Empty where no value can make the band tall."""
    limits = dict(zip((id(cell) for cell in band.cells), _limits(band, page), strict=True))
    found = {}
    for i, cell in enumerate(band.data_cells):
        limit = limits.get(id(cell))
        if limit is not None and cell.value is not None:
            found[i] = limit
    if not found and long_label(band, page):
        found[-1] = (0, 1)  # no value to test: the band is always tall
    return found


def long_label(band: BandPlan, page: PageSetup) -> bool:
    """Whether a label of ``band`` is long enough to fill half a page: every instance of the band
    takes its tall variant then."""
    for cell, limit in zip(band.cells, _limits(band, page), strict=True):
        if limit is not None and isinstance(cell.element, Label):
            threshold, per_line = limit
            text = cell.element.text
            if len(text.encode()) + text.count("\n") * per_line > threshold:
                return True
    return False


def tall_threshold(band: BandPlan, page: PageSetup) -> int | None:
    """Bytes of text a value of ``band`` needs before it could fill a page (in its narrowest
    wrapping cell, at one em per character); None where no value can make the band tall (fixed
    height, forms, nothing that wraps). Only values longer than this pay for the layout that
    splits a band across pages, or for the check of ``split: error``. 0 for a band whose
    label is that long (always tall). See :func:`cell_thresholds` for each cell's own."""
    limits = cell_thresholds(band, page)
    if not limits:
        return None
    return 0 if -1 in limits else min(threshold for threshold, _ in limits.values())
