"""Typst behind a seam: a ``Compiler`` typesets one job (a Typst source, its data file, the
format, and the metadata to read back) into pages.

``WorkerCompiler`` (the one renders use) typesets every job in a child process, never in
this one: the process is killed as soon as the render is cancelled, runs past its time limit
or is interrupted (Ctrl-C, SIGTERM), and its address space is capped (from the render's
memory budget, else ``DEFAULT_MEMORY_MB``), so a compile that explodes ends as a
``ResourceError``, not in the machine's memory. The children stay warm: each keeps typst and
its fonts loaded and takes job after job over a pipe (``_worker.py``, run by the warm worker
process of ``polarreports/workers``), so a small report is typeset in milliseconds; a chunk of
a long report (``CompileJob.one_off``) is typeset in a child the worker forks for it, so it
pays no process start and no font parsing, and its memory is given back as it ends. Idle
workers are kept (up to one per core) and reused, a killed one is replaced. ``FakeCompiler``
records the jobs and runs no Typst, for tests.

Each job gets a fresh temporary root holding only the source, the data file and the report's
assets (copied, never linked), the fonts that ship with polarreports, and no system fonts.
"""

from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import re
import shutil
import signal
import struct
import tempfile
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import typst

from polarreports.control import temp_prefix
from polarreports.emit.typst_source import DATA_FILE, SPLIT_ERROR, TypstSource
from polarreports.exceptions import Cancelled, LayoutError, RenderError, ResourceError
from polarreports.resources import FONTS_DIR
from polarreports.workers import Gone, WarmWorker, WorkerPool

logger = logging.getLogger("polarreports")

__all__ = [
    "CompileJob",
    "Compiled",
    "Compiler",
    "FakeCompiler",
    "OutputFormat",
    "WorkerCompiler",
    "compile_document",
    "default_compiler",
]

WORKER = Path(__file__).resolve().parent / "_worker.py"
"""The Typst worker's handler (run in a warm worker process: ``polarreports/workers``)."""
TYPST_PATH = str(Path(typst.__file__).resolve().parent.parent)
"""Where the typst package is imported from: the worker, started without ``site``, is told."""
OutputFormat = Literal["pdf", "png", "svg"]
SOURCE_FILE = "report.typ"
_LOCATION = re.compile(rf"{re.escape(SOURCE_FILE)}:(\d+):(\d+)")
FIXED_TIMESTAMP = 1_704_067_200  # 2024-01-01T00:00:00Z, so the same input gives the same bytes
DEFAULT_MEMORY_MB = 4096.0
"""The memory a Typst worker may use when the render has no memory budget."""
ADDRESS_SPACE_EXTRA_MB = 256.0
"""Address space a worker maps without using memory for it (code, reserved thread stacks and
heap): added to its memory when its address space is capped."""
KEEP_RSS_MB = 150.0
"""A worker holding more than this after a job ends, to give its memory back: Typst's caches
grow by a few MB with every report it typesets (a small report leaves a fresh one at 60 MB)."""
KEEP_GROWTH_MB = 40.0
"""A worker that grew by more than this in a job (a chunk of a long report: 90 MB and more)
ends too, so that the next chunk starts small."""
_OUT_OF_MEMORY = ("memory allocation of", "Cannot allocate memory", "MemoryError", "out of memory")
_SIGNALS_OF_MEMORY = {-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS, -signal.SIGKILL}
"""How a process dies when an allocation fails under its cap (Rust aborts) or the kernel kills it."""

MARKS = "<polarreports-mark>"
END = "<polarreports-end>"
MEASURE = "<polarreports-measure>"


@dataclass(frozen=True)
class CompileJob:
    """One thing to typeset: a Typst source and its data file, to ``format``; ``selectors``
    name the metadata to read back (``<polarreports-end>``, ...)."""

    source: TypstSource
    data_json: bytes | Callable[[], bytes]
    """The data file, or a function that makes it (called when the job's turn comes, so that
    the data files of jobs still waiting take no memory)."""
    format: OutputFormat = "pdf"
    ppi: float = 144.0
    selectors: tuple[str, ...] = ()
    one_off: bool = False
    """Typeset in a child process forked for this job alone (a chunk of a long report, whose
    Typst caches are not worth keeping): no process start, no font parsing, memory given back."""

    def data(self) -> bytes:
        return self.data_json() if callable(self.data_json) else self.data_json


@dataclass(frozen=True)
class Compiled:
    """A job's pages (PDF: one item; PNG/SVG: one per page) and, per selector, its values."""

    pages: list[bytes]
    values: list[list[Any]]
    peak_mb: float = 0.0
    """The peak resident memory of the typesetting, where known."""
    warnings: tuple[str, ...] = ()
    """Typst's warnings (an unknown font family, ...), each logged on the ``polarreports`` logger."""


def _never() -> str | None:
    return None


class Compiler(Protocol):
    """Typesets jobs. ``stop`` is asked (often) whether to give up: it returns a reason, then
    the job ends at once with ``Cancelled``. ``memory_mb`` is what the typesetting may use (None:
    the compiler's default); past it, a ``ResourceError``."""

    def compile(
        self, job: CompileJob, *, stop: Callable[[], str | None] = _never, memory_mb: float | None = None
    ) -> Compiled: ...


