"""Every typesetting is bounded: a short report that would take minutes and gigabytes to typeset
stops at its time limit, its cancel or its memory budget, as a long one does; the Typst
workers stay warm between renders; the compiler seam can be faked."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import polars as pl
import pytest

import polarreports as pr
from polarreports.output.document import Document
from polarreports.typeset import compile as compiling
from polarreports.typeset.compile import FakeCompiler, WorkerCompiler
from tests.conftest import ROOT

pytestmark = pytest.mark.usefixtures("temp_folder")
# The tests that typeset assert time limits, cancels, memory budgets or which workers live: they
# are marked serial (alone on the cores); the fake compiler's and the refusals' run beside others.

HUGE_LABEL = "word " * 1_200_000  # 6 MB of text in every one of 200 rows: minutes and gigabytes of Typst
HUGE = pr.Report(
    name="huge",
    bands=pr.Bands(
        detail=pr.Band(elements=[pr.Label(text=HUGE_LABEL, width="50%"), pr.Field(column="x", width="50%")])
    ),
)
SMALL = pr.Report(name="small", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="x", width="100%")])))
ROWS = pl.DataFrame({"x": list(range(200))})


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    msg = "no VmRSS"
    raise AssertionError(msg)  # pragma: no cover


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") < 0


@pytest.mark.serial
@pytest.mark.typst
def test_a_short_report_stops_at_its_time_limit() -> None:
    begin = time.monotonic()
    with pytest.raises(pr.Cancelled, match="time limit"):
        _ = HUGE.render(ROWS, timeout=2).pdf
    assert time.monotonic() - begin < 3.0


@pytest.mark.serial
@pytest.mark.typst
def test_a_short_report_stops_within_a_second_of_its_cancel() -> None:
    token = pr.CancelToken()
    document = HUGE.render(ROWS, cancel=token)
    cancelled_at: list[float] = []

    def cancel() -> None:
        time.sleep(0.5)
        cancelled_at.append(time.monotonic())
        token.cancel()

    threading.Thread(target=cancel).start()
    with pytest.raises(pr.Cancelled, match="cancelled"):
        _ = document.pdf
    assert time.monotonic() - cancelled_at[0] < 1.0


@pytest.mark.serial
@pytest.mark.typst
def test_a_typesetting_past_its_memory_budget_is_a_resource_error() -> None:
    before = rss_mb()
    begin = time.monotonic()
    with pytest.raises(pr.ResourceError, match=r"the typesetting needed more than \d+ MB"):
        _ = HUGE.render(ROWS, memory_budget_mb=before + 400).pdf  # 400 MB for the worker
    assert time.monotonic() - begin < 15.0
    assert rss_mb() - before < 100.0  # the worker took the memory, and gave it back as it ended


@pytest.mark.serial
@pytest.mark.typst
def test_ctrl_c_stops_a_short_report_and_its_worker(tmp_path: Path) -> None:
    script = (
        "import polars as pl, polarreports as pr\n"
        "from tests.test_limits import HUGE, ROWS\n"
        "print('typesetting', flush=True)\n"
        "HUGE.render(ROWS).pdf\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tempfile.gettempdir())}
    command = [sys.executable, "-c", script]
    with subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None
        assert process.stdout.readline() == b"typesetting\n"
        workers: list[int] = []
        deadline = time.monotonic() + 20
        while not workers and time.monotonic() < deadline:
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
            workers = [int(pid) for pid in children]
            time.sleep(0.05)
        assert workers, "no Typst worker started"
        time.sleep(0.5)
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
        assert time.monotonic() - interrupted < 1.0
    assert b"KeyboardInterrupt" in stderr
    assert not any(alive(pid) for pid in workers)


@pytest.mark.serial
@pytest.mark.typst
def test_the_warm_worker_is_reused_and_a_cancelled_one_replaced() -> None:
    compiler = WorkerCompiler(keep=1)
    small = SMALL.render(ROWS)

    def typeset(document: Document) -> bytes:
        return Document(document._source, document._data, None, document._control, compiler=compiler).pdf

    first = typeset(small)
    (warm,) = compiler.idle_pids()
    assert typeset(small) == first
    assert compiler.idle_pids() == [warm]  # the same process, typst and its fonts loaded

    token = pr.CancelToken()
    huge = HUGE.render(ROWS, cancel=token)
    threading.Timer(0.5, token.cancel).start()
    with pytest.raises(pr.Cancelled):
        typeset(huge)
    assert compiler.idle_pids() == []
    assert not alive(warm)  # it was the one typesetting: killed
    assert typeset(small) == first
    (fresh,) = compiler.idle_pids()
    assert fresh != warm
    compiler.close()
    assert not alive(fresh)


def test_a_fake_compiler_records_the_source_and_the_data_and_runs_no_typst(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_worker() -> None:
        msg = "a Typst worker was started"
        raise AssertionError(msg)

    monkeypatch.setattr(compiling, "_Worker", no_worker)
    document = SMALL.render(ROWS)
    fake = FakeCompiler(pages=3)
    faked = Document(document._source, document._data, document.stats, compiler=fake)
    assert faked.page_count == 3
    (job,) = fake.jobs
    assert job.source == document.to_typst()
    assert job.data == document.data_json
    assert b'"199"' in job.data
    assert job.format == "pdf"
    assert faked.png() == [compiling.tiny_png()] * 3


def test_a_fake_compiler_answers_the_measuring_pass() -> None:
    paged = pr.Report(  # values per page: the band heights are measured, then the pages typeset
        name="paged",
        variables=[pr.Variable(name="rows", calculation="count")],
        bands=pr.Bands(
            detail=pr.Band(elements=[pr.Field(column="x")]),
            page_footer=pr.Band(elements=[pr.Aggregate(variable="rows", show="page")]),
        ),
    )
    document = paged.render(ROWS)
    fake = FakeCompiler(band_height=100.0, body=700.0)  # 7 rows a page: 29 pages
    faked = Document(document._source, document._data, None, compiler=fake)
    assert faked.page_count == 29
    assert [job.selectors for job in fake.jobs] == [
        ("<polarreports-measure>",),
        ("<polarreports-mark>", "<polarreports-end>"),
    ]
    assert b'"pages": [["7"], ["7"], ' in fake.jobs[1].data  # the rows on each predicted page


def test_a_padding_to_ten_million_characters_is_refused_up_front() -> None:
    report = pr.Report(
        name="padded",
        columns={"padded": "LPAD(t, 10000000, 'x')"},
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="padded")])),
    )
    with pytest.raises(pr.PlanError, match=r"columns\.padded: LPAD to 10,000,000 characters .* at most 100,000"):
        report.render(pl.DataFrame({"t": ["a"] * 50}))
    fine = report.model_copy(update={"columns": {"padded": "LPAD(t, 12, 'x')"}})
    assert "xxxxxxxxxxxa" in fine.render(pl.DataFrame({"t": ["a"]})).data_json.decode()


@pytest.mark.serial
@pytest.mark.typst
def test_a_warm_worker_killed_while_it_waits_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    compiler = WorkerCompiler(keep=1)
    small = SMALL.render(ROWS)

    def typeset() -> bytes:
        return Document(small._source, small._data, None, compiler=compiler).pdf

    first = typeset()
    (warm,) = compiler.idle_pids()
    os.kill(warm, signal.SIGKILL)
    while Path(f"/proc/{warm}/status").read_text().find("State:\tZ") < 0:
        time.sleep(0.01)  # dead (a zombie till it is reaped)
    monkeypatch.setattr(compiling._Worker, "alive", lambda self: True)  # as if it died just after the check
    assert typeset() == first
    monkeypatch.undo()
    (fresh,) = compiler.idle_pids()
    assert fresh != warm
    compiler.close()


def test_no_process_for_a_worker_is_a_resource_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_process(*args: object, **kwargs: object) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    small = SMALL.render(ROWS)
    document = Document(small._source, small._data, None, compiler=WorkerCompiler())
    with pytest.raises(pr.ResourceError, match="cannot start a Typst worker process: Resource temporarily"):
        _ = document.pdf


@pytest.mark.serial
@pytest.mark.typst
def test_a_chunk_forked_from_a_warm_worker_keeps_its_limits() -> None:
    compiler = WorkerCompiler(keep=1)
    small, huge = SMALL.render(ROWS), HUGE.render(ROWS)
    chunk = compiling.CompileJob(small._source, small.data_json, one_off=True)
    first = compiler.compile(chunk)
    (warm,) = compiler.idle_pids()
    assert compiler.compile(chunk).pages == first.pages
    assert compiler.idle_pids() == [warm]  # the chunks ran in children it forked: it is kept, and reused
    with pytest.raises(pr.ResourceError, match=r"the typesetting needed more than 300 MB"):
        compiler.compile(compiling.CompileJob(huge._source, huge.data_json, one_off=True), memory_mb=300)
    assert not alive(warm)  # the child's failure ended its worker, as a failure in the worker would

    def descendants() -> set[int]:
        """This process's children and theirs (other tests' idle workers among them)."""
        found = set()
        for task in Path(f"/proc/{os.getpid()}/task").iterdir():
            for pid in (task / "children").read_text().split():
                found.add(int(pid))
                with contextlib.suppress(OSError):
                    found.update(int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
        return found

    busy: set[int] = set()  # the worker typesetting, and the child it forked for the chunk
    others = descendants()

    def cancel() -> str | None:
        if time.monotonic() - begin < 1.0:
            return None
        busy.update(descendants() - others)
        return "cancelled"

    begin = time.monotonic()
    with pytest.raises(pr.Cancelled):
        compiler.compile(compiling.CompileJob(huge._source, huge.data_json, one_off=True), stop=cancel)
    assert len(busy) == 2
    gone_by = time.monotonic() + 1.0  # killed: the child may take a moment to exit
    while any(alive(pid) for pid in busy) and time.monotonic() < gone_by:
        time.sleep(0.01)
    assert not [(pid, Path(f"/proc/{pid}/status").read_text()[:200]) for pid in busy if alive(pid)]
    assert compiler.idle_pids() == []
    compiler.close()
