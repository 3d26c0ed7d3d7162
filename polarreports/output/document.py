"""A rendered report: its Typst source and data, compiled on demand to PDF, PNG or SVG.

>>> import polarreports as pr
>>> doc = pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(200))
>>> doc.page_count > 0
True
"""

from __future__ import annotations

import base64
import html
import io
import os
import secrets
import shutil
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from polarreports.control import RenderControl, logger
from polarreports.emit.escape import typst_string
from polarreports.emit.typst_source import DATA_FILE, TypstSource
from polarreports.exceptions import OutputError, PolarReportsError, WriteError
from polarreports.output.exports import EXPORTERS, Exporter, Rendered
from polarreports.output.pages import HTML_PAGES, PageImage, Pages, paged_html
from polarreports.output.pdf_options import PdfOptions, Protection
from polarreports.stats import RenderStats
from polarreports.suggest import close_matches
from polarreports.typeset import chunks
from polarreports.typeset.compile import Compiler, OutputFormat
from polarreports.typeset.report_data import ReportData
from polarreports.typeset.run import Typeset, in_memory
from polarreports.typeset.typeset import preview, typeset

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Document", "check_writable", "output_format", "write_atomically", "written"]

SCREEN_PPI = 96.0
"""The resolution of the pages a notebook or the live preview shows: a screen's."""
SHOWN_PAGES = 2
"""Pages a document shows inline in a notebook (the pager shows the others)."""
MAX_KEPT_PAGES = 50
"""The most pages of a short report (typeset in one piece anyway) a preview keeps for its pager
(about 15 MB of PNG at screen resolution); a page past them is typeset again on demand."""


_SUFFIXES: dict[str, OutputFormat] = {".pdf": "pdf", ".png": "png", ".svg": "svg"}


def output_format(path: Path) -> OutputFormat | str:
    """The format ``path``'s suffix asks for: PDF, PNG or SVG (typeset), or another output's
    suffix in :data:`EXPORTERS` (``".html"``, ...); ``OutputError`` for another."""
    suffix = path.suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    if suffix in EXPORTERS:
        return suffix
    known = [*_SUFFIXES, *EXPORTERS]
    close = close_matches(suffix, known, n=1, cutoff=0.5) if suffix else []
    hint = f"; did you mean {path.with_suffix(close[0]).name!r}?" if close else ""
    found = f"the suffix {path.suffix}" if suffix else "no suffix"
    msg = f"cannot save {str(path)!r}: {found}, use {', '.join(known[:-1])} or {known[-1]}{hint}"
    raise OutputError(msg) from None


def _reason(error: OSError) -> str:
    reason = error.strerror or str(error)
    return reason[:1].lower() + reason[1:]


