"""Smoke test of the many-small-groups ledger benchmark (``benchmarks/ledger.py``) on a few rows.

Not part of the main suite; run it with::

    python -m pytest benchmarks/test_ledger_smoke.py -q -p no:cacheprovider
"""

from __future__ import annotations

from pathlib import Path

import ledger
import polars as pl
import pytest
from pypdf import PdfReader

ROWS = 400


@pytest.fixture(scope="module")
def data_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "ledger.parquet"
    ledger.ledger_data(ROWS).write_parquet(path)
    return path


def test_many_small_groups() -> None:
    frame = ledger.ledger_data(ROWS)
    per_customer = frame.group_by("customer").len()["len"]
    assert frame.height == ROWS
    assert per_customer.len() > ROWS // 12  # about ten rows a customer
    assert frame.group_by("customer").agg(pl.col("region").n_unique())["region"].max() == 1


def test_typst_boxes_prints_the_grand_total(data_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "boxes.pdf"
    ledger.render_typst_boxes(data_path, out)
    total = pl.read_parquet(data_path).select((pl.col("quantity") * pl.col("unit_price")).sum()).item()
    reader = PdfReader(out)
    last = reader.pages[-1].extract_text()
    assert f"Page {len(reader.pages)} of {len(reader.pages)}" in last
    assert f"€{total:,.2f}" in last.split("Grand total", 1)[1]


def test_compare_prints_ratios() -> None:
    result = ledger.compare(ROWS, 1, ("polarreports", "typst_boxes"))
    ours = result["medians"]["polarreports"]
    assert ours["pages"] > 1
    assert ours["cpu_s"] > 0
    assert ours["peak_mb"] > 0
    ratio = result["ratios"]["typst_boxes"]
    assert ratio["wall_s"] > 0
    assert ratio["cpu_s"] > 0
