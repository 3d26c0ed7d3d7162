"""Long reports are typeset in page-aligned chunks in parallel; the result is what one piece gives."""

from __future__ import annotations

import polars as pl
import pytest

import polarreports as pr
from polarreports.typeset import probe
from polarreports.typeset.paginate import paginate
from tests.conftest import chunk_count, chunking_small, one_piece_pdf, page_layouts, pdf_pages


@pytest.fixture(scope="module")
def long_document(example: pr.Report) -> pr.Document:
    with chunking_small():
        document = example.render(pr.sample.sales_data(600))
        _ = document.pdf
    return document


@pytest.mark.typst
def test_long_report_is_typeset_in_chunks(long_document: pr.Document) -> None:
    assert chunk_count(long_document) >= 3
    assert long_document.page_count == long_document.stats["pages_predicted"]


@pytest.mark.typst
def test_chunked_pages_equal_the_one_piece_pages(long_document: pr.Document) -> None:
    one_piece = one_piece_pdf(long_document)
    assert page_layouts(long_document.pdf) == page_layouts(one_piece)


@pytest.mark.typst
@pytest.mark.usefixtures("small_chunks")
def test_chunked_output_is_byte_identical(example: pr.Report, long_document: pr.Document) -> None:
    again = example.render(pr.sample.sales_data(600))
    assert again.pdf == long_document.pdf
    one_worker = example.render(pr.sample.sales_data(600), workers=1)  # its chunks one at a time
    assert page_layouts(one_worker.pdf) == page_layouts(long_document.pdf)
    assert one_worker.stats["typeset"].endswith(" chunks in 1 worker process")


@pytest.mark.typst
def test_page_numbers_run_on_across_chunks(long_document: pr.Document) -> None:
    pages = pdf_pages(long_document.pdf)
    assert [page.splitlines()[-1].rsplit("Page ", 1)[1] for page in pages] == [
        f"{n} of {len(pages)}" for n in range(1, len(pages) + 1)
    ]


@pytest.mark.typst
@pytest.mark.usefixtures("small_chunks")
def test_a_wrapping_text_falls_back_to_one_piece(sales: pl.DataFrame) -> None:
    report = pr.Report(
        name="wrap",
        bands=pr.Bands(
            detail=pr.Band(elements=[pr.Field(column="customer", width="8mm"), pr.Field(column="order_id")])
        ),
    )
    document = report.render(pr.sample.sales_data(500))
    _ = document.pdf
    assert document.stats["typeset"].startswith("one piece (band heights vary")


def test_paginate_keeps_group_headers_with_what_follows() -> None:
    # kinds: 0 = row (10pt), 1 = sticky header (10pt); a page holds 3 bands
    kinds = [1, 0, 0, 1, 0, 0]
    pages = paginate(kinds, heights=[10.0, 10.0], spacing=[0.0, 0.0], sticky=[False, True], body=30.0)
    assert pages.starts == [0, 3]  # the header at index 3 moves to page 2 with its row


def test_paginate_counts_the_space_after_bands_and_a_summary_page() -> None:
    pages = paginate([0, 0, 0], heights=[10.0], spacing=[5.0], sticky=[False], body=25.0, summary=10.0)
    assert pages.starts == [0, 2]  # 10 + 5 + 10 = 25 fits, a third band does not
    assert pages.summary_page is False  # page 2: 10 + 5 + 10 = 25
    pages = paginate([0, 0, 0], heights=[10.0], spacing=[5.0], sticky=[False], body=25.0, summary=11.0)
    assert pages.summary_page is True
    assert pages.total == 3


def test_paginate_leaves_room_for_the_title_on_page_one() -> None:
    pages = paginate([0] * 6, heights=[10.0], spacing=[0.0], sticky=[False], body=30.0, first_page_used=20.0)
    assert pages.starts == [0, 1, 4]


