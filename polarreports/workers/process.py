"""Warm worker processes: the parent's side. A :class:`WarmWorker` is one child process running
``_child.py`` with a handler file (the Typst typesetter, the chart drawer), which keeps its
library loaded and takes job after job over a pipe; a :class:`WorkerPool` keeps the idle ones.

The work never runs in this process: a worker is killed (:meth:`WarmWorker.kill`, with any
child it forked for a job) as soon as its job is stopped (a cancel, a time limit, Ctrl-C), it
ends by itself when this process ends, and its address space is capped while it works (the
request's ``memory_mb``), so a job that explodes ends the worker, not the machine's memory.
See ``_child.py`` for what crosses the pipe.

    >>> pool: WorkerPool[WarmWorker] = WorkerPool(keep=1)
    >>> pool.take(lambda worker: True) is None, pool.idle_pids()
    (True, [])
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from polarreports.control import POLL_SECONDS
from polarreports.exceptions import Cancelled, ResourceError

__all__ = ["CHILD", "Gone", "WarmWorker", "WorkerPool"]

CHILD = Path(__file__).resolve().parent / "_child.py"
_ENDING = ("memory", "crash")
"""Answers after which a worker ends by itself."""


def _never() -> str | None:
    return None


class Gone(Exception):
    """A warm worker died while it waited for a job (killed from outside): it never took the job."""


class WarmWorker:
    """One warm worker process running ``handler`` (``setup(args)``, see ``_child.py``), which
    imports its libraries from ``import_path``; ``watch`` is how it watches this process;
    ``what`` names it in errors ("a Typst worker")."""

    def __init__(
        self,
        handler: Path,
        import_path: str,
        *args: str,
        watch: Literal["thread", "process"] = "thread",
        what: str = "a worker",
    ) -> None:
        command = [sys.executable, "-S", "-I", str(CHILD), str(handler), str(os.getpid()), import_path, watch, *args]
        environment = {**os.environ, "MALLOC_ARENA_MAX": "2"}  # no 64 MB heap reserved per thread
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=environment,
                process_group=0,  # its own group: killing it kills the children it forked for a job
            )
        except OSError as error:  # no more processes or memory for one
            msg = f"cannot start {what} process: {error.strerror or error}"
            raise ResourceError(msg) from None
        self.errors = bytearray()
        """The end of what the worker wrote to stderr during its last job."""
        self.rss_mb = 0.0
        """What it held after its last job."""
        self.ran_here = False
        """Whether it has run a job itself (not in a forked child): it forks no more."""

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def alive(self) -> bool:
        return self.process.poll() is None

    def stderr_text(self) -> str:
        return self.errors.decode(errors="replace").strip()

    def run(
        self,
        job: Any,
        *,
        memory_mb: float,
        over_mapped: bool = False,
        fork: bool = False,
        stop: Callable[[], str | None] = _never,
    ) -> list[dict[str, Any]]:
        """Hand the worker a job and return its answers, asking ``stop()`` every
        ``POLL_SECONDS`` (``Cancelled`` when it gives a reason). The last answer is ``{"done":
        true, ...}``, unless the worker died in the job (then ``returncode`` is set, and the
        last answer may say why: ``memory``, ``crash``); ``Gone`` if it had died before."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self.errors.clear()
        self.ran_here = self.ran_here or not fork
        request = {"job": job, "memory_mb": memory_mb, "over_mapped": over_mapped, "fork": fork}
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
        except OSError:  # it died since its last job
            raise Gone from None
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
                    if answers and any(key in answers[-1] for key in _ENDING):
                        self._reap(streams, err)
                        return answers
                else:  # the worker died: keep the last it said
                    self._reap(streams, err)
                    if not taken:
                        raise Gone
                    return answers

    def _reap(self, streams: list[int], err: int) -> None:
        self.process.wait()
        while err in streams and (piece := os.read(err, 1 << 16)):
            self._keep_errors(piece)

    def _keep_errors(self, piece: bytes) -> None:
        self.errors += piece
        del self.errors[:-4000]

    def kill(self) -> None:
        """End the worker now, with any child it forked for a job (and reap it)."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):  # a job line still buffered for a dead worker
                    stream.close()


W = TypeVar("W", bound=WarmWorker)


def _kill_all(workers: list[Any], owner: dict[str, int]) -> None:
    if owner["pid"] == os.getpid():  # not a forked child's copy of its parent's workers
        for worker in workers:
            worker.kill()
    workers.clear()


class WorkerPool(Generic[W]):
    """The idle warm workers, at most ``keep``; safe to use from several threads. They are
    killed by :meth:`close`, when the pool is collected, and at the interpreter's exit; a forked
    copy of this process does not use (or kill) its parent's."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._idle: list[W] = []
        self._owner = {"pid": os.getpid()}
        self._lock = threading.Lock()
        weakref.finalize(self, _kill_all, self._idle, self._owner)

    def idle_pids(self) -> list[int]:
        """The process ids of the workers waiting for a job."""
        with self._lock:
            return [worker.pid for worker in self._idle if worker.alive()]

    def close(self) -> None:
        """End the idle workers."""
        with self._lock:
            _kill_all(self._idle, self._owner)

    def take(self, fits: Callable[[W], bool]) -> W | None:
        """The idle worker kept last among those that ``fits``, or None; dead ones are reaped."""
        with self._lock:
            if self._owner["pid"] != os.getpid():  # a forked child: those workers are its parent's
                self._idle.clear()
                self._owner["pid"] = os.getpid()
            for worker in list(reversed(self._idle)):
                if not worker.alive():
                    self._idle.remove(worker)
                    worker.kill()
                elif fits(worker):
                    self._idle.remove(worker)
                    return worker
        return None

    def give_back(self, worker: W, *, keep: bool = True) -> None:
        """Keep ``worker`` for a next job if ``keep``, else end it; with more than ``keep`` idle,
        the one idle the longest ends (the workers of the jobs running now are kept: say the
        chunks of a long report, after the worker that measured it)."""
        ended: W | None = worker
        if keep and worker.alive():
            with self._lock:
                self._idle.append(worker)
                ended = self._idle.pop(0) if len(self._idle) > self.keep else None
        if ended is not None:
            ended.kill()
