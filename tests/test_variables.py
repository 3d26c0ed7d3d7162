"""Variables: every calculation, its null semantics, running values and percentages,
checked against independent Polars computations."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import polarreports as pr
from polarreports.api import plan_report

CALCULATIONS = ["sum", "count", "count_distinct", "avg", "min", "max", "first", "last", "median", "stddev", "var"]


@pytest.fixture(scope="module")
def data() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "g": ["a", "a", "a", "b", "b", "c", "c", "c", "c"],
            "h": ["x", "x", "y", "x", "x", "x", "y", "y", "y"],
            "v": [1.0, None, 3.0, None, None, 4.0, 4.0, -2.0, 10.0],
        }
    )


def report_with(calculations: list[str], *, reset: str = "report", detail: bool = True) -> pr.Report:
    """Running values exist where rows are shown: with ``detail``, the rows are sorted and numbered."""
    return pr.Report(
        name="vars",
        groups=[pr.Group(name="g"), pr.Group(name="h")],
        variables=[pr.Variable(name=c, calculation=c, expression="v", reset=reset) for c in calculations]
        + [pr.Variable(name="rows", calculation="count")],
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="v")]) if detail else None),
    )


def reference(calculation: str) -> pl.Expr:
    v = pl.col("v")
    return {
        "sum": pl.when(v.is_not_null().any()).then(v.sum()),
        "count": v.count(),
        "count_distinct": v.drop_nulls().n_unique(),
        "avg": v.mean(),
        "min": v.min(),
        "max": v.max(),
        "first": v.drop_nulls().first(),
        "last": v.drop_nulls().last(),
        "median": v.median(),
        "stddev": v.std(),
        "var": v.var(),
    }[calculation].alias(calculation)


@pytest.mark.parametrize("detail", [True, False], ids=["with-rows", "summary-only"])
def test_group_totals_equal_polars_at_every_level(data: pl.DataFrame, detail: bool) -> None:
    _, scopes = plan_report(report_with(CALCULATIONS, detail=detail), data)
    for level, keys in ((1, ["g"]), (2, ["g", "h"])):
        got = scopes.groups[level].select(*keys, *CALCULATIONS, "rows").collect()
        want = data.group_by(keys).agg(*(reference(c) for c in CALCULATIONS), pl.len().alias("rows")).sort(keys)
        assert_frame_equal(got, want, check_dtypes=False)
    got = scopes.report.select(*CALCULATIONS, "rows").collect()
    want = data.select(*(reference(c) for c in CALCULATIONS), pl.len().alias("rows"))
    assert_frame_equal(got, want, check_dtypes=False)


@pytest.mark.parametrize("detail", [True, False], ids=["with-rows", "summary-only"])
def test_null_semantics(data: pl.DataFrame, detail: bool) -> None:
    _, scopes = plan_report(report_with(["sum", "count", "avg", "min"], detail=detail), data)
    group_b = scopes.groups[1].filter(pl.col("g") == "b").collect().row(0, named=True)
    assert group_b["sum"] is None, "a sum of only nulls is null"
    assert group_b["count"] == 0, "count counts non-null values"
    assert group_b["rows"] == 2, "a count without expression counts rows"
    assert group_b["avg"] is None
    assert group_b["min"] is None
    group_a = scopes.groups[1].filter(pl.col("g") == "a").collect().row(0, named=True)
    assert group_a["avg"] == 2.0, "avg ignores nulls"


@pytest.mark.parametrize("calculation", [c for c in CALCULATIONS if c != "median"] + ["median"])
def test_running_values_are_the_total_of_the_rows_so_far(data: pl.DataFrame, calculation: str) -> None:
    _, scopes = plan_report(report_with([calculation], reset="g"), data)
    rows = scopes.rows.select("g", "v", calculation).collect()
    expected = []
    for i in range(rows.height):
        group = rows["g"][i]
        so_far = rows.slice(0, i + 1).filter(pl.col("g") == group)
        expected.append(so_far.select(reference(calculation)).item())
    assert rows[calculation].to_list() == pytest.approx(expected, nan_ok=True)


def test_last_running_value_of_a_group_is_its_total(data: pl.DataFrame) -> None:
    _, scopes = plan_report(report_with(["sum"], reset="g"), data)
    last = scopes.rows.group_by("g").agg(pl.col("sum").last()).sort("g").collect()
    totals = scopes.groups[1].select("g", "sum").collect()
    assert_frame_equal(last, totals)


def test_percent_of_enclosing_group_and_of_report(data: pl.DataFrame) -> None:
    report = pr.Report(
        name="pct",
        groups=[
            pr.Group(name="g"),
            pr.Group(
                name="h",
                footer=pr.Band(
                    elements=[
                        pr.Aggregate(variable="total", show="percent"),
                        pr.Aggregate(variable="total", show="percent", of="report"),
                    ]
                ),
            ),
        ],
        variables=[pr.Variable(name="total", calculation="sum", expression="v")],
    )
    plan, scopes = plan_report(report, data)
    footer = plan.band("group_footer", 2)
    assert footer is not None
    values = scopes.groups[2].select(c.value.alias(f"c{i}") for i, c in enumerate(footer.cells)).collect()
    sql_sum = pl.when(pl.col("v").count() > 0).then(pl.col("v").sum())  # a sum of only nulls is null
    sums = data.group_by("g", "h").agg(sql_sum).sort("g", "h")
    by_g = sums.with_columns(share=pl.col("v") / pl.col("v").sum().over("g"), of_all=pl.col("v") / pl.col("v").sum())
    assert values.to_series(0).to_list() == pytest.approx(by_g["share"].to_list(), nan_ok=True)
    assert values.to_series(1).to_list() == pytest.approx(by_g["of_all"].to_list())


def test_running_value_in_group_footer_is_cumulative_over_groups(data: pl.DataFrame) -> None:
    report = pr.Report(
        name="run",
        groups=[pr.Group(name="g", footer=pr.Band(elements=[pr.Aggregate(variable="total", show="running")]))],
        variables=[pr.Variable(name="total", calculation="count")],
    )
    plan, scopes = plan_report(report, data)
    footer = plan.band("group_footer", 1)
    assert footer is not None
    running = scopes.groups[1].select(footer.cells[0].value).collect().to_series().to_list()
    assert running == [3, 5, 9]
