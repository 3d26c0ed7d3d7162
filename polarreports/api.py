"""The pipeline, end to end: definition -> plan -> compute -> stream -> emit -> typeset -> output.

>>> import polarreports as pr
>>> report = pr.load("examples/sales_by_region.yaml")
>>> doc = report.render(pr.sample.sales_data(300), timeout=60)
>>> doc.stats["rows"]
300
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import polars as pl

from polarreports.charts.vega import ChartLimits
from polarreports.compute.overflow import cut_message
from polarreports.compute.scopes import Scopes, build_scopes
from polarreports.compute.source import report_frame
from polarreports.compute.subreports import attach_subreports
from polarreports.control import CancelToken, Progress, ProgressRelay, RenderControl, logger, sweep_now_and_then
from polarreports.definition import report as definition
from polarreports.definition.elements import Crosstab
from polarreports.definition.locations import locations_of, remember
from polarreports.emit.typst_source import TypstSource, band_indices, emit_typst, stream_kinds
from polarreports.exceptions import DataError, LayoutError, PlanError, RenderOptionError
from polarreports.output.document import Document
from polarreports.output.exports import Rendered
from polarreports.output.progress import progress_bar
from polarreports.plan.build import build_plan
from polarreports.plan.fonts import glyph_warnings
from polarreports.plan.geometry import TALL
from polarreports.plan.model import BandKind, ReportPlan
from polarreports.plan.navigation import outline_levels
from polarreports.plan.parameters import resolve_parameters
from polarreports.plan.reuse import PLANS, Planned, plan_key
from polarreports.plan.standalone import columns_read, stand_in_parameters
from polarreports.plan.translations import translate_report
from polarreports.stats import RenderStats
from polarreports.stream.collect import StreamData, collect_stream
from polarreports.suggest import close_matches
from polarreports.typeset.report_data import ReportData

if TYPE_CHECKING:
    from polarreports.output.notebook import ReportPreview

__all__ = ["Report", "Validation", "load", "plan_report", "render", "validate"]

R = TypeVar("R", bound=definition.Report)

RENDER_OPTIONS = ("progress", "cancel", "timeout", "memory_budget_mb", "workers", "params", "locale", "sources")
"""The keywords of :func:`render` that are not report parameters."""


class Report(definition.Report):
    """A banded report definition, with the verbs that render it.

    >>> import polars as pl
    >>> import polarreports as pr
    >>> report = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="x")])))
    >>> report.render(pl.DataFrame({"x": [1, 2]})).stats["rows"]
    2
    """

    def render(
        self,
        data: Any = None,
        /,
        *,
        params: dict[str, Any] | None = None,
        progress: Callable[[Progress], None] | bool | None = None,
        cancel: CancelToken | None = None,
        timeout: float | None = None,
        memory_budget_mb: float | None = None,
        workers: int | None = None,
        locale: str | None = None,
        sources: Mapping[str, Any] | None = None,
        **parameters: Any,
    ) -> Document:
        """Render this report over ``data``: see :func:`polarreports.render`."""
        return render(
            self,
            data,
            params=params,
            sources=sources,
            progress=progress,
            cancel=cancel,
            timeout=timeout,
            memory_budget_mb=memory_budget_mb,
            workers=workers,
            locale=locale,
            **parameters,
        )

    def preview(
        self,
        data: Any,
        /,
        *,
        params: dict[str, Any] | None = None,
        sources: Mapping[str, Any] | None = None,
        **parameters: Any,
    ) -> ReportPreview:
        """An interactive preview in a notebook (ipywidgets): a control per parameter of the
        report, starting from ``params`` and the keywords (or the defaults); every change renders
        again, with a progress bar and a cancel button, and shows the pages with a pager;
        ``sources``: the frames its subreports name, as in ``render``.
        See :mod:`polarreports.output.notebook`."""
        from polarreports.output.notebook import ReportPreview

        render = functools.partial(self.render, sources=sources) if sources else self.render
        return ReportPreview(render, list(self.parameters), data, **report_parameters(self, params, parameters))


def load(path: str | Path) -> Report:
    """Read a report definition from a YAML or JSON file.

    >>> import polarreports as pr
    >>> pr.load("examples/sales_by_region.yaml").name
    'sales_by_region'
    """
    return definition.load(path, Report)


def report_parameters(
    report: definition.Report, params: dict[str, Any] | None, keywords: dict[str, Any]
) -> dict[str, Any]:
    """The report's parameter values from ``params`` and the other keywords of a render call.

    A keyword that is not a parameter of the report but looks like a render option is a
    mistyped option (``timout=5``), not an unknown parameter; a parameter named like a render
    option goes in ``params``.
    """
    declared = {parameter.name for parameter in report.parameters}
    for name in keywords:
        if name not in declared:
            options = close_matches(name, RENDER_OPTIONS, n=1, cutoff=0.75)
            if options:
                msg = f"render() got an unknown keyword {name!r}; did you mean {options[0]!r} (a render option)?"
                raise RenderOptionError(msg)
    both = set(keywords) & set(params or {})
    if both:
        msg = f"parameter {sorted(both)[0]!r} is given twice: in params and as a keyword"
        raise RenderOptionError(msg)
    return {**(params or {}), **keywords}


def _check_options(timeout: float | None, memory_budget_mb: float | None, workers: int | None) -> None:
    """Refuse render options out of range, before any work."""
    checks = (
        ("timeout", timeout, "a number of seconds > 0"),
        ("memory_budget_mb", memory_budget_mb, "a number of megabytes > 0"),
    )
    for name, value, valid in checks:
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf")
        ):
            msg = f"render option {name}={value!r} is not valid: give {valid}, or None for no limit"
            raise RenderOptionError(msg)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        msg = f"render option workers={workers!r} is not valid: give a whole number >= 1, or None for one per core"
        raise RenderOptionError(msg)


def plan_report(
    report: definition.Report,
    data: Any = None,
    /,
    *,
    params: Mapping[str, Any] | None = None,
    schema_only: bool = False,
    sources: Mapping[str, Any] | None = None,
) -> tuple[ReportPlan, Scopes]:
    """Check ``report`` against the data's schema and build its lazy frames; reads no rows
    (but a database query's, which runs here; with ``schema_only``, returning none).

    As in :func:`render`, the options are keywords and the report's parameters go in ``params``
    (a dict), so a parameter may have any name, ``sources`` or ``schema_only`` included;
    ``sources``: the frames the report's subreports name.

    >>> import polarreports as pr
    >>> report = pr.load("examples/sales_by_region.yaml")
    >>> plan, scopes = plan_report(report, pr.sample.sales_data(10), params={"year": 2024})
    >>> plan.parameters["year"], [group.name for group in plan.groups]
    (2024, ['region', 'customer'])
    """
    plan, scopes, _, _ = _planned(report, data, dict(params or {}), sources, schema_only=schema_only)
    return plan, scopes


def _planned(
    report: definition.Report,
    data: Any,
    params: dict[str, Any],
    sources: Mapping[str, Any] | None = None,
    *,
    schema_only: bool = False,
) -> tuple[ReportPlan, Scopes, pl.LazyFrame, Planned | None]:
    """:func:`plan_report`, the rows the report shows: the input's columns of its filtered
    rows, unsorted (lazily, for a PDF's data attachment: streamed, where a sort would hold them),
    and what is kept of the plan for the next render (``plan.reuse``; None: not kept)."""
    values = resolve_parameters(report.parameters, params)
    lf = report_frame(report, data, values, schema_only=schema_only)
    try:
        schema = lf.collect_schema()
    except pl.exceptions.PolarsError as error:
        msg = f"cannot read the data: {str(error).splitlines()[0]}"
        raise DataError(msg) from None
    base_dir = Path.cwd()
    try:
        joined = attach_subreports(report, lf, sources, params, base_dir=base_dir, schema_only=schema_only)
        joined_schema = joined.collect_schema() if joined is not lf else schema
        key = plan_key(report, joined_schema, values, base_dir)
        planned = PLANS.get(key)
        if planned is None:
            plan = build_plan(report, joined_schema, params, base_dir=base_dir)
            scopes = build_scopes(plan, joined)
            planned = Planned(plan, dict(scopes.dtypes)) if key is not None else None
            if planned is not None:
                PLANS.put(key, planned)
        else:
            plan, scopes = planned.plan, build_scopes(planned.plan, joined, planned.dtypes)
    except PlanError as error:
        raise _located(report, error) from None
    if isinstance(data, pl.DataFrame):  # its rows are counted: no query needed to know they are few
        scopes.most_rows = data.height
    shown = scopes.base if scopes.base is not None else scopes.rows  # filtered, before any sort
    return plan, scopes, shown.select(schema.names()), planned


def _typst_source(plan: ReportPlan, scopes: Scopes, planned: Planned | None) -> TypstSource:
    """The Typst source of ``plan``: written once per kept plan, then copied (a render adds its
    images to the copy's assets)."""
    if planned is None:
        return emit_typst(plan, scopes.dtypes)
    if planned.source is None:
        planned.source = emit_typst(plan, scopes.dtypes)
    return _copied(planned.source)


def _copied(source: TypstSource) -> TypstSource:
    return replace(source, assets=dict(source.assets), panels=tuple(_copied(panel) for panel in source.panels))


def _located(report: definition.Report, error: PlanError) -> PlanError:
    """``error`` with each problem prefixed by the file and line it is at, when the report was
    read from a file."""
    where = locations_of(report)
    if where is None:
        return error
    return PlanError([where.prefix(issue) + issue for issue in error.issues])


def page_flow(plan: ReportPlan, indices: dict[str, int]) -> dict[str, Any]:
    """What decides where pages break, per band kind of the stream: for ``ReportData``."""
    stream_bands = stream_kinds(plan)
    names = sorted(indices, key=indices.__getitem__)
    tall_kinds = [name.endswith(TALL) for name in names]
    subreport_kinds = [any(cell.role == "subreport" for cell in band.data_cells) for band in stream_bands]
    crosstab_kinds = [any(isinstance(cell.element, Crosstab) for cell in band.data_cells) for band in stream_bands]
    title, summary = plan.band(BandKind.TITLE), plan.band(BandKind.SUMMARY)
    keep, reprint = {}, {}
    for group in plan.groups:
        if group.asks_for_room:
            keep[group.level] = (group.keep_together, group.min_space or 0.0)
        header, footer = plan.band(BandKind.GROUP_HEADER, group.level), plan.band(BandKind.GROUP_FOOTER, group.level)
        if group.reprint_header and header is not None and footer is not None:
            reprint[group.level] = (indices[header.name], indices[footer.name])
    return {
        "sticky": [band.kind == BandKind.GROUP_HEADER for band in stream_bands],
        "breaks": [band.break_before for band in stream_bands],
        "breaks_after": [band.break_after for band in stream_bands],
        "title_page": title is not None and title.break_after,
        "summary_page": summary is not None and summary.break_before,
        "header_levels": [band.level if band.kind == BandKind.GROUP_HEADER else 0 for band in stream_bands],
        "keep": keep,
        "reprint": reprint,
        # a crosstab's height varies with its group, and it may break across pages: probed, and
        # each measured (one that fits where it begins needs no probe); so may the tall variant
        # of a band holding a subreport (a long table, which breaks where it begins): probed;
        # its other instances are boxes, which never break: measured each where they vary
        "probed": [
            crosstab or (tall and subreport)
            for tall, subreport, crosstab in zip(tall_kinds, subreport_kinds, crosstab_kinds, strict=True)
        ],
        "measured_each": [
            (subreport and not tall) or crosstab
            for tall, subreport, crosstab in zip(tall_kinds, subreport_kinds, crosstab_kinds, strict=True)
        ],
        # a crosstab's band kept together goes whole on the next page when it fits on one
        "kept_whole": [
            crosstab and band.band.keep_together for band, crosstab in zip(stream_bands, crosstab_kinds, strict=True)
        ],
    }


@dataclass(frozen=True)
class Validation:
    """What :func:`validate` found: the report fits the data, with the parameter values it
    would use and the type of every value it would show.

    >>> import polarreports as pr
    >>> found = pr.validate(pr.load("examples/sales_by_region.yaml"), pr.sample.sales_data(10))
    >>> found.groups, found.parameters["year"]
    (('region', 'customer'), None)
    >>> found.values["bands.detail.elements[0] (field 'order_date')"]
    'Date'
    """

    report: str
    """The report's name."""
    parameters: dict[str, Any]
    """Every parameter's value, given or default."""
    groups: tuple[str, ...]
    """The group levels, outermost first."""
    variables: dict[str, str]
    """Each variable's calculation."""
    bands: tuple[str, ...]
    """Where each band of the report is in the definition."""
    values: dict[str, str]
    """The Polars type of the value each element shows, by its place in the definition (empty
    when checked without data)."""
    columns_read: tuple[str, ...] | None = None
    """Checked without data: the columns the definition reads, whose presence and types only
    the data can confirm (None when checked against data)."""

    def __str__(self) -> str:
        width = max((len(place) for place in self.values), default=0)
        if self.columns_read is not None:
            return "\n".join(
                [
                    f"report {self.report!r}: the definition is valid (without data: its columns are not checked)",
                    f"  groups: {', '.join(self.groups) or '(none)'}",
                    f"  variables: {', '.join(f'{k} ({v})' for k, v in self.variables.items()) or '(none)'}",
                    f"  columns it reads: {', '.join(self.columns_read) or '(none)'}",
                ]
            )
        lines = [
            f"report {self.report!r}: ok",
            f"  groups: {', '.join(self.groups) or '(none)'}",
            f"  variables: {', '.join(f'{k} ({v})' for k, v in self.variables.items()) or '(none)'}",
            f"  parameters: {', '.join(f'{k}={v!r}' for k, v in self.parameters.items()) or '(none)'}",
            f"  {len(self.bands)} bands, {len(self.values)} values:",
            *(f"    {place:<{width}}  {dtype}" for place, dtype in self.values.items()),
        ]
        return "\n".join(lines)


def validate(
    report: definition.Report,
    data: Any = None,
    /,
    *,
    params: dict[str, Any] | None = None,
    sources: Mapping[str, Any] | None = None,
    **parameters: Any,
) -> Validation:
    """Check ``report`` against ``data``'s columns and types without reading a row: a
    ``PlanError`` lists every problem at once; otherwise a :class:`Validation` says what was found.

    Without ``data`` (and without a ``source`` in the definition), the definition alone is
    checked (everything but its columns and their types); required parameters not given stand
    in with a value of their type. ``sources``: the frames its subreports name, as in ``render``.

    >>> import polarreports as pr
    >>> pr.validate(pr.load("examples/sales_by_region.yaml")).columns_read
    ('country', 'customer', 'discount', 'order_date', 'order_id', 'product', 'quantity', 'region', 'unit_price')
    """
    values = report_parameters(report, params, parameters)
    if data is None and report.source is None:  # no rows to read: the definition alone
        try:
            columns = columns_read(report, values, base_dir=Path.cwd())
        except PlanError as error:
            raise _located(report, error) from None
        return Validation(
            report=report.name,
            parameters=dict(stand_in_parameters(report.parameters, values)),
            groups=tuple(group.name for group in report.groups),
            variables={variable.name: variable.calculation for variable in report.variables},
            bands=(),
            values={},
            columns_read=tuple(columns),
        )
    plan, scopes = plan_report(localized(report, None)[0], data, params=values, schema_only=True, sources=sources)
    return Validation(
        report=report.name,
        parameters=dict(plan.parameters),
        groups=tuple(group.name for group in plan.groups),
        variables={variable.name: variable.calculation for variable in plan.variables},
        bands=tuple(band.name for band in plan.bands),
        values={where: str(dtype) for where, dtype in scopes.dtypes.items()},
    )


def localized(report: R, locale: str | None) -> tuple[R, list[str]]:
    """``report`` in ``locale`` (its own when None) with its texts translated from its
    catalogs, and the warnings about texts left untranslated (also logged). The copy keeps the
    file and lines the report was read from, for its errors."""
    where = locations_of(report)
    if locale is not None:
        if not isinstance(locale, str):
            msg = f"render option locale={locale!r} is not valid: give a locale such as 'de_DE', or None"
            raise RenderOptionError(msg)
        report = report.model_copy(update={"locale": locale})
    report, warnings = translate_report(report)
    if where is not None and locations_of(report) is None:
        remember(report, where)
    for warning in warnings:
        logger.warning("%s: %s", report.name, warning)
    return report, warnings


def _one_piece_reason(report: definition.Report) -> str | None:
    """Why the report must be typeset in one piece, never in chunks joined (None: it may be)."""
    if report.table_of_contents:
        return "a table of contents needs the whole document"
    return None


def _report_texts(plan: ReportPlan, stream: StreamData) -> Iterator[str]:
    """Every text the report shows: the band stream (a batch at a time), the values of the
    title and other report bands, and the labels."""
    bands = stream.bands
    for start in range(0, bands.height, 50_000):
        yield "".join(bands.texts(start, 50_000).to_list())
    yield json.dumps(stream.static, ensure_ascii=False)
    for band in plan.bands:
        yield "".join(getattr(element, "text", "") for element in band.band.elements)


def _font_warnings(plan: ReportPlan, stream: StreamData) -> list[str]:
    """Warnings naming the characters a font of the report's own lacks (logged)."""
    warnings = glyph_warnings(plan.fonts, plan.own_fonts, _report_texts(plan, stream))
    for message in warnings:
        logger.warning("%s: %s", plan.name, message)
    return warnings


def _cut_warnings(report: definition.Report, cuts: dict[str, int]) -> list[str]:
    """One warning per element whose text is cut (logged); with ``overflow: error`` a
    LayoutError for the first instead."""
    warnings = []
    for key, rows in cuts.items():
        where, how = key.split("\t")
        message = cut_message(where, how, rows)
        if report.overflow == "error":
            msg = (
                f"{message}, and the report has overflow: error.\nHint: give the element overflow: wrap and "
                "the band no fixed height, make it wider, or set overflow: warn to accept the cut."
            )
            raise LayoutError(msg, band=where.split(".elements")[0], element=where) from None
        logger.warning("%s: %s", report.name, message)
        warnings.append(message)
    return warnings


def render(
    report: definition.Report,
    data: Any = None,
    /,
    *,
    params: dict[str, Any] | None = None,
    progress: Callable[[Progress], None] | bool | None = None,
    cancel: CancelToken | None = None,
    timeout: float | None = None,
    memory_budget_mb: float | None = None,
    workers: int | None = None,
    locale: str | None = None,
    sources: Mapping[str, Any] | None = None,
    **parameters: Any,
) -> Document:
    """Render ``report`` over ``data`` (LazyFrame, DataFrame, or a Parquet/CSV/IPC path).

    ``sources`` holds, by name, the data of the report's subreports (LazyFrames, DataFrames or
    paths), as their ``source`` names them.

    The report's parameters are given in ``params`` (a dict), or as further keywords for short;
    a parameter named like a render option must go in ``params``. The data work happens here;
    typesetting happens when the document is saved or its ``pdf`` is read. ``progress`` is
    called with a :class:`Progress` at each phase (``True``: a progress bar, in a notebook's
    output or on standard error); ``cancel`` (a :class:`CancelToken`) and ``timeout`` stop the
    render, data work and typesetting alike, within a second, with
    :class:`~polarreports.Cancelled`. ``timeout`` is the seconds of work the render may take:
    this call's, plus the typesetting and writing when the document is saved or its ``pdf``
    read; not the time the document waits in between. ``memory_budget_mb`` bounds
    the memory of this process and its Typst worker processes together (chunks get smaller to
    fit; :class:`~polarreports.ResourceError` if they cannot); ``workers`` caps the processes.
    ``locale`` renders the report in another locale than its own (numbers, dates, and with
    ``translations``, its texts): one definition, several languages.
    """
    _check_options(timeout, memory_budget_mb, workers)
    values = report_parameters(report, params, parameters)
    if locale is not None and "locale" in {p.name for p in report.parameters} and "locale" not in (params or {}):
        msg = (
            f"locale={locale!r} is the render option (the locale to render in), and the report also has a "
            "parameter 'locale'.\nHint: give the parameter in params={'locale': ...}."
        )
        raise RenderOptionError(msg)
    report, translation_warnings = localized(report, locale)
    if progress is True:
        progress = progress_bar()
    control = RenderControl(
        progress=progress or None, cancel=cancel, timeout=timeout, memory_budget_mb=memory_budget_mb, workers=workers
    )
    sweep_now_and_then()  # what renders killed outright left in the temporary folder
    timings: dict[str, Any] = {}
    start = time.perf_counter()
    control.report("planning")
    plan, scopes, rows_shown, planned = _planned(report, data, values, sources)
    timings["plan_s"] = time.perf_counter() - start
    mark = time.perf_counter()
    control.report("data")
    indices = band_indices(plan)
    rows = ProgressRelay(control, "data", "rows")  # set on the data thread, reported from this one
    chart_limits = ChartLimits(control.stop_reason, control.memory_budget_mb)  # charts drawn in a worker
    stream = control.run(  # Polars' own errors arrive as DataErrors (stream.collect)
        lambda: collect_stream(plan, scopes, indices, check=control.check, progress=rows.set, charts=chart_limits),
        poll=rows.report,
    )
    rows.report()
    timings["data_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    control.report("layout", stream.band_count, stream.band_count, "bands")
    source = _typst_source(plan, scopes, planned)
    source.assets.update(stream.assets)
    data = ReportData(
        static=stream.static,
        bands=stream.bands,
        samples=stream.samples,
        pages=stream.pages,
        outline_levels=outline_levels(plan, stream_kinds(plan)),
        one_piece=_one_piece_reason(report),
        unpredictable=(
            f"the page height is auto ({report.page.size!r}), so its page breaks cannot be predicted"
            if report.page.auto_height
            else None
        ),
        settings={"no_rows": stream.row_count == 0},  # a report without bands in its stream may have rows
        **page_flow(plan, indices),
    )
    timings["layout_s"] = time.perf_counter() - mark
    stats = RenderStats(
        **{k: round(v, 4) for k, v in timings.items()},
        rows=stream.row_count,
        bands=stream.band_count,
        data_parts=stream.parts,
        warnings=translation_warnings + _cut_warnings(report, stream.cuts) + _font_warnings(plan, stream),
        charts=stream.chart_stats.get("charts", 0),
        charts_rendered=stream.chart_stats.get("charts_rendered", 0),
        charts_cached=stream.chart_stats.get("charts_cached", 0),
    )
    logger.info(
        "%s: %s rows, %s bands; plan %.3f s, data %.3f s",
        report.name,
        stream.row_count,
        stream.band_count,
        timings["plan_s"],
        timings["data_s"],
    )
    control.pause()  # the time limit counts the render's work, not the time its document waits
    return Document(
        source, data, stats, control, rendered=Rendered(plan, stream, dict(scopes.dtypes), rows_shown, report.to_yaml)
    )
