"""Charts are drawn in warm worker processes (``_worker.py``), never in this one.

vl-convert runs Vega in V8, and V8 ends the whole process when it runs out of memory ("Fatal
JavaScript out of memory", SIGTRAP): a spec that makes Vega build a huge dataset by itself (a
``sequence`` generator, a ``flatten`` or ``fold`` that multiplies rows) would take the host down,
whatever its time limit. So a :class:`ChartDrawer` hands batches of charts to child processes
over a pipe and waits for them asking ``stop()`` every ``POLL_SECONDS``: a worker is killed as soon
as the render is cancelled, runs past its time limit or is interrupted, and its address space
is capped (what V8 mapped at its start plus the render's ``memory_budget_mb``, else
``DEFAULT_MEMORY_MB``), so an exploding chart ends the worker, not the machine's memory. The
workers stay warm (vl-convert and the fonts loaded, V8 started: 0.5 s saved per batch); idle ones
are kept (up to one per core) and reused, a dead one is replaced.

The process start, the watch on this process, the cap and the pipe are those of the Typst
workers: ``polarreports/workers``.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import vl_convert

from polarreports.control import POLL_SECONDS
from polarreports.exceptions import Cancelled
from polarreports.resources import FONTS_DIR
from polarreports.workers import Gone, WarmWorker, WorkerPool

__all__ = ["DEFAULT_MEMORY_MB", "ChartDrawer", "Died", "default_drawer"]

WORKER = Path(__file__).resolve().parent / "_worker.py"
VL_CONVERT_PATH = str(Path(vl_convert.__file__).resolve().parent.parent)
"""Where vl_convert is imported from: the worker, started without ``site``, is told."""
DEFAULT_MEMORY_MB = 2048.0
"""What a chart worker may newly map in a batch when the render has no memory budget."""
KEEP_RSS_MB = 400.0
"""A worker holding more than this after a batch ends, to give its memory back (a fresh one
holds about 80 MB, and grows by a few MB with the charts it draws)."""
CHARTS_PER_WORKER = 24
"""A batch is split over several workers (up to one per core) only when each gets this many."""
_OUT_OF_MEMORY = ("out of memory", "memory allocation of", "Cannot allocate memory", "MemoryError")
_SIGNALS_OF_MEMORY = {-signal.SIGTRAP, -signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS, -signal.SIGKILL}
"""How V8 ends a process whose allocation failed under its cap (SIGTRAP), or the kernel kills it."""


def _never() -> str | None:
    return None


class Died(Exception):
    """A worker died drawing the batch's chart ``index``: out of memory (``memory``) or not."""

    def __init__(self, index: int, *, memory: bool, detail: str) -> None:
        super().__init__(index, memory, detail)
        self.index = index
        self.memory = memory
        self.detail = detail


class _Worker(WarmWorker):
    """One warm chart worker process (``_worker.py`` in a ``WarmWorker``)."""

    def __init__(self) -> None:
        super().__init__(WORKER, VL_CONVERT_PATH, str(FONTS_DIR), watch="process", what="a chart worker")

    def died(self, index: int, said: dict[str, Any] | None) -> Died:
        stderr = self.stderr_text()
        text = json.dumps(said) if said else stderr
        status = self.returncode
        memory = status in _SIGNALS_OF_MEMORY or any(sign in stderr + text for sign in _OUT_OF_MEMORY)
        lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith((" ", "["))]
        return Died(index, memory=memory, detail=f"exit status {status}: {'; '.join(lines)[-300:]}")


