"""The child side of a warm worker: run as a script (standard library only, so it starts in a few
hundredths of a second), never imported by the package's users::

    python -S -I _child.py HANDLER PARENT_PID IMPORT_PATH WATCH [ARGS ...]

``HANDLER`` is a Python file (``typeset/_worker.py``, ``charts/_worker.py``) defining
``setup(args) -> handle``; ``-S`` skips the site module (half of Python's start-up time), so
``IMPORT_PATH`` is the folder its libraries (typst, vl_convert) are imported from. The worker
ends when its parent ends: its job pipe closes, or ``WATCH`` sees the parent go, even in the
middle of a job (``thread``: a thread polls; ``process``: a forked guard process does, for a
library that holds the GIL while it works, and kills the worker).

Each job is one JSON line on stdin: ``{"job": ..., "memory_mb": m, "over_mapped": bool,
"fork": bool}``. The worker answers ``+`` as it takes it, then what ``handle(job, answer,
forked=...)`` passes to ``answer`` (one JSON line each), then ``{"done": true, "peak_mb",
"rss_mb", "start_mb"}`` (its resident memory at the job's peak, after it and before it). While
the job runs, the address space is capped at ``m`` MB (``over_mapped``: on top of what is
mapped when the job starts), so a job that explodes ends this process, not the machine's
memory. A ``MemoryError`` or any other failure of the handler is answered ``{"memory": ...}``
/ ``{"crash": ...}`` and the worker ends.

With ``fork``, the job runs in a child forked for it alone, which gets the cap, answers, and
exits: the worker keeps its libraries loaded and its fonts parsed, and never grows. A child
that fails ends the worker in the same way (the same exit status or signal), so that the
parent sees what it would have seen without the fork; a child ends with the worker (Linux's
parent-death signal). A worker that has run a job itself (its library may have started
threads) runs the next ones itself too, as forking it would not be safe; so does one that
could not fork (no process left).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

Answer = Callable[[dict[str, Any]], None]
Handle = Callable[..., None]
"""``handle(job, answer, *, forked)``: does one job, passing each answer to ``answer``."""


def status_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmHWM: peak resident, VmRSS: now,
    VmSize: mapped)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:  # pragma: no cover (no /proc)
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def reset_peak() -> None:
    """Start the peak resident memory (VmHWM) again from now, so each job reports its own."""
    with contextlib.suppress(OSError):  # an old kernel or no /proc: the peak since the start
        Path("/proc/self/clear_refs").write_text("5")


def _parent_of(pid: int) -> int:
    """The parent process id of ``pid`` (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])


def _watch_in_thread(parent: int) -> None:
    while True:
        time.sleep(0.2)
        if os.getppid() != parent:
            os._exit(1)


def _guard(parent: int) -> None:
    """Fork a guard that kills this process as soon as its parent is gone; it ends when this
    process ends."""
    worker = os.getpid()
    if os.fork() != 0:
        return
    os.closerange(0, 3)  # the pipes are the worker's: its end must be seen when it ends
    try:
        while True:
            time.sleep(0.2)
            if os.getppid() != worker:  # the worker ended
                break
            if _parent_of(worker) != parent:
                os.kill(worker, signal.SIGKILL)
                break
    finally:
        os._exit(0)


def watch_parent(parent: int, how: str) -> None:
    """End this process as soon as ``parent`` is gone, even in the middle of a job: see the
    module's docstring for ``how``."""
    if how == "process":
        _guard(parent)
    else:
        threading.Thread(target=_watch_in_thread, args=(parent,), daemon=True).start()


def _write(out: BinaryIO, answer: dict[str, Any]) -> None:
    out.write(json.dumps(answer).encode() + b"\n")
    out.flush()


@contextlib.contextmanager
def _capped(request: dict[str, Any], *, restore: bool) -> Iterator[None]:
    """The address space capped at the job's memory for the time of the job."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    base = status_mb("VmSize") if request.get("over_mapped") else 0.0
    cap = int((base + float(request["memory_mb"])) * 2**20)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        yield
    finally:
        if restore:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _run(handle: Handle, request: dict[str, Any], out: BinaryIO, *, forked: bool) -> bool:
    """Run one job in this process and answer it; True if the process must end."""
    reset_peak()
    start_mb = status_mb("VmRSS")
    try:
        with _capped(request, restore=not forked):
            handle(request["job"], lambda answer: _write(out, answer), forked=forked)
    except MemoryError:
        _write(out, {"memory": "MemoryError"})
        return True
    except BaseException as error:  # a Rust panic (PanicException) among them: this process ends
        _write(out, {"crash": f"{type(error).__name__}: {error}"[:2000]})
        return True
    # a forked child ends now: the worker holds what it held before the job
    rss_mb = start_mb if forked else status_mb("VmRSS")
    _write(out, {"done": True, "peak_mb": status_mb("VmHWM"), "rss_mb": rss_mb, "start_mb": start_mb})
    return False


def _die_with_parent() -> None:
    """Have the kernel kill this process when its parent (the worker) ends (Linux)."""
    with contextlib.suppress(Exception):  # no prctl: the child ends with its job
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def _run_forked(handle: Handle, request: dict[str, Any], out: BinaryIO, worker: int) -> bool:
    """Run one job in a child forked for it; True if the worker must end (then it has ended the
    way the child did)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            _die_with_parent()
            if os.getppid() == worker:  # else the worker died before the child could watch it
                code = 1 if _run(handle, request, out, forked=True) else 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):  # end as the child ended: the parent reads the signal
        number = os.WTERMSIG(status)
        with contextlib.suppress(OSError, ValueError):
            signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
    return os.waitstatus_to_exitcode(status) != 0


def serve(handle: Handle, out: BinaryIO) -> int:
    """Answer the jobs on stdin until it closes (0) or a job leaves this process unusable (1)."""
    worker = os.getpid()
    forkable = hasattr(os, "fork")
    for line in sys.stdin.buffer:
        out.write(b"+")  # taken: a worker that dies before this never saw the job
        out.flush()
        request = json.loads(line)
        if request.get("fork") and forkable:
            try:
                ended = _run_forked(handle, request, out, worker)
            except OSError:  # no process left to fork (EAGAIN, ENOMEM): the job runs here
                forkable = False
                ended = _run(handle, request, out, forked=False)
        else:
            forkable = False  # the library may have started threads: forking is not safe any more
            ended = _run(handle, request, out, forked=False)
        if ended:
            return 1
    return 0


def _load(handler: str) -> Any:
    spec = importlib.util.spec_from_file_location("_polarreports_handler", handler)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    handler, parent, import_path, how, *args = argv
    sys.path.insert(0, import_path)
    watch_parent(int(parent), how)  # before the handler's library starts threads
    out = os.fdopen(os.dup(1), "wb")  # the answers; anything else printed goes to stderr
    os.dup2(2, 1)
    handle = _load(handler).setup(args)
    return serve(handle, out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
