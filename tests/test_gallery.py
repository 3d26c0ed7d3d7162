"""The gallery in examples/: each report renders, its first page looks as approved (the stored
PNGs are shown in the README), and the figures it prints agree with Polars."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from decimal import Decimal

import polars as pl
import pytest

import polarreports as pr
from tests.conftest import ROOT, pdf_pages
from tests.test_visual import PPI, REFERENCES, assert_matches_reference

pytestmark = pytest.mark.typst

GALLERY: dict[str, Callable[[], pl.DataFrame]] = {
    "invoice": pr.sample.invoice_data,
    "customer_statement": pr.sample.statement_data,
    "sales_ledger": lambda: pr.sample.sales_data(2_000),
    "sales_summary": lambda: pr.sample.sales_data(2_000),
    "sales_styled": lambda: pr.sample.sales_data(300),
    "shipping_labels": pr.sample.shipping_data,
    "sales_crosstab": lambda: pr.sample.sales_data(2_000),
}
MONEY = r"-?[\d,]+\.\d\d"


def render(name: str) -> pr.Document:
    return pr.load(ROOT / "examples" / f"{name}.yaml").render(GALLERY[name]())


@pytest.mark.parametrize("name", list(GALLERY))
def test_first_page_matches_the_reference(name: str) -> None:
    assert_matches_reference(render(name).png(ppi=PPI)[0], REFERENCES / f"{name}-page1.png")


def _money(text: str) -> Decimal:
    return Decimal(text.replace(",", "").replace("€", ""))


def test_statement_balances_page_by_page() -> None:
    data = pr.sample.statement_data()
    pages = pdf_pages(render("customer_statement").pdf)
    closing = dict(
        data.group_by("customer_no")
        .agg((pl.col("debit").fill_null(0).sum() - pl.col("credit").fill_null(0).sum()).alias("balance"))
        .iter_rows()
    )
    page_counts = data.group_by("customer_no").len()  # at least one page each
    assert len(pages) >= page_counts.height
    customer, last_balance, seen = None, Decimal(0), 0
    for number, text in enumerate(pages, start=1):
        numbering = re.search(r"Statement page (\d+) of (\d+)", text)
        assert numbering, f"page {number}"
        page, of = int(numbering.group(1)), int(numbering.group(2))
        found = re.search(r"Customer number\s*(C-\d+)", text)
        if page == 1:
            assert found, f"page {number}"
            customer, seen = found.group(1), 0
            assert "brought forward" not in text
        else:
            brought = re.search(rf"Balance brought forward ({MONEY})", text)
            assert brought, f"page {number}"
            assert _money(brought.group(1)) == last_balance
        seen += 1
        assert page == seen
        balances = [
            _money(m.group(1))
            for line in text.splitlines()
            if (m := re.match(rf"^\d\d \w{{3,4}} 2025 .* ({MONEY})$", line))
        ]
        last_balance = balances[-1]
        carried = re.search(rf"Balance carried forward ({MONEY})", text)
        if page < of:
            assert carried, f"page {number}"
            assert _money(carried.group(1)) == last_balance
        else:  # the statement's last page: the closing balance, nothing carried forward
            assert not carried
            assert customer is not None
            closing_line = re.search(rf"Closing balance\s*€({MONEY})", text)
            assert closing_line, f"page {number}"
            assert _money(closing_line.group(1)) == closing[customer] == last_balance


def test_ledger_page_totals_are_the_rows_on_each_page() -> None:
    data = pr.sample.sales_data(2_000).with_columns(
        amount=pl.col("quantity") * pl.col("unit_price").cast(pl.Float64) * (1 - pl.col("discount"))
    )
    amounts = dict(data.select("order_id", "amount").iter_rows())
    pages = pdf_pages(render("sales_ledger").pdf)
    running = 0.0
    for number, text in enumerate(pages, start=1):
        orders = [int(m.group(1)) for line in text.splitlines() if (m := re.match(r"^\d\d/\d\d/\d{4} (\d+) ", line))]
        if not orders:
            continue
        page_sum = sum(amounts[o] or 0.0 for o in orders)
        brought = re.search(rf"Brought forward ({MONEY})", text)
        if running:
            assert brought, f"page {number}"
            assert float(_money(brought.group(1))) == pytest.approx(running, abs=0.006)
        running += page_sum
        footer = re.search(rf"(\d+) rows Page total ({MONEY})", text)
        assert footer, f"page {number}"
        assert int(footer.group(1)) == len(orders)
        assert float(_money(footer.group(2))) == pytest.approx(page_sum, abs=0.006)
        carried = re.search(rf"Carried forward ({MONEY})", text)
        if number < len(pages):
            assert carried, f"page {number}"
            assert float(_money(carried.group(1))) == pytest.approx(running, abs=0.006)
    assert running == pytest.approx(data["amount"].sum(), abs=0.01)


def test_shipping_labels_decode_to_their_parcels() -> None:
    """Page 1 holds two columns of four labels; every code on it decodes to its parcel's data."""
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp (pip install zxing-cpp) decodes the codes")
    from PIL import Image

    data = pr.sample.shipping_data()
    doc = render("shipping_labels")
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(doc.png(ppi=300)[0])).convert("L"))
    by_format: dict[str, set[str]] = {}
    for code in found:
        by_format.setdefault(code.format.name, set()).add(code.text)
    first = data.head(8)  # 2 columns x 4 labels of 68 mm in 277 mm
    digits = first["ean"].to_list()
    check = [(10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(e)) % 10) % 10 for e in digits]
    assert by_format == {
        "Code128": set(first["parcel_id"]),
        "QRCode": set(first["tracking_url"]),
        "EAN13": {e + str(c) for e, c in zip(digits, check, strict=True)},
    }
    assert doc.page_count == -(-data.height // 8)


def test_crosstab_figures_are_polars_pivots() -> None:
    """Every figure of the regional crosstab (cells, each region's and each quarter's total, the
    grand total), read back from the PDF, equals Polars' pivot of the same rows."""
    data = GALLERY["sales_crosstab"]().with_columns(
        amount=pl.col("quantity") * pl.col("unit_price"),
        quarter=pl.format("Q{} {}", pl.col("order_date").dt.quarter(), pl.col("order_date").dt.year()),
    )
    pivot = data.pivot(on="quarter", index="region", values="amount", aggregate_function="sum").sort("region")
    quarters = [c for c in pivot.columns if c != "region"]
    text = "\n".join(pdf_pages(render("sales_crosstab").pdf))
    lines = [line.split() for line in text.splitlines()]
    header = next(words for words in lines if words and words[0] == "region")
    assert header[1:] == [word for q in sorted(quarters, key=lambda q: q[3:] + q[:2]) for word in q.split()] + ["All"]
    shown = sorted(quarters, key=lambda q: q[3:] + q[:2])
    rows = {
        words[0]: [_money(w) for w in words[1:]] for words in lines if words and words[0] in {*pivot["region"], "All"}
    }
    for row in pivot.iter_rows(named=True):
        expected = [row[q] for q in shown]
        assert rows[row["region"]] == [*expected, sum(expected)]
    assert rows["All"] == [*(pivot[q].sum() for q in shown), data["amount"].sum()]
