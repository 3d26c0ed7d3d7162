"""Chart data, aggregated by Polars: a chart never sees raw rows.

``aggregation`` groups a band's rows by the chart's dimensions (dates bucketed, numbers binned)
and computes its measures, so a chart over 10M rows sends Vega only its few hundred points
(drawn by ``charts.vega``).

    >>> import polars as pl
    >>> from polarreports.definition.elements import Chart
    >>> chart = Chart(spec={"mark": "bar"}, by=["region"], measures={"n": "count(*)"})
    >>> frame = pl.LazyFrame({"region": ["b", "a", "b"]})
    >>> aggregation(chart, frame, keys=[]).collect().to_dicts()
    [{'region': 'a', 'n': 1}, {'region': 'b', 'n': 2}]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

from polarreports.definition.elements import Chart, Dimension
from polarreports.plan.expressions import to_expr

__all__ = ["BUCKETS", "aggregation"]

BUCKETS = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q", "year": "1y"}


def _dimension(dimension: Dimension) -> pl.Expr:
    column = pl.col(dimension.column)
    if dimension.bucket is not None:
        return column.dt.truncate(BUCKETS[dimension.bucket]).alias(dimension.column)
    if dimension.bin is not None:
        return ((column / dimension.bin).floor() * dimension.bin).alias(dimension.column)
    return column


def aggregation(
    chart: Chart, rows: pl.LazyFrame, *, keys: Sequence[str], parameters: Iterable[str] = ()
) -> pl.LazyFrame:
    """The chart's points per group instance: ``rows`` grouped by ``keys`` (the band's group
    keys) and the chart's dimensions, with its measures, sorted by the dimensions. A dimension
    that is one of the keys (a region's chart by region) is that key: one point per instance."""
    own = [d for d in chart.by if d.column not in keys]
    dimensions = [_dimension(d) for d in own]
    names = [d.column for d in own]
    measures = [to_expr(expr, set(parameters)).alias(name) for name, expr in chart.measures.items()]
    by = [*keys, *dimensions]
    if not by:
        return rows.select(measures)
    return rows.group_by(by).agg(measures).sort([*keys, *names], nulls_last=True)
