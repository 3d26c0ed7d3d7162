"""Crosstab data, computed by Polars in one lazy query: the cells (rows x columns), the total
column, the total row and the grand total, already formatted, as JSON per group instance.

``crosstab_json`` groups the rows by the group keys, the crosstab's row dimensions and its
column dimensions; the totals are the same aggregation over fewer dimensions (a ``group_by``
on each subset), concatenated. Each instance's value is ``{"cols": [[label, ...], ...],
"rows": [[label, ..., cell, ...], ...], "col_totals": [bool, ...], "row_totals": [bool, ...],
"numbers": [[figure, ...], ...], "__n": cells}``: display strings, in order, each total after
what it sums up (the total row and column last), and which columns and rows are totals; a
missing combination is ""; ``numbers`` holds each row's figures as numbers (null for a missing
combination, a value that is no finite number, or a measure that is no number), for a
spreadsheet.

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
from polarreports.compute.formats import default_pattern, format_expr
from polarreports.definition.elements import Crosstab, CrosstabDimension, CrosstabMeasure
from polarreports.exceptions import LayoutError, PlanError
from polarreports.plan.calculations import total
from polarreports.plan.expressions import to_expr

if TYPE_CHECKING:
    from polarreports.compute.scopes import Scopes
    from polarreports.plan.model import ReportPlan

__all__ = ["check_cells", "crosstab_issues", "crosstab_json", "join_crosstabs", "measure_names"]


def measure_names(crosstab: Crosstab) -> list[str]:
    return [f"__xm{k}" for k in range(len(crosstab.measures))]


def measure_expr(measure: CrosstabMeasure, parameters: Iterable[str]) -> pl.Expr:
    """A measure's aggregation: its expression, or its calculation over its value."""
    value = None if measure.value is None else to_expr(measure.value, set(parameters))
    if measure.calculation is not None:
        return total(measure.calculation, value)
    assert value is not None  # (checked by the definition)
    return value


def _dimension(dimension: CrosstabDimension, name: str) -> pl.Expr:
    column = pl.col(dimension.column)
    if dimension.bucket is not None:
        return column.dt.truncate(BUCKETS[dimension.bucket]).alias(name)
    if dimension.bin is not None:
        return ((column / dimension.bin).floor() * dimension.bin).alias(name)
    return column.alias(name)


def _grouped(frame: pl.LazyFrame, by: list[str], measures: list[pl.Expr]) -> pl.LazyFrame:
    return frame.group_by(by).agg(measures) if by else frame.select(measures)


def _levels(dims: int, *, total: bool, subtotals: bool) -> list[int]:
    """How many of an axis's dimensions each of its aggregations keeps: all of them (the
    cells), fewer (``subtotals``: one per outer group) and none (``total``)."""
    return [dims, *(range(dims - 1, 0, -1) if subtotals else ()), *((0,) if total else ())]


def _flags(names: list[str], kept: int) -> list[pl.Expr]:
    """An aggregation's flags along one axis: dimension i is summed up (``i >= kept``)."""
    return [pl.lit(i >= kept).alias(f"{name}t") for i, name in enumerate(names)]


def _interleaved(names: list[str]) -> list[str]:
    return [column for name in names for column in (f"{name}t", name)]


def _numbered(frame: pl.LazyFrame, keys: list[str], names: list[str], index: str) -> pl.LazyFrame:
    """The distinct headers of one axis of each instance (their values and flags), numbered in
    order: by each dimension, outer first, its total after its values."""
    order = [*keys, *_interleaved(names)]
    number = pl.int_range(pl.len(), dtype=pl.UInt32)
    return (
        frame.select(order)
        .unique()
        .sort(order, nulls_last=True)
        .with_columns((number.over(keys) if keys else number).alias(index))
    )


def _labels(
    dims: list[CrosstabDimension], names: list[str], schema: pl.Schema, total: str, locale: str, where: str
) -> list[pl.Expr]:
    """The display strings of a header: the dimension's values; where a total begins, its
    label; past it, nothing."""
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
        summed = pl.col(f"{name}t")
        begins = summed if i == 0 else summed & ~pl.col(f"{names[i - 1]}t")
        labels.append(pl.when(begins).then(pl.lit(total)).when(summed).then(pl.lit("")).otherwise(text).alias(name))
    return labels