def _error(failure: dict[str, Any], source: TypstSource) -> RenderError:
    """A RenderError naming the band and element whose generated code failed."""
    text = failure["diagnostic"] + "\n".join(failure["trace"])
    band = element = None
    for match in _LOCATION.finditer(text):
        line = int(match.group(1))
        if line in source.origins:
            band, element = source.origins[line]
            break
    where = element or band
    if SPLIT_ERROR in failure["message"]:  # our own check (split: error), a panic() in the Typst code
        message = (
            f"{band or 'a band'} is taller than the page, and its split option is 'error'.\n"
            "Hint: shorten the text, give the element overflow: clip or ellipsis, or set split: allow."
        )
        return LayoutError(message, band=band, typst_message=failure["message"])
    place = f" in {where}" if where else ""
    message = f"Typst could not lay out the report{place}: {failure['message']}"
    if failure["hints"]:
        message += "\nHint: " + "\nHint: ".join(failure["hints"])
    return RenderError(message, band=band, element=element, typst_message=failure["message"])


def _prepare(root: Path, source: TypstSource, data_json: bytes) -> Path:
    main = root / SOURCE_FILE
    main.write_text(source.source, encoding="utf-8")
    (root / DATA_FILE).write_bytes(data_json)
    for name, path in source.assets.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(path, bytes):
            target.write_bytes(path)
        else:
            shutil.copyfile(path, target, follow_symlinks=True)
    return main


class _Worker(WarmWorker):
    """One warm Typst worker process (``_worker.py`` in a ``WarmWorker``)."""

    def __init__(self) -> None:
        super().__init__(WORKER, TYPST_PATH, str(FONTS_DIR), what="a Typst worker")


class WorkerCompiler:
    """Typesets every job in a warm worker process that can be stopped at any moment, with its
    address space capped: see this module's docstring.

    Idle workers are kept for the next job (at most ``keep``, by default one per core) unless
    they hold more than ``KEEP_RSS_MB`` or grew by more than ``KEEP_GROWTH_MB`` in the job; a
    job with little memory gets a fresh worker unless an idle one holds less than half of it.
    A job marked ``one_off`` (a chunk of a long report) runs in a child the worker forks for
    it, so the worker keeps typst and its parsed fonts and never grows; it is given a worker
    that has never typeset in itself (forking one that has would not be safe), and the other
    jobs preferably one that has (its Typst caches are warm).
    A worker busy with a job is killed when the job is stopped (cancel, time limit, Ctrl-C)
    and its next job starts a fresh one. Safe to use from several threads: each job has a
    worker of its own.
    """

    def __init__(self, *, default_memory_mb: float = DEFAULT_MEMORY_MB, keep: int | None = None) -> None:
        self.default_memory_mb = default_memory_mb
        self.keep = keep if keep is not None else max(1, os.cpu_count() or 1)
        self._pool: WorkerPool[_Worker] = WorkerPool(self.keep)

    def idle_pids(self) -> list[int]:
        """The process ids of the workers waiting for a job."""
        return self._pool.idle_pids()

    def close(self) -> None:
        """End the idle workers (the next job starts a fresh one)."""
        self._pool.close()

    def _take(self, memory_mb: float, *, fork: bool) -> _Worker:
        """An idle worker holding less than half of ``memory_mb`` (one that can fork, for a
        ``one_off`` job; preferably one with warm caches, for another), or a new one."""
        if fork:
            worker = self._pool.take(lambda w: not w.ran_here and w.rss_mb <= memory_mb / 2)
        else:
            worker = self._pool.take(lambda w: w.ran_here and w.rss_mb <= memory_mb / 2) or self._pool.take(
                lambda w: w.rss_mb <= memory_mb / 2
            )
        return worker or _Worker()

    def _give_back(self, worker: _Worker, rss_mb: float, growth_mb: float) -> None:
        worker.rss_mb = rss_mb
        self._pool.give_back(worker, keep=rss_mb <= KEEP_RSS_MB and growth_mb <= KEEP_GROWTH_MB)

    def compile(
        self, job: CompileJob, *, stop: Callable[[], str | None] = _never, memory_mb: float | None = None
    ) -> Compiled:
        """Typeset ``job`` in a worker: see :class:`Compiler`."""
        limit = self.default_memory_mb if memory_mb is None else memory_mb
        with tempfile.TemporaryDirectory(prefix=temp_prefix()) as folder:
            root = Path(folder)
            _prepare(root, job.source, job.data())
            request = {
                "root": folder,
                "format": job.format,
                "ppi": job.ppi,
                "timestamp": job.source.timestamp or FIXED_TIMESTAMP,
                "tagged": job.source.tagged,
                "pdf_standards": list(job.source.pdf_standards) if job.format == "pdf" else [],
                "selectors": list(job.selectors),
            }
            space = limit + ADDRESS_SPACE_EXTRA_MB
            worker = self._take(limit, fork=job.one_off)
            try:
                try:
                    answers = worker.run(request, memory_mb=space, fork=job.one_off, stop=stop)
                except Gone:
                    worker.kill()
                    worker = _Worker()
                    answers = worker.run(request, memory_mb=space, fork=job.one_off, stop=stop)
            except BaseException:  # stopped (Cancelled), Ctrl-C, SIGTERM: the worker ends at once
                worker.kill()
                raise
            if len(answers) != 2 or "done" not in answers[-1]:
                worker.kill()
                raise _failure(worker, answers[-1] if answers else None, limit, default=memory_mb is None) from None
            answer, done = answers
            self._give_back(worker, done["rss_mb"], done["rss_mb"] - done["start_mb"])
            if "error" in answer:
                raise _error(answer["error"], job.source)
            pages = [(root / f"page-{n:05d}.{job.format}").read_bytes() for n in range(1, answer["pages"] + 1)]
        warnings = tuple(answer.get("warnings", ()))
        for warning in warnings:
            logger.warning("Typst: %s", warning)
        return Compiled(pages, answer["values"], done["peak_mb"], warnings)


