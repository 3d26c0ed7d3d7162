"""Merge detail rows and group bands into one ordered stream of display strings.

Each band instance becomes a row ``(__pos, __sub, k, c)``: ``k`` is the band's index in the
layout, ``c`` the list of its cells' display strings. Group header ``k`` sorts before its
first row (``__pos`` = first row, ``__sub`` = ``k``), footers after their last row, inner
footers first. Everything is vectorised; the stream leaves Polars as one JSON text.

    >>> import polarreports as pr
    >>> from polarreports.api import plan_report
    >>> from polarreports.emit.typst_source import band_indices
    >>> report = pr.load("examples/sales_by_region.yaml")
    >>> plan, scopes = plan_report(report, pr.sample.sales_data(50))
    >>> stream = collect_stream(plan, scopes, band_indices(plan))
    >>> stream.bands.text(0)[:30]
    '{"k":1,"c":["Central","14 orde'
"""

from __future__ import annotations

import functools
import itertools
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import polars as pl

from polarreports.charts.growth import check_growth
from polarreports.charts.vega import ChartLimits, alt_text, render_charts
from polarreports.compute import parts
from polarreports.compute.crosstabs import check_cells
from polarreports.compute.formats import FEW_ROWS, building_for_few_rows, default_pattern, for_few_rows, format_expr
from polarreports.compute.markup import markdown_series
from polarreports.compute.overflow import hyphenation_language, overflow_text, static_cuts, stream_cuts, word_breaker
from polarreports.compute.pages import PageRows, page_rows_query
from polarreports.compute.parts import batches_of, detail_batches, merged_frames, split_level, split_rows
from polarreports.compute.scopes import ROW_INDEX, Scopes
from polarreports.definition.elements import Chart, Crosstab
from polarreports.definition.report import PageSetup
from polarreports.exceptions import ChartError, DataError, FormatError
from polarreports.plan.barcodes import resolve_barcodes
from polarreports.plan.geometry import TALL, cell_thresholds, long_label, long_values
from polarreports.plan.images import ImageAssets, resolve_column_images
from polarreports.plan.model import BandKind, BandPlan, Cell, ReportPlan
from polarreports.plan.subreports import ROW_CLASSES, SUB_ROWS, subreport_rows
from polarreports.queries import collect, collect_all, collect_batch
from polarreports.stream.bandstream import BandStream, BandStreamWriter
from polarreports.stream.remembered import STRINGS
from polarreports.stream.samples import look_samples
from polarreports.stream.stacked import Slot, Stacks, stackable
from polarreports.stream.typed import TypedBands, TypedBandsWriter
from polarreports.units import to_points

P = ParamSpec("P")
T = TypeVar("T")

__all__ = ["StreamData", "collect_stream", "formatted_cells"]


@dataclass(frozen=True)
class StreamData:
    bands: BandStream
    """Every band instance in reading order: its kind ``k`` (the band's index in the layout)
    and its JSON text ``{"k":..,"c":[..]}``."""
    chart_stats: dict[str, int]
    """How many charts were drawn, and how many of them came from the cache."""
    samples: list[dict[str, Any]]
    """For each band kind present: one instance made of the shortest text of each cell, then one
    of the longest (the measuring pass checks whether they are as tall)."""
    row_count: int
    """Number of detail rows after the filter."""
    static: dict[str, list[str]]
    """Display strings of the report-scope bands (title, page header, summary, ...)."""
    parts: int = 1
    """How many parts the rows were sorted in (see ``data.parts``)."""
    pages: PageRows | None = None
    """What values per page are computed from, if the report shows any."""
    assets: dict[str, bytes] = field(default_factory=dict)
    """The images of image columns, by the asset names their cells hold."""
    cuts: dict[str, int] = field(default_factory=dict)
    """Text cut on the page (``compute.overflow.stream_cuts``): "where<TAB>how" -> instances."""
    typed: TypedBands | None = None
    """The raw typed values the texts were made from (``stream.typed``), for the data outputs."""

    @property
    def band_count(self) -> int:
        return self.bands.height


