"""Progress, cancellation and time limits for a render.

>>> import polarreports as pr
>>> events = []
>>> doc = pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(100), progress=events.append)
>>> _ = doc.pdf
>>> [(e.phase, e.done, e.total, e.unit) for e in events][:4]
[('planning', 0, None, ''), ('data', 0, None, ''), ('data', 100, 100, 'rows'), ('layout', 206, 206, 'bands')]
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from polarreports.exceptions import Cancelled, ResourceError
from polarreports.queries import QueryGuard, guarded

__all__ = [
    "CancelToken",
    "Progress",
    "ProgressRelay",
    "RenderControl",
    "own_rss_mb",
    "sweep_now_and_then",
    "sweep_stale_temp",
    "temp_prefix",
]

logger = logging.getLogger("polarreports")
T = TypeVar("T")
POLL_SECONDS = 0.02
TEMP_PREFIX = "polarreports-"
STALE_SECONDS = 24 * 3600.0
"""A temporary entry of a render untouched this long, whose process is gone, was left by a kill."""
_KINDS = ("", "pdf-", "bands-", "rows-")
_OURS = re.compile(rf"{re.escape(TEMP_PREFIX)}(\d+)-(?:pdf-|bands-|rows-)?[a-z0-9_]{{8}}(?:\.jsonl)?")
"""The names ``tempfile`` gives with ``temp_prefix``: the pid, a kind, 8 random characters."""
SWEEP_EVERY_SECONDS = 3600.0
_sweep = {"last": float("-inf")}
_sweep_lock = threading.Lock()


@dataclass(frozen=True)
class Progress:
    """One progress report: ``phase`` is planning, data, layout, typesetting or writing;
    ``done`` of ``total`` ``unit`` (rows, bands, chunks, pages, files)."""

    phase: str
    done: int = 0
    total: int | None = None
    unit: str = ""


class CancelToken:
    """Hand it to ``render(..., cancel=token)`` and call ``token.cancel()`` from anywhere (another
    thread, a notebook button) to stop the render within a second."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        return self._event.wait(seconds)


