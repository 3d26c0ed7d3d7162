"""Crosstabs: the figures agree with Polars' own pivot and with DuckDB's PIVOT (and its CUBE
for the totals), in the report and per group; read back from the PDF text as well; their
headers repeat on every page and their columns continue in panels; data stays text."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import duckdb
import polars as pl
import pytest

import polarreports as pr
from polarreports.api import plan_report
from polarreports.definition.elements import Crosstab
from polarreports.exceptions import DefinitionError, PlanError

QUARTER = {"column": "order_date", "bucket": "quarter", "format": "yyyy-MM-dd"}
HOSTILE = ['#panic("x")', "]) #sys.exit()", "$x^2$ *bold* _i_", "\\", '"quoted"', "<b>x</b>", "@ref", "// no"]


def _report(elements: list[dict[str, Any]], *, where: str = "summary", **more: Any) -> pr.Report:
    definition: dict[str, Any] = {"name": "xtab", "columns": {"amount": "quantity * unit_price"}, **more}
    if where == "summary":
        definition["bands"] = {"summary": {"elements": elements}}
    else:
        definition["groups"] = [{"name": "category", "header": {"elements": elements}}]
    return pr.Report.model_validate(definition)


def _crosstab(**more: Any) -> dict[str, Any]:
    return {
        "type": "crosstab",
        "rows": ["region"],
        "columns": [QUARTER],
        "measures": {"revenue": {"value": "sum(amount)", "format": "0.00"}},
        **more,
    }


def _tables(report: pr.Report, data: pl.DataFrame) -> list[dict[str, Any]]:
    """The crosstab JSON of the report's first crosstab, per instance (one for the report)."""
    plan, scopes = plan_report(report, data)
    crosstab = plan.crosstabs[0]
    frame = scopes.groups[crosstab.level] if crosstab.level else scopes.report
    return [json.loads(text) for text in frame.collect()[crosstab.column].to_list()]


