"""Every notebook runs top to bottom (its code cells, in order, from the notebooks folder), is
kept without outputs, and leaves what it says it makes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.typst

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _quickstart(namespace: dict[str, Any], out: Path) -> None:
    doc = namespace["doc"]
    assert "pages" in doc._repr_html_()
    assert (out / "sales_2025.pdf").read_bytes().startswith(b"%PDF")
    pages = namespace["pages"]
    assert len(pages) == 2
    assert pages[0].startswith(b"\x89PNG")


def _gallery(namespace: dict[str, Any], out: Path) -> None:
    first_pages = namespace["first_pages"]
    assert len(first_pages) >= 6
    assert all((ROOT / "examples" / f"{name}.yaml").is_file() for name in first_pages)
    assert all(pages[0].startswith(b"\x89PNG") and pages.total >= 1 for pages in first_pages.values())
    assert namespace["doc"].page(3).number == 3


def _parameters(namespace: dict[str, Any], out: Path) -> None:
    for year, path in namespace["saved"].items():
        assert path.resolve() == (out / f"sales_{year}.pdf").resolve()
        assert path.read_bytes().startswith(b"%PDF")
    preview = namespace["preview"]
    assert preview.wait().summary_values == namespace["report"].render(namespace["sales"], year=2024).summary_values


CHECKS: dict[str, Callable[[dict[str, Any], Path], None]] = {
    "quickstart.ipynb": _quickstart,
    "gallery.ipynb": _gallery,
    "parameters.ipynb": _parameters,
}


def test_every_notebook_is_checked_and_kept_without_outputs() -> None:
    assert {path.name for path in NOTEBOOKS} == set(CHECKS)
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [], f"{path.name}: clear the outputs before committing"
                assert cell["execution_count"] is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    work = tmp_path / "notebooks"
    work.mkdir()
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(work)
    namespace: dict[str, object] = {}
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            result = eval(compile(source, f"{path.name}", "exec"), namespace)
            assert result is None
    CHECKS[path.name](namespace, tmp_path / "out")
