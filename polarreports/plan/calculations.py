"""Variable calculations as Polars expressions: totals over a scope, and running values.

Null semantics follow SQL and JasperReports: ``count`` counts non-null values (``count`` with
no expression counts rows), ``sum``/``avg``/``min``/``max`` ignore nulls, and a sum of only
nulls is null. ``first`` and ``last`` are the first and last non-null values.

    >>> import polars as pl
    >>> df = pl.DataFrame({"v": [None, 2, 3]})
    >>> df.select(total("sum", pl.col("v")), running("sum", pl.col("v"), []).alias("r"))["r"].to_list()
    [None, 2, 5]
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

__all__ = ["NUMERIC_ONLY", "PERCENTABLE", "running", "total"]

NUMERIC_ONLY = frozenset({"sum", "avg", "median", "stddev", "var"})
"""Calculations that need a numeric expression."""
PERCENTABLE = frozenset({"sum", "count"})
"""Calculations whose values add up across subgroups, so a percent of a total makes sense."""


def total(calculation: str, value: pl.Expr | None) -> pl.Expr:
    """The calculation over all rows of its context (a group in ``agg``, or the whole frame)."""
    if value is None:
        return pl.len()
    match calculation:
        case "sum":
            return pl.when(value.count() > 0).then(value.sum())
        case "count":
            return value.count()
        case "count_distinct":
            return value.drop_nulls().n_unique()
        case "avg":
            return value.mean()
        case "min":
            return value.min()
        case "max":
            return value.max()
        case "first":
            return value.drop_nulls().first()
        case "last":
            return value.drop_nulls().last()
        case "median":
            return value.median()
        case "stddev":
            return value.std()
        case "var":
            return value.var()
    msg = f"unknown calculation {calculation!r}"
    raise ValueError(msg)


def _over(expr: pl.Expr, partition: Sequence[str]) -> pl.Expr:
    return expr.over(list(partition)) if partition else expr


def running(calculation: str, value: pl.Expr | None, partition: Sequence[str]) -> pl.Expr:
    """The cumulative value at each row since the start of its ``partition`` (rows in order)."""
    if value is None:
        return _over(pl.int_range(1, pl.len() + 1, dtype=pl.UInt32), partition)
    seen = value.is_not_null().cum_sum()
    match calculation:
        case "sum":
            return _over(value.cum_sum().forward_fill(), partition)
        case "count":
            return _over(seen.cast(pl.UInt32), partition)
        case "count_distinct":
            first_seen = value.is_first_distinct() & value.is_not_null()
            return _over(first_seen.cum_sum().cast(pl.UInt32), partition)
        case "avg":
            return _over(value.cast(pl.Float64).cum_sum().forward_fill() / seen, partition)
        case "min":
            return _over(value.cum_min().forward_fill(), partition)
        case "max":
            return _over(value.cum_max().forward_fill(), partition)
        case "first":
            return _over(pl.when(seen > 0).then(value.drop_nulls().first()), partition)
        case "last":
            return _over(value.forward_fill(), partition)
        case "stddev" | "var":
            x = value.cast(pl.Float64)
            n = seen
            s = x.fill_null(0).cum_sum()
            ss = (x * x).fill_null(0).cum_sum()
            variance = pl.when(n > 1).then((ss - s * s / n) / (n - 1))
            result = variance.sqrt() if calculation == "stddev" else variance
            return _over(result, partition)
        case "median":
            return _over(value.cumulative_eval(pl.element().median()), partition)
    msg = f"unknown calculation {calculation!r}"
    raise ValueError(msg)


def row_share(calculation: str, value: pl.Expr | None) -> pl.Expr:
    """One row's contribution to a ``sum`` or ``count``, for percent-of-total in detail rows."""
    if value is None:
        return pl.lit(1, dtype=pl.UInt32)
    if calculation == "count":
        return value.is_not_null().cast(pl.UInt32)
    return value
