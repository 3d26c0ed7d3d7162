"""Subreports: an order with its lines and its payments, from three tables, checked against
Polars' own joins, as the PDF shows them (pdftotext) and as the data phase computes them."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

import polarreports as pr
from polarreports.api import plan_report
from polarreports.compute.subreports import attach_subreports
from tests.conftest import ROOT, chunk_count, chunking_small, one_piece_pdf, page_layouts
from tests.test_visual import PPI, REFERENCES, assert_matches_reference

HOSTILE = ["#set text(red)", '");panic("x', "\\u{41}\\", "$x^2$", "<b>bold</b>", "*strong*", "@label", "]}{[", "//x"]


def orders_data(n: int = 30, seed: int = 7) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``n`` orders, 0-4 lines each, 0-3 payments each (some orders have none of either)."""
    orders = pl.DataFrame(
        {"order_id": range(1, n + 1), "customer": [f"Customer{i % 7}" for i in range(n)]},
        schema={"order_id": pl.Int64, "customer": pl.String},
    )
    lines = (
        orders.select("order_id", n_lines=(pl.col("order_id") * 37 + seed) % 5)
        .with_columns(line=pl.int_ranges(pl.col("n_lines")))
        .explode("line")
        .drop_nulls("line")
        .select(
            "order_id",
            product=pl.format("P{}-{}", pl.col("order_id"), pl.col("line")),
            quantity=(pl.col("order_id") + pl.col("line")) % 4 + 1,
            unit_price=((pl.col("order_id") * 13 + pl.col("line") * 7) % 90 + 10) / 4,
        )
    )
    payments = (
        orders.select("order_id", n_pay=(pl.col("order_id") * 11 + seed) % 4)
        .with_columns(pay=pl.int_ranges(pl.col("n_pay")))
        .explode("pay")
        .drop_nulls("pay")
        .with_row_index("i")
        .select(
            "order_id",
            method=pl.lit(pl.Series(HOSTILE)).get(pl.col("i") % len(HOSTILE)),
            amount=((pl.col("order_id") * 29 + pl.col("pay") * 3) % 50 + 1) * 1.25,
        )
    )
    return orders, lines, payments


LINES = pr.Report(
    name="lines",
    variables=[pr.Variable(name="lines_total", calculation="sum", expression="quantity * unit_price")],
    bands=pr.Bands(
        column_header=pr.Band(elements=[pr.Label(text="Product"), pr.Label(text="Qty"), pr.Label(text="Amount")]),
        detail=pr.Band(
            elements=[
                pr.Field(column="product"),
                pr.Field(column="quantity"),
                pr.Expression(expr="quantity * unit_price", format="#,##0.00"),
            ]
        ),
        summary=pr.Band(elements=[pr.Label(text="Lines"), pr.Label(text=""), pr.Aggregate(variable="lines_total")]),
    ),
)
PAYMENTS = pr.Report(
    name="payments",
    variables=[
        pr.Variable(name="paid", calculation="sum", expression="amount"),
        pr.Variable(name="n", calculation="count"),
    ],
    bands=pr.Bands(
        detail=pr.Band(elements=[pr.Field(column="method"), pr.Field(column="amount", format="#,##0.00")]),
    ),
)


