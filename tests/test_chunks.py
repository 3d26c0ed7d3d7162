"""Long reports are typeset in page-aligned chunks in parallel; the result is what one piece gives."""

from __future__ import annotations

import polars as pl
import pytest

import polarreports as pr
from polarreports.typeset.compile import compile_document
from polarreports.typeset.paginate import paginate
from tests.conftest import chunk_count, chunking_small, pdf_pages


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
    one_piece = compile_document(long_document._source, long_document.data_json)[0]
    assert pdf_pages(long_document.pdf) == pdf_pages(one_piece)


@pytest.mark.typst
@pytest.mark.usefixtures("small_chunks")
def test_chunked_output_is_byte_identical(example: pr.Report, long_document: pr.Document) -> None:
    again = example.render(pr.sample.sales_data(600))
    assert again.pdf == long_document.pdf


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
