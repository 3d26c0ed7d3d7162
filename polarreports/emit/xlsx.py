"""The report as an Excel workbook (``doc.save("report.xlsx")``), written with xlsxwriter in
constant memory: a row is written and forgotten, so a million rows need no more memory than ten.

One sheet: the title on top, then the column header (frozen, with an autofilter), every band in
report order, the summary below. Each band's elements go to the spreadsheet column where they
start on the page (the columns are the column header's, else the detail band's); values keep
their type (numbers, Decimals as numbers, dates and datetimes as Excel dates, booleans as
booleans, text as text) with the Excel number format of the report's pattern
(``emit.excel_formats``), rounded as the report rounds them, so a cell shows what the PDF shows
and still sums. A value that no Excel format can show as the report does (a per-mille pattern,
a quarter) stays a value with a plain format (ISO 8601 for dates); NaN and infinities show the
report's text; booleans show Excel's TRUE/FALSE. Group headers and footers are rows with outline
levels (the groups collapse with Excel's +/− buttons). Rich text (``markup: markdown``) is its
plain text (``compute.markup.tree_text``). A crosstab's rows (``emit.xlsx_crosstab``: its
labels, its figures as numbers with their measure's format) go where it is among its band's
elements: give ``BandFrames`` its crosstabs (``crosstabs=True``). A subreport's rows
(``emit.xlsx_subreport``: its rows' values as numbers and dates in their columns' formats; its
header, group rows and totals as the report's texts) go
below its band's row, from the subreport's column, one outline level deeper. Subtotals are values, or with
``formulas=True`` ``SUBTOTAL`` formulas over their group's rows (where the footer's column holds
the summed field in the detail rows), each with its value cached.

The detail rows, nearly all of a long report, are made as sheet XML in Polars a batch at a time
(``emit.xlsx_rows``) and copied into xlsxwriter's row file; the other rows go through xlsxwriter.

    >>> import io, openpyxl, polarreports as pr
    >>> from polarreports.emit.bandframe import BandFrames
    >>> doc = pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(20))
    >>> out = io.BytesIO()
    >>> rendered = doc._rendered
    >>> write_xlsx(BandFrames(rendered.plan, rendered.stream, rendered.dtypes, crosstabs=True), out)
    >>> sheet = openpyxl.load_workbook(out).active
    >>> [cell.value for cell in sheet[3]][:4]
    ['Date', 'Order', 'Product', 'Qty']
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, BinaryIO

import polars as pl
import xlsxwriter  # type: ignore[import-untyped]
from xlsxwriter.utility import xl_range  # type: ignore[import-untyped]

from polarreports.compute.markup import markdown_text
from polarreports.control import temp_prefix
from polarreports.definition.elements import Aggregate, Crosstab, Field, Label, Subreport
from polarreports.emit.bandframe import CROSSTAB_PREFIX, SUBREPORT_PREFIX, BandFrames
from polarreports.emit.excel_formats import cell_value, excel_format
from polarreports.emit.xlsx_crosstab import Figure, crosstab_rows
from polarreports.emit.xlsx_rows import FIRST_SERIAL, MAX_TEXT, RowCell, rows_xml
from polarreports.emit.xlsx_subreport import SubRow, subreport_rows
from polarreports.exceptions import FormatError, OutputError
from polarreports.plan.geometry import GUTTER_PT
from polarreports.plan.model import BandKind, BandPlan, ReportPlan
from polarreports.plan.subreports import table_formats

__all__ = ["write_xlsx"]

POLARS_ROWS = True
"""Whether the detail rows' XML is made in Polars (``emit.xlsx_rows``); False: by xlsxwriter."""
EXCEL_ROWS = 1_048_576
"""The rows of an Excel sheet."""
_SLICE_ROWS = 2_000
"""Rows turned into Python objects at a time."""
_SUBTOTAL = {"sum": 9, "avg": 1, "min": 5, "max": 4}
"""``SUBTOTAL`` function numbers of the calculations a formula can redo."""


