"""Every notebook runs top to bottom (its code cells, in order, from the notebooks folder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.typst

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


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
    doc = namespace["doc"]
    assert "pages" in doc._repr_html_()  # type: ignore[attr-defined]
    assert (tmp_path / "out" / "sales_2025.pdf").read_bytes().startswith(b"%PDF")
