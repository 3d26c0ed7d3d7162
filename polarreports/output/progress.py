"""Progress bars fed by a render's progress reports: ``render(..., progress=True)``.

In a Jupyter notebook the bar is an HTML block of the cell's output, updated in place (no
widget library needed); elsewhere it is one line on standard error, redrawn as the render goes.
A bar shows the phase (planning, data, layout, typesetting, writing) and its count.

    >>> import io
    >>> bar = TextBar(stream=io.StringIO())
    >>> bar(Progress("typesetting", 3, 12, "chunks"))
    >>> bar.stream.getvalue().strip()
    'polarreports typesetting [#######---------------------]   3/12 chunks'
"""

from __future__ import annotations

import html
import importlib
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from polarreports.control import Progress

__all__ = ["NotebookBar", "PhaseLines", "TextBar", "counted", "in_notebook", "progress_bar"]

WIDTH = 28
"""Characters of a text bar."""


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (where HTML output shows)."""
    shell: Any = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def counted(count: int, unit: str) -> str:
    """``count`` and its ``unit`` (an English plural), one of them singular.

    >>> counted(1, "pieces"), counted(12, "chunks"), counted(1_500, "rows"), counted(1, "processes")
    ('1 piece', '12 chunks', '1,500 rows', '1 process')
    """
    return f"{count:,} {_singular(unit) if count == 1 else unit}"


def _singular(unit: str) -> str:
    """The singular of a regular English plural (``entries``, ``batches``, ``rows``)."""
    if unit.endswith("ies"):
        return unit[:-3] + "y"
    if unit.endswith(("sses", "shes", "ches", "xes")):
        return unit[:-2]
    return unit[:-1] if unit.endswith("s") and not unit.endswith("ss") else unit


def _fraction(event: Progress) -> float | None:
    if not event.total:
        return None
    return min(max(event.done / event.total, 0.0), 1.0)


class TextBar:
    """One line on a text stream (standard error by default), redrawn in place."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr

    def __call__(self, event: Progress) -> None:
        fraction = _fraction(event)
        if fraction is None:
            line = f"polarreports {event.phase}"
        else:
            filled = round(fraction * WIDTH)
            bar = "#" * filled + "-" * (WIDTH - filled)
            line = f"polarreports {event.phase} [{bar}] {event.done:>3,}/{counted(event.total or 0, event.unit)}"
        self.stream.write("\r" + line.ljust(72))
        if event.phase == "writing" and fraction == 1.0:
            self.stream.write("\n")
        self.stream.flush()


class NotebookBar:
    """An HTML progress bar in a notebook cell's output, updated in place."""

    def __init__(self) -> None:
        self._handle: Any = None

    def html(self, event: Progress) -> str:
        fraction = _fraction(event)
        count = "" if fraction is None else f" {event.done:,} / {html.escape(counted(event.total or 0, event.unit))}"
        value = "" if fraction is None else f' value="{fraction:.3f}"'
        return (
            '<div style="font: 12px sans-serif">'
            f'<progress max="1"{value} style="width: 240px; vertical-align: middle"></progress>'
            f" polarreports: {html.escape(event.phase)}{count}</div>"
        )

    def __call__(self, event: Progress) -> None:
        display = importlib.import_module("IPython.display")  # there in every notebook kernel
        content = display.HTML(self.html(event))
        if self._handle is None:
            self._handle = display.display(content, display_id=True)
        else:
            self._handle.update(content)


class PhaseLines:
    """One line per phase, for a stream that is not a terminal (a log file, a pipe): no bar
    redrawn with carriage returns, only where the render has got to and when.

    >>> import io
    >>> lines = PhaseLines(io.StringIO())
    >>> for event in (Progress("planning"), Progress("data", 5, 10, "rows"), Progress("data", 10, 10, "rows")):
    ...     lines(event)
    >>> [line.split(" (")[0] for line in lines.stream.getvalue().splitlines()]
    ['polarreports planning', 'polarreports data: 10 rows']
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._start = time.perf_counter()
        self._phase: str | None = None

    def __call__(self, event: Progress) -> None:
        if event.phase == self._phase:
            return
        self._phase = event.phase
        count = f": {counted(event.total, event.unit)}" if event.total else ""
        self.stream.write(f"polarreports {event.phase}{count} ({time.perf_counter() - self._start:.1f}s)\n")
        self.stream.flush()


def progress_bar() -> Callable[[Progress], None]:
    """The progress bar that fits where this runs: a notebook's, a text line redrawn on a
    terminal, or one line per phase on a stream that is not a terminal."""
    if in_notebook():
        return NotebookBar()
    return TextBar() if sys.stderr.isatty() else PhaseLines()