@dataclass(frozen=True)
class _Slot:
    """What one spreadsheet cell of a band holds: a label's text, or a value with its text."""

    column: int
    label: str | None = None
    value: int | None = None
    """The value's position in the export's rows (and ``text`` its text's)."""
    text: int | None = None
    number_format: str | None = None
    calendar: bool = False
    """A date or datetime (its value an Excel serial number, from 1900-03-01 on)."""
    bold: bool = False
    italic: bool = False
    align: str | None = None
    subtotal: tuple[int, int] | None = None
    """For ``formulas``: the SUBTOTAL function number and the detail column it recomputes."""
    crosstab: Crosstab | None = None
    """A crosstab, whose rows (``emit.xlsx_crosstab``) go below its band's row."""
    subreport: bool = False
    """A subreport, whose rows (``emit.xlsx_subreport``) go below its band's row, from its column."""
    typed: int | None = None
    """A subreport's rows' raw values (their position in the export's rows, made for the sheet:
    rounded as shown, dates as serial numbers)."""
    sub_formats: tuple[tuple[str | None, bool] | None, ...] = ()
    """Per column of a subreport's table: its Excel number format and whether it is a date."""


def _starts(plan: ReportPlan, band: BandPlan) -> list[tuple[float, Any, int | None]]:
    """The band's shown elements with where they start (pt) and their data cell index."""
    data = {id(cell): i for i, cell in enumerate(band.data_cells)}
    found, x = [], 0.0
    for cell, width in zip(band.shown_cells, band.widths, strict=True):
        found.append((x, cell, data.get(id(cell))))
        x += width + GUTTER_PT
    return found


