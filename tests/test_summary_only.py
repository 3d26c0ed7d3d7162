"""A report without detail rows skips the sort and rolls coarser levels up from the finest:
its totals, order and PDF equal those of the general path."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import polarreports as pr
from polarreports.api import plan_report
from tests.conftest import pdf_lines

DECOMPOSABLE = ["sum", "count", "avg", "min", "max"]
OTHERS = ["count_distinct", "median", "stddev", "var", "first", "last"]


def summary_report(calculations: list[str], *, detail: bool) -> pr.Report:
    footer = pr.Band(
        elements=[pr.Field(column="region"), pr.Field(column="country", null_text="?")]
        + [pr.Aggregate(variable=c) for c in calculations]
    )
    return pr.Report(
        name="summary",
        columns={"amount": "quantity * unit_price"},
        sort=["order_date"],
        groups=[
            pr.Group(name="region", descending=True, footer=footer),
            pr.Group(name="customer", header=pr.Band(elements=[pr.Field(column="customer")]), footer=footer),
        ],
        variables=[pr.Variable(name=c, calculation=c, expression="amount") for c in calculations]
        + [pr.Variable(name="orders", calculation="count")],
        bands=pr.Bands(
            detail=pr.Band(elements=[pr.Field(column="order_id")]) if detail else None,
            summary=pr.Band(
                elements=[pr.Aggregate(variable="orders")] + [pr.Aggregate(variable=c) for c in calculations]
            ),
        ),
    )


@pytest.mark.parametrize("calculations", [DECOMPOSABLE, DECOMPOSABLE + OTHERS], ids=["rolled-up", "per-level"])
def test_summary_scopes_equal_the_general_path(sales: pl.DataFrame, calculations: list[str]) -> None:
    _, fast = plan_report(summary_report(calculations, detail=False), sales)
    _, general = plan_report(summary_report(calculations, detail=True), sales)
    columns = [*calculations, "orders"]
    for level, keys in ((1, ["region"]), (2, ["region", "customer"])):
        got = fast.groups[level].select(*keys, *columns).collect()
        want = general.groups[level].select(*keys, *columns).collect()
        assert_frame_equal(got, want, check_dtypes=False, rel_tol=1e-9)
    assert_frame_equal(
        fast.report.select(*columns).collect(), general.report.select(*columns).collect(), check_dtypes=False
    )


@pytest.mark.typst
def test_summary_pdf_lists_every_group_in_order(sales: pl.DataFrame) -> None:
    lines = pdf_lines(summary_report(DECOMPOSABLE, detail=False).render(sales).pdf)
    region_footers = [line.split(" ")[0] for line in lines if line.split(" ")[0] in set(sales["region"])]
    assert list(dict.fromkeys(region_footers)) == sorted(set(sales["region"]), reverse=True)
    expected_total = f"{sales.height:,}"
    assert any(line.startswith(expected_total + " ") for line in lines)
