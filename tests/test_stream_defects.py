"""Defects of the band stream found by users (issue 11): each test failed before its fix."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import polars as pl
import pytest
from pypdf import PdfReader

import polarreports as pr
from polarreports.api import plan_report
from polarreports.definition.elements import Chart
from polarreports.emit.typst_source import band_indices
from polarreports.plan.navigation import link_url
from polarreports.stream.collect import collect_stream


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    """The text of a PDF as ``pdftotext`` reads it."""
    if shutil.which("pdftotext") is None:
        pytest.skip("needs pdftotext (poppler-utils)")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def title_and_summary(*, no_data: bool = False) -> pr.Report:
    return pr.Report(
        name="kpis",
        variables=[pr.Variable(name="total", calculation="sum", expression="amount")],
        bands=pr.Bands(
            title=pr.Band(elements=[pr.Label(text="Key figures")]),
            summary=pr.Band(elements=[pr.Label(text="Total amount"), pr.Aggregate(variable="total", format="0")]),
            no_data=pr.Band(elements=[pr.Label(text="Nothing to show")]) if no_data else None,
        ),
    )


# -- a report of only a title and a summary ------------------------------------------------


@pytest.mark.typst
def test_a_report_of_a_title_and_a_summary_prints_both(tmp_path: Path) -> None:
    document = title_and_summary(no_data=True).render(pl.DataFrame({"amount": [1, 2, 39]}))
    text = pdftotext(document.pdf, tmp_path)
    assert "Key figures" in text
    assert "Total amount" in text
    assert "42" in text
    assert "Nothing to show" not in text


@pytest.mark.typst
def test_a_report_of_a_summary_alone_prints_it(tmp_path: Path) -> None:
    report = title_and_summary().model_copy(update={"bands": pr.Bands(summary=title_and_summary().bands.summary)})
    text = pdftotext(report.render(pl.DataFrame({"amount": [5, 5]})).pdf, tmp_path)
    assert "Total amount" in text
    assert "10" in text


@pytest.mark.typst
def test_without_rows_the_title_and_summary_report_prints_its_no_data_band(tmp_path: Path) -> None:
    document = title_and_summary(no_data=True).render(pl.DataFrame({"amount": []}, schema={"amount": pl.Int64}))
    text = pdftotext(document.pdf, tmp_path)
    assert "Key figures" in text
    assert "Nothing to show" in text
    assert "Total amount" not in text


# -- parameters where no row is left -------------------------------------------------------


def static_texts(report: pr.Report, data: pl.DataFrame, **params: object) -> dict[str, list[str]]:
    """The display strings of the report-scope bands, from the band stream (no Typst)."""
    plan, scopes = plan_report(report, data, params=params)
    return collect_stream(plan, scopes, band_indices(plan)).static


def test_the_example_shows_its_year_when_the_filter_leaves_no_rows(example: pr.Report, sales: pl.DataFrame) -> None:
    static = static_texts(example, sales, year=1999)
    assert static["title"] == ["1999"]  # not "All years", its null text
    assert static_texts(example, sales)["title"] == ["All years"]  # no year given: every year


@pytest.mark.parametrize("groups", [False, True], ids=["no-groups", "summary-of-groups"])
def test_parameters_show_their_value_in_every_band_without_rows(groups: bool) -> None:
    report = pr.Report(
        name="r",
        parameters=[
            pr.Parameter(name="region", type="string"),
            pr.Parameter(name="since", type="date"),
            pr.Parameter(name="limit", type="decimal", default="12.50"),
        ],
        filter="region = :region AND order_date >= :since",
        groups=[pr.Group(name="region", footer=pr.Band(elements=[pr.Field(column="region")]))] if groups else [],
        bands=pr.Bands(
            title=pr.Band(elements=[pr.Field(column="region"), pr.Field(column="since", format="yyyy-MM-dd")]),
            summary=pr.Band(elements=[pr.Expression(expr=":limit * 2", format="0.00")]),
            no_data=pr.Band(
                elements=[
                    pr.Label(text="No orders in"),
                    pr.Field(column="region", null_text="?"),
                    pr.Field(column="limit", format="0.00", null_text="?"),
                ]
            ),
        ),
    )
    static = static_texts(report, pr.sample.sales_data(100), region="Atlantis", since=dt.date(2024, 3, 1))
    assert static["title"] == ["Atlantis", "2024-03-01"]
    assert static["no_data"] == ["Atlantis", "12.50"]
    assert static["summary"] == ["25.00"]


# -- charts: an element's print_when, a chart by its own group's key ------------------------

UNITS = {
    "mark": "bar",
    "title": "Units chart",
    "encoding": {"x": {"field": "product", "type": "nominal"}, "y": {"field": "units", "type": "quantitative"}},
}


def chart_footer(chart: Chart) -> pr.Report:
    return pr.Report(
        name="charts",
        variables=[pr.Variable(name="orders", calculation="count")],
        groups=[pr.Group(name="region", footer=pr.Band(elements=[pr.Field(column="region", width="30%"), chart]))],
        bands=pr.Bands(summary=pr.Band(elements=[chart])),
    )


@pytest.mark.typst
def test_a_chart_with_its_own_print_when_shows_only_where_it_is_true(sales: pl.DataFrame, tmp_path: Path) -> None:
    chart = Chart(
        spec=UNITS, by=["product"], measures={"units": "sum(quantity)"}, height="15mm", print_when="orders > 450"
    )
    counts = dict(sales.group_by("region").len().iter_rows())
    shown = sorted(region for region, n in counts.items() if n > 450)
    assert 0 < len(shown) < len(counts)
    text = pdftotext(chart_footer(chart).render(sales).pdf, tmp_path)
    assert text.count("Units chart") == len(shown) + 1  # and the summary's (the report has more than 450 orders)


def test_a_chart_by_its_own_groups_key_has_one_point_per_group(sales: pl.DataFrame) -> None:
    spec = {**UNITS, "encoding": {**UNITS["encoding"], "x": {"field": "region", "type": "nominal"}}}
    chart = Chart(spec=spec, by=["region"], measures={"units": "sum(quantity)"})
    plan, scopes = plan_report(chart_footer(chart), sales)
    got = scopes.groups[1].select("region", plan.charts[0].column).collect()
    want = dict(sales.group_by("region").agg(pl.col("quantity").sum()).iter_rows())
    assert got.height == len(want)
    for region, text in got.iter_rows():
        assert json.loads(text)["points"] == [{"region": region, "units": float(want[region])}]
    summary = json.loads(scopes.report.select(plan.charts[1].column).collect().item())["points"]
    assert sorted(point["region"] for point in summary) == sorted(want)  # by region over the whole report
    stream = collect_stream(plan, scopes, band_indices(plan))
    assert stream.chart_stats["charts"] == len(want) + 1


def test_a_chart_that_cannot_be_computed_is_the_one_blamed(sales: pl.DataFrame) -> None:
    bucketed = Chart(spec=UNITS, by=[{"column": "region", "bucket": "month"}], measures={"units": "count(*)"})
    with pytest.raises(pr.PlanError) as error:
        pr.validate(chart_footer(bucketed), sales)
    assert error.value.issues == [
        "groups[0] ('region').footer.elements[1] (chart 'Units chart'): the chart's 'by' column 'region' is the key "
        "of its group, one value per chart, so its bucket: month has nothing to group; chart by another column, or "
        "drop the bucket: month"
    ]
    for measure, found in (("sum(region)", "cannot compute"), ("region", "gives List(String)")):
        wrong = Chart(spec=UNITS, by=["product"], measures={"units": measure})
        with pytest.raises(pr.PlanError) as error:
            pr.validate(chart_footer(wrong), sales)
        assert all(
            "elements[1] (chart 'Units chart')" in issue or "summary.elements[0]" in issue
            for issue in error.value.issues
        )
        assert all(found in issue for issue in error.value.issues)


# -- links: percent-encoded, valid ones left as they are --------------------------------------

URLS = {
    "https://example.com/a b": "https://example.com/a%20b",
    "https://example.com/café/日本?q=\"x y\"&r='1'": "https://example.com/caf%C3%A9/%E6%97%A5%E6%9C%AC?q=%22x%20y%22&r='1'",
    "https://example.com/a%20b?p=100%&ok=%2F": "https://example.com/a%20b?p=100%25&ok=%2F",
    "mailto:jane doe@example.com": "mailto:jane%20doe@example.com",
    "https://example.com/<tag>{x}|^`\\": "https://example.com/%3Ctag%3E%7Bx%7D%7C%5E%60%5C",
    "https://example.com/ok?a=1&b=[2]#top": "https://example.com/ok?a=1&b=[2]#top",
    "HTTPS://Example.com/%7Euser": "HTTPS://Example.com/%7Euser",
}


def pdf_uris(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return [
        str(action["/URI"])
        for page in reader.pages
        for annotation in page.get("/Annots", [])
        if "/URI" in (action := annotation.get_object().get("/A", {}))
    ]


def test_link_urls_are_percent_encoded_where_they_must_be() -> None:
    got = pl.select(link_url(pl.lit(pl.Series(list(URLS))))).to_series().to_list()
    assert got == list(URLS.values())
    assert all(unquote(url) == unquote(original) for url, original in zip(got, URLS, strict=True))
    refused = ["https:// x", "javascript:alert(1)", "https://x.org/\x07", "ftp://x.org/a b", ""]
    assert pl.select(link_url(pl.lit(pl.Series(refused)))).to_series().to_list() == [None] * len(refused)


@pytest.mark.typst
def test_a_link_with_a_space_or_accents_is_kept_in_the_pdf() -> None:
    data = pl.DataFrame({"name": [f"row {i}" for i in range(len(URLS))], "url": list(URLS)})
    report = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="name", link="url")])))
    assert pdf_uris(report.render(data).pdf) == list(URLS.values())
