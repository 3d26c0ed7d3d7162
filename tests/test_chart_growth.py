"""Vega-Lite transforms that make rows (a sequence() or split() flattened, fold, density, quantile, impute)
are bounded before anything is drawn: past their bound a clear ChartError names the chart and
what to change; within it the chart is drawn."""

from __future__ import annotations

import time
from typing import Any

import polars as pl
import pytest

import polarreports as pr

ENCODING = {"x": {"field": "n", "type": "quantitative"}}
DATA = pl.DataFrame({"x": list(range(200)), "y": [i % 3 for i in range(200)]})


def render(spec: dict[str, Any], max_points: int = 5_000) -> pr.Document:
    chart = pr.Chart(spec={"mark": "point", "encoding": ENCODING, **spec}, by=["x"], measures={"n": "sum(y)"})
    chart = chart.model_copy(update={"max_points": max_points})
    report = pr.Report(name="r", bands=pr.Bands(summary=pr.Band(elements=[chart])))
    return report.render(DATA)


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        ([{"calculate": "sequence(0, 30000000)", "as": "s"}, {"flatten": ["s"]}], r"sequence\(0, 30000000\) at spec"),
        ([{"calculate": "sequence(1e9)", "as": "s"}], r"makes 1,000,000,000 values, more than its max_points"),
        ([{"calculate": "sequence(0, datum.n * 1e9)", "as": "s"}], "not plain numbers, so its size cannot be bounded"),
        ([{"calculate": "sequence(0, 4000)", "as": "s"}, {"flatten": ["s"]}], "could make Vega build 800,000 rows"),
        ([{"fold": [f"f{i}" for i in range(3_000)]}], "could make Vega build 600,000 rows from 200 points"),
        ([{"density": "n", "steps": 1_000_000_000}], r"steps \(1000000000\) at spec.transform\[0\]"),
        ([{"density": "n", "groupby": ["x"], "steps": 4_000}], "could make Vega build 800,000 rows"),
        ([{"quantile": "n", "step": 1e-9}], r"quantile samples at spec.transform\[0\]"),
        ([{"impute": "n", "key": "x", "keyvals": {"start": 0, "stop": 1e9}}], "impute keys"),
        (
            [{"calculate": "split(datum.x + '', '')", "as": "t"}, {"flatten": ["t"]}],
            r"a flatten at spec.transform\[1\] of the arrays split\(datum.x \+ '', ''\) at spec.transform\[0\]"
            r".calculate makes: a split\(\) without a limit .* n at most its max_points of 5,000",
        ),
        (
            [{"calculate": "split(datum.x, ',', datum.n)", "as": "t"}, {"flatten": ["t"]}],
            r"the arrays split\(datum.x, ',', datum.n\) at",
        ),
        (
            [{"calculate": "split('a,b', ',', 1e9)", "as": "t"}],
            r"has a limit of 1,000,000,000 items, more than its max_points",
        ),
        (
            [{"calculate": "split('a)b,c', ',', 4000)", "as": "t"}, {"flatten": ["t"]}],
            "could make Vega build 800,000 rows",
        ),
        (
            [{"filter": "split(datum.x, '')[0] != 'z'"}, {"calculate": "[1]", "as": "t"}, {"flatten": ["t"]}],
            r"a flatten at spec.transform\[2\] of the arrays split\(datum.x, ''\) at spec.transform\[0\].filter",
        ),
    ],
)
def test_transforms_that_make_too_many_rows_are_refused(transform: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(pr.ChartError, match=message) as error:
        render({"transform": transform})
    assert str(error.value).startswith("bands.summary.elements[0] (chart): ")
    assert error.value.element == "bands.summary.elements[0] (chart)"


@pytest.mark.parametrize(
    ("spec", "where"),
    [
        ({"title": "x" * 30_000}, r"spec.title has 30,000 characters, more than 2,000"),
        ({"layer": [{"mark": {"type": "text", "text": ["a", "y" * 5_000]}}]}, r"spec.layer\[0\].mark.text\[1\] has"),
    ],
)
def test_a_text_too_long_for_vega_to_lay_out_is_refused_before_drawing(spec: dict[str, Any], where: str) -> None:
    # found by benchmarks/hostile_campaign.py: a chart title of 100,000 characters ran past a 20 s timeout
    begin = time.monotonic()
    with pytest.raises(pr.ChartError, match=where):
        render(spec)
    assert time.monotonic() - begin < 5  # refused, not drawn (30,000 characters take about 10 s to draw)
    render({"title": "x" * 2_000})  # the longest allowed is drawn


def test_layers_start_from_the_rows_their_parent_left() -> None:
    folds = [f"f{i}" for i in range(1_300)]
    nested = {"transform": [{"fold": ["n", "x"]}], "layer": [{"transform": [{"fold": folds}]}]}
    with pytest.raises(pr.ChartError, match=r"at spec.layer\[0\].transform could make Vega build 520,000 rows"):
        render(nested)


@pytest.mark.parametrize(
    "transform",
    [
        [{"calculate": "sequence(0, 10)", "as": "s"}, {"flatten": ["s"]}],
        [{"fold": ["n", "x"]}],
        [{"density": "n"}],
        [{"quantile": "n"}],
        [{"impute": "n", "key": "x", "keyvals": [1, 2, 3]}],
        [{"calculate": "split('a,b,c', ',', 3)", "as": "t"}, {"flatten": ["t"]}],
        [{"calculate": "datum.split + split('a,b', ',')", "as": "t"}],  # no flatten: no rows made
        [{"calculate": "{'split': 1}", "as": "t"}, {"calculate": "[datum.t.split]", "as": "u"}, {"flatten": ["u"]}],
    ],
)
def test_transforms_within_their_bound_are_drawn(transform: list[dict[str, Any]]) -> None:
    doc = render({"transform": transform, "encoding": {"x": {"field": "n", "type": "quantitative"}}})
    assert doc.stats.charts == 1
    (cell,) = doc._data.static["summary"]
    assert "<svg" in cell
    assert "Chart unavailable" not in cell


def test_the_bound_follows_max_points() -> None:
    with pytest.raises(pr.ChartError, match="more than its max_points of 100"):
        render({"transform": [{"calculate": "sequence(0, 500)", "as": "s"}]}, max_points=300 - 200)
    render({"transform": [{"calculate": "sequence(0, 500)", "as": "s"}]}, max_points=1_000)
