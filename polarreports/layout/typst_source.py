"""Write the Typst source of a report: one function per band, the data read from JSON.

Values from the data never appear in the source: the stream and the report-scope strings are
read with ``json("/data.json")`` and shown as strings, so no value can change the document.
Text from the definition (labels, the title) is written as code-mode string literals.

    >>> typst_string('say "hi" #x')
    '"say \\\\"hi\\\\" #x"'
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from polarreports.definition.elements import Aggregate, Box, Chart, Element, Image, Label, Line, PageNumber
from polarreports.definition.report import PageSetup
from polarreports.layout import placement
from polarreports.layout.overflow import one_line_box
from polarreports.plan.model import BandPlan, Cell, ReportPlan

__all__ = ["DATA_FILE", "SPLIT_ERROR", "TypstSource", "band_indices", "emit_typst", "typst_string"]

DATA_FILE = "data.json"
SPLIT_ERROR = "polarreports: a band with split: error is taller than the page"
"""What the Typst code panics with when a band with ``split: error`` does not fit a page."""
FONTS = ("Inter", "DejaVu Sans", "Droid Sans Fallback", "NanumGothic", "Noto Color Emoji")
GUTTER = "4pt"
"""Space between neighbouring cells; a gap (an ``h``) is cheaper to lay out than a box inset."""


def typst_string(text: str) -> str:
    """A Typst string literal whose value is exactly ``text``."""
    out = ['"']
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif ord(char) < 32 or ord(char) == 127:
            out.append(f"\\u{{{ord(char):x}}}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


@dataclass
class TypstSource:
    """Generated Typst code plus the files the compile needs in its root folder."""

    source: str
    assets: dict[str, Path] = field(default_factory=dict)
    """Root-relative path -> file to copy there (images)."""
    origins: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    """Source line (1-based) -> (band name, element ``where``) that produced it."""
    tagged: bool = False
    """Whether to write a tagged PDF (structure and alt texts, for assistive technology)."""
    columns: int = 1
    """Columns of the page body (the paginator fills them in turn)."""


def _percent(width: str | None) -> float | None:
    return float(width[:-1]) if width is not None and width.endswith("%") else None


def band_indices(plan: ReportPlan) -> dict[str, int]:
    """The index of each stream band (detail and group bands) in the layout's band table."""
    stream_bands = [band for band in plan.bands if band.scope != "report"]
    return {band.name: i for i, band in enumerate(stream_bands)}


