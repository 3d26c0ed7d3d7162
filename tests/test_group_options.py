"""Group and band options that decide where pages break: "(continued)" headers, keep-together,
minimum space, footers at the page bottom, title and summary pages, last-page footer, watermark."""

from __future__ import annotations

import io

import polars as pl
import pytest
from pypdf import PdfReader

import polarreports as pr
from polarreports.typeset.compile import compile_document
from polarreports.typeset.predict import with_needs
from polarreports.typeset.run import TypesetRun
from tests.conftest import page_layouts, pdf_pages


def listing(group: pr.Group, **bands: pr.Band) -> pr.Report:
    return pr.Report(
        name="listing",
        title="Orders",
        groups=[group],
        variables=[pr.Variable(name="orders", calculation="count")],
        bands=pr.Bands(
            detail=pr.Band(
                elements=[pr.Expression(expr="'#' || CAST(order_id AS VARCHAR)"), pr.Field(column="country")]
            ),
            page_footer=pr.Band(elements=[pr.PageNumber()]),
            **bands,
        ),
    )


def header(name: str = "region") -> pr.Band:
    return pr.Band(elements=[pr.Label(text="Group", width="15%"), pr.Field(column=name, bold=True)])


def footer() -> pr.Band:
    return pr.Band(elements=[pr.Label(text="Orders in group"), pr.Aggregate(variable="orders")])


def page_orders(text: str) -> list[int]:
    return [int(line.strip()[1:].split(" ")[0]) for line in text.splitlines() if line.strip().startswith("#")]


def y_positions(pdf: bytes, needle: str) -> list[tuple[int, float]]:
    """(page, y from the top in points) of every text run containing ``needle``."""
    found: list[tuple[int, float]] = []
    for number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages, start=1):
        height = float(page.mediabox.height)

        def visit(text: str, cm: list[float], tm: list[float], _font: object, _size: object, n: int = number) -> None:
            if needle in text:
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]  # the text's origin on the page
                found.append((n, height - y))  # noqa: B023 (height is the page's, visited now)

        page.extract_text(visitor_text=visit)
    return found


@pytest.mark.typst
def test_group_header_is_printed_again_on_continuation_pages(sales: pl.DataFrame) -> None:
    data = sales.head(600)
    group = pr.Group(name="region", header=header(), footer=footer(), reprint_header=True)
    pages = pdf_pages(listing(group).render(data).pdf)
    region_of = dict(data.select("order_id", "region").iter_rows())
    continued = 0
    for number, text in enumerate(pages[1:], start=2):
        first = region_of[page_orders(text)[0]]
        starts_here = f"Group {first}\n" in text.split("#", 1)[0] and "(continued)" not in text.split("#", 1)[0]
        if starts_here:
            assert "(continued)" not in text, f"page {number}"
        else:
            assert f"Group {first} (continued)" in text, f"page {number}"
            continued += 1
    assert continued >= 3


@pytest.mark.typst
def test_continued_headers_and_keep_together_in_chunks() -> None:
    data = pr.sample.sales_data(6_000)
    group = pr.Group(name="country", header=header("country"), footer=footer(), reprint_header=True, keep_together=True)
    report = listing(group, title=pr.Band(page_break_after=True, elements=[pr.Label(text="Title page")]))
    document = report.render(data)
    chunked = document.pdf
    assert "chunks in" in document.stats["typeset"]
    run, _ = with_needs(TypesetRun(document._source, document._data))
    one_piece = compile_document(document._source, run.data.json())[0]
    assert page_layouts(chunked) == page_layouts(one_piece)


