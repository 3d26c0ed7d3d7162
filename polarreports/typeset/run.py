"""One typesetting of a report: what its Typst passes share (``TypesetRun``), each worker's share
of the memory budget, and passes run in parallel, each in a worker process of its own.

Memory: a worker holds about ``WORKER_BASE_MB + MB_PER_PAGE * pages``; with a memory budget,
chunks are made small enough that the workers and this process fit in it together.

    >>> usable_cores() >= 1
    True
    >>> worker_memory_mb(RenderControl()) is None  # no budget: the compiler's default limit
    True
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polarreports.control import RenderControl, own_rss_mb
from polarreports.emit.typst_source import TypstSource
from polarreports.exceptions import ResourceError
from polarreports.typeset.compile import Compiled, CompileJob, Compiler, OutputFormat, default_compiler
from polarreports.typeset.report_data import ReportData

__all__ = [
    "MB_PER_PAGE",
    "WORKER_BASE_MB",
    "ChunkJob",
    "Typeset",
    "TypesetRun",
    "in_memory",
    "run_in_parallel",
    "usable_cores",
    "worker_memory_mb",
]

WORKER_BASE_MB = 45.0
MB_PER_PAGE = 2.7
"""A worker's resident memory, measured: about 45 MB plus 2.7 MB a page of dense detail rows."""

ChunkJob = Callable[..., Compiled]
Typeset = list[bytes] | Path
"""PDF (one item) or PNG/SVG pages in memory; or, for a PDF typeset in chunks, the file they were
joined into, in a temporary folder of its own that the caller then owns (and removes)."""


@dataclass(frozen=True)
class TypesetRun:
    """One typesetting of a report: what its Typst passes share. The source and its data, the
    output asked for (``format``, ``ppi``), the compiler every pass goes through and the
    render's control (cancel, time limit, memory budget); ``stats`` says how it was typeset.

        >>> import polarreports as pr
        >>> from polarreports.typeset.compile import END
        >>> doc = pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(20))
        >>> run = TypesetRun(doc._source, doc._data, "png", 96.0)
        >>> job = run.job(b"{}", format="pdf", selectors=(END,))
        >>> job.format, job.ppi, job.selectors
        ('pdf', 96.0, ('<polarreports-end>',))
    """

    source: TypstSource
    data: ReportData
    format: OutputFormat = "pdf"
    ppi: float = 144.0
    control: RenderControl = field(default_factory=RenderControl)
    compiler: Compiler = field(default_factory=default_compiler)
    stats: MutableMapping[str, Any] = field(default_factory=dict)

    def job(
        self,
        data_json: bytes | Callable[[], bytes],
        *,
        format: OutputFormat | None = None,
        selectors: tuple[str, ...] = (),
        one_off: bool = False,
    ) -> CompileJob:
        """A pass over ``data_json`` (to ``format``, else the run's own); ``one_off``: in a child
        forked by a warm worker (``CompileJob.one_off``)."""
        return CompileJob(self.source, data_json, format or self.format, self.ppi, selectors=selectors, one_off=one_off)

    def compile(self, job: CompileJob) -> Compiled:
        """One pass, stopped by the render's cancel or time limit, within its memory budget."""
        return self.compiler.compile(job, stop=self.control.stop_reason, memory_mb=worker_memory_mb(self.control))


def usable_cores() -> int:
    """The cores this process may run on (at least one): by default, a worker on each."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def worker_memory_mb(control: RenderControl, workers: int = 1) -> float | None:
    """The memory each of ``workers`` Typst workers may use: their share of the memory budget
    left by this process (None without a budget: the compiler's default limit)."""
    budget = control.memory_budget_mb
    if budget is None:
        return None
    own = own_rss_mb()
    share = (budget - own) / workers
    if share < WORKER_BASE_MB:
        msg = (
            f"the render cannot fit in a memory budget of {budget:.0f} MB: this process holds "
            f"{own:.0f} MB and each of {workers} Typst workers needs at least {WORKER_BASE_MB:.0f} MB."
            "\nHint: raise the budget, or render fewer rows at a time."
        )
        raise ResourceError(msg)
    return share


def run_in_parallel(
    jobs: Sequence[ChunkJob],
    workers: int,
    control: RenderControl,
    on_result: Callable[[int, Compiled], None] | None = None,
) -> list[Compiled]:
    """Run the chunk jobs, ``workers`` at a time, each in its own process; ``on_result`` sees
    each result in order as soon as it is there (while later chunks are still being
    typeset). On a cancel, the deadline, Ctrl-C or any failure (``on_result`` raising
    included), the processes still running are ended before the error goes on."""
    failed = threading.Event()

    def stop() -> str | None:
        return "another chunk failed" if failed.is_set() else control.stop_reason()

    done = 0
    control.report("typesetting", 0, len(jobs), "chunks")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(job, stop=stop) for job in jobs]
        try:
            results = []
            for future in futures:
                while True:
                    try:
                        results.append(future.result(timeout=0.05))
                        break
                    except TimeoutError:
                        control.check()
                if on_result is not None:
                    on_result(done, results[-1])
                done += 1
                control.report("typesetting", done, len(jobs), "chunks")
            return results
        except BaseException:
            failed.set()
            for future in futures:
                future.cancel()
            raise


def in_memory(result: Typeset) -> list[bytes]:
    """The pages of a typeset result in memory (a joined PDF file is read, and removed)."""
    if isinstance(result, list):
        return result
    try:
        return [result.read_bytes()]
    finally:
        shutil.rmtree(result.parent, ignore_errors=True)