class _Layout:
    """Where each band's elements go: the columns, their widths, each band's slots."""

    def __init__(self, frames: BandFrames, formulas: bool) -> None:
        plan = frames.plan
        self.plan = plan
        grid_band = plan.band(BandKind.COLUMN_HEADER) or plan.band(BandKind.DETAIL)
        grid = _starts(plan, grid_band) if grid_band is not None else []
        self.starts = [x for x, _, _ in grid] or [0.0]
        widths = grid_band.widths if grid_band is not None and grid else (100.0,)
        scale = 11.0 / plan.page.font_size / 5.25  # points of the page in characters of Calibri 11
        self.widths = [max(4.0, w * scale) for w in widths]
        detail = plan.band(BandKind.DETAIL)
        self._frames = frames
        self._summed = self._subtotals(detail, formulas)
        self.cells: list[pl.Expr] = []
        """Values rounded (or cut) as the report shows them (``cell_value``), as columns after
        the export's: a spreadsheet then shows exactly the report's text."""
        self.slots = {frames.label(band.name): self._band_slots(band) for band in frames.bands}
        self._only_whole_subtotals()
        header = plan.band(BandKind.COLUMN_HEADER)
        self.header = [slot for slot in self._band_slots(header) if slot.label is not None] if header else []
        if not self.header and detail is not None:  # no column header: the detail's value names
            columns = frames.schema_names  # over the detail's values, where they went (labels take columns too)
            self.header = [
                _Slot(slot.column, label=columns[slot.text].removesuffix("_text"), bold=True)
                for slot in self.slots.get(frames.label(detail.name), [])
                if slot.text is not None
            ]
        self.width = max([len(self.starts), *(s.column + 1 for slots in self.slots.values() for s in slots)])

    def _band_slots(self, band: BandPlan) -> list[_Slot]:
        """Where band ``band``'s labels and values go, with their formats."""
        frames, plan = self._frames, self.plan
        columns = frames.schema_names
        names = frames.value_names(band.name)
        used: set[int] = set()
        slots = []
        for x, cell, index in _starts(self.plan, band):
            column = self._column(x, used)
            used.add(column)
            element = cell.element
            bold, italic, align = bool(element.bold), bool(element.italic), element.align
            if isinstance(element, Label):
                label = markdown_text(element.text) if element.markup == "markdown" else element.text
                slots.append(_Slot(column, label=label, bold=bold, italic=italic, align=align))
                continue
            name = names.get(index) if index is not None and index in names else None
            if name is None:
                continue
            if isinstance(element, Crosstab) and name.startswith(CROSSTAB_PREFIX):
                slots.append(_Slot(column, value=columns.index(name), crosstab=element))
                continue
            if name.startswith(SUBREPORT_PREFIX):
                assert index is not None
                slots.append(self._subreport_slot(band, column, columns.index(name), index))
                continue
            dtype = frames.schema[name]
            if align is None and dtype.is_numeric():  # as the report aligns them, null texts too
                align = "right"
            pattern = cell.pattern or cell.default_pattern
            try:
                code = excel_format(pattern, dtype, locale=plan.locale, currency=plan.currency)
            except FormatError:  # the report formatted it: a pattern this translation refuses
                code = None
            if code is None and dtype.is_temporal():  # a pattern Excel cannot show: ISO 8601
                code = "yyyy-mm-dd hh:mm:ss" if dtype == pl.Datetime else "yyyy-mm-dd"
            if dtype == pl.Boolean:  # TRUE/FALSE (Excel shows a boolean so, whatever the code)
                code = None
            position = columns.index(name)
            if dtype.is_float() or dtype.is_decimal() or dtype.is_temporal():
                shown = cell_value(pl.col(name), dtype, pattern, locale=plan.locale, currency=plan.currency)
                if dtype.is_temporal():
                    shown = _serial(shown, dtype)
                position = len(columns) + len(self.cells)
                is_band = pl.col("band") == frames.label(band.name)
                self.cells.append(pl.when(is_band).then(shown).alias(f"__cell{len(self.cells)}"))
            subtotal = None
            if band.kind in (BandKind.GROUP_FOOTER, BandKind.SUMMARY) and isinstance(element, Aggregate):
                subtotal = self._summed.get((column, element.variable)) if element.show == "value" else None
            slots.append(
                _Slot(
                    column,
                    value=position,
                    text=columns.index(f"{name}_text"),
                    number_format=code,
                    calendar=dtype == pl.Date or isinstance(dtype, pl.Datetime),
                    bold=bold,
                    italic=italic,
                    align=align,
                    subtotal=subtotal,
                )
            )
        return slots

    def _subreport_slot(self, band: BandPlan, column: int, position: int, index: int) -> _Slot:
        """A subreport's slot: its table's JSON and, where its rows have raw values, those values
        as the sheet writes them (a column after the export's) with each column's Excel format."""
        frames, plan = self._frames, self.plan
        name = frames.typed_name(band.name, index)
        dtype = frames.schema.get(name) if name is not None else None
        element = band.data_cells[index].element
        if name is None or not isinstance(dtype, pl.List) or not isinstance(dtype.inner, pl.Struct):
            return _Slot(column, value=position, subreport=True)
        assert isinstance(element, Subreport)
        patterns, locale, currency = table_formats(element)
        locale, currency = locale or plan.locale, currency or plan.currency
        converted, formats = [], {}
        for field in dtype.inner.fields:
            i, kind = int(field.name[1:]), field.dtype if isinstance(field.dtype, pl.DataType) else field.dtype()
            pattern = patterns[i] if i < len(patterns) else None
            try:
                code = excel_format(pattern, kind, locale=locale, currency=currency)
            except FormatError:
                code = None
            if code is None and kind.is_temporal():
                code = "yyyy-mm-dd hh:mm:ss" if kind == pl.Datetime else "yyyy-mm-dd"
            value = pl.element().struct.field(field.name)
            if kind.is_float() or kind.is_decimal() or kind.is_temporal():
                value = cell_value(value, kind, pattern, locale=locale, currency=currency)
                value = _serial(value, kind) if kind.is_temporal() else value
            converted.append(value.alias(field.name))
            formats[i] = (None if kind == pl.Boolean else code, kind == pl.Date or isinstance(kind, pl.Datetime))
        shown = pl.col(name).list.eval(pl.struct(converted))
        is_band = pl.col("band") == frames.label(band.name)
        typed = len(frames.schema_names) + len(self.cells)
        self.cells.append(pl.when(is_band).then(shown).alias(f"__cell{len(self.cells)}"))
        width = max(formats, default=-1) + 1
        return _Slot(
            column, value=position, subreport=True, typed=typed, sub_formats=tuple(formats.get(i) for i in range(width))
        )

    def _only_whole_subtotals(self) -> None:
        """A column keeps its SUBTOTAL formulas only if every total in it is one: a plain value
        among them would be counted again by the formula of the group around it."""
        mixed = {
            slot.column
            for label, slots in self.slots.items()
            if label not in ("detail", "title")
            for slot in slots
            if slot.value is not None and slot.subtotal is None and slot.crosstab is None
        }
        for label, slots in self.slots.items():
            self.slots[label] = [
                _Slot(**{**slot.__dict__, "subtotal": None}) if slot.column in mixed else slot for slot in slots
            ]

    def _column(self, x: float, used: set[int]) -> int:
        """The grid column where ``x`` falls (the next free one if taken)."""
        column = max((i for i, start in enumerate(self.starts) if start <= x + 1.0), default=0)
        while column in used:
            column += 1
        return column

    def _subtotals(self, detail: BandPlan | None, formulas: bool) -> dict[tuple[int, str], tuple[int, int]]:
        """``(column, variable) -> (function, column)`` where a footer's total can be a SUBTOTAL
        of the detail rows above it: the variable sums (or averages, ...) a column that a detail
        field shows in that spreadsheet column, and no group header puts a number there."""
        if not formulas or detail is None or detail.when is not None:  # hidden rows: not on the sheet
            return {}
        fields = {}
        for x, cell, _ in _starts(self.plan, detail):
            if isinstance(cell.element, Field) and cell.element.print_when is None:
                fields[self._column(x, set())] = cell.element.column
        headers: set[int] = set()
        for band in self.plan.bands:
            if band.kind == BandKind.GROUP_HEADER:
                headers.update(self._column(x, set()) for x, cell, i in _starts(self.plan, band) if i is not None)
        found = {}
        for variable in self.plan.variables:
            expression = variable.source
            function = _SUBTOTAL.get(variable.calculation)
            for column, field in fields.items():
                if function is not None and expression == field and column not in headers:
                    found[(column, variable.name)] = (function, column)
        return found


