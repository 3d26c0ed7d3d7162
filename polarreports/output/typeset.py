"""Typeset a report: in one piece, or for long reports in page-aligned chunks on every core.

A long report is measured (one small Typst pass gives each band kind's height), paginated
ahead of Typst (``layout.paginate``), split into chunks of whole pages, and the chunks are
typeset in parallel worker processes, each knowing its first page number and the total. Every
chunk is then checked against the prediction: its page count, and that the next chunk's first
band would not have fitted on its last page. If any check fails (say a long text wrapped),
the report is typeset in one piece instead, so the output is always what one piece gives.

Memory: a worker holds about ``WORKER_BASE_MB + MB_PER_PAGE * pages``; with a memory budget,
chunks are made small enough that the workers and this process fit in it together.

    >>> import polarreports as pr
    >>> doc = pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(100))
    >>> doc.page_count, doc.stats["typeset"]
    (4, 'one piece')
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
import polars as pl

from polarreports.control import RenderControl
from polarreports.exceptions import ResourceError
from polarreports.layout.paginate import EPSILON, Pagination, paginate
from polarreports.layout.typst_source import TypstSource
from polarreports.output.compile import OutputFormat, compile_document, compile_in_worker, query_document

__all__ = ["ReportData", "preview", "typeset"]

MIN_BANDS_FOR_CHUNKS = 4_000
"""Below this many bands one Typst pass in this process is quicker than worker processes."""
PAGES_PER_CHUNK = (20, 30)
"""Smallest and largest chunk, in pages, when memory allows."""
WORKER_BASE_MB = 45.0
MB_PER_PAGE = 2.7
"""A worker's resident memory, measured: about 45 MB plus 2.7 MB a page of dense detail rows."""

ChunkJob = Callable[..., tuple[list[bytes], dict[str, Any]]]


@dataclass(frozen=True)
class ReportData:
    """What the Typst source reads: the report-scope strings and the band stream."""

    static: dict[str, list[str]]
    bands: pl.DataFrame
    """``k`` and ``json`` per band instance, in reading order."""
    samples: list[dict[str, Any]]
    sticky: list[bool]
    """Per band kind (index ``k``): whether it is a group header (kept with what follows)."""
    breaks: list[bool]
    """Per band kind: whether a new page starts before it."""

    def json(self, start: int = 0, count: int | None = None, **extra: Any) -> bytes:
        """The data file for bands ``start`` .. ``start + count``, with ``extra`` settings."""
        rows = self.bands["json"].slice(start, count).str.join(",").item() if self.bands.height else ""
        head = json.dumps({"static": self.static, **extra}, ensure_ascii=False)
        return (head[:-1] + ',"rows":[' + (rows or "") + "]}").encode()


@dataclass(frozen=True)
class _Measured:
    heights: list[float]
    spacing: list[float]
    body: float
    body_top: float
    top: float
    summary: float


def _workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def _own_rss_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):  # pragma: no cover (no /proc)
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _measure(source: TypstSource, data: ReportData) -> _Measured | None:
    """Heights (pt) of each band kind, or None if some band's longest text wraps."""
    probe = data.json(0, 0, measure=True)
    probe = probe[:-2] + json.dumps(data.samples, ensure_ascii=False).encode()[1:-1] + b"]}"
    _, found = query_document(source, probe, "<polarreports-measure>")
    heights = [0.0] * len(data.sticky)
    spacing = [0.0] * len(data.sticky)
    for i in range(0, len(data.samples), 2):
        kind = data.samples[i]["k"]
        first, longest = found["samples"][i], found["samples"][i + 1]
        if longest > first + EPSILON:
            return None
        heights[kind] = first
        spacing[kind] = found["pairs"][i] - 2 * first
    return _Measured(heights, spacing, found["body"], found["body-top"], found["top"], found["summary"])


class _Mispredicted(Exception):
    """A chunk did not come out as its pages were predicted."""


