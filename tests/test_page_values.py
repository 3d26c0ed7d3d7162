"""Values per page: page subtotals, rows per page, brought and carried forward totals, and page
numbers within a group, read back from the PDF and checked against the rows on each page."""

from __future__ import annotations

import re
from decimal import Decimal

import polars as pl
import pytest

import polarreports as pr
from tests.conftest import chunk_count, pdf_pages

DETAIL = re.compile(r"^#(\d+) ")
NUMBER = r"(-?[\d,]+\.\d\d)"


def ledger(*, detail_extra: list[pr.Element] | None = None, reset: str = "report", **group: object) -> pr.Report:
    return pr.Report(
        name="ledger",
        title="Ledger",
        groups=[pr.Group(name="region", header=pr.Band(elements=[pr.Field(column="region", bold=True)]), **group)],
        variables=[
            pr.Variable(name="total", calculation="sum", expression="amount", reset=reset),
            pr.Variable(name="rows", calculation="count"),
        ],
        bands=pr.Bands(
            page_header=pr.Band(
                elements=[
                    pr.Label(text="Brought forward", width="60%"),
                    pr.Aggregate(variable="total", show="brought_forward", format="#,##0.00"),
                ]
            ),
            detail=pr.Band(
                elements=[
                    pr.Expression(expr="'#' || CAST(order_id AS VARCHAR)", width="15%"),
                    pr.Field(column="customer", width="45%"),
                    *(detail_extra or []),
                    pr.Field(column="amount", format="#,##0.00"),
                ]
            ),
            page_footer=pr.Band(
                elements=[
                    pr.Label(text="Rows"),
                    pr.Aggregate(variable="rows", show="page"),
                    pr.Label(text="Page total"),
                    pr.Aggregate(variable="total", show="page", format="#,##0.00"),
                    pr.Label(text="Carried forward"),
                    pr.Aggregate(variable="total", show="carried_forward", format="#,##0.00"),
                ]
            ),
        ),
    )


def ledger_data(rows: int) -> pl.DataFrame:
    return pr.sample.sales_data(rows).with_columns(amount=pl.col("quantity") * pl.col("unit_price"))


def first_order(page_text: str) -> int:
    return next(int(m.group(1)) for line in page_text.splitlines() if (m := DETAIL.match(line.strip())))