class _Writer:
    """Writes the rows of one sheet, a row at a time."""

    def __init__(self, workbook: Any, layout: _Layout) -> None:
        self.book = workbook
        self.sheet = workbook.add_worksheet("Report")
        self.sheet.polarreports_plain = workbook.add_format()  # the look of a text without one (_write_text)
        self.layout = layout
        self.row = 0
        self._formats: dict[tuple[str | None, bool, bool, str | None], Any] = {}
        self.open: dict[int, int] = {}
        """Per group level: the first row of the group being written."""
        self.first_band_row: int | None = None

    def format(self, slot: _Slot) -> Any:
        """The cell format of ``slot`` (one per look: Excel allows about 64,000)."""
        number_format, bold, italic, align = slot.number_format, slot.bold, slot.italic, slot.align
        key = (number_format, bold, italic, align)
        found = self._formats.get(key)
        if found is None:
            properties: dict[str, Any] = {}
            if number_format is not None:
                properties["num_format"] = number_format
            if bold:
                properties["bold"] = True
            if italic:
                properties["italic"] = True
            if align is not None:
                properties["align"] = align
            found = self._formats[key] = self.book.add_format(properties) if properties else None
        return found

    def labels(self, slots: list[_Slot]) -> None:
        for slot in slots:
            assert slot.label is not None
            _write_text(self.sheet, self.row, slot.column, slot.label, self.format(slot))
        self.row += 1

    def band(self, slots: list[_Slot], record: tuple[Any, ...], kind: str, level: int) -> None:
        sheet, row = self.sheet, self.row
        depth = len(self.layout.plan.groups)
        outline = depth if kind == "detail" else level - 1 if kind.startswith("group_") else 0
        if outline > 0:
            sheet.set_row(row, None, None, {"level": min(outline, 7)})
        if kind in ("detail", "group_header", "group_footer"):
            if self.first_band_row is None:
                self.first_band_row = row
            inside = depth if kind != "group_footer" else level - 1
            for open_level in range(1, (level if kind == "group_header" else inside) + 1):
                self.open.setdefault(open_level, row)
        wrote = False
        tables = []
        for slot in slots:
            if slot.subreport:  # its rows below the band's row
                tables.append(slot)
                continue
            if slot.crosstab is not None:  # its rows where it is among the band's elements
                assert slot.value is not None
                table = crosstab_rows(slot.crosstab, record[slot.value])
                if wrote and table:
                    self.row, wrote = self.row + 1, False
                self.crosstab(table, slot.crosstab, outline)
                row = self.row
                continue
            wrote = True
            look = self.format(slot)
            if slot.label is not None:
                _write_text(sheet, row, slot.column, slot.label, look)
                continue
            assert slot.value is not None
            assert slot.text is not None
            value, text = record[slot.value], record[slot.text]
            if slot.subtotal is not None:
                first = self.open.get(level) if kind == "group_footer" else self.first_band_row
                if first is not None and first < row and value is not None:
                    function, column = slot.subtotal
                    span = xl_range(first, column, row - 1, column)
                    sheet.write_formula(row, slot.column, f"=SUBTOTAL({function},{span})", look, _number(value))
                    continue
            if slot.calendar and value is not None and value < FIRST_SERIAL:
                value = None  # before 1900-03-01: Excel has no date for it; the report's text
            _write_value(sheet, row, slot.column, value, text, look)
        if kind == "group_footer":
            for open_level in [lvl for lvl in self.open if lvl >= level]:
                del self.open[open_level]
        if wrote or (not any(slot.crosstab is not None for slot in slots) and not tables):
            self.row += 1  # (a band of only tables has no row of its own)
        for slot in tables:
            assert slot.value is not None
            typed = record[slot.typed] if slot.typed is not None else None
            self.subreport(subreport_rows(record[slot.value], typed=typed), slot.column, outline, slot.sub_formats)

    def subreport(
        self,
        rows: list[SubRow],
        column: int,
        outline: int,
        formats: tuple[tuple[str | None, bool] | None, ...] = (),
    ) -> None:
        """A subreport's rows below its band's row, from the subreport's column, one outline
        level deeper (indented, and folded with the band's group): its rows' values as numbers,
        dates and booleans in their columns' formats where it has them, else the report's texts."""
        if self.row + len(rows) >= EXCEL_ROWS:
            msg = f"a subreport's {len(rows):,} rows do not fit in the sheet's {EXCEL_ROWS:,}"
            raise OutputError(msg)
        for row in rows:
            self.sheet.set_row(self.row, None, None, {"level": min(outline + 1, 7)})
            for i, text in enumerate(row.texts):
                value = row.values[i] if row.values is not None and i < len(row.values) else None
                align = row.aligns[i] if i < len(row.aligns) and row.aligns[i] != "left" else None
                at = column + row.offset + i
                if value is not None:
                    code, calendar = (formats[i] if i < len(formats) else None) or (None, False)
                    if calendar and value < FIRST_SERIAL:  # before 1900-03-01: no Excel date, the text
                        value = None
                    look = self.format(_Slot(at, number_format=code, bold=row.bold, align=align))
                    _write_value(self.sheet, self.row, at, value, text, look)
                elif text:
                    _write_text(self.sheet, self.row, at, text, self.format(_Slot(at, bold=row.bold, align=align)))
            self.row += 1

    def crosstab(self, rows: list[list[Figure]], crosstab: Crosstab, outline: int) -> None:
        """A crosstab's rows below its band's row (then a blank row): its figures as numbers
        with their measure's Excel format (else as the report's text), right-aligned."""
        if not rows:
            return
        if self.row + len(rows) >= EXCEL_ROWS:
            msg = f"a crosstab's {len(rows):,} rows do not fit in the sheet's {EXCEL_ROWS:,}"
            raise OutputError(msg)
        plan = self.layout.plan
        codes = []
        for measure in crosstab.measures.values():
            try:
                code = excel_format(measure.format, pl.Float64(), locale=plan.locale, currency=plan.currency)
            except FormatError:
                code = None
            codes.append(code if measure.format else None)
        labels = len(crosstab.rows)
        for cells in rows:
            if outline > 0:
                self.sheet.set_row(self.row, None, None, {"level": min(outline, 7)})
            for column, figure in enumerate(cells):
                align = None if column < labels else "right"
                if figure.number is not None and figure.measure is not None:
                    look = self.format(
                        _Slot(column, number_format=codes[figure.measure], bold=figure.bold, align=align)
                    )
                    self.sheet.write_number(self.row, column, figure.number, look)
                elif figure.text:
                    _write_text(
                        self.sheet,
                        self.row,
                        column,
                        figure.text,
                        self.format(_Slot(column, bold=figure.bold, align=align)),
                    )
            self.row += 1
        self.row += 1

    def row_cells(self, schema: pl.Schema) -> list[RowCell]:
        """The detail band's cells for ``rows_xml``, from the columns of a batch of rows."""
        cells = []
        for slot in self.layout.slots.get("detail", []):
            look = self.format(slot)
            style = look._get_xf_index() if look is not None else 0
            if slot.label is not None:
                cells.append(RowCell(slot.column, text=slot.label, kind="label", style=style))
                continue
            assert slot.value is not None
            assert slot.text is not None
            name, dtype = schema.names()[slot.value], schema.dtypes()[slot.value]
            kind: Any = (
                "calendar"
                if slot.calendar
                else "boolean"
                if dtype == pl.Boolean
                else "number"
                if dtype.is_numeric()
                else "string"
                if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)
                else "text"
            )
            cells.append(RowCell(slot.column, value=name, text=schema.names()[slot.text], kind=kind, style=style))
        return cells

    def detail_rows(self, rows: list[str]) -> None:
        """Detail rows made by ``rows_xml``, copied into the sheet's XML as they are."""
        sheet, first = self.sheet, self.row
        sheet._write_single_row(first)  # xlsxwriter writes the row it holds, if any
        sheet.fh.write("".join(rows))
        sheet._check_dimensions(first, 0)
        sheet._check_dimensions(first + len(rows) - 1, max(self.layout.width - 1, 0))
        if self.first_band_row is None:
            self.first_band_row = first
        for level in range(1, len(self.layout.plan.groups) + 1):
            self.open.setdefault(level, first)
        self.row += len(rows)


