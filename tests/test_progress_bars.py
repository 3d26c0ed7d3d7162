"""Progress bars: ``render(..., progress=True)`` shows one in a notebook's output, or on
standard error elsewhere."""

from __future__ import annotations

import io
import sys
import types

import polars as pl
import pytest

import polarreports as pr
from polarreports.control import Progress
from polarreports.output.progress import NotebookBar, PhaseLines, TextBar, in_notebook


class FakeHandle:
    def __init__(self, shown: list[str], content: object) -> None:
        self.shown = shown
        shown.append(str(content))

    def update(self, content: object) -> None:
        self.shown.append(str(content))


@pytest.fixture
def notebook(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A stand-in Jupyter kernel: what the bar displays goes to the returned list."""
    shown: list[str] = []

    class ZMQInteractiveShell:  # the class name Jupyter kernels have
        pass

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = ZMQInteractiveShell  # type: ignore[attr-defined]
    display = types.ModuleType("IPython.display")
    display.HTML = str  # type: ignore[attr-defined]
    display.display = lambda content, display_id: FakeHandle(shown, content)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    return shown


@pytest.mark.typst
def test_a_notebook_shows_one_bar_updated_in_place(notebook: list[str], sales: pl.DataFrame) -> None:
    assert in_notebook()
    document = pr.load("examples/sales_by_region.yaml").render(sales.head(500), progress=True)
    _ = document.pdf
    phases = [line.split("polarreports: ")[1].split(" ")[0].split("<")[0] for line in notebook]
    assert phases[0] == "planning"
    assert "typesetting" in phases
    assert all(line.startswith('<div style="font: 12px sans-serif"><progress') for line in notebook)


def test_notebook_bar_html_escapes_and_counts() -> None:
    html = NotebookBar().html(Progress("typesetting", 3, 12, "<chunks>"))
    assert 'value="0.250"' in html
    assert "3 / 12 &lt;chunks&gt;" in html


def test_text_bar_outside_a_notebook() -> None:
    assert not in_notebook()
    stream = io.StringIO()
    bar = TextBar(stream)
    for done in range(5):
        bar(Progress("writing", done, 4, "files"))
    lines = stream.getvalue().split("\r")
    assert lines[-1].startswith("polarreports writing [############################]   4/4 files")
    assert stream.getvalue().endswith("\n")


def test_one_of_a_unit_is_singular() -> None:
    stream = io.StringIO()
    lines = PhaseLines(stream)
    for event in (
        Progress("data", 1, 1, "rows"),
        Progress("typesetting", 1, 1, "pieces"),
        Progress("writing", 2, 2, "files"),
    ):
        lines(event)
    said = [line.split(" (")[0] for line in stream.getvalue().splitlines()]
    assert said == ["polarreports data: 1 row", "polarreports typesetting: 1 piece", "polarreports writing: 2 files"]
    bar = TextBar(io.StringIO())
    bar(Progress("data", 25_000, 60_000, "rows"))
    assert "25,000/60,000 rows" in bar.stream.getvalue()  # type: ignore[attr-defined]
    assert "1 / 1 piece<" in NotebookBar().html(Progress("typesetting", 1, 1, "pieces")) + "<"