def _failure(worker: _Worker, answer: dict[str, Any] | None, limit: float, *, default: bool) -> Exception:
    """The error for a worker that died (or gave up) in a job: out of memory, or a crash."""
    stderr = worker.stderr_text()
    said = json.dumps(answer) if answer else ""
    status = worker.returncode
    if status in _SIGNALS_OF_MEMORY or any(sign in stderr + said for sign in _OUT_OF_MEMORY):
        where = "the default limit of a Typst worker" if default else "its share of memory_budget_mb"
        msg = (
            f"the typesetting needed more than {limit:.0f} MB ({where}) and was stopped.\n"
            "Hint: look for a very long text or value in the report, or raise memory_budget_mb."
        )
        return ResourceError(msg)
    detail = (said or stderr)[-500:]
    msg = f"a Typst worker process failed (exit status {status}): {detail}"
    return RenderError(msg)


@functools.cache
def default_compiler() -> WorkerCompiler:
    """The compiler renders use unless given another: one per process, its warm workers shared."""
    compiler = WorkerCompiler()
    atexit.register(compiler.close)
    return compiler


def compile_document(
    source: TypstSource, data_json: bytes, *, format: OutputFormat = "pdf", ppi: float = 144.0
) -> list[bytes]:
    """Compile in one piece to PDF (one item) or to PNG/SVG (one item per page)."""
    return default_compiler().compile(CompileJob(source, data_json, format, ppi)).pages


# -- a compiler for tests -----------------------------------------------------------------------


def tiny_pdf(pages: int = 1) -> bytes:
    """A valid PDF of ``pages`` blank A4 pages."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def tiny_png() -> bytes:
    """A valid PNG of one white pixel."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0\xff\xff\xff"))
        + chunk(b"IEND", b"")
    )


@dataclass(frozen=True)
class Recorded:
    """A job a ``FakeCompiler`` was given: the Typst source, the data file, and the options."""

    source: str
    data: bytes
    format: OutputFormat
    selectors: tuple[str, ...]
    memory_mb: float | None


class FakeCompiler:
    """For tests: records every job (``jobs``) and answers without running Typst.

    Each job gives ``pages`` blank pages (one PDF of that many pages, or as many PNG/SVG
    images), or as many as the data file has values per page for; the measuring query answers
    that every band is ``band_height`` points tall on a page body of ``body`` points;
    ``<polarreports-end>`` answers the last page, ``<polarreports-mark>`` no band.
    """

    def __init__(self, pages: int = 1, *, band_height: float = 12.0, body: float = 700.0) -> None:
        self.pages = pages
        self.band_height = band_height
        self.body = body
        self.jobs: list[Recorded] = []
        self._lock = threading.Lock()

    def compile(
        self, job: CompileJob, *, stop: Callable[[], str | None] = _never, memory_mb: float | None = None
    ) -> Compiled:
        reason = stop()
        if reason is not None:
            raise Cancelled(reason)
        data = job.data()
        with self._lock:
            self.jobs.append(Recorded(job.source.source, data, job.format, job.selectors, memory_mb))
        content = json.loads(data)
        count = len(content["pages"]) if isinstance(content.get("pages"), list) else self.pages
        if job.format == "pdf":
            pages = [tiny_pdf(count)]
        elif job.format == "png":
            pages = [tiny_png()] * count
        else:
            pages = [b'<svg xmlns="http://www.w3.org/2000/svg" width="595pt" height="842pt"/>'] * count
        return Compiled(pages, [self._answer(selector, content, count) for selector in job.selectors])

    def _answer(self, selector: str, content: dict[str, Any], count: int) -> list[Any]:
        if selector == MEASURE:
            samples = len(content["rows"])
            return [
                {
                    "samples": [self.band_height] * samples,
                    "pairs": [2 * self.band_height] * samples,
                    "body": self.body,
                    "body-top": 0.0,
                    "top": 0.0,
                    "summary": 0.0,
                }
            ]
        if selector == END:
            return [{"page": count, "y": 0.0}]
        return []