def formatted_cells(
    plan: ReportPlan, band: BandPlan, scopes: Scopes, preformatted: Collection[int] = (), broken: Collection[int] = ()
) -> pl.Expr:
    """A ``list[str]`` expression with the display string of every data cell of ``band``, from
    the cells' raw values in columns ``__v0``, ``__v1``, ... (see :func:`raw_values`); the cells
    in ``preformatted`` have their formatted value in column ``__f{i}`` already (``stacked``),
    those in ``broken`` with their wide words broken too (:func:`_cell_breaker`)."""
    strings = []
    for i, cell in enumerate(band.data_cells):
        assert cell.value is not None
        if cell.role in ("image", "barcode", "link", "subreport"):  # an asset name, a drawn code, a URL, a table's JSON
            strings.append(pl.col(f"__v{i}").cast(pl.String).fill_null(""))
            continue
        if cell.role == "when":  # "1" where the element shows
            strings.append(pl.when(pl.col(f"__v{i}")).then(pl.lit("1")).otherwise(pl.lit("")))
            continue
        dtype = scopes.dtypes[cell.where]
        text = (
            pl.col(f"__f{i}")
            if i in preformatted
            else _formatted(pl.col(f"__v{i}"), dtype, *_format_key(plan, cell, dtype)[1:], cell.where)
        )
        display = (
            text if i in broken else overflow_text(text, cell.element, **_overflow_options(plan, band, cell, dtype))
        )
        if getattr(cell.element, "markup", "none") == "markdown":  # the tree of its Markdown, as JSON
            display = display.map_batches(markdown_series, return_dtype=pl.String)
        strings.append(display)
    # hidden cells after the elements': which look each switch (zebra, conditional style) chose
    strings.extend(pl.col(f"__s{j}") for j in range(len(band.styling.switches if band.styling else ())))
    if not strings:
        return pl.lit([], dtype=pl.List(pl.String))
    return pl.concat_list(strings)


def _overflow_options(plan: ReportPlan, band: BandPlan, cell: Cell, dtype: pl.DataType) -> dict[str, Any]:
    """The options of ``overflow_text`` (and ``word_breaker``) for a data cell of ``band``."""
    widths = dict(zip((id(shown) for shown in band.shown_cells), band.widths, strict=True))
    return {
        "width": widths.get(id(cell), 0.0),
        "font_size": plan.page.font_size,
        "words": dtype == pl.String,
        "language": hyphenation_language(cell.element, hyphenate=plan.hyphenate, locale=plan.locale),
    }


def _cell_breaker(
    plan: ReportPlan, band: BandPlan, cell: Cell, dtype: pl.DataType
) -> Callable[[pl.Series], pl.Series] | None:
    """What breaks the wide words of a data cell's display strings (``overflow.word_breaker``)."""
    return word_breaker(cell.element, **_overflow_options(plan, band, cell, dtype))


_FormatKey = tuple[str, str | None, str, str | None, str]


def _format_key(plan: ReportPlan, cell: Cell, dtype: pl.DataType) -> _FormatKey:
    """What decides a cell's display strings besides its values: its type, its pattern, the
    locale, the currency and its null text."""
    pattern = cell.pattern or cell.default_pattern or default_pattern(dtype)
    return repr(dtype), pattern, plan.locale, plan.currency, getattr(cell.element, "null_text", "")


WIDEST_DECIMAL = pl.Decimal(38, 0)
"""Decimals of one scale are stacked at this precision (``_Formatter._stack``)."""


def _stackable_cell(cell: Cell) -> bool:
    """Whether a cell's value is formatted by pattern (not an asset name, a URL, a flag...)."""
    return cell.value is not None and cell.role not in ("image", "barcode", "link", "subreport", "when")


_FORMATTED: OrderedDict[tuple[str, ...], pl.Expr] = OrderedDict()
"""Format expressions by what they format, least recently used first; shared by the renders of
every thread, so read and written under ``_FORMATTED_LOCK`` only."""
_FORMATTED_MAX = 4_096
_FORMATTED_LOCK = threading.Lock()


def _formatted(
    value: pl.Expr,
    dtype: pl.DataType,
    pattern: str | None,
    locale: str,
    currency: str | None,
    null_text: str,
    where: str,
) -> pl.Expr:
    """``format_expr``, remembered: building a format expression takes about half a
    millisecond, which is most of the time of re-rendering a small report."""
    key = (
        value.meta.serialize(format="json"),
        repr(dtype),
        str(pattern),
        locale,
        str(currency),
        null_text,
        where,
        str(building_for_few_rows()),
    )
    with _FORMATTED_LOCK:
        found = _FORMATTED.get(key)
        if found is not None:
            _FORMATTED.move_to_end(key)
            return found
    found = format_expr(value, dtype, pattern, locale=locale, currency=currency, null_text=null_text, where=where)
    with _FORMATTED_LOCK:
        _FORMATTED[key] = found
        while len(_FORMATTED) > _FORMATTED_MAX:
            _FORMATTED.popitem(last=False)
    return found


def raw_values(band: BandPlan) -> list[pl.Expr]:
    """The unformatted value of each data cell, as columns ``__v0``, ``__v1``, ..., and the look
    index of each style switch, as ``__s0``, ..."""
    values = [cell.value.alias(f"__v{i}") for i, cell in enumerate(band.data_cells) if cell.value is not None]
    typed = [cell.typed.alias(f"__t{i}") for i, cell in enumerate(band.data_cells) if cell.typed is not None]
    switches = band.styling.switches if band.styling else ()
    return values + typed + [switch.value.alias(f"__s{j}") for j, switch in enumerate(switches)]


