"""``polarreports inspect``: the group tree and its subtotals, checked against Polars computing
the same figures its own way, shown as a terminal table (data never as markup) or as JSON."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import polarreports as pr
from polarreports.cli import app
from polarreports.inspection import group_tree
from tests.conftest import EXAMPLE

runner = CliRunner()


@pytest.fixture(scope="module")
def sales() -> pl.DataFrame:
    return pr.sample.sales_data(400)


def test_the_subtotals_are_the_figures_polars_computes(sales: pl.DataFrame) -> None:
    tree = group_tree(pr.load(EXAMPLE), sales, min_quantity=2)
    rows = sales.filter(pl.col("quantity") >= 2).with_columns(amount=pl.col("quantity") * pl.col("unit_price"))
    regions = rows.group_by("region").agg(pl.len(), pl.col("amount").sum(), pl.col("quantity").sum()).sort("region")
    customers = rows.group_by("region", "customer").agg(pl.len(), pl.col("amount").sum())
    revenue, units = tree.columns.index("revenue"), tree.columns.index("units")
    level1 = [g for g in tree.groups if g.level == 1]
    assert [(g.key, g.rows, g.values[revenue], g.values[units]) for g in level1] == [
        (region, count, Decimal(str(amount)), quantity) for region, count, amount, quantity in regions.iter_rows()
    ]
    expected = {(r, c): (n, Decimal(str(a))) for r, c, n, a in customers.iter_rows()}
    region = None
    for group in tree.groups:  # every customer under its region, in report order
        if group.level == 1:
            region = group.key
        elif group.level == 2:
            assert expected.pop((region, group.key)) == (group.rows, group.values[revenue])
    assert not expected
    total = tree.groups[-1]
    assert (total.key, total.rows) == ("Report total", rows.height)
    assert total.values[revenue] == Decimal(str(rows["amount"].sum()))


def test_depth_and_limit_cut_the_tree_and_say_how_much(sales: pl.DataFrame) -> None:
    tree = group_tree(pr.load(EXAMPLE), sales, depth=1)
    assert tree.levels == ("region",)
    assert {g.level for g in tree.groups} == {0, 1}
    cut = group_tree(pr.load(EXAMPLE), sales, limit=3)
    assert len(cut.groups) == 4  # three groups, then the report's totals
    everything = group_tree(pr.load(EXAMPLE), sales)
    assert cut.more == len(everything.groups) - 1 - 3


def test_a_parameter_may_be_named_like_an_option_of_the_tree(sales: pl.DataFrame, tmp_path: Path) -> None:
    """``depth`` and ``limit`` cut the tree; a report's parameters of those names go in params."""
    report = pr.load(EXAMPLE).model_copy(
        update={"parameters": [*pr.load(EXAMPLE).parameters, pr.Parameter(name="limit", type="integer", default=0)]}
    )
    tree = group_tree(report, sales, params={"limit": 7, "min_quantity": 2}, limit=3, depth=1)
    assert len(tree.groups) == 4  # the option: three groups, then the report's totals
    assert tree.groups[-1].rows == sales.filter(pl.col("quantity") >= 2).height  # the parameters applied
    definition = tmp_path / "report.yaml"
    definition.write_text(report.to_yaml())
    data = pr.sample.write_sales_data(tmp_path / "sales.parquet", 400)
    result = runner.invoke(app, ["inspect", str(definition), "--data", str(data), "-p", "limit=7", "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert "Report total" in result.output


def test_the_table_shows_keys_as_text_never_as_markup(tmp_path: Path) -> None:
    data = tmp_path / "d.parquet"
    pl.DataFrame({"who": ["[bold red]boss[/]", "[link=http://x]y"], "n": [1, 2]}).write_parquet(data)
    definition = tmp_path / "r.yaml"
    definition.write_text(
        "name: r\ngroups: [{name: who}]\nvariables: [{name: total, calculation: sum, expression: n}]\n"
    )
    result = runner.invoke(app, ["inspect", str(definition), "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "[bold red]boss[/]" in result.stdout
    assert "[link=http://x]y" in result.stdout
    assert "Report total" in result.stdout


def test_the_command_prints_every_column_uncut_or_json(tmp_path: Path) -> None:
    data = tmp_path / "sales.parquet"
    pr.sample.sales_data(300).write_parquet(data)
    table = runner.invoke(app, ["inspect", str(EXAMPLE), "-d", str(data), "--depth", "1"])
    assert table.exit_code == 0, table.output
    assert "customer_running" in table.stdout  # not cut to the 80 columns of a pipe
    assert "…" not in table.stdout
    found = json.loads(runner.invoke(app, ["--json", "inspect", str(EXAMPLE), "-d", str(data)]).stdout)
    assert found["levels"] == ["region", "customer"]
    assert found["columns"][:3] == ["level", "key", "rows"]
    assert found["groups"][-1][:3] == [0, "Report total", 300]
