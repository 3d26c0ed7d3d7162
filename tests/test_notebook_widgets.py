"""In a notebook: page images that show themselves, a report's tree, the document pager and the
interactive preview (ipywidgets, driven from code as a person's clicks would)."""

from __future__ import annotations

import base64
import datetime as dt
import json

import polars as pl
import pytest

import polarreports as pr
from polarreports.output.pages import PageImage, Pages
from tests.conftest import ROOT

ipywidgets = pytest.importorskip("ipywidgets", reason="ipywidgets is not installed: pip install -e '.[dev]'")

EXAMPLE = pr.load(ROOT / "examples" / "sales_by_region.yaml")
SALES = pr.sample.sales_data(600)


def expected_summary(year: int | None, min_quantity: int = 1) -> list[str]:
    """The summary's values, computed with Polars from the rows (as the report's formats print them)."""
    rows = SALES.filter(pl.col("quantity") >= min_quantity)
    if year is not None:
        rows = rows.filter(pl.col("order_date").dt.year() == year)
    revenue = rows.select((pl.col("quantity") * pl.col("unit_price")).sum()).item()
    return [f"{rows['quantity'].sum():,}", f"{rows.height:,} orders", f"€{revenue:,.2f}"]


@pytest.mark.typst
def test_preview_pages_are_bytes_that_show_as_images() -> None:
    document = EXAMPLE.render(SALES, year=2025)
    pages = document.preview(2)
    assert isinstance(pages, Pages)
    assert all(isinstance(page, PageImage) and page.startswith(b"\x89PNG") for page in pages)
    assert pages.total is not None
    assert pages.total >= 2
    assert repr(pages) == f"<pages 2 of {pages.total}: PNG>"
    assert pages[0]._repr_png_() == bytes(pages[0])
    assert str(pages[1]).startswith("<page 2: PNG, ")  # never a dump of the bytes
    assert pages._repr_html_().count("data:image/png;base64,") == 2
    assert document.preview(1) == pages[:1]  # kept: the same bytes, without typesetting again
    assert document.page(3) != pages[1]
    assert document.page(3).number == 3
    with pytest.raises(IndexError, match="the document has"):
        document.page(pages.total + 1)


@pytest.mark.typst
def test_pages_past_those_kept_are_typeset_on_demand(monkeypatch: pytest.MonkeyPatch) -> None:
    from polarreports.output import document as document_module

    monkeypatch.setattr(document_module, "MAX_KEPT_PAGES", 2)
    document = EXAMPLE.render(SALES)
    assert len(document.preview(1)._repr_html_()) > 0
    assert document.page(2).number == 2  # kept
    total = document.preview(1).total
    assert total is not None
    assert total > 3
    assert document.page(3).number == 3  # typeset again, further
    assert document.page(total).number == total
    with pytest.raises(IndexError):
        document.page(total + 1)


@pytest.mark.typst
def test_a_document_shows_compact_png_pages_with_the_page_count() -> None:
    document = EXAMPLE.render(SALES)
    shown = document._repr_html_()
    total = document.preview(2).total
    assert total is not None
    assert total > 4
    assert f"{total} pages" in shown
    assert shown.count("data:image/png;base64,") == 4  # the first four, with a pager of CSS
    assert len(shown) < 1_700_000  # screen-resolution pages, not megabytes of SVG each
    bundle = document._repr_mimebundle_()
    assert bundle["text/html"] == shown  # no kernel here: no widget
    assert "application/vnd.jupyter.widget-view+json" not in bundle
    # for the front-ends that show no HTML (GitHub) or only text: the first page, the counts
    assert base64.b64decode(str(bundle["image/png"])) == bytes(document.page(1))
    assert bundle["text/plain"] == f"<polarreports.Document: 600 rows, {total} pages>"
    json.dumps(bundle)  # as a kernel sends it and a notebook stores it


def test_a_report_shows_its_structure_as_a_tree() -> None:
    tree = str(EXAMPLE.tree())
    lines = tree.splitlines()
    assert lines[0] == "report 'sales_by_region': Sales by region and customer (a4 portrait)"
    region = next(i for i, line in enumerate(lines) if line.endswith("group region"))
    customer = next(i for i, line in enumerate(lines) if line.endswith("group customer"))
    detail = next(i for i, line in enumerate(lines) if "detail: field order_date" in line)
    summary = next(i for i, line in enumerate(lines) if "summary: label 'Grand total'" in line)
    assert region < customer < detail < summary  # reading order, groups nested
    assert lines[customer].index("group") > lines[region].index("group")
    assert "customer_running = sum(amount), reset by customer" in tree
    assert "min_quantity (integer) = 1" in tree


def test_a_report_prints_as_one_short_line() -> None:
    shown = repr(EXAMPLE)
    assert shown == (
        "Report(name='sales_by_region', file="
        + repr(str(ROOT / "examples" / "sales_by_region.yaml"))
        + ", groups=['region', 'customer'], bands=11, elements=40, variables=4, parameters=2)"
    )
    assert str(EXAMPLE) == shown
    assert len(str(EXAMPLE.tree())) > 5 * len(shown)  # the tree is the whole view
    rich_pretty = pytest.importorskip("rich.pretty")
    assert " ".join(rich_pretty.pretty_repr(EXAMPLE, max_width=1000).split()) == shown
    bands = sum(band is not None for band in EXAMPLE.bands.__dict__.values()) + 2 * len(EXAMPLE.groups)
    elements = sum(len(band.elements) for band in EXAMPLE.written_bands())
    assert (bands, elements) == (11, 40)