@pytest.mark.typst
def test_keep_together_moves_a_group_that_fits_to_the_next_page(sales: pl.DataFrame) -> None:
    data = sales.head(700)
    group = pr.Group(name="country", header=header("country"), footer=footer(), keep_together=True)
    pages = pdf_pages(listing(group).render(data).pdf)
    country_of = dict(data.select("order_id", "country").iter_rows())
    page_of = {order: n for n, text in enumerate(pages) for order in page_orders(text)}
    spread = (
        pl.DataFrame({"country": [country_of[o] for o in page_of], "page": list(page_of.values())})
        .group_by("country")
        .agg(pl.col("page").n_unique())
    )
    body_rows = max(len(page_orders(text)) for text in pages)
    sizes = dict(data.group_by("country").len().iter_rows())
    for country, page_count in spread.iter_rows():
        if sizes[country] + 2 < body_rows:  # fits on a page with its header and footer
            assert page_count == 1, country
    without = pdf_pages(listing(group.model_copy(update={"keep_together": False})).render(data).pdf)
    assert len(without) < len(pages)  # it did move groups


@pytest.mark.typst
def test_min_space_starts_a_group_on_a_new_page(sales: pl.DataFrame) -> None:
    data = sales.head(400)
    group = pr.Group(name="country", header=header("country"), min_space="60mm")
    pdf = listing(group).render(data).pdf
    page_height = 297 / 25.4 * 72
    bottom_margin_top = page_height - 15 / 25.4 * 72 - 20  # the page footer's area starts above
    starts = y_positions(pdf, "Group")
    assert len(starts) == data["country"].n_unique()
    for page, y in starts:
        assert bottom_margin_top - y >= 60 / 25.4 * 72 - 12, (page, y)


@pytest.mark.typst
def test_group_footer_at_the_page_bottom(sales: pl.DataFrame) -> None:
    data = sales.head(120)
    group = pr.Group(name="region", header=header(), footer=footer(), footer_position="page_bottom")
    pdf = listing(group).render(data).pdf
    footers = y_positions(pdf, "Orders in group")
    assert [page for page, _ in footers] == list(range(1, data["region"].n_unique() + 1))
    page_height = 297 / 25.4 * 72
    assert all(page_height - y < 100 for _, y in footers)  # just above the page footer


@pytest.mark.typst
def test_title_and_summary_on_pages_of_their_own(sales: pl.DataFrame) -> None:
    report = listing(
        pr.Group(name="region", header=header()),
        title=pr.Band(page_break_after=True, elements=[pr.Label(text="Annual orders")]),
        summary=pr.Band(
            page_break_before=True, elements=[pr.Label(text="Total orders"), pr.Aggregate(variable="orders")]
        ),
    )
    pages = pdf_pages(report.render(sales.head(300)).pdf)
    assert "Annual orders" in pages[0]
    assert "#" not in pages[0]
    assert page_orders(pages[1])
    assert "Total orders 300" in pages[-1]
    assert not page_orders(pages[-1])


@pytest.mark.typst
def test_last_page_footer_and_watermark(sales: pl.DataFrame) -> None:
    report = listing(
        pr.Group(name="region", header=header()),
        last_page_footer=pr.Band(elements=[pr.Label(text="End of report"), pr.PageNumber()]),
        background=pr.Band(elements=[pr.Label(text="DRAFT", size=90, color="#e6e6e6", align="center")]),
    )
    pages = pdf_pages(report.render(sales.head(300)).pdf)
    assert len(pages) > 2
    assert all("DRAFT" in text for text in pages)
    assert [("End of report" in text) for text in pages] == [False] * (len(pages) - 1) + [True]
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]
    assert all(f"Page {n} of {len(pages)}" in text for n, text in enumerate(pages[:-1], start=1))


def test_page_bands_cannot_break_pages(sales: pl.DataFrame) -> None:
    report = listing(pr.Group(name="region"), page_header=pr.Band(page_break_after=True))
    with pytest.raises(pr.PlanError, match="page_break_after: the page header is printed on every page"):
        pr.validate(report, sales)


def test_group_options_round_trip_through_yaml() -> None:
    group = pr.Group(
        name="region",
        reprint_header=True,
        continued_text="(suite)",
        keep_together=True,
        min_space="30mm",
        footer_position="page_bottom",
    )
    report = listing(group, title=pr.Band(page_break_after=True, keep_together=True))
    assert pr.Report.from_yaml(report.to_yaml()) == report
    schema = pr.Report.json_schema()
    assert "reprint_header" in str(schema)
