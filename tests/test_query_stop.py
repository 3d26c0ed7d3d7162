"""A limit stops the Polars query the data phase is in, not only the render
(``polarreports.queries``): a timeout or a cancel ends a query of many steps within a second,
at the end of the step it is in, and past ``memory_budget_mb`` the query is cancelled, so the
process holds far less than the query would take. Before, the render raised in time but its
query ran on to its end in the background (1M rows of 300 characters sorted at once: 560 MB
past the budget; a query of 150 steps: all of them)."""

from __future__ import annotations

import threading
import time

import polars as pl
import pytest

import polarreports as pr
from polarreports.control import own_rss_mb
from tests.heavy_queries import AT_ONCE, stepped, wide

pytestmark = pytest.mark.serial  # seconds and resident memory: alone on the cores


def data_thread_ends(limit: float) -> float:
    """Seconds until the render's data thread (and so its query) has ended, at most ``limit``."""
    begin = time.monotonic()
    while any(thread.name == "polarreports-data" for thread in threading.enumerate()):
        assert time.monotonic() - begin < limit, "the data thread runs on: its query was not stopped"
        time.sleep(0.01)
    return time.monotonic() - begin


def test_a_timeout_stops_a_long_query_within_a_second() -> None:
    begin = time.monotonic()
    with pytest.raises(pr.Cancelled, match="time limit"):
        AT_ONCE.render(stepped(1_000_000, 150), timeout=1.0)  # about 5 s unbounded
    raised = time.monotonic() - begin
    assert raised < 2.0
    assert data_thread_ends(limit=1.0) < 1.0  # the query itself stopped, not only the render


def test_a_cancel_from_another_thread_stops_a_long_query_within_a_second() -> None:
    token = pr.CancelToken()
    timer = threading.Timer(0.5, token.cancel)
    timer.start()
    begin = time.monotonic()
    with pytest.raises(pr.Cancelled, match="cancelled"):
        AT_ONCE.render(stepped(1_000_000, 150), cancel=token)
    assert time.monotonic() - begin < 1.5
    assert data_thread_ends(limit=1.0) < 1.0


def test_the_memory_budget_cancels_the_query_it_is_in() -> None:
    before = own_rss_mb()
    budget = before + 150
    peak = [before]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            peak[0] = max(peak[0], own_rss_mb())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with pytest.raises(pr.ResourceError, match=r"^the data phase needed more than \d+ MB"):
            AT_ONCE.render(wide(1_000_000), memory_budget_mb=budget)  # 700 MB past the start, unbounded
        data_thread_ends(limit=2.0)
    finally:
        sampling.set()
        sampler.join()
    assert peak[0] - budget < 350  # 560 MB past it when the query ran on to its end


def test_a_render_within_its_limits_computes_what_polars_computes() -> None:
    doc = AT_ONCE.render(stepped(10_000, 3), timeout=60, memory_budget_mb=own_rss_mb() + 1_000, cancel=pr.CancelToken())
    frame = doc.to_frame()
    footers = frame.filter(pl.col("kind") == "group_footer").select("g", "m")
    expected = stepped(10_000, 3).group_by("g").agg(pl.col("x").median().alias("m")).sort("g").collect()
    assert footers.rows() == expected.rows()
    assert frame.filter(pl.col("kind") == "detail").height == 10_000
