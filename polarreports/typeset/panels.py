"""Typeset a wide listing's panels (``wide: continue``), each like a report of its own, and put
their pages together: interleaved where the panels break pages alike, else one after another.

    >>> _page_count([b"page 1", b"page 2"], "png")
    2
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable, MutableMapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from polarreports.control import temp_prefix
from polarreports.typeset.compile import OutputFormat
from polarreports.typeset.measure import measure
from polarreports.typeset.pdfjoin import PdfJoin
from polarreports.typeset.run import Typeset, TypesetRun, in_memory

__all__ = ["typeset_panels"]


def typeset_panels(run: TypesetRun, typeset_each: Callable[[TypesetRun], Typeset]) -> Typeset:
    """A wide listing's panels (``wide: continue``), each typeset like a report of its own. When
    every band kind is as tall in each panel (so they break pages alike), their pages
    interleave (page 1 of each panel, then page 2, ...); otherwise the panels follow one
    another, each numbered on its own. A PDF's panels are joined as chunks are (``PdfJoin``):
    a tagged report keeps one structure tree (each panel read whole, in turn), and the first
    panel's bookmarks are the outline. Each panel is typeset by ``typeset_each``."""
    data, stats, format = run.data, run.stats, run.format
    sources = [replace(run.source, panels=()), *run.source.panels]
    measured = [measure(replace(run, source=panel)) for panel in sources]
    first = measured[0]
    alike = first.exact and all(
        (m.heights, m.spacing, m.top, m.summary) == (first.heights, first.spacing, first.top, first.summary)
        for m in measured
    )

    def each_panel(interleave: bool) -> list[list[bytes]]:
        results = []
        for number, panel in enumerate(sources, start=1):
            settings = {"panel": number, "panels": len(sources)} if interleave else {}
            panel_stats: MutableMapping[str, Any] = {}
            panel_data = replace(data, settings={**data.settings, **settings})
            result = typeset_each(replace(run, source=panel, data=panel_data, stats=panel_stats))
            results.append(in_memory(result))
            stats["typeset"] = panel_stats.get("typeset", "")
        return results

    results = each_panel(alike)
    pages = [_page_count(result, format) for result in results]
    if alike and len(set(pages)) > 1:  # they broke pages differently after all
        alike = False
        results = each_panel(alike)
    order = "interleaved" if alike else "one after another"
    stats["typeset"] = f"{len(sources)} panels, {order}; each {stats['typeset']}"
    if format != "pdf":
        groups = zip(*results, strict=True) if alike else results
        return [page for group in groups for page in group]
    folder = Path(tempfile.mkdtemp(prefix=temp_prefix("pdf-")))
    try:
        with PdfJoin(folder / "report.pdf") as joined:
            for number, result in enumerate(results):
                joined.add(result[0], apart=True, bookmarks=number == 0)
                result.clear()  # joined: the panel's bytes are not needed any more
            if alike:  # page 1 of each panel, then page 2, ...
                joined.order_pages([panel * pages[0] + page for page in range(pages[0]) for panel in range(len(pages))])
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder / "report.pdf"


def _page_count(result: list[bytes], format: OutputFormat) -> int:
    """The pages of a typeset panel: in its PDF, or its images."""
    if format != "pdf":
        return len(result)
    import pikepdf

    with pikepdf.Pdf.open(io.BytesIO(result[0])) as document:
        return len(document.pages)
