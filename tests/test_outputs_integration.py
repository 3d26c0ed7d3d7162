"""Every output of the new elements together, as a user would try them: each gallery example
and two purpose-built reports (a barcode, Markdown labels and fields, crosstabs in the title, the
summary and a group footer, translated labels, a listing, hostile values) saved as HTML, XLSX,
Parquet, CSV, JSON and ``doc.to_frame()``, and (Typst) as PDF, PNG, PDF/A-3b with attachments,
an encrypted PDF, through ``pr.batch`` and the CLI with several ``-o``.

What each output must never hold: the internal JSON of a cell (a Markdown tree, a barcode's
asset, a crosstab), a Markdown marker of a rich text, a tag made from data, a Python traceback.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

import polarreports as pr
from tests.conftest import ROOT, pdf_pages
from tests.test_html_browser import browser, open_page  # noqa: F401 (a fixture, used by name)

SUFFIXES = [".html", ".xlsx", ".parquet", ".csv", ".json"]
GALLERY: dict[str, Callable[[], pl.DataFrame]] = {
    "invoice": pr.sample.invoice_data,
    "customer_statement": pr.sample.statement_data,
    "sales_ledger": lambda: pr.sample.sales_data(120),
    "sales_summary": lambda: pr.sample.sales_data(120),
    "sales_styled": lambda: pr.sample.sales_data(80),
    "shipping_labels": pr.sample.shipping_data,
    "sales_crosstab": lambda: pr.sample.sales_data(120),
    "sales_by_region": lambda: pr.sample.sales_data(120),
    "sales_dashboard": lambda: pr.sample.sales_data(120),
    "sales_letter": lambda: pr.sample.sales_data(120),
}
INTERNAL = re.compile(r'\[\["p",|\[\[\\?"(?:p|ul|ol)\\?",|\{\\?"a\\?": ?\\?"assets/|\\?"cols\\?": ?\[|Traceback')
"""A Markdown tree, a barcode cell, a crosstab cell (raw or escaped once) or a Python error."""

CATALOG = r"""msgid ""
msgstr ""
"Language: de\n"
"Content-Type: text/plain; charset=UTF-8\n"

msgid "Stock report"
msgstr "Lagerbericht"

msgid "Product"
msgstr "Artikel"

msgid "Quantity"
msgstr "Menge"

msgid "Code"
msgstr "Kennung"

msgid "Grand total"
msgstr "Gesamtsumme"

msgid "Total"
msgstr "Summe"

msgid "Units"
msgstr "Stück"

msgid "(none)"
msgstr "(keine)"

msgid "Region"
msgstr "Gebiet"

msgid "**Checked** by the *warehouse*"
msgstr "**Geprüft** vom *Lager*"
"""
LISTING = """
name: stock
title: Stock report
locale: de_DE
translations: {dirs: [locale], domain: stock}
page: {size: a5, font_size: 8}
groups:
  - name: region
    header:
      elements:
        - {type: field, column: region, bold: true, width: 60%}
        - {type: barcode, column: region, symbology: code128, width: 40%, height: 8mm}
variables:
  - {name: units, calculation: sum, expression: qty}
bands:
  title:
    elements:
      - {type: label, text: "**Checked** by the *warehouse*", markup: markdown}
      - type: crosstab
        rows: [{column: region, label: Region}]
        columns: [kind]
        measures:
          units: {value: sum(qty), label: Units, format: '#,##0'}
listing:
  columns:
    - {heading: Product, value: note, markup: markdown, width: 45%}
    - {heading: Code, value: ean, width: 35%}
    - heading: Quantity
      value: qty
      width: 20%
      align: right
      totals:
        region: {variable: units}
        report: {variable: units, bold: true}
  footers:
    report:
      label: {text: Grand total, bold: true}
"""
GROUPED = """
name: grouped
page: {size: a5, font_size: 8}
groups:
  - name: region
    footer:
      elements:
        - {type: expression, expr: "'**' || region || '** in total'", markup: markdown}
        - type: crosstab
          rows: [kind]
          columns: [ean]
          measures: {units: {value: sum(qty), format: '0'}}
