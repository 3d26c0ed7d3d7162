"""Write the Typst source of a report: one function per band, the data read from JSON.

Values from the data never appear in the source: the stream and the report-scope strings are
read with ``json("/data.json")`` and shown as strings, so no value can change the document.
Text from the definition (labels, the title, names in comments) goes through ``emit.escape``.

    >>> import polarreports as pr
    >>> from polarreports.api import plan_report
    >>> plan, scopes = plan_report(pr.load("examples/sales_by_region.yaml"), pr.sample.sales_data(10))
    >>> emit_typst(plan, scopes.dtypes).source.splitlines()[0]
    '// polarreports: report "sales_by_region"; generated, the data is read from /data.json'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from polarreports.compute.overflow import breakable_text, hyphenation_language
from polarreports.definition.elements import (
    Aggregate,
    Barcode,
    Box,
    Chart,
    Crosstab,
    Element,
    Image,
    Label,
    Line,
    PageNumber,
    Subreport,
)
from polarreports.definition.report import PageSetup
from polarreports.definition.styles import SHIPPED_FONTS
from polarreports.emit import navigation, styles
from polarreports.emit.boxes import one_line_box, place
from polarreports.emit.crosstab import crosstab_code
from polarreports.emit.escape import comment, typst_string
from polarreports.emit.images import IMAGE_PRELUDE, barcode_image, column_image, static_image
from polarreports.emit.markup import RICH_PRELUDE, rich_call, rich_label
from polarreports.emit.subreports import SUBREPORT_PRELUDE, breakable, page_subreport_call, subreport_call
from polarreports.plan import geometry as placement
from polarreports.plan.geometry import TALL
from polarreports.plan.model import BandPlan, Cell, GroupLevel, ReportPlan
from polarreports.plan.panels import panel_plans
from polarreports.plan.styles import BandStyling, Look
from polarreports.plan.subreports import ROW_CLASSES, SUB_ROWS
from polarreports.plan.translations import text_direction

__all__ = ["DATA_FILE", "SPLIT_ERROR", "TypstSource", "band_indices", "emit_typst", "typst_string"]

DATA_FILE = "data.json"
SPLIT_ERROR = "polarreports: a band with split: error is taller than the page"
"""What the Typst code panics with when a band with ``split: error`` does not fit a page."""
FONTS = SHIPPED_FONTS
"""Typst falls back through them, in this order, for characters the first lacks."""
GUTTER = "4pt"
"""Space between neighbouring cells; a gap (an ``h``) is cheaper to lay out than a box inset."""
HOISTED = frozenset({"inset", "stroke", "fill", "font", "outset"})
"""Named arguments of a band's block, a cell's box or its text whose values are bound once."""


@dataclass
class TypstSource:
    """Generated Typst code plus the files the compile needs in its root folder."""

    source: str
    assets: dict[str, Path | bytes] = field(default_factory=dict)
    """Root-relative path -> file to copy there, or the bytes to write there (images)."""
    origins: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    """Source line (1-based) -> (band name, element ``where``) that produced it."""
    tagged: bool = False
    """Whether to write a tagged PDF (structure and alt texts, for assistive technology)."""
    columns: int = 1
    """Columns of the page body (the paginator fills them in turn)."""
    pdf_standards: tuple[str, ...] = ()
    """The PDF standards Typst writes the PDF to (``("a-2b",)``: PDF/A-2b); none by default."""
    timestamp: int | None = None
    """The document's date (Unix seconds) where a PDF standard needs one; None: a fixed date."""
    panels: tuple[TypstSource, ...] = ()
    """A wide listing (``wide: continue``): the sources of its continuation panels after this
    one, each showing the key columns and the next columns; the same data, the same page breaks."""


def _percent(width: str | None) -> float | None:
    return float(width[:-1]) if width is not None and width.endswith("%") else None


def _around(
    band: BandPlan, group: GroupLevel | None, *, continued: bool, breaking: bool
) -> tuple[list[str], list[str]]:
    """The statements before and after a band's block: page breaks, and the space that puts a
    group footer at the page bottom. None while measuring (the band is measured inside a block)
    nor where a group header is printed again at the top of a page."""
    unless = " and not continued" if continued else ""
    before, after = [], []
    if band.break_before:  # not before the report's first band: the title and column header stay with it
        first = " and not first" if band.scope != "report" else ""
        before.append(f"if not measuring{unless}{first} {{ pagebreak(weak: true) }}")
    if breaking:  # b: a page break decided ahead of Typst (keep-together, minimum space)
        before.append("if b and not measuring { pagebreak(weak: true) }")
    if band.kind == "group_footer" and group is not None and group.footer_position == "page_bottom":
        before.append("if not measuring { v(1fr) }")
    if band.break_after:
        after.append(f"if not measuring{unless} {{ pagebreak(weak: true) }}")
    return before, after


def _continued_cell(band: BandPlan) -> int | None:
    """The data cell a reprinted group header's "(continued)" follows: its first shown value."""
    for i, cell in enumerate(band.data_cells):
        rich = getattr(cell.element, "markup", "none") == "markdown"  # its cell is a tree's JSON
        if (
            cell.role == "value"
            and not cell.hidden
            and not rich
            and not isinstance(cell.element, Barcode | Chart | Crosstab | Image)
        ):
            return i
    return None


