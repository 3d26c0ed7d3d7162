"""A crosstab in every group footer (on most pages), typeset in parallel chunks: each crosstab
is measured in the measuring pass, so one that fits where it begins, or a band kept together,
needs no Typst probe; the chunks' pages equal one piece's and the figures equal Polars' pivot."""

from __future__ import annotations

import re

import polars as pl
import pytest

import polarreports as pr
from tests.conftest import chunk_count, one_piece_pdf, pdf_pages


def crosstab_per_customer(*, keep_together: bool) -> pr.Report:
    crosstab = pr.Crosstab(rows=["region"], columns=["category"], measures={"units": "sum(quantity)"})
    return pr.Report(
        name="per customer",
        sort=["order_id"],
        groups=[
            pr.Group(
                name="customer",
                header=pr.Band(elements=[pr.Expression(expr="'Customer ' || customer")]),
                footer=pr.Band(elements=[crosstab], keep_together=keep_together),
            )
        ],
        bands=pr.Bands(
            detail=pr.Band(elements=[pr.Field(column="order_id"), pr.Field(column="quantity")]),
            page_footer=pr.Band(elements=[pr.PageNumber()]),
        ),
    )


@pytest.mark.typst
@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize("keep_together", [True, False])
def test_a_crosstab_on_most_pages_is_typeset_in_chunks(keep_together: bool) -> None:
    sales = pr.sample.sales_data(700)
    document = crosstab_per_customer(keep_together=keep_together).render(sales)
    pages = pdf_pages(document.pdf)
    assert chunk_count(document) >= 2, document.stats["typeset"]
    assert pages == pdf_pages(one_piece_pdf(document))
    assert len(pages) == document.stats["pages_predicted"]
    with_crosstab = sum("Total" in page for page in pages)
    assert with_crosstab >= 0.6 * len(pages)  # a crosstab on most pages
    # each customer's grand total (the last figure of its crosstab's Total row) against Polars
    text = "\n".join(pages)
    want = sales.group_by("customer").agg(pl.col("quantity").sum()).sort("customer")
    shown = re.findall(r"^Total(?: [\d,]+)+ ([\d,]+)$", text, flags=re.MULTILINE)
    assert [int(s.replace(",", "")) for s in shown] == want["quantity"].to_list()
