"""A local batch worker process: takes tasks on stdin and answers on stdout, one after another.

Started by :class:`~polarreports.batch.executors.LocalPool` as ``python -m
polarreports.batch.worker`` (never imported by users): unlike ``multiprocessing``'s ``spawn``,
it does not import the caller's main script again, and it gets its environment (Polars on one
thread) from its command. Each message is an 8-byte length and a pickle: ``(function, task,
arguments)`` in, the list of entries (or the exception) out. It ends when its input closes
(its parent ended), and its warm Typst workers with it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import IO, Any

from polarreports.batch.messages import read_message, write_message


def serve(source: IO[bytes], answers: IO[bytes]) -> None:
    """Answer tasks until ``source`` closes."""
    while True:
        try:
            function, task, arguments = read_message(source)
        except EOFError:
            return
        try:
            result: Any = function(task, *arguments)
        except Exception as error:  # the task's keys are recorded as failed by the parent
            result = error
        write_message(answers, result)


def main() -> None:
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever a library prints goes to stderr, never into the answers
    with contextlib.suppress(BrokenPipeError):  # the parent is gone
        serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
