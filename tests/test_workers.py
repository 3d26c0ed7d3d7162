"""The warm workers' own side (``polarreports/workers/_child.py``): the answers, the fork per job,
the ends; with a handler that runs no library."""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from typing import Any

import pytest

from polarreports.workers import _child


def serve(monkeypatch: pytest.MonkeyPatch, handle: Any, *requests: dict[str, Any]) -> tuple[int, list[Any]]:
    """Run ``serve`` over ``requests``: its exit status, and what it answered (``+`` marks), in a
    file (a forked child writes to it too, as it would to the pipe)."""
    lines = b"".join(json.dumps(request).encode() + b"\n" for request in requests)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines)))
    with tempfile.TemporaryFile() as out:
        status = _child.serve(handle, out)
        out.seek(0)
        written = out.read()
    answers: list[Any] = []
    for piece in written.split(b"+"):
        answers += [json.loads(line) for line in piece.splitlines() if line]
    return status, answers


def pid_of(job: dict[str, Any], answer: Any, *, forked: bool) -> None:
    answer({"pid": os.getpid(), "forked": forked, "job": job})


def job(n: int, *, fork: bool) -> dict[str, Any]:
    return {"job": n, "memory_mb": 100_000, "fork": fork}


def test_a_job_runs_here_and_is_answered_then_done(monkeypatch: pytest.MonkeyPatch) -> None:
    status, answers = serve(monkeypatch, pid_of, job(1, fork=False), job(2, fork=False))
    assert status == 0
    assert [a.get("job") for a in answers] == [1, None, 2, None]
    assert answers[0] == {"pid": os.getpid(), "forked": False, "job": 1}
    assert all(set(a) == {"done", "peak_mb", "rss_mb", "start_mb"} for a in answers[1::2])


def test_a_forked_job_runs_in_a_child_and_the_worker_stays_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    status, answers = serve(monkeypatch, pid_of, job(1, fork=True), job(2, fork=False), job(3, fork=True))
    assert status == 0
    forked, here, after = answers[0], answers[2], answers[4]
    assert forked["forked"]
    assert forked["pid"] != os.getpid()
    assert answers[1]["rss_mb"] == answers[1]["start_mb"]  # the worker did not grow
    assert here == {"pid": os.getpid(), "forked": False, "job": 2}
    assert after == {"pid": os.getpid(), "forked": False, "job": 3}  # it ran a job itself: it forks no more


def test_a_worker_that_cannot_fork_runs_the_job_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    status, answers = serve(monkeypatch, pid_of, job(1, fork=True))
    assert status == 0
    assert answers[0] == {"pid": os.getpid(), "forked": False, "job": 1}


@pytest.mark.parametrize(("error", "said"), [(MemoryError(), "memory"), (RuntimeError("boom"), "crash")])
def test_a_failing_job_is_answered_and_ends_the_worker(
    error: BaseException, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(job: dict[str, Any], answer: Any, *, forked: bool) -> None:
        raise error

    status, answers = serve(monkeypatch, failing, job(1, fork=False), job(2, fork=False))
    assert status == 1
    assert list(answers[0]) == [said]  # and the next job is never taken
    assert len(answers) == 1
