"""The pipeline, end to end: definition -> plan -> data -> layout -> output.

>>> import polarreports as pr
>>> report = pr.load("examples/sales_by_region.yaml")
>>> doc = pr.render(report, pr.sample.sales_data(300))
>>> doc.stats["rows"]
300
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import polars as pl

from polarreports.data.scopes import Scopes, build_scopes
from polarreports.data.source import to_lazyframe
from polarreports.data.stream import collect_stream
from polarreports.definition.report import Report
from polarreports.exceptions import DataError
from polarreports.layout.typst_source import band_indices, emit_typst
from polarreports.output.document import Document
from polarreports.output.typeset import ReportData
from polarreports.plan.build import build_plan
from polarreports.plan.model import ReportPlan

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


def validate(report: Report, data: Any, /, **params: Any) -> ReportPlan:
    """Raise a ``PlanError`` listing every problem of ``report`` over ``data``; reads no rows."""
    return plan_report(report, data, **params)[0]


def render(report: Report, data: Any, /, **params: Any) -> Document:
    """Render ``report`` over ``data`` (LazyFrame, DataFrame, or a Parquet/CSV/IPC path).

    Keyword arguments are the report's parameters. Compilation to PDF/PNG/SVG happens when
    the document is saved or its ``pdf`` is read.
    """
    timings: dict[str, Any] = {}
    start = time.perf_counter()
    plan, scopes = plan_report(report, data, **params)
    timings["plan_s"] = time.perf_counter() - start
    mark = time.perf_counter()
    indices = band_indices(plan)
    stream = collect_stream(plan, scopes, indices)
    timings["data_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    source = emit_typst(plan, scopes.dtypes)
    sticky = [False] * len(indices)
    for band in plan.bands:
        if band.kind == "group_header":
            sticky[indices[band.name]] = True
    data = ReportData(static=stream.static, bands=stream.bands, samples=stream.samples, sticky=sticky)
    timings["layout_s"] = time.perf_counter() - mark
    stats: dict[str, Any] = {k: round(v, 4) for k, v in timings.items()}
    stats.update(rows=stream.row_count, bands=stream.band_count)
    return Document(source, data, stats)
