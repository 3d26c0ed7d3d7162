"""Where a subreport sits decides its rows: in the title or summary, the whole source (or the
rows of the report's parameters); in a group header or footer, the group's. Checked against
Polars, in the data phase and as the PDF and the HTML page show them."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import polarreports as pr
from polarreports.compute.subreports import attach_subreports
from polarreports.exceptions import PlanError
from tests.test_subreports import PAYMENTS, money, orders_data, pdftotext


def _shown(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def _report(title: pr.Subreport | None = None, summary: pr.Subreport | None = None, **extra: object) -> pr.Report:
    return pr.Report(
        name="orders",
        bands=pr.Bands(
            title=pr.Band(elements=[title]) if title else None,
            detail=pr.Band(elements=[pr.Field(column="order_id"), pr.Field(column="customer")]),
            summary=pr.Band(elements=[summary]) if summary else None,
        ),
        **extra,  # type: ignore[arg-type]
    )


def test_a_title_subreport_without_keys_is_over_the_whole_source() -> None:
    orders, _, payments = orders_data()
    sub = pr.Subreport(report=PAYMENTS, source="payments", returns={"all_paid": "paid"})
    rows = attach_subreports(_report(title=sub), orders.lazy(), {"payments": payments}, {}).collect()
    assert rows.height == orders.height
    assert rows["order_id"].to_list() == orders["order_id"].to_list()  # the master's rows, kept in order
    tables = rows["__sub0"].unique().to_list()
    assert len(tables) == 1  # one table, on every row
    assert [row[1] for row in json.loads(tables[0])["r"]] == [money(a) for a in payments["amount"]]
    assert rows["all_paid"].unique().to_list() == [pytest.approx(payments["amount"].sum())]


def test_a_summary_subreport_linked_to_a_parameter_keeps_its_rows() -> None:
    orders, _, payments = orders_data()
    payments = payments.with_columns(customer=pl.format("Customer{}", pl.col("order_id") % 3))
    sub = pr.Subreport(report=PAYMENTS, source="payments", keys={":who": "customer"}, returns={"theirs": "paid"})
    report = _report(summary=sub, parameters=[pr.Parameter(name="who", type="string", default="Customer1")])
    rows = attach_subreports(report, orders.lazy(), {"payments": payments}, {"who": "Customer2"}).collect()
    mine = payments.filter(pl.col("customer") == "Customer2")
    table = json.loads(rows["__sub0"][0])
    assert [row[1] for row in table["r"]] == [money(a) for a in mine["amount"]]
    assert rows["theirs"][0] == pytest.approx(mine["amount"].sum())
    rows = attach_subreports(report, orders.lazy(), {"payments": payments}, {}).collect()  # the default
    assert rows["theirs"][0] == pytest.approx(payments.filter(pl.col("customer") == "Customer1")["amount"].sum())


def test_an_empty_source_leaves_the_title_subreport_empty_and_its_count_zero() -> None:
    orders, _, payments = orders_data()
    sub = pr.Subreport(report=PAYMENTS, source="payments", returns={"how_many": "n"})
    rows = attach_subreports(_report(title=sub), orders.lazy(), {"payments": payments.clear()}, {}).collect()
    assert rows.height == orders.height
    assert all(table is None or json.loads(table)["r"] == [] for table in rows["__sub0"])  # no rows shown
    assert rows["how_many"].unique().to_list() == [0]


@pytest.mark.parametrize(
    ("title", "detail_keys", "wanted"),
    [
        ({"order_id": "order_id"}, None, "a subreport in the title is over the whole source: give no keys"),
        (None, {}, "needs at least one key column linking it to the master's rows"),
        ({":whom": "customer"}, None, "key ':whom' names no parameter of the report; did you mean 'who'?"),
        ({":who": "amount"}, None, "the parameter's value is String; declare the parameter with the column's type"),
        ({":who": "custom"}, None, "unknown key column 'custom'"),
    ],
)
def test_keys_that_do_not_fit_the_band_are_refused(
    title: dict[str, str] | None, detail_keys: dict[str, str] | None, wanted: str
) -> None:
    orders, _, payments = orders_data(5)
    payments = payments.with_columns(customer=pl.lit("Customer1"))
    report = pr.Report(
        name="r",
        parameters=[pr.Parameter(name="who", type="string", default="Customer1")],
        bands=pr.Bands(
            title=pr.Band(elements=[pr.Subreport(report=PAYMENTS, source="payments", keys=title)])
            if title is not None
            else None,
            detail=pr.Band(
                elements=[pr.Subreport(report=PAYMENTS, source="payments", keys=detail_keys)]
                if detail_keys is not None
                else [pr.Field(column="order_id")]
            ),
        ),
    )
    with pytest.raises(PlanError) as caught:
        attach_subreports(report, orders.lazy(), {"payments": payments}, {})
    assert wanted in str(caught.value)


def _by_customer(orders: pl.DataFrame) -> pr.Report:
    """Orders grouped by customer; each customer's footer: the customer's payments."""
    sub = pr.Subreport(report=PAYMENTS, source="payments", keys=["customer"], returns={"paid": "paid"})
    title_sub = pr.Subreport(report=PAYMENTS, source="payments", returns={"everything": "paid"})
    return pr.Report(
        name="customers",
        sort=[pr.SortKey(column="order_id")],
        groups=[
            pr.Group(
                name="customer",
                header=pr.Band(elements=[pr.Label(text="Customer"), pr.Field(column="customer")]),
                footer=pr.Band(elements=[pr.Label(text="Paid"), pr.Field(column="paid", format="#,##0.00"), sub]),
            )
        ],
        bands=pr.Bands(
            title=pr.Band(elements=[pr.Label(text="All payments"), title_sub]),
            detail=pr.Band(elements=[pr.Label(text="Order"), pr.Field(column="order_id")]),
            summary=pr.Band(elements=[pr.Label(text="Total"), pr.Field(column="everything", format="#,##0.00")]),
        ),
    )


def _customer_payments(n: int = 12) -> tuple[pl.DataFrame, pl.DataFrame]:
    orders, _, payments = orders_data(n)
    payments = (
        payments.join(orders, on="order_id")
        .select("customer", method=pl.format("m{}", pl.int_range(pl.len())), amount="amount")
        .sort("customer", maintain_order=True)
    )
    return orders, payments


def test_a_group_footer_subreport_shows_its_group_s_rows(tmp_path: Path) -> None:
    orders, payments = _customer_payments()
    document = _by_customer(orders).render(orders, sources={"payments": payments})
    document.save(tmp_path / "customers.html")
    page = (tmp_path / "customers.html").read_text()
    for customer, methods in payments.group_by("customer", maintain_order=True).agg("method").iter_rows():
        # each payment: once in the title's table of all, once in its customer's footer
        for method in methods:
            assert page.count(f">{method}<") == 2, (customer, method)
    assert page.count('<table class="subreport">') == 1 + payments["customer"].n_unique()
    # in report order, each customer's footer table holds that customer's payments (none: no table)
    blocks = page.split("Customer</")[1:]
    customers = orders["customer"].unique().sort().to_list()
    assert len(blocks) == len(customers)
    theirs = dict(payments.group_by("customer").agg("method").iter_rows())
    for block, customer in zip(blocks, customers, strict=True):
        assert customer in block.split("<table")[0]
        tables = block.split('<table class="subreport">')[1:]
        assert len(tables) == (customer in theirs), customer
        shown = [m for m in payments["method"] if tables and f">{m}<" in tables[0]]
        assert sorted(shown) == sorted(theirs.get(customer, [])), customer


@pytest.mark.typst
def test_title_group_and_summary_subreports_show_polars_figures() -> None:
    orders, payments = _customer_payments()
    text = pdftotext(_by_customer(orders).render(orders, sources={"payments": payments}).pdf)
    shown = _shown(text)
    for method, amount in payments.select("method", "amount").iter_rows():
        assert (
            sum(line.startswith(f"{method} {money(amount)}") or f" {method} {money(amount)}" in line for line in shown)
            == 2
        ), method  # the title's table and its customer's footer
    paid = (
        orders.select("customer")
        .unique()
        .join(payments.group_by("customer").agg(paid=pl.col("amount").sum()), on="customer", how="left")
        .fill_null(0)
    )
    feet = [line for line in shown if line.startswith("Paid ")]
    want = dict(paid.iter_rows())
    in_order = orders.sort("order_id")["customer"].unique(maintain_order=True).to_list()
    assert [line.split()[1] for line in feet] == [money(want[c]) for c in sorted(in_order)]
    assert f"Total {money(payments['amount'].sum())}" in shown
