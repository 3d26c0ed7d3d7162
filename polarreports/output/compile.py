"""Typst compilation in an empty per-render root folder, with errors traced to the definition.

Each compile gets a fresh temporary root holding only the data file and the report's assets
(copied, never linked), the fonts that ship with polarreports, and no system fonts.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

import typst

from polarreports.exceptions import RenderError
from polarreports.layout.typst_source import DATA_FILE, TypstSource

__all__ = ["FONTS_DIR", "OutputFormat", "compile_document", "query_document"]

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"
OutputFormat = Literal["pdf", "png", "svg"]
SOURCE_FILE = "report.typ"
_LOCATION = re.compile(rf"{re.escape(SOURCE_FILE)}:(\d+):(\d+)")
FIXED_TIMESTAMP = 1_704_067_200  # 2024-01-01T00:00:00Z, so the same input gives the same bytes


@functools.cache
def _fonts() -> typst.Fonts:
    return typst.Fonts(include_system_fonts=False, include_embedded_fonts=True, font_paths=[str(FONTS_DIR)])


def _error(error: typst.TypstError, source: TypstSource) -> RenderError:
    lines = [int(m.group(1)) for m in _LOCATION.finditer(error.diagnostic + "\n".join(error.trace))]
    band = element = None
    for line in lines:
        if line in source.origins:
            band, element = source.origins[line]
            break
    where = element or band
    place = f" in {where}" if where else ""
    message = f"Typst could not lay out the report{place}: {error.message}"
    if error.hints:
        message += "\nHint: " + "\nHint: ".join(error.hints)
    return RenderError(message, band=band, element=element, typst_message=error.message)


def _run(
    source: TypstSource, data_json: bytes, *, format: OutputFormat, ppi: float, query: str | None
) -> tuple[list[bytes], Any]:
    with tempfile.TemporaryDirectory(prefix="polarreports-") as folder:
        root = Path(folder)
        (root / DATA_FILE).write_bytes(data_json)
        for name, path in source.assets.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target, follow_symlinks=True)
        main = root / SOURCE_FILE
        main.write_text(source.source, encoding="utf-8")
        compiler = typst.Compiler(input=str(main), root=str(root), font_paths=_fonts())
        try:
            result = compiler.compile(format=format, ppi=ppi, timestamp=FIXED_TIMESTAMP, pdf_tags=False)
            found = json.loads(compiler.query(query, field="value", one=True)) if query else None
        except typst.TypstError as error:
            raise _error(error, source) from None
    pages = [] if result is None else result if isinstance(result, list) else [result]
    return pages, found


def compile_document(
    source: TypstSource, data_json: bytes, *, format: OutputFormat = "pdf", ppi: float = 144.0
) -> list[bytes]:
    """Compile to PDF (one item) or to PNG/SVG (one item per page)."""
    return _run(source, data_json, format=format, ppi=ppi, query=None)[0]


def query_document(
    source: TypstSource, data_json: bytes, selector: str, *, format: OutputFormat = "pdf", ppi: float = 144.0
) -> tuple[list[bytes], Any]:
    """Compile, then read the value of the one metadata element labelled ``selector``."""
    return _run(source, data_json, format=format, ppi=ppi, query=selector)
