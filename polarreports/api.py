"""The pipeline, end to end: definition -> plan -> data -> layout -> output.

>>> import polarreports as pr
>>> report = pr.load("examples/sales_by_region.yaml")
>>> doc = pr.render(report, pr.sample.sales_data(300))
>>> doc.stats["rows"]
300
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from polarreports.control import CancelToken, Progress, ProgressRelay, RenderControl, logger
from polarreports.data.scopes import Scopes, build_scopes
from polarreports.data.source import to_lazyframe
from polarreports.data.stream import collect_stream
from polarreports.definition.report import Report
from polarreports.exceptions import DataError
from polarreports.layout.navigation import outline_levels
from polarreports.layout.typst_source import band_indices, emit_typst, stream_kinds
from polarreports.output.document import Document
from polarreports.output.typeset import ReportData
from polarreports.plan.build import build_plan
from polarreports.plan.model import ReportPlan
from polarreports.progress import progress_bar
from polarreports.units import to_points

__all__ = ["plan_report", "render", "validate"]


def plan_report(report: Report, data: Any, /, **params: Any) -> tuple[ReportPlan, Scopes]:
    """Check ``report`` against the data's schema and build its lazy frames; reads no rows."""
    lf = to_lazyframe(data)
    try:
        schema = lf.collect_schema()
    except pl.exceptions.PolarsError as error:
        msg = f"cannot read the data: {str(error).splitlines()[0]}"
        raise DataError(msg) from None
    plan = build_plan(report, schema, params, base_dir=Path.cwd())
    return plan, build_scopes(plan, lf)


def page_flow(plan: ReportPlan, indices: dict[str, int]) -> dict[str, Any]:
    """What decides where pages break, per band kind of the stream: for ``ReportData``."""
    stream_bands = stream_kinds(plan)
    title, summary = plan.band("title"), plan.band("summary")
    font_size = plan.report.page.font_size
    keep, reprint = {}, {}
    for group in plan.groups:
        definition = plan.report.groups[group.level - 1]
        if definition.keep_together or definition.min_space is not None:
            min_space = to_points(definition.min_space, whole=0, font_size=font_size) if definition.min_space else 0.0
            keep[group.level] = (definition.keep_together, min_space)
        header, footer = plan.band("group_header", group.level), plan.band("group_footer", group.level)
        if definition.reprint_header and header is not None and footer is not None:
            reprint[group.level] = (indices[header.name], indices[footer.name])
    return {
        "sticky": [band.kind == "group_header" for band in stream_bands],
        "breaks": [band.break_before for band in stream_bands],
        "breaks_after": [band.break_after for band in stream_bands],
        "title_page": title is not None and title.break_after,
        "summary_page": summary is not None and summary.break_before,
        "header_levels": [band.level if band.kind == "group_header" else 0 for band in stream_bands],
        "keep": keep,
        "reprint": reprint,
    }


def validate(report: Report, data: Any, /, **params: Any) -> ReportPlan:
    """Raise a ``PlanError`` listing every problem of ``report`` over ``data``; reads no rows."""
    return plan_report(report, data, **params)[0]


def render(
    report: Report,
    data: Any,
    /,
    *,
    progress: Callable[[Progress], None] | bool | None = None,
    cancel: CancelToken | None = None,
    timeout: float | None = None,
    memory_budget_mb: float | None = None,
    workers: int | None = None,
    **params: Any,
) -> Document:
    """Render ``report`` over ``data`` (LazyFrame, DataFrame, or a Parquet/CSV/IPC path).

    Other keyword arguments are the report's parameters. The data work happens here;
    typesetting happens when the document is saved or its ``pdf`` is read. ``progress`` is
    called with a :class:`Progress` at each phase (``True``: a progress bar, in a notebook's
    output or on standard error); ``cancel`` (a :class:`CancelToken`) and
    ``timeout`` (seconds, counted from this call) stop the render, data work and typesetting
    alike, within a second, with :class:`~polarreports.Cancelled`. ``memory_budget_mb`` bounds
    the memory of this process and its Typst worker processes together (chunks get smaller to
    fit; :class:`~polarreports.ResourceError` if they cannot); ``workers`` caps the processes.
    """
    if progress is True:
        progress = progress_bar()
    control = RenderControl(
        progress=progress or None, cancel=cancel, timeout=timeout, memory_budget_mb=memory_budget_mb, workers=workers
    )
    timings: dict[str, Any] = {}
    start = time.perf_counter()
    control.report("planning")
    plan, scopes = plan_report(report, data, **params)
    timings["plan_s"] = time.perf_counter() - start
    mark = time.perf_counter()
    control.report("data")
    indices = band_indices(plan)
    rows = ProgressRelay(control, "data", "rows")  # set on the data thread, reported from this one
    stream = control.run(
        lambda: collect_stream(plan, scopes, indices, check=control.check, progress=rows.set), poll=rows.report
    )
    rows.report()
    timings["data_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    control.report("layout", stream.band_count, stream.band_count, "bands")
    source = emit_typst(plan, scopes.dtypes)
    source.assets.update(stream.assets)
    data = ReportData(
        static=stream.static,
        bands=stream.bands,
        samples=stream.samples,
        pages=stream.pages,
        outline_levels=outline_levels(report, stream_kinds(plan)),
        one_piece="a table of contents needs the whole document" if report.table_of_contents else None,
        settings={"no_rows": stream.row_count == 0},  # a report without bands in its stream may have rows
        **page_flow(plan, indices),
    )
    timings["layout_s"] = time.perf_counter() - mark
    stats: dict[str, Any] = {k: round(v, 4) for k, v in timings.items()}
    stats.update(rows=stream.row_count, bands=stream.band_count, data_parts=stream.parts, **stream.chart_stats)
    logger.info(
        "%s: %s rows, %s bands; plan %.3f s, data %.3f s",
        report.name,
        stream.row_count,
        stream.band_count,
        timings["plan_s"],
        timings["data_s"],
    )
    return Document(source, data, stats, control)
