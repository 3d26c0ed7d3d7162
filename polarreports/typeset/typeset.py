"""Typeset a report: in one piece, or for long reports in page-aligned chunks on every core.

A long report is measured (one small Typst pass gives each band kind's height), paginated
ahead of Typst (``layout.paginate``), split into chunks of whole pages, and the chunks are
typeset in parallel worker processes, each knowing its first page number and the total. Every
chunk is then checked against the prediction: its page count, and that the next chunk's first
band would not have fitted on its last page. If any check fails (say a long text wrapped),
the report is typeset in one piece instead, so the output is always what one piece gives.

Every Typst pass (measuring, one piece, chunks, page values, panels, preview) goes through a
``Compiler`` (``typeset/compile.py``): by default warm worker processes, stopped by the
render's cancel and time limit, their memory capped by its budget.

Memory: a worker holds about ``WORKER_BASE_MB + MB_PER_PAGE * pages``; with a memory budget,
chunks are made small enough that the workers and this process fit in it together.

    >>> import polarreports as pr
    >>> doc = pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(100))
    >>> doc.page_count, doc.stats["typeset"]
    (4, 'one piece')
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import io
import itertools
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from polarreports.compute.pages import PageRows, band_pages
from polarreports.control import RenderControl, logger, own_rss_mb, temp_prefix
from polarreports.emit.typst_source import TypstSource
from polarreports.exceptions import ResourceError
from polarreports.stream.bandstream import BandStream
from polarreports.typeset.compile import (
    END,
    MARKS,
    MEASURE,
    Compiled,
    CompileJob,
    Compiler,
    OutputFormat,
    default_compiler,
)
from polarreports.typeset.paginate import EPSILON, Pagination, paginate
from polarreports.typeset.pdfjoin import PdfJoin

if TYPE_CHECKING:
    import pikepdf

__all__ = ["ReportData", "Typeset", "in_memory", "pdf_of_pages", "preview", "typeset"]

MIN_BANDS_FOR_CHUNKS = 4_000
"""Below this many bands one Typst pass (in one warm worker) is quicker than parallel chunks."""
PAGES_PER_CHUNK = (20, 60)
"""Smallest and largest chunk, in pages, when memory allows. Each chunk costs a compile of its
own (Typst's caches start empty in the child forked for it), so fewer, longer chunks cost less
CPU: 60 pages instead of 30 took about 10 % less for the many-groups ledger, and a forked child
of 60 pages holds about 150 MB (see README, Performance)."""
WORKER_BASE_MB = 45.0
MB_PER_PAGE = 2.7
"""A worker's resident memory, measured: about 45 MB plus 2.7 MB a page of dense detail rows."""

ChunkJob = Callable[..., Compiled]
Typeset = list[bytes] | Path
"""PDF (one item) or PNG/SVG pages in memory; or, for a PDF typeset in chunks, the file they were
joined into, in a temporary folder of its own that the caller then owns (and removes)."""


@dataclass(frozen=True)
class ReportData:
    """What the Typst source reads: the report-scope strings and the band stream."""

    static: dict[str, list[str]]
    bands: BandStream
    """Every band instance in reading order: its kind and its JSON text."""
    samples: list[dict[str, Any]]
    sticky: list[bool]
    """Per band kind (index ``k``): whether it is a group header (kept with what follows)."""
    breaks: list[bool]
    """Per band kind: whether a new page starts before it."""
    pages: PageRows | None = None
    """What the values per page are computed from, if the report shows any."""
    breaks_after: list[bool] = field(default_factory=list)
    """Per band kind: whether a new page starts after it."""
    title_page: bool = False
    """Whether the title has a page of its own."""
    summary_page: bool = False
    """Whether the summary starts a page of its own."""
    header_levels: list[int] = field(default_factory=list)
    """Per band kind: the group level of a group header, else 0."""
    keep: dict[int, tuple[bool, float]] = field(default_factory=dict)
    """Per group level that asks for room: (keep together, minimum space in points)."""
    room_breaks: tuple[int, ...] = ()
    """Bands that start a new page because the room their group needs is not left there
    (keep-together, minimum space): decided ahead of Typst, from the measured heights."""
    settings: dict[str, Any] = field(default_factory=dict)
    """Settings for every data file (a wide listing's panel)."""
    reprint: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Per group level whose header is printed again on continuation pages: the band kinds
    of its header and footer."""
    probed: list[bool] = field(default_factory=list)
    """Per band kind: whether each of its instances is laid out by Typst ahead of the chunks to
    find where it ends (a crosstab, whose height varies and which may break across pages)."""
    measured_each: list[bool] = field(default_factory=list)
    """Per band kind: whether, when its samples differ in height, each of its instances may be
    measured on its own (a band holding a subreport: a box, which never breaks across pages;
    a crosstab's band, measured each always: see ``kept_whole``)."""
    kept_whole: list[bool] = field(default_factory=list)
    """Per band kind of ``probed`` crosstabs: whether the band keeps together (``keep_together``):
    an instance no taller than a page then goes whole on the next page, never split, so it
    needs no probe. (Any other instance that fits where it begins needs none either.)"""
    outline_levels: list[int] = field(default_factory=list)
    """Per band kind: the level of the PDF bookmark each of its instances adds (0: none)."""
    one_piece: str | None = None
    """Why the report must be typeset in one piece (e.g. a table of contents), or None."""
    unpredictable: str | None = None
    """Why no page break can be predicted ahead of Typst (a page whose height is ``auto``, which
    grows with its content), or None: such a report is typeset in one piece, never measured."""

    def open_groups(self, band: int) -> dict[str, list[str]]:
        """The cells of each reprinted group header still open where band ``band`` starts."""
        open_headers = {}
        kinds = self.bands.kinds.slice(0, band)
        for level, (header, footer) in self.reprint.items():
            headers, footers = (kinds == header).arg_true(), (kinds == footer).arg_true()
            last_header = int(headers[-1]) if headers.len() else -1
            if last_header >= 0 and (not footers.len() or int(footers[-1]) < last_header):
                open_headers[str(level)] = json.loads(self.bands.text(last_header))["c"]
        return open_headers

    def json(
        self, start: int = 0, count: int | None = None, *, marks: Sequence[int] | bool = (), **extra: Any
    ) -> bytes:
        """The data file for bands ``start`` .. ``start + count``, with ``extra`` settings.

        Bands whose index is in ``marks`` (or every band, with ``marks=True``) report the page
        they land on (``<polarreports-mark>``)."""
        texts = self.bands.texts(start, count)
        index = pl.col("__i")
        extras: list[pl.Expr] = []  # named arguments of the band's function, for some bands
        if marks is True or (marks is not False and len(marks)):
            marked = pl.lit(True) if marks is True else index.is_in(list(marks))
            extras.append(pl.when(marked).then(pl.concat_str(pl.lit('"m":'), index.cast(pl.String))))
        frame = texts.to_frame("json").with_row_index("__i", offset=start)
        if self.room_breaks:
            breaking = index.is_in(list(self.room_breaks))
            extras.append(pl.when(breaking).then(pl.lit('"b":true')))
        if extras:
            named = pl.concat_str(extras, separator=",", ignore_nulls=True)
            tagged = pl.concat_str(pl.lit('{"x":{'), named, pl.lit("},"), pl.col("json").str.slice(1))
            texts = frame.select(
                pl.when(named.fill_null("") != "").then(tagged).otherwise(pl.col("json")).alias("json")
            )["json"]
        rows = texts.str.join(",").item() if self.bands.height else ""
        head = json.dumps({"static": self.static, **self.settings, **extra}, ensure_ascii=False)
        return (head[:-1] + ',"rows":[' + (rows or "") + "]}").encode()


@dataclass(frozen=True)
class _Measured:
    heights: list[float]
    spacing: list[float]
    body: float
    body_top: float
    top: float
    summary: float
    exact: bool = True
    """False if some band's longest text wraps: then its height varies, and so do the breaks."""
    own: dict[int, float] = field(default_factory=dict)
    """The heights of band instances measured one by one (by their index in the stream), where
    their kind's height varies (``ReportData.measured_each``)."""

    def height(self, band: int, kind: int) -> float:
        """The height of band instance ``band`` of kind ``kind``."""
        return self.own.get(band, self.heights[kind])


@dataclass(frozen=True)
class TypesetRun:
    """One typesetting of a report: what its Typst passes share. The source and its data, the
    output asked for (``format``, ``ppi``), the compiler every pass goes through and the
    render's control (cancel, time limit, memory budget); ``stats`` says how it was typeset.

        >>> import polarreports as pr
        >>> doc = pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(20))
        >>> run = TypesetRun(doc._source, doc._data, "png", 96.0)
        >>> job = run.job(b"{}", format="pdf", selectors=(END,))
        >>> job.format, job.ppi, job.selectors
        ('pdf', 96.0, ('<polarreports-end>',))
    """

    source: TypstSource
    data: ReportData
    format: OutputFormat = "pdf"
    ppi: float = 144.0
    control: RenderControl = field(default_factory=RenderControl)
    compiler: Compiler = field(default_factory=default_compiler)
    stats: MutableMapping[str, Any] = field(default_factory=dict)

    def job(
        self,
        data_json: bytes | Callable[[], bytes],
        *,
        format: OutputFormat | None = None,
        selectors: tuple[str, ...] = (),
        one_off: bool = False,
    ) -> CompileJob:
        """A pass over ``data_json`` (to ``format``, else the run's own); ``one_off``: in a child
        forked by a warm worker (``CompileJob.one_off``)."""
        return CompileJob(self.source, data_json, format or self.format, self.ppi, selectors=selectors, one_off=one_off)

    def compile(self, job: CompileJob) -> Compiled:
        """One pass, stopped by the render's cancel or time limit, within its memory budget."""
        return self.compiler.compile(job, stop=self.control.stop_reason, memory_mb=_worker_memory_mb(self.control))


def _workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def _worker_memory_mb(control: RenderControl, workers: int = 1) -> float | None:
    """The memory each of ``workers`` Typst workers may use: their share of the memory budget
    left by this process (None without a budget: the compiler's default limit)."""
    budget = control.memory_budget_mb
    if budget is None:
        return None
    own = own_rss_mb()
    share = (budget - own) / workers
    if share < WORKER_BASE_MB:
        msg = (
            f"the render cannot fit in a memory budget of {budget:.0f} MB: this process holds "
            f"{own:.0f} MB and each of {workers} Typst workers needs at least {WORKER_BASE_MB:.0f} MB."
            "\nHint: raise the budget, or render fewer rows at a time."
        )
        raise ResourceError(msg)
    return share


def _measure(run: TypesetRun) -> _Measured:
    """Heights (pt) of each band kind; not ``exact`` if some band's height varies (its longest
    texts wrap onto more lines than its shortest, or a conditional style changes it)."""
    data = run.data
    probe = data.json(0, 0, measure=True)
    probe = probe[:-2] + json.dumps(data.samples, ensure_ascii=False).encode()[1:-1] + b"]}"
    ((found,),) = run.compile(CompileJob(run.source, probe, selectors=(MEASURE,))).values
    heights = [0.0] * len(data.sticky)
    spacing = [0.0] * len(data.sticky)
    varying: set[int] = set()
    for i in range(0, len(data.samples), 2):
        kind = data.samples[i]["k"]
        first, longest = found["samples"][i], found["samples"][i + 1]
        probed = kind < len(data.probed) and data.probed[kind]  # its instances are probed, each
        if not probed and abs(longest - first) > EPSILON:
            varying.add(kind)
        heights[kind] = first
        spacing[kind] = found["pairs"][i] - 2 * first
    measured = _Measured(heights, spacing, found["body"], found["body-top"], found["top"], found["summary"])
    each = data.measured_each
    crosstabs = {k for k, probed in enumerate(data.probed) if probed and k < len(each) and each[k]}
    if data.bands.height < MIN_BANDS_FOR_CHUNKS and data.pages is None:
        crosstabs = set()  # typeset in one piece: its crosstabs' heights predict nothing
    if not varying and not crosstabs:
        return measured
    own = _measure_each(run, varying | crosstabs)
    if own is None and varying:
        return replace(measured, exact=False)
    return replace(measured, own=own or {})


_BATCH = 50_000
MEASURED_EACH_SHARE = 0.1
"""At most this share of a report's bands is measured one by one: measuring an instance costs
about as much as typesetting it, so past it the report is typeset in one piece (measured: with
every instance of a 6,000-row report measured, its chunks took twice one piece's time)."""
MEASURED_EACH_PER_JOB = 2_000
"""Band instances measured one by one are measured in parallel passes of at least this many."""


def _measure_each(run: TypesetRun, kinds: set[int]) -> dict[int, float] | None:
    """The height of each instance of the band ``kinds`` whose height varies, measured one by
    one (in parallel passes, one per worker, for many), by its index in the stream; None where
    some kind cannot be measured so (its instances may break across pages), or where they are
    more than ``MEASURED_EACH_SHARE`` of the bands."""
    data = run.data
    each = data.measured_each
    if not all(kind < len(each) and each[kind] for kind in kinds):
        return None
    bands = data.bands.kinds.is_in(sorted(kinds)).arg_true()
    if not bands.len() or bands.len() > MEASURED_EACH_SHARE * data.bands.height:
        return None
    texts: list[str] = []
    for start in range(0, data.bands.height, _BATCH):  # a batch of the stream at a time (it may be spilled)
        within = bands.filter(bands.is_between(start, start + _BATCH, closed="left")) - start
        if within.len():
            texts += data.bands.texts(start, _BATCH).gather(within).to_list()
    head = data.json(0, 0, measure=True, singles=True)[:-2]
    workers = max(1, min(run.control.workers or _workers(), len(texts) // MEASURED_EACH_PER_JOB))
    size = -(-len(texts) // workers)
    probes = [head + ",".join(texts[at : at + size]).encode() + b"]}" for at in range(0, len(texts), size)]
    if len(probes) == 1:
        ((found,),) = run.compile(CompileJob(run.source, probes[0], selectors=(MEASURE,))).values
        heights = found["samples"]
    else:
        memory = _worker_memory_mb(run.control, len(probes))
        jobs = [
            functools.partial(
                run.compiler.compile,
                CompileJob(run.source, probe, selectors=(MEASURE,), one_off=True),
                memory_mb=memory,
            )
            for probe in probes
        ]
        heights = [
            height for result in _run_chunks(jobs, len(jobs), run.control) for height in result.values[0][0]["samples"]
        ]
    return dict(zip(bands.to_list(), heights, strict=True))


class _Mispredicted(Exception):
    """A chunk did not come out as its pages were predicted."""


@dataclass(frozen=True)
class _PageValues:
    """The values per page for a given set of page breaks, and the bands to check them by."""

    band_page: pl.Series
    """Page (0-based) of every band instance."""
    strings: list[list[str]]
    """Per page, the display strings of its values."""
    marks: list[int]
    """The bands on either side of every page break: where they land is checked."""

    @classmethod
    def predicted(cls, rows: PageRows, pagination: Pagination, count: int) -> _PageValues:
        band_page = band_pages(pagination.starts, count, first_page=pagination.first_page)
        marks = sorted({band for start in pagination.starts[1:] for band in (start - 1, start)})
        return cls(band_page, rows.values(band_page, total=pagination.total), marks)

    @classmethod
    def found(cls, rows: PageRows, marks: list[list[int]], total: int) -> _PageValues:
        """From a typesetting pass that marked every band: ``[band, page]`` pairs."""
        pairs = pl.DataFrame(marks, schema=["band", "page"], orient="row").sort("band")
        band_page = (pairs["page"] - 1).cast(pl.UInt32)
        return cls(band_page, rows.values(band_page, total=total), [])

    def agree(self, found: list[list[int]]) -> bool:
        """Whether every checked band landed on the page predicted for it (``found`` pages
        count from 1)."""
        return all(int(self.band_page[band]) + 1 == page for band, page in found)


def _run_chunks(
    jobs: Sequence[ChunkJob],
    workers: int,
    control: RenderControl,
    on_result: Callable[[int, Compiled], None] | None = None,
) -> list[Compiled]:
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
        needed += measured.height(band, kinds[band])
        if not sticky[kinds[band]]:
            break
        needed += measured.spacing[kinds[band]]
    return needed


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


def _paginate(run: TypesetRun, measured: _Measured | None = None) -> tuple[_Measured, list[int], Pagination] | None:
    """Measure the band kinds and predict every page break, or None if some band may wrap (or
    too many bands break across pages to probe them all)."""
    measured = measured or _measure(run)
    if not measured.exact:
        return None
    kinds: list[int] = run.data.bands.kinds.to_list()
    probed, whole = run.data.probed, run.data.kept_whole
    tall = [
        i
        for i, kind in enumerate(kinds)
        if measured.height(i, kind) > measured.body + EPSILON
        or (kind < len(probed) and probed[kind] and not (kind < len(whole) and whole[kind] and i in measured.own))
    ]
    try:
        pagination = _pagination_around_tall(run, measured, kinds, tall) if tall else None
    except _TooManyToProbe:
        return None
    if pagination is None and any(probed[kinds[band]] for band in tall):
        return None  # a crosstab's height varies: without probes, nothing can be predicted
    return measured, kinds, pagination or _pagination(run, measured, kinds)


PROBE_PAGES = 60
"""At most this many pages are typeset ahead to find where bands taller than a page end: past
it (tall bands on most pages), the report is typeset in one piece."""


class _TooManyToProbe(Exception):
    """Finding where the tall bands end would take more than ``PROBE_PAGES`` pages."""


def _runs_into(first: int, kinds: list[int], sticky: list[bool], tall: set[int]) -> bool:
    """Whether band ``first`` is in ``tall``, or begins a run of group headers kept with one:
    where such bands begin (and so where the page before them ends) only Typst can tell.

    >>> _runs_into(0, [1, 1, 0], [False, True], {2}), _runs_into(0, [1, 0, 0], [False, True], {2})
    (True, False)
    """
    for band in range(first, len(kinds)):
        if band in tall:
            return True
        if not sticky[kinds[band]]:
            return False
    return False


def _anchor(band: int, start: int, kinds: list[int], sticky: list[bool]) -> int:
    """The first of the group headers right before ``band`` (from ``start`` on), which stay with
    it on its page; ``band`` itself without them.

    >>> _anchor(3, 0, [0, 1, 1, 0], [False, True])
    1
    """
    anchor = band
    while anchor > start and sticky[kinds[anchor - 1]]:
        anchor -= 1
    return anchor


def _fits_where_it_begins(band: int, measured: _Measured, pages: list[int]) -> bool:
    """Whether a band that may break across pages (a crosstab) but was measured no taller than
    a page is predicted on the page of the band before it (``pages``: the predicted first band
    of each page): it fits there, so Typst lays it out whole there too, and it needs no probe."""
    own = measured.own.get(band)
    return own is not None and own <= measured.body + EPSILON and band not in pages


def _pagination_around_tall(
    run: TypesetRun, measured: _Measured, kinds: list[int], tall: list[int]
) -> Pagination | None:
    """The page breaks of a report with bands taller than a page (``split: allow``): Typst
    breaks such a band wherever its lines fill the page, which no arithmetic on band heights
    predicts. The bands before a tall one are paginated as usual; then a small Typst pass (a
    probe) lays out the page where the tall band begins through the tall band's end, and says
    how many pages that took and where it ended; the bands after it go on from there. (A tall
    band that begins on the page where the last probe ended extends that probe.)
    None where this is not supported (columns, a title page, room asked for, values per page):
    the plain prediction then stands, and is checked as ever.

    The pages of a probe after its first are ``continued``: no chunk starts there (see
    ``Pagination.chunk_starts``)."""
    data = run.data
    if run.source.columns != 1 or data.title_page or data.keep or data.room_breaks or data.pages is not None:
        return None
    count = len(kinds)
    probing = set(tall)
    starts: list[int] = []
    continued: set[int] = set()
    start, used, resumed = 0, measured.top, False
    probe_from = (0, 0)  # the last probe's first band and first page
    probed = 0  # pages typeset in probes so far

    def runs_into_tall(first: int) -> bool:
        return _runs_into(first, kinds, data.sticky, probing)

    def breaks_before(band: int) -> bool:
        return data.breaks[kinds[band]] or bool(data.breaks_after and data.breaks_after[kinds[band - 1]])

    def segment(end: int, *, summary: float = 0.0, summary_page: bool = False) -> Pagination:
        return paginate(
            kinds[start:end],
            heights=measured.heights,
            own_heights={band - start: h for band, h in measured.own.items() if start <= band < end},
            spacing=measured.spacing,
            sticky=data.sticky,
            body=measured.body,
            first_page_used=used,
            summary=summary,
            breaks_before=data.breaks,
            breaks_after=data.breaks_after,
            summary_page=summary_page,
        )

    for band in tall:
        pages = [start + first for first in segment(band + 1).starts]
        if _fits_where_it_begins(band, measured, pages):
            continue
        anchor = _anchor(band, start, kinds, data.sticky)
        page = bisect.bisect_right(pages, max(start, anchor - 1)) - 1
        if resumed and page == 0:  # on the last probe's last page: probe again, from its start
            first_band, first_page = probe_from
            del starts[first_page:]
            continued = {p for p in continued if p < first_page}
        else:
            first_band, first_page = pages[page], len(starts) + page - int(resumed)
            starts += pages[int(resumed) : page]
        probe_from = (first_band, first_page)
        extra: dict[str, Any] = {"open": data.open_groups(first_band)} if data.reprint else {}
        probe = data.json(
            first_band,
            band + 1 - first_band,
            first_page=first_page + 1,
            total_pages=count,
            first=first_band == 0,
            last=False,
            **extra,
        )
        ((end,),) = run.compile(run.job(probe, format="pdf", selectors=(END,))).values
        probed += end["page"]
        if probed > PROBE_PAGES:
            raise _TooManyToProbe
        # which band begins the probe's later pages is not known (only a report with values
        # per page marks where its bands land): no chunk starts on them
        continued.update(range(len(starts) + 1, len(starts) + end["page"]))
        starts += [first_band] + [band] * (end["page"] - 1)
        start, resumed = band + 1, True
        used = end["y"] - measured.body_top + measured.spacing[kinds[band]]
        if start < count:
            broken = breaks_before(start)
            room = measured.body - used
            fits = runs_into_tall(start) or room >= _needed_after(start, kinds, measured, data.sticky) - EPSILON
            if broken or not fits:
                used, resumed = 0.0, False  # the next band starts a page
    if start < count:
        rest = segment(count, summary=measured.summary, summary_page=data.summary_page)
        starts += [start + first for first in rest.starts[int(resumed) :]]
    # no chunk starts on a page predicted to begin with a tall band that may have begun before
    continued.update(q for q in range(1, len(starts)) if runs_into_tall(starts[q]) and not breaks_before(starts[q]))
    if start == count:
        ends_page = data.summary_page or bool(data.breaks_after and data.breaks_after[kinds[-1]])
        own_page = bool(measured.summary) and (ends_page or used + measured.summary > measured.body + EPSILON)
        return Pagination(starts, len(starts) + int(own_page), own_page, continued=frozenset(continued))
    total = len(starts) + int(rest.summary_page)
    return Pagination(starts, total, rest.summary_page, continued=frozenset(continued))


def _pagination(
    run: TypesetRun, measured: _Measured, kinds: list[int], needs: dict[int, float] | None = None
) -> Pagination:
    """The page breaks of the band stream, from the measured heights and the report's options."""
    data = run.data
    return paginate(
        kinds,
        heights=measured.heights,
        own_heights=measured.own,
        spacing=measured.spacing,
        sticky=data.sticky,
        body=measured.body,
        first_page_used=measured.top,
        summary=measured.summary,
        breaks_before=data.breaks,
        breaks_after=data.breaks_after,
        needs=needs,
        breaks_at=data.room_breaks,
        title_page=data.title_page,
        summary_page=data.summary_page,
        columns=run.source.columns,
    )


def _with_needs(run: TypesetRun) -> tuple[TypesetRun, _Measured | None]:
    """``run`` with the page breaks that keep-together and minimum space ask for: the room
    each group header needs follows from the measured band heights, and the paginator finds
    where it is not left. (Typst could check the room itself, but each check moves what
    follows, and many of them do not settle within Typst's few layout passes.)"""
    data = run.data
    if not data.keep or not data.bands.height or data.unpredictable:
        return run, None
    measured = _measure(run)
    kinds = data.bands.kinds
    height = kinds.replace_strict(dict(enumerate(measured.heights)), return_dtype=pl.Float64)
    if measured.own:  # instances measured one by one
        height = height.scatter(list(measured.own), list(measured.own.values()))
    space = kinds.replace_strict(dict(enumerate(measured.spacing)), return_dtype=pl.Float64)
    ends = (height + space).cum_sum()
    count = kinds.len()
    frames = []
    for level, (keep_together, min_space) in data.keep.items():
        headers = kinds.is_in([k for k, lv in enumerate(data.header_levels) if lv == level]).arg_true()
        bounds = kinds.is_in([k for k, lv in enumerate(data.header_levels) if 0 < lv <= level]).arg_true()
        bounds = pl.concat([bounds, pl.Series([count], dtype=bounds.dtype)])
        last = bounds.gather(bounds.search_sorted(headers, side="right")) - 1  # the group's last band
        before = pl.Series([0.0]).append(ends).gather(headers)
        group_height = ends.gather(last) - space.gather(last) - before
        fits = pl.lit(keep_together) & (pl.col("h") <= measured.body)
        frames.append(
            pl.DataFrame({"__i": headers.cast(pl.UInt32), "h": group_height}).select(
                "__i", pl.max_horizontal(pl.when(fits).then("h").otherwise(0.0), pl.lit(min_space)).alias("n")
            )
        )
    needs = pl.concat(frames).group_by("__i").agg(pl.col("n").max()).filter(pl.col("n") > 0)
    pages = _pagination(run, measured, kinds.to_list(), dict(needs.iter_rows()))
    return replace(run, data=replace(data, room_breaks=pages.room_breaks)), measured


def preview(
    source: TypstSource,
    data: ReportData,
    *,
    pages: int,
    format: OutputFormat,
    ppi: float,
    control: RenderControl | None = None,
    compiler: Compiler | None = None,
) -> tuple[list[bytes], int | None]:
    """The first ``pages`` pages and the document's page count (None if not known without
    typesetting everything), typesetting little more than those pages."""
    run = TypesetRun(source, data, format, ppi, control or RenderControl(), compiler or default_compiler())
    run, measured = _with_needs(run)
    data = run.data

    def first(data_json: bytes) -> list[bytes]:
        return run.compile(run.job(data_json)).pages

    if data.bands.height < MIN_BANDS_FOR_CHUNKS or data.one_piece or data.unpredictable:
        images = in_memory(_with_page_values(run, measured)) if data.pages is not None else first(data.json())
        return images[:pages], len(images) if format != "pdf" else None
    predicted = _paginate(run, measured)
    if predicted is None:
        # Without a prediction, lay out only the first bands; the total is not known.
        return first(data.json(0, 300 * pages, last=False))[:pages], None
    _, kinds, pagination = predicted
    shown = max(0, min(pages - pagination.first_page, len(pagination.starts)))
    while shown in pagination.continued:  # a tall band runs onto that page: show it whole
        shown += 1
    end = pagination.starts[shown] if shown < len(pagination.starts) else len(kinds)
    last = end == len(kinds)
    extra: dict[str, Any] = {}
    if data.pages is not None:
        extra["pages"] = _PageValues.predicted(data.pages, pagination, len(kinds)).strings
    data_json = data.json(0, end, total_pages=pagination.total, last=last, **extra)
    return first(data_json)[:pages], pagination.total


@dataclass(frozen=True)
class _Chunks:
    """A report cut into chunks of whole pages: its predicted ``pages``, the page each chunk
    starts at (``first_pages``, 0-based, not counting a title page), and for a report with
    values per page, those values (each chunk gets its pages')."""

    pages: Pagination
    first_pages: list[int]
    values: _PageValues | None = None

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
                memory_mb=_worker_memory_mb(run.control, workers),
            )
            for i in range(len(self))
        ]


def _one_piece_instead(stats: MutableMapping[str, Any], error: _Mispredicted) -> None:
    """Say why the chunks gave way to one piece: in ``stats`` and, as time was lost, in a warning."""
    stats["typeset"] = f"one piece ({error})"
    logger.warning("typesetting in one piece, not in chunks: %s (the page breaks were mispredicted)", error)


def _chunked(
    run: TypesetRun, predicted: tuple[_Measured, list[int], Pagination] | None, values: _PageValues | None = None
) -> Typeset | None:
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
    workers = control.workers or _workers()
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
            needed = measured.spacing[kinds[next_band - 1]] + _needed_after(next_band, kinds, measured, data.sticky)
            if body_bottom - end["y"] >= needed - EPSILON:
                msg = f"the page before chunk {i + 2} had room left"
                raise _Mispredicted(msg)
        if joined is not None:
            joined.add(page_list[0], chunk_levels[i])
            page_list.clear()  # joined: the chunk's bytes are not needed any more

    try:
        with joined or contextlib.nullcontext():
            results = _run_chunks(jobs, used_workers, control, check_and_join)
    except BaseException as error:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(error, _Mispredicted):
            _one_piece_instead(stats, error)
            return None
        raise
    stats.update(
        typeset=f"{len(jobs)} chunks in {used_workers} worker processes",
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


def pdf_of_pages(pages: Iterable[pikepdf.Page], info_from: pikepdf.Pdf) -> pikepdf.Pdf:
    """A new PDF of ``pages`` (of other open PDFs), with the document information (title,
    creator) of ``info_from``, and its PDF/A metadata and output intent where it has them."""
    import pikepdf  # imported when needed (a batch split by key): it takes 15 MB

    joined = pikepdf.Pdf.new()
    joined.pages.extend(pages)
    for key, value in info_from.docinfo.items():
        joined.docinfo[key] = value
    for key in ("/Metadata", "/OutputIntents"):
        if key in info_from.Root:
            value = info_from.Root[key]
            joined.Root[key] = joined.copy_foreign(value if value.is_indirect else info_from.make_indirect(value))
    if "/Lang" in info_from.Root:
        joined.Root.Lang = pikepdf.String(str(info_from.Root.Lang))
    return joined


def _one_piece(
    run: TypesetRun, data_json: bytes, format: OutputFormat | None = None
) -> tuple[list[bytes], list[list[int]], int]:
    """Typeset in one piece (to ``format``, else the run's): the pages, the marked bands'
    ``[band, page]`` and the last page."""
    run.control.report("typesetting", 0, 1, "pieces")
    done = run.compile(run.job(data_json, format=format, selectors=(MARKS, END)))
    run.control.report("typesetting", 1, 1, "pieces")
    marks, ends = done.values
    return done.pages, marks, ends[0]["page"] if ends else 1


def _with_page_values(run: TypesetRun, measured: _Measured | None = None) -> Typeset:
    """A report with values per page (page totals, carried forward, ...): they follow from the
    predicted page breaks, and the bands on either side of every break are checked. Where the
    prediction fails, a first pass finds every band's page and a second one prints the values."""
    data, stats = run.data, run.stats
    assert data.pages is not None
    count = data.bands.height
    predicted = _paginate(run, measured) if count and not data.unpredictable else None
    if predicted is not None:
        pagination = predicted[2]
        values = _PageValues.predicted(data.pages, pagination, count)
        if count >= MIN_BANDS_FOR_CHUNKS and not data.one_piece:
            chunked = _chunked(run, predicted, values)
            if chunked is not None:
                return chunked
        data_json = data.json(marks=values.marks, pages=values.strings)
        pages, marks, last_page = _one_piece(run, data_json)
        if values.agree(marks) and last_page == pagination.total:
            stats["typeset"] = "one piece"
            return pages
        logger.warning(
            "typesetting again, in two passes: the page breaks were mispredicted (%s pages, %s predicted)",
            last_page,
            pagination.total,
        )
    # The page of every band from a first pass, then the values they give.
    _, marks, last_page = _one_piece(run, data.json(marks=True), format="pdf")
    if marks:
        strings = _PageValues.found(data.pages, marks, last_page).strings
    else:  # no bands: the values of empty pages
        strings = data.pages.values(pl.Series([], dtype=pl.UInt32), total=last_page)
    pages, _, _ = _one_piece(run, data.json(pages=strings))
    stats["typeset"] = "one piece, in two passes (the page breaks could not be predicted)"
    return pages


def _panels(run: TypesetRun) -> Typeset:
    """A wide listing's panels (``wide: continue``), each typeset like a report of its own. When
    every band kind is as tall in each panel (so they break pages alike), their pages
    interleave (page 1 of each panel, then page 2, ...); otherwise the panels follow one
    another, each numbered on its own. A PDF's panels are joined as chunks are (``PdfJoin``):
    a tagged report keeps one structure tree (each panel read whole, in turn), and the first
    panel's bookmarks are the outline."""
    data, stats, format = run.data, run.stats, run.format
    sources = [replace(run.source, panels=()), *run.source.panels]
    measured = [_measure(replace(run, source=panel)) for panel in sources]
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
            result = _typeset(replace(run, source=panel, data=panel_data, stats=panel_stats))
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


def in_memory(result: Typeset) -> list[bytes]:
    """The pages of a typeset result in memory (a joined PDF file is read, and removed)."""
    if isinstance(result, list):
        return result
    try:
        return [result.read_bytes()]
    finally:
        shutil.rmtree(result.parent, ignore_errors=True)


def _page_count(result: list[bytes], format: OutputFormat) -> int:
    if format != "pdf":
        return len(result)
    import pikepdf

    with pikepdf.Pdf.open(io.BytesIO(result[0])) as document:
        return len(document.pages)


def typeset(
    source: TypstSource,
    data: ReportData,
    *,
    format: OutputFormat,
    ppi: float,
    stats: MutableMapping[str, Any],
    control: RenderControl,
    compiler: Compiler | None = None,
) -> Typeset:
    """The document as PDF (one item, or a file: see ``Typeset``) or PNG/SVG pages;
    ``stats["typeset"]`` says how. Every Typst pass goes through ``compiler`` (by default the
    warm worker processes of :func:`default_compiler`)."""
    return _typeset(TypesetRun(source, data, format, ppi, control, compiler or default_compiler(), stats))


def _typeset(run: TypesetRun) -> Typeset:
    """:func:`typeset` of ``run``."""
    if run.source.panels:
        return _panels(run)
    control, stats = run.control, run.stats
    control.check()
    run, measured = _with_needs(run)
    data = run.data
    if data.bands.height < MIN_BANDS_FOR_CHUNKS and data.pages is None:
        stats["typeset"] = "one piece"
        control.report("typesetting", 0, 1, "pieces")
        pages = run.compile(run.job(data.json())).pages
        control.report("typesetting", 1, 1, "pieces")
        return pages
    if data.pages is not None:
        return _with_page_values(run, measured)
    if data.one_piece or data.unpredictable:
        stats["typeset"] = f"one piece ({data.one_piece or data.unpredictable})"
        if data.unpredictable:
            logger.info("typesetting in one piece, not in chunks: %s", data.unpredictable)
    else:
        chunked = _chunked(run, _paginate(run, measured))
        if chunked is not None:
            return chunked
    # A long report in one piece.
    job = functools.partial(
        run.compiler.compile, run.job(data.json(), one_off=True), memory_mb=_worker_memory_mb(control)
    )
    return _run_chunks([job], 1, control)[0].pages