def _new_file(folder: Path, name: str) -> tuple[int, Path]:
    """A new empty file beside ``name`` in ``folder`` (hidden, with a random suffix), made with
    the mode any new file gets (0666 less the umask: 0644 under umask 022), unlike ``mkstemp``,
    whose files are 0600 whatever the umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        temporary = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue
    msg = f"no free temporary name for {name} in {folder}"
    raise FileExistsError(msg)


def check_writable(path: Path) -> None:
    """``OutputError`` unless a file can be written at ``path``: it is not a folder, and its
    folder (or, where that is still to be made, the nearest one that exists) is a folder this
    process can create files in (tried, with an empty file removed at once)."""
    try:
        is_folder = path.is_dir()
    except OSError as error:  # a name too long, ...
        msg = f"cannot save {str(path)!r}: {_reason(error)}"
        raise OutputError(msg) from None
    if is_folder:
        msg = f"cannot save {str(path)!r}: it is a folder; give a file name in it, such as {str(path / 'report.pdf')!r}"
        raise OutputError(msg)
    folder = path.parent
    existing = next((f for f in (folder, *folder.parents) if os.path.lexists(f)), Path.cwd())
    if not existing.is_dir():
        msg = f"cannot save {str(path)!r}: {str(existing)!r} is a file, not a folder"
        raise OutputError(msg)
    try:
        handle, probe = _new_file(existing, path.name)
    except OSError as error:
        msg = f"cannot save {str(path)!r}: cannot create files in the folder {str(existing)!r} ({_reason(error)})"
        raise OutputError(msg) from None
    os.close(handle)
    probe.unlink(missing_ok=True)


@contextmanager
def written(path: Path) -> Iterator[BinaryIO]:
    """An open binary file whose content becomes ``path`` when the block ends without an error,
    and is removed otherwise (for content produced a piece at a time: a large HTML page or
    spreadsheet streams to disk, never held whole in memory).

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "out.txt"
    >>> with written(target) as file:
    ...     _ = file.write(b"hello")
    >>> target.read_bytes()
    b'hello'
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = _new_file(path.parent, path.name)
    except OSError as error:
        msg = f"cannot write {str(path)!r}: {_reason(error)}"
        raise OutputError(msg) from None
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
        temporary.replace(path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            msg = f"cannot write {str(path)!r}: {_reason(error)}"
            raise WriteError(msg) from None
        raise


def write_atomically(path: Path, content: bytes | str | Path) -> None:
    """Write ``content`` (bytes, text as UTF-8, or a file's content) to ``path`` through a
    temporary file in the same folder and a rename, so that ``path`` is never a partial file
    (:func:`written`, for content that is whole). The file gets the mode any new file gets (the
    umask's). Missing folders are made. An OS error (a full disk, a folder that cannot be
    written) is an ``OutputError``, and nothing is left."""
    data = content.encode() if isinstance(content, str) else content
    with written(path) as file:
        _copy_into(file, data)


def _copy_into(file: BinaryIO, content: bytes | Path) -> None:
    """Write ``content`` (bytes, or a file's content) to the open ``file``."""
    if isinstance(content, Path):
        with content.open("rb") as source:
            shutil.copyfileobj(source, file, 1 << 20)
    else:
        file.write(content)


class Document:
    """The result of ``report.render(...)``.

    Compilation is lazy and cached: ``pdf``, ``page_count`` and ``save`` compile once.
    ``stats`` (:class:`~polarreports.stats.RenderStats`) holds the time (seconds) of each phase
    and the sizes involved.
    """

    def __init__(
        self,
        source: TypstSource,
        data: ReportData,
        stats: RenderStats | None = None,
        control: RenderControl | None = None,
        *,
        compiler: Compiler | None = None,
        rendered: Rendered | None = None,
    ) -> None:
        self._source = source
        self._data = data
        self._rendered = rendered
        """The plan and band stream, for the outputs other than Typst's (None: only PDF, PNG, SVG)."""
        self._control = control or RenderControl()
        self._compiler = compiler
        """What typesets it (None: the warm Typst worker processes every render shares)."""
        self._pdfs: dict[str | None, bytes | Path] = {}
        """The PDF once typeset, per PDF standard (None: none): bytes, or (a long report) a file
        in a folder of its own."""
        self._created = int(time.time())
        """When the document was made (Unix seconds): the date of a PDF/A and of its attachments."""
        self.stats = stats or RenderStats()
        self._previews: dict[tuple[str, float], Pages] = {}
        """The first pages typeset so far, per format and resolution (``preview``, ``page``)."""
        self._html: str | None = None
        """The notebook's HTML display, once made (its pager's names are drawn at random)."""

    def to_typst(self) -> str:
        """The generated Typst source (the data it reads is in ``data_json``)."""
        return self._source.source

    @property
    def data_json(self) -> bytes:
        """The JSON data file the Typst source reads as ``/data.json``."""
        return self._data.json()

    def write_typst(self, path: str | os.PathLike[str]) -> list[Path]:
        """Write the Typst source to ``path`` (``report.typ``) so that it compiles as written:
        its data next to it (``report.json``, which the source reads) and its images under
        ``assets/`` beside it. Compile it with the fonts polarreports ships:
        ``typst compile --font-path <polarreports>/fonts report.typ``. Returns the paths written.
        """
        target = Path(path)
        data_path = target.with_suffix(".json")
        if data_path == target:
            msg = f"cannot write the Typst source to {str(target)!r}: its data goes to the same path; give a .typ path"
            raise OutputError(msg)
        source = self._source.source.replace(
            f'json("/{DATA_FILE}")', f"json({typst_string(data_path.name)})", 1
        ).replace(f"the data is read from /{DATA_FILE}", f"the data is read from {data_path.name}", 1)
        written = [target, data_path]
        write_atomically(target, source)
        write_atomically(data_path, self.data_json)
        for name, content in self._source.assets.items():
            asset = target.parent / name
            write_atomically(asset, content)
            written.append(asset)
        return written

    def _typeset(self, format: OutputFormat, ppi: float = 144.0, standard: str | None = None) -> Typeset:
        source = self._source if standard is None else self._archival(standard)
        start = time.perf_counter()
        with self._control.working():  # the time limit's clock runs
            result = typeset(
                source,
                self._data,
                format=format,
                ppi=ppi,
                stats=self.stats,
                control=self._control,
                compiler=self._compiler,
            )
        self.stats[f"typst_{format}_s"] = round(time.perf_counter() - start, 4)
        sizes = [result.stat().st_size] if isinstance(result, Path) else [len(page) for page in result]
        self.stats[f"{format}_bytes"] = sum(sizes)
        logger.info(
            "typeset %s: %s in %.3f s (%s)",
            format,
            f"{len(sizes)} file(s), {self.stats[f'{format}_bytes']:,} bytes",
            self.stats[f"typst_{format}_s"],
            self.stats.typeset,
        )
        return result

    def _archival(self, standard: str) -> TypstSource:
        """The source of the PDF to ``standard`` (PDF/A): Typst writes its metadata
        (XMP, output intent) and dates it; chunks of a long report join into a PDF/A (the
        joiner keeps the first chunk's metadata and output intent: ``typeset/pdfjoin.py``)."""

        def archival(source: TypstSource) -> TypstSource:
            panels = tuple(archival(panel) for panel in source.panels)
            return replace(source, pdf_standards=(standard,), timestamp=self._created, panels=panels)

        return archival(self._source)

    def _compile(self, format: OutputFormat, ppi: float = 144.0) -> list[bytes]:
        return in_memory(self._typeset(format, ppi))

    def _pdf_source(self, standard: str | None = None) -> bytes | Path:
        """The PDF (to ``standard``, a PDF/A level, if given), typeset on first use. A long
        report's PDF stays in a temporary file (removed with the document), so that saving it
        never holds it in memory."""
        if standard not in self._pdfs:
            result = self._typeset("pdf", standard=standard)
            if isinstance(result, Path):
                weakref.finalize(self, shutil.rmtree, result.parent, ignore_errors=True)
                self._pdfs[standard] = result
            else:
                self._pdfs[standard] = result[0]
        return self._pdfs[standard]

    @property
    def pdf(self) -> bytes:
        """The PDF bytes; the same input always gives the same bytes."""
        source = self._pdf_source()
        return source.read_bytes() if isinstance(source, Path) else source

    @property
    def page_count(self) -> int:
        """The pages of the PDF (any one typeset already: PDF/A does not change the layout)."""
        source = next(iter(self._pdfs.values())) if self._pdfs else self._pdf_source()
        if isinstance(source, Path) and self.stats.pages is not None:  # joined from chunks: counted then
            return self.stats.pages
        from pypdf import PdfReader  # imported when needed: it takes 20 MB

        return len(PdfReader(source if isinstance(source, Path) else io.BytesIO(source)).pages)

    def png(self, *, ppi: float = 144.0) -> list[bytes]:
        """One PNG image per page."""
        return self._compile("png", ppi)

    def svg(self) -> list[bytes]:
        """One SVG image per page."""
        return self._compile("svg")

    def preview(self, pages: int = 1, *, format: OutputFormat = "png", ppi: float = SCREEN_PPI) -> Pages:
        """The first ``pages`` pages as PNG (or SVG, PDF) images, in well under a second whatever
        the report's size: only those pages are typeset, with the page count predicted.

        Each page is ``bytes`` (a :class:`~polarreports.output.pages.PageImage`) that a notebook
        shows as an image; the list shows them side by side. Pages typeset once are kept, so
        asking again for as many or fewer costs nothing.
        """
        key = (format, float(ppi))
        kept = self._previews.get(key)
        if kept is not None and (len(kept) >= pages or (kept.total is not None and len(kept) >= kept.total)):
            return Pages(kept[:pages], total=kept.total)
        whole = self._data.bands.height < chunks.MIN_BANDS_FOR_CHUNKS or bool(self._data.one_piece)
        with self._control.working():  # bounded by the time limit, as is every typesetting
            images, total = preview(
                self._source,
                self._data,
                pages=max(pages, MAX_KEPT_PAGES) if whole else pages,  # a short report is typeset whole anyway
                format=format,
                ppi=ppi,
                control=self._control,
                compiler=self._compiler,
            )
        if total is not None:
            self.stats["pages_predicted"] = total
        elif len(images) < pages and format != "pdf":  # every page was typeset: that is the count
            total = len(images)
        kept = Pages((PageImage(image, format, i) for i, image in enumerate(images, 1)), total=total)
        self._previews[key] = kept
        return Pages(kept[:pages], total=total)

    def page(self, number: int, *, ppi: float = SCREEN_PPI) -> PageImage:
        """Page ``number`` (from 1) as a PNG image, typesetting pages up to it on demand (twice
        as many as were typeset before, so paging on costs little); ``IndexError`` past the end.

        >>> import polarreports as pr
        >>> doc = pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(100))
        >>> doc.page(2).number, doc.page(2).format
        (2, 'png')
        """
        if number < 1:
            msg = f"page {number}: pages are numbered from 1"
            raise IndexError(msg)
        kept = self._previews.get(("png", float(ppi)))
        if kept is not None and number <= len(kept):
            return kept[number - 1]
        if kept is not None and kept.total is not None and len(kept) >= kept.total:
            pages = kept
        else:
            pages = self.preview(max(number, 2 * len(kept)) if kept is not None else number, ppi=ppi)
        if number > len(pages):
            msg = f"page {number}: the document has {len(pages)} page{'s' if len(pages) != 1 else ''}"
            raise IndexError(msg)
        return pages[number - 1]

    @property
    def summary_values(self) -> list[str]:
        """The values the summary band shows, as printed (``['1,750', '92 orders', '€432,980.27']``);
        empty for a report without a summary. Read without typesetting.

        >>> import polarreports as pr
        >>> pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(100)).summary_values[1]
        '100 orders'
        """
        return list(self._data.static.get("summary", []))

    def save(
        self,
        path: str | os.PathLike[str],
        *,
        ppi: float = 144.0,
        pdf_standard: str | None = None,
        attach: Iterable[str] | str = (),
        protect: Protection | None = None,
    ) -> list[Path]:
        """Write the document; the suffix picks PDF, PNG or SVG (typeset), or another output
        (see :data:`EXPORTERS`), written from the same band stream without computing it again.

        A multi-page PNG or SVG becomes numbered files (``report-01.png``, ...). Files are
        written atomically: a failed render leaves nothing behind. The suffix and the folder are
        checked before any typesetting (``OutputError``). Returns the paths written.

        A PDF only: ``pdf_standard`` (``"a-2b"``, ``"a-2u"``, ``"a-3b"``, ``"a-3u"``) writes it
        as PDF/A for archives; ``attach`` puts files in it: ``"data"`` (the rows the report
        shows, as Parquet: read from the input again), ``"definition"`` (YAML), ``"parameters"``
        (JSON), PDF/A-3 where a standard is asked; ``protect`` (a :class:`Protection`) encrypts
        it (AES-256) with its permissions (PDF/A forbids encryption).
        """
        target = Path(path)
        format = output_format(target)  # checked before the typesetting, as is the folder
        options = PdfOptions.checked(pdf_standard, attach, protect)
        if not options.plain and format != "pdf":
            msg = f"cannot save {str(target)!r}: pdf_standard, attach and protect apply to a .pdf only"
            raise OutputError(msg)
        check_writable(target)
        if format in EXPORTERS:
            return [self._export(format, target)]
        if not options.plain:
            return [self._finished_pdf(target, options)]
        typeset_as = _SUFFIXES[target.suffix.lower()]
        pages: list[bytes | Path] = [self._pdf_source()] if typeset_as == "pdf" else [*self._compile(typeset_as, ppi)]
        if len(pages) == 1:
            targets = [target]
        else:
            digits = len(str(len(pages)))
            targets = [
                target.with_name(f"{target.stem}-{i:0{digits}d}{target.suffix}") for i in range(1, len(pages) + 1)
            ]
        with self._control.working():
            self._control.report("writing", 0, len(targets), "files")  # the last moment a cancel stops it
            for page, page_path in zip(pages, targets, strict=True):
                write_atomically(page_path, page)
            self._control.report("writing", len(targets), len(targets), "files")
        return targets

    def to_frame(self) -> pl.DataFrame:
        """The band stream as a Polars DataFrame: one row per printed band, in report order, with
        its band, kind, group level, group keys, raw typed values and formatted texts (see
        ``emit.bandframe``). Saving ``.parquet``, ``.csv`` or ``.json`` writes the same rows."""
        if self._rendered is None:
            msg = "cannot make a data frame: this document was made without its band stream; render it again"
            raise OutputError(msg)
        from polarreports.emit.bandframe import BandFrames

        rendered = self._rendered
        return BandFrames(rendered.plan, rendered.stream, rendered.dtypes).frame()

    def save_xlsx(self, path: str | os.PathLike[str], *, formulas: bool = False) -> Path:
        """Save the Excel workbook (as ``save("report.xlsx")`` does); with ``formulas``, each
        subtotal that sums (averages, ...) a column of the detail rows is a ``SUBTOTAL``
        formula over its group's rows (its value cached), so it follows edits and filters."""
        target = _writable_as(path, ".xlsx", "a workbook")

        def write(rendered: Rendered, file: BinaryIO) -> None:
            from polarreports.emit.bandframe import BandFrames
            from polarreports.emit.xlsx import write_xlsx

            frames = BandFrames(rendered.plan, rendered.stream, rendered.dtypes, crosstabs=True, check=rendered.check)
            write_xlsx(frames, file, formulas=formulas)

        return self._export(".xlsx", target, write)

    def save_csv(self, path: str | os.PathLike[str], *, as_stored: bool = False) -> Path:
        """Save the CSV (as ``save("report.csv")`` does): a text that a spreadsheet program would
        evaluate as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
        return, other than a number's text such as ``-1,234.50``) is written with a leading
        single quote, so that opening the file runs nothing; ``as_stored`` writes every value
        as stored (for a pipeline, not a spreadsheet). Numbers stay numbers either way."""
        target = _writable_as(path, ".csv", "CSV")

        def write(rendered: Rendered, file: BinaryIO) -> None:
            from polarreports.emit.bandframe import BandFrames
            from polarreports.emit.data_exports import write_csv

            frames = BandFrames(rendered.plan, rendered.stream, rendered.dtypes, check=rendered.check)
            write_csv(frames, file, as_stored=as_stored)

        return self._export(".csv", target, write)

    def _finished_pdf(self, target: Path, options: PdfOptions) -> Path:
        """The PDF to ``options.standard``, with its attachments and protection, at ``target``."""
        from polarreports.output.pdf_finish import evidence, finish_pdf  # pikepdf: only when asked

        if options.attach and self._rendered is None:
            msg = f"cannot attach files to {str(target)!r}: this document was made without its band stream"
            raise OutputError(msg)
        pdf = self._pdf_source(options.standard)
        with self._control.working():
            self._control.report("writing", 0, 1, "files")
            attachments = evidence(self._rendered, options.attach, self._control.check) if self._rendered else []
            with written(target) as file:
                finish_pdf(pdf, file, attachments=attachments, protect=options.protect, date=self._created)
            self._control.report("writing", 1, 1, "files")
        if options.standard is not None:
            self.stats["pdf_standard"] = options.standard
        if attachments:
            self.stats["pdf_attachments"] = [attachment.name for attachment in attachments]
        if options.protect is not None:
            self.stats["pdf_protected"] = True
        return target

    def _export(self, suffix: str, target: Path, write: Exporter | None = None) -> Path:
        if self._rendered is None:
            msg = f"cannot save {str(target)!r}: this document was made without its band stream; render it again"
            raise OutputError(msg)
        with self._control.working():
            self._control.report("writing", 0, 1, "files")
            rendered = replace(self._rendered, check=self._control.check)  # stops between batches
            with written(target) as file:
                (write or EXPORTERS[suffix]())(rendered, file)
            self._control.report("writing", 1, 1, "files")
        return target

    def __repr__(self) -> str:
        return f"<polarreports.Document: {self.stats.rows} rows>"

    def _repr_html_(self) -> str:
        """Jupyter, where no widget shows: the first pages inline, two side by side, as PNG at
        screen resolution (a few tens of kB a page), with the page count and a pager made of
        CSS alone (no script, which many front-ends strip); at most ``HTML_PAGES`` (4) pages and
        ``HTML_BUDGET`` bytes of images (:func:`~polarreports.output.pages.paged_html`). Only
        those pages are typeset, so a report of any size shows at once. (In a notebook with
        ipywidgets, :meth:`_repr_mimebundle_` adds a pager that typesets any page.)"""
        if self._html is not None:
            return self._html
        try:
            shown = self.preview(HTML_PAGES)
        except PolarReportsError as error:  # a Typst or chart failure, a time limit: one line, escaped
            return f"<pre>{html.escape(f'{type(error).__name__}: {error}')}</pre>"
        self._html = paged_html(shown, shown.total or len(shown), per_view=SHOWN_PAGES)
        return self._html

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, object]:
        """Jupyter: every front-end finds something it can show.

        - ``text/html`` (:meth:`_repr_html_`): the first pages as PNG, no script (JupyterLab,
          VS Code without a kernel or the Jupyter extension, nbviewer);
        - ``image/png``: the first page alone, for those that show images but not HTML (GitHub
          shows notebooks' images, and strips much of their HTML);
        - ``text/plain``: the page and row counts, for a terminal or a text-only front-end;
        - in a kernel with ipywidgets installed, the pager widget besides, that typesets further
          pages on demand (a front-end without widgets falls back to the others).

        A failure to typeset (a Typst or chart error, a time limit) leaves the text: one line.
        """
        bundle: dict[str, object] = {"text/plain": repr(self), "text/html": self._repr_html_()}
        try:
            shown = self.preview(SHOWN_PAGES)
        except PolarReportsError as error:  # said once, in the HTML and here
            bundle["text/plain"] = f"<polarreports.Document: {self.stats.rows} rows; {type(error).__name__}: {error}>"
            return bundle
        total = shown.total or len(shown)
        pages = f"{total} page{'s' if total != 1 else ''}"
        bundle["text/plain"] = f"<polarreports.Document: {self.stats.rows} rows, {pages}>"
        if shown and shown[0].format == "png":
            bundle["image/png"] = base64.b64encode(shown[0]).decode("ascii")  # as Jupyter stores it
        from polarreports.output.notebook import document_view, widgets_available

        if widgets_available():
            view = document_view(self)._repr_mimebundle_()
            bundle.update({kind: value for kind, value in view.items() if kind != "text/plain"})
        return bundle


def _writable_as(path: str | os.PathLike[str], suffix: str, what: str) -> Path:
    """``path``, checked to end in ``suffix`` (an ``OutputError`` naming ``what`` otherwise)
    and to be writable (``check_writable``), before any work."""
    target = Path(path)
    if target.suffix.lower() != suffix:
        msg = f"cannot save {str(target)!r} as {what}: its name must end in {suffix}"
        raise OutputError(msg)
    check_writable(target)
    return target