_EXCEL_EPOCH_DAYS = 25_569
"""Excel's serial number of 1970-01-01 (day 1 is 1900-01-01, counting Excel's 29 February 1900)."""
_DAY_NS = 86_400 * 10**9


def _serial(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A date, datetime, time or duration as Excel's serial number (days, fraction of a day),
    computed in Polars: xlsxwriter's own conversion costs 200 µs a cell."""
    if dtype == pl.Date:
        return value.cast(pl.Int32).cast(pl.Float64) + _EXCEL_EPOCH_DAYS
    if isinstance(dtype, pl.Datetime):
        return value.dt.epoch("ns").cast(pl.Float64) / _DAY_NS + _EXCEL_EPOCH_DAYS
    if dtype == pl.Time:
        return value.cast(pl.Int64).cast(pl.Float64) / _DAY_NS
    return value.dt.total_nanoseconds().cast(pl.Float64) / _DAY_NS  # a duration


def _number(value: Any) -> float | int:
    """A formula's cached value (what a reader that does not recompute shows)."""
    return float(value) if isinstance(value, Decimal) else value


def _write_text(sheet: Any, row: int, column: int, text: str, look: Any) -> None:
    """Text as text. In constant memory xlsxwriter copies a string that starts with ``<r>`` and
    ends with ``</r>`` into the sheet's XML as it is (a rich string): such a text goes as two
    plain runs instead, each escaped, so data never becomes markup."""
    text = text[:MAX_TEXT]
    if text.startswith("<r>") and text.endswith("</r>"):
        plain = look if look is not None else sheet.polarreports_plain
        sheet.write_rich_string(row, column, plain, text[:1], plain, text[1:], *([look] if look is not None else []))
    else:
        sheet.write_string(row, column, text, look)


def _write_value(sheet: Any, row: int, column: int, value: Any, text: str | None, look: Any) -> None:
    """One value in its own type; a null shows the report's text for it (``null_text``)."""
    if value is None:
        if text:
            _write_text(sheet, row, column, text, look)
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value, look)
    elif isinstance(value, float) and not math.isfinite(value):  # NaN and infinities: no number
        _write_text(sheet, row, column, text or "", look)
    elif isinstance(value, int | float | Decimal):
        sheet.write_number(row, column, float(value), look)
    elif isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
        sheet.write_datetime(row, column, value, look)
    elif isinstance(value, str):
        _write_text(sheet, row, column, value, look)
    else:  # lists, structs, bytes: what the report prints
        _write_text(sheet, row, column, text or "", look)