_VALUES = pl.col(r"^__[vt]\d+$")
"""The cells' raw values among a band's columns (and a subreport's rows' ``__t0``, ...; not the
style switches ``__s0``, ...)."""
_PLACE = ("__pos", "__sub", "k")
"""The columns that place a band instance in the stream (see the module's docstring)."""
_STREAM_SCHEMA: dict[str, pl.DataType] = {
    "__pos": pl.UInt32(),
    "__sub": pl.UInt8(),
    "k": pl.UInt16(),
    "c": pl.List(pl.String),
}


def _placed_raw(plan: ReportPlan, band: BandPlan, frame: pl.LazyFrame, band_index: dict[str, int]) -> pl.LazyFrame:
    """A group band's instances with their place ``(__pos, __sub)`` in the stream, its layout
    index ``k`` and its cells' raw values, from its level's (collected) frame."""
    depth = len(plan.groups)
    if band.kind == BandKind.GROUP_HEADER:
        pos, sub = pl.col("__start"), band.level
    else:
        pos, sub = pl.col("__end"), depth + 1 + (depth - band.level + 1)
    if band.when is not None:
        frame = frame.filter(band.when.fill_null(value=False))
    return frame.select(
        pos.cast(pl.UInt32).alias("__pos"),
        pl.lit(sub, dtype=pl.UInt8).alias("__sub"),
        pl.lit(band_index[band.name], dtype=pl.UInt16).alias("k"),
        *raw_values(band),
    )


@dataclass(frozen=True)
class _Formatter:
    """What formatting needs for one render: collected raw values (a small frame, or one batch
    of rows) become ``c`` lists; a chart's points become ``{"svg": ..., "alt": ...}`` (counted in
    ``stats``, drawn within ``limits``), an image's path or bytes our asset name (in ``images``)."""

    plan: ReportPlan
    scopes: Scopes
    limits: ChartLimits
    stats: dict[str, int] = field(default_factory=dict)
    images: ImageAssets = field(default_factory=ImageAssets)
    _wheres: dict[Hashable, tuple[pl.DataType, _FormatKey, str]] = field(default_factory=dict)
    """Per format key: its type, itself, and the first cell of it (named in a format error)."""

    def __call__(self, band: BandPlan, raw: pl.DataFrame, *keep: str) -> pl.DataFrame:
        return self.many([(band, raw, keep)])[0]

    def many(self, pieces: list[tuple[BandPlan, pl.DataFrame, tuple[str, ...]]]) -> list[pl.DataFrame]:
        """Each band's frame with its ``keep`` columns and its ``c`` lists. The values of cells
        that share a format are formatted together, once, when the frames are small
        (``stream.stacked``): the fixed cost of a format expression is then most of the work."""
        prepared = [(band, self._prepared(band, raw), keep) for band, raw, keep in pieces]
        if not prepared or sum(raw.height for _, raw, _ in prepared) > FEW_ROWS:  # one query a band is as quick
            return [self._finished(band, raw, keep, ()) for band, raw, keep in prepared]
        stacks, slots = Stacks(), []
        for band, raw, _ in prepared:
            slots.append(self._stack(stacks, band, raw))
        stacked = self._guarded(pieces[0][0], lambda: stacks.format(self._stack_format, STRINGS))
        queries = []
        for (band, raw, keep), found in zip(prepared, slots, strict=True):
            columns, broken = [], set()
            for i, slot in found.items():  # wide words broken here, on the Series, not in the band's query
                strings = stacked.get(slot)
                cell = band.data_cells[i]
                breaker = _cell_breaker(self.plan, band, cell, self.scopes.dtypes[cell.where])
                if breaker is not None:
                    strings = breaker(strings)
                    broken.add(i)
                columns.append(strings.alias(f"__f{i}"))
            frame = raw.hstack(columns) if columns else raw
            queries.append((band, self._finishing(band, frame, keep, found, broken)))
        return self._collected(queries)

    def _collected(self, queries: list[tuple[BandPlan, pl.LazyFrame | pl.DataFrame]]) -> list[pl.DataFrame]:
        """The bands' queries run in one ``collect_all`` (a query's fixed cost is most of a small
        band's); on a Polars panic, one at a time, to name the band whose query failed."""
        lazy = [(band, query) for band, query in queries if isinstance(query, pl.LazyFrame)]
        try:
            done = iter(collect_batch([query for _, query in lazy]) if lazy else [])
        except pl.exceptions.PanicException:
            done = iter([self._guarded(band, query.collect) for band, query in lazy])
        return [next(done) if isinstance(query, pl.LazyFrame) else query for _, query in queries]

    def _prepared(self, band: BandPlan, raw: pl.DataFrame) -> pl.DataFrame:
        """``raw`` with its charts drawn, its images and barcodes resolved, its crosstabs checked."""
        raw = _draw_charts(self.plan, band, raw, self.stats, self.limits)
        for i, cell in enumerate(band.data_cells):
            if isinstance(cell.element, Crosstab) and cell.role == "value":
                check_cells(cell.element, raw[f"__v{i}"], cell.where)
        raw = resolve_column_images(self.plan, band, raw, self.images)
        return resolve_barcodes(band, raw, self.images)

    def _stack(self, stacks: Stacks, band: BandPlan, raw: pl.DataFrame) -> dict[int, Slot]:
        """Put the values of ``band``'s cells that can be stacked on their format's stack."""
        slots = {}
        for i, cell in enumerate(band.data_cells):
            if not _stackable_cell(cell):
                continue
            dtype = self.scopes.dtypes[cell.where]
            values = raw.get_column(f"__v{i}")
            if values.dtype == dtype and stackable(dtype):
                if isinstance(dtype, pl.Decimal) and dtype.precision != WIDEST_DECIMAL.precision:
                    # the same values at the widest precision and the same scale: the same strings
                    dtype = pl.Decimal(WIDEST_DECIMAL.precision, dtype.scale)
                    values = values.cast(dtype)
                key = _format_key(self.plan, cell, dtype)
                self._wheres.setdefault(key, (dtype, key, cell.where))
                slots[i] = stacks.add(values, key)
        return slots

    def _stack_format(self, key: Hashable, column: pl.Expr) -> pl.Expr:
        dtype, (_, pattern, locale, currency, null_text), where = self._wheres[key]
        return _formatted(column, dtype, pattern, locale, currency, null_text, where)

    def _finished(
        self, band: BandPlan, raw: pl.DataFrame, keep: tuple[str, ...], preformatted: Collection[int]
    ) -> pl.DataFrame:
        query = self._finishing(band, raw, keep, preformatted)
        return self._guarded(band, query.collect) if isinstance(query, pl.LazyFrame) else query

    def _finishing(
        self,
        band: BandPlan,
        raw: pl.DataFrame,
        keep: tuple[str, ...],
        preformatted: Collection[int],
        broken: Collection[int] = (),
    ) -> pl.LazyFrame | pl.DataFrame:
        """The query of :meth:`_finished` (or its frame, made without one)."""
        if not keep and raw.height == 1 and not band.data_cells and not (band.styling and band.styling.switches):
            return _NO_CELLS  # a report band of labels only
        with for_few_rows(raw.height <= FEW_ROWS):
            cells = formatted_cells(self.plan, band, self.scopes, preformatted, broken)
        return raw.lazy().select(*keep, cells.alias("c"))

    @staticmethod
    def _guarded(band: BandPlan, work: Callable[[], T]) -> T:
        try:
            return work()
        except pl.exceptions.PanicException as error:  # a BaseException: Polars gave up inside Rust
            first = str(error).strip().splitlines()[0] if str(error).strip() else "a panic"
            msg = f"{band.name}: Polars failed while formatting the band's values ({first}); check its format patterns"
            raise FormatError(msg) from None


