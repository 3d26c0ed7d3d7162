"""Ctrl-C in library use (a notebook, a REPL: the process lives on) while a chart is being drawn
stops the drawing within a second: the chart worker is killed, and the data thread the render
left stops at its next check."""

from __future__ import annotations

import _thread
import threading
import time

import polars as pl
import pytest

import polarreports as pr
from polarreports.charts.drawer import default_drawer
from tests.test_chart_isolation import SLOW, drawing

pytestmark = pytest.mark.serial  # a chart worker killed within a second of Ctrl-C: alone on the cores

REPORT = pr.Report(
    name="r",
    bands=pr.Bands(summary=pr.Band(elements=[pr.Chart(spec=SLOW, by=["x"], measures={"n": "count(*)"})])),
)


def test_ctrl_c_while_a_chart_is_drawn_kills_its_worker_within_a_second() -> None:
    default_drawer().close()  # no idle worker of an earlier test: a busy one after is this render's
    interrupted_at: list[float] = []

    def interrupt() -> None:
        deadline = time.monotonic() + 30
        while not drawing() and time.monotonic() < deadline:
            pass
        time.sleep(2.0)  # past its start (it warms up, drawing a small chart): drawing ours
        interrupted_at.append(time.monotonic())
        _thread.interrupt_main()  # what Ctrl-C does to the main thread

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        REPORT.render(pl.DataFrame({"x": [1, 2]}))
    assert interrupted_at, "the chart was drawn before the interrupt"
    while drawing() and time.monotonic() - interrupted_at[0] < 5:
        pass
    assert time.monotonic() - interrupted_at[0] < 1.2, "a chart worker still draws after Ctrl-C"  # 0.2 s to see it