def _check_size(frames: BandFrames) -> None:
    rows = frames.band_count + 4  # the title, a blank row, the column header, a blank row
    if rows > EXCEL_ROWS:
        msg = (
            f"cannot write the workbook: this report has {frames.band_count:,} bands to print and an Excel sheet "
            f"holds {EXCEL_ROWS:,} rows; save it as .parquet or .csv, or filter the rows"
        )
        raise OutputError(msg)


def _set_up(sheet: Any, layout: _Layout, frames: BandFrames) -> bool:
    """Column widths and outline settings; whether the detail rows can be made in Polars: their
    XML goes into xlsxwriter's row file through its internals (3.x); should they change, every
    row goes through its public methods (slower, the same workbook)."""
    for column, width in enumerate(layout.widths):
        sheet.set_column(column, column, width)
    headers = any(band.kind == BandKind.GROUP_HEADER for band in frames.bands)
    sheet.outline_settings(True, not headers, True, False)  # the +/- button on a group's header, else its footer
    internals = ("_write_single_row", "_check_dimensions", "fh", "outline_row_level")
    fast = POLARS_ROWS and all(hasattr(sheet, name) for name in internals)
    if fast and frames.plan.groups:
        sheet.outline_row_level = max(sheet.outline_row_level, min(len(frames.plan.groups), 7))  # the detail rows'
    return fast


