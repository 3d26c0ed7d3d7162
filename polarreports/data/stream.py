"""Merge detail rows and group bands into one ordered stream of display strings.

Each band instance becomes a row ``(__pos, __sub, k, c)``: ``k`` is the band's index in the
layout, ``c`` the list of its cells' display strings. Group header ``k`` sorts before its
first row (``__pos`` = first row, ``__sub`` = ``k``), footers after their last row, inner
footers first. Everything is vectorised; the stream leaves Polars as one JSON text.

    >>> import polars as pl
    >>> stream = pl.LazyFrame({"__pos": [0, 0], "__sub": [2, 1], "k": [0, 1], "c": [["row"], ["head"]]})
    >>> to_json_rows(stream.sort("__pos", "__sub")).collect().item()
    '{"k":1,"c":["head"]},{"k":0,"c":["row"]}'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from polarreports.data.scopes import ROW_INDEX, Scopes
from polarreports.formatting import default_pattern, format_expr
from polarreports.plan.model import BandPlan, ReportPlan

__all__ = ["StreamData", "collect_stream", "formatted_cells", "to_json_rows"]


@dataclass(frozen=True)
class StreamData:
    rows_json: str
    """The band stream as the inside of a JSON array: ``{"k":0,"c":[...]},...``."""
    band_count: int
    """Number of band instances in the stream (rows, group headers and footers)."""
    row_count: int
    """Number of detail rows after the filter."""
    static: dict[str, list[str]]
    """Display strings of the report-scope bands (title, page header, summary, ...)."""


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


def to_json_rows(stream: pl.LazyFrame) -> pl.LazyFrame:
    """One string: the stream's rows as comma-separated JSON objects ``{"k":..,"c":[..]}``."""
    return stream.select(pl.struct("k", "c").struct.json_encode().str.join(",").alias("json"))


def collect_stream(plan: ReportPlan, scopes: Scopes, band_index: dict[str, int]) -> StreamData:
    """Collect the band stream and the report-scope values in one streaming pass."""
    stream = _stream(plan, scopes, band_index)
    report_bands = [band for band in plan.bands if band.scope == "report"]
    report_frame = scopes.report.select(
        pl.col("__rows"),
        pl.len().alias("__one"),
        *(formatted_cells(plan, band, scopes).alias(band.name) for band in report_bands),
    )
    json_rows, counts, report_values = pl.collect_all(
        [to_json_rows(stream), stream.select(pl.len()), report_frame], engine="streaming"
    )
    values: dict[str, Any] = report_values.row(0, named=True)
    return StreamData(
        rows_json=json_rows.item() or "",
        band_count=int(counts.item()),
        row_count=int(values["__rows"]),
        static={band.kind: list(values[band.name]) for band in report_bands},
    )
