"""The command line: render, validate, schema, init, sample; bad input exits 2 with one line."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from polarreports.cli import app
from polarreports.output import document as document_module
from tests.conftest import EXAMPLE, pdf_pages

runner = CliRunner()


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "sales.parquet"
    result = runner.invoke(app, ["sample", "-o", str(path), "--rows", "400"])
    assert result.exit_code == 0, result.output
    return path


@pytest.mark.typst
def test_render_writes_a_pdf_and_says_where(data_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    result = runner.invoke(
        app,
        [
            "render",
            str(EXAMPLE),
            "--data",
            str(data_file),
            "-p",
            "year=2025",
            "-o",
            str(out),
            "--typst",
            str(tmp_path / "r.typ"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {out}: ")
    assert "2025" in pdf_pages(out.read_bytes())[0]
    assert (tmp_path / "r.typ").read_text().startswith("// polarreports")
    assert json.loads((tmp_path / "r.json").read_bytes())["rows"]


@pytest.mark.typst
def test_render_png_pages_become_numbered_files(data_file: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["render", str(EXAMPLE), "--data", str(data_file), "-o", str(tmp_path / "page.png")])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in tmp_path.glob("page-*.png"))
    digits = len(str(len(files)))
    assert files == [f"page-{i:0{digits}d}.png" for i in range(1, len(files) + 1)]
    assert len(files) > 3


def test_validate_reads_no_rows(data_file: Path) -> None:
    result = runner.invoke(app, ["validate", str(EXAMPLE), "--data", str(data_file)])
    assert result.exit_code == 0
    first, *rest = result.output.splitlines()
    assert first.endswith("report 'sales_by_region': ok")
    assert any("(field 'amount')" in line and line.endswith("Decimal(precision=38, scale=2)") for line in rest)


def test_bad_input_exits_2_with_a_one_line_error(data_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("column: customer, bold", "column: custmer, bold"))
    result = runner.invoke(app, ["validate", str(bad), "--data", str(data_file)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "(field 'custmer'): unknown column 'custmer'; did you mean 'customer'" in result.output
    result = runner.invoke(
        app, ["render", str(EXAMPLE), "--data", str(data_file), "-p", "year=soon", "-o", str(tmp_path / "x.pdf")]
    )
    assert result.exit_code == 2
    assert result.output == "error: parameter 'year' must be an integer, got 'soon'\n"
    assert not (tmp_path / "x.pdf").exists()


def test_debug_shows_the_traceback(data_file: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["--debug", "render", str(EXAMPLE), "--data", str(data_file), "-p", "nope=1", "-o", str(tmp_path / "x.pdf")],
    )
    assert result.exit_code != 0
    assert result.exception is not None


def test_schema_prints_json_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert json.loads(result.output)["title"] == "polarreports report definition"


@pytest.mark.typst
def test_init_scaffolds_a_definition_that_renders_without_edits(data_file: Path, tmp_path: Path) -> None:
    definition = tmp_path / "scaffold.yaml"
    assert runner.invoke(app, ["init", str(data_file), "-o", str(definition)]).exit_code == 0
    out = tmp_path / "scaffold.pdf"
    result = runner.invoke(app, ["render", str(definition), "--data", str(data_file), "-o", str(out)])
    assert result.exit_code == 0, result.output
    first_page = pdf_pages(out.read_bytes())[0]
    assert "Order id Order date Region Country Customer Product Category Quantity Unit price Discount" in first_page


def test_console_script_is_installed() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "polarreports.cli", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "render" in result.stdout


@pytest.mark.typst
def test_exit_status_says_what_kind_of_failure(
    data_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2 bad input, 3 a limit, 4 a write that failed part way: scripts can tell them apart."""
    out = str(tmp_path / "report.pdf")
    base = ["render", str(EXAMPLE), "--data", str(data_file)]
    assert runner.invoke(app, [*base, "-o", str(tmp_path / "report.docx")]).exit_code == 2
    stopped = runner.invoke(app, [*base, "-o", out, "--timeout", "0.001"])
    assert stopped.exit_code == 3, stopped.output
    assert stopped.output.startswith("error: ")
    assert stopped.output.count("\n") == 1

    def disk_full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(document_module, "_copy_into", disk_full)
    full = runner.invoke(app, [*base, "-o", out])
    assert full.exit_code == 4, full.output
    assert "no space left on device" in full.output
    assert not Path(out).exists()