_NO_CELLS = pl.DataFrame({"c": [[]]}, schema={"c": pl.List(pl.String)})
"""A report band without data cells, formatted: one empty list of cells."""


def _points(data: dict[str, Any], chart: Chart) -> list[dict[str, Any]]:
    """A chart's points: aggregated ``{"points": [...]}`` for group and report charts, or, for
    a detail row's chart, the row's lists zipped into points (x is the position without ``by``).
    (``__n``, the number of points, was checked against the chart's cap in Polars.)"""
    data = {name: value for name, value in data.items() if name != "__n"}
    if "points" in data and len(data) == 1:
        return list(data["points"] or [])
    series = {name: value if isinstance(value, list) else [value] for name, value in data.items()}
    length = max((len(values) for values in series.values()), default=0)
    if not chart.by:
        series = {"index": list(range(length)), **series}
    return [{name: values[i] if i < len(values) else None for name, values in series.items()} for i in range(length)]


def _check_points(cells: pl.Series, chart: Chart, where: str, *, per_row: bool) -> int:
    """Raise a ``ChartError`` if a chart of ``cells`` has more points than the chart's
    ``max_points``: read in Polars from their count, before any point reaches Python or Vega.
    Returns the most points of one chart."""
    most = cells.str.json_path_match("$.__n").cast(pl.Int64, strict=False).max()
    if not isinstance(most, int):
        return 0
    if most <= chart.max_points:
        return most
    column = chart.by[0].column if chart.by else "a_column"
    hint = (
        "shorten the row's lists"
        if per_row
        else f"aggregate them with by: [{{column: {column}, bucket: month}}] (dates) or [{{column: {column}, bin: 10}}]"
    )
    msg = f"{where}: {most:,} points, more than its max_points of {chart.max_points:,}; {hint}, or raise max_points"
    raise ChartError(msg, band=where.rsplit(".elements[", 1)[0], element=where)


