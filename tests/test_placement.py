"""Placement and overflow: placed elements (forms), fixed band heights, text overflow, the
split policy, multi-column pages and wide listings. Positions are read back from the PDF."""

from __future__ import annotations

import html
import itertools
import re
import subprocess
import tempfile
from pathlib import Path

import polars as pl
import pytest

import polarreports as pr
from tests.conftest import ROOT, chunk_count, one_piece_pdf, page_layouts, pdf_lines, pdf_pages

MM = 72 / 25.4
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')


def words(pdf: bytes) -> list[list[tuple[str, float, float, float, float]]]:
    """Per page, its words with their boxes (x min, y min, x max, y max in points), as
    pdftotext -bbox reads them."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, check=True, text=True)
    pages = out.stdout.split("<page ")[1:]
    return [
        [(html.unescape(w), float(a), float(b), float(c), float(d)) for a, b, c, d, w in _WORD.findall(page)]
        for page in pages
    ]


def find(page: list[tuple[str, float, float, float, float]], text: str) -> tuple[str, float, float, float, float]:
    hits = [w for w in page if w[0] == text]
    assert hits, f"{text!r} not on the page"
    return hits[0]


# -- placement (the invoice example) --------------------------------------------------------


@pytest.fixture(scope="module")
def invoice() -> pr.Document:
    return pr.load(ROOT / "examples" / "invoice.yaml").render(pr.sample.invoice_data())


@pytest.mark.typst
def test_placed_elements_land_where_declared(invoice: pr.Document) -> None:
    (page,) = words(invoice.pdf)
    left = 18 * MM  # the page margin: x is from the band's left edge
    assert find(page, "INVOICE")[1] == pytest.approx(left, abs=1.5)
    assert find(page, "BILL")[1] == pytest.approx(left, abs=1.5)
    number, date, customer = find(page, "number"), find(page, "date"), find(page, "Customer")
    assert number[1] > customer[1]  # "Invoice number": 'number' follows 'Invoice'
    invoice_words = [w for w in page if w[0] == "Invoice"]
    assert {round(w[1] / MM) for w in invoice_words} == {18 + 112}
    # y: labels 6 mm apart as declared (48, 54 mm), the customer number at 66 mm
    assert date[2] - number[2] == pytest.approx(6 * MM, abs=0.5)
    assert customer[2] - number[2] == pytest.approx(18 * MM, abs=0.5)
    # a right-aligned field ends at x + width = 142 + 32 mm from the band's left edge
    assert find(page, "INV-2025-0427")[3] == pytest.approx(left + 174 * MM, abs=1.5)
    # the title band is 84 mm tall: the column header follows it (below its 4pt padding)
    assert find(page, "Description")[2] - number[2] == pytest.approx((84 - 48) * MM + 4, abs=1.0)


@pytest.mark.typst
def test_invoice_totals_match_the_line_items(invoice: pr.Document) -> None:
    data = pr.sample.invoice_data()
    subtotal = float((data["quantity"].cast(pl.Decimal(12, 2)) * data["unit_price"]).sum())
    lines = pdf_lines(invoice.pdf)
    assert f"Subtotal €{subtotal:,.2f}" in lines
    assert f"Total due €{subtotal * 1.19:,.2f}" in lines
    described = [line for line in lines if line.split(" ")[0] in {str(n) for n in range(1, 11)}]
    assert len(described) == data.height
    assert any("three-year on-site warr…" in line for line in lines)  # one line, cut with an ellipsis


def test_a_band_mixing_placed_and_flowing_elements_is_refused(sales: pl.DataFrame) -> None:
    report = pr.Report(
        name="mixed",
        bands=pr.Bands(title=pr.Band(elements=[pr.Label(text="placed", x="0mm", y="0mm"), pr.Label(text="flowing")])),
    )
    with pytest.raises(pr.PlanError, match=r"bands\.title: elements \[0\] are placed .* \[1\] are not(.|\n)*Hint"):
        report.render(sales)


def test_placement_needs_both_coordinates_and_fixed_lengths(sales: pl.DataFrame) -> None:
    report = pr.Report(
        name="bad",
        bands=pr.Bands(
            title=pr.Band(elements=[pr.Label(text="a", x="1mm"), pr.Label(text="b", x="0mm", y="10%")]),
            summary=pr.Band(height="400mm", elements=[pr.Label(text="c")]),
        ),
    )
    with pytest.raises(pr.PlanError) as error:
        report.render(sales)
    message = str(error.value)
    assert "bands.title.elements[0]: has x but no y" in message
    assert "bands.title.elements[1]: y '10%' must be a fixed length" in message
    assert "bands.summary.height: 400mm is taller than the page body" in message


# -- fixed band heights ----------------------------------------------------------------------


def fixed_height_report(height: str | None) -> pr.Report:
    return pr.Report(
        name="fixed",
        bands=pr.Bands(
            detail=pr.Band(
                height=height,
                elements=[
                    pr.Field(column="order_id", format="0", width="15mm"),
                    pr.Field(column="customer", width="8mm"),  # wraps onto several lines
                ],
            )
        ),
    )


@pytest.mark.typst
def test_a_fixed_band_height_holds_however_long_the_text(sales: pl.DataFrame) -> None:
    pages = words(fixed_height_report("14pt").render(sales.head(40)).pdf)
    tops = [w[2] for w in pages[0] if w[0].isdigit() and w[1] < 30 * MM]
    steps = {round(b - a, 2) for a, b in itertools.pairwise(tops)}
    assert steps == {14.0}
    flexible = words(fixed_height_report(None).render(sales.head(40)).pdf)[0]
    assert len([w for w in flexible if w[0].isdigit() and w[1] < 30 * MM]) < len(tops)  # wrapping rows grow


@pytest.mark.typst
@pytest.mark.usefixtures("small_chunks")
def test_fixed_heights_keep_chunked_typesetting_exact() -> None:
    document = fixed_height_report("12pt").render(pr.sample.sales_data(600))
    pdf = document.pdf
    assert chunk_count(document) >= 3  # a wrapping text no longer forces one piece
    assert document.page_count == document.stats["pages_predicted"]
    # words wider than the 8mm cell break at any character (zero-width spaces, which a PDF
    # reader finds in the text layer or not, depending on the font subsets of the joined chunks)
    joined, whole = pdf_pages(pdf), pdf_pages(one_piece_pdf(document))
    assert [p.replace("\u200b", "") for p in joined] == [p.replace("\u200b", "") for p in whole]


# -- overflow ----------------------------------------------------------------------------------


def overflow_report(mode: str) -> pr.Report:
    return pr.Report(
        name="overflow",
        bands=pr.Bands(
            detail=pr.Band(
                elements=[
                    pr.Field(column="order_id", format="0", width="15mm"),
                    pr.Field(column="customer", width="22mm", overflow=mode),  # type: ignore[arg-type]
                    pr.Field(column="quantity", width="15mm"),
                ]
            )
        ),
    )


@pytest.mark.typst
@pytest.mark.parametrize("mode", ["clip", "ellipsis"])
def test_clipped_and_ellipsized_text_keeps_one_line(sales: pl.DataFrame, mode: str) -> None:
    rows = sales.head(60)
    page = words(overflow_report(mode).render(rows).pdf)[0]
    ids = [w for w in page if w[1] < 16 * MM + 15 * MM and w[0].isdigit()]
    tops = [w[2] for w in ids]
    plain = words(overflow_report("wrap").render(rows.with_columns(customer=pl.lit("Ab"))).pdf)[0]
    plain_tops = [w[2] for w in plain if w[1] < 16 * MM + 15 * MM and w[0].isdigit()]
    assert len(tops) == len(plain_tops) == rows.height  # as many rows on the page as one-line rows
    assert tops == pytest.approx(plain_tops, abs=0.01)


@pytest.mark.typst
def test_ellipsis_cuts_the_text_to_its_cell(sales: pl.DataFrame) -> None:
    rows = sales.head(60)
    pdf = overflow_report("ellipsis").render(rows).pdf
    shown = [line.split(" ", 1)[1].rsplit(" ", 1)[0] for line in pdf_lines(pdf)]
    full = rows["customer"].to_list()
    cut = [(s, f) for s, f in zip(shown, full, strict=True) if s != f]
    assert cut  # some names are longer than 22 mm
    assert all(s.endswith("…") and f.startswith(s[:-1]) for s, f in cut)
    cell_right = 15 * MM + 22 * MM + 15 * MM + 2  # the margin, the first cell, this cell (+ inset)
    page = words(pdf)[0]
    assert max(w[3] for w in page if w[0].endswith("…")) <= cell_right


# -- split policy ----------------------------------------------------------------------------


def split_report(split: str) -> pr.Report:
    return pr.Report(
        name="split",
        bands=pr.Bands(
            detail=pr.Band(
                split=split,  # type: ignore[arg-type]
                elements=[pr.Field(column="id", format="0", width="10mm"), pr.Field(column="note")],
            )
        ),
    )


HUGE = " ".join(f"word{i}" for i in range(6_000))
SPLIT_DATA = pl.DataFrame({"id": [1, 2, 3], "note": ["short", HUGE, "after"]})


@pytest.mark.typst
def test_a_band_taller_than_a_page_breaks_across_pages() -> None:
    pdf = split_report("allow").render(SPLIT_DATA).pdf
    text = " ".join(pdf_pages(pdf))
    assert len(pdf_pages(pdf)) > 3
    assert all(f"word{i}" in text for i in (0, 2_999, 5_999))
    assert pdf_lines(pdf)[-1] == "3 after"


@pytest.mark.typst
def test_split_error_names_the_band() -> None:
    with pytest.raises(pr.LayoutError, match=r"bands\.detail is taller than the page(.|\n)*Hint") as error:
        split_report("error").render(SPLIT_DATA).pdf  # noqa: B018 (typesets)
    assert error.value.band == "bands.detail"
    assert split_report("error").render(SPLIT_DATA.filter(pl.col("id") != 2)).page_count == 1


# -- columns -----------------------------------------------------------------------------------


def columns_report() -> pr.Report:
    return pr.Report(
        name="phone book",
        page=pr.PageSetup(columns=2, column_gap="8mm"),
        groups=[pr.Group(name="region", header=pr.Band(elements=[pr.Field(column="region", bold=True)]))],
        bands=pr.Bands(
            title=pr.Band(elements=[pr.Label(text="Customer list", size=16)]),
            page_header=pr.Band(elements=[pr.Label(text="Phone book"), pr.PageNumber(align="right")]),
            detail=pr.Band(
                elements=[
                    pr.Field(column="order_id", width="12mm", format="0"),
                    pr.Field(column="customer", overflow="ellipsis"),
                    pr.Field(column="quantity", width="10mm"),
                ]
            ),
        ),
    )


@pytest.mark.typst
def test_two_columns_fill_the_page_side_by_side(sales: pl.DataFrame) -> None:
    page = words(columns_report().render(sales).pdf)[0]
    # columns of (180 - 8) / 2 = 86 mm: the order ids end 12 mm into each column
    ids = [w for w in page if w[0].isdigit()]
    first = [w for w in ids if w[3] == pytest.approx((15 + 12) * MM + 2, abs=1)]
    second = [w for w in ids if w[3] == pytest.approx((15 + 86 + 8 + 12) * MM + 2, abs=1)]
    assert len(first) > 40
    assert len(second) > 40
    title = find(page, "Customer")
    assert min(w[2] for w in first + second) > title[2] + 10  # the title spans both columns, above them
    shown = [int(w[0]) for w in first] + [int(w[0]) for w in second]
    assert shown == sales.sort("region", maintain_order=True)["order_id"].head(len(shown)).to_list()


@pytest.mark.typst
@pytest.mark.slow
@pytest.mark.usefixtures("small_chunks")
def test_chunked_columns_equal_one_piece() -> None:
    document = columns_report().render(pr.sample.sales_data(1_200))
    pdf = document.pdf
    assert chunk_count(document) >= 3
    assert page_layouts(pdf) == page_layouts(one_piece_pdf(document))


# -- wide listings -------------------------------------------------------------------------------


@pytest.mark.typst
def test_wide_fit_scales_a_listing_to_the_page(sales: pl.DataFrame) -> None:
    elements = [pr.Field(column=c, width="45mm") for c in ("order_id", "region", "country", "customer", "product")]
    report = pr.Report(name="wide", page=pr.PageSetup(wide="fit"), bands=pr.Bands(detail=pr.Band(elements=elements)))
    rows = sales.head(30)
    pdf = report.render(rows).pdf
    assert len(pdf_lines(pdf)) == rows.height  # each row on one line
    page = words(pdf)[0]
    assert max(w[3] for w in page) <= (210 - 15) * MM + 1
    wrapped = report.model_copy(update={"page": pr.PageSetup()}).render(rows).pdf
    assert len(pdf_lines(wrapped)) > rows.height  # without fit, the cells that do not fit wrap


# -- definition files --------------------------------------------------------------------------


def test_new_options_round_trip_and_are_in_the_schema() -> None:
    report = pr.load(ROOT / "examples" / "invoice.yaml").model_copy(
        update={"page": pr.PageSetup(columns=2, column_gap="5mm", wide="fit")}
    )
    again = pr.Report.from_yaml(report.to_yaml())
    assert again == report
    assert again.bands.title is not None
    assert again.bands.title.height == "84mm"
    assert again.bands.detail is not None
    assert again.bands.detail.elements[1].overflow == "ellipsis"
    schema = pr.Report.json_schema()
    defs = schema["$defs"]
    assert {"height", "split"} <= set(defs["Band"]["properties"])
    assert {"columns", "column_gap", "wide"} <= set(defs["PageSetup"]["properties"])
    assert {"x", "y", "height", "overflow"} <= set(defs["Label"]["properties"])
    assert defs["Band"]["properties"]["split"]["enum"] == ["allow", "error"]


@pytest.mark.typst
def test_a_very_long_value_in_a_long_report() -> None:
    """Only the instance with the long value takes the band's variant that can split (routed in
    Polars); the ordinary rows around it keep the plain layout."""
    rows = pl.DataFrame({"id": range(1, 5_001), "note": ["short"] * 5_000}).with_columns(
        note=pl.when(pl.col("id") == 2_500).then(pl.lit(HUGE)).otherwise("note")
    )
    document = split_report("allow").render(rows)
    text = " ".join(pdf_pages(document.pdf))
    assert all(f"word{i}" in text for i in (0, 2_999, 5_999))
    assert pdf_lines(document.pdf)[-1] == "5000 short"
    assert ".len() >" not in document._source.source  # no per-row test of the values' length
