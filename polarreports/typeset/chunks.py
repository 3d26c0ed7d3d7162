"""Typeset a long report in page-aligned chunks, in parallel worker processes: its pages, once
predicted, are split into chunks of whole pages, each knowing its first page number and the
total. Every chunk is then checked against the prediction: its page count, and that the next
chunk's first band would not have fitted on its last page (with values per page, the bands on
either side of each page break too). If any check fails (say a long text wrapped), the caller
typesets the report in one piece instead, so the output is always what one piece gives.

    >>> _pages_per_chunk(100, workers=2, budget_mb=None), _pages_per_chunk(10_000, workers=2, budget_mb=None)
    (20, 60)
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import shutil
import tempfile
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from polarreports.control import logger, own_rss_mb, temp_prefix
from polarreports.exceptions import ResourceError
from polarreports.typeset.compile import END, MARKS, Compiled
from polarreports.typeset.page_values import PageValues
from polarreports.typeset.paginate import EPSILON, Pagination
from polarreports.typeset.pdfjoin import PdfJoin
from polarreports.typeset.report_data import ReportData
from polarreports.typeset.run import (
    MB_PER_PAGE,
    WORKER_BASE_MB,
    ChunkJob,
    Typeset,
    TypesetRun,
    run_in_parallel,
    usable_cores,
    worker_memory_mb,
)

if TYPE_CHECKING:  # a type only: measure (imported by predict) reads MIN_BANDS_FOR_CHUNKS here
    from polarreports.typeset.predict import Prediction

__all__ = ["MIN_BANDS_FOR_CHUNKS", "PAGES_PER_CHUNK", "chunked"]

MIN_BANDS_FOR_CHUNKS = 4_000
"""Below this many bands one Typst pass (in one warm worker) is quicker than parallel chunks."""
PAGES_PER_CHUNK = (20, 60)
"""Smallest and largest chunk, in pages, when memory allows. Each chunk costs a compile of its
own (Typst's caches start empty in the child forked for it), so fewer, longer chunks cost less
CPU: 60 pages instead of 30 took about 10 % less for the many-groups ledger, and a forked child
of 60 pages holds about 150 MB (see README, Performance)."""


class _Mispredicted(Exception):
    """A chunk did not come out as its pages were predicted."""


@dataclass(frozen=True)
class _Chunks:
    """A report cut into chunks of whole pages: its predicted ``pages``, the page each chunk
    starts at (``first_pages``, 0-based, not counting a title page), and for a report with
    values per page, those values (each chunk gets its pages')."""

    pages: Pagination
    first_pages: list[int]
    values: PageValues | None = None

    def __len__(self) -> int:
        return len(self.first_pages)

    def first_band(self, i: int) -> int:
        """The first band of chunk ``i``."""
        return self.pages.starts[self.first_pages[i]]

    def span(self, i: int) -> tuple[int, int]:
        """The pages (0-based, end excluded) of chunk ``i``; the first chunk has the title page."""
        pages = self.pages
        start = 0 if i == 0 else self.first_pages[i] + pages.first_page
        end = pages.total if i == len(self) - 1 else self.first_pages[i + 1] + pages.first_page
        return start, end

    def data_file(self, data: ReportData, i: int) -> bytes:
        """The data file of chunk ``i``: its bands, first page number, the total, and the values
        of its pages."""
        last = i == len(self) - 1
        first_band = self.first_band(i)
        end_band = data.bands.height if last else self.first_band(i + 1)
        page_start, page_end = self.span(i)
        extra: dict[str, Any] = {"open": data.open_groups(first_band)} if data.reprint else {}
        if self.values is not None:
            extra.update(pages=self.values.strings[page_start:page_end], marks=self.values.marks)
        return data.json(
            first_band,
            end_band - first_band,
            first_page=page_start + 1,
            total_pages=self.pages.total,
            first=i == 0,
            last=last,
            **extra,
        )

    def jobs(self, run: TypesetRun, workers: int) -> list[ChunkJob]:
        """One job per chunk, for ``workers`` processes; each chunk's data file is made when its
        turn comes (so that the files of chunks still waiting take no memory)."""
        return [
            functools.partial(
                run.compiler.compile,
                run.job(functools.partial(self.data_file, run.data, i), selectors=(END, MARKS), one_off=True),
                memory_mb=worker_memory_mb(run.control, workers),
            )
            for i in range(len(self))
        ]


def _one_piece_instead(stats: MutableMapping[str, Any], error: _Mispredicted) -> None:
    """Say why the chunks gave way to one piece: in ``stats`` and, as time was lost, in a warning."""
    stats["typeset"] = f"one piece ({error})"
    logger.warning("typesetting in one piece, not in chunks: %s (the page breaks were mispredicted)", error)


def chunked(run: TypesetRun, predicted: Prediction | None, values: PageValues | None = None) -> Typeset | None:
    """The report typeset in chunks, or None where one piece is better or the prediction was
    wrong (``stats["typeset"]`` says why). With ``values``, each chunk gets the values of its
    pages, and the bands on either side of each page break are checked."""
    data, stats, control = run.data, run.stats, run.control
    if predicted is None:
        stats["typeset"] = (
            "one piece (band heights vary: a long text wraps, a style changes a height, "
            "or many bands break across pages or hold crosstabs)"
        )
        return None
    measured, kinds, pages = predicted
    workers = control.workers or usable_cores()
    per_chunk = _pages_per_chunk(pages.total, workers, control.memory_budget_mb)
    if pages.total < 2 * per_chunk and control.memory_budget_mb is None:
        stats["typeset"] = "one piece"
        return None
    sticky_before = [False] + [data.sticky[k] for k in kinds[:-1]]
    chunks = _Chunks(pages, pages.chunk_starts(per_chunk, sticky_before), values)
    used_workers = min(workers, len(chunks))
    jobs = chunks.jobs(run, used_workers)
    chunk_levels = _chunk_outline_levels(data, kinds, [chunks.first_band(i) for i in range(len(chunks))])
    body_bottom = measured.body_top + measured.body
    folder = Path(tempfile.mkdtemp(prefix=temp_prefix("pdf-"))) if run.format == "pdf" else None
    joined = PdfJoin(folder / "report.pdf") if folder is not None else None

    def check_and_join(i: int, result: Compiled) -> None:
        """Check chunk ``i`` against the prediction, then append it to the PDF."""
        page_list, ((end,), marks) = result.pages, result.values
        last = i == len(chunks) - 1
        page_start, page_end = chunks.span(i)
        expected = page_end - page_start
        if end["page"] != expected:
            msg = f"chunk {i + 1} took {end['page']} pages, {expected} were predicted"
            raise _Mispredicted(msg)
        if values is not None and not values.agree(marks):
            msg = f"a page break in chunk {i + 1} moved"
            raise _Mispredicted(msg)
        if not last and not data.breaks[kinds[chunks.first_band(i + 1)]]:
            next_band = chunks.first_band(i + 1)
            needed = measured.spacing[kinds[next_band - 1]] + measured.needed_after(next_band, kinds, data.sticky)
            if body_bottom - end["y"] >= needed - EPSILON:
                msg = f"the page before chunk {i + 2} had room left"
                raise _Mispredicted(msg)
        if joined is not None:
            joined.add(page_list[0], chunk_levels[i])
            page_list.clear()  # joined: the chunk's bytes are not needed any more

    try:
        with joined or contextlib.nullcontext():
            results = run_in_parallel(jobs, used_workers, control, check_and_join)
    except BaseException as error:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(error, _Mispredicted):
            _one_piece_instead(stats, error)
            return None
        raise
    stats.update(
        typeset=f"{len(jobs)} chunks in {used_workers} worker process{'' if used_workers == 1 else 'es'}",
        pages_predicted=pages.total,  # as checked, chunk by chunk
        pages=pages.total,
        worker_peak_mb=round(max(result.peak_mb for result in results), 1),
    )
    if folder is None:
        return [page for result in results for page in result.pages]
    return folder / "report.pdf"


def _chunk_outline_levels(data: ReportData, kinds: list[int], first_bands: list[int]) -> list[list[int]]:
    """Per chunk (starting at the given bands), the level of each bookmark it holds, in order."""
    levels = data.outline_levels or [0] * len(data.sticky)
    band_levels = [levels[k] for k in kinds]
    bounds = [*first_bands, len(kinds)]
    return [[level for level in band_levels[a:b] if level] for a, b in itertools.pairwise(bounds)]


def _pages_per_chunk(total_pages: int, workers: int, budget_mb: float | None) -> int:
    """Chunk size: enough chunks to keep every worker busy, small enough for the budget."""
    smallest, largest = PAGES_PER_CHUNK
    pages = max(smallest, min(largest, total_pages // (3 * workers) + 1))
    if budget_mb is not None:
        per_worker = (budget_mb - own_rss_mb()) / workers
        fitting = int((per_worker - WORKER_BASE_MB) / MB_PER_PAGE)
        if fitting < 1:
            msg = (
                f"the render cannot fit in a memory budget of {budget_mb:.0f} MB: this process holds "
                f"{own_rss_mb():.0f} MB and each of {workers} Typst workers needs at least "
                f"{WORKER_BASE_MB + MB_PER_PAGE:.0f} MB.\nHint: raise the budget, or render fewer rows at a time."
            )
            raise ResourceError(msg)
        pages = min(pages, fitting)
    return pages
