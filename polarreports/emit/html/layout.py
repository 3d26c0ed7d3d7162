"""How each band of a report is written in HTML: its shown elements, where their texts are in
an instance's cells, its CSS rules, and (in the detail table) the columns each cell spans.

The detail band's elements are the table's columns. Another band in the table (a column
header, group headers and footers, the summary's aligned table) puts each of its cells over
the columns nearest to where the cell ends on the page, so a total sits under its column.

    >>> spans([0.45, 0.52, 0.73, 1.0], [0.14, 0.24, 0.54, 0.62, 0.75, 0.85, 1.0])
    [3, 1, 1, 2]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from polarreports.definition.elements import Aggregate, Barcode, Box, Chart, Element, Image, Label, Line, PageNumber
from polarreports.emit.html import css
from polarreports.emit.html.cells import Assets, CellLayout, static_content
from polarreports.emit.html.escape import color, text
from polarreports.plan import geometry
from polarreports.plan.images import static_asset
from polarreports.plan.model import BandKind, BandPlan, Cell, ReportPlan
from polarreports.plan.styles import BandStyling, Look

__all__ = ["BandLayout", "band_layouts", "spans"]

DEFAULT_PADDING = "1.5pt"
DEFAULT_STROKE = "#5a5a5a"
"""A line or box without a colour: Typst's ``luma(90)``."""
GUTTER = "2pt"
"""Half the gap between neighbouring cells (Typst's is 4pt), on each side of a cell."""


def spans(ends: list[float], columns: list[float]) -> list[int] | None:
    """How many columns each of a band's cells spans, its right edges at ``ends`` (fractions of
    the width) snapped to the nearest column edge in ``columns``; None if it has more cells than
    there are columns."""
    n, m = len(columns), len(ends)
    if m == 0 or m > n:
        return None
    chosen: list[int] = []
    for j, end in enumerate(ends[:-1]):
        low = (chosen[-1] + 1) if chosen else 0
        high = n - (m - j)  # leave a column for each cell still to come
        chosen.append(min(range(low, high + 1), key=lambda i: abs(columns[i] - end)))
    chosen.append(n - 1)  # the last cell reaches the right edge
    return [chosen[0] + 1] + [b - a for a, b in itertools.pairwise(chosen)]


def _fractions(band: BandPlan, whole: float) -> list[float]:
    """The right edge of each shown cell of ``band`` (fractions of the width), as laid out in Typst."""
    widths = band.widths
    total, ends, gap = 0.0, [], geometry.GUTTER_PT
    for i, width in enumerate(widths):
        total += width + (gap if i else 0.0)
        ends.append(total / whole if whole else 1.0)
    return ends


def _numeric(cell: Cell, dtypes: dict[str, pl.DataType]) -> bool:
    dtype = dtypes.get(cell.where)
    return (dtype is not None and dtype.is_numeric()) or isinstance(cell.element, Aggregate)


@dataclass
class BandLayout:
    """One band's HTML: its class ``b{index}``, its shown cells, and its columns in the table."""

    index: int
    band: BandPlan
    cells: list[CellLayout]
    band_switch: int | None
    """Index in ``c`` of the band's look (zebra, conditional styles), if it varies."""
    placed: bool
    spans: list[int] | None = None
    """In the detail table: the columns each cell spans (None: one cell over all of them)."""
    logo: str = ""
    _row_cells: list[tuple[str, str, CellLayout]] | None = None

    @property
    def page_only(self) -> bool:
        """Whether the band shows only what a page has (page numbers, values per page), which
        a web page leaves out: the band is left out too (no empty band with its rules)."""
        return all(isinstance(cell.element, PageNumber) or cell.cell.page_slot is not None for cell in self.cells)

    @property
    def css_class(self) -> str:
        return f"b{self.index}"

    def _classes(self, c: list[str]) -> str:
        if self.band_switch is not None and c[self.band_switch] != "0":
            return f"{self.css_class} l{c[self.band_switch]}"
        return self.css_class

    def _cell_class(self, layout: CellLayout, c: list[str]) -> str:
        if layout.switch is not None and c[layout.switch] != "0":
            return f' class="k{c[layout.switch]}"'
        return ""

    def block(self, c: list[str], assets: Assets, tag: str = "div", *, heading: bool = False) -> str:
        """The band as a block of cells (outside the detail table, or without one); with
        ``heading``, its first label is the page's heading (``h1``)."""
        parts = []
        for cell in self.cells:
            content = cell.content(c, assets)
            if heading and isinstance(cell.element, Label):
                content, heading = f"<h1>{content}</h1>", False
            parts.append(f"<div{self._cell_class(cell, c)}>{content}</div>")
        logoed = " logoed" if self.logo else ""
        return f'<{tag} class="band{logoed} {self._classes(c)}">{"".join(parts)}{self.logo}</{tag}>'

    def row(self, c: list[str], assets: Assets, columns: int) -> str:
        """The band as a row of the detail table."""
        if self.spans is None:  # a form, or more cells than columns: one cell over all of them
            return f'<tr class="whole"><td colspan="{columns}">{self.block(c, assets)}</td></tr>'
        if self._row_cells is None:
            self._row_cells = self._cell_tags()
        parts = [
            f"{opening}>{text(c[cell.value])}{closing}"  # type: ignore[index]
            if cell.plain
            else f"{opening}{self._cell_class(cell, c)}>{cell.content(c, assets)}{closing}"
            for opening, closing, cell in self._row_cells
        ]
        return f'<tr class="{self._classes(c)}">{"".join(parts)}</tr>'

    def _cell_tags(self) -> list[tuple[str, str, CellLayout]]:
        """Each cell's opening tag (without its ``>``, for a class) and closing tag in a row."""
        assert self.spans is not None
        found = []
        kind = self.band.kind
        for position, (cell, span) in enumerate(zip(self.cells, self.spans, strict=True)):
            tag, scope = "td", ""
            if kind == BandKind.COLUMN_HEADER:
                tag, scope = "th", ' scope="col"'
            elif kind == BandKind.GROUP_HEADER and position == 0:
                tag, scope = "th", ' scope="rowgroup"'
            elif kind != BandKind.DETAIL and isinstance(cell.element, Label):
                tag, scope = "th", ' scope="row"'
            colspan = f' colspan="{span}"' if span > 1 else ""
            found.append((f"<{tag}{scope}{colspan}", f"</{tag}>", cell))
        return found


