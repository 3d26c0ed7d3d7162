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

This is a small copy of the pattern of ``typeset/compile.py`` (``WorkerCompiler``): the charts
layer sits below the typesetting layer and may not import it.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import select
import signal
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import vl_convert

from polarreports.control import POLL_SECONDS
from polarreports.exceptions import Cancelled, ResourceError
from polarreports.resources import FONTS_DIR

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


class _Gone(Exception):
    """A warm worker died while it waited for a batch (killed from outside): it never took it."""


class _Worker:
    """One warm worker process, and the pipes to it."""

    def __init__(self) -> None:
        command = [sys.executable, "-S", "-I", str(WORKER), str(FONTS_DIR), str(os.getpid()), VL_CONVERT_PATH]
        environment = {**os.environ, "MALLOC_ARENA_MAX": "2"}
        try:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment
            )
        except OSError as error:  # no more processes or memory for one
            msg = f"cannot start a chart worker process: {error.strerror or error}"
            raise ResourceError(msg) from None
        self.errors = bytearray()
        """The end of what the worker wrote to stderr during its last batch."""

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def run(self, request: dict[str, Any], stop: Callable[[], str | None]) -> list[dict[str, Any]]:
        """Hand the worker a batch and return its answers (one per chart, then ``done``), asking
        ``stop()`` every ``POLL_SECONDS`` (``Cancelled`` when it gives a reason); ``Died`` if the
        worker died in the batch, ``_Gone`` if it had died before."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self.errors.clear()
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
        except OSError:  # it died since its last batch
            raise _Gone from None
        answers: list[dict[str, Any]] = []
        taken = False
        pending = bytearray()
        out, err = self.process.stdout.fileno(), self.process.stderr.fileno()
        streams = [out, err]
        while True:
            reason = stop()
            if reason is not None:
                raise Cancelled(reason)
            readable, _, _ = select.select(streams, [], [], POLL_SECONDS)
            for stream in readable:
                piece = os.read(stream, 1 << 20)
                if stream == err:
                    self._keep_errors(piece)
                    if not piece:
                        streams.remove(err)
                elif piece:
                    if not taken:
                        taken, piece = True, piece[1:]  # its "+"
                    pending += piece
                    *lines, rest = pending.split(b"\n")
                    pending = bytearray(rest)
                    answers += [json.loads(line) for line in lines]
                    if answers and "done" in answers[-1]:
                        return answers
                    if answers and ("memory" in answers[-1] or "crash" in answers[-1]):
                        self.process.wait()
                        raise self._died(len(answers) - 1, answers[-1])
                else:  # the worker died: keep the last it said
                    self.process.wait()
                    while err in streams and (piece := os.read(err, 1 << 16)):
                        self._keep_errors(piece)
                    if not taken:
                        raise _Gone
                    raise self._died(len(answers), None)

    def _died(self, index: int, said: dict[str, Any] | None) -> Died:
        stderr = self.errors.decode(errors="replace").strip()
        text = json.dumps(said) if said else stderr
        status = self.process.returncode
        memory = status in _SIGNALS_OF_MEMORY or any(sign in stderr + text for sign in _OUT_OF_MEMORY)
        lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith((" ", "["))]
        return Died(index, memory=memory, detail=f"exit status {status}: {'; '.join(lines)[-300:]}")

    def _keep_errors(self, piece: bytes) -> None:
        self.errors += piece
        del self.errors[:-4000]

    def kill(self) -> None:
        """End the worker now (and reap it)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def _kill_all(workers: list[_Worker], owner: dict[str, int]) -> None:
    if owner["pid"] == os.getpid():  # not a forked child's copy of its parent's workers
        for worker in workers:
            worker.kill()
    workers.clear()


class ChartDrawer:
    """Draws batches of charts in warm worker processes that can be stopped at any moment, with
    their address space capped: see this module's docstring. Safe to use from several threads:
    each batch (or part of one) has a worker of its own, and at most ``keep`` (by default one
    per core) draw at once; the others wait their turn (still asking ``stop()``), rather than
    start workers that would share the cores and end after one batch."""

    def __init__(self, *, default_memory_mb: float = DEFAULT_MEMORY_MB, keep: int | None = None) -> None:
        self.default_memory_mb = default_memory_mb
        self.keep = keep if keep is not None else max(1, os.cpu_count() or 1)
        self._idle: list[_Worker] = []
        self._owner = {"pid": os.getpid()}
        self._lock = threading.Lock()
        self._turns = threading.Semaphore(self.keep)
        weakref.finalize(self, _kill_all, self._idle, self._owner)

    def idle_pids(self) -> list[int]:
        """The process ids of the workers waiting for a batch."""
        with self._lock:
            return [worker.pid for worker in self._idle if worker.alive()]

    def close(self) -> None:
        """End the idle workers (the next batch starts a fresh one)."""
        with self._lock:
            _kill_all(self._idle, self._owner)

    def _take(self) -> _Worker:
        with self._lock:
            if self._owner["pid"] != os.getpid():  # a forked child: those workers are its parent's
                self._idle.clear()
                self._owner["pid"] = os.getpid()
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.kill()
        return _Worker()

    def _give_back(self, worker: _Worker, rss_mb: float) -> None:
        with self._lock:
            if worker.alive() and rss_mb <= KEEP_RSS_MB and len(self._idle) < self.keep:
                self._idle.append(worker)
                return
        worker.kill()

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
        worker = self._take()
        try:
            try:
                answers = worker.run(request, stop)
            except _Gone:
                worker.kill()
                worker = _Worker()
                answers = worker.run(request, stop)
        except BaseException:  # stopped (Cancelled), Ctrl-C, a death: the worker ends at once
            worker.kill()
            raise
        done = answers.pop()
        self._give_back(worker, float(done["rss_mb"]))
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