def _money(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def check_pages(pdf: bytes, data: pl.DataFrame, *, reset_by: str | None = None) -> int:
    """Every page's printed values against the rows printed on it; returns the page count."""
    amounts = dict(data.select("order_id", "amount").iter_rows())
    groups = dict(data.select("order_id", reset_by).iter_rows()) if reset_by else {}
    running: dict[object, Decimal] = {}
    pages = pdf_pages(pdf)
    ids_per_page = [
        [int(m.group(1)) for line in text.splitlines() if (m := DETAIL.match(line.strip()))] for text in pages
    ]
    for number, (text, ids) in enumerate(zip(pages, ids_per_page, strict=True), start=1):
        brought = re.search(rf"Brought forward {NUMBER}", text)
        nothing_brought = re.search(r"Brought forward\n", text + "\n")
        footer = re.search(rf"Rows (\d+) Page total {NUMBER} Carried forward ?{NUMBER}?", text)
        assert brought or nothing_brought, f"page {number}: {text[:300]}"
        assert footer, f"page {number}: {text[-300:]}"
        key = groups.get(ids[0]) if ids else None
        if brought:
            assert _money(brought.group(1)) == running.get(key, Decimal(0)), f"page {number}"
        else:  # the first page of the report, or of the group the total restarts in
            assert key not in running, f"page {number}"
        assert int(footer.group(1)) == len(ids), f"page {number}"
        assert _money(footer.group(2)) == sum((amounts[i] for i in ids), Decimal(0)), f"page {number}"
        for i in ids:
            group_key = groups.get(i)
            running[group_key] = running.get(group_key, Decimal(0)) + amounts[i]
        last_key = groups.get(ids[-1]) if ids else key
        later = [i for page_ids in ids_per_page[number:] for i in page_ids[:1]]
        goes_on = bool(later) and groups.get(later[0]) == last_key
        if goes_on:
            assert footer.group(3) is not None, f"page {number}"
            assert _money(footer.group(3)) == running.get(last_key, Decimal(0)), f"page {number}"
        else:  # the last page of the report, or of the group the total restarts in
            assert footer.group(3) is None, f"page {number}"
    return len(pages)


@pytest.mark.typst
def test_page_totals_brought_and_carried_forward_match_the_rows_on_each_page() -> None:
    data = ledger_data(400)
    document = ledger().render(data)
    pages = check_pages(document.pdf, data)
    assert pages >= 4
    assert document.stats["typeset"] == "one piece"


@pytest.mark.typst
@pytest.mark.usefixtures("small_chunks")
def test_page_values_in_a_long_report_typeset_in_chunks() -> None:
    data = ledger_data(600)
    document = ledger().render(data)
    pages = check_pages(document.pdf, data)
    assert chunk_count(document) >= 3
    assert pages == document.page_count > 6


@pytest.mark.typst
def test_page_values_when_wrapped_text_defeats_the_prediction() -> None:
    data = ledger_data(200).with_columns(
        note=pl.when(pl.col("order_id") % 7 == 0).then(pl.lit("a note long enough to wrap " * 4)).otherwise(pl.lit(""))
    )
    document = ledger(detail_extra=[pr.Field(column="note", width="25%", size=6)]).render(data)
    check_pages(document.pdf, data)
    assert "two passes" in document.stats["typeset"]


@pytest.mark.typst
def test_running_totals_restart_with_their_group() -> None:
    data = ledger_data(600)
    document = ledger(reset="region", new_page=True).render(data)
    check_pages(document.pdf, data, reset_by="region")


@pytest.mark.typst
def test_page_numbers_within_a_group() -> None:
    data = ledger_data(900)
    report = ledger(new_page=True)
    footer = report.bands.page_footer
    assert footer is not None
    numbered = footer.model_copy(
        update={"elements": [*footer.elements, pr.PageNumber(text="Sheet {page} of {pages}", group="region")]}
    )
    report = report.model_copy(update={"bands": report.bands.model_copy(update={"page_footer": numbered})})
    pages = pdf_pages(report.render(data).pdf)
    region_of = dict(data.select("order_id", "region").iter_rows())
    page_regions = [region_of[first_order(text)] for text in pages]
    expected = pl.DataFrame({"region": page_regions}).select(
        pl.int_range(1, pl.len() + 1).over("region"), pl.len().over("region").alias("of")
    )
    found = [tuple(map(int, m.groups())) for text in pages if (m := re.search(r"Sheet (\d+) of (\d+)", text))]
    assert found == list(expected.iter_rows())
    assert len(set(page_regions)) > 1
    assert max(of for _, of in found) > 1


@pytest.mark.parametrize(
    ("band", "element", "message"),
    [
        ("detail", pr.Aggregate(variable="total", show="page"), "is a value per page"),
        ("summary", pr.Aggregate(variable="total", show="carried_forward"), "is a value per page"),
        ("summary", pr.PageNumber(group="region"), "page numbers within a group"),
        ("page_footer", pr.PageNumber(group="regoin"), "unknown group 'regoin'; did you mean 'region'?"),
        ("page_footer", pr.Aggregate(variable="totl", show="page"), "unknown variable 'totl'; did you mean 'total'?"),
    ],
)
def test_values_per_page_only_where_pages_are(band: str, element: pr.Element, message: str) -> None:
    report = ledger()
    bands = report.bands.model_copy(update={band: pr.Band(elements=[element])})
    with pytest.raises(pr.PlanError, match=re.escape(message)):
        pr.validate(report.model_copy(update={"bands": bands}), ledger_data(10))


def test_values_per_page_round_trip_through_yaml() -> None:
    report = ledger(new_page=True)
    again = pr.Report.from_yaml(report.to_yaml())
    assert again == report
    assert "carried_forward" in report.to_yaml()