def _is_total(names: list[str]) -> pl.Expr:
    return pl.any_horizontal(pl.col(f"{name}t") for name in names)


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
    measures = [measure_expr(m, known).alias(n) for m, n in zip(crosstab.measures.values(), names, strict=True)]
    dims = [
        _dimension(d, n) for d, n in zip([*crosstab.rows, *crosstab.columns], [*row_names, *col_names], strict=True)
    ]
    base = rows.with_columns(dims).cache()  # the dimensions computed once for every aggregation
    parts = [
        _grouped(base, [*keys, *row_names[:down], *col_names[:across]], measures).with_columns(
            *_flags(row_names, down), *_flags(col_names, across)
        )
        for down in _levels(len(row_names), total=crosstab.total_row, subtotals=crosstab.subtotals)
        for across in _levels(len(col_names), total=crosstab.total_column, subtotals=crosstab.subtotals)
    ]
    values = pl.concat(parts, how="diagonal_relaxed")
    schema = values.collect_schema()
    row_index = _numbered(values, keys, row_names, "__xri")
    col_index = _numbered(values, keys, col_names, "__xci")
    grid = row_index.join(col_index, on=keys, nulls_equal=True) if keys else row_index.join(col_index, how="cross")
    at = [*keys, *_interleaved(row_names), *_interleaved(col_names)]
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
    numbers = [  # the figures as numbers too, for a spreadsheet (null where not a finite number)
        pl.when(pl.col(name).cast(pl.Float64).is_finite()).then(pl.col(name).cast(pl.Float64))
        if schema[name].is_numeric()
        else pl.lit(None, dtype=pl.Float64)
        for name in names
    ]
    row_labels = _labels(crosstab.rows, row_names, schema, crosstab.total_label, locale, where)
    table_rows = (
        grid.sort([*keys, "__xri", "__xci"])
        .group_by([*keys, "__xri"], maintain_order=True)
        .agg(
            *(label.first() for label in row_labels),
            _is_total(row_names).first().alias("__xrowt"),
            pl.concat_list(texts).explode().alias("__xcells"),
            pl.concat_list(numbers).explode().alias("__xnums"),
        )
        .select(
            *keys,
            "__xri",
            "__xrowt",
            "__xnums",
            pl.concat_list([*(pl.col(n) for n in row_names), "__xcells"]).alias("__xrow"),
        )
    )
    col_labels = _labels(crosstab.columns, col_names, schema, crosstab.total_label, locale, where)
    headers = col_index.sort([*keys, "__xci"]).select(
        *keys, pl.concat_list(col_labels).alias("__xcol"), _is_total(col_names).alias("__xcolt")
    )
    count = (pl.col("rows").list.len() * pl.col("cols").list.len() * len(names)).alias("__n")
    if keys:
        by_rows = table_rows.group_by(keys, maintain_order=True).agg(
            pl.col("__xrow").alias("rows"), pl.col("__xrowt").alias("row_totals"), pl.col("__xnums").alias("numbers")
        )
        by_cols = headers.group_by(keys, maintain_order=True).agg(
            pl.col("__xcol").alias("cols"), pl.col("__xcolt").alias("col_totals")
        )
        joined = by_cols.join(by_rows, on=keys, nulls_equal=True)
    else:
        cols = headers.select(pl.col("__xcol").implode().alias("cols"), pl.col("__xcolt").implode().alias("col_totals"))
        rows_ = table_rows.select(
            pl.col("__xrow").implode().alias("rows"),
            pl.col("__xrowt").implode().alias("row_totals"),
            pl.col("__xnums").implode().alias("numbers"),
        )
        joined = pl.concat([cols, rows_], how="horizontal")
    capped = pl.when(count <= crosstab.max_cells)
    return joined.select(
        *keys,
        pl.struct(
            *(
                capped.then(pl.col(name)).alias(name)
                for name in ("cols", "rows", "col_totals", "row_totals", "numbers")
            ),
            count,
        )
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
            dtype = base.group_by(by).agg(measure_expr(measure, parameters).alias("m")).collect_schema()["m"]
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
            locale=plan.locale,
            currency=plan.currency,
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
