"""Queries that take seconds or hundreds of megabytes, made by Polars itself (no data file), and a
report that sorts its rows at once: what the limit tests (``tests/test_query_stop.py``) and the
hostile campaign (``benchmarks/hostile_campaign.py``) stop half-way.

>>> stepped(5, 2).collect().height, wide(3).collect()["s"].str.len_chars().min()
(5, 301)
"""

from __future__ import annotations

import polars as pl

import polarreports as pr

AT_ONCE = pr.Report(  # a median cannot be continued from part to part: the rows are sorted at once, in one query
    name="sorted at once",
    groups=[pr.Group(name="g", footer=pr.Band(elements=[pr.Aggregate(variable="m")]))],
    variables=[pr.Variable(name="m", calculation="median", expression="x")],
    bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="s"), pr.Field(column="x")])),
)


def stepped(count: int, steps: int) -> pl.LazyFrame:
    """``count`` rows made by the query itself in ``steps`` steps, each a sort and a mix that
    reads the row before (so no sort can be left out): a data pipeline of several seconds.
    Polars checks for a cancel before each sort."""
    frame = pl.LazyFrame().select(pl.int_range(0, count).alias("x"))
    for step in range(steps):
        mixed = (pl.col("x").shift(1, fill_value=step) * 7919 + pl.col("x")) % 1_000_003
        frame = frame.sort("x").with_columns(mixed.alias("x"))
    return frame.select("x", (pl.col("x") % 7).alias("g"), pl.col("x").cast(pl.String).alias("s"))


def wide(count: int) -> pl.LazyFrame:
    """``count`` rows of 300 characters each, made by the query itself."""
    return pl.LazyFrame().select(
        pl.int_range(0, count).alias("x"),
        (pl.int_range(0, count) % 7).alias("g"),
        (pl.int_range(0, count).cast(pl.String) + pl.lit("x" * 300)).alias("s"),
    )
