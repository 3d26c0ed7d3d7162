"""The HTML page's structure, read back by an HTML parser (no browser, no Typst): one table of
the detail rows with the column header as its head and a body per group, the title and summary
outside it, the page header and footer once, each row's look as Polars chose it (zebra,
conditional styles), images as ``data:`` URIs."""

from __future__ import annotations

from pathlib import Path

import polars as pl

import polarreports as pr
from tests.conftest import ROOT
from tests.html_page import Page, read_page, saved_html


def page_of(name: str, data: pl.DataFrame, folder: Path) -> Page:
    return read_page(saved_html(pr.load(ROOT / "examples" / f"{name}.yaml").render(data), folder))


def tags(page: Page, name: str) -> list[dict[str, str | None]]:
    return [attributes for tag, attributes in page.tags if tag == name]


def test_a_grouped_report_is_one_table_with_a_body_per_group(tmp_path: Path) -> None:
    data = pr.sample.sales_data(300)
    page = page_of("sales_styled", data, tmp_path)
    names = [tag for tag, _ in page.tags]
    assert names.count("table") == 2  # the rows, and the summary's row under the same columns
    assert names.count("thead") == 1
    assert names.index("h1") < names.index("table")  # the title, above the table
    assert names.count("header") == 2  # the page header (once) and the title
    assert names.count("footer") == 1
    customers = data.select("region", "customer").unique().height
    regions = data["region"].n_unique()
    # a body per region and customer; the region's footer in its own after its customers; the summary's
    assert names.count("tbody") == regions + customers + regions + 1
    column_heads = [a for tag, a in page.tags if tag == "th" and a.get("scope") == "col"]
    assert len(column_heads) == 7
    group_heads = [a for tag, a in page.tags if tag == "th" and a.get("scope") == "rowgroup"]
    assert len(group_heads) == data["region"].n_unique() + customers
    footer_heads = [a for tag, a in page.tags if tag == "th" and a.get("scope") == "row"]
    assert len(footer_heads) == data["region"].n_unique() + 1  # "Region total" x regions, "Grand total"
    assert page.raw.count("Confidential") == 1  # the page footer, once
    assert page.raw.count("Amounts in EUR") == 1  # the page header, once
    assert tags(page, "meta")[1]["http-equiv"] == "Content-Security-Policy"


def test_each_row_has_the_look_polars_chose(tmp_path: Path) -> None:
    """Zebra stripes restart in each customer; a discount of 15% or more is the "discounted"
    look (classes l2, l3), an amount over 20,000 the "large" one (k1 on its cell)."""
    data = pr.sample.sales_data(300)
    page = page_of("sales_styled", data, tmp_path)
    rows = [(a.get("class") or "").split() for tag, a in page.tags if tag == "tr"]
    detail = [classes for classes in rows if classes and classes[0] == "b0"]
    ordered = (
        data.with_columns(amount=pl.col("quantity") * pl.col("unit_price"))
        .sort("region", "customer", "order_date", "order_id")
        .with_columns(stripe=pl.int_range(pl.len()).over("region", "customer") % 2)
    )
    assert len(detail) == ordered.height
    for classes, (discount, stripe) in zip(detail, ordered.select("discount", "stripe").iter_rows(), strict=True):
        look = int(classes[1][1:]) if len(classes) > 1 else 0
        assert look == 2 * ((discount or 0) >= 0.15) + stripe
    large = [a for tag, a in page.tags if tag == "td" and a.get("class") == "k1"]
    assert len(large) == ordered.filter(pl.col("amount") > 20_000).height


def test_images_are_data_uris(tmp_path: Path) -> None:
    """(The charts, inline SVG, are checked in a browser: ``test_html_browser``.)"""
    invoice = page_of("invoice", pr.sample.invoice_data(), tmp_path)
    sources = [a["src"] or "" for a in tags(invoice, "img")]
    assert sources
    assert all(src.startswith("data:image/svg+xml;base64,") for src in sources)


def test_no_rows_shows_the_no_data_band(tmp_path: Path) -> None:
    page = page_of("sales_summary", pr.sample.sales_data(50).head(0), tmp_path)
    texts = [text for (tag, _), text in zip(page.tags, page.texts, strict=True) if tag == "div"]
    assert "No orders." in texts
    assert "tbody" not in [tag for tag, _ in page.tags]
    assert "Grand total" not in texts  # the no-data band instead of the summary, as in the PDF


def test_the_command_line_writes_html(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from polarreports.cli import app

    data = pr.sample.write_sales_data(tmp_path / "sales.parquet", 50)
    output = tmp_path / "out" / "sales.html"
    definition = str(ROOT / "examples" / "sales_styled.yaml")
    result = CliRunner().invoke(app, ["render", definition, "-d", str(data), "-o", str(output)])
    assert result.exit_code == 0, result.output
    page = read_page(output.read_bytes().decode())
    assert [tag for tag, _ in page.tags].count("thead") == 1
    assert "Grand total" in page.texts
