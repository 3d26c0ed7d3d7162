"""``polarreports preview`` as a person runs it: it serves on 127.0.0.1, says where, stops on
Ctrl-C; a definition that cannot be read, or a port already taken, is one line and exit 2."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

import polarreports as pr
from polarreports.cli import app
from tests.conftest import ROOT

pytest.importorskip("starlette", reason="the preview extra is not installed: pip install -e '.[dev]'")

runner = CliRunner()
COMMAND = [sys.executable, "-c", "from polarreports.cli import run; run()", "preview"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pr.sample.write_sales_data(tmp_path_factory.mktemp("cli") / "sales.parquet", 100)


@pytest.mark.typst
def test_it_serves_on_this_machine_until_ctrl_c(data: Path) -> None:
    port = free_port()
    definition = ROOT / "examples" / "sales_by_region.yaml"
    args = [*COMMAND, str(definition), "--data", str(data), "--port", str(port), "-p", "year=2025"]
    errors = data.with_name("preview-stderr.txt").open("w+")
    with errors, subprocess.Popen(args, stdout=subprocess.PIPE, stderr=errors, text=True, cwd=ROOT) as process:
        try:
            line = process.stdout.readline() if process.stdout else ""
            assert f"http://127.0.0.1:{port}/" in line, (line, errors.seek(0), errors.read())
            deadline = time.monotonic() + 60
            while True:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state", timeout=10) as answer:
                    state = json.load(answer)
                if state["status"] != "rendering" or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert state["status"] == "done", state["error"]
            assert state["values"] == {"year": "2025"}
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/events", timeout=10) as events:
                assert events.readline().startswith(b"data: ")  # a page is open: its stream does not hold the stop
                process.send_signal(signal.SIGINT)
                assert process.wait(timeout=15) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)


def test_a_definition_that_cannot_be_read_stops_before_serving(tmp_path: Path, data: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n", encoding="utf-8")
    result = runner.invoke(app, ["preview", str(broken), "--data", str(data), "--port", str(free_port())])
    assert result.exit_code == 2
    assert result.output.startswith("error: ")
    assert "broken.yaml" in result.output
    assert "http://" not in result.output  # never served


def test_a_port_in_use_is_one_line(data: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        definition = ROOT / "examples" / "sales_by_region.yaml"
        result = runner.invoke(app, ["preview", str(definition), "--data", str(data), "--port", str(port)])
    assert result.exit_code == 2
    assert (
        result.output.strip()
        == f"error: cannot serve on 127.0.0.1:{port}: Address already in use; choose another with --port"
    )