def band_layouts(plan: ReportPlan, logo: str) -> list[BandLayout]:
    """The layout of every band of ``plan`` (index ``i``: ``plan.bands[i]``)."""
    found = []
    for index, band in enumerate(plan.bands):
        styling = band.styling or BandStyling(Look(), None, (), ())
        data = {cell.where: i for i, cell in enumerate(band.data_cells)}
        links = {c.where.removesuffix(".link"): data[c.where] for c in band.cells if c.role == "link"}
        whens = {c.where.removesuffix(".print_when"): data[c.where] for c in band.cells if c.role == "when"}
        switch_at = {id(s): len(band.data_cells) + j for j, s in enumerate(styling.switches)}
        cells = []
        for position, cell in enumerate(band.cells):
            if cell.hidden:
                continue
            element_switch = styling.element_switches[position] if styling.element_switches else None
            image = None
            if isinstance(cell.element, Image) and cell.value is None:
                asset = static_asset(cell.element, cell.where, plan.image_dirs, plan.base_dir)
                image = asset[1] if asset else None
            value = data.get(cell.where) if cell.value is not None and cell.role == "value" else None
            if cell.role in ("image", "barcode", "subreport"):
                value = data.get(cell.where)
            cells.append(
                CellLayout(
                    cell,
                    value,
                    links.get(cell.where),
                    whens.get(cell.where),
                    switch_at.get(id(element_switch)) if element_switch is not None else None,
                    static_content(cell.element, image),
                )
            )
        band_switch = switch_at.get(id(styling.band_switch)) if styling.band_switch is not None else None
        found.append(
            BandLayout(
                index,
                band,
                cells,
                band_switch,
                geometry.is_placed(band.band),
                logo=logo if styling.logo is not None else "",
            )
        )
    return found


def table_columns(plan: ReportPlan, layouts: list[BandLayout]) -> list[float] | None:
    """The right edges of the detail table's columns, with each band's spans set; None when the
    report has no detail table (no detail band, or a detail form)."""
    detail = next((layout for layout in layouts if layout.band.kind == BandKind.DETAIL), None)
    if detail is None or detail.placed or not detail.cells:
        return None
    whole = plan.column_width
    columns = _fractions(detail.band, whole)
    for layout in layouts:
        if layout.placed or not layout.cells:
            continue
        ends = _fractions(layout.band, whole)
        layout.spans = [1] * len(columns) if layout is detail else spans(ends, columns)
    return columns


def band_css(plan: ReportPlan, layout: BandLayout, dtypes: dict[str, pl.DataType]) -> list[str]:
    """The CSS rules of one band: its look, each look it may switch to, and its cells'."""
    rules = _BandRules(plan, layout, dtypes)
    rules.band()
    for position, cell in enumerate(layout.cells):
        rules.cell(position, cell)
    return rules.rules


