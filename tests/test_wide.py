"""Wide listings continued on more pages (``page.wide: continue``): each panel repeats the key
column, the panels break pages alike, and their pages interleave."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pikepdf
import polars as pl
import pytest

import polarreports as pr
from polarreports.typeset.pdfjoin import PdfJoin
from tests.conftest import chunking_small, pdf_pages, qpdf_check
from tests.tagging import content, reading, structure_problems

COLUMNS = [
    ("order_id", "Order", "16mm", "0"),
    ("order_date", "Date", "24mm", "yyyy-MM-dd"),
    ("country", "Country", "28mm", None),
    ("customer", "Customer", "48mm", None),
    ("product", "Product", "36mm", None),
    ("category", "Category", "26mm", None),
    ("quantity", "Qty", "16mm", None),
    ("unit_price", "Unit price", "24mm", "#,##0.00"),
    ("discount", "Discount", "20mm", "0%"),
]


def wide_report(**page: object) -> pr.Report:
    return pr.Report(
        name="wide",
        page=pr.PageSetup(wide="continue", **page),
        groups=[pr.Group(name="region", header=pr.Band(elements=[pr.Field(column="region", bold=True)]))],
        bands=pr.Bands(
            title=pr.Band(elements=[pr.Label(text="Every column", bold=True, size=14)]),
            column_header=pr.Band(elements=[pr.Label(text=label, width=width) for _, label, width, _ in COLUMNS]),
            detail=pr.Band(elements=[pr.Field(column=c, width=w, format=f) for c, _, w, f in COLUMNS]),
            page_footer=pr.Band(elements=[pr.PageNumber()]),
        ),
    )


def orders(text: str) -> list[int]:
    return [int(m.group(1)) for line in text.splitlines() if (m := re.match(r"^(\d+) ", line.strip()))]


@pytest.mark.typst
def test_panels_repeat_the_key_column_and_interleave(sales: pl.DataFrame) -> None:
    data = sales.head(300)
    document = wide_report().render(data)
    pages = pdf_pages(document.pdf)
    assert document.stats["typeset"].startswith("2 panels, interleaved")
    assert len(pages) % 2 == 0
    by_id = {row["order_id"]: row for row in data.iter_rows(named=True)}
    for left, right in zip(pages[::2], pages[1::2], strict=True):
        assert orders(left) == orders(right)  # the same rows, the key column repeated
        assert "Customer" in left
        assert "Unit price" not in left
        assert "Unit price" in right
        assert "Customer" not in right
        for order in orders(left)[:5]:
            assert by_id[order]["customer"] in left
            assert f"{by_id[order]['unit_price']:,.2f}" in right
    seen = [order for page in pages[::2] for order in orders(page)]
    assert sorted(seen) == sorted(data["order_id"].to_list())
    assert [f"Page {n} of {len(pages)}" in page for n, page in enumerate(pages, start=1)] == [True] * len(pages)


@pytest.mark.typst
def test_more_key_columns_and_three_panels(sales: pl.DataFrame) -> None:
    document = wide_report(repeat_columns=2, orientation="portrait", size="a5").render(sales.head(60))
    pages = pdf_pages(document.pdf)
    panels = int(document.stats["typeset"].split(" ")[0])
    assert panels >= 3
    assert "interleaved" in document.stats["typeset"]
    first = pages[:panels]
    dates = [re.findall(r"\d{4}-\d\d-\d\d", page)[:3] for page in first]
    assert all(d == dates[0] for d in dates)  # the two key columns on every panel


@pytest.mark.typst
def test_panels_that_break_differently_follow_one_another(sales: pl.DataFrame) -> None:
    data = sales.head(120).with_columns(
        pl.when(pl.col("order_id") % 5 == 0)
        .then(pl.lit("a product name long enough to wrap in its cell " * 2))
        .otherwise(pl.col("product"))
        .alias("product")
    )
    document = wide_report().render(data)
    pages = pdf_pages(document.pdf)
    assert "one after another" in document.stats["typeset"]
    half = next(i for i, page in enumerate(pages) if "Unit price" in page)
    assert all("Customer" in page for page in pages[:half])
    assert all("Unit price" in page for page in pages[half:])


@pytest.mark.typst
@pytest.mark.usefixtures("small_chunks")
def test_a_long_wide_listing_in_chunks() -> None:
    data = pr.sample.sales_data(600)
    document = wide_report().render(data)
    pages = pdf_pages(document.pdf)
    assert "interleaved" in document.stats["typeset"]
    assert "chunks" in document.stats["typeset"]
    assert all(orders(a) == orders(b) for a, b in zip(pages[::2], pages[1::2], strict=True))
    assert len({o for page in pages for o in orders(page)}) == data.height


def test_wide_settings_round_trip() -> None:
    report = wide_report(repeat_columns=2)
    assert pr.Report.from_yaml(report.to_yaml()) == report
    with pytest.raises(pr.DefinitionError, match="repeat_columns"):
        pr.Report.from_dict({"name": "r", "page": {"repeat_columns": -1}})


@pytest.mark.typst
def test_panels_as_png_pages_interleave(sales: pl.DataFrame) -> None:
    document = wide_report().render(sales.head(150))
    pngs = document.png(ppi=20)
    assert len(pngs) == document.page_count
    assert len(pngs) % 2 == 0
    assert all(png.startswith(b"\x89PNG") for png in pngs)


def _tagged(report: pr.Report) -> pr.Report:
    return report.model_copy(update={"tagged_pdf": True, "outline": True})


def _read_tagged(pdf: bytes) -> tuple[list[tuple[str, str]], list[str], list[tuple[str, int]]]:
    """How the tagged PDF reads (element types and their marked text, in reading order), what
    is wrong with its structure tree, and its bookmarks (title, page index)."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        marked = content(document)
        pages = {page.obj.objgen: i for i, page in enumerate(document.pages)}
        with document.open_outline() as outline:
            bookmarks = [(str(item.title), pages[item.destination[0].objgen]) for item in outline.root]
        assert document.Root.MarkInfo.Marked
        return reading(document, marked), structure_problems(document, marked), bookmarks


