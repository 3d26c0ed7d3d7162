"""Merge detail rows and group bands into one ordered stream of display strings.

Each band instance becomes a row ``(__pos, __sub, k, c)``: ``k`` is the band's index in the
layout, ``c`` the list of its cells' display strings. Group header ``k`` sorts before its
first row (``__pos`` = first row, ``__sub`` = ``k``), footers after their last row, inner
footers first. Everything is vectorised; the stream leaves Polars as one JSON text.

    >>> import polarreports as pr
    >>> from polarreports.api import plan_report
    >>> from polarreports.layout.typst_source import band_indices
    >>> report = pr.load("examples/sales_by_region.yaml")
    >>> plan, scopes = plan_report(report, pr.sample.sales_data(50))
    >>> stream = collect_stream(plan, scopes, band_indices(plan))
    >>> stream.bands["json"][0][:30]
    '{"k":1,"c":["Central","14 orde'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from polarreports.data.scopes import ROW_INDEX, Scopes
from polarreports.formatting import default_pattern, format_expr
from polarreports.plan.model import BandPlan, ReportPlan

__all__ = ["StreamData", "collect_stream", "formatted_cells"]


@dataclass(frozen=True)
class StreamData:
    bands: pl.DataFrame
    """One row per band instance in reading order: ``k`` (the band's index in the layout) and
    ``json`` (the instance as a JSON object ``{"k":..,"c":[..]}``)."""
    samples: list[dict[str, Any]]
    """For each band kind present: its first instance, then one made of the longest text of
    each cell (the measuring pass checks whether that one wraps)."""
    row_count: int
    """Number of detail rows after the filter."""
    static: dict[str, list[str]]
    """Display strings of the report-scope bands (title, page header, summary, ...)."""

    @property
    def band_count(self) -> int:
        return self.bands.height


def formatted_cells(plan: ReportPlan, band: BandPlan, scopes: Scopes) -> pl.Expr:
    """A ``list[str]`` expression with the display string of every data cell of ``band``."""
    report = plan.report
    strings = []
    for cell in band.data_cells:
        assert cell.value is not None
        dtype = scopes.dtypes[cell.where]
        pattern = cell.pattern or cell.default_pattern or default_pattern(dtype)
        strings.append(
            format_expr(
                cell.value,
                dtype,
                pattern,
                locale=report.locale,
                currency=report.currency,
                null_text=getattr(cell.element, "null_text", ""),
                where=cell.where,
            )
        )
    if not strings:
        return pl.lit([], dtype=pl.List(pl.String))
    return pl.concat_list(strings)


def _stream(plan: ReportPlan, scopes: Scopes, band_index: dict[str, int]) -> pl.LazyFrame:
    depth = len(plan.groups)
    parts = []
    for band in plan.bands:
        if band.scope == "report":
            continue
        if band.kind == "detail":
            pos, sub = pl.col(ROW_INDEX), depth + 1
        elif band.kind == "group_header":
            pos, sub = pl.col("__start"), band.level
        else:
            pos, sub = pl.col("__end"), depth + 1 + (depth - band.level + 1)
        parts.append(
            scopes.frame(band).select(
                pos.cast(pl.UInt32).alias("__pos"),
                pl.lit(sub, dtype=pl.UInt8).alias("__sub"),
                pl.lit(band_index[band.name], dtype=pl.UInt16).alias("k"),
                formatted_cells(plan, band, scopes).alias("c"),
            )
        )
    if not parts:
        return pl.LazyFrame(schema={"__pos": pl.UInt32, "__sub": pl.UInt8, "k": pl.UInt16, "c": pl.List(pl.String)})
    return pl.concat(parts, how="vertical").sort("__pos", "__sub")


def _samples(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Per band kind, its first instance and a composite of each cell's longest text."""
    if frame.is_empty():
        return []
    cells = (
        frame.with_row_index("__i")
        .explode("c")
        .with_columns(pl.int_range(pl.len()).over("__i").alias("__j"))
        .drop_nulls("c")
    )
    longest = (
        cells.group_by("k", "__j")
        .agg(pl.col("c").sort_by(pl.col("c").str.len_chars()).last())
        .sort("k", "__j")
        .group_by("k", maintain_order=True)
        .agg(pl.col("c"))
    )
    first = frame.group_by("k", maintain_order=True).first().sort("k")
    samples = []
    for (k, c_first), (_, c_long) in zip(first.iter_rows(), longest.iter_rows(), strict=True):
        samples.append({"k": k, "c": c_first})
        samples.append({"k": k, "c": c_long})
    return samples


def collect_stream(plan: ReportPlan, scopes: Scopes, band_index: dict[str, int]) -> StreamData:
    """Collect the band stream and the report-scope values in one streaming pass."""
    stream = _stream(plan, scopes, band_index).select("k", "c")
    report_bands = [band for band in plan.bands if band.scope == "report"]
    report_frame = scopes.report.select(
        pl.col("__rows"),
        *(formatted_cells(plan, band, scopes).alias(band.name) for band in report_bands),
    )
    frame, report_values = pl.collect_all([stream, report_frame], engine="streaming")
    values: dict[str, Any] = report_values.row(0, named=True)
    bands = frame.select("k", pl.struct("k", "c").struct.json_encode().alias("json"))
    return StreamData(
        bands=bands,
        samples=_samples(frame),
        row_count=int(values["__rows"]),
        static={band.kind: list(values[band.name]) for band in report_bands},
    )
