"""A subreport's source as a database query (SQLite, DuckDB over files, a real PostgreSQL
server): its parameters bound, never pasted; its figures checked against Polars."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

import polars as pl
import pytest

import polarreports as pr
from polarreports.compute.subreports import attach_subreports
from tests.test_databases import PASSWORD, password, postgres  # noqa: F401 (the server fixture, shared)
from tests.test_subreports import orders_data

QUERY = "SELECT order_id, method, amount FROM payments WHERE amount >= :least AND method <> :skip ORDER BY amount"


def _payments() -> pl.DataFrame:
    payments = orders_data(20)[2].with_columns(method=pl.format("m{}", pl.int_range(pl.len())))
    return payments.with_columns(pl.col("method").str.replace("m3$", "x' OR '1'='1"))


def _report(source: dict[str, str], folder: Path) -> pr.Report:
    sub = pr.Report(
        name="payments",
        parameters=[pr.Parameter(name="least", type="float"), pr.Parameter(name="skip", type="string", default="")],
        variables=[pr.Variable(name="paid", calculation="sum", expression="amount")],
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="method"), pr.Field(column="amount")])),
    )
    return pr.Report(
        name="orders",
        data_dirs=[str(folder)],
        parameters=[pr.Parameter(name="least", type="float", default=0), pr.Parameter(name="skip", type="string")],
        bands=pr.Bands(
            detail=pr.Band(
                elements=[
                    pr.Field(column="order_id"),
                    pr.Subreport(report=sub, source=source, keys=["order_id"], returns={"paid": "paid"}),
                ]
            )
        ),
    )


def _expected(payments: pl.DataFrame, least: float, skip: str) -> pl.DataFrame:
    kept = payments.filter((pl.col("amount") >= least) & (pl.col("method") != skip))
    return kept.group_by("order_id").agg(paid=pl.col("amount").sum(), methods=pl.col("method").sort_by("amount"))


def _check(report: pr.Report, least: float, skip: str) -> None:
    orders, _, _ = orders_data(20)
    rows = attach_subreports(report, orders.lazy(), {}, {"least": least, "skip": skip}).collect()
    want = _expected(_payments(), least, skip)
    got = rows.select("order_id", "paid", "__sub0").join(want, on="order_id", how="left")
    for _, paid, table, paid_want, methods in got.iter_rows():
        assert paid == pytest.approx(paid_want or 0)
        shown = [] if table is None else [row[0] for row in json.loads(table)["r"]]
        assert sorted(shown) == sorted(methods or [])


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    payments = _payments()
    with contextlib.closing(sqlite3.connect(tmp_path / "shop.db")) as connection:
        connection.execute("CREATE TABLE payments (order_id INTEGER, method TEXT, amount REAL)")
        connection.executemany("INSERT INTO payments VALUES (?, ?, ?)", payments.rows())
        connection.commit()
    payments.write_parquet(tmp_path / "payments.parquet")
    return tmp_path


def test_an_sqlite_query_with_bound_parameters(shop: Path) -> None:
    report = _report({"uri": f"sqlite:///{shop / 'shop.db'}", "query": QUERY}, shop)
    _check(report, 20.0, "m5")
    _check(report, 0.0, "x' OR '1'='1")  # a hostile value is a value: only that method is left out


def test_a_duckdb_query_over_a_parquet_file(shop: Path) -> None:
    query = QUERY.replace("FROM payments", f"FROM read_parquet('{shop / 'payments.parquet'}')")
    _check(_report({"uri": "duckdb:", "query": query}, shop), 30.0, "")


def test_a_query_outside_the_data_folders_is_refused(shop: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    report = _report({"uri": f"sqlite:///{shop / 'shop.db'}", "query": QUERY}, elsewhere)
    with pytest.raises(pr.AccessError, match=r"^bands.detail.elements\[1\] \(subreport\): "):
        attach_subreports(report, orders_data(3)[0].lazy(), {}, {"least": 1})


def test_a_subreport_source_holds_no_password() -> None:
    with pytest.raises(pr.DefinitionError) as caught:
        pr.Subreport(report="p.yaml", source={"uri": f"postgresql://u:{PASSWORD}@db/x", "query": "select 1"})
    assert PASSWORD not in str(caught.value)
    with pytest.raises(pr.DefinitionError, match="a database source needs a query"):
        pr.Subreport(report="p.yaml", source={"uri": "sqlite:///x.db"})


def test_a_subreport_with_a_query_round_trips_through_yaml(shop: Path) -> None:
    report = _report({"uri": "sqlite:///shop.db", "query": QUERY}, shop)
    again = pr.Report.from_yaml(report.to_yaml())
    assert again.bands.detail is not None
    assert report.bands.detail is not None
    assert again.bands.detail.elements[1].source == report.bands.detail.elements[1].source
    assert isinstance(again.bands.detail.elements[1].source, pr.Source)


def test_a_postgresql_query_with_bound_parameters(postgres: str, password: str) -> None:  # noqa: F811
    import adbc_driver_postgresql.dbapi as postgresql

    plain = postgres.replace("${POLARREPORTS_TEST_PGPASSWORD}", PASSWORD)
    with postgresql.connect(plain) as connection, connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS payments")
        cursor.execute("CREATE TABLE payments (order_id bigint, method text, amount double precision)")
        cursor.adbc_ingest("payments", _payments().to_arrow(), mode="append")
        connection.commit()
    report = _report({"uri": postgres, "query": QUERY}, Path.cwd())
    _check(report, 12.5, "x' OR '1'='1")
    _check(report, 40.0, "m5")


def test_validate_runs_the_subreport_s_query_without_rows(shop: Path) -> None:
    report = _report({"uri": f"sqlite:///{shop / 'shop.db'}", "query": QUERY}, shop)
    found = pr.validate(report, orders_data(3)[0], least=1.0)
    assert found.report == "orders"
    broken = _report({"uri": f"sqlite:///{shop / 'shop.db'}", "query": QUERY.replace("payments", "nothing")}, shop)
    with pytest.raises(pr.DataError, match=r"^bands.detail.elements\[1\] \(subreport\): source: cannot read sqlite"):
        pr.validate(broken, orders_data(3)[0], least=1.0)


def test_a_path_source_reads_from_the_data_folders(shop: Path) -> None:
    report = _report({"path": "payments.parquet"}, shop)  # read whole: no query, so no parameters apply
    rows = attach_subreports(report, orders_data(20)[0].lazy(), {}, {"least": 0.0}).collect()
    assert rows["paid"].sum() == pytest.approx(_payments()["amount"].sum())