def _draw_charts(
    plan: ReportPlan, band: BandPlan, raw: pl.DataFrame, stats: dict[str, int], limits: ChartLimits
) -> pl.DataFrame:
    """Render the charts of ``band`` (one per instance, in parallel, cached) into its cells."""
    charts = [
        (i, cell) for i, cell in enumerate(band.data_cells) if isinstance(cell.element, Chart) and cell.role == "value"
    ]  # not its hidden cells (a chart's print_when)
    if not charts or raw.is_empty():
        return raw
    page = plan.page
    width_mm, _ = page.size_mm
    margins = page.margins
    body = to_points(f"{width_mm}mm", whole=0, font_size=page.font_size) - sum(
        to_points(m, whole=0, font_size=page.font_size) for m in (margins.left, margins.right)
    )
    replaced = []
    for i, cell in charts:
        chart = cell.element
        assert isinstance(chart, Chart)
        column = f"__v{i}"
        most = _check_points(raw[column], chart, cell.where, per_row=band.scope == "rows")
        check_growth(chart.spec, points=most, max_points=chart.max_points, where=cell.where)  # rows Vega may make
        texts = [t for t in raw[column].unique(maintain_order=True).to_list() if t is not None]
        width = to_points(chart.width, whole=body, font_size=page.font_size)
        height = to_points(chart.height, whole=body, font_size=page.font_size)
        points = [_points(json.loads(text), chart) for text in texts]
        jobs = [(chart, cell.where, values, width, height, page.font_size) for values in points]
        svgs, counts = render_charts(jobs, stop=limits.stop, memory_mb=limits.memory_mb)
        for key, value in counts.items():
            stats[key] = stats.get(key, 0) + value
        drawn = {
            text: json.dumps({"svg": svg, "alt": alt_text(chart, values)}, ensure_ascii=False)
            for text, svg, values in zip(texts, svgs, points, strict=True)
        }
        replaced.append(pl.col(column).replace_strict(drawn, default=None, return_dtype=pl.String))
    return raw.with_columns(replaced)


def _route_tall(plan: ReportPlan, frame: pl.DataFrame, band_index: dict[str, int]) -> pl.DataFrame:
    """Band instances with a value long enough to fill a page go to their band's variant that
    can break across pages (``TALL``); the ordinary ones pay nothing for it."""
    kind = pl.col("k")
    routed = kind
    page = plan.page
    tall_bands = [band for band in plan.bands if band_index.get(band.name + TALL) is not None]
    for band in [] if _none_tall(frame, tall_bands, page) else tall_bands:
        long = long_values(band, page)
        if long is not None:
            tall = pl.lit(band_index[band.name + TALL], dtype=pl.UInt16)
            routed = pl.when((kind == band_index[band.name]) & long).then(tall).otherwise(routed)
    frame = frame if routed is kind else frame.with_columns(routed.alias("k"))
    by_rows: pl.Expr
    for band in plan.bands:  # a band holding subreports: a kind per number of their rows
        first, rows = band_index.get(f"{band.name}{SUB_ROWS}1"), subreport_rows(band)
        if first is not None and rows is not None:
            by_rows = pl.when((kind == band_index[band.name]) & rows.is_between(1, ROW_CLASSES)).then(
                rows + (first - 1)
            )
            frame = frame.with_columns(by_rows.otherwise(kind).cast(pl.UInt16).alias("k"))
    return frame


def _none_tall(frame: pl.DataFrame, bands: list[BandPlan], page: PageSetup) -> bool:
    """Whether no value in ``frame`` can be long enough for a tall variant of ``bands`` (see
    ``long_values``), by one bound for every cell: its bytes, plus its line breaks at the most
    characters per line of any cell, against the least threshold of any. A quick test for the
    many batches without a long value; False where it cannot tell."""
    limits = [cell_thresholds(band, page) for band in bands]
    if not any(limits) or any(-1 in found for found in limits):  # none can be tall / one always is
        return not any(limits)
    if any(long_label(band, page) for band in bands):  # every instance is tall
        return False
    if any(cell.role == "subreport" for band in bands for cell in band.data_cells):  # weighed by rows
        return False
    per_line = max(chars for found in limits for _, chars in found.values())
    least = min(threshold for found in limits for threshold, _ in found.values())
    cells = frame.get_column("c").explode()
    weight = (cells.str.len_bytes() + cells.str.count_matches("\n", literal=True) * per_line).max()
    return weight is None or weight <= least  # type: ignore[operator]