def order_report() -> pr.Report:
    """Per order: a header with the totals passed back, its lines, then its payments; the
    report's summary totals what the subreports passed back."""
    header = pr.Band(
        elements=[
            pr.Label(text="Order"),
            pr.Field(column="order_id"),
            pr.Field(column="customer"),
            pr.Field(column="billed", format="#,##0.00"),
            pr.Field(column="paid", format="#,##0.00"),
            pr.Field(column="payments"),
        ]
    )
    return pr.Report(
        name="orders",
        groups=[
            pr.Group(
                name="order_id",
                header=header,
                footer=pr.Band(
                    elements=[
                        pr.Subreport(
                            report=PAYMENTS,
                            source="payments",
                            keys=["order_id"],
                            returns={"payments": "n", "paid": "paid"},
                        )
                    ]
                ),
            )
        ],
        variables=[
            pr.Variable(name="all_billed", calculation="sum", expression="billed"),
            pr.Variable(name="all_paid", calculation="sum", expression="paid"),
        ],
        bands=pr.Bands(
            detail=pr.Band(
                elements=[
                    pr.Subreport(
                        report=LINES,
                        source="lines",
                        keys={"order_id": "order_id"},
                        returns={"billed": "lines_total"},
                        width="80%",
                    )
                ]
            ),
            summary=pr.Band(
                elements=[
                    pr.Label(text="Billed"),
                    pr.Aggregate(variable="all_billed", format="#,##0.00"),
                    pr.Label(text="Paid"),
                    pr.Aggregate(variable="all_paid", format="#,##0.00"),
                ]
            ),
        ),
    )


def expected(orders: pl.DataFrame, lines: pl.DataFrame, payments: pl.DataFrame) -> pl.DataFrame:
    """Polars' own figures per order: billed, paid and the number of payments (0 for none)."""
    billed = lines.group_by("order_id").agg(billed=(pl.col("quantity") * pl.col("unit_price")).sum())
    paid = payments.group_by("order_id").agg(paid=pl.col("amount").sum(), payments=pl.len())
    return (
        orders.join(billed, on="order_id", how="left")
        .join(paid, on="order_id", how="left")
        .with_columns(pl.col("billed", "paid", "payments").fill_null(0))
        .sort("order_id")
    )


def pdftotext(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("no pdftotext: install the Debian package poppler-utils (make system)")
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def money(value: float) -> str:
    return f"{value:,.2f}"


# -- the data phase: one join per subreport ------------------------------------------------------


def test_returned_values_equal_polars_joins() -> None:
    orders, lines, payments = orders_data()
    report = order_report()
    rows = attach_subreports(report, orders.lazy(), {"lines": lines, "payments": payments.lazy()}, {}).collect()
    want = expected(orders, lines, payments)
    got = rows.sort("order_id")
    assert got["billed"].round(6).to_list() == want["billed"].round(6).to_list()
    assert got["payments"].to_list() == want["payments"].to_list()
    assert 0 in got["payments"].to_list()  # some orders have no payment: 0, not null


def test_each_order_gets_its_own_rows_in_order() -> None:
    orders, lines, payments = orders_data()
    rows = attach_subreports(order_report(), orders.lazy(), {"lines": lines, "payments": payments}, {}).collect()
    lines_column, payments_column = "__sub0", "__sub1"  # the detail band's, then the group footer's
    for order_id, table in rows.select("order_id", lines_column).iter_rows():
        mine = lines.filter(pl.col("order_id") == order_id)
        if mine.is_empty():
            assert table is None
            continue
        shown = json.loads(table)
        assert [row[0] for row in shown["r"]] == mine["product"].to_list()
        assert shown["h"] == ["Product", "Qty", "Amount"]
        assert shown["t"][2] == money((mine["quantity"] * mine["unit_price"]).sum())
    methods = [json.loads(t)["r"] for t in rows[payments_column] if t is not None]
    assert sorted(row[0] for table in methods for row in table) == sorted(payments["method"].to_list())


def test_a_subreport_definition_round_trips_through_yaml() -> None:
    report = order_report()
    again = pr.Report.from_yaml(report.to_yaml())
    assert again.to_yaml() == report.to_yaml()
    assert again.bands.detail is not None
    assert isinstance(again.bands.detail.elements[0], pr.Subreport)
    assert again.bands.detail.elements[0].report.name == "lines"


def test_a_subreport_s_groups_total_as_polars_groups() -> None:
    """Payments grouped by method within each order: a header and a subtotal per method, in
    the order of the methods, the rows of each under its header."""
    orders, _, payments = orders_data()
    by_method = PAYMENTS.model_copy(
        update={
            "groups": [
                pr.Group(
                    name="method",
                    header=pr.Band(elements=[pr.Field(column="method")]),
                    footer=pr.Band(elements=[pr.Label(text="Subtotal"), pr.Aggregate(variable="paid")]),
                )
            ]
        }
    )
    element = pr.Subreport(report=by_method, source="payments", keys=["order_id"])
    report = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[element])))
    rows = attach_subreports(report, orders.lazy(), {"payments": payments}, {}).collect()
    want = payments.group_by("order_id", "method").agg(pl.col("amount"), paid=pl.col("amount").sum())
    for order_id, table in rows.select("order_id", "__sub0").iter_rows():
        mine = want.filter(pl.col("order_id") == order_id).sort("method")
        if mine.is_empty():
            assert table is None
            continue
        shown = json.loads(table)
        expected_rows, kinds = [], []
        for _, method, amounts, paid in mine.iter_rows():
            expected_rows += [[method, ""], *([method, money(a)] for a in amounts), ["Subtotal", money(paid)]]
            kinds += ["h1", *["d"] * len(amounts), "f1"]  # a header and footer of group level 1
        assert (shown["r"], shown["k"]) == (expected_rows, kinds)


