"""Progress, cancellation, time limits and the memory budget."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

import polarreports as pr
from polarreports.control import own_rss_mb
from polarreports.typeset.compile import WORKER, default_compiler
from polarreports.typeset.run import MB_PER_PAGE, WORKER_BASE_MB
from tests.conftest import EXAMPLE


@pytest.fixture(scope="module")
def long_data() -> pl.DataFrame:
    """12,000 orders: about 150 pages, typeset in chunks."""
    return pr.sample.sales_data(12_000)


def worker_processes() -> list[int]:
    """Typst worker processes of this checkout still alive (the tests render one at a time),
    but for this process's idle warm workers, kept for its next render."""
    found = []
    idle = default_compiler().idle_pids()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid() and int(entry.name) not in idle:
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(WORKER).encode() in command:
                found.append(int(entry.name))
    return found


@pytest.mark.typst
def test_progress_reports_every_phase(example: pr.Report, long_data: pl.DataFrame) -> None:
    events: list[pr.Progress] = []
    document = example.render(long_data, progress=events.append)
    _ = document.pdf
    phases = [event.phase for event in events]
    assert list(dict.fromkeys(phases))[:3] == ["planning", "data", "layout"]
    rows = [event for event in events if event.phase == "data" and event.unit == "rows"]
    assert rows[-1].done == rows[-1].total == long_data.height  # the data phase counts its rows
    assert [event.done for event in rows] == sorted(event.done for event in rows)
    typesetting = [event for event in events if event.phase == "typesetting"]
    assert typesetting[0].done == 0
    assert typesetting[-1].done == typesetting[-1].total
    assert typesetting[-1].unit == "chunks"


@pytest.mark.serial  # alone: seconds timed, and the Typst workers counted
@pytest.mark.typst
def test_cancel_lands_within_a_second_ends_the_workers_and_writes_nothing(
    example: pr.Report, long_data: pl.DataFrame, tmp_path: Path
) -> None:
    token = pr.CancelToken()
    document = example.render(long_data, cancel=token)
    cancelled_at: list[float] = []

    def on_progress(event: pr.Progress) -> None:
        if event.phase == "typesetting" and not cancelled_at:
            cancelled_at.append(time.monotonic())
            token.cancel()

    document._control.progress = on_progress
    with pytest.raises(pr.Cancelled, match="the render was cancelled"):
        document.save(tmp_path / "report.pdf")
    assert time.monotonic() - cancelled_at[0] < 1.0
    assert not list(tmp_path.iterdir())
    assert worker_processes() == []


@pytest.mark.serial  # alone: seconds timed
@pytest.mark.typst
def test_timeout(example: pr.Report, long_data: pl.DataFrame) -> None:
    begin = time.monotonic()
    with pytest.raises(pr.Cancelled, match="time limit"):
        _ = example.render(long_data, timeout=0.5).pdf
    assert time.monotonic() - begin < 1.5


@pytest.mark.serial  # alone: seconds timed, and the Typst workers counted
@pytest.mark.typst
def test_ctrl_c_ends_the_workers_and_leaves_no_file(tmp_path: Path) -> None:
    data = tmp_path / "sales.parquet"
    pr.sample.write_sales_data(data, 30_000)
    out = tmp_path / "report.pdf"
    script = (
        "import sys, polarreports as pr\n"
        f"doc = pr.load({str(EXAMPLE)!r}).render({str(data)!r}, progress=lambda e: print(e.phase, flush=True))\n"
        f"doc.save({str(out)!r})\n"
    )
    command = [sys.executable, "-c", script]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        for line in process.stdout:
            if line.strip() == "typesetting":
                break
        time.sleep(0.3)
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        assert time.monotonic() - interrupted < 1.5
        assert process.returncode != 0
        assert "KeyboardInterrupt" in process.stderr.read()
    time.sleep(0.2)
    assert worker_processes() == []
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report.pdf")]


@pytest.mark.serial  # alone: a budget from this process's resident memory
@pytest.mark.typst
def test_memory_budget_makes_chunks_smaller(example: pr.Report, long_data: pl.DataFrame) -> None:
    roomy = example.render(long_data)
    _ = roomy.pdf
    pages = 18  # what each worker's share of the budget fits; a roomy chunk holds 20 to 60
    workers = os.cpu_count() or 1
    budget = own_rss_mb() + workers * (WORKER_BASE_MB + (pages + 0.5) * MB_PER_PAGE)
    tight = example.render(long_data, memory_budget_mb=budget)
    _ = tight.pdf
    chunks = int(tight.stats["typeset"].split()[0])
    assert chunks > int(roomy.stats["typeset"].split()[0])
    assert chunks >= -(-tight.page_count // pages)
    assert pr.load(EXAMPLE) == example
    assert roomy.page_count == tight.page_count


@pytest.mark.typst
def test_a_budget_that_cannot_fit_is_a_clear_error(example: pr.Report, long_data: pl.DataFrame) -> None:
    with pytest.raises(pr.ResourceError, match="cannot fit in a memory budget of 10 MB"):
        _ = example.render(long_data, memory_budget_mb=10).pdf


def test_render_options_are_not_parameter_names() -> None:
    with pytest.raises(pr.DefinitionError, match="taken by render"):
        pr.Parameter(name="timeout")
