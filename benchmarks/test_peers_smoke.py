"""Smoke test of the benchmark's peers (``benchmarks/peers.py``) on a small data set.

Not part of the main suite; run it with::

    python -m pytest benchmarks/test_peers_smoke.py -q -p no:cacheprovider
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import peers
import polars as pl
import pytest
from pypdf import PdfReader

from polarreports.sample import write_sales_data

ROWS = 300


@pytest.fixture(scope="module")
def data_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample orders as a Parquet file."""
    return write_sales_data(tmp_path_factory.mktemp("data") / "sales.parquet", ROWS)


def expected_total(data_path: Path) -> str:
    """The grand total, summed by Polars and formatted "#,##0.00" by Python."""
    total = pl.read_parquet(data_path).select((pl.col("quantity") * pl.col("unit_price")).sum()).item()
    return f"{total:,.2f}"


@pytest.mark.parametrize("render", [peers.render_reportlab, peers.render_plain_typst])
def test_peer_renders_the_report(render: Callable[[Path, Path], None], data_path: Path, tmp_path: Path) -> None:
    out_path = tmp_path / "report.pdf"
    render(data_path, out_path)
    assert out_path.is_file()
    reader = PdfReader(out_path)
    assert len(reader.pages) > 1
    last = reader.pages[-1].extract_text()
    assert f"Page {len(reader.pages)} of {len(reader.pages)}" in last
    after = last.split("Grand total", 1)[1].split()
    assert f"€{expected_total(data_path)}" in after[:5]


@pytest.mark.parametrize("which", peers.PEERS)
def test_measure_peer(which: str, data_path: Path) -> None:
    result = peers.measure_peer(which, data_path)
    assert result["peer"] == which
    assert result["rows"] == ROWS
    assert result["pages"] > 1
    assert result["seconds"] > 0
    assert result["peak_rss_mb"] > 0
