"""Charts: Polars aggregates, Vega-Lite draws (vl-convert, SVG), Typst embeds; any band."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

import polarreports as pr
from polarreports.api import plan_report
from polarreports.definition.elements import Chart
from polarreports.emit.typst_source import band_indices
from polarreports.exceptions import ChartError
from polarreports.stream.collect import collect_stream
from tests.conftest import ROOT, pdf_lines

BAR = {
    "mark": "bar",
    "encoding": {
        "x": {"field": "category", "type": "nominal", "title": None},
        "y": {"field": "revenue", "type": "quantitative", "title": "Revenue"},
    },
}


def report(*, footer: list[Chart] | None = None, summary: list[Chart] | None = None) -> pr.Report:
    return pr.Report(
        name="charts",
        columns={"amount": "quantity * unit_price"},
        groups=[
            pr.Group(
                name="region",
                header=pr.Band(elements=[pr.Field(column="region", bold=True)]),
                footer=pr.Band(elements=footer or []),
            )
        ],
        bands=pr.Bands(summary=pr.Band(elements=summary or [])),
    )


def chart_cells(document_report: pr.Report, data: pl.DataFrame) -> list[dict[str, str]]:
    """The drawn charts in the band stream, in order: their SVG and alt text."""
    plan, scopes = plan_report(document_report, data)
    stream = collect_stream(plan, scopes, band_indices(plan))
    cells = []
    for text in stream.bands.texts().to_list():
        for cell in json.loads(text)["c"]:
            if cell.startswith('{"svg"'):
                cells.append(json.loads(cell))
    for cell in stream.static.get("summary", []):
        if cell.startswith('{"svg"'):
            cells.append(json.loads(cell))
    return cells


def test_each_group_chart_gets_exactly_its_groups_aggregated_data(sales: pl.DataFrame) -> None:
    chart = Chart(spec=BAR, by=["category"], measures={"revenue": "sum(amount)"})
    plan, scopes = plan_report(report(footer=[chart]), sales)
    frame = scopes.groups[1].select("region", plan.charts[0].column).collect()
    expected = (
        sales.with_columns(amount=pl.col("quantity") * pl.col("unit_price"))
        .group_by("region", "category")
        .agg(pl.col("amount").sum().cast(pl.Float64).alias("revenue"))
        .sort("region", "category")
    )
    assert frame.height == sales["region"].n_unique()
    for region, text in frame.iter_rows():
        points = json.loads(text)["points"]
        want = expected.filter(pl.col("region") == region)
        assert [p["category"] for p in points] == want["category"].to_list()
        assert [p["revenue"] for p in points] == pytest.approx(want["revenue"].to_list())


def test_summary_chart_buckets_dates_by_month_in_polars(sales: pl.DataFrame) -> None:
    chart = Chart(spec={"mark": "line"}, by=[{"column": "order_date", "bucket": "month"}], measures={"n": "count(*)"})
    plan, scopes = plan_report(report(summary=[chart]), sales)
    points = json.loads(scopes.report.select(plan.charts[0].column).collect().item())["points"]
    expected = sales.group_by(pl.col("order_date").dt.truncate("1mo")).len().sort("order_date")
    assert [p["order_date"] for p in points] == [str(d) for d in expected["order_date"]]
    assert [p["n"] for p in points] == expected["len"].to_list()


def test_the_svg_holds_one_mark_per_point(sales: pl.DataFrame) -> None:
    chart = Chart(spec=BAR, by=["category"], measures={"revenue": "sum(amount)"})
    cells = chart_cells(report(footer=[chart]), sales)
    categories = sales["category"].n_unique()
    assert len(cells) == sales["region"].n_unique()
    for cell in cells:
        assert len(re.findall(r'aria-roledescription="bar"', cell["svg"])) == categories


CHART_TYPES = {
    "grouped bar": (
        {
            "mark": "bar",
            "encoding": {
                "x": {"field": "region", "type": "nominal"},
                "xOffset": {"field": "category"},
                "y": {"field": "revenue", "type": "quantitative"},
                "color": {"field": "category", "type": "nominal"},
            },
        },
        ["region", "category"],
    ),
    "stacked bar": (
        {
            "mark": "bar",
            "encoding": {
                "x": {"field": "region", "type": "nominal"},
                "y": {"field": "revenue", "type": "quantitative", "stack": "zero"},
                "color": {"field": "category", "type": "nominal"},
            },
        },
        ["region", "category"],
    ),
    "line": (
        {
            "mark": "line",
            "encoding": {
                "x": {"field": "order_date", "type": "temporal"},
                "y": {"field": "revenue", "type": "quantitative"},
            },
        },
        [{"column": "order_date", "bucket": "quarter"}],
    ),
    "area": (
        {
            "mark": "area",
            "encoding": {
                "x": {"field": "order_date", "type": "temporal"},
                "y": {"field": "revenue", "type": "quantitative"},
            },
        },
        [{"column": "order_date", "bucket": "week"}],
    ),
    "pie": (
        {
            "mark": "arc",
            "encoding": {
                "theta": {"field": "revenue", "type": "quantitative"},
                "color": {"field": "region", "type": "nominal"},
            },
        },
        ["region"],
    ),
    "donut": (
        {
            "mark": {"type": "arc", "innerRadius": 30},
            "encoding": {
                "theta": {"field": "revenue", "type": "quantitative"},
                "color": {"field": "category", "type": "nominal"},
            },
        },
        ["category"],
    ),
    "heatmap": (
        {
            "mark": "rect",
            "encoding": {
                "x": {"field": "region", "type": "nominal"},
                "y": {"field": "category", "type": "nominal"},
                "color": {"field": "revenue", "type": "quantitative"},
            },
        },
        ["region", "category"],
    ),
    "scatter": (
        {
            "mark": "point",
            "encoding": {
                "x": {"field": "quantity", "type": "quantitative"},
                "y": {"field": "revenue", "type": "quantitative"},
            },
        },
        ["quantity"],
    ),
    "histogram": (
        {
            "mark": "bar",
            "encoding": {
                "x": {"field": "amount", "type": "quantitative", "title": "order amount"},
                "y": {"field": "revenue", "type": "quantitative", "title": "orders"},
            },
        },
        [{"column": "amount", "bin": 5000}],
    ),
    "bar + line": (
        {
            "layer": [
                {
                    "mark": "bar",
                    "encoding": {
                        "x": {"field": "order_date", "type": "temporal"},
                        "y": {"field": "revenue", "type": "quantitative"},
                    },
                },
                {
                    "mark": {"type": "line", "color": "#f28e2b"},
                    "encoding": {
                        "x": {"field": "order_date", "type": "temporal"},
                        "y": {"field": "orders", "type": "quantitative"},
                    },
                },
            ],
            "resolve": {"scale": {"y": "independent"}},
        },
        [{"column": "order_date", "bucket": "year"}],
    ),
}


@pytest.mark.typst
@pytest.mark.parametrize("kind", list(CHART_TYPES))
def test_chart_types_render_in_the_pdf(sales: pl.DataFrame, kind: str) -> None:
    spec, by = CHART_TYPES[kind]
    measures = {"revenue": "count(*)" if kind == "histogram" else "sum(amount)", "orders": "count(*)"}
    chart = Chart(spec={"title": f"A {kind} chart", **spec}, by=by, measures=measures, height="40mm")
    document = report(summary=[chart]).render(sales)
    lines = pdf_lines(document.pdf)
    assert f"A {kind} chart" in lines  # the chart's text stays text in the PDF
    assert document.stats["charts"] == 1


@pytest.mark.typst
def test_altair_charts_are_accepted(sales: pl.DataFrame) -> None:
    import altair as alt  # here, not at the top: importing Altair costs each test process 2 s

    altair_chart = alt.Chart(title="From Altair").mark_bar().encode(x="category:N", y="revenue:Q")
    chart = Chart(spec=altair_chart, by=["category"], measures={"revenue": "sum(amount)"})
    assert "data" not in chart.spec
    assert "From Altair" in pdf_lines(report(summary=[chart]).render(sales).pdf)


def test_charts_are_cached_by_specification_and_data(sales: pl.DataFrame) -> None:
    chart = Chart(spec={**BAR, "title": "cache me"}, by=["category"], measures={"revenue": "sum(amount)"})
    first = report(footer=[chart]).render(sales)
    again = report(footer=[chart]).render(sales)
    assert first.stats["charts_rendered"] == sales["region"].n_unique()
    assert again.stats["charts_rendered"] == 0
    assert again.stats["charts_cached"] == sales["region"].n_unique()


def test_a_chart_vega_rejects_names_the_band_and_chart(sales: pl.DataFrame) -> None:
    broken = Chart(spec={"mark": "no-such-mark", "title": "broken"}, by=["category"], measures={"n": "count(*)"})
    with pytest.raises(ChartError) as error:
        report(summary=[broken]).render(sales)
    assert error.value.band == "bands.summary"
    assert "bands.summary.elements[0] (chart 'broken')" in str(error.value)
    assert "Cannot read properties of undefined" in str(error.value)  # Vega's own message, quoted


@pytest.mark.typst
def test_placeholder_instead_of_a_broken_chart(sales: pl.DataFrame) -> None:
    broken = Chart(spec={"mark": "no-such-mark"}, by=["category"], measures={"n": "count(*)"}, on_error="placeholder")
    assert any(line.startswith("Chart unavailable") for line in pdf_lines(report(summary=[broken]).render(sales).pdf))


def test_alt_text_is_generated_from_the_data(sales: pl.DataFrame) -> None:
    chart = Chart(spec={**BAR, "title": "Revenue by category"}, by=["category"], measures={"revenue": "sum(amount)"})
    (cell,) = chart_cells(report(summary=[chart]), sales)
    revenue = (
        sales.with_columns(a=pl.col("quantity") * pl.col("unit_price")).group_by("category").agg(pl.col("a").sum())
    )
    top = revenue.sort("a", descending=True).row(0)
    assert cell["alt"].startswith("Revenue by category: bar chart of revenue by category, 4 points")
    assert f"highest revenue {float(top[1]):,.2f} at {top[0]}" in cell["alt"]


def test_chart_errors_in_the_definition(sales: pl.DataFrame) -> None:
    wrong = Chart(spec=BAR, by=["categry"], measures={"revenue": "sum(amout)"})
    with pytest.raises(pr.PlanError) as error:
        report(summary=[wrong]).render(sales)
    assert "unknown column 'categry'; did you mean 'category'?" in str(error.value)
    assert "unknown column 'amout'" in str(error.value)
    in_detail = pr.Report(
        name="r", bands=pr.Bands(detail=pr.Band(elements=[Chart(spec=BAR, measures={"revenue": "revenue_list"})]))
    )
    with pytest.raises(pr.PlanError, match="unknown column 'revenue_list'"):
        in_detail.render(sales)


def test_charts_round_trip_through_yaml() -> None:
    chart = Chart(
        spec=BAR, by=["category", {"column": "order_date", "bucket": "month"}], measures={"revenue": "sum(amount)"}
    )
    definition = report(summary=[chart])
    assert pr.Report.from_yaml(definition.to_yaml()) == definition


@pytest.mark.typst
def test_alt_text_lands_in_the_tagged_pdf(sales: pl.DataFrame) -> None:
    chart = Chart(spec=BAR, by=["category"], measures={"revenue": "sum(amount)"}, alt="Revenue per category, bars")
    tagged = report(summary=[chart]).model_copy(update={"tagged_pdf": True})
    pdf = tagged.render(sales).pdf
    assert b"/StructTreeRoot" in pdf
    assert "Revenue per category, bars".encode("utf-16-be") in pdf or b"Revenue per category, bars" in pdf
    untagged = report(summary=[chart]).render(sales).pdf
    assert b"/StructTreeRoot" not in untagged


@pytest.mark.typst
def test_dashboard_example_renders_to_pdf_png_and_svg(sales: pl.DataFrame, tmp_path: Path) -> None:
    document = pr.load(ROOT / "examples" / "sales_dashboard.yaml").render(sales)
    assert document.stats["charts"] == 2 + 2 * sales["region"].n_unique()
    pngs = document.save(tmp_path / "dashboard.png", ppi=40)
    svgs = document.save(tmp_path / "dashboard.svg")
    assert len(pngs) == len(svgs) == document.page_count
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)
    first_page = svgs[0].read_text()
    assert first_page.count("<svg") == 1  # the charts are drawn into the page, not nested documents
    assert "Revenue by category" in "\n".join(pdf_lines(document.pdf))


@pytest.mark.typst
def test_a_sparkline_in_each_detail_row_from_list_columns(sales: pl.DataFrame) -> None:
    monthly = (
        sales.with_columns(
            amount=pl.col("quantity") * pl.col("unit_price"), month=pl.col("order_date").dt.truncate("1mo")
        )
        .group_by("customer", "month")
        .agg(pl.col("amount").sum().cast(pl.Float64))
        .sort("customer", "month")
        .group_by("customer", maintain_order=True)
        .agg(pl.col("month"), pl.col("amount").alias("revenue"))
        .head(12)
    )
    spark = Chart(
        spec={
            "mark": "line",
            "encoding": {
                "x": {"field": "month", "type": "temporal", "axis": None},
                "y": {"field": "revenue", "type": "quantitative", "axis": None},
            },
        },
        by=["month"],
        measures={"revenue": "revenue"},
        width="40%",
        height="8mm",
    )
    listing = pr.Report(
        name="sparklines",
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="customer", width="60%"), spark])),
    )
    document = listing.render(monthly)
    assert document.stats["charts"] == monthly.height
    cells = chart_cells(listing, monthly)
    assert len(cells) == monthly.height
    first = monthly.row(0, named=True)
    assert f"{len(first['month'])} points" in cells[0]["alt"]
    assert f"highest revenue {max(first['revenue']):,.2f}" in cells[0]["alt"]
    assert first["customer"] in pdf_lines(document.pdf)