def _kinds(plan: ReportPlan) -> list[tuple[str, BandPlan, str]]:
    """The layout's band table as (name, band, variant): the stream bands (detail and group
    bands), then the variant of each that may be taller than a page (its instances with very
    long values are routed there in Polars, so the ordinary rows pay nothing for it), then, for
    a band holding a subreport, one variant per number of the subreport's rows (drawn alike,
    each measured: so the pages of a report whose subreports vary in length can be predicted,
    and typeset in chunks)."""
    stream = [band for band in plan.bands if band.scope != "report"]
    tall = [band for band in stream if placement.tall_threshold(band, plan.page) is not None]
    rows = [band for band in stream if any(cell.role == "subreport" for cell in band.cells)]
    return [
        *((band.name, band, "") for band in stream),
        *((band.name + TALL, band, "tall") for band in tall),
        *((f"{band.name}{SUB_ROWS}{n}", band, "") for band in rows for n in range(1, ROW_CLASSES + 1)),
    ]


def stream_kinds(plan: ReportPlan) -> list[BandPlan]:
    """The band of each kind of the layout's band table (see ``_kinds``)."""
    return [band for _, band, _ in _kinds(plan)]


def band_indices(plan: ReportPlan) -> dict[str, int]:
    """The index of each stream band in the layout's band table; ``name + TALL`` for the
    variant of a band for very long values, ``name + SUB_ROWS + n`` for its instances whose
    subreports have n rows."""
    return {name: i for i, (name, _, _) in enumerate(_kinds(plan))}