# -- mistakes get one clear line -----------------------------------------------------------------


def test_an_unknown_source_names_the_close_one() -> None:
    orders, lines, payments = orders_data(5)
    with pytest.raises(pr.PlanError, match=r"unknown source 'lines'; did you mean 'line'\?"):
        plan_report(order_report(), orders, sources={"line": lines, "payments": payments})


def test_an_unknown_key_and_a_clashing_return_are_refused() -> None:
    orders, lines, _ = orders_data(5)
    element = pr.Subreport(
        report=LINES, source="lines", keys={"order": "order_id"}, returns={"customer": "lines_total"}
    )
    report = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[element])))
    with pytest.raises(pr.PlanError) as error:
        plan_report(report, orders, sources={"lines": lines})
    assert "unknown key column 'order'; did you mean 'order_id'?" in str(error.value)
    assert "returns 'customer': the master already has a column 'customer'" in str(error.value)


def test_mismatched_key_types_are_refused() -> None:
    orders, lines, _ = orders_data(5)
    element = pr.Subreport(report=LINES, source="lines", keys=["order_id"])
    report = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[element])))
    with pytest.raises(pr.PlanError, match="is Int64 in the master but String"):
        plan_report(report, orders, sources={"lines": lines.with_columns(pl.col("order_id").cast(pl.String))})


def test_what_a_subreport_cannot_show_is_refused_not_dropped() -> None:
    orders, lines, _ = orders_data(5)
    titled = LINES.model_copy(
        update={"bands": LINES.bands.model_copy(update={"title": pr.Band(elements=[pr.Label(text="x")])})}
    )
    element = pr.Subreport(report=titled, source="lines", keys=["order_id"])
    report = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[element])))
    with pytest.raises(pr.PlanError, match=r"the subreport's bands.title is not shown"):
        plan_report(report, orders, sources={"lines": lines})
    assert LINES.bands.detail is not None
    hidden = LINES.model_copy(
        update={
            "bands": LINES.bands.model_copy(
                update={"detail": LINES.bands.detail.model_copy(update={"print_when": "quantity > 1"})}
            )
        }
    )
    element = pr.Subreport(report=hidden, source="lines", keys=["order_id"])
    report = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[element])))
    with pytest.raises(pr.PlanError, match=r"bands.detail.print_when is not supported in a subreport"):
        plan_report(report, orders, sources={"lines": lines})
    nested = pr.Subreport(report=LINES, source="lines", keys=["order_id"])
    in_summary = PAYMENTS.model_copy(
        update={"bands": PAYMENTS.bands.model_copy(update={"summary": pr.Band(elements=[nested])})}
    )
    element = pr.Subreport(report=in_summary, source="payments", keys=["order_id"])
    report = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[element])))
    with pytest.raises(pr.PlanError, match="nests subreports in its detail band only"):
        plan_report(report, orders, sources={"lines": lines, "payments": orders_data(5)[2]})


