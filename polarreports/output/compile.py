"""Typst compilation in an empty per-render root folder, with errors traced to the definition.

Each compile gets a fresh temporary root holding only the data file and the report's assets
(copied, never linked), the fonts that ship with polarreports, and no system fonts.
"""

from __future__ import annotations

import functools
import re
import shutil
import tempfile
from pathlib import Path
from typing import Literal

import typst

from polarreports.exceptions import RenderError
from polarreports.layout.typst_source import DATA_FILE, TypstSource

__all__ = ["FONTS_DIR", "OutputFormat", "compile_document"]

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"
OutputFormat = Literal["pdf", "png", "svg"]
_LOCATION = re.compile(r"__typst_py_bytes__\.typ:(\d+):(\d+)")
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


def compile_document(
    source: TypstSource, data_json: bytes, *, format: OutputFormat = "pdf", ppi: float = 144.0
) -> list[bytes]:
    """Compile to PDF (one item) or to PNG/SVG (one item per page)."""
    with tempfile.TemporaryDirectory(prefix="polarreports-") as folder:
        root = Path(folder)
        (root / DATA_FILE).write_bytes(data_json)
        for name, path in source.assets.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target, follow_symlinks=True)
        compiler = typst.Compiler(root=str(root), font_paths=_fonts())
        try:
            result = compiler.compile(
                input=source.source.encode(),
                format=format,
                ppi=ppi,
                timestamp=FIXED_TIMESTAMP,
                pdf_tags=False,
            )
        except typst.TypstError as error:
            raise _error(error, source) from None
    if result is None:
        return []
    return result if isinstance(result, list) else [result]
