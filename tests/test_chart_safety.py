"""Charts that cannot fetch, cannot explode, and caches that renders in threads can share
(issues 11 and 12): each test failed before its fix."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import polarreports as pr
from polarreports.api import plan_report
from polarreports.charts import vega as charts
from polarreports.definition.elements import Chart
from polarreports.stream import collect as stream

BAR = {
    "mark": "bar",
    "encoding": {
        "x": {"field": "product", "type": "nominal"},
        "y": {"field": "units", "type": "quantitative"},
    },
}


# -- the chart cache -----------------------------------------------------------------------


def job(title: str, values: list[dict[str, Any]]) -> tuple[Chart, str, list[dict[str, Any]], float, float, float]:
    chart = Chart(spec={**BAR, "title": title}, by=["product"], measures={"units": "sum(quantity)"})
    return chart, "bands.summary.elements[0] (chart)", values, 200.0, 100.0, 8.0


def test_cache_hits_are_kept_when_the_cache_overflows_in_the_same_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "_CACHE", type(charts._CACHE)())
    monkeypatch.setattr(charts, "_CACHE_MAX", 2)
    points = [{"product": "a", "units": 1.0}, {"product": "b", "units": 2.0}]
    first, _ = charts.render_charts([job("one", points), job("two", points)])
    svgs, counts = charts.render_charts([job("one", points), job("three", points), job("four", points)])
    assert counts == {"charts": 3, "charts_rendered": 2, "charts_cached": 1}
    assert svgs[0] == first[0]
    assert "three" in svgs[1]
    assert "four" in svgs[2]
    assert len(charts._CACHE) <= 2


def test_the_caches_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "_CACHE", type(charts._CACHE)())
    monkeypatch.setattr(charts, "_CACHE_MAX", 3)
    monkeypatch.setattr(stream, "_FORMATTED", type(stream._FORMATTED)())
    monkeypatch.setattr(stream, "_FORMATTED_MAX", 4)
    points = [{"product": "a", "units": 1.0}]
    for i in range(6):
        charts.render_charts([job(f"chart {i}", points)])
        assert len(charts._CACHE) <= 3
    _, counts = charts.render_charts([job("chart 5", points)])
    assert counts["charts_cached"] == 1  # the most recent stayed
    report = pr.Report(
        name="r",
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="x", format=f"0.{'0' * i}") for i in range(8)])),
    )
    report.render(pl.DataFrame({"x": [1.5]}))
    assert 0 < len(stream._FORMATTED) <= 4


# -- many renders from threads -------------------------------------------------------------


def threaded_reports() -> tuple[pr.Report, pr.Report]:
    chart = Chart(spec=BAR, by=["product"], measures={"units": "sum(quantity)"}, height="20mm")
    # the same in every batch: drawn once, then taken from the cache by the other renders
    sizes = Chart(spec={"mark": "bar", "title": "Sizes"}, by=["size"], measures={"n": "count(*)"}, height="20mm")
    by_customer = pr.Report(
        name="by_customer",
        groups=[pr.Group(name="customer", footer=pr.Band(elements=[pr.Field(column="customer", width="30%"), chart]))],
        bands=pr.Bands(
            detail=pr.Band(elements=[pr.Field(column="product"), pr.Field(column="quantity", format="0")]),
            summary=pr.Band(elements=[sizes]),
        ),
    )
    overview = pr.Report(
        name="overview",
        variables=[pr.Variable(name="units", calculation="sum", expression="quantity")],
        bands=pr.Bands(
            title=pr.Band(elements=[pr.Field(column="customer")]),
            summary=pr.Band(elements=[pr.Aggregate(variable="units", format="#,##0.0"), chart, sizes]),
        ),
    )
    return by_customer, overview


def batch_data(i: int) -> pl.DataFrame:
    """Data of batch ``i``: every customer and product name carries ``i``, but for a customer
    whose rows are the same in every batch (its chart comes from the cache, among new ones)."""
    return pl.DataFrame(
        {
            "customer": [f"c{i}x{j % 2}" for j in range(6)] + ["shared", "shared"],
            "product": [f"p{i}y{j % 3}" for j in range(6)] + ["common", "common"],
            "quantity": [i * 10 + j for j in range(6)] + [1, 2],
            "size": ["s", "m", "l", "s", "m", "s", "l", "l"],
        }
    )


def marks_in(text: str) -> set[str]:
    """The batch numbers named in ``text`` (by its customer and product names)."""
    return set(re.findall(r"\b[cp](\d+)[xy]\d\b", text))


@pytest.mark.typst
def test_renders_in_threads_hold_only_their_own_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Small caches, so that threads evict each other's entries while they render.
    monkeypatch.setattr(charts, "_CACHE", type(charts._CACHE)())
    monkeypatch.setattr(charts, "_CACHE_MAX", 3)
    monkeypatch.setattr(stream, "_FORMATTED", type(stream._FORMATTED)())
    monkeypatch.setattr(stream, "_FORMATTED_MAX", 2)
    reports = threaded_reports()

    def render(i: int) -> tuple[int, pr.Document]:
        return i, reports[i % 2].render(batch_data(i))

    with ThreadPoolExecutor(max_workers=8) as pool:
        documents = list(pool.map(render, range(40)))
    for i, document in documents:
        data = json.loads(document.data_json)
        text = json.dumps(data, ensure_ascii=False)
        assert marks_in(text) == {str(i)}, f"render {i} holds another render's data"
        svgs = [json.loads(cell)["svg"] for cell in _cells(data) if cell.startswith('{"svg"')]
        assert len(svgs) == (4 if i % 2 == 0 else 2)  # per customer (two own, one shared), sizes; or two
        assert [marks_in(svg) for svg in svgs].count({str(i)}) == (2 if i % 2 == 0 else 1)
        assert all(marks_in(svg) <= {str(i)} for svg in svgs)
        assert sum(">Sizes<" in svg for svg in svgs) == 1
    if shutil.which("pdftotext") is None:
        return
    for i, document in documents[:3]:
        path = tmp_path / f"{i}.pdf"
        path.write_bytes(document.pdf)
        text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
        assert marks_in(text) == {str(i)}


def _cells(data: dict[str, Any]) -> list[str]:
    return [cell for cells in data["static"].values() for cell in cells] + [
        cell for row in data["rows"] for cell in row["c"]
    ]


# -- no chart fetches anything -------------------------------------------------------------

LISTENER = r"""
import socket, sys
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(64)
print(server.getsockname()[1], flush=True)
while True:
    connection, _ = server.accept()
    request = connection.recv(65536).split(b"\r\n")[0].decode(errors="replace")
    print(request, flush=True)
    body = b'[{"product": "a", "units": 1, "k": "a"}]'
    head = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    connection.sendall(head + body)
    connection.close()