def test_a_subreport_file_outside_the_allowed_folders_is_refused(tmp_path: Path) -> None:
    inside, outside = tmp_path / "reports", tmp_path / "elsewhere"
    inside.mkdir()
    outside.mkdir()
    (outside / "lines.yaml").write_text(LINES.to_yaml())
    (inside / "lines.yaml").write_text(LINES.to_yaml())
    orders, lines, _ = orders_data(5)
    for name, ok in (("lines.yaml", True), ("../elsewhere/lines.yaml", False)):
        element = pr.Subreport(report=name, source="lines", keys=["order_id"], returns={"billed": "lines_total"})
        report = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[element])))
        (inside / "orders.yaml").write_text(report.to_yaml())
        loaded = pr.load(inside / "orders.yaml")
        if ok:
            plan, _ = plan_report(loaded, orders, sources={"lines": lines})
            assert plan.name == "r"
        else:
            with pytest.raises(pr.AccessError, match="outside the folders subreport definitions may be read from"):
                plan_report(loaded, orders, sources={"lines": lines})


def test_a_definition_naming_itself_stops_at_the_depth_limit(tmp_path: Path) -> None:
    element = pr.Subreport(report="self.yaml", source="orders", keys=["order_id"])
    report = pr.Report(name="self", bands=pr.Bands(detail=pr.Band(elements=[element])))
    (tmp_path / "self.yaml").write_text(report.to_yaml())
    orders, _, _ = orders_data(3)
    with pytest.raises(pr.PlanError, match="nest more than"):
        plan_report(pr.load(tmp_path / "self.yaml"), orders, sources={"orders": orders})


# -- what the reader sees ------------------------------------------------------------------------


def _normal(text: str) -> list[str]:
    return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if line.strip()]


@pytest.mark.typst
def test_orders_with_lines_and_payments_show_polars_figures() -> None:
    orders, lines, payments = orders_data()
    document = order_report().render(orders, sources={"lines": lines, "payments": payments})
    text = pdftotext(document.pdf)
    shown = _normal(text)
    want = expected(orders, lines, payments)
    heads = [line for line in shown if line.startswith("Order ")]
    assert heads == [
        f"Order {o} {c} {money(b)} {money(p)} {n}"
        for o, c, b, p, n in want.select("order_id", "customer", "billed", "paid", "payments").iter_rows()
    ]
    assert f"Billed {money(want['billed'].sum())} Paid {money(want['paid'].sum())}" in shown
    for product, quantity, price in lines.select("product", "quantity", "unit_price").iter_rows():
        assert any(line.startswith(f"{product} {quantity} {money(quantity * price)}") for line in shown), product
    for method in HOSTILE:  # hostile strings of the subreport's data stay text
        assert text.count(method) == payments["method"].to_list().count(method), method


@pytest.mark.typst
def test_subreports_nest_two_deep() -> None:
    orders, lines, _ = orders_data(12)
    customers = orders.select("customer").unique().sort("customer")
    inner = pr.Subreport(report=LINES, source="lines", keys=["order_id"], returns={"order_total": "lines_total"})
    per_customer = pr.Report(
        name="orders",
        variables=[pr.Variable(name="spent", calculation="sum", expression="order_total")],
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="order_id", width="15mm"), inner])),
    )
    outer = pr.Subreport(report=per_customer, source="orders", keys=["customer"], returns={"spent": "spent"})
    report = pr.Report(
        name="customers",
        groups=[
            pr.Group(
                name="customer",
                header=pr.Band(elements=[pr.Field(column="customer"), pr.Field(column="spent", format="#,##0.00")]),
            )
        ],
        bands=pr.Bands(detail=pr.Band(elements=[outer])),
    )
    document = report.render(customers, sources={"orders": orders, "lines": lines})
    shown = _normal(pdftotext(document.pdf))
    spent = (
        orders.join(lines, on="order_id")
        .group_by("customer")
        .agg(spent=(pl.col("quantity") * pl.col("unit_price")).sum())
    )
    want = customers.join(spent, on="customer", how="left").fill_null(0)
    for customer, total in want.iter_rows():
        assert f"{customer} {money(total)}" in shown
    for product, quantity, price in lines.select("product", "quantity", "unit_price").iter_rows():
        assert any(f"{product} {quantity} {money(quantity * price)}" in line for line in shown), product


