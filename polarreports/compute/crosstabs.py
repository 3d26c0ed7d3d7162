"""Crosstab data, computed by Polars in one lazy query: the cells (rows x columns), the total
column, the total row and the grand total, already formatted, as JSON per group instance.

``crosstab_json`` groups the rows by the group keys, the crosstab's row dimensions and its
column dimensions; the totals are the same aggregation over fewer dimensions (a ``group_by``
on each subset), concatenated. Each instance's value is ``{"cols": [[label, ...], ...],
"rows": [[label, ..., cell, ...], ...], "__n": cells}``: display strings only, in order, the
total row and column last; a missing combination is an empty string.

    >>> import json, polars as pl
    >>> from polarreports.definition.elements import Crosstab
    >>> xtab = Crosstab(rows=["r"], columns=["c"], measures={"n": "count(*)"})
    >>> frame = pl.LazyFrame({"r": ["a", "b", "a"], "c": ["x", "x", "y"]})
    >>> data = json.loads(crosstab_json(xtab, frame, keys=[]).collect().item())
    >>> data["cols"], data["rows"]
    ([['x'], ['y'], ['Total']], [['a', '1', '1', '2'], ['b', '1', '', '1'], ['Total', '2', '1', '3']])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import polars as pl

from polarreports.compute.charts import BUCKETS
from polarreports.compute.formatting import default_pattern, format_expr
from polarreports.definition.elements import Crosstab, CrosstabDimension
from polarreports.exceptions import LayoutError, PlanError
from polarreports.plan.expressions import to_expr

if TYPE_CHECKING:
    from polarreports.compute.scopes import Scopes
    from polarreports.plan.model import ReportPlan

__all__ = ["check_cells", "crosstab_issues", "crosstab_json", "join_crosstabs", "measure_names"]

_ROW_TOTAL, _COLUMN_TOTAL = "__xrt", "__xct"
"""Flags of the totals: a row of the total row (all rows), a cell of the total column."""


def measure_names(crosstab: Crosstab) -> list[str]:
    return [f"__xm{k}" for k in range(len(crosstab.measures))]


def _dimension(dimension: CrosstabDimension, name: str) -> pl.Expr:
    column = pl.col(dimension.column)
    if dimension.bucket is not None:
        return column.dt.truncate(BUCKETS[dimension.bucket]).alias(name)
    if dimension.bin is not None:
        return ((column / dimension.bin).floor() * dimension.bin).alias(name)
    return column.alias(name)


def _grouped(frame: pl.LazyFrame, by: list[str], measures: list[pl.Expr]) -> pl.LazyFrame:
    return frame.group_by(by).agg(measures) if by else frame.select(measures)


def _numbered(frame: pl.LazyFrame, keys: list[str], flag: str, dims: list[str], index: str) -> pl.LazyFrame:
    """The distinct ``dims`` (with the total ``flag``) of each instance, in order, numbered."""
    order = [*keys, flag, *dims]
    number = pl.int_range(pl.len(), dtype=pl.UInt32)
    return (
        frame.select(order)
        .unique()
        .sort(order, nulls_last=True)
        .with_columns((number.over(keys) if keys else number).alias(index))
    )


def _labels(
    dims: list[CrosstabDimension], names: list[str], schema: pl.Schema, flag: str, total: str, locale: str, where: str
) -> list[pl.Expr]:
    """The display strings of a header: the dimension's values, or the total's label."""
    labels = []
    for i, (dimension, name) in enumerate(zip(dims, names, strict=True)):
        dtype = schema[name]
        text = format_expr(
            pl.col(name),
            dtype,
            dimension.format or default_pattern(dtype),
            locale=locale,
            null_text=dimension.null_text,
            where=f"{where} dimension {dimension.column!r}",
        )
        labels.append(pl.when(pl.col(flag)).then(pl.lit(total if i == 0 else "")).otherwise(text).alias(name))
    return labels


def crosstab_json(
    crosstab: Crosstab,
    rows: pl.LazyFrame,
    *,
    keys: Sequence[str],
    parameters: Iterable[str] = (),
    locale: str = "en_US",
    currency: str | None = None,
    column: str = "crosstab",
    where: str = "crosstab",
) -> pl.LazyFrame:
    """Per instance of ``keys`` (one row without keys), the crosstab of its ``rows`` as JSON
    in column ``column`` (see the module's docstring)."""
    keys = list(keys)
    row_names = [f"__xr{i}" for i in range(len(crosstab.rows))]
    col_names = [f"__xc{j}" for j in range(len(crosstab.columns))]
    names = measure_names(crosstab)
    known = set(parameters)
    measures = [to_expr(m.value, known).alias(n) for m, n in zip(crosstab.measures.values(), names, strict=True)]
    dims = [
        _dimension(d, n) for d, n in zip([*crosstab.rows, *crosstab.columns], [*row_names, *col_names], strict=True)
    ]
    base = rows.with_columns(dims).cache()
    flags = (pl.lit(value=False).alias(_ROW_TOTAL), pl.lit(value=False).alias(_COLUMN_TOTAL))
    parts = [_grouped(base, [*keys, *row_names, *col_names], measures).with_columns(flags)]
    if crosstab.total_column:
        parts.append(
            _grouped(base, [*keys, *row_names], measures).with_columns(
                flags[0], pl.lit(value=True).alias(_COLUMN_TOTAL)
            )
        )
    if crosstab.total_row:
        parts.append(
            _grouped(base, [*keys, *col_names], measures).with_columns(pl.lit(value=True).alias(_ROW_TOTAL), flags[1])
        )
    if crosstab.total_row and crosstab.total_column:
        parts.append(
            _grouped(base, keys, measures).with_columns(
                pl.lit(value=True).alias(_ROW_TOTAL), pl.lit(value=True).alias(_COLUMN_TOTAL)
            )
        )
    values = pl.concat(parts, how="diagonal_relaxed")
    schema = values.collect_schema()
    row_index = _numbered(values, keys, _ROW_TOTAL, row_names, "__xri")
    col_index = _numbered(values, keys, _COLUMN_TOTAL, col_names, "__xci")
    grid = row_index.join(col_index, on=keys, nulls_equal=True) if keys else row_index.join(col_index, how="cross")
    at = [*keys, _ROW_TOTAL, *row_names, _COLUMN_TOTAL, *col_names]
    grid = grid.join(values, on=at, how="left", nulls_equal=True)
    texts = [
        format_expr(
            pl.col(name),
            schema[name],
            measure.format or default_pattern(schema[name]),
            locale=locale,
            currency=currency,
            null_text=measure.null_text,
            where=f"{where} measure {label!r}",
        ).fill_null("")
        for (label, measure), name in zip(crosstab.measures.items(), names, strict=True)
    ]
    row_labels = _labels(crosstab.rows, row_names, schema, _ROW_TOTAL, crosstab.total_label, locale, where)
    table_rows = (
        grid.sort([*keys, "__xri", "__xci"])
        .group_by([*keys, "__xri"], maintain_order=True)
        .agg(*(label.first() for label in row_labels), pl.concat_list(texts).explode().alias("__xcells"))
        .select(*keys, "__xri", pl.concat_list([*(pl.col(n) for n in row_names), "__xcells"]).alias("__xrow"))
    )
    col_labels = _labels(crosstab.columns, col_names, schema, _COLUMN_TOTAL, crosstab.total_label, locale, where)
    headers = col_index.sort([*keys, "__xci"]).select(*keys, pl.concat_list(col_labels).alias("__xcol"))
    count = (pl.col("rows").list.len() * pl.col("cols").list.len() * len(names)).alias("__n")
    if keys:
        by_rows = table_rows.group_by(keys, maintain_order=True).agg(pl.col("__xrow").alias("rows"))
        by_cols = headers.group_by(keys, maintain_order=True).agg(pl.col("__xcol").alias("cols"))
        joined = by_cols.join(by_rows, on=keys, nulls_equal=True)
    else:
        joined = pl.concat(
            [
                headers.select(pl.col("__xcol").implode().alias("cols")),
                table_rows.select(pl.col("__xrow").implode().alias("rows")),
            ],
            how="horizontal",
        )
    capped = pl.when(count <= crosstab.max_cells)
    return joined.select(
        *keys,
        pl.struct(capped.then(pl.col("cols")).alias("cols"), capped.then(pl.col("rows")).alias("rows"), count)
        .struct.json_encode()
        .alias(column),
    )


def crosstab_issues(crosstab: Crosstab, where: str, rows: pl.LazyFrame, parameters: Iterable[str]) -> list[str]:
    """What in a crosstab cannot be computed over ``rows`` (read from their schema only): a
    measure Polars refuses (``sum`` of text), or one that does not sum its rows up to one value."""
    schema = rows.collect_schema()
    issues = []
    for dimension in [*crosstab.rows, *crosstab.columns]:
        dtype = schema.get(dimension.column)
        if dtype is None:
            continue  # (an unknown column is the plan's issue)
        if dimension.bucket is not None and not isinstance(dtype, pl.Date | pl.Datetime):
            issues.append(
                f"{where}: bucket: {dimension.bucket} needs a date or datetime column, "
                f"but {dimension.column!r} is {dtype}"
            )
        if dimension.bin is not None and not dtype.is_numeric():
            issues.append(
                f"{where}: bin: {dimension.bin:g} needs a column of numbers, but {dimension.column!r} is {dtype}"
            )
    if issues:
        return issues
    base = rows.with_columns(_dimension(d, f"__x{i}") for i, d in enumerate([*crosstab.rows, *crosstab.columns]))
    by = [f"__x{i}" for i in range(len(crosstab.rows) + len(crosstab.columns))]
    for name, measure in crosstab.measures.items():
        try:
            dtype = base.group_by(by).agg(to_expr(measure.value, set(parameters)).alias("m")).collect_schema()["m"]
        except pl.exceptions.PolarsError as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            issues.append(f"{where} measure {name!r}: cannot compute: {first}")
            continue
        if isinstance(dtype, pl.List):
            issues.append(
                f"{where} measure {name!r}: gives one value per row, not one per cell; "
                "aggregate it, such as sum(amount), count(*) or avg(amount)"
            )
    return issues


def check_cells(crosstab: Crosstab, cells: pl.Series, where: str) -> None:
    """Raise a ``LayoutError`` if a crosstab of ``cells`` (its JSON per instance) holds more
    cells than its ``max_cells``: read in Polars from their count, before any reaches Typst."""
    most = cells.str.json_path_match("$.__n").cast(pl.Int64, strict=False).max()
    if isinstance(most, int) and most > crosstab.max_cells:
        msg = (
            f"{where}: {most:,} cells, more than its max_cells of {crosstab.max_cells:,}; group its rows "
            "or columns coarser (bucket: month, bin: 10), or raise max_cells"
        )
        raise LayoutError(msg, band=where.rsplit(".elements[", 1)[0], element=where)


def join_crosstabs(plan: ReportPlan, base: pl.LazyFrame, scopes: Scopes) -> None:
    """Give each scope frame a column per crosstab: its JSON for that group instance (or the
    report), computed from ``base`` (the filtered rows with their derived columns); raises a
    ``PlanError`` naming every measure that cannot be computed."""
    issues = [
        issue
        for crosstab in plan.crosstabs
        for issue in crosstab_issues(crosstab.element, crosstab.where, base, plan.parameters)
    ]
    if issues:
        raise PlanError(issues)
    for crosstab in plan.crosstabs:
        keys = plan.group_keys[: crosstab.level]
        data = crosstab_json(
            crosstab.element,
            base,
            keys=keys,
            parameters=plan.parameters,
            locale=plan.report.locale,
            currency=plan.report.currency,
            column=crosstab.column,
            where=crosstab.where,
        )
        if keys:
            frame = scopes.groups[crosstab.level]
            scopes.groups[crosstab.level] = frame.join(
                data, on=keys, how="left", nulls_equal=True, maintain_order="left"
            )
        else:
            scopes.report = scopes.report.join(data, how="cross")