bands:
  detail:
    elements:
      - {type: field, column: note, markup: markdown, width: 50%}
      - {type: barcode, column: ean, symbology: ean13, width: 30%, height: 10mm}
      - {type: barcode, column: url, symbology: qr, width: 20%, height: 12mm}
  summary:
    elements:
      - type: crosstab
        rows: [region]
        columns: [kind]
        measures: {units: {value: sum(qty), format: '0'}, lines: {value: count(*), label: Lines}}
"""
HOSTILE_NOTES = [
    "**Bolt** <script>alert(1)</script>",
    "[site](https://example.org/a?b=1&c=2) and [bad](javascript:alert(1))",
    "- one\n- two",
    'plain & <img src=x onerror="alert(1)">',
]


def stock_data() -> pl.DataFrame:
    return pl.DataFrame({
        "region": ["North", "North", "South", "<b>East</b>"],
        "kind": ["a", "b", "a", "b"],
        "qty": [1, 2, 3, 4],
        "note": HOSTILE_NOTES,
        "ean": ["4006381333931", "4006381333931", "9638507400000", "4006381333931"],
        "url": ["https://example.org/1", "https://example.org/2", "mailto:x@example.org", "https://e.org/<x>"],
    })  # fmt: skip


def _stock_folder(tmp: Path) -> Path:
    messages = tmp / "locale" / "de" / "LC_MESSAGES"
    messages.mkdir(parents=True, exist_ok=True)
    (messages / "stock.po").write_text(CATALOG, encoding="utf-8")
    (tmp / "stock.yaml").write_text(LISTING, encoding="utf-8")
    (tmp / "grouped.yaml").write_text(GROUPED, encoding="utf-8")
    return tmp


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _stock_folder(tmp_path_factory.mktemp("integration"))


@functools.cache
def _gallery(name: str) -> pr.Document:
    return pr.load(ROOT / "examples" / f"{name}.yaml").render(GALLERY[name]())


@functools.cache
def _built(path: Path) -> pr.Document:
    data = stock_data()
    if path.stem == "grouped":
        data = data.with_columns(pl.col("ean").str.slice(0, 12))
    return pr.load(path).render(data)


def _saved(doc: pr.Document, folder: Path, suffix: str) -> Any:
    """The output read back: HTML text, the sheet's rows, or a Polars frame."""
    path = folder / f"out{suffix}"
    doc.save(path)
    if suffix == ".html":
        return path.read_text(encoding="utf-8")
    if suffix == ".xlsx":
        return [tuple(row) for row in openpyxl.load_workbook(path).active.iter_rows(values_only=True)]
    reader = {
        ".parquet": pl.read_parquet,
        ".csv": functools.partial(pl.read_csv, infer_schema=False),  # the texts as written
        ".json": functools.partial(pl.read_json, infer_schema_length=None),
    }[suffix]
    return reader(path)


def _texts(output: Any) -> str:
    if isinstance(output, str):
        return output
    if isinstance(output, pl.DataFrame):
        return "\n".join(str(v) for column in output.iter_columns() for v in column.to_list())
    return "\n".join(str(v) for row in output for v in row if v is not None)


