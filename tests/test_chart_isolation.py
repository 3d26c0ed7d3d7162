"""Charts are drawn in worker processes that cannot take the host down (issue 12, item 3): a chart
that makes V8 run out of memory ends as a library error, a chart drawing stops within a second
of a cancel, the warm worker is reused, data generators are refused at plan time, and the
gallery's charts are drawn exactly as vl-convert draws them in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import polarreports as pr
from polarreports.charts import vega
from polarreports.charts.drawer import ChartDrawer, default_drawer
from polarreports.definition.elements import Chart
from polarreports.stream import collect

ROOT = Path(__file__).resolve().parent.parent
WHERE = "bands.summary.elements[0] (chart)"
BAR = {"mark": "bar", "encoding": {"x": {"field": "n", "type": "quantitative"}}}
EXPLODING = {  # Vega builds 100 million rows by itself: V8 runs out of memory
    "layer": [
        {
            "data": {"sequence": {"start": 0, "stop": 100_000_000}},
            "mark": "point",
            "encoding": {"x": {"field": "data", "type": "quantitative"}},
        }
    ]
}
SLOW = {  # a regular expression that backtracks for many seconds (nothing that multiplies rows: see charts/growth.py)
    "transform": [{"calculate": "test(/^(a+)+$/, 'aaaaaaaaaaaaaaaaaaaaaaaaa!')", "as": "s"}],
    "mark": "bar",
    "encoding": {"x": {"field": "n", "type": "quantitative"}},
}


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def job(spec: dict[str, Any], values: list[dict[str, Any]] | None = None) -> tuple[Any, ...]:
    return Chart(spec=spec), WHERE, values if values is not None else [{"n": 1}], 100.0, 60.0, 9.0


@pytest.mark.serial
@pytest.mark.slow
def test_a_chart_that_exhausts_v8_is_a_library_error_and_the_host_lives() -> None:
    before = rss_mb()
    drawer = ChartDrawer()
    try:
        with pytest.raises(
            pr.ResourceError, match=r"^bands\.summary\.elements\[0\] \(chart\): drawing the chart took more than 200 MB"
        ):
            vega.render_charts([job(BAR, [{"n": 7}]), job(EXPLODING)], memory_mb=200, drawer=drawer)
        assert rss_mb() - before < 100
        svgs, counts = vega.render_charts([job(BAR, [{"n": 8}])], drawer=drawer)  # a fresh worker draws on
        assert svgs[0].startswith("<svg")
        assert counts["charts_rendered"] == 1
    finally:
        drawer.close()


@pytest.mark.slow
def test_a_chart_that_ends_its_worker_with_on_error_placeholder_shows_a_placeholder() -> None:
    drawer = ChartDrawer()
    try:
        chart = Chart(spec=EXPLODING, on_error="placeholder")
        jobs = [(chart, WHERE, [], 100.0, 60.0, 9.0), job(BAR, [{"n": 9}])]
        svgs, _ = vega.render_charts(jobs, memory_mb=200, drawer=drawer)
        assert "Chart unavailable: out of memory" in svgs[0]
        assert "Chart unavailable" not in svgs[1]
    finally:
        drawer.close()


@pytest.mark.serial
def test_a_chart_drawing_stops_within_a_second_of_a_cancel() -> None:
    report = pr.Report(name="r", bands=pr.Bands(summary=pr.Band(elements=[
        pr.Chart(spec=SLOW, by=["x"], measures={"n": "count(*)"}),
    ])))  # fmt: skip
    default_drawer().close()  # no warm worker left idle by an earlier test: any idle one after is this render's
    token = pr.CancelToken()
    cancelled_at: list[float] = []

    def cancel() -> None:
        time.sleep(1.0)
        cancelled_at.append(time.perf_counter())
        token.cancel()

    threading.Thread(target=cancel, daemon=True).start()
    with pytest.raises(pr.Cancelled):
        report.render(pl.DataFrame({"x": [1, 2]}), cancel=token)
    assert time.perf_counter() - cancelled_at[0] < 1.0
    time.sleep(0.1)  # the data thread kills its worker at its next poll (every 20 ms)
    worker = chart_workers()
    assert all(pid.name not in map(str, default_drawer().idle_pids()) for pid in worker)
    assert not drawing(), "a chart worker still draws the cancelled chart"


def _is_chart_worker(proc: Path) -> bool:
    try:
        command = (proc / "cmdline").read_bytes()
        stat = (proc / "stat").read_text()
    except OSError:
        return False
    return b"charts/_worker.py" in command and int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid()


def chart_workers() -> list[Path]:
    return [p for p in Path("/proc").iterdir() if p.name.isdigit() and _is_chart_worker(p)]


def cpu_seconds(proc: Path) -> float:
    """The CPU time of a process, all its threads (vl-convert draws on a thread of its own, so the
    state of the main thread tells nothing)."""
    try:
        fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / 100


def drawing() -> list[Path]:
    """The chart workers of this process that use the CPU now (an idle one sleeps on its pipe)."""
    before = {proc: cpu_seconds(proc) for proc in chart_workers()}
    time.sleep(0.2)
    return [proc for proc, spent in before.items() if cpu_seconds(proc) - spent > 0.02]


def test_the_warm_worker_is_reused_across_renders() -> None:
    report = pr.Report(name="r", bands=pr.Bands(summary=pr.Band(elements=[
        pr.Chart(spec={**BAR, "encoding": {"x": {"field": "n", "type": "quantitative"}}}, measures={"n": "sum(x)"}),
    ])))  # fmt: skip
    first = report.render(pl.DataFrame({"x": [1, 2, 3]}))
    pids = default_drawer().idle_pids()
    second = report.render(pl.DataFrame({"x": [4, 5, 6]}))  # other points: drawn again, not cached
    assert first.stats["charts_rendered"] == second.stats["charts_rendered"] == 1
    assert pids
    assert default_drawer().idle_pids() == pids


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ({"hconcat": [{**BAR, "data": {"sequence": {"start": 0, "stop": 1e8}}}]}, "spec.hconcat[0].data.sequence"),
        (EXPLODING, "spec.layer[0].data.sequence"),
        ({"vconcat": [BAR, {"layer": [{**BAR, "data": {"sphere": True}}]}]}, "spec.vconcat[1].layer[0].data.sphere"),
        (
            {"layer": [BAR, {"data": {"graticule": {"step": [1, 1]}}, "mark": "geoshape"}]},
            "spec.layer[1].data.graticule",
        ),
    ],
)
def test_data_generators_are_refused_at_plan_time(spec: dict[str, Any], path: str) -> None:
    """(A top-level ``data`` is dropped by the definition: the chart's own points replace it.)"""
    report = pr.Report(
        name="r", bands=pr.Bands(summary=pr.Band(elements=[pr.Chart(spec=spec, measures={"n": "sum(x)"})]))
    )
    with pytest.raises(pr.PlanError) as error:
        report.render(pl.DataFrame({"x": [1]}))
    message = str(error.value)
    assert message.startswith("bands.summary.elements[0]")
    assert f"generates its own data at {path};" in message


@pytest.mark.slow
def test_the_dashboard_charts_are_drawn_as_vl_convert_draws_them_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vega, "_CACHE", type(vega._CACHE)())
    drawn: list[tuple[dict[str, Any], dict[str, Any], str]] = []

    def recording(jobs: Any, **limits: Any) -> tuple[list[str], dict[str, int]]:
        svgs, counts = vega.render_charts(jobs, **limits)
        for (chart, _, values, width, height, font_size), svg in zip(jobs, svgs, strict=True):
            drawn.append((vega._full_spec(chart.spec, values, width, height), vega.chart_config(font_size), svg))
        return svgs, counts

    monkeypatch.setattr(collect, "render_charts", recording)
    pr.load(ROOT / "examples/sales_dashboard.yaml").render(pr.sample.sales_data(2_000))
    assert len(drawn) >= 6
    script = (
        "import json, sys; import vl_convert as vlc; vlc.register_font_directory(sys.argv[1])\n"
        "for spec, config in json.load(sys.stdin):\n"
        "    print(json.dumps(vlc.vegalite_to_svg(spec, config=config, allowed_base_urls=[])))\n"
    )
    from polarreports.resources import FONTS_DIR

    result = subprocess.run(
        [sys.executable, "-c", script, str(FONTS_DIR)],
        input=json.dumps([[spec, config] for spec, config, _ in drawn]),
        capture_output=True,
        text=True,
        check=True,
    )
    in_process = [json.loads(line) for line in result.stdout.splitlines()]
    for (_, _, svg), expected in zip(drawn, in_process, strict=True):
        assert svg == expected.replace(f'font-family="{vega.MEASURE_FONT}"', f'font-family="{vega.CHART_FONT}"')