def tall_band_report() -> pr.Report:
    """Detail rows that may break across pages (``split: allow``), in groups, numbered pages."""
    return pr.Report(
        name="tall",
        groups=[pr.Group(name="region", header=pr.Band(elements=[pr.Field(column="region", bold=True)]))],
        bands=pr.Bands(
            title=pr.Band(elements=[pr.Label(text="Notes", size=16)]),
            detail=pr.Band(
                split="allow", elements=[pr.Field(column="id", format="0", width="12mm"), pr.Field(column="note")]
            ),
            page_footer=pr.Band(elements=[pr.PageNumber(align="right")]),
            summary=pr.Band(elements=[pr.Label(text="End of notes")]),
        ),
    )


def tall_band_rows(tall_rows: tuple[int, ...]) -> pl.DataFrame:
    """400 rows in two regions; the rows numbered ``tall_rows`` have a note of about 3 pages."""
    long_note = " ".join(f"word{i}" for i in range(2_500))
    return pl.DataFrame({"id": range(1, 401), "region": ["East"] * 180 + ["West"] * 220}).with_columns(
        note=pl.when(pl.col("id").is_in(tall_rows)).then(pl.lit(long_note)).otherwise(pl.lit("short"))
    )


@pytest.mark.typst
@pytest.mark.usefixtures("small_chunks")
def test_bands_taller_than_a_page_are_typeset_in_chunks() -> None:
    """Where a band breaks across pages, a probe finds where it ends: the chunks come out as one
    piece does (this used to fall back: "chunk 1 took 9 pages, 2 were predicted"). Tall bands
    first, last, alone, and one beginning on the page where another ended."""
    document = tall_band_report().render(tall_band_rows((1, 150, 153, 400)))
    pdf = document.pdf
    assert chunk_count(document) >= 2, document.stats["typeset"]
    one_piece = one_piece_pdf(document)
    pages = page_layouts(pdf)
    assert pages == page_layouts(one_piece)
    assert len(pages) == document.stats["pages_predicted"] > 8
    assert pages[-1].count("End of notes") == 1


@pytest.mark.typst
@pytest.mark.usefixtures("small_chunks")
def test_too_many_tall_bands_to_probe_go_to_one_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    """Probing stops past ``PROBE_PAGES`` pages: the report is typeset in one piece, and says why."""
    monkeypatch.setattr(probe, "PROBE_PAGES", 5)
    document = tall_band_report().render(tall_band_rows((1, 150, 153, 400)))
    assert document.page_count > 8
    assert document.stats["typeset"].startswith("one piece (band heights vary")
    assert "break across pages" in document.stats["typeset"]


@pytest.mark.typst
@pytest.mark.usefixtures("small_chunks")
def test_a_crosstab_in_each_group_footer_is_typeset_in_chunks() -> None:
    """Each customer's crosstab (one row per order: it breaks across pages) is probed like a
    tall band: the report is typeset in chunks (it used to be one piece: "band heights vary"),
    with the pages and figures of one piece."""
    sales = pr.sample.sales_data(6_000)
    sales = sales.filter(pl.col("customer").is_in(sales["customer"].unique().sort().to_list()[:4]))
    crosstab = pr.Crosstab(rows=["order_id"], columns=["category"], measures={"units": "sum(quantity)"})
    report = pr.Report(
        name="per customer",
        sort=["order_id"],
        groups=[
            pr.Group(
                name="customer",
                header=pr.Band(elements=[pr.Field(column="customer")]),
                footer=pr.Band(elements=[crosstab]),
            )
        ],
        bands=pr.Bands(
            detail=pr.Band(elements=[pr.Field(column="order_id"), pr.Field(column="quantity")]),
            page_footer=pr.Band(elements=[pr.PageNumber()]),
        ),
    )
    document = report.render(sales)
    pages = page_layouts(document.pdf)
    assert chunk_count(document) >= 2, document.stats["typeset"]
    assert pages == page_layouts(one_piece_pdf(document))
    assert len(pages) == document.stats["pages_predicted"] > 8
