"""Typeset a report: in one piece, or for long reports in page-aligned chunks on every core.

A long report is measured (one small Typst pass gives each band kind's height: ``measure``),
its page breaks predicted ahead of Typst (``predict``, ``probe``, ``paginate``), split into
chunks of whole pages, and the chunks are typeset in parallel worker processes, each knowing
its first page number and the total (``chunks``). Every chunk is then checked against the
prediction: its page count, and that the next chunk's first band would not have fitted on its
last page. If any check fails (say a long text wrapped), the report is typeset in one piece
instead, so the output is always what one piece gives. A report with values per page gets them
from the predicted breaks (``page_values``), or from a first pass; a wide listing's panels are
typeset each on its own (``panels``).

Every Typst pass (measuring, one piece, chunks, page values, panels, preview) goes through a
``Compiler`` (``typeset/compile.py``): by default warm worker processes, stopped by the
render's cancel and time limit, their memory capped by its budget (``run``).

    >>> import polarreports as pr
    >>> doc = pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(100))
    >>> doc.page_count, doc.stats["typeset"]
    (4, 'one piece')
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, MutableMapping
from typing import TYPE_CHECKING, Any

import polars as pl

from polarreports.control import RenderControl, logger
from polarreports.emit.typst_source import TypstSource
from polarreports.typeset import chunks
from polarreports.typeset.compile import END, MARKS, Compiler, OutputFormat, default_compiler
from polarreports.typeset.measure import Measured
from polarreports.typeset.page_values import PageValues
from polarreports.typeset.panels import typeset_panels
from polarreports.typeset.predict import predict_pages, with_needs
from polarreports.typeset.report_data import ReportData
from polarreports.typeset.run import Typeset, TypesetRun, in_memory, run_in_parallel, worker_memory_mb

if TYPE_CHECKING:
    import pikepdf

__all__ = ["pdf_of_pages", "preview", "typeset"]


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
        return typeset_panels(run, _typeset)
    control, stats = run.control, run.stats
    control.check()
    run, measured = with_needs(run)
    data = run.data
    if data.bands.height < chunks.MIN_BANDS_FOR_CHUNKS and data.pages is None:
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
        chunked = chunks.chunked(run, predict_pages(run, measured))
        if chunked is not None:
            return chunked
    # A long report in one piece.
    job = functools.partial(
        run.compiler.compile, run.job(data.json(), one_off=True), memory_mb=worker_memory_mb(control)
    )
    return run_in_parallel([job], 1, control)[0].pages


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
    run, measured = with_needs(run)
    data = run.data

    def first(data_json: bytes) -> list[bytes]:
        return run.compile(run.job(data_json)).pages

    if data.bands.height < chunks.MIN_BANDS_FOR_CHUNKS or data.one_piece or data.unpredictable:
        images = in_memory(_with_page_values(run, measured)) if data.pages is not None else first(data.json())
        return images[:pages], len(images) if format != "pdf" else None
    predicted = predict_pages(run, measured)
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
        extra["pages"] = PageValues.predicted(data.pages, pagination, len(kinds)).strings
    data_json = data.json(0, end, total_pages=pagination.total, last=last, **extra)
    return first(data_json)[:pages], pagination.total


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


def _with_page_values(run: TypesetRun, measured: Measured | None = None) -> Typeset:
    """A report with values per page (page totals, carried forward, ...): they follow from the
    predicted page breaks, and the bands on either side of every break are checked. Where the
    prediction fails, a first pass finds every band's page and a second one prints the values."""
    data, stats = run.data, run.stats
    assert data.pages is not None
    count = data.bands.height
    predicted = predict_pages(run, measured) if count and not data.unpredictable else None
    if predicted is not None:
        pagination = predicted[2]
        values = PageValues.predicted(data.pages, pagination, count)
        if count >= chunks.MIN_BANDS_FOR_CHUNKS and not data.one_piece:
            chunked = chunks.chunked(run, predicted, values)
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
        strings = PageValues.found(data.pages, marks, last_page).strings
    else:  # no bands: the values of empty pages
        strings = data.pages.values(pl.Series([], dtype=pl.UInt32), total=last_page)
    pages, _, _ = _one_piece(run, data.json(pages=strings))
    stats["typeset"] = "one piece, in two passes (the page breaks could not be predicted)"
    return pages


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