def write_xlsx(frames: BandFrames, file: BinaryIO, *, formulas: bool = False) -> None:
    """Write the report's workbook to ``file`` (see the module's docstring). ``frames.check`` is
    called between pieces of rows and while the workbook is zipped: a cancel or the time limit
    stops the writing within a fraction of a second, and the temporary files xlsxwriter made
    (in a folder of this render's own) are removed on every exit."""
    _check_size(frames)
    layout = _Layout(frames, formulas)
    folder = tempfile.mkdtemp(prefix=temp_prefix())
    try:
        options = {"constant_memory": True, "nan_inf_to_errors": True, "remove_timezone": True, "tmpdir": folder}
        workbook = xlsxwriter.Workbook(file, options)
        try:
            _write_sheet(workbook, frames, layout)
        except BaseException:  # a cancel, the time limit, a full disk
            _close_row_files(workbook)
            raise
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _close(workbook, frames.check, folder)  # the folder is the closing thread's to remove


def _close_row_files(workbook: xlsxwriter.Workbook) -> None:
    """Close the files xlsxwriter keeps each sheet's rows in (``constant_memory``) until ``close``."""
    for sheet in workbook.worksheets():
        handle = getattr(sheet, "row_data_fh", None)
        if handle is not None and not handle.closed:
            handle.close()