def _extreme_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Per band kind and cell position, the longest and the shortest text (by characters)."""
    by_length = pl.col("c").sort_by(pl.col("c").str.len_chars())
    return (
        frame.select("k", "c")
        .with_row_index("__i")
        .explode("c")
        .with_columns(pl.int_range(pl.len()).over("__i").alias("__j"))
        .drop_nulls("c")
        .group_by("k", "__j")
        .agg(by_length.last().alias("longest"), by_length.first().alias("shortest"))
    )


def _samples(first: pl.DataFrame, extremes: pl.DataFrame) -> list[dict[str, Any]]:
    """Per band kind, a composite of each cell's shortest text, then one of each cell's longest:
    if the two are as tall, every instance is (the measuring pass checks it)."""
    if first.is_empty():
        return []
    cells_of: dict[tuple[int, str], dict[int, str]] = {}
    combined = extremes.group_by("k", "__j").agg(
        pl.col("longest").sort_by(pl.col("longest").str.len_chars()).last(),
        pl.col("shortest").sort_by(pl.col("shortest").str.len_chars()).first(),
    )
    for k, j, longest, shortest in combined.iter_rows():
        cells_of.setdefault((k, "longest"), {})[j] = longest
        cells_of.setdefault((k, "shortest"), {})[j] = shortest
    samples = []
    for k, cells in first.group_by("k", maintain_order=True).first().sort("k").select("k", "c").iter_rows():
        for which in ("shortest", "longest"):
            found = cells_of.get((k, which), {})
            samples.append({"k": k, "c": [found.get(j, cell) for j, cell in enumerate(cells)]})
    return samples


@dataclass(frozen=True)
class _Frames:
    """What the band stream is made from, collected."""

    report: pl.DataFrame
    levels: dict[int, pl.DataFrame]
    page_rows: list[pl.DataFrame] | None
    """What the values per page are computed from (when split: filled as ``detail`` runs)."""
    detail: Iterator[tuple[int, int, pl.DataFrame | None]]
    """The detail rows' raw values in ranges of row positions ``[start, end)``, in order."""
    parts: int = 1
    one_batch: bool = False
    """Whether ``detail`` is (at most) one batch, collected already."""


def _report_raw(report: pl.DataFrame, bands: list[BandPlan]) -> dict[str, pl.DataFrame]:
    """Each report band's raw values (one row; a null column where it has none), from one
    query over the report frame, not one per band."""
    names = [[value.meta.output_name() for value in raw_values(band)] for band in bands]
    values = [
        value.alias(f"{n}:{value.meta.output_name()}") for n, band in enumerate(bands) for value in raw_values(band)
    ]
    found = report.select(values) if values else None
    raw = {}
    for n, band in enumerate(bands):
        columns = [found.get_column(f"{n}:{name}").alias(name) for name in names[n]] if found is not None else []
        raw[band.name] = pl.DataFrame(columns) if columns else pl.DataFrame({"literal": [None]})
    return raw


def _format_bands(
    formatted: _Formatter,
    shown_report: list[BandPlan],
    report_raw: dict[str, pl.DataFrame],
    group_raw: dict[str, pl.DataFrame],
    detail_rows: pl.DataFrame | None,
    band_index: dict[str, int],
) -> tuple[dict[str, list[str]], pl.DataFrame, pl.DataFrame | None]:
    """The report bands' display strings (by kind), the group bands' instances (in stream
    order) and, given the detail rows of a report whose rows are one batch, theirs: formatted
    together, so that the values of one format are formatted once (``_Formatter.many``)."""
    plan = formatted.plan
    group_bands = [band for band in plan.bands if band.scope == "group"]
    pieces: list[tuple[BandPlan, pl.DataFrame, tuple[str, ...]]] = [
        (band, report_raw[band.name], ()) for band in shown_report
    ]
    pieces += [(band, group_raw[band.name], _PLACE) for band in group_bands]
    detail = plan.band(BandKind.DETAIL)
    if detail_rows is not None and detail is not None:
        placed = _detail_placed(detail_rows, depth=len(plan.groups), k=band_index[detail.name])
        pieces.append((detail, placed, _PLACE))
    done = formatted.many(pieces)
    static = {str(band.kind): done[n]["c"].item().to_list() for n, band in enumerate(shown_report)}
    in_groups = done[len(shown_report) : len(shown_report) + len(group_bands)]
    groups = (pl.concat(in_groups) if in_groups else pl.DataFrame(schema=_STREAM_SCHEMA)).sort("__pos", "__sub")
    return static, groups, done[-1] if detail_rows is not None and detail is not None else None


def _group_raw(plan: ReportPlan, levels: dict[int, pl.DataFrame], index: dict[str, int]) -> dict[str, pl.DataFrame]:
    """Each group band's placed raw values (``_placed_raw``), by band name: one ``collect_all``."""
    bands = [band for band in plan.bands if band.scope == "group"]
    placed = [_placed_raw(plan, band, levels[band.level].lazy(), index) for band in bands]
    return dict(zip((band.name for band in bands), collect_batch(placed) if placed else [], strict=True))