class _BandRules:
    def __init__(self, plan: ReportPlan, layout: BandLayout, dtypes: dict[str, pl.DataType]) -> None:
        self.page = plan.page
        self.hyphenate = plan.hyphenate
        self.size = self.page.font_size
        self.whole = plan.column_width
        self.layout = layout
        self.dtypes = dtypes
        self.styling = layout.band.styling or BandStyling(Look(), None, (), ())
        self.selector = f".{layout.css_class}"
        self.rules: list[str] = []

    def length(self, value: str | None) -> str:
        return css.length(value, whole=self.whole, font_size=self.size)

    def looks(self, selector: str, look: Look) -> None:
        """A look of the band: text settings for the band, its box for a block's band or a row's cells."""
        pad = css.padding(look, self.size, DEFAULT_PADDING)
        text = css.declarations(look.text, font_size=self.size)
        box = css.declarations(look.box, font_size=self.size)
        if text:
            self.rules.append(f"{selector}{{{text}}}")
        self.rules.append(f".band{selector}{{padding:{pad} 0;{box}}}")
        self.rules.append(f"tr{selector}>*{{padding:{pad} {GUTTER};{box}}}")

    def band(self) -> None:
        band, b = self.layout.band, self.selector
        self.looks(b, self.styling.band)
        if self.styling.band_switch is not None:
            for n, look in enumerate(self.styling.band_switch.looks):
                self.looks(f"{b}.l{n}", look)
        if band.band.space_after != "0pt":
            self.rules.append(f".band{b}{{margin-bottom:{self.length(band.band.space_after)}}}")
        if band.break_before:
            self.rules.append(f"@media print{{{b}{{break-before:page}}}}")
        if self.layout.placed:  # a form: as tall as declared (cut off), or at least as its lowest element
            height = self.length(geometry.placed_height(band.band, self.page))
            size = f"height:{height};overflow:hidden" if band.band.height is not None else f"min-height:{height}"
            self.rules.append(f".band{b}{{display:block;position:relative;isolation:isolate;padding:0;{size}}}")

    def cell(self, position: int, cell: CellLayout) -> None:
        element = cell.element
        child = f"{self.selector}>:nth-child({position + 1})"
        at = self.layout.band.cells.index(cell.cell)
        own = self.styling.elements[at] if self.styling.elements else Look()
        numeric = _numeric(cell.cell, self.dtypes)
        align = element.align or ("right" if numeric else "left")
        found = [f"text-align:{align}"]
        if align == "justify" and self.hyphenate == "auto":  # justified text hyphenates, as in the PDF
            found.append("hyphens:auto")
        if own != Look():
            found.append(css.declarations(own, font_size=self.size))
        if self.layout.placed:
            found.append(f"position:absolute;left:{self.length(element.x)};top:{self.length(element.y)}")
            if element.width is not None:
                found.append(f"width:{self.length(element.width)}")
        else:
            found.append(_width(element, self.whole, self.size))
        if isinstance(element, Chart):
            self.rules.append(f"{child} svg{{height:{self.length(element.height)}}}")
        elif isinstance(element, Barcode):  # its height is the bars' (the square's), its text below
            self.rules.append(f"{child} .barcode svg{{height:{self.length(element.height)}}}")
        elif element.height is not None and not isinstance(element, Box):
            found.append(f"max-height:{self.length(element.height)};overflow:hidden")
        if element.overflow != "wrap":
            found.append("white-space:nowrap;overflow:hidden")
            if element.overflow == "ellipsis":
                found.append("text-overflow:ellipsis")
        self.rules.append(f".band{child}{{{';'.join(d for d in found if d)}}}")
        text = css.declarations(own.text, font_size=self.size)
        self.rules.append(f"tr{child}{{text-align:{align}{';' + text if text else ''}}}")
        switch = self.styling.element_switches[at] if self.styling.element_switches else None
        if switch is not None:
            self.rules.extend(
                f"{child}.k{n}{{{css.declarations(look, font_size=self.size)}}}" for n, look in enumerate(switch.looks)
            )
        self.rules.extend(_shape(child, element, self.length))


def _width(element: Element, whole: float, size: float) -> str:
    width = element.width
    if width is None or width.endswith("fr"):
        share = float(width[:-2]) if width else 1.0
        return f"flex:{share:g} 1 0"
    if width.endswith("%"):
        return f"flex:0 0 {float(width[:-1]):g}%"
    return f"flex:0 0 {css.length(width, whole=whole, font_size=size)}"


def _shape(child: str, element: Element, length: Callable[[str | None], str]) -> list[str]:
    """The rules of a line or a box element."""
    if isinstance(element, Line):
        rule = f"{float(element.thickness):g}pt solid {color(element.color) or DEFAULT_STROKE}"
        return [f"{child} .shape{{display:block;margin:0.3em 0;border-top:{rule}}}"]
    if isinstance(element, Box):
        fill = color(element.fill)
        stroke = f"border:{float(element.stroke):g}pt solid {color(element.color) or DEFAULT_STROKE};"
        return [
            f"{child} .shape{{display:block;box-sizing:border-box;height:{length(element.height)};"
            f"{stroke if element.stroke else ''}{'background:' + fill if fill else ''}}}",
            f".band{child}{{z-index:-1}}",  # behind the texts placed over it
        ]
    return []
