"""Every Polars query of a render's data phase, run so that a limit can stop it half-way.

A plain ``collect()`` cannot be stopped: a cancel, the time limit, Ctrl-C or the memory budget
would wait for the query to end (seconds, gigabytes). So the data phase collects through
:func:`collect` and :func:`collect_all`: on the thread :meth:`RenderControl.run
<polarreports.control.RenderControl.run>` gave the data work of a render with a limit
(``timeout``, ``cancel`` or ``memory_budget_mb``; inside :func:`guarded`), each
query runs in the background (``LazyFrame.collect(background=True)``, Polars' in-memory engine)
and the thread waits for it without holding the GIL; the thread that watches the limits (every
20 ms) calls :meth:`QueryGuard.stop` when one trips, which cancels the running query. Polars
stops a cancelled query cooperatively, between the steps of its plan (in Polars 2.1: before
each sort, and as each subplan starts, say each total once the rows they share are cached); a
step under way (one sort, one ``with_columns``, one group by) runs to its end, and then the
query ends with a :class:`~polarreports.Cancelled`, dropping what it held. (Background mode
runs Polars' in-memory engine, whatever engine is asked for; the streaming engine offers no
way to cancel one query.) Several frames are collected as one query (each packed into one
list cell), so that the subplans they share are still computed once. The formatting of a
batch of values (:func:`collect_batch`) runs on the data thread, after a check. Elsewhere (no
guard on the thread) a query is collected as usual.

>>> import polars as pl
>>> frames = [pl.LazyFrame({"a": [2, 1]}).sort("a"), pl.LazyFrame({"b": ["x"]})]
>>> guard = QueryGuard()
>>> with guarded(guard):
...     [frame.rows() for frame in collect_all(frames)]
[[(1,), (2,)], [('x',)]]
>>> guard.stop("the render was cancelled")
>>> with guarded(guard):
...     collect(frames[0])
Traceback (most recent call last):
polarreports.Cancelled: the render was cancelled
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import polars as pl

from polarreports.exceptions import Cancelled

if TYPE_CHECKING:
    from polars.lazyframe.in_process import InProcessQuery

__all__ = ["QueryGuard", "collect", "collect_all", "collect_batch", "guarded"]

_local = threading.local()


class QueryGuard:
    """The queries a render's data thread runs, and whether the render must stop: :meth:`stop`
    (from any thread) cancels the running ones, and any started later, with its reason."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[InProcessQuery] = set()
        self.reason: str | None = None
        """Why the queries were stopped, or None."""

    def stop(self, reason: str) -> None:
        with self._lock:
            self.reason = self.reason or reason
            running = list(self._running)
        for query in running:
            query.cancel()

    def wait(self, frame: pl.LazyFrame) -> pl.DataFrame:
        """``frame`` collected in the background, cancelled when :meth:`stop` is called."""
        if self.reason is not None:
            raise Cancelled(self.reason)
        query = frame.collect(background=True)  # (Polars calls it unstable, but warns only if asked to)
        with self._lock:
            self._running.add(query)
            if self.reason is not None:  # stopped meanwhile
                query.cancel()
        try:
            return query.fetch_blocking()
        except pl.exceptions.ComputeError:
            if self.reason is not None:  # "query interrupted": stopped by us
                raise Cancelled(self.reason) from None
            raise
        finally:
            with self._lock:
                self._running.discard(query)


@contextlib.contextmanager
def guarded(guard: QueryGuard) -> Iterator[None]:
    """Run the queries of this thread, inside the block, through ``guard``."""
    before = getattr(_local, "guard", None)
    _local.guard = guard
    try:
        yield
    finally:
        _local.guard = before


def collect(frame: pl.LazyFrame) -> pl.DataFrame:
    """``frame.collect()``, stoppable half-way on a guarded thread (see the module)."""
    guard: QueryGuard | None = getattr(_local, "guard", None)
    if guard is None:
        return frame.collect(engine="streaming")
    return guard.wait(frame)


def collect_all(frames: Sequence[pl.LazyFrame]) -> list[pl.DataFrame]:
    """``pl.collect_all(frames)``: one query, whose shared subplans are computed once; stoppable
    half-way on a guarded thread (see the module)."""
    guard: QueryGuard | None = getattr(_local, "guard", None)
    if guard is None or not frames:
        return pl.collect_all(frames, engine="streaming")
    if len(frames) == 1:
        return [guard.wait(frames[0])]
    widths = [len(frame.collect_schema()) for frame in frames]
    packed = guard.wait(
        pl.concat(
            [_packed(frame, n, width) for n, (frame, width) in enumerate(zip(frames, widths, strict=True))],
            how="horizontal",
        )
    )
    return [
        packed.get_column(f"q{n}")[0].struct.unnest() if width else pl.DataFrame() for n, width in enumerate(widths)
    ]


def collect_batch(frames: Sequence[pl.LazyFrame]) -> list[pl.DataFrame]:
    """``pl.collect_all(frames)`` for frames over a batch of rows already in memory (the
    formatting of at most a batch of values, a query of milliseconds): collected as usual,
    without the hand-off to the background (on a loaded machine each costs a wait for a core),
    once the guard of a guarded thread is checked."""
    guard: QueryGuard | None = getattr(_local, "guard", None)
    if guard is not None and guard.reason is not None:
        raise Cancelled(guard.reason)
    return [frames[0].collect()] if len(frames) == 1 else pl.collect_all(frames)


def _packed(frame: pl.LazyFrame, n: int, width: int) -> pl.LazyFrame:
    """``frame`` as one row: column ``q{n}``, a list of its rows (none if it has no columns)."""
    return frame.select((pl.struct(pl.all()).implode() if width else pl.lit(0)).alias(f"q{n}"))
