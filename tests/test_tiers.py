"""The fast tier (``make test-fast``: ``-m "not typst"``) fails a test that runs Typst without
the ``typst`` mark, so that the tier stays fast and the mark stays true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

TINY_TESTS = """
import subprocess, sys

import polars as pl
import pytest
import polarreports as pr
from polarreports.typeset.compile import WORKER

REPORT = pr.Report(name="tiny", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="x")])))
DATA = pl.DataFrame({"x": [1]})


def test_renders_unmarked():
    _ = REPORT.render(DATA).pdf


def test_starts_the_worker_unmarked():
    subprocess.Popen([sys.executable, "-S", "-I", str(WORKER)]).wait()


def test_hides_the_failure_in_a_broad_except():
    try:
        _ = REPORT.render(DATA).pdf
    except BaseException:
        pass


def test_plans_only():
    assert pr.validate(REPORT, DATA) is not None
    assert subprocess.run([sys.executable, "-c", "pass"], check=True).returncode == 0


@pytest.mark.typst
def test_renders_marked():
    _ = REPORT.render(DATA).pdf
"""


def run_tiny_suite(
    tmp_path: Path, *options: str, targets: tuple[str, ...] = ("test_tiny.py",), guard: bool = False
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_tiny.py").write_text(TINY_TESTS)
    command = [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider", "-q", *options]
    environment = {
        **os.environ,
        "COLUMNS": "200",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "POLARREPORTS_TYPST_GUARD": "1" if guard else "",
    }
    return subprocess.run(
        [*command, *targets], cwd=tmp_path, env=environment, capture_output=True, text=True, check=False
    )


def test_the_fast_tier_fails_a_test_that_runs_typst_unmarked(tmp_path: Path) -> None:
    result = run_tiny_suite(tmp_path, "-m", "not typst", "-rfE")
    out = result.stdout
    assert "3 failed, 1 passed, 1 deselected" in out, out
    hint = "Failed: this test runs Typst"
    for name in ("renders_unmarked", "starts_the_worker_unmarked", "hides_the_failure_in_a_broad_except"):
        assert f"FAILED test_tiny.py::test_{name} - {hint}" in out
    # every compile runs in a worker process now: the guard sees the worker start
    assert "this test runs Typst: mark it @pytest.mark.typst (it starts the Typst worker _worker.py)" in out


@pytest.mark.typst
def test_the_whole_suite_runs_every_test_unguarded(tmp_path: Path) -> None:
    result = run_tiny_suite(tmp_path)
    assert "5 passed" in result.stdout, result.stdout


@pytest.mark.typst
def test_make_tests_run_of_both_tiers_fails_a_test_that_runs_typst_unmarked(tmp_path: Path) -> None:
    result = run_tiny_suite(tmp_path, "-rfE", guard=True)  # POLARREPORTS_TYPST_GUARD=1, no -m
    assert "3 failed, 2 passed" in result.stdout, result.stdout


@pytest.mark.typst
def test_the_guard_sees_an_unmarked_test_use_a_warm_worker(tmp_path: Path) -> None:
    """A marked test leaves a warm Typst worker; an unmarked one after it starts none, and is
    still caught, as it typesets."""
    targets = ("test_tiny.py::test_renders_marked", "test_tiny.py::test_renders_unmarked")
    result = run_tiny_suite(tmp_path, "-rfE", targets=targets, guard=True)
    out = result.stdout
    assert "1 failed, 1 passed" in out, out
    assert "this test runs Typst: mark it @pytest.mark.typst (it typesets in a warm Typst worker)" in out