class _Writer:
    def __init__(self, plan: ReportPlan, dtypes: dict[str, pl.DataType]) -> None:
        self.plan = plan
        self.dtypes = dtypes
        self.lines: list[str] = []
        self.origins: dict[int, tuple[str, str | None]] = {}
        self.assets: dict[str, Path] = {}
        self.fit = placement.fit_factor([band.band for band in plan.bands], plan.report.page)

    def line(self, text: str, band: str | None = None, element: str | None = None) -> None:
        self.lines.append(text)
        if band is not None:
            self.origins[len(self.lines)] = (band, element)

    # -- elements ------------------------------------------------------------------------

    def _styled(self, element: Element, body: str) -> str:
        options = []
        if element.bold:
            options.append('weight: "bold"')
        if element.italic:
            options.append('style: "italic"')
        if element.size is not None:
            options.append(f"size: {element.size * (1.0 if element.x is not None else self.fit):g}pt")
        if element.color is not None:
            options.append(f"fill: rgb({typst_string(element.color)})")
        return f"text({', '.join(options)}, {body})" if options else body

    def _aligned(self, cell: Cell, body: str) -> str:
        align = cell.element.align
        if align is None:
            dtype = self.dtypes.get(cell.where)
            numeric = dtype is not None and (dtype.is_numeric() or isinstance(cell.element, Aggregate))
            align = "right" if numeric else "left"
        return body if align == "left" else f"align({align}, {body})"

    def _page_number(self, element: PageNumber) -> str:
        parts = []
        rest = element.text
        while rest:
            page, pages = rest.find("{page}"), rest.find("{pages}")
            hits = [i for i in (page, pages) if i >= 0]
            if not hits:
                parts.append(typst_string(rest))
                break
            at = min(hits)
            if at:
                parts.append(typst_string(rest[:at]))
            if at == pages:
                parts.append("str(total-pages())")
                rest = rest[at + len("{pages}") :]
            else:
                parts.append("str(page-number())")
                rest = rest[at + len("{page}") :]
        return "context { " + "; ".join(parts) + " }"

    def _width(self, element: Element, *, gap: bool) -> str:
        if element.x is not None:  # placed: as wide as declared, or as its content
            return element.width or "auto"
        width = placement.fitted(element.width, self.fit) or "1fr"
        return f"{width} - {GUTTER}" if gap and not width.endswith("fr") else width

    def element(self, cell: Cell, index: int | None, *, gap: bool) -> str:
        element = cell.element
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
        if isinstance(element, Image):
            path = (self.plan.base_dir / element.path).resolve()
            digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
            name = f"assets/{digest}{path.suffix.lower()}"
            self.assets[name] = path
            height = f", height: {element.height}" if element.height else ""
            body = f"image({typst_string('/' + name)}, width: 100%{height})"
            return f"box(width: {width}, {self._aligned(cell, body)})"
        if isinstance(element, Label):
            body = typst_string(element.text)
        elif isinstance(element, PageNumber):
            body = self._page_number(element)
        else:
            body = f"c.at({index})"
        body = self._aligned(cell, self._styled(element, body))
        if element.overflow != "wrap":
            return one_line_box(width, body)
        if element.height is not None:  # a placed text of a fixed size (a form's field)
            return f"box(width: {width}, height: {element.height}, clip: true, {body})"
        return f"box(width: {width}, {body})"

    def _color(self, color: str | None) -> str:
        return f"rgb({typst_string(color)})" if color else "luma(90)"

    # -- bands ---------------------------------------------------------------------------

    def band_function(self, band: BandPlan, function: str) -> None:
        definition = band.band
        page = self.plan.report.page
        placed = placement.is_placed(definition)
        inset = "0pt" if placed else f"(x: {GUTTER} / 2, y: {definition.padding})"
        options = ["width: 100%", f"inset: {inset}"]
        if placed or definition.height is not None:
            height = placement.placed_height(definition, page) if placed else definition.height
            options.append(f"height: {height}, clip: true, breakable: false")
        if band.kind == "group_header":
            options.append("sticky: true")
        if definition.space_after != "0pt":
            options.append(f"below: {definition.space_after}")
        if definition.fill:
            options.append(f"fill: rgb({typst_string(definition.fill)})")
        strokes = []
        if definition.line_above:
            strokes.append("top: 0.5pt + luma(110)")
        if definition.line_below:
            strokes.append("bottom: 0.5pt + luma(110)")
        if strokes:
            options.append(f"stroke: ({', '.join(strokes)})")
        threshold = placement.tall_threshold(band, page)
        flow = f"{function}-flow" if threshold is not None else function
        self.line(f"// {band.name}", band.name)
        # no page break while measuring: there the band is measured inside a block
        opening = "{ if not measuring { pagebreak(weak: true) }; block(" if band.break_before else "block("
        self.line(f"#let {flow}(c) = {opening}{', '.join(options)}, {{", band.name)
        data_index = 0
        line_share = 0.0  # of the band's width, by the elements given in percent
        first_on_line = True
        boxes: list[tuple[Cell, str]] = []
        for cell in band.cells:
            index = None
            if cell.value is not None:
                index = data_index
                data_index += 1
            if placed:
                self.line(
                    f"  {placement.place(cell.element, self.element(cell, index, gap=False))}", band.name, cell.where
                )
                continue
            share = _percent(cell.element.width)
            if share is not None and line_share and line_share + share > 100 + 1e-9:
                # Typst's line breaker may break earlier than needed between boxes; a line that
                # is full by the definition's own percentages ends here, explicitly.
                self.line("  linebreak()", band.name)
                line_share, first_on_line = 0.0, True
            line_share += share or 0.0
            gap = "" if first_on_line else f"h({GUTTER}); "
            box = self.element(cell, index, gap=not first_on_line)
            boxes.append((cell, box))
            self.line(f"  {gap}{box}", band.name, cell.where)
            first_on_line = False
        self.line("}) }" if band.break_before else "})", band.name)
        if threshold is not None:
            self._tall_band(band, function, options, boxes, threshold)

    def _tall_band(
        self, band: BandPlan, function: str, options: list[str], boxes: list[tuple[Cell, str]], threshold: int
    ) -> None:
        """Bands whose values may be long enough to fill a page. Only an instance with such a
        long value (a cheap length test) takes the slower path: with ``split: allow`` its cells
        become a grid row, which Typst can break across pages (a box cannot); with ``split:
        error`` it is measured, and one taller than the page stops the render, naming the band."""
        # the cells that wrap, tested one by one (cheaper than a closure over all of them)
        data_cells = [cell for cell in band.cells if cell.value is not None]
        wrapping = [i for i, cell in enumerate(data_cells) if placement.wraps(cell.element)]
        long_value = " or ".join(f"c.at({i}).len() > {threshold}" for i in wrapping)
        if band.band.split == "error":
            message = typst_string(SPLIT_ERROR)
            tall = (
                f"layout(size => {{ let b = {function}-flow(c); "
                f"if measure(block(width: size.width, b)).height > size.height {{ panic({message}) }}; b }})"
            )
        else:
            columns: list[str] = []
            cells: list[str] = []
            for cell, box in boxes:
                width = self._width(cell.element, gap=bool(columns))
                rest = box.removeprefix(f"box(width: {width}, ")
                columns.append(width)
                cells.append(f"block(width: 100%, {rest}" if rest != box else box)
            grid = f"grid(columns: ({', '.join(columns)},), column-gutter: {GUTTER}, {', '.join(cells)})"
            self.line(f"#let {function}-tall(c) = block({', '.join(options)}, {grid})", band.name)
            tall = f"{function}-tall(c)"
            if band.break_before:
                tall = f"{{ if not measuring {{ pagebreak(weak: true) }}; {tall} }}"
        self.line(f"#let {function}(c) = if {long_value} {{ {tall} }} else {{ {function}-flow(c) }}", band.name)

    def write(self) -> TypstSource:
        plan = self.plan
        report = plan.report
        page = report.page
        language = report.locale.split("_")[0].lower()
        self.line(f"// polarreports: report {typst_string(report.name)}; generated, the data is read from /{DATA_FILE}")
        self.line(f'#let data = json("/{DATA_FILE}")')
        self.line("// A chunk of a long report is typeset alone: it knows its first page number and the total.")
        self.line('#let first-page = data.at("first_page", default: 1)')
        self.line('#let measuring = data.at("measure", default: false)')
        self.line("#let page-number() = here().page() + first-page - 1  // needs context")
        self.line(
            '#let total-pages() = { let t = data.at("total_pages", default: none); '
            "if t == none { counter(page).final().first() } else { t } }"
        )
        title = typst_string(report.title or report.name)
        self.line(f"#set document(title: {title}, date: none)")
        fonts = ", ".join(typst_string(f) for f in FONTS)
        self.line(
            f'#set text(font: ({fonts}), size: {page.font_size * self.fit:g}pt, number-width: "tabular", '
            f"lang: {typst_string(language)}, hyphenate: false)"
        )
        self.line('#set par(leading: 0.45em, spacing: 0.45em, justify: false, linebreaks: "simple")')
        self.line("#set block(spacing: 0pt)")
        self.line("")
        functions: dict[str, str] = {}
        for i, band in enumerate(plan.bands):
            function = f"band-{i}"
            functions[band.name] = function
            self.band_function(band, function)
        stream = [band for band in plan.bands if band.scope != "report"]
        self.line("#let bands = (" + "".join(f"{functions[b.name]}, " for b in stream) + ")")

        def report_band(kind: str) -> str:
            band = plan.band(kind)
            if band is None:
                return "none"
            # a report band whose print_when is false is left out of the data
            return f'(if "{kind}" in data.static {{ {functions[band.name]}(data.static.{kind}) }})'

        # The column header follows the title on page 1 and heads every later page.
        page_header, column_header = report_band("page_header"), report_band("column_header")
        self.line(f"#let page-top-tallest = {{ {page_header}; {column_header} }}")
        self.line(f"#let page-top = context {{ {page_header}; if page-number() > 1 {{ {column_header} }} }}")
        self.line(f"#let page-bottom = {{ {report_band('column_footer')}; {report_band('page_footer')} }}")
        self.line(self._page_setup(page))
        self._body(report_band, column_header)
        return TypstSource("\n".join(self.lines) + "\n", self.assets, self.origins, report.tagged_pdf, page.columns)

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
        if self.plan.report.page.columns > 1:  # the title spans the columns (a float over them)
            self.line(f"        top: measure(block(width: {self._body_width()}, {opening})).height.pt(),")
        else:
            self.line(f"        top: height({opening}),")
        self.line(f"        summary: height({report_band('summary')}),")
        self.line("        samples: data.rows.map(r => height(bands.at(r.k)(r.c))),")
        self.line("        pairs: data.rows.map(r => height({ bands.at(r.k)(r.c); bands.at(r.k)(r.c) })),")
        self.line("      )) <polarreports-measure>]")
        self.line("    })")
        self.line('  } else if data.rows.len() == 0 and data.at("first", default: true) {')
        self.line(f"    {self._opening(opening)}")
        self.line(f"    {report_band('no_data')}")
        self.line("  } else {")
        self.line('    if data.at("first", default: true) {')
        self.line(f"      {self._opening(opening)}")
        self.line("    }")
        self.line("    for r in data.rows { bands.at(r.k)(r.c) }")
        self.line('    if data.at("last", default: true) {')
        self.line(f"      {report_band('summary')}")
        self.line("    }")
        self.line("    // Where the content ends, so that the joins between chunks can be checked.")
        self.line("    context [#metadata((page: here().page(), y: here().position().y.pt())) <polarreports-end>]")
        self.line("  }")
        self.line("}")

    def _body_width(self) -> str:
        page = self.plan.report.page
        return f"({page.size_mm[0]}mm - {page.margins.left} - {page.margins.right})"

    def _opening(self, opening: str) -> str:
        """The title and column header on page 1; over all the columns of a multi-column page."""
        if self.plan.report.page.columns == 1:
            return opening
        return f'place(top, scope: "parent", float: true, clearance: 0pt, block(width: 100%, {opening}))'

    def _page_setup(self, page: PageSetup) -> str:
        width_mm, height_mm = page.size_mm
        m = page.margins
        body_width = self._body_width()
        columns = ""
        if page.columns > 1:
            columns = f", columns: {page.columns}"
            self.line(f"#set columns(gutter: {page.column_gap})")
        return (
            "#context {\n"
            f"  let top-height = measure(block(width: {body_width}, page-top-tallest)).height\n"
            f"  let bottom-height = measure(block(width: {body_width}, page-bottom)).height\n"
            f"  set page(width: {width_mm}mm, height: {height_mm}mm, "
            f"margin: (top: {m.top} + top-height + 6pt, bottom: {m.bottom} + bottom-height + 6pt, "
            f"left: {m.left}, right: {m.right}), header: page-top, footer: page-bottom, "
            f"header-ascent: 6pt, footer-descent: 6pt{columns})"
        )


def emit_typst(plan: ReportPlan, dtypes: dict[str, pl.DataType]) -> TypstSource:
    """The Typst source of ``plan``; ``dtypes`` gives each data cell's type (for alignment)."""
    return _Writer(plan, dtypes).write()