def test_a_reports_line_names_its_source_but_never_a_databases_address() -> None:
    source = {"uri": "postgresql://clerk:${PGPASSWORD}@db.example:5432/shop", "query": "SELECT * FROM orders"}
    report = pr.Report.model_validate({"name": "orders", "source": source})
    assert repr(report) == "Report(name='orders', source='postgresql: query', groups=[], bands=0, elements=0)"
    assert "clerk" not in str(report)
    assert "db.example" not in str(report)
    assert "source='sales.parquet'" in repr(
        pr.Report.model_validate({"name": "x", "source": {"path": "sales.parquet"}})
    )


def test_the_tree_escapes_the_definitions_text() -> None:
    report = pr.Report(
        name="x", bands=pr.Bands(detail=pr.Band(elements=[pr.Label(text="<img src=x onerror=alert(1)>")]))
    )
    shown = report._repr_html_()
    assert "<img" not in shown
    assert "&lt;img src=x" in shown


def test_controls_follow_the_parameters() -> None:
    from polarreports.output.notebook import parameter_control

    def control(**declared: object) -> object:
        parameter = pr.Parameter(name="p", **declared)  # type: ignore[arg-type]
        return parameter_control(parameter, parameter.default)

    assert isinstance(control(type="string", allowed=["North", "South"]), ipywidgets.Dropdown)
    assert isinstance(control(type="boolean", default=True), ipywidgets.Checkbox)
    assert isinstance(control(type="date", default="2025-01-31"), ipywidgets.DatePicker)
    assert control(type="date", default="2025-01-31").value == dt.date(2025, 1, 31)  # type: ignore[attr-defined]
    assert isinstance(control(type="datetime"), ipywidgets.NaiveDatetimePicker)
    assert control(type="datetime", default="2025-01-31T08:30").value == dt.datetime(2025, 1, 31, 8, 30)  # type: ignore[attr-defined]
    assert isinstance(control(type="integer", default=3), ipywidgets.IntText)
    assert isinstance(control(type="float", default=0.5), ipywidgets.FloatText)
    assert isinstance(control(type="integer"), ipywidgets.Text)  # no value: empty means not given
    dropdown = control(type="string", allowed=["North", "South"])
    assert [label for label, _ in dropdown.options] == ["(not set)", "North", "South"]  # type: ignore[attr-defined]


@pytest.mark.typst
def test_the_preview_renders_again_when_a_parameter_changes() -> None:
    preview = EXAMPLE.preview(SALES, year=2025).wait()
    assert preview.error.value == ""
    assert preview.summary_values == expected_summary(2025)
    first_page = bytes(preview.view.images[0].value)
    assert first_page.startswith(b"\x89PNG")
    assert preview.progress.value == 1.0
    assert preview.cancel_button.disabled

    preview.controls["year"].value = "2024"
    preview.wait()
    assert preview.summary_values == expected_summary(2024)
    assert bytes(preview.view.images[0].value) != first_page
    assert "€" in preview.summary.value

    preview.controls["min_quantity"].value = 5
    preview.wait()
    assert preview.summary_values == expected_summary(2024, 5)

    heading = preview.view.heading.value
    preview.view.next.click()  # the pager typesets the next pages on demand
    assert "showing 3–4" in preview.view.heading.value, (heading, preview.view.heading.value)
    preview.controls["min_quantity"].value = 2  # the reader stays on the pages shown
    preview.wait()
    assert "showing 3–4" in preview.view.heading.value
    preview.view.previous.click()
    assert "showing 1–2" in preview.view.heading.value
    preview.view.next.click()
    preview.controls["min_quantity"].value = 45  # a document of one page: shown from its start
    preview.wait()
    assert "1 page, showing 1–1" in preview.view.heading.value, preview.view.heading.value
    assert bytes(preview.view.images[0].value).startswith(b"\x89PNG")
    assert preview.view.images[1].layout.visibility == "hidden"


@pytest.mark.typst
def test_the_preview_shows_an_error_in_place_escaped() -> None:
    preview = EXAMPLE.preview(SALES).wait()
    before = preview.summary_values
    preview.controls["year"].value = "<b>twenty</b>"
    preview.wait()
    assert "ParameterError" in preview.error.value
    assert "&lt;b&gt;twenty&lt;/b&gt;" in preview.error.value
    assert "<b>twenty" not in preview.error.value
    assert preview.summary_values == before  # the last good pages stay
    preview.controls["year"].value = ""
    preview.wait()
    assert preview.error.value == ""


def test_the_cancel_button_stops_the_render() -> None:
    started, release = __import__("threading").Event(), __import__("threading").Event()

    def slow_render(data: object, **options: object) -> pr.Document:
        token = options["cancel"]
        started.set()
        while not token.cancelled:  # type: ignore[attr-defined]
            release.wait(0.01)
        message = "the render was cancelled"
        raise pr.Cancelled(message)

    from polarreports.output.notebook import ReportPreview

    preview = ReportPreview(slow_render, [], SALES)
    assert started.wait(10)
    assert not preview.cancel_button.disabled
    preview.cancel_button.click()
    preview.wait(10)
    assert preview.status.value == "cancelled"
    assert preview.cancel_button.disabled


@pytest.mark.typst
def test_a_document_that_cannot_be_typeset_shows_its_error_as_text() -> None:
    token = pr.CancelToken()
    document = EXAMPLE.render(SALES, cancel=token)
    token.cancel()
    assert document._repr_html_() == "<pre>Cancelled: the render was cancelled</pre>"
    bundle = document._repr_mimebundle_()
    assert bundle["text/plain"] == "<polarreports.Document: 600 rows; Cancelled: the render was cancelled>"
    assert "image/png" not in bundle
