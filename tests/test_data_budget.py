"""The data phase honours ``memory_budget_mb``: the resident memory of the process is read every
20 ms while the data thread works (between and during its Polars queries), and past the budget
the render ends with a ``ResourceError``, the data thread stopping at its next check."""

from __future__ import annotations

import threading
import time

import polars as pl
import pytest

import polarreports as pr
from polarreports.control import own_rss_mb

pytestmark = pytest.mark.serial  # the resident memory and the seconds of the data phase: alone on the cores

REPORT = pr.Report(
    name="wide rows",
    groups=[pr.Group(name="g", footer=pr.Band(elements=[pr.Aggregate(variable="n")]))],
    variables=[pr.Variable(name="n", calculation="sum", expression="x")],  # sorted a part (100K rows) at a time
    bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="s"), pr.Field(column="x")])),
)


def rows(count: int) -> pl.LazyFrame:
    """``count`` rows of 300 characters each, made by the query itself (nothing held before)."""
    return pl.LazyFrame().select(
        pl.int_range(0, count).alias("x"),
        (pl.int_range(0, count) % 7).alias("g"),
        (pl.int_range(0, count).cast(pl.String) + pl.lit("x" * 300)).alias("s"),
    )


def test_a_data_phase_past_its_memory_budget_is_a_resource_error_and_its_thread_stops() -> None:
    before = own_rss_mb()
    begin = time.monotonic()
    with pytest.raises(pr.ResourceError, match=r"^the data phase needed more than \d+ MB \(memory_budget_mb\)"):
        REPORT.render(rows(1_000_000), memory_budget_mb=before + 150)  # about 2 GB at its peak, unbounded
    assert time.monotonic() - begin < 10
    while any(thread.name == "polarreports-data" for thread in threading.enumerate()):
        time.sleep(0.02)  # the data thread stops at its next check (the next part of the rows)
        assert time.monotonic() - begin < 15


def test_a_data_phase_within_its_budget_renders() -> None:
    doc = REPORT.render(rows(2_000), memory_budget_mb=own_rss_mb() + 1_000)
    assert doc.stats.rows == 2_000


def test_a_budget_the_process_already_exceeds_stops_the_data_phase_at_once() -> None:
    begin = time.monotonic()
    with pytest.raises(pr.ResourceError, match=r"^the render cannot fit in a memory budget of \d+ MB: this process"):
        REPORT.render(rows(2_000), memory_budget_mb=own_rss_mb() / 2)
    assert time.monotonic() - begin < 5
