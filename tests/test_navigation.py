"""PDF outline (bookmarks), the table of contents, and links, read back from the PDF."""

from __future__ import annotations

import io
import re
from typing import Any

import polars as pl
import pytest
from pypdf import PdfReader

import polarreports as pr
from tests.conftest import chunk_count, one_piece_pdf, pdf_pages


def outline(pdf: bytes) -> list[tuple[int, str, int]]:
    """(level, title, page index) of every bookmark, in order."""
    reader = PdfReader(io.BytesIO(pdf))
    found: list[tuple[int, str, int]] = []

    def walk(items: list[Any], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                page = reader.get_destination_page_number(item)
                assert page is not None
                found.append((level, str(item.title), page))

    walk(reader.outline, 1)
    return found


def report(**options: Any) -> pr.Report:
    example = pr.load("examples/sales_by_region.yaml")
    return example.model_copy(update=options)


def regions_only() -> list[pr.Group]:
    """The example's groups, with the customer level left out of the outline and contents."""
    groups = report().groups
    return [groups[0], groups[1].model_copy(update={"outline": False})]


def expected_groups(data: pl.DataFrame) -> list[tuple[int, str]]:
    """Region, then its customers, in report order: an independent Polars computation."""
    expected: list[tuple[int, str]] = []
    for (region,), rows in data.sort("region", "customer").group_by("region", maintain_order=True):
        expected.append((1, str(region)))
        expected.extend((2, customer) for customer in rows["customer"].unique(maintain_order=True))
    return expected


def header_pages(pages: list[str], titles: list[str]) -> list[int]:
    """Page index of each group header, searching on from the previous one: a line starting
    with the group's name (the region's and the customer's header both start with it)."""
    found, page = [], 0
    for title in titles:
        while not any(line.startswith(title) for line in pages[page].splitlines()):
            page += 1
        found.append(page)
    return found


@pytest.fixture(scope="module")
def outlined_pdf(sales: pl.DataFrame) -> bytes:
    return report(outline=True).render(sales.head(600)).pdf


@pytest.mark.typst
def test_outline_has_one_entry_per_group_nested_by_level(outlined_pdf: bytes, sales: pl.DataFrame) -> None:
    entries = outline(outlined_pdf)
    assert [(level, title) for level, title, _ in entries] == expected_groups(sales.head(600))


@pytest.mark.typst
def test_outline_entries_point_to_the_group_headers(outlined_pdf: bytes) -> None:
    entries = outline(outlined_pdf)
    pages = pdf_pages(outlined_pdf)
    assert [page for _, _, page in entries] == header_pages(pages, [title for _, title, _ in entries])
    assert len({page for _, _, page in entries}) > 3  # the groups spread over several pages


@pytest.mark.typst
def test_no_outline_unless_asked(example_pdf: bytes) -> None:
    assert outline(example_pdf) == []


@pytest.mark.typst
def test_a_group_level_can_be_left_out(sales: pl.DataFrame) -> None:
    pdf = report(outline=True, groups=regions_only()).render(sales.head(300)).pdf
    assert [(level, title) for level, title, _ in outline(pdf)] == [
        (1, region) for region in sorted(sales.head(300)["region"].unique())
    ]


@pytest.mark.typst
@pytest.mark.usefixtures("small_chunks")
def test_outline_of_a_chunked_report_is_one_nested_outline(sales: pl.DataFrame) -> None:
    data = pr.sample.sales_data(600)
    document = report(outline=True).render(data)
    pdf = document.pdf
    assert chunk_count(document) >= 3
    entries = outline(pdf)
    assert [(level, title) for level, title, _ in entries] == expected_groups(data)
    one_piece = one_piece_pdf(document)
    assert entries == outline(one_piece)
    assert [page for _, _, page in entries] == header_pages(pdf_pages(pdf), [title for _, title, _ in entries])


def test_outline_definition_round_trips() -> None:
    definition = report(outline=True, table_of_contents="Regions")
    assert pr.Report.from_yaml(definition.to_yaml()) == definition


# -- table of contents ---------------------------------------------------------------------

_ENTRY = re.compile(r"^(.*?)(?: \.)+[\s\u2060]*(\d+)$")  # title, dotted leaders, page


def toc_entries(page_text: str) -> list[tuple[str, int]]:
    entries = []
    for line in page_text.splitlines():
        match = _ENTRY.match(line.strip())
        if match:
            entries.append((match.group(1).strip(), int(match.group(2))))
    return entries


@pytest.mark.typst
def test_table_of_contents_lists_the_groups_with_their_pages(sales: pl.DataFrame) -> None:
    data = sales.head(300)
    pdf = report(table_of_contents="Regions and customers").render(data).pdf
    pages = pdf_pages(pdf)
    assert "Regions and customers" in pages[0]
    entries = [entry for text in pages if ". . ." in text for entry in toc_entries(text)]
    assert [title for title, _ in entries] == [title for _, title in expected_groups(data)]
    # page numbers: where the group headers are (after the contents pages)
    body_start = next(i for i, text in enumerate(pages) if "Customer subtotal" in text)
    located = header_pages(pages[body_start:], [title for title, _ in entries])
    assert [page for _, page in entries] == [body_start + page + 1 for page in located]
    assert outline(pdf) == []  # contents without bookmarks: only what was asked for


@pytest.mark.typst
def test_table_of_contents_entries_link_to_their_pages(sales: pl.DataFrame) -> None:
    pdf = report(table_of_contents=True, groups=regions_only()).render(sales.head(300)).pdf
    reader = PdfReader(io.BytesIO(pdf))
    links = [a.get_object() for a in reader.pages[0].get("/Annots", [])]
    internal = [link for link in links if link.get("/Subtype") == "/Link" and "/URI" not in link.get("/A", {})]
    assert "Contents" in reader.pages[0].extract_text()
    assert len(internal) == sales.head(300)["region"].n_unique()


@pytest.mark.typst
def test_the_column_header_stays_off_the_contents_pages(sales: pl.DataFrame) -> None:
    pages = pdf_pages(report(table_of_contents=True).render(sales.head(300)).pdf)
    contents = [i for i, text in enumerate(pages) if ". . ." in text]
    assert contents
    assert all("Unit price" not in pages[i] for i in contents)
    assert all("Unit price" in text for text in pages[contents[-1] + 1 :])


@pytest.mark.typst
@pytest.mark.usefixtures("small_chunks")
def test_a_long_report_with_contents_is_typeset_in_one_piece() -> None:
    document = report(table_of_contents=True, groups=regions_only()).render(pr.sample.sales_data(500))
    pages = pdf_pages(document.pdf)
    assert document.stats["typeset"] == "one piece (a table of contents needs the whole document)"
    entries = toc_entries(pages[0])
    located = header_pages(pages[1:], [title for title, _ in entries])
    assert [page for _, page in entries] == [p + 2 for p in located]  # numbered from 1, after page 1


# -- links ---------------------------------------------------------------------------------


def uris(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    found = []
    for page in reader.pages:
        for annotation in page.get("/Annots", []):
            action = annotation.get_object().get("/A", {})
            if "/URI" in action:
                found.append(str(action["/URI"]))
    return found


@pytest.mark.typst
def test_links_per_row_and_per_group(sales: pl.DataFrame) -> None:
    data = sales.head(120).with_columns(
        url=pl.when(pl.col("order_id") % 10 == 0)
        .then(pl.lit("javascript:alert(1)"))  # not a link: shown, unlinked
        .otherwise(pl.format("https://example.com/orders/{}?a=1&b=2", pl.col("order_id")))
    )
    linked = pr.Report(
        name="links",
        groups=[
            pr.Group(
                name="region",
                header=pr.Band(
                    elements=[pr.Field(column="region", link="concat('mailto:', lower(region), '@example.com')")]
                ),
            )
        ],
        bands=pr.Bands(
            detail=pr.Band(elements=[pr.Field(column="order_id", format="0", link="url"), pr.Field(column="product")]),
            title=pr.Band(elements=[pr.Label(text="Home", link="'https://example.com'")]),
        ),
    )
    pdf = linked.render(data).pdf
    ordered = data.sort("region", maintain_order=True)
    expected = ["https://example.com"]
    for (region,), rows in ordered.group_by("region", maintain_order=True):
        expected.append(f"mailto:{str(region).lower()}@example.com")
        expected.extend(url for url in rows["url"] if url.startswith("https://"))
    assert uris(pdf) == expected
    lines = [line for text in pdf_pages(pdf) for line in text.splitlines()]
    assert sum(1 for line in lines if line.split(" ")[0] in {str(i) for i in data["order_id"]}) == 120


def test_link_expression_errors_name_the_element(sales: pl.DataFrame) -> None:
    bad = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="region", link="urll")])))
    with pytest.raises(pr.PlanError, match=r"bands\.detail\.elements\[0\] \(field 'region'\)\.link: unknown column"):
        bad.render(sales)


@pytest.mark.typst
def test_a_hostile_url_stays_a_string(sales: pl.DataFrame) -> None:
    hostile = 'https://x.org/")#panic("boom")//'
    data = pl.DataFrame({"name": ["a", "b"], "url": [hostile, 'https://x.org/ok) #read("/etc/passwd")']})
    linked = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="name", link="url")])))
    pdf = linked.render(data).pdf
    # quotes and spaces percent-encoded: each stays one URL, never Typst code
    assert uris(pdf) == ["https://x.org/%22)#panic(%22boom%22)//", "https://x.org/ok)%20#read(%22/etc/passwd%22)"]
    assert [line.strip() for line in pdf_pages(pdf)[0].splitlines()] == ["a", "b"]