"""


class Listener:
    """A web server on 127.0.0.1 that records the requests it gets. It runs in a process of its
    own: vl-convert holds the GIL while it waits for a response, so a server thread in this
    process could never answer (the test would hang instead of failing)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", LISTENER], stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.process.stdout.readline())}"
        os.set_blocking(self.process.stdout.fileno(), False)

    def requests(self) -> list[str]:
        """The requests received so far (each answered before the client could go on)."""
        assert self.process.stdout is not None
        time.sleep(0.05)
        return (self.process.stdout.read() or b"").decode().splitlines()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    try:
        yield server
    finally:
        server.stop()


POINT = {"mark": "point", "encoding": {"x": {"field": "product", "type": "nominal"}}}


def fetching_specs(url: str) -> dict[str, tuple[dict[str, Any], str]]:
    """Specifications that would make vl-convert fetch ``url`` (or bring in data that is not the
    chart's), each with the path the error names."""
    data = {"data": {"url": f"{url}/data.json"}, **POINT}
    lookup = {"lookup": "product", "from": {"data": {"url": f"{url}/lookup.json"}, "key": "k", "fields": ["units"]}}
    image = {"type": "image", "width": 10, "height": 10}
    return {
        "layer": ({"layer": [POINT, data]}, "spec.layer[1].data.url"),
        "concat": ({"concat": [data]}, "spec.concat[0].data.url"),
        "hconcat": ({"hconcat": [POINT, data]}, "spec.hconcat[1].data.url"),
        "vconcat": ({"vconcat": [{"layer": [data]}]}, "spec.vconcat[0].layer[0].data.url"),
        "facet": ({"facet": {"field": "product"}, "spec": data}, "spec.spec.data.url"),
        "lookup": ({"transform": [lookup], **POINT}, "spec.transform[0].from.data"),
        "lookup of values": (
            {"transform": [{**lookup, "from": {"data": {"values": [{"k": "a"}]}, "key": "k"}}], **POINT},
            "spec.transform[0].from.data",
        ),
        "image mark": ({**POINT, "mark": {**image, "url": f"{url}/logo.png"}}, "spec.mark.url"),
        "image channel": (
            {"mark": image, "encoding": {"url": {"value": f"{url}/logo.png"}}},
            "spec.encoding.url",
        ),
        "topojson": (
            {"layer": [{**POINT, "data": {"url": f"{url}/x.topojson", "format": {"type": "topojson"}}}]},
            "spec.layer[0].data.url",
        ),
        "anywhere": ({**POINT, "usermeta": {"deep": [{"url": f"{url}/meta"}]}}, "spec.usermeta.deep[0].url"),
    }


