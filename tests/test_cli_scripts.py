"""The command line as scripts and people use it: --version, --quiet, --json, plain help, progress
that is one line per phase when piped, validate without data, and a --typst source that compiles
as written."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import typst
from typer.testing import CliRunner

from polarreports.cli import app
from polarreports.typeset.compile import FONTS_DIR
from tests.conftest import EXAMPLE, ROOT, page_layouts, pdf_pages

runner = CliRunner()


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "sales.parquet"
    assert runner.invoke(app, ["--quiet", "sample", "-o", str(path), "--rows", "300"]).exit_code == 0
    return path


def test_version_prints_the_installed_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"polarreports {version('polarreports')}\n"


def test_help_lists_flags_without_types_and_the_exit_statuses() -> None:
    top = runner.invoke(app, ["--help"]).stdout
    assert "<bool>" not in top
    assert "-q, --quiet" in top
    assert "--json" in top
    assert "2 bad input" in " ".join(top.split())
    render = runner.invoke(app, ["render", "--help"]).stdout
    assert "<bool>" not in render
    assert "-p, --param NAME=VALUE" in render


def test_quiet_prints_nothing_but_errors(data_file: Path, tmp_path: Path) -> None:
    quiet = runner.invoke(app, ["validate", str(EXAMPLE), "--data", str(data_file), "--quiet"])
    assert quiet.exit_code == 0
    assert quiet.stdout == ""
    bad = runner.invoke(app, ["-q", "validate", str(tmp_path / "missing.yaml")])
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: cannot read the definition")


def test_json_reports_what_was_checked_and_errors_with_their_exit_status(data_file: Path, tmp_path: Path) -> None:
    found = runner.invoke(app, ["validate", str(EXAMPLE), "-d", str(data_file), "--json"])
    result = json.loads(found.stdout)
    assert result["ok"] is True
    assert result["groups"] == ["region", "customer"]
    assert result["values"]["bands.detail.elements[0] (field 'order_date')"] == "Date"
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("calculation: count", "calculation: cnt"))
    failed = runner.invoke(app, ["--json", "validate", str(bad)])
    assert failed.exit_code == 2
    error = json.loads(failed.stdout)
    assert error["ok"] is False
    assert error["exit_status"] == 2
    assert error["error"].startswith(f"{bad}, line ")
    assert "did you mean 'count'?" in error["error"]
    assert failed.stderr == f"error: {error['error']}\n"


def test_validate_without_data_checks_the_definition_alone(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "the definition is valid (without data" in result.stdout
    assert "columns it reads: country, customer, discount, order_date" in result.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("variable: units, width: 7%, bold: true}", "variable: unit}", 1))
    failed = runner.invoke(app, ["validate", str(bad)])
    assert failed.exit_code == 2
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1) if "variable: unit}" in text)
    assert failed.stderr == (
        f"error: {bad}, line {line}: groups[0] ('region').footer.elements[1] (aggregate 'unit'): "
        "unknown variable 'unit'; did you mean 'units'?\n"
    )


@pytest.mark.typst
def test_render_json_gives_outputs_pages_and_seconds_per_phase(data_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    result = runner.invoke(app, ["render", str(EXAMPLE), "-d", str(data_file), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["outputs"] == [str(out)]
    assert report["pages"] == len(pdf_pages(out.read_bytes())) > 1
    assert report["rows"] == 300
    assert set(report["seconds"]) == {"plan", "data", "layout", "typeset", "write", "total"}
    assert 0 < report["seconds"]["typeset"] < report["seconds"]["total"]


@pytest.mark.typst
def test_piped_progress_is_one_line_per_phase(data_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    command = [sys.executable, "-m", "polarreports.cli", "render", str(EXAMPLE), "-d", str(data_file), "-o", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr
    phases = [line.split()[1].rstrip(":") for line in done.stderr.splitlines()]
    assert phases == ["planning", "data", "layout", "typesetting", "writing"]
    assert done.stdout.startswith(f"wrote {out}: ")


@pytest.mark.typst
def test_the_typst_source_compiles_as_written(tmp_path: Path) -> None:
    import polarreports as pr

    data = tmp_path / "invoice.parquet"
    pr.sample.invoice_data().write_parquet(data)
    source = tmp_path / "typst" / "invoice.typ"
    out = tmp_path / "invoice.pdf"
    invoice = ROOT / "examples" / "invoice.yaml"
    result = runner.invoke(app, ["render", str(invoice), "-d", str(data), "-o", str(out), "--typst", str(source)])
    assert result.exit_code == 0, result.output
    assert 'json("invoice.json")' in source.read_text()
    assert list((source.parent / "assets").iterdir())  # the logo, beside the source
    compiled = typst.compile(str(source), font_paths=[str(FONTS_DIR)], ignore_system_fonts=True)
    assert page_layouts(compiled) == page_layouts(out.read_bytes())


def test_what_was_written_is_counted_in_the_singular_for_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample", "-o", str(tmp_path / "one.parquet"), "--rows", "1"])
    assert result.exit_code == 0
    assert result.output.strip().endswith(": 1 row")
    result = runner.invoke(app, ["sample", "-o", str(tmp_path / "many.parquet"), "--rows", "1500"])
    assert result.output.strip().endswith(": 1,500 rows")