def _detail_placed(batch: pl.DataFrame, *, depth: int, k: int) -> pl.DataFrame:
    """A batch of detail rows with their place in the stream (``__sub``) and layout index ``k``."""
    return batch.with_columns(pl.lit(depth + 1, dtype=pl.UInt8).alias("__sub"), pl.lit(k, dtype=pl.UInt16).alias("k"))


def _detail_query(detail: BandPlan) -> Callable[[pl.LazyFrame], pl.LazyFrame]:
    def query(rows: pl.LazyFrame) -> pl.LazyFrame:
        shown = rows if detail.when is None else rows.filter(detail.when.fill_null(value=False))
        return shown.select(pl.col(ROW_INDEX).cast(pl.UInt32).alias("__pos"), *raw_values(detail))

    return query


def _more_rows(scopes: Scopes, base: pl.LazyFrame, rows: int) -> bool:
    """Whether ``base`` has more than ``rows`` rows: counted in a query, unless the input's are
    known to be fewer (``Scopes.most_rows``)."""
    if scopes.most_rows is not None and scopes.most_rows <= rows:
        return False
    return bool(collect(base.select(pl.len())).item() > rows)


def _collect_frames(
    plan: ReportPlan, scopes: Scopes, batch_rows: int, rows_per_part: int, check: Callable[[], None]
) -> _Frames:
    """One streaming query for every scope, or (many rows) one part of the rows at a time."""
    detail = plan.band(BandKind.DETAIL)
    levels = sorted(scopes.groups)
    if detail is not None and scopes.base is not None:
        level = split_level(plan, [*raw_values(detail), *([detail.when] if detail.when is not None else [])])
        if level is not None and _more_rows(scopes, scopes.base, rows_per_part):
            row_parts = split_rows(plan, scopes.base, level, rows_per_part)
            report, level_frames, row_parts = merged_frames(plan, scopes, row_parts, check=check)
            page_rows: list[pl.DataFrame] | None = [] if plan.has_page_values else None
            batches = detail_batches(plan, scopes, row_parts, _detail_query(detail), batch_rows, page_rows)
            return _Frames(report, level_frames, page_rows, batches, parts=len(row_parts))
    # One query per scope (not per band), so that the shared subplans stay identical and are
    # computed once.
    queries = [scopes.report, *(scopes.groups[level] for level in levels)]
    if detail is not None:
        queries.append(_detail_query(detail)(scopes.rows))
    if plan.has_page_values:
        queries.insert(0, page_rows_query(plan, scopes.rows))
    collected = collect_all(queries)
    page_rows = [collected.pop(0)] if plan.has_page_values else None
    report = collected[0]
    level_frames = dict(zip(levels, collected[1 : 1 + len(levels)], strict=True))
    row_count = int(report["__rows"].item())
    batches = batches_of(collected[-1], 0, row_count, batch_rows) if detail is not None else iter(())
    return _Frames(report, level_frames, page_rows, batches, one_batch=row_count <= batch_rows)


def _polars_failure(error: pl.exceptions.PolarsError) -> str:
    """Polars' message in one line, with the expression it names (the row data cannot be computed)."""
    own, _, expression = str(error).partition("This error occurred in the following expression:")
    first = " ".join(own.split())[:300]
    where = " ".join(expression.split())[:200]
    if not where:  # no expression of ours: reading the rows failed (encoding, a broken file, a value's type)
        return (
            f"the report's data cannot be read: {first}\n"
            "Hint: check the data file: CSV and NDJSON must be UTF-8 text, with one type per column."
        )
    return (
        f"the report's data cannot be computed: {first} (in {where})\n"
        "Hint: check the definition's expressions (columns, filter, variables, conditions) against the data's values."
    )


