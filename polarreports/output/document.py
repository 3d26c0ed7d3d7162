"""A rendered report: its Typst source and data, compiled on demand to PDF, PNG or SVG.

>>> import polarreports as pr
>>> doc = pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(200))
>>> doc.page_count > 0
True
"""

from __future__ import annotations

import difflib
import html
import io
import os
import secrets
import shutil
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from polarreports.control import RenderControl, logger
from polarreports.emit.escape import typst_string
from polarreports.emit.typst_source import DATA_FILE, TypstSource
from polarreports.exceptions import OutputError, RenderError, WriteError
from polarreports.output.exports import EXPORTERS, Rendered
from polarreports.stats import RenderStats
from polarreports.typeset.compile import Compiler, OutputFormat
from polarreports.typeset.typeset import ReportData, Typeset, in_memory, preview, typeset

__all__ = ["Document", "check_writable", "output_format", "write_atomically", "written"]


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
    close = difflib.get_close_matches(suffix, known, n=1, cutoff=0.5) if suffix else []
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


def _copy_into(handle: int, content: bytes | Path) -> None:
    """Write ``content`` (bytes, or a file's content) to the open file ``handle``, and close it."""
    with os.fdopen(handle, "wb") as file:
        if isinstance(content, Path):
            with content.open("rb") as source:
                shutil.copyfileobj(source, file, 1 << 20)
        else:
            file.write(content)


def write_atomically(path: Path, content: bytes | str | Path) -> None:
    """Write ``content`` (bytes, text as UTF-8, or a file's content) to ``path`` through a
    temporary file in the same folder and a rename, so that ``path`` is never a partial file.
    The file gets the mode any new file gets (the umask's). Missing folders are made. An OS
    error (a full disk, a folder that cannot be written) is an ``OutputError``, and nothing is left."""
    data = content.encode() if isinstance(content, str) else content
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = _new_file(path.parent, path.name)
    except OSError as error:
        msg = f"cannot write {str(path)!r}: {_reason(error)}"
        raise OutputError(msg) from None
    try:
        _copy_into(handle, data)
        temporary.replace(path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            msg = f"cannot write {str(path)!r}: {_reason(error)}"
            raise WriteError(msg) from None
        raise


@contextmanager
def written(path: Path) -> Iterator[BinaryIO]:
    """An open binary file whose content becomes ``path`` when the block ends without an error,
    and is removed otherwise (``write_atomically`` for content produced a piece at a time: a
    large HTML page or spreadsheet streams to disk, never held whole in memory).

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
        self._pdf: bytes | Path | None = None
        """The PDF once typeset: bytes, or (a long report) a file in a folder of its own."""
        self.stats = stats or RenderStats()

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

    def _typeset(self, format: OutputFormat, ppi: float = 144.0) -> Typeset:
        start = time.perf_counter()
        with self._control.working():  # the time limit's clock runs
            result = typeset(
                self._source,
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

    def _compile(self, format: OutputFormat, ppi: float = 144.0) -> list[bytes]:
        return in_memory(self._typeset(format, ppi))

    def _pdf_source(self) -> bytes | Path:
        """The PDF, typeset on first use. A long report's PDF stays in a temporary file (removed
        with the document), so that saving it never holds it in memory."""
        if self._pdf is None:
            result = self._typeset("pdf")
            if isinstance(result, Path):
                weakref.finalize(self, shutil.rmtree, result.parent, ignore_errors=True)
                self._pdf = result
            else:
                self._pdf = result[0]
        return self._pdf

    @property
    def pdf(self) -> bytes:
        """The PDF bytes; the same input always gives the same bytes."""
        source = self._pdf_source()
        return source.read_bytes() if isinstance(source, Path) else source

    @property
    def page_count(self) -> int:
        source = self._pdf_source()
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

    def preview(self, pages: int = 1, *, format: OutputFormat = "png", ppi: float = 96.0) -> list[bytes]:
        """The first ``pages`` pages as PNG (or SVG) images, in well under a second whatever the
        report's size: only those pages are typeset, with the page count predicted."""
        with self._control.working():  # bounded by the time limit, as is every typesetting
            images, total = preview(
                self._source,
                self._data,
                pages=pages,
                format=format,
                ppi=ppi,
                control=self._control,
                compiler=self._compiler,
            )
        if total is not None:
            self.stats["pages_predicted"] = total
        return images

    def save(self, path: str | os.PathLike[str], *, ppi: float = 144.0) -> list[Path]:
        """Write the document; the suffix picks PDF, PNG or SVG (typeset), or another output
        (see :data:`EXPORTERS`), written from the same band stream without computing it again.

        A multi-page PNG or SVG becomes numbered files (``report-01.png``, ...). Files are
        written atomically: a failed render leaves nothing behind. The suffix and the folder are
        checked before any typesetting (``OutputError``). Returns the paths written.
        """
        target = Path(path)
        format = output_format(target)  # checked before the typesetting, as is the folder
        check_writable(target)
        if format in EXPORTERS:
            return [self._export(format, target)]
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

    def _export(self, suffix: str, target: Path) -> Path:
        if self._rendered is None:
            msg = f"cannot save {str(target)!r}: this document was made without its band stream; render it again"
            raise OutputError(msg)
        with self._control.working():
            self._control.report("writing", 0, 1, "files")
            with written(target) as file:
                EXPORTERS[suffix]()(self._rendered, file)
            self._control.report("writing", 1, 1, "files")
        return target

    def __repr__(self) -> str:
        return f"<polarreports.Document: {self.stats.rows} rows>"

    def _repr_html_(self) -> str:
        """Jupyter: the first two pages inline (as SVG, so text stays sharp) and the page count;
        only those pages are typeset, so a report of any size shows at once."""
        try:
            shown = self.preview(2, format="svg")
        except RenderError as error:
            return f"<pre>{html.escape(str(error))}</pre>"
        total = self.stats.pages_predicted or len(shown)
        images = "".join(
            '<div style="display:inline-block;margin:4px;border:1px solid #ccc;'
            f'box-shadow:0 1px 4px rgba(0,0,0,.2);width:45%;background:white">{page.decode()}</div>'
            for page in shown
        )
        more = f", showing the first {len(shown)}" if total > len(shown) else ""
        return f"<div><p><b>polarreports document</b>: {total} page{'s' if total != 1 else ''}{more}</p>{images}</div>"
