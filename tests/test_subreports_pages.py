"""Subreports in the page bands: linked to each page's first row (a customer's notes in the page
header of the pages that show that customer), or over the whole source (a legend in every page's
footer); read back per page from the PDF and checked against Polars, in one piece and in chunks."""

from __future__ import annotations

import re

import polars as pl
import pytest

import polarreports as pr
from polarreports.api import plan_report
from polarreports.compute.pages import band_pages
from polarreports.emit.typst_source import band_indices
from polarreports.stream.collect import collect_stream
from tests.conftest import chunk_count, chunking_small, one_piece_pdf, pdf_pages

ROW = re.compile(r"^row (\d+) ")
NOTE = re.compile(r"^note (\d+)-(\d+)$")


def notes_report(*, keys: list[str] | None = None) -> pr.Report:
    notes = pr.Report(
        name="notes",
        bands=pr.Bands(
            column_header=pr.Band(elements=[pr.Label(text="Notes")]),
            detail=pr.Band(elements=[pr.Field(column="note")]),
        ),
    )
    legend = pr.Report(
        name="legend",
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="code"), pr.Field(column="meaning")])),
    )
    return pr.Report(
        name="ledger",
        bands=pr.Bands(
            page_header=pr.Band(elements=[pr.Subreport(report=notes, source="notes", keys=keys or ["customer"])]),
            detail=pr.Band(elements=[pr.Expression(expr="'row ' || CAST(id AS VARCHAR)"), pr.Field(column="customer")]),
            page_footer=pr.Band(elements=[pr.Subreport(report=legend, source="legend", keys=[])]),
        ),
    )


ROWS = pl.DataFrame({"id": range(420), "customer": [i // 70 for i in range(420)]})
NOTES = pl.DataFrame(
    {
        "customer": [c for c in range(6) for _ in range(c % 3 + 1)],
        "note": [f"note {c}-{j}" for c in range(6) for j in range(c % 3 + 1)],
    }
)
LEGEND = pl.DataFrame({"code": ["X1", "X2"], "meaning": ["legend one", "legend two"]})
SOURCES = {"notes": NOTES, "legend": LEGEND}


def check_pages(pdf: bytes) -> list[str]:
    """Each page's header notes are those of the customer of its first row (Polars' filter of the
    notes), its footer the whole legend; every row once. Returns the pages' texts."""
    pages = pdf_pages(pdf)
    seen = []
    for number, text in enumerate(pages, start=1):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        ids = [int(m.group(1)) for line in lines if (m := ROW.match(line))]
        assert ids, f"page {number}"
        seen += ids
        customer = ROWS.row(ids[0], named=True)["customer"]
        expected = NOTES.filter(pl.col("customer") == customer)["note"].to_list()
        shown = [line for line in lines if NOTE.match(line)]
        assert shown == expected, f"page {number}: {shown} != {expected}"
        assert lines[0] == "Notes", f"page {number}"
        assert lines[-2:] == ["X1 legend one", "X2 legend two"], f"page {number}: {lines[-2:]}"
    assert seen == ROWS["id"].to_list()
    return pages


def test_the_pages_values_carry_the_table_of_each_pages_first_row() -> None:
    plan, scopes = plan_report(notes_report(), ROWS, sources=SOURCES)
    stream = collect_stream(plan, scopes, band_indices(plan))
    assert stream.pages is not None
    tables = stream.pages.values(band_pages([0, 40, 100], 420), total=3)
    firsts = [ROWS["customer"][row] for row in (0, 40, 100)]
    for (table,), customer in zip(tables, firsts, strict=True):
        expected = NOTES.filter(pl.col("customer") == customer)["note"].to_list()
        assert [row[0] for row in pl.Series([table]).str.json_decode().struct.field("r")[0]] == expected
    header = next(band for band in plan.bands if band.kind == "page_header")
    assert stream.static["page_header"][0].count("],[") == 2  # the room of the tallest (3 rows)
    assert header.data_cells[0].page_slot == 0


@pytest.mark.typst
def test_a_page_header_subreport_follows_each_pages_first_row_in_one_piece_and_in_chunks() -> None:
    one = notes_report().render(ROWS, sources=SOURCES)
    pages = check_pages(one.pdf)
    assert one.stats["typeset"] == "one piece"
    assert len(pages) >= 4
    with chunking_small():
        chunked = notes_report().render(ROWS, sources=SOURCES)
        assert check_pages(chunked.pdf) == pages
        assert chunk_count(chunked) >= 2


def test_a_page_band_subreport_keyed_on_an_unknown_column_is_a_plan_error() -> None:
    with pytest.raises(pr.PlanError, match=r"page_header.*unknown key column 'custome'.*did you mean 'customer'"):
        notes_report(keys=["custome"]).render(ROWS, sources=SOURCES).to_frame()


# -- chunks: subreports whose rows vary in height ----------------------------------------------


def _wrapping_report() -> tuple[pr.Report, pl.DataFrame, pl.DataFrame]:
    """Orders whose payments vary in number (1 to 4) and a few (every 30th: 5 payments) in
    height too (every other one's long method wraps in its narrow column): those few are
    measured one by one; and one order with more payments than the row classes hold."""
    n = 360
    orders = pl.DataFrame({"order_id": range(n)})
    counts = [40 if i == 200 else 5 if i % 30 == 0 else i % 4 + 1 for i in range(n)]
    payments = (
        pl.DataFrame({"order_id": [i for i in range(n) for _ in range(counts[i])]})
        .with_row_index("amount")
        .with_columns(
            amount=pl.col("amount").cast(pl.Float64),
            method=pl.when(pl.col("order_id") % 60 == 0)
            .then(pl.lit("bank transfer with a long reference"))
            .otherwise(pl.lit("card")),
        )
    )
    paid = pr.Report(
        name="paid",
        bands=pr.Bands(
            detail=pr.Band(
                elements=[pr.Field(column="method", width="25mm"), pr.Field(column="amount", format="#,##0.00")]
            )
        ),
    )
    report = pr.Report(
        name="wrapping",
        bands=pr.Bands(
            detail=pr.Band(
                elements=[
                    pr.Field(column="order_id", width="20mm"),
                    pr.Subreport(report=paid, source="payments", keys=["order_id"], width="60%"),
                ]
            ),
            page_footer=pr.Band(elements=[pr.PageNumber()]),
        ),
    )
    return report, orders, payments


@pytest.mark.typst
def test_subreports_whose_rows_wrap_are_measured_each_and_typeset_in_chunks() -> None:
    report, orders, payments = _wrapping_report()
    with chunking_small():
        document = report.render(orders, sources={"payments": payments})
        chunked = document.pdf
        assert chunk_count(document) >= 2, document.stats["typeset"]
    one_piece = one_piece_pdf(document)
    assert pdf_pages(chunked) == pdf_pages(one_piece)
    text = "\n".join(pdf_pages(chunked))
    amounts = re.findall(r"(?:card|reference)\s*([\d,]+\.\d\d)$", text, flags=re.MULTILINE)
    assert sorted(float(a.replace(",", "")) for a in amounts) == payments.sort("amount")["amount"].to_list()