def _run_chunks(
    jobs: Sequence[ChunkJob],
    workers: int,
    control: RenderControl,
    on_result: Callable[[int, tuple[list[bytes], dict[str, Any]]], None] | None = None,
) -> list[Any]:
    """Run the chunk jobs, ``workers`` at a time, each in its own process; ``on_result`` sees
    each result in order as soon as it is there (while later chunks are still being
    typeset). On a cancel, the deadline, Ctrl-C or any failure (``on_result`` raising
    included), the processes still running are ended before the error goes on."""
    failed = threading.Event()

    def stop() -> str | None:
        return "another chunk failed" if failed.is_set() else control.stop_reason()

    done = 0
    control.report("typesetting", 0, len(jobs), "chunks")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(job, stop=stop) for job in jobs]
        try:
            results = []
            for future in futures:
                while True:
                    try:
                        results.append(future.result(timeout=0.05))
                        break
                    except TimeoutError:
                        control.check()
                if on_result is not None:
                    on_result(done, results[-1])
                done += 1
                control.report("typesetting", done, len(jobs), "chunks")
            return results
        except BaseException:
            failed.set()
            for future in futures:
                future.cancel()
            raise


def _needed_after(first: int, kinds: list[int], measured: _Measured, sticky: list[bool]) -> float:
    """Room the bands from ``first`` need to start on a page: a run of group headers (sticky)
    plus the band they stick to."""
    needed = 0.0
    for band in range(first, len(kinds)):
        needed += measured.heights[kinds[band]]
        if not sticky[kinds[band]]:
            break
        needed += measured.spacing[kinds[band]]
    return needed