def _close(workbook: xlsxwriter.Workbook, check: Callable[[], None], folder: str) -> None:
    """``workbook.close()`` (the zipping: about a second per 100K rows, in one call) on a helper
    thread, ``check`` asked every 20 ms meanwhile: a cancel leaves it to finish in the background
    into a file that is being removed (its result dropped, as an abandoned Polars query's). The
    thread removes xlsxwriter's temporary ``folder`` as it ends, whichever way."""
    box: list[BaseException] = []

    def close() -> None:
        try:
            workbook.close()
        except BaseException as error:  # handed to the caller, unless it has gone
            box.append(error)
        finally:
            _close_row_files(workbook)  # (closed already, unless the zipping failed)
            shutil.rmtree(folder, ignore_errors=True)

    thread = threading.Thread(target=close, daemon=True, name="polarreports-xlsx")
    thread.start()
    while thread.is_alive():
        check()
        thread.join(0.02)
    if box:
        raise box[0]


def _write_sheet(workbook: xlsxwriter.Workbook, frames: BandFrames, layout: _Layout) -> None:
    writer = _Writer(workbook, layout)
    sheet = writer.sheet
    # the detail rows' XML is made a piece at a time for rows one after another: a crosstab
    # between them (in a group's band) takes rows of its own, so then every row goes one by one
    nested = any(
        slot.crosstab or slot.subreport
        for label, slots in layout.slots.items()
        if label not in ("title", "summary")
        for slot in slots
    )
    fast = _set_up(sheet, layout, frames) and not nested
    columns = frames.schema_names
    at_band, at_kind, at_level = columns.index("band"), columns.index("kind"), columns.index("level")
    header_row: int | None = None
    outline = min(len(frames.plan.groups), 7)
    cells: list[RowCell] | None = None
    for batch in frames.batches():
        for piece in batch.iter_slices(_SLICE_ROWS):  # a few thousand rows as Python objects at a time
            frames.check()  # a cancel or the time limit stops the writing here
            piece = piece.with_columns(layout.cells)
            first_kind = piece["kind"][0]
            if header_row is None and first_kind != "title":
                if writer.row:
                    writer.row += 1  # a blank row below the title
                header_row = writer.row
                writer.labels(layout.header)
            if first_kind == "summary" and writer.row:
                writer.row += 1
            # the detail rows as XML in one Polars expression (each row of the piece is one sheet row)
            xml: list[str | None] = [None] * piece.height
            if fast and (piece["kind"] == "detail").any():
                cells = writer.row_cells(piece.schema) if cells is None else cells
                rows = rows_xml(cells, first_row=writer.row, outline=outline)
                xml = piece.select(pl.when(pl.col("kind") == "detail").then(rows)).to_series().to_list()
            run: list[str] = []
            for made_row, record in zip(xml, piece.iter_rows(), strict=True):
                if made_row is not None:
                    run.append(made_row)
                    continue
                if run:
                    writer.detail_rows(run)
                    run = []
                writer.band(layout.slots.get(record[at_band], []), record, record[at_kind], record[at_level])
            if run:
                writer.detail_rows(run)
    if header_row is not None:
        sheet.freeze_panes(header_row + 1, 0)
        sheet.repeat_rows(header_row)  # printed: the column header on every page, the width of one
        sheet.fit_to_pages(1, 0)
        sheet.autofilter(header_row, 0, max(header_row, writer.row - 1), layout.width - 1)
