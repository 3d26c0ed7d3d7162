"""Which values are long enough to make a band tall: the row's width is split among the cells it
shows, as the stream and the emitters split it, so a hidden cell (a link's URL) changes nothing."""

from __future__ import annotations

import polars as pl

import polarreports as pr
from polarreports.api import plan_report
from polarreports.plan.geometry import cell_thresholds, tall_threshold
from polarreports.plan.model import BandKind

DATA = pl.DataFrame({"text": ["words " * 5], "url": ["https://example.com"], "n": [1]})


def _detail(*elements: pr.Field) -> pr.Report:
    return pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=list(elements))))


def _thresholds(report: pr.Report) -> tuple[dict[int, tuple[int, int]], int | None]:
    plan, _ = plan_report(report, DATA)
    band = plan.band(BandKind.DETAIL)
    assert band is not None
    return cell_thresholds(band, plan.page), tall_threshold(band, plan.page)


def test_a_link_leaves_the_thresholds_of_its_band_as_they_are() -> None:
    plain = _thresholds(_detail(pr.Field(column="text"), pr.Field(column="n")))
    linked = _thresholds(_detail(pr.Field(column="text", link="url"), pr.Field(column="n")))
    # the link's URL is a hidden data cell after the shown ones: it neither narrows the shown
    # cells nor counts as a wrapping value of its own (a long URL never made the band tall)
    assert linked == plain


def test_the_thresholds_follow_the_shown_width_of_a_cell() -> None:
    whole, _ = _thresholds(_detail(pr.Field(column="text")))
    half, _ = _thresholds(_detail(pr.Field(column="text", width="50%"), pr.Field(column="n", width="50%")))
    # half the row's width: about half the characters a line, and half the characters to fill a page
    (threshold_whole, per_line_whole), (threshold_half, per_line_half) = whole[0], half[0]
    assert per_line_half < per_line_whole * 0.55
    assert threshold_half < threshold_whole * 0.55