class _Writer:
    def __init__(self, plan: ReportPlan, dtypes: dict[str, pl.DataType]) -> None:
        self.plan = plan
        self.dtypes = dtypes
        self.lines: list[str] = []
        self.origins: dict[int, tuple[str, str | None]] = {}
        self.assets: dict[str, Path | bytes] = {}
        self.links: dict[str, int] = {}
        """Of the band being written: element ``where`` -> index of its link's cell."""
        self.fit = plan.fit
        self.widths: dict[int, float] = {}
        """Of the band being written: ``id(cell)`` -> its width (pt) in a row of cells."""
        self.constants: dict[str, str] = {}
        """Expression -> the name it is bound to once, at the top (see :meth:`constant`)."""

    def constant(self, expression: str) -> str:
        """A name bound to ``expression`` (a width, an inset, a colour) once, before the band
        functions: Typst evaluates a band function's arguments on every row, so a constant
        written there is computed again for each (about 1 % of a ledger's compile).

        >>> import polarreports as pr
        >>> from polarreports.api import plan_report
        >>> plan, scopes = plan_report(pr.load("examples/sales_by_region.yaml"), pr.sample.sales_data(10))
        >>> writer = _Writer(plan, scopes.dtypes)
        >>> writer.constant("9% - 4pt"), writer.constant('rgb("#555555")'), writer.constant("9% - 4pt")
        ('k-0', 'k-1', 'k-0')
        """
        return self.constants.setdefault(expression, f"k-{len(self.constants)}")

    def _hoisted(self, options: list[str]) -> list[str]:
        """Named arguments (``inset: ...``) whose constant values are bound once (:meth:`constant`)."""
        hoisted = []
        for option in options:
            name, _, value = option.partition(": ")
            if name in HOISTED and "c.at(" not in value:
                option = f"{name}: {self.constant(value)}"
            hoisted.append(option)
        return hoisted

    def _text_call(self, look: Look, body: str) -> str:
        options = self._hoisted(styles.text_options(look))
        return f"text({', '.join(options)}, {body})" if options else body

    def line(self, text: str, band: str | None = None, element: str | None = None) -> None:
        self.lines.append(text)
        if band is not None:
            self.origins[len(self.lines)] = (band, element)

    # -- elements ------------------------------------------------------------------------

    def _aligned(self, cell: Cell, body: str) -> str:
        align = cell.element.align
        if align is None:
            dtype = self.dtypes.get(cell.where)
            numeric = dtype is not None and (dtype.is_numeric() or isinstance(cell.element, Aggregate))
            align = "right" if numeric else "left"
        if align == "justify":  # both edges; Knuth-Plass line breaks, as for any justified text
            return f'{{ set par(justify: true, linebreaks: "optimized"); {body} }}'
        return body if align == "left" else f"align({align}, {body})"

    def _label_text(self, cell: Cell, element: Label, look: Look) -> str:
        """A label's text, whose words wider than its cell may break (hyphenated where it hyphenates)."""
        if not placement.wraps(element) or id(cell) not in self.widths:
            return element.text
        size = look.size or element.size or self.plan.page.font_size
        bold, italic = bool(look.bold or element.bold), bool(look.italic or element.italic)
        language = hyphenation_language(element, hyphenate=self.plan.hyphenate, locale=self.plan.locale)
        room = self.widths[id(cell)]
        return breakable_text(element.text, width=room, size=size, bold=bold, italic=italic, language=language)

    def _page_number(self, element: PageNumber, slot: int | None) -> str:
        """``element.text`` with its numbers: the document's pages, or with ``slot``, the
        pages of the current group (values per page ``slot`` and ``slot + 1``)."""
        page = "str(page-number())" if slot is None else f"page-value({slot})"
        pages = "str(total-pages())" if slot is None else f"page-value({slot + 1})"
        parts = []
        rest = element.text
        while rest:
            page_at, pages_at = rest.find("{page}"), rest.find("{pages}")
            hits = [i for i in (page_at, pages_at) if i >= 0]
            if not hits:
                parts.append(typst_string(rest))
                break
            at = min(hits)
            if at:
                parts.append(typst_string(rest[:at]))
            if at == pages_at:
                parts.append(pages)
                rest = rest[at + len("{pages}") :]
            else:
                parts.append(page)
                rest = rest[at + len("{page}") :]
        return "context { " + "; ".join(parts) + " }"

    def _width(self, element: Element, *, gap: bool) -> str:
        if element.x is not None:  # placed: as wide as declared, or as its content
            return element.width or "auto"
        width = placement.fitted(element.width, self.fit) or "1fr"
        return self.constant(f"{width} - {GUTTER}") if gap and not width.endswith("fr") else width

    def element(
        self, cell: Cell, index: int | None, *, gap: bool, look: Look | None = None, padding: str = "0pt"
    ) -> str:
        """An element's box; ``look`` is its text and cell settings (see ``layout.styles``)."""
        element = cell.element
        look = look or Look()
        if look.size is not None and element.x is None and self.fit != 1.0:
            look = replace(look, size=look.size * self.fit)  # a wide listing, fitted to the page
        width = self._width(element, gap=gap)
        if isinstance(element, Line):
            stroke = f"{element.thickness}pt + {self._color(element.color)}"
            return f"box(width: {width}, height: 0.6em, align(horizon, line(length: 100%, stroke: {stroke})))"
        if isinstance(element, Box):
            fill = f", fill: rgb({typst_string(element.fill)})" if element.fill else ""
            return (
                f"box(width: {width}, height: {element.height}, "
                f"stroke: {element.stroke}pt + {self._color(element.color)}{fill})"
            )
        if isinstance(element, Chart):
            # The cell holds {"svg": ..., "alt": ...}: the chart, drawn by vl-convert, as data.
            caption = ""
            if element.caption:
                caption = f'; linebreak(); text(size: 0.9em, style: "italic", {typst_string(element.caption)})'
            return (
                f"box(width: {width}, {{ let chart = json(bytes(c.at({index}))); "
                f'image(bytes(chart.svg), format: "svg", width: 100%, height: {element.height}, fit: "contain", '
                f"alt: chart.alt){caption} }})"
            )
        if isinstance(element, Barcode):
            body = barcode_image(element, index) if index is not None else "none"
            return f"box(width: {width}, {self._aligned(cell, body)})"
        if isinstance(element, Crosstab) and index is not None:  # its cell holds the crosstab's JSON
            code = crosstab_code(element, index, body=self.plan.column_width, font_size=self.plan.page.font_size)
            return self._text_call(look, code)  # its style's font, size and colour
        if isinstance(element, Subreport) and index is not None and cell.page_slot is not None:
            return page_subreport_call(width, index, cell.page_slot)
        if isinstance(element, Subreport) and index is not None:
            return subreport_call(width, index)
        if isinstance(element, Image):
            if index is not None:
                body = column_image(element, index)
            else:
                body = static_image(element, cell.where, self.plan, self.assets)
            return f"box(width: {width}, {self._aligned(cell, body)})"
        if isinstance(element, Label) and element.markup == "markdown":
            body = rich_label(element.text)
        elif isinstance(element, Label):
            body = typst_string(self._label_text(cell, element, look))
        elif isinstance(element, PageNumber):
            body = self._page_number(element, cell.page_slot)
        elif cell.page_slot is not None:
            body = f"page-value({cell.page_slot})"
        elif getattr(element, "markup", "none") == "markdown":
            body = rich_call(f"c.at({index})")
        else:
            body = f"c.at({index})"
        body = self._text_call(look, body)
        if cell.where in self.links:
            body = navigation.linked(body, self.links[cell.where])
        body = self._aligned(cell, body)
        if element.overflow != "wrap":
            return one_line_box(width, body)
        if element.height is not None:  # a placed text of a fixed size (a form's field)
            return f"box(width: {width}, height: {element.height}, clip: true, {body})"
        return f"box(width: {width}{styles.box_options(look, padding, GUTTER)}, {body})"

    def _color(self, color: str | None) -> str:
        return f"rgb({typst_string(color)})" if color else "luma(90)"

    # -- bands ---------------------------------------------------------------------------

    def _cells(self, band: BandPlan, styling: BandStyling, function: str) -> list[tuple[Cell, str]]:
        """The band's elements, left to right (or at their places in a form), each in its look;
        hidden cells (a group's bookmark title, link URLs) are data for the elements, not shown.
        Returns each element's code."""
        band_text = Look() if styles.text_varies(styling.band_switch) else styling.band.text
        padding = styling.band.padding or styles.DEFAULT_PADDING
        indices = {cell.where: i for i, cell in enumerate(band.data_cells)}
        self.links = {c.where.removesuffix(".link"): indices[c.where] for c in band.cells if c.role == "link"}
        shown_at = {c.where.removesuffix(".print_when"): indices[c.where] for c in band.cells if c.role == "when"}
        self.headings = [
            navigation.heading(self.plan, band, indices[cell.where]) for cell in band.cells if cell.role == "outline"
        ]
        for heading in self.headings:
            self.line(f"  {heading}", band.name)
        self.line_starts: set[int] = set()
        """Of the band being written: the boxes that begin a new line (the percentages are full)."""
        line_share = 0.0  # of the band's width, by the elements given in percent
        first_on_line = True
        placed = placement.is_placed(band.band)
        self.widths = {} if placed else self._row_widths(band)
        boxes: list[tuple[Cell, str]] = []
        for position, cell in enumerate(band.cells):
            if cell.hidden:
                continue
            index = indices.get(cell.where)
            if placed:
                look = band_text.then(styling.elements[position]) if styling.elements else None
                code = place(cell.element, self.element(cell, index, gap=False, look=look, padding="0pt"))
                if cell.where in shown_at:  # its print_when
                    code = f'if c.at({shown_at[cell.where]}) != "" {{ {code} }}'
                self.line(f"  {code}", band.name, cell.where)
                continue
            share = _percent(cell.element.width)
            if share is not None and line_share and line_share + share > 100 + 1e-9:
                # Typst's line breaker may break earlier than needed between boxes; a line that
                # is full by the definition's own percentages ends here, explicitly.
                self.line("  linebreak()", band.name)
                line_share, first_on_line = 0.0, True
                self.line_starts.add(len(boxes))
            line_share += share or 0.0
            gap = "" if first_on_line else f"h({GUTTER}); "
            look = band_text.then(styling.elements[position]) if styling.elements else None
            switch = styling.element_switches[position] if styling.elements else None
            if switch is None:
                code = self.element(cell, index, gap=not first_on_line, look=look, padding=padding)
            else:  # one look per conditional style, chosen by the element's hidden cell
                table = f"{function}-e{position}"
                variants = [
                    "c => "
                    + self.element(cell, index, gap=not first_on_line, look=band_text.then(each), padding=padding)
                    for each in switch.looks
                ]
                self.lines.insert(self._band_start, f"#let {table} = {styles.looks_table(variants)}")
                self._band_start += 1
                code = f"{table}.at(c.at({self._switch_index(band, styling, switch)}))(c)"
            if cell.where in shown_at:  # its print_when: elsewhere an empty cell of its width
                empty = f"box(width: {self._width(cell.element, gap=not first_on_line)})"
                code = f'if c.at({shown_at[cell.where]}) != "" {{ {code} }} else {{ {empty} }}'
            boxes.append((cell, code))
            self.line(f"  {gap}{code}", band.name, cell.where)
            first_on_line = False
        return boxes

    def band_function(self, band: BandPlan, function: str) -> None:
        """``#let band-i(c, ...)``: the band as a block, ``c`` its cells' display strings. A
        band of the stream also takes ``m`` (report the page it lands on), ``b`` (start a new
        page), ``continued`` (printed again on a continuation page) and ``first`` (the report's
        first band, which a page break before would part from the title)."""
        styling = band.styling or BandStyling(Look(), None, (), ())
        group = self.plan.group(band.level) if band.scope == "group" else None
        reprinted = group is not None and group.reprint_header
        threshold = placement.tall_threshold(band, self.plan.page)
        # a report band checks its values itself; the stream's very long ones come as another kind
        flow = f"{function}-flow" if threshold is not None and band.scope == "report" else function
        self.line(comment(band.name), band.name)
        options, prefix = self._band_looks(band, styling, function)
        if band.band.keep_together and not any(o.startswith("height:") for o in options):
            options.append("breakable: false")
        stream = band.scope != "report"
        marked, breaking = stream and self.plan.has_page_values, stream and self._asks_for_room()
        continued = reprinted and band.kind == "group_header"
        named = [
            name
            for name, used in (
                ("m: none", marked),
                ("b: false", breaking),
                ("continued: false", continued),
                ("first: false", stream and band.break_before),
            )
            if used
        ]
        before, after = _around(band, group, continued=continued, breaking=breaking)
        parameters = ", ".join(["c", *named])
        if before or after:
            self.line(f"#let {flow}({parameters}) = {{", band.name)
            for statement in before:
                self.line(f"  {statement}", band.name)
            self.line(f"  block({', '.join(options)}, {{{prefix}", band.name)
        else:  # the common case: the block alone (each statement costs time on every row)
            self.line(f"#let {flow}({parameters}) = block({', '.join(options)}, {{{prefix}", band.name)
        if marked:  # where the pages break, checked after typesetting: the values per page assume it
            self.line("  if m != none { context [#metadata((m, page-number())) <polarreports-mark>] }", band.name)
        if continued:
            self.line(f"  if not continued {{ open-group-{band.level}.update(c) }}", band.name)
        if reprinted and band.kind == "group_footer":
            self.line(f"  open-group-{band.level}.update(none)", band.name)
        if styling.logo is not None:
            self.line("  grid(columns: (1fr, auto), column-gutter: 6pt, align: horizon, {", band.name)
        boxes = self._cells(band, styling, function)
        if continued and group is not None and group.continued_text and _continued_cell(band) is None:
            text = typst_string(group.continued_text)
            self.line(f'  if continued {{ h({GUTTER}); text(style: "italic", {text}) }}', band.name)
        if styling.logo is not None:
            name, data = styling.logo
            self.assets[name] = data
            self.line(f"  }}, {styles.logo_asset(name)})", band.name)
        self.line("  })" if before or after else "})", band.name)
        for statement in after:
            self.line(f"  {statement}", band.name)
        if before or after:
            self.line("}", band.name)
        if threshold is not None:
            self._tall_band(band, function, options, boxes, threshold)

    def _switch_index(self, band: BandPlan, styling: BandStyling, switch: object) -> int:
        """Where a switch's hidden cell is in ``c``: after the elements' data cells."""
        return len(band.data_cells) + next(j for j, s in enumerate(styling.switches) if s is switch)

    def _geometry(self, band: BandPlan, options: list[str]) -> list[str]:
        """A form (placed elements) has no padding; it and a band of fixed height are exactly
        that tall, cut off, and never break across pages."""
        definition = band.band
        placed = placement.is_placed(definition)
        if placed:
            options = [o for o in options if not o.startswith("inset:")] + ["inset: 0pt"]
        if placed or definition.height is not None:
            height = placement.placed_height(definition, self.plan.page) if placed else definition.height
            options = [*options, f"height: {height}", "clip: true", "breakable: false"]
        return options

    def _band_looks(self, band: BandPlan, styling: BandStyling, function: str) -> tuple[list[str], str]:
        """The band's ``block()`` arguments and the start of its body: fixed, or (with a
        switch) looked up per instance in a table of looks written before the function."""
        self._band_start = len(self.lines)
        switch = styling.band_switch
        if switch is None:
            return self._geometry(band, self._hoisted(styles.band_options(band, styling.band, GUTTER))), ""
        at = f"c.at({self._switch_index(band, styling, switch)})"
        blocks = [
            styles.typst_dict(self._geometry(band, styles.band_options(band, look, GUTTER))) for look in switch.looks
        ]
        self.line(f"#let {function}-looks = {styles.looks_table(blocks)}", band.name)
        prefix = ""
        if styles.text_varies(switch):
            texts = [styles.typst_dict(styles.text_options(look.text)) for look in switch.looks]
            self.line(f"#let {function}-text = {styles.looks_table(texts)}", band.name)
            prefix = f" set text(..{function}-text.at({at}));"
        self._band_start = len(self.lines)
        return [f"..{function}-looks.at({at})"], prefix

    def _tall_band(
        self, band: BandPlan, function: str, options: list[str], boxes: list[tuple[Cell, str]], threshold: int
    ) -> None:
        """The band for values long enough to fill a page (``{function}-tall``). With ``split:
        allow`` its cells become a grid row, which Typst can break across pages (a box cannot);
        with ``split: error`` it is measured, and one taller than the page stops the render,
        naming the band. The stream's instances are routed to it in Polars (see ``TALL``); a
        report band (printed once) tests its values' length itself."""
        report_band = band.scope == "report"
        flow = f"{function}-flow" if report_band else function
        if band.band.split == "error":
            message = typst_string(SPLIT_ERROR)
            tall = (
                f"layout(size => {{ let b = {flow}(c); "
                f"if measure(block(width: size.width, b)).height > size.height {{ panic({message}) }}; b }})"
            )
        else:
            lines = self._tall_lines(boxes)
            marker = self._continued_marker(band)
            grids = [
                f"grid(columns: ({', '.join(columns)},), column-gutter: {GUTTER}, "
                + (f"{marker(len(columns))}, " if marker and i == 0 else "")
                + f"{', '.join(cells)})"
                for i, (columns, cells) in enumerate(lines)
            ]
            breaking = [option for option in options if option != "breakable: false"]  # taller than a page
            body = grids[0] if len(grids) == 1 else "{ " + "; ".join(grids) + " }"
            tall = f"block({', '.join(breaking)}, {{ [#metadata(none) <polarreports-tall>]; {body} }})"
            if band.band.keep_together:  # whole on the next page if it fits on one, else split
                tall = (
                    f"layout(size => {{ let b = {tall}; "
                    "if measure(block(width: size.width, b)).height <= size.height { block(breakable: false, b) } "
                    "else { b } })"
                )
            statements = list(self.headings)  # the group's bookmark
            if self.plan.has_page_values and not report_band:  # report the page it lands on
                statements.append(
                    'let m = args.named().at("m", default: none); '
                    "if m != none { context [#metadata((m, page-number())) <polarreports-mark>] }"
                )
            if band.break_before:
                first = 'args.named().at("first", default: false)'
                statements.insert(0, f"if not measuring and not {first} {{ pagebreak(weak: true) }}")
            if statements:
                tall = f"{{ {'; '.join(statements)}; {tall} }}"
        self.line(f"#let {function}-tall(c, ..args) = {tall}", band.name)
        if report_band:
            limits = placement.cell_thresholds(band, self.plan.page)
            long_value = " or ".join(
                f'c.at({i}).len() + c.at({i}).matches("\\n").len() * {per_line} > {limit}'
                for i, (limit, per_line) in limits.items()
                if i >= 0
            )
            if placement.long_label(band, self.plan.page):
                long_value = "true"
            self.line(f"#let {function}(c) = if {long_value} {{ {function}-tall(c) }} else {{ {flow}(c) }}", band.name)

    def _continued_marker(self, band: BandPlan) -> Callable[[int], str] | None:
        """The header of a tall band's grid, repeated atop each page it goes on to: the innermost
        group's ``continued_text`` (``(continued)`` without groups) on those pages, nothing on
        its first (the ``<polarreports-tall>`` mark before the grid tells where it started)."""
        groups = self.plan.groups
        text = groups[-1].continued_text if groups else "(continued)"
        if not text:
            return None
        shown = typst_string(text)
        check = (
            "context { let start = query(selector(<polarreports-tall>).before(here())); "
            f'if start != () and start.last().location().page() < here().page() {{ text(style: "italic", {shown}) }} }}'
        )
        return lambda columns: f"grid.header(grid.cell(colspan: {columns}, {check}))"

    def _row_widths(self, band: BandPlan) -> dict[int, float]:
        """``id(cell)`` -> width (pt) of each shown cell of a row of cells (as the stream has them)."""
        return {id(cell): width for cell, width in zip(band.shown_cells, band.widths, strict=True)}

    def _tall_lines(self, boxes: list[tuple[Cell, str]]) -> list[tuple[list[str], list[str]]]:
        """The cells of a band's tall variant as lines of a grid each (columns, cells): a new
        line where the flow starts one (the percentages are full) or where the widths pass the
        page's, so that no cell starts beside the page."""
        whole = self.plan.column_width
        lines: list[tuple[list[str], list[str]]] = []
        used = 0.0
        for position, (cell, box) in enumerate(boxes):
            width_pt = self.widths.get(id(cell), 0.0)
            if not lines or position in self.line_starts or (used and used + width_pt > whole + 0.5):
                lines.append(([], []))
                used = 0.0
            columns, cells = lines[-1]
            gap = position > 0 and position not in self.line_starts  # as the flow wrote the box
            width = self._width(cell.element, gap=gap)
            rest = box.removeprefix(f"box(width: {width}, ")
            columns.append(self._width(cell.element, gap=bool(columns)))
            cells.append(f"block(width: 100%, {breakable(rest)}" if rest != box else box)
            used += width_pt + (placement.GUTTER_PT if used else 0.0)
        return lines

    def _preludes(self) -> None:
        """The definitions only some reports need: hidden headings, image placeholders, rich text."""
        cells = [cell for band in self.plan.bands for cell in band.cells]
        if any(cell.role == "outline" for cell in cells):
            self.line("#show heading: none  // group headings only feed the PDF outline and the contents")
        if any(isinstance(cell.element, Image) for cell in cells):
            self.line(IMAGE_PRELUDE)
        if any(getattr(cell.element, "markup", "none") == "markdown" for cell in cells):
            self.line(RICH_PRELUDE)
        if any(isinstance(cell.element, Subreport) for cell in cells):
            self.line(SUBREPORT_PRELUDE)

    def write(self) -> TypstSource:
        plan = self.plan
        page = plan.page
        language = plan.locale.split("_")[0].lower()
        self.line(f"// polarreports: report {typst_string(plan.name)}; generated, the data is read from /{DATA_FILE}")
        self.line(f'#let data = json("/{DATA_FILE}")')
        self.line("// A chunk of a long report is typeset alone: it knows its first page number and the total.")
        self.line('#let first-page = data.at("first_page", default: 1)')
        self.line('#let measuring = data.at("measure", default: false)')
        self.line("// A wide listing's continuation panels interleave: page i of panel p is page (i-1)*panels + p.")
        self.line('#let panel = data.at("panel", default: 1)')
        self.line('#let panels = data.at("panels", default: 1)')
        self.line("#let local-page() = here().page() + first-page - 1  // needs context; within a panel")
        self.line("#let page-number() = (local-page() - 1) * panels + panel")
        self.line("// Values per page (page totals, carried forward ...), computed once the page breaks are known.")
        self.line(
            '#let page-value(i) = context { let p = data.at("pages", default: none); '
            'if p == none { "" } else { p.at(here().page() - 1, default: ()).at(i, default: "") } }'
        )
        self.line(
            '#let local-total() = { let t = data.at("total_pages", default: none); '
            "if t == none { counter(page).final().first() } else { t } }"
        )
        self.line("#let total-pages() = local-total() * panels")
        self.line(
            "// (local-page and local-total: the pages of one panel; the same as the document's when there is one)"
        )
        title = typst_string(plan.title)
        # No date (the same input gives the same bytes), except where a PDF standard needs one
        # (PDF/A): then the compile's timestamp, which the worker passes with ``sys.inputs``.
        self.line(
            f"#set document(title: {title}, "
            'date: if sys.inputs.at("dated", default: "") == "yes" { auto } else { none })'
        )
        fonts = ", ".join(typst_string(f) for f in FONTS)
        self.line(
            f'#set text(font: ({fonts}), size: {page.font_size * self.fit:g}pt, number-width: "tabular", '
            f"lang: {typst_string(language)}, dir: {text_direction(plan.locale)}, "
            f"hyphenate: {str(plan.hyphenate).lower()})"
        )
        self.line('#set par(leading: 0.45em, spacing: 0.45em, justify: false, linebreaks: "simple")')
        self.line("#set block(spacing: 0pt)")
        constants_at = len(self.lines)
        self.line("")  # the constants of the band functions, bound once (see ``constant``)
        self._preludes()
        self.line("")
        reprinted = [group.level for group in plan.groups if group.reprint_header]
        for level in reprinted:
            # The open group of this level, for "(continued)" headers; a chunk starts with its own.
            self.line(
                f'#let open-group-{level} = state("polarreports-open-{level}", '
                f'data.at("open", default: (:)).at("{level}", default: none))'
            )
        functions: dict[str, str] = {}
        for i, band in enumerate(plan.bands):
            function = f"band-{i}"
            functions[band.name] = function
            self.band_function(band, function)
        kinds = [functions[band.name] + ("-tall" if variant else "") for _, band, variant in _kinds(plan)]
        self.line("#let bands = (" + "".join(f"{name}, " for name in kinds) + ")")

        def report_band(kind: str) -> str:
            band = plan.band(kind)
            if band is None:
                return "none"
            # a report band whose print_when is false is left out of the data
            return f'(if "{kind}" in data.static {{ {functions[band.name]}(data.static.{kind}) }})'

        self._page_bands(report_band, functions, reprinted)
        self.line(self._page_setup(page))
        title_band = plan.band("title")
        title_page = title_band is not None and title_band.break_after
        # On a title page of its own, the column header waits for the next page's top.
        self._body(report_band, "none" if title_page else report_band("column_header"))
        self.assets.update({font.name: font.data for font in plan.fonts})  # fonts/<hash>: the worker loads them
        if self.constants:
            # one line (the source's line numbers do not depend on them); ";" ends each binding
            self.lines[constants_at] = ";".join(f"#let {name} = {value}" for value, name in self.constants.items())
        return TypstSource("\n".join(self.lines) + "\n", self.assets, self.origins, plan.tagged_pdf, page.columns)

    def _page_bands(self, report_band: Callable[[str], str], functions: dict[str, str], reprinted: list[int]) -> None:
        """What every page shows above and below its content, and behind it."""
        plan = self.plan
        # The column header follows the title on page 1 and heads every later page.
        page_header, column_header = report_band("page_header"), report_band("column_header")
        continued, continued_tallest = [], []
        for level in reprinted:
            header = plan.band("group_header", level)
            assert header is not None
            function = functions[header.name]
            cells = "open"
            text, at = plan.group(level).continued_text, _continued_cell(header)
            if text and at is not None:  # "North (continued)": the text follows the group's first value
                cells = (
                    f"open.enumerate().map(((j, v)) => if j == {at} {{ v + {typst_string(' ' + text)} }} else {{ v }})"
                )
            continued.append(
                f"{{ let open = open-group-{level}.get(); if open != none {{ {function}({cells}, continued: true) }} }}"
            )
            placeholder = "(" + '"X", ' * len(header.data_cells) + ")"
            continued_tallest.append(f"{function}({placeholder}, continued: true)")
        later_pages = "; ".join([column_header, *continued])
        self.line(f"#let page-top-tallest = {{ {'; '.join([page_header, column_header, *continued_tallest])} }}")
        shows_columns = navigation.column_header_from(plan)
        self.line(f"#let page-top = context {{ {page_header}; if {shows_columns} {{ {later_pages} }} }}")
        column_footer, page_footer = report_band("column_footer"), report_band("page_footer")
        last_footer = report_band("last_page_footer")
        if last_footer == "none":
            self.line(f"#let page-bottom = {{ {column_footer}; {page_footer} }}")
            self.line("#let page-bottom-options = (page-bottom,)")
        else:
            self.line(
                f"#let page-bottom = context {{ {column_footer}; "
                f"if local-page() == local-total() {{ {last_footer} }} else {{ {page_footer} }} }}"
            )
            ordinary, last = f"{{ {column_footer}; {page_footer} }}", f"{{ {column_footer}; {last_footer} }}"
            self.line(f"#let page-bottom-options = ({ordinary}, {last})")
        self.line(f"#let page-background = align(center + horizon, rotate(-35deg, {report_band('background')}))")

    def _body(self, report_band: Callable[[str], str], column_header: str) -> None:
        """The document body: a measuring pass, the no-data page, or the bands of one chunk."""
        self.line("  if measuring {")
        self.line("    // Measuring pass: the heights the paginator needs, nothing is shown.")
        self.line("    layout(size => {")
        self.line("      let height(body) = measure(block(width: size.width, body)).height.pt()")
        self.line("      [#metadata((")
        self.line("        body-top: here().position().y.pt(),")
        self.line("        body: size.height.pt(),")
        opening = f"{{ {report_band('title')}; {column_header} }}"
        if self.plan.page.columns > 1:  # the title spans the columns (a float over them)
            self.line(f"        top: measure(block(width: {self._body_width()}, {opening})).height.pt(),")
        else:
            self.line(f"        top: height({opening}),")
        self.line(f"        summary: height({report_band('summary')}),")
        self.line("        samples: data.rows.map(r => height(bands.at(r.k)(r.c))),")
        self.line(
            '        pairs: if data.at("singles", default: false) { () } else '
            "{ data.rows.map(r => height({ bands.at(r.k)(r.c); bands.at(r.k)(r.c) })) },"
        )
        self.line("      )) <polarreports-measure>]")
        self.line("    })")
        # The no-data page: no row passed the filter (a report of only a title and a summary has
        # rows, but no band in its stream).
        self.line('  } else if data.at("no_rows", default: data.rows.len() == 0) and data.at("first", default: true) {')
        self.line(f"    {self._opening(opening)}")
        self.line(f"    {report_band('no_data')}")
        self.line("  } else {")
        self.line('    if data.at("first", default: true) {')
        if self.plan.contents_title is not None:
            # the contents, then the rows from a new page, where the page header shows the column header
            self.line(f"      {self._opening(report_band('title'))}")
            self.line(f"      {navigation.table_of_contents(self.plan, typst_string)}")
        else:
            self.line(f"      {self._opening(opening)}")
        self.line("    }")
        self._rows()
        self.line('    if data.at("last", default: true) {')
        self.line(f"      {report_band('summary')}")
        self.line("    }")
        self.line("    // Where the content ends, so that the joins between chunks can be checked.")
        self.line("    context [#metadata((page: here().page(), y: here().position().y.pt())) <polarreports-end>]")
        self.line("  }")
        self.line("}")

    def _rows(self) -> None:
        """The loop over the chunk's bands. A new page before the report's first band would
        leave the title and column header alone on page 1 (a weak page break counts them as
        content), so that band starts none, as in JasperReports (whose filler marks the page new
        after the page header, so a group that starts a new page does not break before its first)."""
        rows = "data.rows"
        opens_page = [band.break_before for band in stream_kinds(self.plan)]
        if any(opens_page):
            rows = "rows"
            self.line(f"    let opens-page = ({''.join(f'{str(b).lower()}, ' for b in opens_page)})")
            self.line("    let rows = data.rows")
            self.line('    if data.at("first", default: true) and rows.len() > 0 {')
            self.line("      let r = rows.remove(0)")
            self.line('      let x = r.at("x", default: (:))')
            self.line(
                "      if opens-page.at(r.k) { bands.at(r.k)(r.c, ..x, first: true) } else { bands.at(r.k)(r.c, ..x) }"
            )
            self.line("    }")
        if self.plan.has_page_values or self._asks_for_room():
            # Some bands get named arguments: report your page (m), break the page before (b).
            self.line(f"    for r in {rows} {{")
            self.line('      if "x" in r { bands.at(r.k)(r.c, ..r.x) } else { bands.at(r.k)(r.c) }')
            self.line("    }")
        else:
            self.line(f"    for r in {rows} {{ bands.at(r.k)(r.c) }}")

    def _asks_for_room(self) -> bool:
        return self.plan.asks_for_room

    def _body_width(self) -> str:
        page = self.plan.page
        return f"({page.size_mm[0]}mm - {page.margins.left} - {page.margins.right})"

    def _opening(self, opening: str) -> str:
        """The title and column header on page 1; over all the columns of a multi-column page."""
        if self.plan.page.columns == 1:
            return opening
        return f'place(top, scope: "parent", float: true, clearance: 0pt, block(width: 100%, {opening}))'

    def _page_setup(self, page: PageSetup) -> str:
        width_mm, height_mm = page.size_mm
        height = "auto" if page.auto_height else f"{height_mm}mm"  # auto: as tall as the content (a receipt)
        m = page.margins
        body_width = self._body_width()
        columns = ""
        if page.columns > 1:
            columns = f", columns: {page.columns}"
            self.line(f"#set columns(gutter: {page.column_gap})")
        return (
            "#context {\n"
            f"  let top-height = measure(block(width: {body_width}, page-top-tallest)).height\n"
            f"  let bottom-height = calc.max(..page-bottom-options.map(\n"
            f"    b => measure(block(width: {body_width}, b)).height))\n"
            f"  set page(width: {width_mm}mm, height: {height}, "
            f"margin: (top: {m.top} + top-height + 6pt, bottom: {m.bottom} + bottom-height + 6pt, "
            f"left: {m.left}, right: {m.right}), header: page-top, footer: page-bottom, "
            f"header-ascent: 6pt, footer-descent: 6pt, background: page-background{columns})"
        )


def emit_typst(plan: ReportPlan, dtypes: dict[str, pl.DataType]) -> TypstSource:
    """The Typst source of ``plan``; ``dtypes`` gives each data cell's type (for alignment). A
    wide listing with ``wide: continue`` gets a source per panel (see ``layout.panels``)."""
    panels = panel_plans(plan)
    if not panels:
        return _Writer(plan, dtypes).write()
    first, *rest = (_Writer(panel, dtypes).write() for panel in panels)
    return replace(first, panels=tuple(rest))
