"""The quick test the band stream takes before routing long values gives what the routing would."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest

import polarreports as pr
from polarreports.plan.geometry import TALL, long_values
from polarreports.stream import collect

REPORT = pr.Report(
    name="r",
    groups=[pr.Group(name="g", key="g", header=pr.Band(elements=[pr.Field(column="g", width="20%")]))],
    bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="t", width="30%"), pr.Field(column="n", width="10%")])),
)


def routed(data: pl.DataFrame, monkeypatch: pytest.MonkeyPatch) -> tuple[list[int], list[Any]]:
    """The band kinds of the rendered stream, and what ``_route_tall`` was given."""
    given: list[Any] = []
    route = collect._route_tall

    def spy(*args: Any) -> pl.DataFrame:
        given.append(args)
        return route(*args)

    monkeypatch.setattr(collect, "_route_tall", spy)
    rows = json.loads(REPORT.render(data).data_json)["rows"]
    return [row["k"] for row in rows], given


def test_short_values_take_the_quick_way_and_long_ones_the_tall_variant(monkeypatch: pytest.MonkeyPatch) -> None:
    short = pl.DataFrame({"g": ["a", "a", "b"], "t": ["x", None, "y\ny"], "n": [1, 2, 3]})
    kinds, ((plan, frame, band_index),) = routed(short, monkeypatch)
    tall_bands = [band for band in plan.bands if band.name + TALL in band_index]
    assert tall_bands
    assert collect._none_tall(frame, tall_bands, plan.page)
    assert not any(band_index[band.name + TALL] in kinds for band in tall_bands)
    long = pl.DataFrame({"g": ["a", "a", "b"], "t": ["x", "word " * 2000, "line\n" * 200], "n": [1, 2, 3]})
    kinds, ((plan, frame, band_index),) = routed(long, monkeypatch)
    assert not collect._none_tall(frame, tall_bands, plan.page)
    detail, tall = band_index["bands.detail"], band_index["bands.detail" + TALL]
    assert [k for k in kinds if k in (detail, tall)] == [detail, tall, tall]


@pytest.mark.parametrize("text", ["w " * 100, "w " * 400, "l\n" * 20, "l\n" * 60, "y" * 900, "\n" * 30 + "z" * 300])
def test_the_quick_test_never_skips_a_tall_value(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = pl.DataFrame({"g": ["a", "b"], "t": ["short", text], "n": [1, 2]})
    _, ((plan, frame, band_index),) = routed(data, monkeypatch)
    page = plan.page
    tall_bands = [band for band in plan.bands if band.name + TALL in band_index]
    exprs = [long_values(band, page) for band in tall_bands]
    any_tall = frame.select(pl.any_horizontal(*(e for e in exprs if e is not None)).any()).item()
    assert not (collect._none_tall(frame, tall_bands, page) and any_tall)
