"""Rows from databases: a real PostgreSQL server (a throwaway cluster started here), SQLite and
DuckDB; parameters bound, never pasted; credentials from the environment, never shown."""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import polarreports as pr
from polarreports.cli import app
from tests.conftest import pdf_lines

PASSWORD = "s3cr3t-Pw-71f0"
ORDERS = pl.DataFrame(
    {
        "region": ["North", "North", "South", "South", "South", "x' OR '1'='1"],
        "day": [date(2025, 1, d) for d in (3, 9, 4, 5, 20, 7)],
        "amount": [120, 80, 50, 25, 10, 999],
    }
)
INITDB = ["-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"]
QUERY = "SELECT region, day, amount FROM orders WHERE region = :region AND day >= :since ORDER BY day"


def _report(**source: object) -> pr.Report:
    return pr.Report(
        name="orders",
        parameters=[
            {"name": "region", "type": "string", "required": True},
            {"name": "since", "type": "date", "default": "2025-01-01"},
        ],
        source=source or None,
        variables=[{"name": "total", "calculation": "sum", "expression": "amount"}],
        bands={
            "detail": {"elements": [{"type": "field", "column": "day"}, {"type": "field", "column": "amount"}]},
            "summary": {"elements": [{"type": "label", "text": "Total"}, {"type": "aggregate", "variable": "total"}]},
        },
    )


