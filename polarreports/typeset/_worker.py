"""The Typst worker's handler: typesets jobs one after another, with typst and its fonts loaded
once. Loaded by the warm worker process (``polarreports/workers/_child.py``), never imported by
the package's users: it uses only the standard library and typst.

Each job is ``{"root", "format", "ppi", "timestamp", "tagged", "pdf_standards", "selectors"}``
(with PDF standards, the document is dated: ``sys.inputs.dated`` is ``"yes"``). The handler
typesets ``ROOT/report.typ`` (which reads ``ROOT/data.json``), writes the pages to
``ROOT/page-00001.FORMAT`` ..., and answers ``{"pages": n, "values": [...], "warnings": [...]}``
(``values``: per selector, the metadata values it labels), or ``{"error": {"message",
"diagnostic", "hints", "trace"}}`` when Typst fails. Where Typst runs out of the worker's
address space it aborts (``memory allocation of N bytes failed``): the parent sees the process
die.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typst

_OWN_FONTS: dict[tuple[str, ...], tuple[typst.Fonts, Path]] = {}
"""The shipped fonts plus a report's own (by their files' names, which hash their bytes): the
last few sets, so that the chunks of one report load its fonts once."""


def _fonts(folder: Path, shipped: typst.Fonts, fonts_dir: str, *, forked: bool) -> typst.Fonts:
    """The fonts of a job: the shipped ones, plus those in the compile folder's ``fonts/`` (a
    report's own, put there by polarreports under names of its own). A child forked for one
    job reads them where they are: it ends with the job."""
    own = folder / "fonts"
    if not own.is_dir():
        return shipped
    key = tuple(sorted(path.name for path in own.iterdir()))
    if forked:
        return _OWN_FONTS[key][0] if key in _OWN_FONTS else _font_set(fonts_dir, own)
    if key not in _OWN_FONTS:
        if len(_OWN_FONTS) >= 4:
            _, oldest = _OWN_FONTS.pop(next(iter(_OWN_FONTS)))
            shutil.rmtree(oldest, ignore_errors=True)
        # the job's folder is removed after it; Typst reads font files when it needs them
        kept = Path(tempfile.mkdtemp(prefix=f"polarreports-{os.getpid()}-fonts-"))
        for path in own.iterdir():
            shutil.copyfile(path, kept / path.name)
        _OWN_FONTS[key] = (_font_set(fonts_dir, kept), kept)
    return _OWN_FONTS[key][0]


def _font_set(fonts_dir: str, own: Path) -> typst.Fonts:
    return typst.Fonts(include_system_fonts=False, include_embedded_fonts=True, font_paths=[fonts_dir, str(own)])


@atexit.register
def _remove_font_copies() -> None:
    for _, kept in _OWN_FONTS.values():
        shutil.rmtree(kept, ignore_errors=True)


def _typeset(request: dict[str, Any], fonts: typst.Fonts) -> dict[str, Any]:
    folder = Path(request["root"])
    output_format = request["format"]
    standards = request.get("pdf_standards") or []
    compiler = typst.Compiler(
        input=str(folder / "report.typ"),
        root=str(folder),
        font_paths=fonts,
        sys_inputs={"dated": "yes"} if standards else {},
    )
    try:
        result, found = compiler.compile_with_warnings(
            format=output_format,
            ppi=float(request["ppi"]),
            timestamp=int(request["timestamp"]),
            pdf_tags=bool(request["tagged"]),
            pdf_standards=standards,
        )
        values = [json.loads(compiler.query(selector, field="value")) for selector in request["selectors"]]
    except typst.TypstError as error:
        failure = {"message": error.message, "diagnostic": error.diagnostic, "hints": error.hints, "trace": error.trace}
        return {"error": failure}
    pages = [] if result is None else result if isinstance(result, list) else [result]
    for number, page in enumerate(pages, start=1):
        (folder / f"page-{number:05d}.{output_format}").write_bytes(page)
    warnings = list(dict.fromkeys(str(warning.message) for warning in found))[:20]
    return {"pages": len(pages), "values": values, "warnings": warnings}


def setup(args: list[str]) -> Callable[..., None]:
    """The job handler, given the shipped fonts' folder: those fonts are parsed once, here."""
    (fonts_dir,) = args
    shipped = typst.Fonts(include_system_fonts=False, include_embedded_fonts=True, font_paths=[fonts_dir])

    def handle(request: dict[str, Any], answer: Callable[[dict[str, Any]], None], *, forked: bool) -> None:
        fonts = _fonts(Path(request["root"]), shipped, fonts_dir, forked=forked)
        answer(_typeset(request, fonts))

    return handle