class ChartDrawer:
    """Draws batches of charts in warm worker processes that can be stopped at any moment, with
    their address space capped: see this module's docstring. Safe to use from several threads:
    each batch (or part of one) has a worker of its own, and at most ``keep`` (by default one
    per core) draw at once; the others wait their turn (still asking ``stop()``), rather than
    start workers that would share the cores and end after one batch."""

    def __init__(self, *, default_memory_mb: float = DEFAULT_MEMORY_MB, keep: int | None = None) -> None:
        self.default_memory_mb = default_memory_mb
        self.keep = keep if keep is not None else max(1, os.cpu_count() or 1)
        self._pool: WorkerPool[_Worker] = WorkerPool(self.keep)
        self._turns = threading.Semaphore(self.keep)

    def idle_pids(self) -> list[int]:
        """The process ids of the workers waiting for a batch."""
        return self._pool.idle_pids()

    def close(self) -> None:
        """End the idle workers (the next batch starts a fresh one)."""
        self._pool.close()

    def _draw_part(
        self, charts: Sequence[tuple[dict[str, Any], dict[str, Any]]], stop: Callable[[], str | None], memory_mb: float
    ) -> list[dict[str, Any]]:
        request = {"charts": [list(chart) for chart in charts], "memory_mb": memory_mb}
        while not self._turns.acquire(timeout=POLL_SECONDS):
            reason = stop()
            if reason is not None:
                raise Cancelled(reason)
        try:
            return self._draw_in_turn(request, stop)
        finally:
            self._turns.release()

    def _draw_in_turn(self, request: dict[str, Any], stop: Callable[[], str | None]) -> list[dict[str, Any]]:
        worker = self._pool.take(lambda worker: True) or _Worker()
        memory_mb = request.pop("memory_mb")
        try:
            try:
                answers = worker.run(request, memory_mb=memory_mb, over_mapped=True, stop=stop)
            except Gone:
                worker.kill()
                worker = _Worker()
                answers = worker.run(request, memory_mb=memory_mb, over_mapped=True, stop=stop)
        except BaseException:  # stopped (Cancelled), Ctrl-C: the worker ends at once
            worker.kill()
            raise
        if not answers or "done" not in answers[-1]:  # it died drawing a chart: which one
            ending = bool(answers) and any(key in answers[-1] for key in ("memory", "crash"))
            index = len(answers) - 1 if ending else len(answers)
            died = worker.died(index, answers[-1] if ending else None)
            worker.kill()
            raise died
        done = answers.pop()
        self._pool.give_back(worker, keep=float(done["rss_mb"]) <= KEEP_RSS_MB)
        return answers

    def draw(
        self,
        charts: Sequence[tuple[dict[str, Any], dict[str, Any]]],
        *,
        stop: Callable[[], str | None] = _never,
        memory_mb: float | None = None,
    ) -> list[dict[str, Any]]:
        """Draw each ``(spec, config)``: ``{"svg": ...}`` or ``{"error": Vega's message}`` per
        chart, in order. ``Cancelled`` when ``stop()`` gives a reason; ``Died`` (with the index
        of the chart) when a chart ends its worker."""
        limit = self.default_memory_mb if memory_mb is None else memory_mb
        parts = max(1, min(self.keep, len(charts) // CHARTS_PER_WORKER))
        if parts == 1:
            return self._draw_part(charts, stop, limit)
        size = -(-len(charts) // parts)
        failed: list[str] = []

        def sibling_stop() -> str | None:
            return stop() or (failed[0] if failed else None)

        def part(start: int) -> list[dict[str, Any]]:
            try:
                return self._draw_part(charts[start : start + size], sibling_stop, limit)
            except Died as died:
                failed.append("another chart of the batch failed")
                died.index += start
                raise
            except BaseException:
                failed.append("another chart of the batch failed")
                raise

        with ThreadPoolExecutor(max_workers=parts) as pool:
            futures = [pool.submit(part, start) for start in range(0, len(charts), size)]
            errors = [future.exception() for future in futures]
        found = [e for e in errors if e is not None]
        found.sort(key=lambda e: 0 if isinstance(e, Died) else 2 if isinstance(e, Cancelled) else 1)
        if found:  # the chart that failed first, not the parts stopped because of it
            raise found[0]
        return [answer for future in futures for answer in future.result()]


@functools.cache
def default_drawer() -> ChartDrawer:
    """The drawer renders use: one per process, its warm workers shared."""
    drawer = ChartDrawer()
    atexit.register(drawer.close)
    return drawer
