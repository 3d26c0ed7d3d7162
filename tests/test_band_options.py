"""Band and group options: print_when, page breaks before a band, a new page per group."""

from __future__ import annotations

import itertools

import polars as pl
import pytest

import polarreports as pr
from tests.conftest import chunk_count, one_piece_pdf, page_layouts, pdf_lines, pdf_pages


@pytest.mark.typst
def test_print_when_shows_a_detail_row_only_where_true(sales: pl.DataFrame) -> None:
    report = pr.Report(
        name="big orders",
        columns={"amount": "quantity * unit_price"},
        bands=pr.Bands(
            detail=pr.Band(print_when="amount > 20000", elements=[pr.Field(column="order_id", format="0")]),
        ),
    )
    lines = pdf_lines(report.render(sales).pdf)
    big = sales.filter(pl.col("quantity") * pl.col("unit_price") > 20000)
    assert sorted(int(line) for line in lines) == sorted(big["order_id"].to_list())


@pytest.mark.typst
def test_print_when_on_group_and_report_bands(sales: pl.DataFrame) -> None:
    report = pr.Report(
        name="r",
        groups=[
            pr.Group(
                name="region",
                footer=pr.Band(
                    print_when="orders > 400", elements=[pr.Field(column="region"), pr.Aggregate(variable="orders")]
                ),
            )
        ],
        variables=[pr.Variable(name="orders", calculation="count")],
        bands=pr.Bands(
            title=pr.Band(print_when="orders < 0", elements=[pr.Label(text="never shown")]),
            summary=pr.Band(
                print_when="orders > 0", elements=[pr.Label(text="shown"), pr.Aggregate(variable="orders")]
            ),
        ),
    )
    lines = pdf_lines(report.render(sales).pdf)
    counts = sales.group_by("region").len()
    expected = {f"{region} {n:,}" for region, n in counts.iter_rows() if n > 400}
    assert {line for line in lines if line.split(" ")[0] in set(sales["region"])} == expected
    assert "never shown" not in lines
    assert f"shown {sales.height:,}" in lines


def test_print_when_must_be_true_or_false(sales: pl.DataFrame) -> None:
    report = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(print_when="quantity * 2", elements=[])))
    with pytest.raises(pr.PlanError, match=r"bands\.detail\.print_when: must be true or false, but gives Int32"):
        report.render(sales)


def new_page_report(*, with_header: bool) -> pr.Report:
    header = pr.Band(elements=[pr.Field(column="region", bold=True)]) if with_header else None
    return pr.Report(
        name="pages",
        groups=[pr.Group(name="region", new_page=True, header=header)],
        bands=pr.Bands(
            detail=pr.Band(elements=[pr.Field(column="region"), pr.Field(column="order_id", format="0")]),
            page_footer=pr.Band(elements=[pr.PageNumber()]),
        ),
    )


@pytest.mark.typst
@pytest.mark.parametrize("with_header", [True, False])
def test_every_group_starts_a_new_page(sales: pl.DataFrame, with_header: bool) -> None:
    pages = pdf_pages(new_page_report(with_header=with_header).render(sales.head(400)).pdf)
    regions_per_page = [{line.split(" ")[0] for line in page.splitlines()[:-1]} for page in pages]
    assert all(len(regions) == 1 for regions in regions_per_page)
    starts = [regions_per_page[0]] + [b for a, b in itertools.pairwise(regions_per_page) if a != b]
    assert len(starts) == sales.head(400)["region"].n_unique()


@pytest.mark.typst
@pytest.mark.usefixtures("small_chunks")
def test_page_breaks_are_predicted_for_chunks(sales: pl.DataFrame) -> None:
    document = new_page_report(with_header=True).render(pr.sample.sales_data(600))
    _ = document.pdf
    assert chunk_count(document) >= 3
    assert page_layouts(document.pdf) == page_layouts(one_piece_pdf(document))


@pytest.mark.typst
def test_element_print_when_shows_the_element_only_where_true(sales: pl.DataFrame) -> None:
    data = sales.head(200)
    report = pr.Report(
        name="flags",
        bands=pr.Bands(
            detail=pr.Band(
                elements=[
                    pr.Field(column="order_id", format="0", width="15%"),
                    pr.Label(text="DISCOUNT", print_when="discount > 0", width="20%"),
                    pr.Field(column="customer", width="65%"),
                ]
            ),
        ),
    )
    lines = pdf_lines(report.render(data).pdf)
    flagged = {int(line.split(" ")[0]) for line in lines if "DISCOUNT" in line}
    expected = set(data.filter(pl.col("discount") > 0)["order_id"].to_list())
    assert flagged == expected
    assert 0 < len(expected) < data.height
    # the customer stays in its column whether or not the flag shows
    customers = [line.split(" ", 1)[1].removeprefix("DISCOUNT ") for line in lines]
    assert customers == data["customer"].to_list()


def test_element_print_when_must_be_true_or_false(sales: pl.DataFrame) -> None:
    report = pr.Report(
        name="r", bands=pr.Bands(detail=pr.Band(elements=[pr.Label(text="x", print_when="quantity + 1")]))
    )
    with pytest.raises(
        pr.PlanError, match=r"elements\[0\] \(label 'x'\)\.print_when: must be true or false, but gives"
    ):
        pr.validate(report, sales)