@pytest.mark.typst
def test_subreports_of_varying_length_are_typeset_in_chunks() -> None:
    """Each number of a subreport's rows is a band kind of its own, measured: the long-report
    path predicts the pages and typesets them in parallel chunks, which show what one piece
    shows, every payment once."""
    n = 400
    orders = pl.DataFrame({"order_id": range(n)})
    payments = (
        pl.DataFrame({"order_id": [i for i in range(n) for _ in range(i % 4 + 1)]})
        .with_row_index("amount")
        .with_columns(method=pl.lit("card"), amount=pl.col("amount").cast(pl.Float64))
    )
    element = pr.Subreport(report=PAYMENTS, source="payments", keys=["order_id"], returns={"paid": "paid"})
    report = pr.Report(
        name="chunked",
        bands=pr.Bands(
            detail=pr.Band(elements=[pr.Field(column="order_id", width="20mm"), element]),
            page_footer=pr.Band(elements=[pr.PageNumber()]),
        ),
    )
    with chunking_small():
        document = report.render(orders, sources={"payments": payments})
        chunked = document.pdf
    assert chunk_count(document) >= 2, document.stats["typeset"]
    one_piece = one_piece_pdf(document)
    assert page_layouts(chunked) == page_layouts(one_piece)
    amounts = re.findall(r"\bcard\s+([\d,]+\.\d\d)$", pdftotext(chunked), flags=re.MULTILINE)
    assert sorted(float(a.replace(",", "")) for a in amounts) == [float(i) for i in range(payments.height)]


def test_the_html_page_shows_each_order_s_payments_as_escaped_text(tmp_path: Path) -> None:
    orders, lines, payments = orders_data(12)
    document = order_report().render(orders, sources={"lines": lines, "payments": payments})
    document.save(tmp_path / "orders.html")
    page = (tmp_path / "orders.html").read_text()
    for method in HOSTILE:  # the escaped text, never markup
        assert page.count(f">{html.escape(method)}<") == payments["method"].to_list().count(method), method
    assert "<b>bold" not in page
    assert page.count('<table class="subreport">') == lines["order_id"].n_unique() + payments["order_id"].n_unique()


# -- the gallery's example -----------------------------------------------------------------------

EXAMPLE = ROOT / "examples" / "order_with_payments.yaml"
EXAMPLE_DATA = ROOT / "examples" / "data"


def _example() -> pr.Document:
    return pr.load(EXAMPLE).render(EXAMPLE_DATA / "orders.csv")


@pytest.mark.typst
def test_the_example_s_balances_equal_polars_joins() -> None:
    orders = pl.read_csv(EXAMPLE_DATA / "orders.csv")
    lines = pl.read_csv(EXAMPLE_DATA / "order_lines.csv")
    payments = pl.read_csv(EXAMPLE_DATA / "order_payments.csv")
    billed = lines.group_by("order_id").agg(billed=(pl.col("quantity") * pl.col("unit_price")).sum())
    paid = payments.group_by("order_id").agg(paid=pl.col("amount").sum())
    want = (
        orders.join(billed, on="order_id", how="left")
        .join(paid, on="order_id", how="left")
        .fill_null(0)
        .with_columns(balance=pl.col("billed") - pl.col("paid"))
        .sort("order_id")
    )
    shown = _normal(pdftotext(_example().pdf))
    assert [line.rsplit(" ", 1)[1] for line in shown if "Balance" in line] == [f"€{money(b)}" for b in want["balance"]]
    assert (
        f"Billed €{money(want['billed'].sum())} Paid €{money(want['paid'].sum())} Open €{money(want['balance'].sum())}"
        in shown
    )