def a_chart(spec: dict[str, Any]) -> pr.Report:
    chart = Chart(spec={**spec, "title": "fetcher"}, by=["product"], measures={"units": "sum(quantity)"})
    return pr.Report(name="r", bands=pr.Bands(summary=pr.Band(elements=[pr.Label(text="x"), chart])))


def test_a_chart_spec_that_would_fetch_is_refused_at_plan_time(listener: Listener, sales: pl.DataFrame) -> None:
    for name, (spec, path) in fetching_specs(listener.url).items():
        with pytest.raises(pr.PlanError) as error:
            a_chart(spec).render(sales)
        (issue,) = error.value.issues
        assert issue.startswith("bands.summary.elements[1] (chart 'fetcher'): the chart's spec "), name
        assert f" at {path};" in issue, name
    assert listener.requests() == []


def test_the_top_level_data_of_a_spec_is_dropped(listener: Listener, sales: pl.DataFrame) -> None:
    spec = {"data": {"url": f"{listener.url}/top.json"}, **BAR}
    assert "data" not in a_chart(spec).bands.summary.elements[1].spec  # type: ignore[union-attr]
    a_chart(spec).render(sales)
    assert listener.requests() == []


def test_vl_convert_itself_fetches_nothing(listener: Listener) -> None:
    """Even a spec the plan did not check (drawn directly) cannot make vl-convert fetch."""
    for name, (spec, _) in fetching_specs(listener.url).items():
        chart = Chart(spec={**spec, "title": name}, by=["product"], measures={"units": "sum(quantity)"})
        with contextlib.suppress(pr.ChartError):  # Vega's "External data url not allowed", or drawn
            charts.render_charts([(chart, "bands.summary.elements[0]", [{"product": "a"}], 100.0, 80.0, 8.0)])
        assert listener.requests() == [], name


# -- a cap on the points a chart sends to Vega ------------------------------------------------

LINE = {"mark": "line", "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y"}}}


def many_points(**options: Any) -> pr.Report:
    chart = Chart(spec={**LINE, "title": "wide"}, by=["x"], measures={"y": "sum(v)"}, **options)
    return pr.Report(name="r", bands=pr.Bands(summary=pr.Band(elements=[pr.Label(text="x"), chart])))


def test_a_chart_over_its_max_points_is_refused_before_vega(monkeypatch: pytest.MonkeyPatch) -> None:
    data = pl.DataFrame({"x": range(20_000), "v": [1.0] * 20_000})  # 20,000 distinct x values

    def never(*args: Any, **kwargs: Any) -> Any:
        msg = "a point left Polars"
        raise AssertionError(msg)

    monkeypatch.setattr(stream, "render_charts", never)  # nothing reaches Vega
    monkeypatch.setattr(stream, "_points", never)  # nor Python lists of points
    for options, cap in (({"max_points": 1_000}, "1,000"), ({}, "5,000")):
        with pytest.raises(pr.ChartError) as error:
            many_points(**options).render(data)
        assert str(error.value) == (
            f"bands.summary.elements[1] (chart 'wide'): 20,000 points, more than its max_points of {cap}; aggregate "
            "them with by: [{column: x, bucket: month}] (dates) or [{column: x, bin: 10}], or raise max_points"
        )
        assert (error.value.band, error.value.element) == ("bands.summary", "bands.summary.elements[1] (chart 'wide')")
    plan, scopes = plan_report(many_points(max_points=1_000), data)
    # Polars counted the points and left them out: no list of 20,000 points was made
    assert json.loads(scopes.report.select(plan.charts[0].column).collect().item()) == {"points": None, "__n": 20_000}


def test_a_chart_at_its_max_points_is_drawn() -> None:
    data = pl.DataFrame({"x": range(50), "v": [float(i) for i in range(50)]})
    document = many_points(max_points=50).render(data)
    assert document.stats["charts_rendered"] + document.stats["charts_cached"] == 1
    with pytest.raises(pr.DefinitionError):
        pr.Report.from_yaml(many_points(max_points=50).to_yaml().replace("max_points: 50", "max_points: 0"))


def test_a_sparkline_over_its_max_points_is_refused() -> None:
    rows = pl.DataFrame({"name": ["a", "b"], "series": [[1.0, 2.0], [float(i) for i in range(300)]]})
    spec = {"mark": "line", "encoding": {"x": {"field": "index", "type": "quantitative"}, "y": {"field": "y"}}}
    spark = Chart(spec=spec, measures={"y": "series"}, max_points=100)
    listing = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="name"), spark])))
    with pytest.raises(
        pr.ChartError, match=r"elements\[1\] \(chart\): 300 points, more than its max_points of 100; shorten"
    ):
        listing.render(rows)
    assert listing.render(rows.head(1)).stats["charts"] == 1