def _as_dict(table: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(row label, column label) -> the cell's text, totals included ("Total")."""
    return {(row[0], col[0]): row[1 + j] for row in table["rows"] for j, col in enumerate(table["cols"])}


def _with_amount(data: pl.DataFrame) -> pl.DataFrame:
    return data.with_columns(
        amount=pl.col("quantity") * pl.col("unit_price"),
        quarter=pl.col("order_date").dt.truncate("1q").cast(pl.String),
    )


def test_cells_and_totals_match_polars_pivot(sales: pl.DataFrame) -> None:
    (table,) = _tables(_report([_crosstab()]), sales)
    data = _with_amount(sales)
    pivot = data.pivot(on="quarter", index="region", values="amount", aggregate_function="sum").sort("region")
    quarters = sorted(c for c in pivot.columns if c != "region")
    assert [c[0] for c in table["cols"]] == [*quarters, "Total"]
    assert [r[0] for r in table["rows"]] == [*pivot["region"].to_list(), "Total"]
    cells = _as_dict(table)
    for row in pivot.iter_rows(named=True):
        for quarter in quarters:
            assert Decimal(cells[row["region"], quarter]) == row[quarter].quantize(Decimal("0.01"))
        assert Decimal(cells[row["region"], "Total"]) == sum(row[q] for q in quarters)
    for quarter in quarters:
        assert Decimal(cells["Total", quarter]) == pivot[quarter].sum()
    assert Decimal(cells["Total", "Total"]) == data["amount"].sum()


def test_cells_and_totals_match_duckdb_pivot_and_cube(sales: pl.DataFrame) -> None:
    (table,) = _tables(_report([_crosstab()]), sales)
    cells = _as_dict(table)
    source = _with_amount(sales).select("region", "quarter", "amount")  # noqa: F841 (read by DuckDB)
    pivot = duckdb.sql("PIVOT source ON quarter USING sum(amount) GROUP BY region ORDER BY region").pl()
    for row in pivot.iter_rows(named=True):
        for quarter, value in row.items():
            if quarter != "region":
                assert Decimal(cells[row["region"], quarter]) == value
    cube = duckdb.sql("SELECT region, quarter, sum(amount) AS s FROM source GROUP BY CUBE (region, quarter)").pl()
    for region, quarter, value in cube.iter_rows():
        assert Decimal(cells[region or "Total", quarter or "Total"]) == value
    assert len(cube) == len(cells)  # no cell the data lacks, none missing


def test_per_group_crosstabs_match_duckdb(sales: pl.DataFrame) -> None:
    element = _crosstab(
        rows=[{"column": "order_date", "bucket": "year", "format": "yyyy"}],
        columns=["region"],
        measures={"orders": "count(*)", "units": "sum(quantity)", "top": "max(quantity)", "mean": "avg(quantity)"},
    )
    tables = _tables(_report([element], where="group"), sales)
    source = sales  # noqa: F841 (read by DuckDB)
    expected = duckdb.sql(
        "SELECT category, year(order_date)::VARCHAR AS y, region, count(*) AS orders, sum(quantity) AS units, "
        "max(quantity) AS top, avg(quantity) AS mean FROM source GROUP BY CUBE (category, y, region) "
        "HAVING category IS NOT NULL ORDER BY category"
    ).pl()
    categories = sorted(sales["category"].unique())
    assert len(tables) == len(categories)
    for category, table in zip(categories, tables, strict=True):
        columns = [c[0] for c in table["cols"]]
        rows = {row[0]: row[1:] for row in table["rows"]}
        for _, year, region, orders, units, top, mean in expected.filter(pl.col("category") == category).iter_rows():
            at = 4 * columns.index(region or "Total")
            got = rows[year or "Total"][at : at + 4]
            assert [int(got[0].replace(",", "")), int(got[1].replace(",", "")), int(got[2])] == [orders, units, top]
            assert float(got[3].replace(",", "")) == pytest.approx(mean, abs=0.0051)


def test_subtotals_match_duckdb_rollup(sales: pl.DataFrame) -> None:
    """Region and country down (each region's subtotal after its countries; some countries are
    null), year across: every figure is DuckDB's over ROLLUP (region, country) x CUBE (year)."""
    element = _crosstab(
        rows=["region", "country"],
        columns=[{"column": "order_date", "bucket": "year", "format": "yyyy"}],
        measures={"units": "sum(quantity)"},
        subtotals=True,
    )
    (table,) = _tables(_report([element]), sales)
    years = [c[0] for c in table["cols"]]
    rows = [(r[0], r[1], zip(years, r[2:], strict=True)) for r in table["rows"]]
    shown = {(a, b, year): int(v.replace(",", "")) for a, b, cells in rows for year, v in cells if v}
    source = sales  # noqa: F841 (read by DuckDB)
    expected = duckdb.sql(
        "SELECT region, country, year(order_date)::VARCHAR, sum(quantity), "
        "GROUPING(region), GROUPING(country), GROUPING(year(order_date)::VARCHAR) "
        "FROM source GROUP BY ROLLUP (region, country), CUBE (year(order_date)::VARCHAR)"
    ).fetchall()
    wanted = {}
    for region, country, year, units, all_regions, all_countries, all_years in expected:
        down = ("Total", "") if all_regions else (region, "Total") if all_countries else (region, country or "(none)")
        wanted[(*down, "Total" if all_years else year)] = int(units)
    assert shown == wanted
    assert table["row_totals"] == [r[1] == "Total" or r[0] == "Total" for r in table["rows"]]
    assert table["col_totals"] == [y == "Total" for y in years]


def test_measures_as_variables_calculate_them(sales: pl.DataFrame) -> None:
    """``{calculation, value}`` as a variable's: the same figures as the expressions, and a
    count without a value counts rows; each equals Polars' own per cell."""
    calculated = {
        "units": {"calculation": "sum", "value": "quantity"},
        "orders": {"calculation": "count"},
        "customers": {"calculation": "count_distinct", "value": "customer"},
        "middle": {"calculation": "median", "value": "quantity", "format": "0.0"},
    }
    (table,) = _tables(_report([_crosstab(columns=["category"], measures=calculated)]), sales)
    expected = sales.group_by("region", "category").agg(
        pl.col("quantity").sum(), pl.len(), pl.col("customer").n_unique(), pl.col("quantity").median().alias("m")
    )
    columns = [c[0] for c in table["cols"]]
    rows = {r[0]: r[1:] for r in table["rows"]}
    for region, category, units, orders, customers, middle in expected.iter_rows():
        at = 4 * columns.index(category)
        assert rows[region][at : at + 4] == [f"{units:,}", f"{orders:,}", str(customers), f"{middle:.1f}"]
    with pytest.raises(DefinitionError, match="a crosstab measure needs a value"):
        _report([_crosstab(measures={"x": {"calculation": "sum"}})])


def test_null_keys_stay_apart_from_the_totals() -> None:
    data = pl.DataFrame({"region": ["a", None, "a"], "q": ["x", "x", None], "n": [1, 2, 4]})
    report = pr.Report.model_validate(
        {
            "name": "nulls",
            "bands": {
                "summary": {
                    "elements": [
                        {"type": "crosstab", "rows": ["region"], "columns": ["q"], "measures": {"n": "sum(n)"}}
                    ]
                }
            },
        }
    )
    (table,) = _tables(report, data)
    assert table["cols"] == [["x"], ["(none)"], ["Total"]]
    assert table["rows"] == [["a", "1", "4", "5"], ["(none)", "2", "", "2"], ["Total", "3", "4", "7"]]


def test_totals_can_be_left_out(sales: pl.DataFrame) -> None:
    (table,) = _tables(_report([_crosstab(total_row=False, total_column=False)]), sales)
    assert "Total" not in [c[0] for c in table["cols"]]
    assert "Total" not in [r[0] for r in table["rows"]]


def test_hostile_keys_stay_text_in_the_data() -> None:
    data = pl.DataFrame({"r": HOSTILE, "c": list(reversed(HOSTILE)), "n": range(len(HOSTILE))})
    report = pr.Report.model_validate(
        {
            "name": "hostile",
            "bands": {
                "summary": {
                    "elements": [{"type": "crosstab", "rows": ["r"], "columns": ["c"], "measures": {"n": "sum(n)"}}]
                }
            },
        }
    )
    (table,) = _tables(report, data)
    assert sorted(r[0] for r in table["rows"][:-1]) == sorted(HOSTILE)
    assert sorted(c[0] for c in table["cols"][:-1]) == sorted(HOSTILE)


@pytest.mark.parametrize(
    ("element", "where", "message"),
    [
        (_crosstab(rows=["regoin"]), "summary", "unknown column 'regoin'; did you mean 'region'?"),
        (_crosstab(measures={"x": "sum(amout)"}), "summary", "measure 'x'"),
        (_crosstab(measures={"x": "sum(region)"}), "summary", "measure 'x': cannot compute: `sum` operation"),
        (_crosstab(measures={"x": "amount"}), "group", "measure 'x': gives one value per row, not one per cell"),
        (_crosstab(rows=[{"column": "region", "bucket": "month"}]), "summary", "needs a date or datetime column"),
        (_crosstab(rows=[{"column": "region", "bin": 10}]), "group", "bin: 10 needs a column of numbers"),
    ],
)
def test_mistakes_are_named(sales: pl.DataFrame, element: dict[str, Any], where: str, message: str) -> None:
    with pytest.raises(PlanError, match=re.escape(message)):
        plan_report(_report([element], where=where), sales)


def test_a_format_that_does_not_fit_is_named(sales: pl.DataFrame) -> None:
    element = _crosstab(columns=[{"column": "order_date", "format": "#,##0"}])
    with pytest.raises(pr.FormatError, match=r"elements\[0\] \(crosstab\) dimension 'order_date': pattern '#,##0'"):
        plan_report(_report([element]), sales)


def test_more_cells_than_max_cells_is_a_clear_error(sales: pl.DataFrame) -> None:
    element = _crosstab(rows=["order_id"], columns=["customer"], max_cells=1_000)
    with pytest.raises(pr.LayoutError, match="cells, more than its max_cells of 1,000"):
        _report([element]).render(sales).data_json()


def test_a_crosstab_in_the_detail_band_is_refused(sales: pl.DataFrame) -> None:
    report = pr.Report.model_validate({"name": "d", "bands": {"detail": {"elements": [_crosstab()]}}})
    with pytest.raises(PlanError, match="place it in a group header or footer"):
        plan_report(report, sales)


def test_a_column_grouped_twice_is_refused() -> None:
    with pytest.raises(DefinitionError, match="'region' is in rows or columns twice"):
        _report([_crosstab(columns=["region"])])


@pytest.mark.parametrize("name", ["header_fill", "total_fill", "color"])
def test_crosstab_colours_are_checked(name: str) -> None:
    with pytest.raises(DefinitionError, match="not a hex colour"):
        _report([_crosstab(**{name: 'red"); #panic('})])


# -- in the PDF --------------------------------------------------------------------------------


def _pdf_text(pdf: bytes) -> list[str]:
    """Each page's text laid out as printed (``pdftotext -layout``, from poppler-utils)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is missing: install Debian's poppler-utils (make system)")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return text.decode().split("\f")


def _figures(lines: list[str], head: str) -> tuple[dict[tuple[str, str], int], dict[int, str]]:
    """(row label, column label) -> figure, from crosstab lines as ``pdftotext -layout`` lays
    them out: a figure belongs to the header whose right edge it ends at (both right-aligned);
    header lines start with ``head``. Also the last header (right edge -> label)."""
    found: dict[tuple[str, str], int] = {}
    header: dict[int, str] = {}
    for line in lines:
        if line.split()[0] == head:
            header = {m.end(): m.group() for m in re.finditer(r"\S+", line)}
            continue
        figures = list(re.finditer(r"(?<!\S)[\d,]+(?!\S)", line))
        if not figures:  # a row without figures in this panel's columns
            continue
        label = line[: figures[0].start()].strip()
        for figure in figures:
            column = header[min(header, key=lambda end: abs(end - figure.end()))]
            found[label, column] = int(figure.group().replace(",", ""))
    return found, header


@pytest.mark.typst
def test_pdf_shows_the_pivot_with_repeated_headers_and_column_panels() -> None:
    """Customers down (more than a page) and quarters across (more than the page is wide):
    every page starts with the column headers, and the second panel of columns repeats the
    customers; every figure read from the PDF equals Polars' pivot."""
    sales = pr.sample.sales_data(600)
    element = _crosstab(rows=["customer"], column_width="30mm", row_header_width="35mm")
    element["measures"] = {"units": "sum(quantity)"}
    pdf = _report([element]).render(sales).pdf
    pages = [page for page in _pdf_text(pdf) if page.strip()]
    data = _with_amount(sales)
    pivot = data.pivot(on="quarter", index="customer", values="quantity", aggregate_function="sum").sort("customer")
    quarters = sorted(c for c in pivot.columns if c != "customer")
    assert len(pages) >= 2
    seen: dict[tuple[str, str], int] = {}
    for page in pages:
        lines = [line for line in page.splitlines() if line.strip()]
        assert lines[0].split()[0] == "customer", "the column headers lead every page"
        found, header = _figures(lines, "customer")
        seen |= found
    assert len(header) < len(quarters) + 2, "the quarters did not fit one panel"
    expected = {("Total", "Total"): sales["quantity"].sum()}
    for row in pivot.iter_rows(named=True):  # (the pivot's sum of no rows may be 0 or null)
        expected |= {(row["customer"], q): row[q] for q in quarters if row[q]}
        expected[row["customer"], "Total"] = sum(row[q] or 0 for q in quarters)
    expected |= {("Total", q): pivot[q].sum() for q in quarters}
    assert seen == expected


@pytest.mark.typst
def test_hostile_keys_print_as_they_are() -> None:
    """Keys, a column's name and a measure's label that look like Typst code print as text."""
    name = '") #panic("r'
    data = pl.DataFrame({name: HOSTILE, "c": ["k"] * len(HOSTILE), "n": range(len(HOSTILE))})
    measures = {'#panic("m")': "sum(n)", "two": {"value": "count(*)", "label": "]} #panic()"}}
    element = {"type": "crosstab", "rows": [name], "columns": ["c"], "measures": measures}
    report = pr.Report.model_validate({"name": "h", "bands": {"summary": {"elements": [element]}}})
    text = "\n".join(_pdf_text(report.render(data).pdf))
    for hostile in [*HOSTILE, name, '#panic("m")', "]} #panic()"]:
        assert hostile in text


def _per_customer(*, footer: bool = True) -> pr.Report:
    """A listing grouped by customer, a crosstab of the units by category and year in each
    customer's footer (with ``footer``) and of everyone's in the summary."""
    crosstab = {
        "type": "crosstab",
        "rows": ["category"],
        "columns": [{"column": "order_date", "bucket": "year", "format": "yyyy"}],
        "measures": {"units": "sum(quantity)"},
    }
    group: dict[str, Any] = {"name": "customer", "header": {"elements": [{"type": "field", "column": "customer"}]}}
    if footer:
        group["footer"] = {"elements": [crosstab]}
    detail = [{"type": "field", "column": "order_id"}, {"type": "field", "column": "quantity"}]
    return pr.Report.model_validate(
        {
            "name": "per_customer",
            "sort": ["order_id"],
            "groups": [group],
            "bands": {"detail": {"elements": detail}, "summary": {"elements": [crosstab]}},
        }
    )


def test_crosstabs_come_out_the_same_in_parts() -> None:
    from tests.test_parts import _same_stream

    _same_stream(_per_customer(), pr.sample.sales_data(600), rows_per_part=40, batch_rows=250)


def _units_by_category_and_year(sales: pl.DataFrame) -> dict[tuple[str, str], int]:
    cube = duckdb.sql(
        "SELECT category, year(order_date)::VARCHAR, sum(quantity) FROM sales GROUP BY CUBE (category, 2)"
    ).fetchall()
    return {(category or "Total", year or "Total"): int(units) for category, year, units in cube}


def _crosstab_after(text: str, start: int) -> dict[tuple[str, str], int]:
    """The figures of the first category-by-year crosstab of ``text`` after ``start``."""
    block = text[text.index("category", start) :]
    total = re.search(r"^\s*Total\b.*$", block, flags=re.MULTILINE)
    assert total is not None
    return _figures([line for line in block[: total.end()].splitlines() if line.strip()], "category")[0]


@pytest.mark.typst
def test_a_summary_crosstab_in_chunked_typesetting(small_chunks: None) -> None:
    from tests.conftest import chunk_count

    sales = pr.sample.sales_data(400)
    document = _per_customer(footer=False).render(sales)
    text = "\n".join(_pdf_text(document.pdf))
    assert chunk_count(document) > 1
    assert _crosstab_after(text, text.rindex("category")) == _units_by_category_and_year(sales)


@pytest.mark.typst
def test_a_crosstab_per_group_instance_in_the_pdf(small_chunks: None) -> None:
    """A crosstab per customer: band heights vary with the instance, so the report is typeset
    in one piece (not in chunks); each customer's figures are its own."""
    sales = pr.sample.sales_data(150)
    document = _per_customer().render(sales)
    text = "\n".join(_pdf_text(document.pdf))
    assert document.stats.typeset.startswith("one piece")
    for customer in sales["customer"].unique().sort():
        found = re.search(rf"^{re.escape(customer)}$", text, flags=re.MULTILINE)
        assert found is not None, customer
        shown = _crosstab_after(text, found.end())
        assert shown == _units_by_category_and_year(sales.filter(pl.col("customer") == customer)), customer


class _Cells(HTMLParser):
    """The text of each table cell of an HTML page, row by row, and every tag seen."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: set[str] = set()
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_html_page_shows_the_crosstab_as_a_table_of_text(tmp_path: Any) -> None:
    data = pl.DataFrame({"r": [*HOSTILE, "<script>alert(1)</script>"], "c": "k", "n": range(len(HOSTILE) + 1)})
    element = {"type": "crosstab", "rows": ["r"], "columns": ["c"], "measures": {"n": "sum(n)"}}
    report = pr.Report.model_validate({"name": "h", "bands": {"summary": {"elements": [element]}}})
    (table,) = _tables(report, data)
    report.render(data).save(tmp_path / "x.html")
    page = _Cells()
    page.feed((tmp_path / "x.html").read_text(encoding="utf-8"))
    assert "script" not in page.tags
    assert page.rows[-len(table["rows"]) - 1 :] == [["r", "k", "Total"], *table["rows"]]


def _per_group_data() -> pl.DataFrame:
    """Two groups of 70 items each, by six quarters: each group's crosstab is longer than a page."""
    rows = [
        (g, f"item{i:03d}", f"Q{q}", (i * 7 + q * 3 + len(g)) % 50)
        for g in ("G1", "G2")
        for i in range(70)
        for q in range(1, 7)
    ]
    frame = pl.DataFrame(rows, schema=["grp", "item", "q", "v"], orient="row")
    return frame.filter(pl.col("v") % 9 != 0)  # some combinations missing


@pytest.mark.typst
def test_a_crosstab_per_group_honours_its_width_and_splits_over_pages() -> None:
    """A crosstab in a group footer, half the body wide: three quarters per panel (not the
    body's seven), every page of a table led by its column headers, and each group's figures,
    read from the PDF, equal Polars' pivot and DuckDB's PIVOT of that group's rows."""
    from polarreports.emit.crosstab import panel_columns
    from polarreports.plan.geometry import column_width

    data = _per_group_data()
    element = {
        "type": "crosstab",
        "rows": ["item"],
        "columns": ["q"],
        "measures": {"v": "sum(v)"},
        "width": "50%",
        "row_header_width": "25mm",
        "column_width": "20mm",
    }
    report = pr.Report.model_validate(
        {
            "name": "per_group",
            "groups": [
                {
                    "name": "grp",
                    "header": {"elements": [{"type": "field", "column": "grp"}]},
                    "footer": {"elements": [element]},
                }
            ],
        }
    )
    crosstab = Crosstab.model_validate(element)
    body = column_width(report.page)
    per = panel_columns(crosstab, body=body / 2, font_size=report.page.font_size)
    assert per == 3
    assert panel_columns(crosstab, body=body, font_size=report.page.font_size) > 3
    pages = [page for page in _pdf_text(report.render(data).pdf) if page.strip()]
    assert len(pages) > 2
    assert any(page.split()[0] == "item" for page in pages), "a table runs over a page"
    seen: dict[str, dict[tuple[str, str], int]] = {"G1": {}, "G2": {}}
    group = ""
    for page in pages:
        lines = [line for line in page.splitlines() if line.strip()]
        first = lines[0].split()[0]
        assert first in ("G1", "G2", "item"), "a table continued on a page starts with its headers"
        for at, line in enumerate(lines):
            if line.strip() in seen:
                group = line.strip()
                continue
            if line.split()[0] == "item":
                labels = line.split()[1:]
                assert len(labels) <= per, "the panel is as wide as the element"
                end = next(
                    (k for k in range(at + 1, len(lines)) if lines[k].split()[0] in ("item", "G1", "G2")), len(lines)
                )
                found, _ = _figures(lines[at:end], "item")
                seen[group] |= found
    source = data  # noqa: F841 (read by DuckDB)
    for name in ("G1", "G2"):
        rows = data.filter(pl.col("grp") == name)
        pivot = rows.pivot(on="q", index="item", values="v", aggregate_function="sum")
        expected = {
            (row["item"], q): row[q]
            for row in pivot.iter_rows(named=True)
            for q in pivot.columns[1:]
            if row[q]  # (the pivot's sum of no rows is 0 or null; no value is 0)
        }
        expected |= {(item, "Total"): int(v) for item, v in rows.group_by("item").agg(pl.col("v").sum()).iter_rows()}
        expected |= {("Total", q): int(v) for q, v in rows.group_by("q").agg(pl.col("v").sum()).iter_rows()}
        expected["Total", "Total"] = int(rows["v"].sum())
        assert seen[name] == expected, name
        duck = duckdb.sql(
            f"PIVOT (SELECT item, q, v FROM source WHERE grp = '{name}') ON q USING sum(v) GROUP BY item"
        ).pl()
        for row in duck.iter_rows(named=True):
            for q in duck.columns[1:]:
                if row[q] is not None:
                    assert seen[name][row["item"], q] == int(row[q])