@pytest.mark.typst
def test_the_example_s_first_page_matches_the_reference() -> None:
    assert_matches_reference(_example().png(ppi=PPI)[0], REFERENCES / "order_with_payments-page1.png")


def test_the_master_rows_keep_their_order() -> None:
    """The join onto the master's rows keeps them in their order (a report without a sort
    shows its rows as given)."""
    n = 100_000
    orders = pl.DataFrame({"order_id": pl.Series(range(n)).shuffle(seed=1), "customer": "x"})
    payments = pl.DataFrame({"order_id": range(0, n, 3), "method": "card", "amount": 1.0})
    element = pr.Subreport(report=PAYMENTS, source="p", keys=["order_id"], returns={"paid": "paid"})
    report = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[element])))
    rows = attach_subreports(report, orders.lazy(), {"p": payments}, {}).collect()
    assert rows["order_id"].to_list() == orders["order_id"].to_list()
    assert rows["paid"].to_list() == [1.0 if i % 3 == 0 else 0.0 for i in orders["order_id"]]


@pytest.mark.typst
def test_a_subreport_longer_than_the_page_breaks_across_pages_and_loses_no_row() -> None:
    """Short rows in a wide column: a table of 90 rows, by its characters, is not long, but by
    its rows it is taller than the page: it goes to the band's variant that breaks across pages."""
    orders = pl.DataFrame({"order_id": [1, 2, 3], "customer": ["Ann", "Bob", "Cy"]})
    n = [3, 90, 62]
    payments = pl.DataFrame(
        {"order_id": [o for o, k in zip([1, 2, 3], n, strict=True) for _ in range(k)], "method": "c"}
    ).with_row_index("amount")
    short = pr.Report(
        name="short", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="method"), pr.Field(column="amount")]))
    )
    element = pr.Subreport(report=short, source="payments", keys=["order_id"], width="60%")
    report = pr.Report(
        name="long",
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="order_id"), pr.Field(column="customer"), element])),
    )
    document = report.render(orders, sources={"payments": payments})
    rows = re.findall(r"\bc\s+(\d+)$", pdftotext(document.pdf), flags=re.MULTILINE)
    assert sorted(int(row) for row in rows) == list(range(sum(n)))
    assert document.page_count >= 2


def test_names_of_the_subreport_s_own_never_clash_with_polarreports_columns() -> None:
    """Variables named like the table's parts (r, k, c) work, with groups or without; a returned
    name in polarreports' own space (``__``) is refused."""
    orders, _, payments = orders_data(8)
    for groups in ([], [pr.Group(name="method", footer=pr.Band(elements=[pr.Aggregate(variable="r")]))]):
        named = PAYMENTS.model_copy(
            update={
                "groups": groups,
                "variables": [pr.Variable(name=n, calculation="sum", expression="amount") for n in ("r", "k", "c")],
            }
        )
        element = pr.Subreport(report=named, source="payments", keys=["order_id"], returns={"paid": "r"})
        report = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[element])))
        rows = attach_subreports(report, orders.lazy(), {"payments": payments}, {}).collect()
        want = expected(orders, orders_data(8)[1], payments)
        assert rows.sort("order_id")["paid"].to_list() == want["paid"].to_list()
    element = pr.Subreport(report=PAYMENTS, source="payments", keys=["order_id"], returns={"__sub0": "paid"})
    report = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[element])))
    with pytest.raises(pr.PlanError, match="names starting with '__' are polarreports' own"):
        plan_report(report, orders, sources={"payments": payments})