def _expected_total(region: str, since: date) -> int:
    """The figure, from Polars over the same rows."""
    return int(ORDERS.filter((pl.col("region") == region) & (pl.col("day") >= since))["amount"].sum())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free port, with a table ``orders``; its URI (the
    password as the placeholder ``${POLARREPORTS_TEST_PGPASSWORD}``)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql; make system installs it)")
    bindir = found[-1].parent
    run_as: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="pgtest-"))
    if os.geteuid() == 0:  # the server refuses to run as root: as the postgres user
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            pytest.skip("running as root and there is no postgres user to run the server as")
        os.chown(folder, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    (folder / "pw").write_text(PASSWORD)
    if run_as:
        os.chown(folder / "pw", pwd.getpwnam("postgres").pw_uid, -1)
    port = _free_port()
    data = folder / "data"
    try:
        subprocess.run(
            [*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "report", f"--pwfile={folder / 'pw'}", *INITDB],
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"],
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"could not start a PostgreSQL server: {error}")
    try:
        import adbc_driver_postgresql.dbapi as postgresql

        plain = f"postgresql://report:{PASSWORD}@127.0.0.1:{port}/postgres"
        with postgresql.connect(plain) as connection, connection.cursor() as cursor:
            cursor.execute("CREATE TABLE orders (region text, day date, amount bigint)")
            cursor.adbc_ingest("orders", ORDERS.to_arrow(), mode="append")
            connection.commit()
        yield f"postgresql://report:${{POLARREPORTS_TEST_PGPASSWORD}}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("POLARREPORTS_TEST_PGPASSWORD", PASSWORD)
    return PASSWORD


@pytest.mark.typst
def test_postgresql_rows_with_bound_parameters(postgres: str, password: str) -> None:
    report = _report(uri=postgres, query=QUERY)
    doc = report.render(region="South", since="2025-01-05")
    assert doc.stats["rows"] == 2
    assert pdf_lines(doc.pdf)[-1].split() == ["Total", str(_expected_total("South", date(2025, 1, 5)))]


def test_a_hostile_parameter_is_a_value_not_sql(postgres: str, password: str) -> None:
    report = _report(uri=postgres, query=QUERY)
    hostile = "x' OR '1'='1"
    assert report.render(region="North' OR '1'='1").stats["rows"] == 0  # no region has that name
    assert report.render(region=hostile).stats["rows"] == 1  # the one row that has it, as data
    validation = pr.validate(report, region="North")
    assert validation.values["bands.detail.elements[1] (field 'amount')"] == "Int64"


def test_a_failing_connection_never_shows_the_password(
    postgres: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wr0ng-" + PASSWORD
    monkeypatch.setenv("POLARREPORTS_TEST_PGPASSWORD", wrong)
    report = _report(uri=postgres, query=QUERY)
    with caplog.at_level(logging.DEBUG), pytest.raises(pr.DataError) as caught:
        report.render(region="North")
    message = str(caught.value)
    assert message.startswith("source: cannot read postgresql data: ")
    assert "authentication failed" in message or "password" in message
    for secret in (wrong, PASSWORD):
        assert secret not in message
        assert secret not in caplog.text
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__  # the driver's own error is not shown with it


def test_passwords_belong_in_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(pr.DefinitionError) as caught:
        _report(uri=f"postgresql://report:{PASSWORD}@db/shop", query=QUERY)
    assert PASSWORD not in str(caught.value)
    definition = tmp_path / "r.yaml"
    definition.write_text(
        f"name: r\nsource: {{uri: 'postgresql://u:{PASSWORD}@db/x', query: 'select 1'}}\n"
        "bands: {detail: {elements: [{type: field, column: a}]}}\n"
    )
    with pytest.raises(pr.DefinitionError) as loaded:
        pr.load(definition)
    assert PASSWORD not in str(loaded.value)
    monkeypatch.delenv("POLARREPORTS_MISSING", raising=False)
    report = _report(uri="postgresql://u:${POLARREPORTS_MISSING}@db/x", query=QUERY)
    with pytest.raises(pr.DataError, match="the environment variable POLARREPORTS_MISSING is not set"):
        report.render(region="North")
    with pytest.raises(pr.DataError, match="not a parameter of the report; did you mean 'region'"):
        _report(uri="sqlite:///x.db", query="SELECT * FROM orders WHERE region = :regin").render(region="x")


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A folder with an SQLite database and a Parquet file of the orders, and definitions."""
    with contextlib.closing(sqlite3.connect(tmp_path / "shop.db")) as connection:
        connection.execute("CREATE TABLE orders (region TEXT, day TEXT, amount INTEGER)")
        connection.executemany(
            "INSERT INTO orders VALUES (?, ?, ?)", ORDERS.with_columns(pl.col("day").cast(str)).rows()
        )
        connection.commit()
    ORDERS.write_parquet(tmp_path / "orders.parquet")
    (tmp_path / "sqlite.yaml").write_text(_report(uri="sqlite:///shop.db", query=QUERY).to_yaml())
    duck = f"SELECT * FROM read_parquet('{tmp_path}/orders.parquet') WHERE region = :region AND day >= :since"
    (tmp_path / "duck.yaml").write_text(_report(uri="duckdb:", query=duck).to_yaml())
    (tmp_path / "file.yaml").write_text(_report(path="orders.parquet").to_yaml())
    return tmp_path


@pytest.mark.typst
@pytest.mark.parametrize("definition", ["sqlite.yaml", "duck.yaml", "file.yaml"])
def test_sqlite_duckdb_and_file_sources(shop: Path, definition: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(shop.parent)  # relative names (sqlite:///shop.db, path) are the definition's
    doc = pr.load(shop / definition).render(region="South")
    expected = 85 if definition != "file.yaml" else int(ORDERS["amount"].sum())  # a file is read whole
    assert pdf_lines(doc.pdf)[-1].split() == ["Total", f"{expected:,}"]


def test_a_duckdb_query_reads_only_inside_the_data_folders(shop: Path) -> None:
    (shop / "outside.yaml").write_text(
        _report(uri="duckdb:", query="SELECT * FROM read_csv('/etc/passwd') WHERE :region = :region").to_yaml()
    )
    with pytest.raises(pr.DataError, match="cannot read duckdb data: Permission Error"):
        pr.load(shop / "outside.yaml").render(region="x")
    (shop / "relative.yaml").write_text(
        _report(uri="duckdb:", query="SELECT * FROM read_parquet('orders.parquet') WHERE region = :region").to_yaml()
    )
    with pytest.raises(pr.DataError, match="Permission Error"):  # the working directory is outside
        pr.load(shop / "relative.yaml").render(region="x")
    with contextlib.chdir(shop):  # inside: relative names are allowed, and read there
        assert pr.load(shop / "relative.yaml").render(region="South").stats["rows"] == 3
    (shop / "escape.yaml").write_text(_report(uri="sqlite:///../elsewhere.db", query=QUERY).to_yaml())
    with pytest.raises(pr.AccessError, match="outside the folders database files may be read from"):
        pr.load(shop / "escape.yaml").render(region="x")


@pytest.mark.typst
def test_the_cli_takes_a_database_uri_as_data(shop: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    shutil.copy(shop / "shop.db", shop / "other.db")
    with contextlib.closing(sqlite3.connect(shop / "other.db")) as connection:
        connection.execute("DELETE FROM orders WHERE amount = 80")
        connection.commit()
    result = CliRunner().invoke(
        app,
        ["render", str(shop / "sqlite.yaml"), "--data", "sqlite:///other.db", "-p", "region=North", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert pdf_lines(out.read_bytes())[-1].split() == ["Total", "120"]  # other.db's rows, not shop.db's
    checked = CliRunner().invoke(app, ["validate", str(shop / "sqlite.yaml"), "-p", "region=North"])
    assert checked.exit_code == 0, checked.output


def test_without_data_or_source_the_error_says_what_to_give(shop: Path) -> None:
    with pytest.raises(pr.DataError, match="no data: pass the rows to render"):
        _report().render(region="x")
    with pytest.raises(pr.DataError, match="a database URI as data needs a query"):
        _report().render("sqlite:///shop.db", region="x")
    (shop / "up.yaml").write_text(_report(path="../orders.parquet").to_yaml())
    with pytest.raises(
        pr.AccessError, match=r"source\.path: the data file '.*' .* is outside the folders data files may be read from"
    ):
        pr.load(shop / "up.yaml").render(region="x")


def test_a_query_that_writes_changes_nothing(postgres: str, password: str) -> None:
    with pytest.raises(pr.DataError, match="DELETE statements are not queries that read rows"):  # refused
        _report(uri=postgres, query="DELETE FROM orders WHERE region = :region").render(region="North")
    hidden = "WITH gone AS (DELETE FROM orders WHERE region = :region RETURNING region, day, amount) SELECT * FROM gone"
    assert _report(uri=postgres, query=hidden).render(region="North").stats["rows"] == 2  # ran, never committed
    counting = _report(uri=postgres, query=QUERY)
    assert counting.render(region="North").stats["rows"] == 2  # the rows are still there


# -- the rows spill to a file and are read lazily ---------------------------------------------


def _spill_folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob(f"polarreports-{os.getpid()}-rows-*"))


def test_query_rows_are_a_lazy_snapshot_read_once(shop: Path) -> None:
    """The result spills to a temporary file and is scanned lazily (projection, filter and
    limit pushed into the scan); rows the database gains afterwards are not seen, as the query
    ran once; the file goes with the last LazyFrame over it."""
    import gc

    from polarreports.compute.databases import read_database

    before = _spill_folders()
    rows = read_database("sqlite:///shop.db", "SELECT * FROM orders WHERE amount > :low", {"low": 20}, [shop])
    assert "polarreports query rows" in rows.explain()  # a scan, not a frame held in memory
    (folder,) = _spill_folders() - before
    with contextlib.closing(sqlite3.connect(shop / "shop.db")) as connection:  # the database changes
        connection.execute("INSERT INTO orders VALUES ('North', '2025-02-01', 500)")
        connection.commit()
    expected = ORDERS.filter(pl.col("amount") > 20).with_columns(pl.col("day").cast(str))
    assert rows.collect().equals(expected)
    derived = rows.filter(pl.col("region") == "South").select("amount").head(1)
    del rows
    gc.collect()
    assert folder.exists()  # a LazyFrame built on it still reads it
    assert derived.collect()["amount"].to_list() == [50]
    assert derived.collect()["amount"].to_list() == [50]  # read again: the same snapshot
    del derived
    gc.collect()
    assert not folder.exists()


def test_spilled_rows_have_the_types_polars_reads(shop: Path) -> None:
    """Every SQLite type (and NULL) comes back as ``pl.read_database`` reads it eagerly, and an
    empty result keeps its columns (``validate`` checks a definition with it)."""
    import adbc_driver_sqlite.dbapi as sqlite

    from polarreports.compute.databases import read_database

    query = "SELECT 1 AS i, 2.5 AS f, 'x' AS s, NULL AS n, x'00ff' AS b UNION ALL SELECT 3, NULL, 'ü', NULL, NULL"
    with sqlite.connect(str(shop / "shop.db")) as connection:
        eager = pl.read_database(query, connection=connection)
    lazy = read_database("sqlite:///shop.db", query, {}, [shop])
    assert lazy.collect().equals(eager)
    assert lazy.collect_schema() == eager.schema
    empty = read_database(
        "sqlite:///shop.db", QUERY, {"region": "x", "since": date(2025, 1, 1)}, [shop], schema_only=True
    )
    assert empty.collect_schema().names() == ["region", "day", "amount"]
    assert empty.collect().height == 0


def test_duckdb_rows_spill_in_batches(shop: Path) -> None:
    from polarreports.compute.databases import read_database
    from polarreports.compute.spill import BATCH_ROWS

    count = BATCH_ROWS * 2 + 7  # three batches in the file
    rows = read_database("duckdb:", f"SELECT range AS i FROM range({count})", {}, [shop])
    assert rows.select(pl.col("i").sum(), pl.len()).collect().row(0) == (count * (count - 1) // 2, count)
    assert rows.filter(pl.col("i") >= count - 3).collect()["i"].to_list() == [count - 3, count - 2, count - 1]


def test_statements_that_are_no_queries_are_refused_before_they_run(shop: Path) -> None:
    from polarreports.compute.databases import read_database

    for statement in ("DROP TABLE orders", "/* x */ UPDATE orders SET amount = 0", "PRAGMA writable_schema = 1"):
        with pytest.raises(pr.DataError, match="statements are not queries that read rows"):
            read_database("sqlite:///shop.db", statement, {}, [shop])
    assert (
        read_database(
            "sqlite:///shop.db", "-- totals\nWITH t AS (SELECT count(*) AS n FROM orders) SELECT n FROM t", {}, [shop]
        )
        .collect()
        .item()
        == 6
    )
