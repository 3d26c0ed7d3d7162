"""``--source NAME=PATH`` on the command line: the subreports' sources by name, as
``render(sources=...)`` in Python; a name no subreport reads is an error with the closest."""

from __future__ import annotations

import html
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import polarreports as pr
from polarreports.cli import app
from tests.test_subreports import LINES, PAYMENTS, order_report, orders_data


@pytest.fixture
def files(tmp_path: Path) -> Path:
    orders, lines, payments = orders_data(12)
    orders.write_csv(tmp_path / "orders.csv")
    lines.write_parquet(tmp_path / "lines.parquet")
    payments.write_parquet(tmp_path / "payments.parquet")
    (tmp_path / "orders.yaml").write_text(order_report().to_yaml())
    return tmp_path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_sources_by_name_render_as_in_python(files: Path) -> None:
    status, output = _run(
        "render", str(files / "orders.yaml"), "-d", str(files / "orders.csv"),
        "--source", f"lines={files / 'lines.parquet'}", "-s", f"payments={files / 'payments.parquet'}",
        "-o", str(files / "cli.html"),
    )  # fmt: skip
    assert status == 0, output
    _, lines, payments = orders_data(12)
    python = order_report().render(pl.read_csv(files / "orders.csv"), sources={"lines": lines, "payments": payments})
    python.save(files / "python.html")
    page = (files / "cli.html").read_text()
    assert page == (files / "python.html").read_text()
    for method in payments["method"]:
        assert f">{html.escape(method)}<" in page


def test_validate_takes_sources_too(files: Path) -> None:
    status, output = _run(
        "validate", str(files / "orders.yaml"), "-d", str(files / "orders.csv"),
        "-s", f"lines={files / 'lines.parquet'}", "-s", f"payments={files / 'payments.parquet'}",
    )  # fmt: skip
    assert status == 0, output


@pytest.mark.parametrize(
    ("option", "wanted"),
    [
        ("paymnts=payments.parquet", "no subreport reads a source 'paymnts'; did you mean 'payments'?"),
        ("payments", "--source takes name=path, got 'payments'"),
        ("payments=missing.parquet", "--source payments=missing.parquet: no such file"),
    ],
)
def test_a_wrong_source_option_says_what_is_wrong(
    files: Path, option: str, wanted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(files)
    given = ["-s", "lines=lines.parquet", "-s", option]
    status, output = _run("render", "orders.yaml", "-d", "orders.csv", *given, "-o", "x.html")
    assert status != 0
    assert wanted in " ".join(output.split())


def test_a_source_not_given_names_the_ones_that_were(files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(files)
    status, output = _run("render", "orders.yaml", "-d", "orders.csv", "-s", "lines=lines.parquet", "-o", "x.html")
    assert status != 0
    assert "unknown source 'payments'" in output


def test_names_are_found_in_nested_and_file_subreports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from polarreports.plan.subreports import source_names

    monkeypatch.chdir(tmp_path)
    (tmp_path / "payments.yaml").write_text(PAYMENTS.to_yaml())
    nested = LINES.model_copy(
        update={"bands": LINES.bands.model_copy(update={"detail": pr.Band(elements=[
            pr.Subreport(report="payments.yaml", source="pay", keys=["order_id"])])})}
    )  # fmt: skip
    outer = pr.Report(
        name="r", bands=pr.Bands(detail=pr.Band(elements=[pr.Subreport(report=nested, source="lines", keys=["o"])]))
    )
    assert source_names(outer) == {"lines", "pay"}


def _batch(files: Path, out: Path) -> tuple[int, str]:
    return _run(
        "batch", str(files / "orders.yaml"), "-d", str(files / "orders.csv"), "--by", "customer",
        "--out", str(out), "--name", "{customer}.html", "--workers", "1", "--no-progress",
        "-s", f"lines={files / 'lines.parquet'}", "-s", f"payments={files / 'payments.parquet'}",
    )  # fmt: skip


@pytest.mark.slow  # three batch runs, each in a worker process of its own: make test runs it
def test_batch_takes_sources_and_a_changed_source_renders_again(files: Path) -> None:
    """Each customer's page holds its own orders' payments (as a render of that customer
    alone in Python); the sources are part of the fingerprint: unchanged, every file is kept;
    changed, every file is made again."""
    out = files / "out"
    status, output = _batch(files, out)
    assert status == 0, output
    orders, lines, payments = orders_data(12)
    for customer in orders["customer"].unique():
        mine = orders.filter(pl.col("customer") == customer)
        alone = order_report().render(mine, sources={"lines": lines, "payments": payments})
        alone.save(files / "alone.html")
        assert (out / f"{customer}.html").read_text() == (files / "alone.html").read_text()
    kept = {path.name: path.stat().st_mtime_ns for path in out.glob("*.html")}
    status, output = _batch(files, out)
    assert status == 0, output
    assert {path.name: path.stat().st_mtime_ns for path in out.glob("*.html")} == kept
    payments.with_columns(pl.col("amount") * 2).write_parquet(files / "payments.parquet")
    status, output = _batch(files, out)
    assert status == 0, output
    assert all(path.stat().st_mtime_ns != kept[path.name] for path in out.glob("*.html"))


def test_batch_names_a_wrong_source(files: Path) -> None:
    status, output = _run(
        "batch", str(files / "orders.yaml"), "-d", str(files / "orders.csv"), "--by", "customer",
        "--out", str(files / "out"), "-s", f"paymnts={files / 'payments.parquet'}",
    )  # fmt: skip
    assert status == 2
    assert "did you mean 'payments'?" in " ".join(output.split())


def test_preview_serves_with_the_sources(files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, object] = {}
    monkeypatch.setattr("polarreports.preview.server.serve", lambda *args, **kwargs: served.update(kwargs))
    status, output = _run(
        "preview", str(files / "orders.yaml"), "-d", str(files / "orders.csv"),
        "-s", f"lines={files / 'lines.parquet'}", "-s", f"payments={files / 'payments.parquet'}",
    )  # fmt: skip
    assert status == 0, output
    assert served["sources"] == {"lines": files / "lines.parquet", "payments": files / "payments.parquet"}
