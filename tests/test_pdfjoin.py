"""The streaming PDF join: chunk PDFs in, one valid PDF out, holding one chunk at a time."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import pikepdf
import polars as pl
import pypdf
import pytest

import polarreports as pr
from polarreports.typeset.pdfjoin import PdfJoin, PdfStructureError, outline_entries
from tests.conftest import chunk_count, one_piece_pdf, page_layouts, pdf_pages

TRICKY_TITLE = r"Q1 0 R (1 0 R) \ stream"  # a reference, parentheses and a keyword inside a string


@pytest.fixture(scope="module")
def chunks() -> list[bytes]:
    """Three small Typst PDFs: the example report over three slices of the sample data, with
    bookmarks and a title that looks like PDF syntax."""
    report = pr.load("examples/sales_by_region.yaml").model_copy(update={"outline": True, "title": TRICKY_TITLE})
    data = pr.sample.sales_data(300)
    pieces = []
    for i in range(3):
        document = report.render(data.slice(100 * i, 100))
        pieces.append(one_piece_pdf(document))
    return pieces


def join(chunks: list[bytes], target: Path, levels: list[list[int]] | None = None) -> bytes:
    with PdfJoin(target) as joined:
        for i, chunk in enumerate(chunks):
            joined.add(chunk, levels[i] if levels else ())
    return target.read_bytes()


@pytest.mark.typst
def test_joined_pages_are_the_chunks_pages_in_order(chunks: list[bytes], tmp_path: Path) -> None:
    joined = join(chunks, tmp_path / "joined.pdf")
    assert page_layouts(joined) == [page for chunk in chunks for page in page_layouts(chunk)]


@pytest.mark.typst
def test_joined_pdf_is_valid_and_keeps_the_document_information(chunks: list[bytes], tmp_path: Path) -> None:
    joined = join(chunks, tmp_path / "joined.pdf")
    reader = pypdf.PdfReader(io.BytesIO(joined), strict=True)
    assert reader.metadata is not None
    assert reader.metadata.title == TRICKY_TITLE  # the string was copied untouched
    with pikepdf.open(io.BytesIO(joined)) as pdf:
        assert pdf.check_pdf_syntax() == []
        assert str(pdf.Root.Lang) == "en"


def entries(chunk: bytes) -> list[tuple[int, str]]:
    """A chunk's own bookmarks: (depth, title) in document order."""
    with pikepdf.open(io.BytesIO(chunk)) as pdf, pdf.open_outline() as outline:
        return [(depth, str(item.title)) for depth, item in outline_entries(outline.root)]


@pytest.mark.typst
def test_bookmarks_nest_by_the_given_levels(chunks: list[bytes], tmp_path: Path) -> None:
    own = [entries(chunk) for chunk in chunks]
    assert all(any(depth == 2 for depth, _ in chunk) for chunk in own)  # regions, then customers
    flat = [[1] * len(chunk) for chunk in own]  # the levels say: no nesting
    reader = pypdf.PdfReader(io.BytesIO(join(chunks, tmp_path / "joined.pdf", flat)))
    assert [item["/Title"] for item in reader.outline] == [title for chunk in own for _, title in chunk]
    starts = [0, len(pdf_pages(chunks[0])), len(pdf_pages(chunks[0])) + len(pdf_pages(chunks[1]))]
    firsts = [sum(len(chunk) for chunk in own[:i]) for i in range(3)]
    assert [reader.get_destination_page_number(reader.outline[i]) for i in firsts] == starts


@pytest.mark.typst
def test_without_levels_each_chunk_keeps_its_own_nesting(chunks: list[bytes], tmp_path: Path) -> None:
    reader = pypdf.PdfReader(io.BytesIO(join(chunks, tmp_path / "joined.pdf")))
    regions = [item for item in reader.outline if not isinstance(item, list)]
    assert len(regions) == sum(depth == 1 for chunk in chunks for depth, _ in entries(chunk))


@pytest.mark.typst
def test_same_chunks_give_the_same_bytes(chunks: list[bytes], tmp_path: Path) -> None:
    assert join(chunks, tmp_path / "a.pdf") == join(chunks, tmp_path / "b.pdf")


@pytest.mark.typst
def test_memory_holds_one_chunk_not_the_document(tmp_path: Path) -> None:
    """Joining 60 chunks takes a small part of the document's size in memory (Python
    allocations: an offset per object; bookmarks, one per group, would add a little)."""
    document = pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(300))
    chunk = one_piece_pdf(document)
    tracemalloc.start()
    with PdfJoin(tmp_path / "long.pdf") as joined:
        for _ in range(60):
            joined.add(chunk)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = (tmp_path / "long.pdf").stat().st_size
    assert len(pypdf.PdfReader(tmp_path / "long.pdf").pages) == 60 * len(pdf_pages(chunk))
    assert peak < 3 * len(chunk) + size / 20, (peak, len(chunk), size)


def test_a_pdf_not_written_by_typst_is_refused(tmp_path: Path) -> None:
    with PdfJoin(tmp_path / "x.pdf") as joined, pytest.raises(PdfStructureError):
        joined.add(b"%PDF-1.7\nnot a pdf\n")


@pytest.mark.typst
def test_a_failed_join_leaves_the_file_unfinished(chunks: list[bytes], tmp_path: Path) -> None:
    """Nothing ends the file when the block fails (the caller removes it): no valid PDF is
    mistaken for the whole document."""
    target = tmp_path / "x.pdf"

    def fail_after_one_chunk() -> None:
        with PdfJoin(target) as joined:
            joined.add(chunks[0])
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_after_one_chunk()
    with pytest.raises(pypdf.errors.PdfReadError):
        pypdf.PdfReader(target, strict=True).pages[0].extract_text()


@pytest.mark.typst
@pytest.mark.usefixtures("small_chunks")
def test_long_report_saves_from_its_joined_file(tmp_path: Path) -> None:
    document = pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(600))
    target = tmp_path / "out" / "report.pdf"
    document.save(target)
    assert chunk_count(document) >= 3
    assert target.read_bytes() == document.pdf
    assert document.page_count == len(pypdf.PdfReader(target).pages)
    assert pl.Series(pdf_pages(document.pdf)).str.contains("Page 1 of").any()
