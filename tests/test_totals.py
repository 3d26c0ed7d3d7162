"""Every subtotal and total in the PDF equals an independent Polars computation."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

import polarreports as pr
from tests.conftest import pdf_lines

pytestmark = pytest.mark.typst


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


@pytest.fixture(scope="module")
def expected(sales: pl.DataFrame) -> dict[str, pl.DataFrame]:
    orders = sales.with_columns(amount=pl.col("quantity") * pl.col("unit_price"))
    return {
        "customer": orders.group_by("region", "customer")
        .agg(pl.col("amount").sum(), pl.col("quantity").sum(), pl.len().alias("orders"))
        .sort("region", "customer"),
        "region": orders.group_by("region")
        .agg(pl.col("amount").sum(), pl.col("quantity").sum(), pl.len().alias("orders"))
        .sort("region"),
        "report": orders.select(pl.col("amount").sum(), pl.col("quantity").sum(), pl.len().alias("orders")),
    }


def test_customer_subtotals_match_polars(example_lines: list[str], expected: dict[str, pl.DataFrame]) -> None:
    printed = [line for line in example_lines if line.startswith("Customer subtotal")]
    customers = expected["customer"]
    report_total = expected["report"]["amount"].item()
    assert len(printed) == customers.height
    region_totals = dict(expected["region"].select("region", "amount").iter_rows())
    for line, row in zip(printed, customers.iter_rows(named=True), strict=True):
        share = row["amount"] / region_totals[row["region"]] * 100
        assert line == f"Customer subtotal {row['quantity']:,} {share:.1f}% {money(row['amount'])}"
    assert sum(row["amount"] for row in customers.iter_rows(named=True)) == report_total


def test_region_headers_and_totals_match_polars(example_lines: list[str], expected: dict[str, pl.DataFrame]) -> None:
    regions = expected["region"]
    report_total = expected["report"]["amount"].item()
    footers = [line for line in example_lines if line.startswith("Region total")]
    assert len(footers) == regions.height
    for line, row in zip(footers, regions.iter_rows(named=True), strict=True):
        share = row["amount"] / report_total * 100
        assert line == f"Region total {row['quantity']:,} {share:.1f}% €{money(row['amount'])}"
    headers = [line for line in example_lines if line.split(" ")[0] in set(regions["region"])]
    expected_headers = [
        f"{r['region']} {r['orders']:,} orders €{money(r['amount'])}" for r in regions.iter_rows(named=True)
    ]
    assert [line for line in headers if line in expected_headers] == expected_headers


def test_grand_total_matches_polars(example_lines: list[str], expected: dict[str, pl.DataFrame]) -> None:
    row = expected["report"].row(0, named=True)
    assert f"Grand total {row['quantity']:,} {row['orders']:,} orders €{money(row['amount'])}" in example_lines


def test_decimal_totals_are_exact() -> None:
    cents = [Decimal("0.10")] * 3 + [Decimal("0.20")] * 7
    data = pl.DataFrame({"g": ["a"] * 10, "v": cents}, schema={"g": pl.String, "v": pl.Decimal(10, 2)})
    report = pr.Report(
        name="exact",
        groups=[
            pr.Group(name="g", footer=pr.Band(elements=[pr.Aggregate(variable="total", format="0.00000000000000000")]))
        ],
        variables=[pr.Variable(name="total", calculation="sum", expression="v")],
    )
    assert "1.70000000000000000" in pdf_lines(report.render(data).pdf)
