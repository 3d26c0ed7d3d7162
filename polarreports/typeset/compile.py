"""Typst compilation in an empty per-render root folder, with errors traced to the definition.

Each compile gets a fresh temporary root holding only the source, the data file and the
report's assets (copied, never linked), the fonts that ship with polarreports, and no system
fonts. A compile runs in this process (short reports) or in a fresh worker process
(``_worker.py``, for chunks of long reports: its memory is returned when it ends, and it can
be stopped at any moment).
"""

from __future__ import annotations

import functools
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import typst

from polarreports.control import temp_prefix
from polarreports.emit.typst_source import DATA_FILE, SPLIT_ERROR, TypstSource
from polarreports.exceptions import Cancelled, LayoutError, RenderError
from polarreports.resources import FONTS_DIR

__all__ = ["OutputFormat", "compile_document", "compile_in_worker", "query_document"]

WORKER = Path(__file__).resolve().parent / "_worker.py"
TYPST_PATH = str(Path(typst.__file__).resolve().parent.parent)
"""Where the typst package is imported from: the worker, started without ``site``, is told."""
OutputFormat = Literal["pdf", "png", "svg"]
SOURCE_FILE = "report.typ"
_LOCATION = re.compile(rf"{re.escape(SOURCE_FILE)}:(\d+):(\d+)")
FIXED_TIMESTAMP = 1_704_067_200  # 2024-01-01T00:00:00Z, so the same input gives the same bytes


@functools.cache
def _fonts() -> typst.Fonts:
    return typst.Fonts(include_system_fonts=False, include_embedded_fonts=True, font_paths=[str(FONTS_DIR)])


def _error(failure: dict[str, Any], source: TypstSource) -> RenderError:
    """A RenderError naming the band and element whose generated code failed."""
    text = failure["diagnostic"] + "\n".join(failure["trace"])
    band = element = None
    for match in _LOCATION.finditer(text):
        line = int(match.group(1))
        if line in source.origins:
            band, element = source.origins[line]
            break
    where = element or band
    if SPLIT_ERROR in failure["message"]:  # our own check (split: error), a panic() in the Typst code
        message = (
            f"{band or 'a band'} is taller than the page, and its split option is 'error'.\n"
            "Hint: shorten the text, give the element overflow: clip or ellipsis, or set split: allow."
        )
        return LayoutError(message, band=band, typst_message=failure["message"])
    place = f" in {where}" if where else ""
    message = f"Typst could not lay out the report{place}: {failure['message']}"
    if failure["hints"]:
        message += "\nHint: " + "\nHint: ".join(failure["hints"])
    return RenderError(message, band=band, element=element, typst_message=failure["message"])


def _prepare(root: Path, source: TypstSource, data_json: bytes) -> Path:
    main = root / SOURCE_FILE
    main.write_text(source.source, encoding="utf-8")
    (root / DATA_FILE).write_bytes(data_json)
    for name, path in source.assets.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(path, bytes):
            target.write_bytes(path)
        else:
            shutil.copyfile(path, target, follow_symlinks=True)
    return main


def query_document(
    source: TypstSource, data_json: bytes, *selectors: str, format: OutputFormat = "pdf", ppi: float = 144.0
) -> tuple[list[bytes], list[list[Any]]]:
    """Compile in this process, and read the metadata values each of ``selectors`` labels."""
    with tempfile.TemporaryDirectory(prefix=temp_prefix()) as folder:
        main = _prepare(Path(folder), source, data_json)
        compiler = typst.Compiler(input=str(main), root=folder, font_paths=_fonts())
        try:
            result = compiler.compile(format=format, ppi=ppi, timestamp=FIXED_TIMESTAMP, pdf_tags=source.tagged)
            found = [json.loads(compiler.query(selector, field="value")) for selector in selectors]
        except typst.TypstError as error:
            failure = {
                "message": error.message,
                "diagnostic": error.diagnostic,
                "hints": error.hints,
                "trace": error.trace,
            }
            raise _error(failure, source) from None
    pages = [] if result is None else result if isinstance(result, list) else [result]
    return pages, found


def compile_document(
    source: TypstSource, data_json: bytes, *, format: OutputFormat = "pdf", ppi: float = 144.0
) -> list[bytes]:
    """Compile to PDF (one item) or to PNG/SVG (one item per page), in this process."""
    return query_document(source, data_json, format=format, ppi=ppi)[0]


def compile_in_worker(
    source: TypstSource,
    data_json: bytes | Callable[[], bytes],
    *,
    format: OutputFormat,
    ppi: float,
    stop: Callable[[], str | None],
) -> tuple[list[bytes], dict[str, Any]]:
    """Compile one chunk in a fresh process; returns its pages and where its content ended.
    ``data_json`` may be a function that makes the data file: then it is made only now, so
    that the data files of chunks still waiting do not take memory.

    The process is ended, and ``Cancelled`` raised, as soon as ``stop()`` gives a reason
    (polled every 20 ms).
    """
    with tempfile.TemporaryDirectory(prefix=temp_prefix()) as folder:
        root = Path(folder)
        _prepare(root, source, data_json() if callable(data_json) else data_json)
        tags = "tagged" if source.tagged else "untagged"
        command = [
            *(sys.executable, "-S", "-I", str(WORKER)),
            *(folder, format, str(ppi), str(FONTS_DIR), str(FIXED_TIMESTAMP), tags, TYPST_PATH),
        ]
        with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as process:
            assert process.stderr is not None
            errors = bytearray()
            try:
                # Wake up as soon as the worker ends (its stderr closes), or every 20 ms to ask stop().
                while True:
                    reason = stop()
                    if reason is not None:
                        raise Cancelled(reason)
                    readable, _, _ = select.select([process.stderr], [], [], 0.02)
                    if readable:
                        piece = os.read(process.stderr.fileno(), 65536)
                        if not piece:
                            break
                        errors += piece
                process.wait()
            finally:
                if process.poll() is None:
                    process.kill()
            stderr = errors.decode(errors="replace")
        result_file = root / "result.json"
        if not result_file.exists():
            msg = f"a Typst worker process failed (exit status {process.returncode}): {stderr.strip()[-500:]}"
            raise RenderError(msg)
        result = json.loads(result_file.read_text())
        if "error" in result:
            raise _error(result["error"], source)
        pages = [(root / f"page-{n:05d}.{format}").read_bytes() for n in range(1, result["pages"] + 1)]
    return pages, {**result["end"], "peak_mb": result["peak_mb"], "marks": result["marks"]}
