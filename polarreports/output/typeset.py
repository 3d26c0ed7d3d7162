"""Typeset a report: in one piece, or for long reports in page-aligned chunks on every core.

A long report is measured (one small Typst pass gives each band kind's height), paginated
ahead of Typst (``layout.paginate``), split into chunks of whole pages, and the chunks are
typeset in parallel worker processes, each knowing its first page number and the total. Every
chunk is then checked against the prediction: its page count, and that the next chunk's first
band would not have fitted on its last page. If any check fails (say a long text wrapped),
the report is typeset in one piece instead, so the output is always what one piece gives.

    >>> import polarreports as pr
    >>> doc = pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(100))
    >>> doc.page_count, doc.stats["typeset"]
    (4, 'one piece')
"""

from __future__ import annotations

import functools
import io
import json
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import polars as pl
from pypdf import PdfReader, PdfWriter

from polarreports.layout.paginate import EPSILON, Pagination, paginate
from polarreports.layout.typst_source import TypstSource
from polarreports.output.compile import OutputFormat, compile_document, compile_in_worker, query_document

__all__ = ["ReportData", "typeset"]

MIN_BANDS_FOR_CHUNKS = 4_000
"""Below this many bands one Typst pass is quicker than starting worker processes."""
PAGES_PER_CHUNK = (30, 120)
"""Smallest and largest chunk, in pages."""


@dataclass(frozen=True)
class ReportData:
    """What the Typst source reads: the report-scope strings and the band stream."""

    static: dict[str, list[str]]
    bands: pl.DataFrame
    """``k`` and ``json`` per band instance, in reading order."""
    samples: list[dict[str, Any]]
    sticky: list[bool]
    """Per band kind (index ``k``): whether it is a group header (kept with what follows)."""

    def json(self, start: int = 0, count: int | None = None, **extra: Any) -> bytes:
        """The data file for bands ``start`` .. ``start + count``, with ``extra`` settings."""
        rows = self.bands["json"].slice(start, count).str.join(",").item() if self.bands.height else ""
        head = json.dumps({"static": self.static, **extra}, ensure_ascii=False)
        return (head[:-1] + ',"rows":[' + (rows or "") + "]}").encode()


def _workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def _measure(source: TypstSource, data: ReportData) -> dict[str, Any] | None:
    """Heights (pt) of each band kind, or None if some band's longest text wraps."""
    probe = data.json(0, 0, measure=True)
    probe = probe[:-2] + json.dumps(data.samples, ensure_ascii=False).encode()[1:-1] + b"]}"
    _, found = query_document(source, probe, "<polarreports-measure>")
    kinds = len(data.sticky)
    heights = [0.0] * kinds
    spacing = [0.0] * kinds
    for i in range(0, len(data.samples), 2):
        kind = data.samples[i]["k"]
        first, longest = found["samples"][i], found["samples"][i + 1]
        if longest > first + EPSILON:
            return None
        heights[kind] = first
        spacing[kind] = found["pairs"][i] - 2 * first
    return {**found, "heights": heights, "spacing": spacing}


def _run_chunks(jobs: Sequence[Callable[..., tuple[list[bytes], dict[str, Any]]]], workers: int) -> list[Any]:
    """Run the chunk jobs, ``workers`` at a time, each in its own process; on any failure or
    interrupt, the processes still running are ended before the error goes on."""
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(job, stop=stop) for job in jobs]
        try:
            return [future.result() for future in futures]
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()
            raise


def _needed_after(first: int, kinds: list[int], measured: dict[str, Any], sticky: list[bool]) -> float:
    """Room the bands from ``first`` need to start on a page: a run of group headers (sticky)
    plus the band they stick to."""
    heights, spacing = measured["heights"], measured["spacing"]
    needed = 0.0
    for band in range(first, len(kinds)):
        needed += heights[kinds[band]]
        if not sticky[kinds[band]]:
            break
        needed += spacing[kinds[band]]
    return needed


def _chunked(
    source: TypstSource, data: ReportData, format: OutputFormat, ppi: float, stats: dict[str, Any]
) -> list[bytes] | None:
    measured = _measure(source, data)
    if measured is None:
        stats["typeset"] = "one piece (a long text wraps, so page breaks cannot be predicted)"
        return None
    kinds: list[int] = data.bands["k"].to_list()
    pages: Pagination = paginate(
        kinds,
        heights=measured["heights"],
        spacing=measured["spacing"],
        sticky=data.sticky,
        body=measured["body"],
        first_page_used=measured["top"],
        summary=measured["summary"],
    )
    workers = _workers()
    per_chunk = max(PAGES_PER_CHUNK[0], min(PAGES_PER_CHUNK[1], pages.total // (3 * workers) + 1))
    if pages.total < 2 * per_chunk:
        stats["typeset"] = "one piece"
        return None
    sticky_before = [False] + [data.sticky[k] for k in kinds[:-1]]
    chunk_pages = pages.chunk_starts(per_chunk, sticky_before)
    jobs = []
    for i, page in enumerate(chunk_pages):
        last = i == len(chunk_pages) - 1
        first_band = pages.starts[page]
        end_band = len(kinds) if last else pages.starts[chunk_pages[i + 1]]
        data_json = data.json(
            first_band, end_band - first_band, first_page=page + 1, total_pages=pages.total, first=i == 0, last=last
        )
        jobs.append(functools.partial(compile_in_worker, source, data_json, format=format, ppi=ppi))
    results = _run_chunks(jobs, min(workers, len(jobs)))
    body_bottom = measured["body-top"] + measured["body"]
    for i, (_, end) in enumerate(results):
        last = i == len(chunk_pages) - 1
        expected = (pages.total if last else chunk_pages[i + 1]) - chunk_pages[i]
        if end["page"] != expected:
            stats["typeset"] = f"one piece (chunk {i + 1} took {end['page']} pages, {expected} were predicted)"
            return None
        if not last:
            next_band = pages.starts[chunk_pages[i + 1]]
            room = body_bottom - end["y"]
            needed = measured["spacing"][kinds[next_band - 1]] + _needed_after(next_band, kinds, measured, data.sticky)
            if room >= needed - EPSILON:
                stats["typeset"] = f"one piece (the page before chunk {i + 2} had room left)"
                return None
    stats["typeset"] = f"{len(jobs)} chunks in {min(workers, len(jobs))} worker processes"
    stats["pages_predicted"] = pages.total
    if format != "pdf":
        return [page for page_list, _ in results for page in page_list]
    writer = PdfWriter()
    readers = [PdfReader(io.BytesIO(page_list[0])) for page_list, _ in results]
    for reader in readers:
        writer.append(reader)
    if readers[0].metadata:
        writer.add_metadata(dict(readers[0].metadata))
    buffer = io.BytesIO()
    writer.write(buffer)
    return [buffer.getvalue()]


def typeset(
    source: TypstSource, data: ReportData, *, format: OutputFormat, ppi: float, stats: dict[str, Any]
) -> list[bytes]:
    """The document as PDF (one item) or PNG/SVG pages; ``stats["typeset"]`` says how."""
    if data.bands.height >= MIN_BANDS_FOR_CHUNKS:
        pages = _chunked(source, data, format, ppi, stats)
        if pages is not None:
            return pages
    else:
        stats["typeset"] = "one piece"
    return compile_document(source, data.json(), format=format, ppi=ppi)
