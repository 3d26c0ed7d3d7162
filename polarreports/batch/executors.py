"""Where batch tasks run: a local pool of processes (the default), or a Dask cluster.

Both take tasks and yield, as each task ends, its keys' manifest entries; a task whose
process died (or that could not be sent) yields the error instead, and the driver records its
keys as failed: the other tasks go on.

Dask distributed, not Ray, because it is what Python data teams already run next to Polars
and Parquet (``dask-jobqueue`` on HPC, Kubernetes and cloud deployments, Coiled), it is pure
Python and pip-installable in one line, its ``LocalCluster`` gives real worker processes for
tests and laptops, and a polarreports task needs nothing Ray adds (actors, GPUs, a separate
object store): a worker reads its own slice of a Parquet data set and writes files.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from polarreports.batch.manifest import Entry
from polarreports.batch.messages import read_message, write_message
from polarreports.batch.work import Task
from polarreports.control import POLL_SECONDS
from polarreports.exceptions import RenderError, RenderOptionError

__all__ = ["DaskCluster", "Executor", "Job", "LocalPool"]

CONNECT_TIMEOUT = "20s"
"""How long to try to reach a Dask scheduler before giving up."""
Job = tuple[Callable[..., list[Entry]], Task, tuple[Any, ...]]
"""A function of the worker side (``render_rows``, ``render_slice``), its task, and its other arguments."""
Outcome = tuple[Task, list[Entry] | BaseException]


class Executor(Protocol):
    """Runs jobs; yields each job's task and entries (or the error that lost them) as it ends."""

    workers: int

    def run(self, jobs: Iterable[Job]) -> Iterator[Outcome]: ...


class _Process:
    """One worker process (``worker.py``) and its pipes."""

    def __init__(self) -> None:
        environment = {**os.environ, "POLARS_MAX_THREADS": os.environ.get("POLARS_MAX_THREADS", "1")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "polarreports.batch.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
            process_group=0,  # a terminal's Ctrl-C goes to the parent, which then ends this process
        )

    def run(self, job: Job) -> list[Entry] | BaseException:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        function, task, arguments = job
        try:
            write_message(self.process.stdin, (function, task, arguments))
            answer = read_message(self.process.stdout)
        except (EOFError, OSError):
            self.process.wait()
            return RenderError(f"its worker process ended (exit status {self.process.returncode})")
        return answer if isinstance(answer, list | BaseException) else RenderError(f"a worker answered {answer!r}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def close_input(self) -> None:
        """Close its pipes: it ends after its task (its Typst workers with it)."""
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def end(self, *, wait_s: float = 0.0) -> None:
        """Close its pipes, and kill it if it has not ended within ``wait_s`` seconds."""
        self.close_input()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=wait_s)
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()


class LocalPool:
    """``workers`` processes on this machine (``python -m polarreports.batch.worker``; Polars
    on one thread each: the processes are the parallelism), each rendering whole documents
    one after another with its Typst workers kept warm. At most ``2 * workers`` tasks wait,
    so the rows in flight stay few. A process that dies loses its task (recorded as failed)
    and is replaced for the next."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or max(1, os.cpu_count() or 1)

    def run(self, jobs: Iterable[Job]) -> Iterator[Outcome]:
        run = _PoolRun(self.workers)
        feeder = threading.Thread(target=run.feed, args=(iter(jobs),), daemon=True)
        threads = [threading.Thread(target=run.work, daemon=True) for _ in range(self.workers)]
        for thread in (*threads, feeder):
            thread.start()
        running = len(threads)
        finished = False
        try:
            while running:
                with contextlib.suppress(queue.Empty):
                    outcome = run.answers.get(timeout=POLL_SECONDS)  # a timeout, so Ctrl-C is heard
                    if outcome is None:
                        running -= 1
                    else:
                        yield outcome
            finished = True
            if run.feeder_error:
                raise run.feeder_error[0]
        finally:
            run.end(wait_s=5.0 if finished else 0.0)


class _PoolRun:
    """The queues and processes of one :meth:`LocalPool.run`: a feeder thread puts jobs in
    ``waiting``; one thread per process takes them, has its process do them, and puts the
    outcome in ``answers`` (then None when it ends)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.waiting: queue.Queue[Job | None] = queue.Queue(maxsize=2 * workers)
        self.answers: queue.Queue[Outcome | None] = queue.Queue()
        self.processes: list[_Process] = []
        self.feeder_error: list[BaseException] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def feed(self, jobs: Iterator[Job]) -> None:
        try:
            for job in jobs:
                while not self.stop.is_set():
                    with contextlib.suppress(queue.Full):
                        self.waiting.put(job, timeout=POLL_SECONDS)
                        break
        except BaseException as error:  # making the tasks failed: the driver raises it
            self.feeder_error.append(error)
        finally:
            for _ in range(self.workers):
                self.waiting.put(None)

    def work(self) -> None:
        process: _Process | None = None
        job = None
        try:
            while not self.stop.is_set() and (job := self.waiting.get()) is not None:
                if process is None or not process.alive():
                    with self._lock:
                        if self.stop.is_set():
                            return
                        process = _Process()
                        self.processes.append(process)
                self.answers.put((job[1], process.run(job)))
        except BaseException as error:  # no process could be started: its task fails
            if job is not None:
                self.answers.put((job[1], error))
        finally:
            self.answers.put(None)

    def end(self, wait_s: float) -> None:
        """Stop: end every process (given ``wait_s`` seconds to end on its own after its last
        task; a task half done is lost, as if never started)."""
        self.stop.set()
        with self._lock:
            for process in self.processes:
                process.close_input()
            for process in self.processes:
                process.end(wait_s=wait_s)
        while True:  # make room, so that the feeder's end markers go in
            try:
                self.waiting.get_nowait()
            except queue.Empty:
                break


class DaskCluster:
    """A Dask distributed cluster: ``address`` is a scheduler's address
    (``tcp://scheduler:8786``) or a ``distributed.Client``. Its workers need polarreports
    installed, and the data set and the output folder at the same paths as here (shared
    storage)."""

    client: Any

    def __init__(self, address: Any) -> None:
        try:
            distributed: Any = importlib.import_module("distributed")
        except ImportError:
            msg = "a Dask cluster needs the distributed package: pip install 'polarreports[batch]'"
            raise RenderOptionError(msg) from None
        if isinstance(address, distributed.Client):
            self.client, self._own = address, False
        else:
            try:
                self.client, self._own = distributed.Client(address, timeout=CONNECT_TIMEOUT), True
            except (OSError, TimeoutError, ValueError) as error:
                msg = f"cannot reach the Dask scheduler at {address!r}: {error}"
                raise RenderOptionError(msg) from None
        self.workers = max(1, sum(self.client.nthreads().values()))

    def run(self, jobs: Iterable[Job]) -> Iterator[Outcome]:
        as_completed = importlib.import_module("distributed").as_completed

        tasks = {}
        futures = []
        for function, task, arguments in jobs:
            future = self.client.submit(function, task, *arguments, pure=False)
            tasks[future.key] = task
            futures.append(future)
        try:
            for future in as_completed(futures):
                task = tasks[future.key]
                try:
                    yield task, future.result()
                except Exception as error:  # the worker died, or the task could not be sent
                    yield task, error
                future.release()
        finally:
            for future in futures:
                future.cancel()
            if self._own:
                self.client.close()
