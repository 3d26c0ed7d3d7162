"""The output side: page breaks before the first group, output files (mode, atomic writes,
destination checks), the time limit after render, and SIGTERM (issues 11 and 12)."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import io
import logging
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import polars as pl
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

import polarreports as pr
from polarreports import api, control
from polarreports.cli import app
from polarreports.output import document as document_module
from polarreports.typeset import predict
from polarreports.typeset.run import TypesetRun
from tests.conftest import EXAMPLE, ROOT, pdf_pages
from tests.test_control import worker_processes

runner = CliRunner()


def regions_on_new_pages() -> pr.Report:
    """The example report with each region starting a new page."""
    report = pr.load(EXAMPLE)
    region, *rest = report.groups
    return report.model_copy(update={"groups": [region.model_copy(update={"new_page": True}), *rest]})


@pytest.fixture(scope="module")
def orders() -> pl.DataFrame:
    return pr.sample.sales_data(4_000)  # about 4,100 bands: typeset in chunks


def page_of_totals(pages: list[str]) -> list[tuple[int, int]]:
    return [tuple(map(int, m.groups())) for text in pages if (m := re.search(r"Page (\d+) of (\d+)", text))]


@pytest.mark.usefixtures("small_chunks")  # chunks of 2 or 3 pages: the chunked path from 600 rows
def test_the_first_group_on_a_new_page_follows_the_title() -> None:
    orders = pr.sample.sales_data(600)
    document = regions_on_new_pages().render(orders)
    pages = pdf_pages(document.pdf)
    assert "chunks in" in document.stats["typeset"], document.stats["typeset"]
    first_region = orders["region"].sort()[0]
    assert first_region in pages[0]  # not a page with the title and the column header alone
    numbers = page_of_totals(pages)
    assert numbers == [(i, len(pages)) for i in range(1, len(pages) + 1)]
    assert document.page_count == len(pages)
    # each later region starts a page of its own
    regions = orders["region"].unique().sort().to_list()
    starts = [next(i for i, text in enumerate(pages) if f"\n{region} " in text) for region in regions[1:]]
    assert all(
        pages[i].split("Running\n", 1)[1].startswith(region) for i, region in zip(starts, regions[1:], strict=True)
    )
    # the preview knows the same total, and says so on its first page
    (preview,) = document.preview(1, format="pdf")
    assert document.stats["pages_predicted"] == document.page_count
    assert page_of_totals(pdf_pages(preview))[:1] == [(1, document.page_count)]


def test_a_fallback_to_one_piece_is_logged_with_its_reason(
    orders: pl.DataFrame, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    measure = predict.measure  # as the page breaks are predicted

    def taller(run: TypesetRun) -> object:  # heights off by 10%
        found = measure(run)
        return dataclasses.replace(found, heights=[h * 1.1 for h in found.heights])

    monkeypatch.setattr(predict, "measure", taller)
    document = pr.load(EXAMPLE).render(orders)
    with caplog.at_level(logging.WARNING, logger="polarreports"):
        pdf = document.pdf
    assert document.stats["typeset"].startswith("one piece (chunk 1 took")
    (record,) = [r for r in caplog.records if r.name == "polarreports" and r.levelno == logging.WARNING]
    assert "one piece, not in chunks: chunk 1 took" in record.getMessage()
    assert len(PdfReader(io.BytesIO(pdf)).pages) == document.page_count


# -- output files: their mode, atomic writes, the destination checked first ----------------------

SMALL = pr.load(EXAMPLE)


@pytest.fixture(scope="module")
def few_orders() -> pl.DataFrame:
    return pr.sample.sales_data(30)


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)], ids=["022", "077", "002"])
def test_output_files_follow_the_umask(few_orders: pl.DataFrame, tmp_path: Path, mask: int, mode: int) -> None:
    document = SMALL.render(few_orders)
    with umask(mask):
        written = [*document.save(tmp_path / "r.pdf"), *document.save(tmp_path / "r.svg")]
    assert written
    assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in written} == {path.name: mode for path in written}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)  # no temporary left


def test_every_file_the_cli_writes_follows_the_umask(tmp_path: Path) -> None:
    data = tmp_path / "sales.parquet"
    with umask(0o022):
        assert runner.invoke(app, ["sample", "-o", str(data), "--rows", "30"]).exit_code == 0
        assert runner.invoke(app, ["init", str(data), "-o", str(tmp_path / "r.yaml")]).exit_code == 0
        result = runner.invoke(
            app,
            [
                "render",
                str(EXAMPLE),
                "-d",
                str(data),
                "-o",
                str(tmp_path / "r.pdf"),
                "--typst",
                str(tmp_path / "r.typ"),
            ],
        )
    assert result.exit_code == 0, result.output
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in tmp_path.iterdir()}
    assert set(modes) >= {"sales.parquet", "r.yaml", "r.typ", "r.json", "r.pdf"}
    assert set(modes.values()) == {0o644}, modes


def test_a_bad_suffix_is_an_output_error_before_the_typesetting(
    few_orders: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = SMALL.render(few_orders)
    monkeypatch.setattr(document_module, "typeset", lambda *a, **k: pytest.fail("typeset before the check"))
    with pytest.raises(
        pr.OutputError,
        match=r"'report\.pdff': the suffix \.pdff, use \.pdf, \.png, \.svg\b.*\.html\b.*; did you mean 'report\.pdf'\?",
    ):
        document.save("report.pdff")
    with pytest.raises(pr.OutputError, match=r"'report': no suffix, use \.pdf, \.png, \.svg\b.*\.html\b.*$"):
        document.save("report")
    assert not isinstance(pr.OutputError("x"), pr.RenderError)  # not "Typst failed"


def test_an_unwritable_destination_is_an_output_error_before_the_typesetting(
    few_orders: pl.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = SMALL.render(few_orders)
    monkeypatch.setattr(document_module, "typeset", lambda *a, **k: pytest.fail("typeset before the check"))
    a_file = tmp_path / "notes.txt"
    a_file.write_text("")
    with pytest.raises(pr.OutputError, match=r"notes\.txt' is a file, not a folder"):
        document.save(a_file / "sub" / "report.pdf")
    (tmp_path / "folder.pdf").mkdir()
    with pytest.raises(pr.OutputError, match=r"folder\.pdf': it is a folder; give a file name in it"):
        document.save(tmp_path / "folder.pdf")
    if Path("/sys/kernel").is_dir():  # a folder even root cannot create files in
        with pytest.raises(
            pr.OutputError, match=r"cannot create files in the folder '/sys/kernel' \(permission denied\)"
        ):
            document.save("/sys/kernel/report.pdf")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in any folder")
def test_a_read_only_folder_is_an_output_error(few_orders: pl.DataFrame, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(pr.OutputError, match=r"cannot create files in the folder .*locked' \(permission denied\)"):
        SMALL.render(few_orders).save(locked / "report.pdf")


def test_a_full_disk_is_an_output_error_and_leaves_the_old_file(
    few_orders: pl.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.pdf"
    target.write_bytes(b"the previous report")

    def disk_full(file: BinaryIO, content: bytes | Path) -> None:
        file.write(b"%PDF-1.7 and then")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(document_module, "_copy_into", disk_full)
    with pytest.raises(pr.OutputError) as raised:
        SMALL.render(few_orders).save(target)
    assert str(raised.value) == f"cannot write {str(target)!r}: no space left on device"
    assert target.read_bytes() == b"the previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_the_cli_checks_the_output_before_rendering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "sales.parquet"
    pr.sample.write_sales_data(data, 30)
    monkeypatch.setattr(api, "render", lambda *a, **k: pytest.fail("rendered before the check"))
    a_file = tmp_path / "notes.txt"
    a_file.write_text("")
    for output, typst, message in [
        (tmp_path / "r.docx", None, "the suffix .docx, use .pdf, .png, .svg"),
        (a_file / "r.pdf", None, "notes.txt' is a file, not a folder"),
        (tmp_path / "r.pdf", a_file / "r.typ", "notes.txt' is a file, not a folder"),
        (tmp_path / "r.pdf", tmp_path / "r.json", "its data goes to the same path with .json"),
    ]:
        arguments = ["render", str(EXAMPLE), "-d", str(data), "-o", str(output)]
        result = runner.invoke(app, arguments + (["--typst", str(typst)] if typst else []))
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: "), result.output
        assert result.output.count("\n") == 1, result.output
        assert message in result.output


# -- the time limit counts the render's work, not the time its document waits --------------------


@pytest.mark.serial
def test_a_document_saved_after_the_timeout_is_not_cancelled(few_orders: pl.DataFrame, tmp_path: Path) -> None:
    _ = SMALL.render(few_orders).pdf  # fonts loaded: the timed render below is quick
    document = SMALL.render(few_orders, timeout=0.6)
    time.sleep(0.9)  # the render's time limit is past: the document is still saved whole
    (written,) = document.save(tmp_path / "r.pdf")
    assert written.read_bytes().startswith(b"%PDF")


@pytest.mark.serial
def test_a_slow_typesetting_is_still_stopped_at_the_timeout(
    few_orders: pl.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    begin = time.monotonic()
    document = SMALL.render(few_orders, timeout=0.6)
    left = 0.6 - (time.monotonic() - begin)  # of the time limit, after the data work
    time.sleep(0.9)  # past the time limit, before the document is typeset

    def slow_compile(*args: object, **kwargs: object) -> list[bytes]:
        while True:  # a typesetting that would never end, checking its time as the workers do
            document._control.check()
            time.sleep(0.01)

    monkeypatch.setattr(TypesetRun, "compile", slow_compile)
    start = time.monotonic()
    with pytest.raises(pr.Cancelled, match="time limit"):
        document.save(tmp_path / "r.pdf")
    assert left - 0.1 < time.monotonic() - start < left + 0.5
    assert not list(tmp_path.iterdir())


# -- SIGTERM, and what a killed render leaves ----------------------------------------------------


@pytest.mark.serial
def test_sigterm_stops_the_cli_like_ctrl_c(tmp_path: Path) -> None:
    data = tmp_path / "sales.parquet"
    pr.sample.write_sales_data(data, 30_000)
    temp = tmp_path / "tmp"
    temp.mkdir()
    out = tmp_path / "report.pdf"
    command = [sys.executable, "-m", "polarreports.cli", "render", str(EXAMPLE), "-d", str(data), "-o", str(out)]
    environment = {**os.environ, "TMPDIR": str(temp), "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        deadline = time.monotonic() + 60
        while not worker_processes() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)  # until the chunks are being typeset
        assert worker_processes(), "no Typst worker started"
        time.sleep(0.3)
        terminated = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
        assert time.monotonic() - terminated < 1.0
    assert process.returncode == 128 + signal.SIGTERM == 143
    *progress, last = stderr.splitlines()  # piped, the progress is one line per phase
    assert last == "error: stopped by SIGTERM"
    assert all(line.startswith("polarreports ") for line in progress)
    time.sleep(0.1)
    assert worker_processes() == []
    assert list(temp.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sales.parquet", "tmp"]


def test_the_first_render_sweeps_what_killed_renders_left(
    few_orders: pl.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    dead = int(ended.stdout)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("")
    temp = tmp_path / "tmp"
    temp.mkdir()
    entries = {
        f"polarreports-{dead}-abcd_123": ("folder", True),  # left by a killed render: removed
        f"polarreports-{dead}-bands-x1y2z3w4.jsonl": ("file", True),
        f"polarreports-{dead}-pdf-k9m8n7p6": ("link", True),  # the link goes, not what it points to
        f"polarreports-{os.getpid()}-pdf-a1b2c3d4": ("folder", False),  # its process lives (a kept document)
        f"polarreports-{dead}-reports": ("folder", False),  # not a name polarreports gives: someone's
        "polarreports-pdf-oldnames": ("folder", False),  # nor this (no process id: whose is it?)
        "unrelated": ("folder", False),
    }
    old = time.time() - 2 * 24 * 3600
    for name, (kind, _) in entries.items():
        path = temp / name
        if kind == "folder":
            path.mkdir()
            (path / "report.typ").write_text("")
        elif kind == "file":
            path.write_text("")
        else:
            path.symlink_to(outside)
        os.utime(path, (old, old), follow_symlinks=False)
    (temp / f"polarreports-{dead}-y0ung123").mkdir()  # a day has not passed: kept
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setitem(control._sweep, "last", float("-inf"))  # as in a fresh process
    SMALL.render(few_orders)
    kept = {name for name, (_, removed) in entries.items() if not removed} | {f"polarreports-{dead}-y0ung123"}
    assert {p.name for p in temp.iterdir()} == kept
    assert (outside / "keep.txt").exists()
    SMALL.render(few_orders)  # later renders do not sweep again (for an hour)
    assert control._sweep["last"] > time.monotonic() - 60
