"""Columns declared once (``listing``): the column header, detail band and total lines made from
one list of columns are the bands one would write by hand, aligned by construction; mistakes in
a listing are one clear line naming its place."""

from __future__ import annotations

from pathlib import Path

import pytest

import polarreports as pr
from tests.conftest import ROOT

LISTING = """name: r
groups: [{name: region}]
variables:
  - {name: revenue, calculation: sum, expression: amount}
  - {name: orders, calculation: count}
columns: {amount: quantity * unit_price}
listing:
  header: {line_below: true}
  heading_style: {bold: true}
  columns:
    - {heading: Date, value: order_date, format: dd/MM/yyyy, width: 15%}
    - {heading: Customer, value: customer, overflow: ellipsis, width: 35%}
    - heading: Qty
      value: quantity
      width: 10%
      align: right
      totals: {region: {variable: orders, format: "#,##0 'orders'", span: 2}}
    - {heading: Price, value: unit_price, format: '#,##0.00', width: 20%, align: right}
    - heading: Amount
      value: amount
      format: '#,##0.00'
      width: 20%
      align: right
      totals: {region: revenue, report: {variable: revenue, bold: true}}
  footers:
    region: {label: {expr: "'Total ' || region", bold: true}, band: {line_above: true}}
    report: {label: {text: Grand total}}
"""

BY_HAND = """name: r
groups:
  - name: region
    footer:
      line_above: true
      elements:
        - {type: expression, expr: "'Total ' || region", bold: true, width: 50%}
        - {type: aggregate, variable: orders, format: "#,##0 'orders'", width: 30%, align: right}
        - {type: aggregate, variable: revenue, format: '#,##0.00', width: 20%, align: right}
variables:
  - {name: revenue, calculation: sum, expression: amount}
  - {name: orders, calculation: count}
columns: {amount: quantity * unit_price}
bands:
  column_header:
    line_below: true
    elements:
      - {type: label, text: Date, width: 15%, bold: true}
      - {type: label, text: Customer, width: 35%, bold: true}
      - {type: label, text: Qty, width: 10%, align: right, bold: true}
      - {type: label, text: Price, width: 20%, align: right, bold: true}
      - {type: label, text: Amount, width: 20%, align: right, bold: true}
  detail:
    elements:
      - {type: field, column: order_date, format: dd/MM/yyyy, width: 15%}
      - {type: field, column: customer, overflow: ellipsis, width: 35%}
      - {type: field, column: quantity, width: 10%, align: right}
      - {type: field, column: unit_price, format: '#,##0.00', width: 20%, align: right}
      - {type: field, column: amount, format: '#,##0.00', width: 20%, align: right}
  summary:
    elements:
      - {type: label, text: Grand total, width: 80%}
      - {type: aggregate, variable: revenue, format: '#,##0.00', width: 20%, align: right, bold: true}
"""


def load(tmp_path: Path, text: str) -> pr.Report:
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    return pr.load(path)


def test_a_listing_makes_the_bands_one_would_write_by_hand(tmp_path: Path) -> None:
    made, written = load(tmp_path, LISTING), load(tmp_path, BY_HAND)
    assert made == written
    assert made.listing is None  # read definitions hold bands only: to_yaml writes them
    assert pr.Report.from_yaml(made.to_yaml()) == made


def test_every_total_sits_under_its_column(tmp_path: Path) -> None:
    report = load(tmp_path, LISTING)
    widths = [element.width for element in report.bands.detail.elements]
    assert widths == [element.width for element in report.bands.column_header.elements]
    footer = report.groups[0].footer
    assert footer is not None
    assert [element.width for element in footer.elements] == ["50%", "30%", "20%"]  # 15+35, 10+20, 20