class _Tags(HTMLParser):
    """The tags and link targets of a page (an HTML parser, as a browser reads it)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.links: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.links.extend(value or "" for name, value in attrs if name == "href" and tag == "a")
        self.handlers.extend(name for name, _ in attrs if name.startswith("on"))


def _tags(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("name", list(GALLERY))
def test_gallery_saves_every_output_without_internal_data(name: str, suffix: str, tmp_path: Path) -> None:
    doc = _gallery(name)
    output = _saved(doc, tmp_path, suffix)
    assert not INTERNAL.search(_texts(output)), f"{name}{suffix} shows a cell's internal JSON"
    if suffix == ".html":
        tags = _tags(output)
        assert "script" not in tags.tags
        assert not tags.handlers
    elif suffix != ".xlsx":  # a data export: the rows of to_frame(), the same texts
        frame = doc.to_frame()
        assert output.height == frame.height
        texts = [column for column in frame.columns if column.endswith("_text")]
        if suffix == ".parquet":
            assert output.equals(frame)
        else:
            assert output.select(texts).equals(frame.select(pl.col(texts).cast(pl.String)))


def test_gallery_rich_text_and_barcodes_in_html_and_data(tmp_path: Path) -> None:
    labels = _gallery("shipping_labels")
    page = _saved(labels, tmp_path, ".html")
    data = pr.sample.shipping_data()
    assert page.count('<div class="barcode"') == 3 * data.height
    for parcel in data["parcel_id"]:
        assert f'<div class="barcode-text">{parcel}</div>' in page
    first = data.row(0, named=True)
    assert f"<strong>{first['recipient']}</strong>" in page
    assert f"{first['address'].splitlines()[0]}<br>" in page
    frame = labels.to_frame()
    assert frame["'**' || recipient || '**'"].to_list() == data["recipient"].to_list()  # no ** markers
    for column in ("parcel_id", "tracking_url"):  # what the codes encode, as text
        assert frame[column].to_list() == frame[f"{column}_text"].to_list() == data[column].to_list()
    eans = [ean + str(-sum(int(d) * (1 + 2 * (k % 2)) for k, d in enumerate(ean)) % 10) for ean in data["ean"]]
    assert frame["ean"].to_list() == eans  # with their check digits
    rows = _saved(labels, tmp_path, ".xlsx")
    assert [row[-3:] for row in rows[1:]] == list(zip(data["tracking_url"], data["parcel_id"], eans, strict=True))
    letter = _saved(_gallery("sales_letter"), tmp_path, ".html")
    assert "<strong>orders</strong>" in letter
    assert "**" not in letter


def test_gallery_crosstab_in_xlsx_is_polars_pivot(tmp_path: Path) -> None:
    rows = _saved(_gallery("sales_crosstab"), tmp_path, ".xlsx")
    data = pr.sample.sales_data(120).with_columns(amount=pl.col("quantity") * pl.col("unit_price"))
    header = next(i for i, row in enumerate(rows) if row[0] == "region")
    expected = data.group_by("region").agg(pl.col("amount").sum()).sort("region")
    body = rows[header + 1 : header + 1 + expected.height]
    assert [row[0] for row in body] == expected["region"].to_list()
    totals = [row[len([c for c in rows[header] if c is not None]) - 1] for row in body]
    assert totals == pytest.approx(expected["amount"].cast(pl.Float64).to_list())  # numbers, not texts


def test_built_report_html_is_escaped_rich_and_translated(folder: Path, tmp_path: Path) -> None:
    page = _saved(_built(folder / "stock.yaml"), tmp_path, ".html")
    tags = _tags(page)
    assert "script" not in tags.tags
    assert "img" not in tags.tags
    assert not tags.handlers
    assert tags.links == ["https://example.org/a?b=1&c=2"]
    assert "<h1><strong>Geprüft</strong> vom <em>Lager</em></h1>" in page
    assert "<strong>Bolt</strong> &lt;script&gt;" in page
    assert "<ul><li>one</li><li>two</li></ul>" in page
    for text in ("Artikel", "Kennung", "Menge", "Gesamtsumme", ">Summe<", ">Gebiet<", "&lt;b&gt;East&lt;/b&gt;"):
        assert text in page
    assert 'aria-label="&lt;b&gt;East&lt;/b&gt;"' in page  # the group header's Code 128
    assert not INTERNAL.search(page)
    assert "**" not in page


def test_built_report_spreadsheet_and_data_are_plain_text(folder: Path, tmp_path: Path) -> None:
    doc = _built(folder / "stock.yaml")
    rows = _saved(doc, tmp_path, ".xlsx")
    cells = [v for row in rows for v in row if v is not None]
    assert "Geprüft vom Lager" in cells
    assert ("Artikel", "Kennung", "Menge") in [r[:3] for r in rows]
    assert "Bolt <script>alert(1)</script>" in cells
    assert "• one\n• two" in cells
    assert "site (https://example.org/a?b=1&c=2) and [bad](javascript:alert(1))" in cells
    crosstab = rows[rows.index(("Gebiet", "a", "b", "Summe")) + 1 :][:4]
    sums = stock_data().group_by("region", "kind").agg(pl.col("qty").sum())
    for row in crosstab[:3]:
        for kind, shown in zip(("a", "b"), row[1:3], strict=True):
            expected = sums.filter(region=row[0], kind=kind)["qty"].to_list()
            assert [shown] == expected if shown is not None else expected == []
    assert crosstab[3] == ("Summe", 4, 6, 10)
    for suffix in (".parquet", ".csv", ".json"):
        frame = _saved(doc, tmp_path, suffix).filter(band="detail")
        assert frame["note"].to_list() == frame["note_text"].to_list()
        assert sorted(frame["note"]) == sorted(["Bolt <script>alert(1)</script>", "• one\n• two", *[
            "site (https://example.org/a?b=1&c=2) and [bad](javascript:alert(1))",
            'plain & <img src=x onerror="alert(1)">',
        ]])  # fmt: skip
        assert not any(c.startswith("__crosstab") for c in frame.columns)


def test_grouped_crosstabs_barcodes_and_rich_text(folder: Path, tmp_path: Path) -> None:
    doc = _built(folder / "grouped.yaml")
    page = _saved(doc, tmp_path, ".html")
    assert page.count('<table class="crosstab"') == 4  # three group footers and the summary
    assert page.count('<div class="barcode"') == 8
    assert page.count('class="barcode-text"') == 4
    assert "<strong>&lt;b&gt;East&lt;/b&gt;</strong> in total" in page
    assert 'href="https://e.org' not in page  # a QR code's URL is drawn, never a link
    rows = _saved(doc, tmp_path, ".xlsx")
    footers = [row[0] for row in rows if isinstance(row[0], str) and row[0].endswith(" in total")]
    assert footers == ["<b>East</b> in total", "North in total", "South in total"]
    assert (None, "a", None, "b", None, "Total", None) in rows  # the summary's column labels over its measures
    summary = rows[rows.index(("region", "units", "Lines", "units", "Lines", "units", "Lines")) + 1 :][:4]
    lines = stock_data().group_by("region").len().sort("region")
    assert [(r[0], r[6]) for r in summary[:3]] == list(lines.iter_rows())
    assert summary[3][:2] == ("Total", 4)
    frame = doc.to_frame()
    assert frame.filter(band="region.footer")["'**' || region || '** in total'"].to_list() == footers


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(pdf_pages(pdf))


@pytest.mark.typst
def test_built_report_pdf_png_archive_and_protected(folder: Path, tmp_path: Path) -> None:
    import pikepdf

    doc = _built(folder / "stock.yaml")
    text = _pdf_text(doc.pdf)
    for shown in ("Geprüft vom Lager", "Artikel", "Gesamtsumme", "Summe", "Gebiet"):
        assert shown in text
    assert "**" not in text
    assert "<script>" in text
    assert "Bolt" in text
    assert doc.png(ppi=30)[0].startswith(b"\x89PNG")
    archive = tmp_path / "a.pdf"
    doc.save(archive, pdf_standard="a-3b", attach=["data", "definition", "parameters"])
    with pikepdf.open(archive) as pdf:
        files = {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}
    assert pl.read_parquet(io.BytesIO(files["stock-data.parquet"])).equals(stock_data())
    assert "markup: markdown" in files["stock.yaml"].decode()
    locked = tmp_path / "l.pdf"
    doc.save(locked, protect=pr.Protection(user_password="s3cret"))
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(locked)
    with pikepdf.open(locked, password="s3cret") as pdf:
        assert pdf.is_encrypted
        assert len(pdf.pages) == doc.page_count


@pytest.mark.typst
def test_grouped_report_pdf_shows_figures_not_markup(folder: Path) -> None:
    text = _pdf_text(_built(folder / "grouped.yaml").pdf)
    assert "<b>East</b> in total" in text
    assert "**" not in text
    assert not INTERNAL.search(text)
    assert "4006381333931" in text  # the EAN-13's human-readable text


@pytest.mark.typst
def test_batch_writes_each_output_per_key(folder: Path, tmp_path: Path) -> None:
    report = pr.load(folder / "stock.yaml")
    for suffix in (".pdf", ".html", ".xlsx"):
        result = pr.batch(report, stock_data(), by="kind", out=tmp_path / suffix[1:], name="{kind}" + suffix, workers=1)
        assert not result.failures, result.failures
        written = sorted(p.name for p in (tmp_path / suffix[1:]).glob(f"*{suffix}"))
        assert written == [f"a{suffix}", f"b{suffix}"]
    page = (tmp_path / "html" / "a.html").read_text(encoding="utf-8")
    assert "Gesamtsumme" in page
    assert "<b>East" not in page
    assert "<strong>Bolt</strong>" in page


@pytest.mark.typst
def test_cli_several_outputs_at_once(folder: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from polarreports.cli import app

    data = tmp_path / "stock.parquet"
    stock_data().write_parquet(data)
    outputs = [tmp_path / f"r{suffix}" for suffix in (".pdf", ".png", *SUFFIXES)]
    arguments = ["render", str(folder / "stock.yaml"), "--data", str(data), "--json"]
    for path in outputs:
        arguments += ["-o", str(path)]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    reported = json.loads(result.stdout)
    assert reported["ok"]
    assert len(reported["outputs"]) == len(outputs)
    assert all(path.stat().st_size > 0 for path in outputs if path.suffix != ".png")
    assert "Gesamtsumme" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Traceback" not in result.output


def test_data_exports_name_the_crosstabs_they_leave_out(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    doc = _gallery("sales_crosstab")
    with caplog.at_level("WARNING", logger="polarreports"):
        doc.save(tmp_path / "out.csv")
    assert "bands.summary.elements[0] (crosstab), bands.summary.elements[2] (crosstab) not in" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="polarreports"):
        doc.save(tmp_path / "out.xlsx")  # the spreadsheet has them
    assert "crosstab" not in caplog.text


def test_rich_text_with_a_link_of_its_own_has_no_link_in_a_link(tmp_path: Path) -> None:
    report = pr.Report.from_yaml("""
