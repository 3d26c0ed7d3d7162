"""The band stream keeps its raw typed values (stream.typed): the same in memory as spilled to
files, in the stream's order, split in parts or not."""

from __future__ import annotations

import gc
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

import polarreports as pr
from polarreports.api import plan_report
from polarreports.emit.typst_source import band_indices
from polarreports.stream import typed
from polarreports.stream.collect import StreamData, collect_stream

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sales_by_region.yaml"


def _stream(rows: int, **options: int) -> StreamData:
    plan, scopes = plan_report(pr.load(EXAMPLE), pr.sample.sales_data(rows))
    return collect_stream(plan, scopes, band_indices(plan), **options)


def _detail(stream: StreamData) -> pl.DataFrame:
    assert stream.typed is not None
    return pl.concat([frame for _, _, frame in stream.typed.detail() if frame is not None])


def test_detail_values_keep_their_types_and_the_report_order() -> None:
    stream = _stream(300, batch_rows=64)
    detail = _detail(stream)
    expected = (
        pr.sample.sales_data(300)
        .with_columns(amount=pl.col("quantity") * pl.col("unit_price"))
        .sort("region", "customer", "order_date", "order_id")
    )
    assert detail["__pos"].to_list() == list(range(300))
    assert detail["__v0"].dtype == pl.Date
    assert detail["__v4"].dtype.is_decimal()
    assert detail["__v1"].to_list() == expected["order_id"].to_list()
    assert detail["__v6"].to_list() == expected["amount"].to_list()
    assert isinstance(detail["__v6"][0], Decimal)


def test_group_and_report_values_are_the_polars_totals() -> None:
    stream = _stream(300)
    assert stream.typed is not None
    footer = stream.typed.group("groups[0] ('region').footer")
    data = pr.sample.sales_data(300).with_columns(amount=pl.col("quantity") * pl.col("unit_price"))
    totals = data.group_by("region").agg(pl.col("amount").sum(), pl.col("quantity").sum()).sort("region")
    assert footer["__v2"].to_list() == totals["amount"].to_list()
    assert footer["__v0"].to_list() == totals["quantity"].to_list()
    assert stream.typed.report["bands.summary"]["__v2"].item() == data["amount"].sum()
    assert stream.typed.keys[2].columns == ["__start", "region", "customer"]


@pytest.mark.parametrize("parts", [10**9, 70])
def test_spilled_values_are_the_same_and_their_folder_goes_with_them(
    monkeypatch: pytest.MonkeyPatch, parts: int
) -> None:
    held = _stream(500, batch_rows=50, rows_per_part=parts)
    monkeypatch.setattr(typed, "SPILL_BYTES", 0)
    spilled = _stream(500, batch_rows=50, rows_per_part=parts)
    assert spilled.typed is not None
    assert spilled.typed.spilled
    assert held.typed is not None
    assert not held.typed.spilled
    assert _detail(spilled).equals(_detail(held))
    assert [(a, b) for a, b, _ in spilled.typed.detail()] == [(a, b) for a, b, _ in held.typed.detail()]
    for name in held.typed.group_names:
        assert spilled.typed.group(name).equals(held.typed.group(name))
    folder = spilled.typed._folder
    assert folder is not None
    assert any(folder.iterdir())
    del spilled
    gc.collect()
    assert not folder.exists()