@pytest.mark.typst
@pytest.mark.parametrize("chunked", [False, True], ids=["one piece each", "in chunks"])
def test_a_tagged_wide_listing_keeps_its_structure_tree_and_outline(chunked: bool, tmp_path: Path) -> None:
    """Its panels joined as chunks are: one structure tree (each panel read whole, in turn),
    the first panel's bookmarks pointing to its pages; the pages still interleave."""
    data = pr.sample.sales_data(600 if chunked else 300)
    with chunking_small() if chunked else contextlib.nullcontext():
        document = _tagged(wide_report()).render(data)
        pdf = document.pdf
    assert document.stats["typeset"].startswith("2 panels, interleaved")
    assert ("chunks" in document.stats["typeset"]) == chunked
    read, problems, bookmarks = _read_tagged(pdf)
    assert problems == []
    kinds = [kind for kind, _ in read]
    regions = sorted(data["region"].unique().to_list())
    assert kinds.count("/Document") == 1
    assert kinds.count("/H1") == 2 * len(regions)  # each panel's group headings
    text = "".join(marked for _, marked in read)
    assert text.rindex("Customer") < text.index("Unit price")  # panel 1 read whole, then panel 2
    pages = pdf_pages(pdf)
    assert [title for title, _ in bookmarks] == regions
    for title, page in bookmarks:
        assert page % 2 == 0  # a page of the first panel
        assert f"\n{title}\n" in f"\n{pages[page]}\n", title
    assert all(orders(a) == orders(b) for a, b in zip(pages[::2], pages[1::2], strict=True))
    (tmp_path / "wide.pdf").write_bytes(pdf)
    qpdf_check(tmp_path / "wide.pdf")


@pytest.mark.typst
def test_tagged_panels_that_follow_one_another_keep_their_structure_tree(sales: pl.DataFrame, tmp_path: Path) -> None:
    data = sales.head(120).with_columns(
        pl.when(pl.col("order_id") % 5 == 0)
        .then(pl.lit("a product name long enough to wrap in its cell " * 2))
        .otherwise(pl.col("product"))
        .alias("product")
    )
    document = _tagged(wide_report()).render(data)
    pdf = document.pdf
    assert "one after another" in document.stats["typeset"]
    read, problems, bookmarks = _read_tagged(pdf)
    assert problems == []
    half = next(i for i, page in enumerate(pdf_pages(pdf)) if "Unit price" in page)
    assert [page < half for _, page in bookmarks] == [True] * len(bookmarks) != []  # the first panel's
    text = "".join(marked for _, marked in read)
    assert text.rindex("Customer") < text.index("Unit price")
    (tmp_path / "wide.pdf").write_bytes(pdf)
    qpdf_check(tmp_path / "wide.pdf")


def test_a_page_order_names_every_page_once(tmp_path: Path) -> None:
    with PdfJoin(tmp_path / "joined.pdf") as joined, pytest.raises(ValueError, match="each of the 0 pages once"):
        joined.order_pages([0])