name: linked
bands:
  detail:
    elements:
      - {type: field, column: t, markup: markdown, link: url}
""")
    doc = report.render(pl.DataFrame({"t": ["see [a](https://a.org) **b**"], "url": ["https://b.org"]}))
    tags = _tags(_saved(doc, tmp_path, ".html"))
    assert tags.links == ["https://b.org"]


def test_labels_in_a_browser_show_codes_and_their_texts(browser: Any, tmp_path: Path) -> None:  # noqa: F811
    """Headless Chromium: every barcode is drawn at a size, its text visible under it (not cut
    by the label's cell), the rich text bold."""
    open_page(browser, _gallery("shipping_labels"), tmp_path)
    boxes = browser.execute_script(
        "return [...document.querySelectorAll('.barcode svg')].map(s => s.getBoundingClientRect().height)"
    )
    assert len(boxes) == 3 * pr.sample.shipping_data().height
    assert min(boxes) > 10
    clipped = browser.execute_script(
        "return [...document.querySelectorAll('.barcode-text')].filter(t => {"
        " const r = t.getBoundingClientRect(), c = t.parentElement.getBoundingClientRect();"
        " return r.height === 0 || r.bottom > c.bottom + 0.5 || t.innerText.trim() === '' }).length"
    )
    assert clipped == 0
    names = browser.execute_script("return [...document.querySelectorAll('strong')].map(s => s.innerText)")
    assert names == pr.sample.shipping_data()["recipient"].to_list()


def test_a_listing_total_column_cannot_be_rich_text() -> None:
    with pytest.raises(pr.DefinitionError, match=r"listing.columns\[0\]: markup: markdown goes with value or expr"):
        pr.Report.from_yaml("""
name: x
variables: [{name: n, calculation: count}]
listing:
  columns:
    - {heading: N, variable: n, markup: markdown}
""")


def test_a_subreport_s_rows_are_in_the_spreadsheet_and_data_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A subreport's rows are rows of the data outputs and of the XLSX (tests/test_subreports_exports.py
    checks their figures): nothing left out, so no warning."""
    lines = pl.DataFrame({"order_id": [1, 1, 2], "item": ["a", "b", "c"], "amount": [1.0, 2.0, 3.0]})
    element = pr.Subreport(
        report={"name": "lines", "bands": {"detail": {"elements": [{"type": "field", "column": "item"}]}}},
        source="lines",
        keys=["order_id"],
    )
    report = pr.Report(name="orders", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="order_id"), element])))
    doc = report.render(pl.DataFrame({"order_id": [1, 2]}), sources={"lines": lines})
    for suffix in (".xlsx", ".csv"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="polarreports"):
            doc.save(tmp_path / f"orders{suffix}")
        assert not any("not in this output" in r.getMessage() for r in caplog.records)
    assert pl.read_csv(tmp_path / "orders.csv")["lines.item_text"].drop_nulls().to_list() == ["a", "b", "c"]
