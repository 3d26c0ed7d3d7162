"""The example's first page looks as it did when a person last approved it.

The reference PNG was rendered with the pinned Typst and fonts and looked at. To accept a
deliberate change of look: ``POLARREPORTS_UPDATE_REFERENCES=1 pytest tests/test_visual.py``,
then look at the new image before committing it.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import polars as pl
import pytest
from PIL import Image, ImageChops

import polarreports as pr
from tests.conftest import ROOT

pytestmark = pytest.mark.typst

REFERENCES = Path(__file__).parent / "reference"
REFERENCE = REFERENCES / "sales_by_region-page1.png"
PPI = 60
PIXEL_TOLERANCE = 48
"""A pixel differs when one of its channels differs by more than this (of 255)."""
MAX_DIFFERING = 0.004
"""At most this fraction of pixels may differ (antialiasing noise, not a moved column)."""


def differing_fraction(a: Image.Image, b: Image.Image) -> float:
    diff = ImageChops.difference(a.convert("L"), b.convert("L"))
    histogram = diff.histogram()
    differing = sum(histogram[PIXEL_TOLERANCE + 1 :])
    return differing / (a.width * a.height)


def assert_matches_reference(page: bytes, reference_path: Path) -> None:
    """``page`` (PNG) looks like the stored reference; with POLARREPORTS_UPDATE_REFERENCES set,
    it becomes the reference."""
    if os.environ.get("POLARREPORTS_UPDATE_REFERENCES"):
        reference_path.write_bytes(page)
    rendered = Image.open(io.BytesIO(page))
    reference = Image.open(reference_path)
    assert rendered.size == reference.size
    assert differing_fraction(rendered, reference) <= MAX_DIFFERING


def test_first_page_matches_the_reference(example: pr.Report, sales: pl.DataFrame) -> None:
    assert_matches_reference(example.render(sales).png(ppi=PPI)[0], REFERENCE)


def test_the_comparison_catches_a_changed_page(example: pr.Report, sales: pl.DataFrame) -> None:
    moved = example.model_copy(update={"page": example.page.model_copy(update={"font_size": 9})})
    page = Image.open(io.BytesIO(moved.render(sales).png(ppi=PPI)[0]))
    assert differing_fraction(page, Image.open(REFERENCE)) > MAX_DIFFERING


def test_dashboard_first_page_matches_the_reference(sales: pl.DataFrame) -> None:
    """Charts included: vl-convert and its fonts are pinned, so the page is stable too."""
    page = pr.load(ROOT / "examples" / "sales_dashboard.yaml").render(sales).png(ppi=PPI)[0]
    assert_matches_reference(page, REFERENCES / "sales_dashboard-page1.png")