class RenderControl:
    """What a render checks as it goes (a progress callback, a cancel token, a time limit) and
    the resources it may use (a memory budget, a number of worker processes).

    The time limit (``timeout``) bounds the render's own work: its clock runs from the start
    of ``render()`` until it hands over the document (:meth:`pause`), then only inside
    :meth:`working` (the typesetting and writing, when the document is saved or its PDF
    read), not while the document waits between them.

    >>> control = RenderControl(timeout=0.05)
    >>> control.pause()  # the data work is done
    >>> time.sleep(0.1); control.stop_reason() is None  # waiting: not counted
    True
    >>> with control.working():
    ...     time.sleep(0.1); control.stop_reason()
    'the render ran past its time limit'
    """

    def __init__(
        self,
        *,
        progress: Callable[[Progress], None] | None = None,
        cancel: CancelToken | None = None,
        timeout: float | None = None,
        memory_budget_mb: float | None = None,
        workers: int | None = None,
    ) -> None:
        self.progress = progress
        self.memory_budget_mb = memory_budget_mb
        """Memory for this process and its Typst workers together; chunks shrink to fit."""
        self.workers = workers
        """Typst worker processes at once (default: one per core)."""
        self.cancel = cancel or CancelToken()
        self.timeout = timeout
        """Seconds of work the render may take, or None."""
        self._spent = 0.0
        """Seconds of work done before the clock last stopped."""
        self._since: float | None = time.monotonic()
        """When the clock last started, if it runs: from the render's start ..."""
        self._depth = 1
        """... as if in a ``working`` block, which ``pause`` ends."""
        self._rendering = True
        self._lock = threading.Lock()
        self._abandoned = threading.Event()
        """Set when :meth:`run` gave up waiting (Ctrl-C, above all): the work it left stops."""
        self._queries = QueryGuard()
        """The Polars queries of the work :meth:`run` runs: cancelled when it gives up."""
        self._stoppable_queries = cancel is not None or timeout is not None or memory_budget_mb is not None
        """Whether the work's queries run stoppable half-way (a limit was given): on Polars'
        in-memory engine, in the background (``polarreports.queries``). Without a limit they
        keep the streaming engine, which is faster over large files whose rows the totals and
        the detail share (a 10M-row summary: 0.3 s instead of 1.0 s)."""

    def _start(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._since = time.monotonic()
            self._depth += 1

    def _stop(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._since is not None:
                self._spent += time.monotonic() - self._since
                self._since = None

    def pause(self) -> None:
        """Stop the clock as ``render()`` hands over its document: the time it waits to be
        saved is not the render's work."""
        if self._rendering:
            self._rendering = False
            self._stop()

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        """Count the time spent in this block against the time limit (blocks may nest, or run
        on several threads at once: that time is counted once)."""
        self._start()
        try:
            yield
        finally:
            self._stop()

    def elapsed(self) -> float:
        """Seconds of work so far (the time limit's clock)."""
        with self._lock:
            return self._spent + (time.monotonic() - self._since if self._since is not None else 0.0)

    def report(self, phase: str, done: int = 0, total: int | None = None, unit: str = "") -> None:
        self.check()
        event = Progress(phase, done, total, unit)
        logger.debug("%s: %s/%s %s", phase, done, total if total is not None else "?", unit)
        if self.progress is not None:
            self.progress(event)

    def stop_reason(self) -> str | None:
        """Why the render must stop now, or None."""
        if self.cancel.cancelled:
            return "the render was cancelled"
        if self._abandoned.is_set():
            return "the render was interrupted"
        if self.timeout is not None and self.elapsed() > self.timeout:
            return "the render ran past its time limit"
        return None

    def check(self) -> None:
        """Raise ``Cancelled`` if the render was cancelled or is past its time limit."""
        reason = self.stop_reason()
        if reason is not None:
            raise Cancelled(reason)

    def check_memory(self, phase: str = "the data phase", *, started: bool = True) -> None:
        """``ResourceError`` if this process holds more than ``memory_budget_mb`` (its resident
        memory, read from ``/proc``: about 10 microseconds): ``phase`` needed more, or, before it
        ``started``, the budget cannot be met at all."""
        budget = self.memory_budget_mb
        if budget is None:
            return
        held = own_rss_mb()
        if held > budget and not started:
            msg = (
                f"the render cannot fit in a memory budget of {budget:.0f} MB: this process holds {held:.0f} MB "
                "before its data phase.\nHint: raise the budget, or render fewer rows at a time."
            )
            raise ResourceError(msg)
        if held > budget:
            msg = (
                f"{phase} needed more than {budget:.0f} MB (memory_budget_mb) and was stopped: this process "
                f"holds {held:.0f} MB.\nHint: raise the budget, filter or aggregate the rows in the query, "
                "or render fewer rows at a time."
            )
            raise ResourceError(msg)

    def run(self, work: Callable[[], T], poll: Callable[[], None] = lambda: None) -> T:
        """Run ``work`` on a helper thread, returning within ``POLL_SECONDS`` of a cancel, the
        time limit, Ctrl-C or the memory budget (``check_memory``, every ``POLL_SECONDS``, so
        also in the middle of a Polars query). Once it has given up, the Polars query the work
        runs (through :mod:`polarreports.queries`) is cancelled, and ``check`` and
        ``stop_reason`` say so to the work it left (the next batch of rows is not formatted,
        a chart worker drawing is killed), even for a Ctrl-C, which sets no cancel token. ``poll`` is called on this
        thread meanwhile (to report the work's progress from here)."""
        box: dict[str, T | BaseException] = {}

        def target() -> None:
            try:
                with guarded(self._queries) if self._stoppable_queries else contextlib.nullcontext():
                    box["result"] = work()
            except BaseException as error:  # handed to the caller below
                box["error"] = error

        self.check_memory(started=False)
        thread = threading.Thread(target=target, daemon=True, name="polarreports-data")
        thread.start()
        try:
            while thread.is_alive():
                self.check()
                self.check_memory()
                poll()
                thread.join(POLL_SECONDS)
        except BaseException as error:  # Ctrl-C (or a cancel, the time limit, a failing poll) here:
            self._abandoned.set()  # the work stops at its next check, a chart worker is killed
            self._queries.stop(str(error).partition("\n")[0] or "the render was interrupted")  # and its query
            raise
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["result"]  # type: ignore[return-value]


class ProgressRelay:
    """Progress that work on a helper thread sets, and the thread that waits for it reports
    (through :meth:`RenderControl.run`'s ``poll``), so callbacks stay on the caller's thread.

    >>> events = []
    >>> relay = ProgressRelay(RenderControl(progress=events.append), "data", "rows")
    >>> relay.set(25_000, 60_000); relay.report(); relay.report()
    >>> events
    [Progress(phase='data', done=25000, total=60000, unit='rows')]
    """

    def __init__(self, control: RenderControl, phase: str, unit: str) -> None:
        self._control, self._phase, self._unit = control, phase, unit
        self._latest: tuple[int, int] | None = None
        self._reported: tuple[int, int] | None = None

    def set(self, done: int, total: int) -> None:
        self._latest = (done, total)  # one assignment: safe from any thread

    def report(self) -> None:
        latest = self._latest
        if latest is not None and latest != self._reported:
            self._reported = latest
            self._control.report(self._phase, latest[0], latest[1], self._unit)


def own_rss_mb() -> float:
    """The resident memory of this process, in MB (0 where ``/proc`` is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):  # pragma: no cover (no /proc)
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def temp_prefix(kind: str = "") -> str:
    """The name prefix of the temporary files and folders of this process's renders,
    ``polarreports-<pid>-<kind>`` (``pdf-``, ``bands-``, ``rows-`` or none; ``tempfile`` adds 8 random
    characters): the process id tells a later sweep whether the owner lives."""
    assert kind in _KINDS
    return f"{TEMP_PREFIX}{os.getpid()}-{kind}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, or no way to tell: alive
        return True
    return True


def sweep_stale_temp(folder: Path | None = None, *, older_than: float = STALE_SECONDS) -> list[Path]:
    """Remove what a render killed outright (SIGKILL, an out-of-memory kill) left in the
    temporary folder: this user's entries named as :func:`temp_prefix` names them (and no
    other: not a folder someone called ``polarreports-2024``), untouched for ``older_than``
    seconds, whose process (its id is in the name) has ended. Returns what was removed.

    One ``scandir`` of the folder; a stat of the entries so named only.
    """
    folder = Path(folder or tempfile.gettempdir())
    removed: list[Path] = []
    now = time.time()
    uid = os.getuid() if hasattr(os, "getuid") else None  # only this user's entries
    try:
        with os.scandir(folder) as listing:
            entries = [entry for entry in listing if entry.name.startswith(TEMP_PREFIX)]
    except OSError:
        return removed
    for entry in entries:
        owner = _OURS.fullmatch(entry.name)
        if owner is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if (uid is not None and info.st_uid != uid) or now - info.st_mtime < older_than:
            continue
        if _alive(int(owner.group(1))):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    if removed:
        logger.info("removed %d temporary entries left by ended renders in %s", len(removed), folder)
    return removed


def sweep_now_and_then() -> None:
    """``sweep_stale_temp`` at a render's start: at the first render of a process, then at
    most once an hour (so that a render costs no more than a clock reading for it)."""
    now = time.monotonic()
    if now - _sweep["last"] < SWEEP_EVERY_SECONDS or not _sweep_lock.acquire(blocking=False):
        return
    try:
        _sweep["last"] = now
        sweep_stale_temp()
    finally:
        _sweep_lock.release()