def _as_data_error(function: Callable[P, T]) -> Callable[P, T]:
    """Polars' own errors while computing (a bad regex, a failed cast) become a ``DataError``."""

    @functools.wraps(function)
    def computed(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return function(*args, **kwargs)
        except pl.exceptions.PolarsError as error:
            raise DataError(_polars_failure(error)) from None

    return computed


@_as_data_error
def collect_stream(
    plan: ReportPlan,
    scopes: Scopes,
    band_index: dict[str, int],
    *,
    batch_rows: int = 25_000,
    rows_per_part: int | None = None,
    check: Callable[[], None] = lambda: None,
    progress: Callable[[int, int], None] = lambda done, total: None,
    charts: ChartLimits = ChartLimits(),  # noqa: B008 (frozen)
) -> StreamData:
    """Collect the band stream and the report-scope values.

    One streaming query computes the raw values of every band: the detail rows, the group
    bands and the report totals (the sorted rows, or the finest group_by, are shared); the
    aggregation is all it does. Above ``rows_per_part`` rows (default ``parts.PART_ROWS``),
    the rows are sorted a part at a time (see ``data.parts``). The small group and report
    frames are then formatted, and the detail rows are formatted in batches of ``batch_rows``,
    merged with the group bands that fall among them and turned into JSON (kept in a file when
    large), so memory holds one part's raw values but never every formatted string at once.
    ``check`` is called between parts and batches (it raises to stop the work: a cancelled
    render), ``progress`` with the rows done and the rows in all after each batch; ``charts``
    bounds the drawing of the charts (its ``stop`` is asked while a chart worker draws).
    """
    detail = plan.band(BandKind.DETAIL)
    frames = _collect_frames(plan, scopes, batch_rows, rows_per_part or parts.PART_ROWS, check)
    formatted = _Formatter(plan, scopes, charts)
    row_count = int(frames.report["__rows"].item())
    shown_report = [
        band
        for band in plan.bands
        if band.scope == "report"
        and (band.when is None or frames.report.select(band.when.fill_null(value=False)).item())
    ]
    report_raw = _report_raw(frames.report, shown_report)
    group_raw = _group_raw(plan, frames.levels, band_index)
    # A report whose detail rows are one batch formats them with the other bands (stacked).
    ranges = frames.detail if detail is not None and row_count else iter([(0, -1, None)])
    first_batch = next(ranges) if frames.one_batch and detail is not None and row_count else None
    static, groups, formatted_first = _format_bands(
        formatted, shown_report, report_raw, group_raw, None if first_batch is None else first_batch[2], band_index
    )
    writer = BandStreamWriter()
    typed = TypedBandsWriter()
    positions: list[pl.Series] = []  # each band's row, for the values per page
    firsts: list[pl.DataFrame] = []
    longest: list[pl.DataFrame] = []
    cuts = static_cuts(plan, static)
    # Batches are ranges of row positions (rows a print_when hides leave gaps in the positions).
    ranges = itertools.chain([first_batch] if first_batch is not None else [], ranges)
    try:
        for start, end, batch in ranges:
            check()
            pieces = [groups if end < 0 else groups.filter(pl.col("__pos").is_between(start, end, closed="left"))]
            typed.add_detail(start, end, None if batch is None else batch.select("__pos", _VALUES))
            if first_batch is not None and batch is first_batch[2] and formatted_first is not None:
                pieces.append(formatted_first)
            elif batch is not None and detail is not None:
                placed = _detail_placed(batch, depth=len(plan.groups), k=band_index[detail.name])
                pieces.append(formatted(detail, placed, *_PLACE))
            merged = _route_tall(plan, pl.concat(pieces).sort("__pos", "__sub"), band_index)
            for cut, count in stream_cuts(plan, merged, band_index, TALL).items():
                cuts[cut] = cuts.get(cut, 0) + count
            firsts.append(merged.group_by("k", maintain_order=True).first())
            longest.append(_extreme_cells(merged))
            writer.add(merged.select("k", pl.struct("k", "c").struct.json_encode().alias("json")))
            progress(max(end, 0), row_count)
            if frames.page_rows is not None:
                positions.append(merged["__pos"])
    except BaseException:
        writer.discard()
        typed.discard()
        raise
    bands = writer.finish()
    keys = {level: frame.select("__start", *plan.group_keys[:level]) for level, frame in frames.levels.items()}
    typed_bands = typed.finish(
        groups={name: raw.select("__pos", "__sub", _VALUES) for name, raw in group_raw.items()},
        keys=keys,
        report={name: raw.select(_VALUES) for name, raw in report_raw.items()},
    )
    pages = None
    if frames.page_rows is not None:
        # a detail row with a very long value is one too, in the band's tall variant
        names: tuple[str, ...] = (detail.name, detail.name + TALL) if detail is not None else ()
        names += tuple(f"{detail.name}{SUB_ROWS}{n}" for n in range(1, ROW_CLASSES + 1)) if detail is not None else ()
        is_detail = bands.kinds.cast(pl.Int32).is_in([band_index[name] for name in names if name in band_index])
        band_rows = pl.concat(positions) if positions else pl.Series("__pos", [], dtype=pl.UInt32)
        pages = PageRows(plan, pl.concat(frames.page_rows), band_rows, is_detail)
    first = pl.concat(firsts).group_by("k", maintain_order=True).first() if firsts else pl.DataFrame()
    return StreamData(
        bands=bands,
        samples=look_samples(plan, band_index, _samples(first, pl.concat(longest) if longest else pl.DataFrame())),
        row_count=row_count,
        parts=frames.parts,
        static=static,
        chart_stats=formatted.stats,
        pages=pages,
        assets=formatted.images.files,
        cuts=cuts,
        typed=typed_bands,
    )