def _pages_per_chunk(total_pages: int, workers: int, budget_mb: float | None) -> int:
    """Chunk size: enough chunks to keep every worker busy, small enough for the budget."""
    smallest, largest = PAGES_PER_CHUNK
    pages = max(smallest, min(largest, total_pages // (3 * workers) + 1))
    if budget_mb is not None:
        per_worker = (budget_mb - _own_rss_mb()) / workers
        fitting = int((per_worker - WORKER_BASE_MB) / MB_PER_PAGE)
        if fitting < 1:
            msg = (
                f"the render cannot fit in a memory budget of {budget_mb:.0f} MB: this process holds "
                f"{_own_rss_mb():.0f} MB and each of {workers} Typst workers needs at least "
                f"{WORKER_BASE_MB + MB_PER_PAGE:.0f} MB.\nHint: raise the budget, or render fewer rows at a time."
            )
            raise ResourceError(msg)
        pages = min(pages, fitting)
    return pages


def _paginate(source: TypstSource, data: ReportData) -> tuple[_Measured, list[int], Pagination] | None:
    """Measure the band kinds and predict every page break, or None if some band may wrap."""
    measured = _measure(source, data)
    if measured is None:
        return None
    kinds: list[int] = data.bands["k"].to_list()
    pages = paginate(
        kinds,
        heights=measured.heights,
        spacing=measured.spacing,
        sticky=data.sticky,
        body=measured.body,
        first_page_used=measured.top,
        summary=measured.summary,
        breaks_before=data.breaks,
        columns=source.columns,
    )
    return measured, kinds, pages


def preview(
    source: TypstSource, data: ReportData, *, pages: int, format: OutputFormat, ppi: float
) -> tuple[list[bytes], int | None]:
    """The first ``pages`` pages and the document's page count (None if not known without
    typesetting everything), typesetting little more than those pages."""
    if data.bands.height < MIN_BANDS_FOR_CHUNKS:
        images = compile_document(source, data.json(), format=format, ppi=ppi)
        return images[:pages], len(images) if format != "pdf" else None
    predicted = _paginate(source, data)
    if predicted is None:
        # Without a prediction, lay out only the first bands; the total is not known.
        images = compile_document(source, data.json(0, 300 * pages, last=False), format=format, ppi=ppi)
        return images[:pages], None
    _, kinds, pagination = predicted
    shown = min(pages, len(pagination.starts))
    end = pagination.starts[shown] if shown < len(pagination.starts) else len(kinds)
    last = end == len(kinds)
    data_json = data.json(0, end, total_pages=pagination.total, last=last)
    return compile_document(source, data_json, format=format, ppi=ppi)[:pages], pagination.total


def _chunked(
    source: TypstSource,
    data: ReportData,
    format: OutputFormat,
    ppi: float,
    stats: dict[str, Any],
    control: RenderControl,
) -> list[bytes] | None:
    predicted = _paginate(source, data)
    if predicted is None:
        stats["typeset"] = "one piece (a long text wraps, so page breaks cannot be predicted)"
        return None
    measured, kinds, pages = predicted
    workers = control.workers or _workers()
    per_chunk = _pages_per_chunk(pages.total, workers, control.memory_budget_mb)
    if pages.total < 2 * per_chunk and control.memory_budget_mb is None:
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
    used_workers = min(workers, len(jobs))
    body_bottom = measured.body_top + measured.body
    joined = _PdfJoiner() if format == "pdf" else None

    def check_and_join(i: int, result: tuple[list[bytes], dict[str, Any]]) -> None:
        """Check chunk ``i`` against the prediction, then append it to the PDF."""
        page_list, end = result
        last = i == len(chunk_pages) - 1
        expected = (pages.total if last else chunk_pages[i + 1]) - chunk_pages[i]
        if end["page"] != expected:
            msg = f"chunk {i + 1} took {end['page']} pages, {expected} were predicted"
            raise _Mispredicted(msg)
        if not last and not data.breaks[kinds[pages.starts[chunk_pages[i + 1]]]]:
            next_band = pages.starts[chunk_pages[i + 1]]
            needed = measured.spacing[kinds[next_band - 1]] + _needed_after(next_band, kinds, measured, data.sticky)
            if body_bottom - end["y"] >= needed - EPSILON:
                msg = f"the page before chunk {i + 2} had room left"
                raise _Mispredicted(msg)
        if joined is not None:
            joined.add(page_list[0])
            page_list.clear()  # joined: the chunk's bytes are not needed any more

    try:
        results = _run_chunks(jobs, used_workers, control, check_and_join)
    except BaseException as error:
        if joined is not None:
            joined.close()
        if isinstance(error, _Mispredicted):
            stats["typeset"] = f"one piece ({error})"
            return None
        raise
    stats["typeset"] = f"{len(jobs)} chunks in {used_workers} worker processes"
    stats["pages_predicted"] = pages.total
    stats["worker_peak_mb"] = round(max(end["peak_mb"] for _, end in results), 1)
    if joined is None:
        return [page for page_list, _ in results for page in page_list]
    return [joined.finish()]


class _PdfJoiner:
    """Joins chunk PDFs with qpdf (through pikepdf: fast, and the same bytes for the same
    input), keeping the first chunk's document information (title, creator). Chunks wait on
    disk, and qpdf reads their pages from there while it writes, so memory does not grow with
    the page count."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="polarreports-join-")
        self._paths: list[Path] = []

    def add(self, chunk_pdf: bytes) -> None:
        path = Path(self._folder.name) / f"chunk-{len(self._paths):05d}.pdf"
        path.write_bytes(chunk_pdf)
        self._paths.append(path)

    def close(self) -> None:
        self._folder.cleanup()

    def finish(self) -> bytes:
        try:
            joined = pikepdf.Pdf.new()
            chunks = [pikepdf.Pdf.open(path) for path in self._paths]
            for chunk in chunks:
                joined.pages.extend(chunk.pages)
            for key, value in chunks[0].docinfo.items():
                joined.docinfo[key] = value
            output = Path(self._folder.name) / "joined.pdf"
            joined.save(output, deterministic_id=True)
            for chunk in chunks:
                chunk.close()
            return output.read_bytes()
        finally:
            self._folder.cleanup()


def typeset(
    source: TypstSource,
    data: ReportData,
    *,
    format: OutputFormat,
    ppi: float,
    stats: dict[str, Any],
    control: RenderControl,
) -> list[bytes]:
    """The document as PDF (one item) or PNG/SVG pages; ``stats["typeset"]`` says how."""
    control.check()
    if data.bands.height < MIN_BANDS_FOR_CHUNKS:
        stats["typeset"] = "one piece"
        control.report("typesetting", 0, 1, "pieces")
        pages = compile_document(source, data.json(), format=format, ppi=ppi)
        control.report("typesetting", 1, 1, "pieces")
        return pages
    chunked = _chunked(source, data, format, ppi, stats, control)
    if chunked is not None:
        return chunked
    # A long report in one piece: still in a worker process, so that it can be stopped.
    job = functools.partial(compile_in_worker, source, data.json(), format=format, ppi=ppi)
    return _run_chunks([job], 1, control)[0][0]  # type: ignore[no-any-return]