def test_the_gallery_statement_and_ledger_use_it() -> None:
    for name in ("customer_statement", "sales_ledger"):
        text = (ROOT / "examples" / f"{name}.yaml").read_text(encoding="utf-8")
        assert "\nlisting:\n" in text
        assert "\n  detail:\n" not in text.split("\nbands:\n")[1]  # made from the listing
    statement = pr.load(ROOT / "examples" / "customer_statement.yaml")
    header = statement.groups[1].header
    assert header is not None
    assert [e.text for e in header.elements] == ["Date", "Reference", "Description", "Debit", "Credit", "Balance"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("region: revenue", "region: revnue"), ", line 24: listing.columns[4].totals.region: unknown variable "
         "'revnue'; did you mean 'revenue'?"),
        (("totals: {region: {", "totals: {regoin: {"), ", line 17: listing.columns[2].totals.regoin: unknown level "
         "'regoin'; did you mean 'region'? (the groups, or 'report')"),
        (("span: 2", "span: 4"), ": listing.columns[2].totals.region.span: 4 is not a number of columns from 1 to 3"),
        (("width: 15%}", "width: 40mm}"), ": listing.footers.region.label: the label spans columns whose widths "
         "do not add up (['40mm', '35%']); give them all in one unit"),
        (("value: quantity", "value: quantity\n      expr: quantity * 2"), ", line 13: listing.columns[2]: give "
         "one of value, expr or variable, not value and expr"),
        (("overflow: ellipsis", "overflo: ellipsis"), ", line 12: listing.columns[1].overflo: unknown key; did you "
         "mean 'overflow'?"),
        (("name: r\n", "name: r\nbands: {detail: {elements: [{type: label, text: x}]}}\n"), ": bands.detail: given "
         "twice, by the listing and here; leave one out"),
    ],
    ids=["unknown variable", "unknown level", "span too wide", "units that do not add", "two values",
         "misspelled key", "detail given twice"],
)  # fmt: skip
def test_a_mistake_in_a_listing_is_one_line_naming_its_place(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    with pytest.raises(pr.DefinitionError) as error:
        load(tmp_path, LISTING.replace(*change, 1))
    text = str(error.value)
    assert text.startswith(str(tmp_path / "r.yaml"))
    assert message in text
    assert "\n" not in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("header: {line_below: true}", "header: {line_belw: true}"), ", line 8: listing.header.line_belw: unknown "
         "key"),
        (("heading_style: {bold: true}", "heading_style: {bld: true}"), ", line 9: listing.heading_style.bld: "
         "unknown key; did you mean 'bold'?"),
        (("heading_style: {bold: true}", "heading_style: {size: huge}"), ", line 9: listing.heading_style.size: "
         "input should be a valid number"),
        (("width: 15%}", "width: 15%, size: -3}"), ", line 11: listing.columns[0].size: input should be greater "
         "than 0, not -3.0"),
        (("{variable: revenue, bold: true}", "{variable: revenue, show: percnt}"), ", line 24: "
         "listing.columns[4].totals.report.show: 'percnt' is not a show (one of value, running, percent, page, "
         "brought_forward, carried_forward); did you mean 'percent'?"),
        (("band: {line_above: true}", "band: {line_abve: true}"), ", line 26: listing.footers.region.band.line_abve: "
         "unknown key"),
        (("bold: true}, band:", "bold: maybe}, band:"), ", line 26: listing.footers.region.label.bold: input should "
         "be a valid boolean"),
        (("  footers:", "  detail: {zebr: true}\n  footers:"), ", line 25: listing.detail.zebr: unknown key"),
    ],
    ids=["header key", "heading style key", "heading style value", "column value", "total's show", "footer band key",
         "footer label value", "detail key"],
)  # fmt: skip
def test_a_mistake_found_in_the_bands_made_names_its_place_in_the_listing(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    """Checked only once made into bands (their settings are passed through): said where the
    listing has it, with its line, once (not once per heading or cell made from it)."""
    assert change[0] in LISTING
    with pytest.raises(pr.DefinitionError) as error:
        load(tmp_path, LISTING.replace(*change, 1))
    text = str(error.value)
    assert text.startswith(f"{tmp_path / 'r.yaml'}{message}")
    assert "\n" not in text
    assert "bands." not in text
    assert "groups[" not in text


def test_several_mistakes_in_the_bands_made_are_one_line(tmp_path: Path) -> None:
    text = LISTING.replace("heading_style: {bold: true}", "heading_style: {bld: true}").replace(
        "band: {line_above: true}", "band: {line_abve: true}"
    )
    with pytest.raises(pr.DefinitionError) as error:
        load(tmp_path, text)
    first = ", line 26: listing.footers.region.band.line_abve: unknown key"  # the first pydantic finds
    assert str(error.value) == f"{tmp_path / 'r.yaml'}{first} (and 1 more in the listing)"


def test_a_mistake_in_a_group_header_made_by_the_listing_names_the_listing(tmp_path: Path) -> None:
    text = LISTING.replace("  header: {line_below: true}", "  header_in: region\n  header: {line_belw: true}")
    with pytest.raises(pr.DefinitionError, match=r", line 9: listing\.header\.line_belw: unknown key$"):
        load(tmp_path, text)
