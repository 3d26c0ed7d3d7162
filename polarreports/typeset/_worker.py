"""Typeset one chunk of a report in a fresh process, so its memory goes back when it ends.

Run as a script, never imported by the package's users: it loads only the standard library
and typst, so it starts in a few hundredths of a second::

    python -S -I _worker.py ROOT FORMAT PPI FONTS_DIR TIMESTAMP tagged|untagged TYPST_PATH

``-S`` skips the site module (half of Python's start-up time); ``TYPST_PATH`` is the folder
the typst package is imported from.

It reads ``ROOT/report.typ`` (which reads ``ROOT/data.json``), writes the pages to
``ROOT/page-00001.FORMAT`` ... and ``ROOT/result.json``: ``{"pages": n, "end": {...},
"peak_mb": m, "marks": [[band, page], ...]}``, or
``{"error": {"message", "diagnostic", "hints", "trace"}}`` when Typst fails.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

if __name__ == "__main__":  # started with -S: find typst where the parent found it
    sys.path.insert(0, sys.argv[-1])

import typst


def _peak_rss_mb() -> float:
    """This process's peak resident memory since it started running this script (VmHWM is
    reset by exec, unlike ru_maxrss, which would count the parent's memory before the exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover (no /proc)


def main(argv: list[str]) -> int:
    root, output_format, ppi, fonts, timestamp, tags, _ = argv  # the format is pdf, png or svg (the caller's)
    folder = Path(root)
    compiler = typst.Compiler(
        input=str(folder / "report.typ"),
        root=root,
        font_paths=typst.Fonts(include_system_fonts=False, include_embedded_fonts=True, font_paths=[fonts]),
    )
    try:
        result = compiler.compile(
            format=output_format,  # type: ignore[arg-type]
            ppi=float(ppi),
            timestamp=int(timestamp),
            pdf_tags=tags == "tagged",
        )
        end = json.loads(compiler.query("<polarreports-end>", field="value", one=True))
        marks = json.loads(compiler.query("<polarreports-mark>", field="value"))
    except typst.TypstError as error:
        failure = {"message": error.message, "diagnostic": error.diagnostic, "hints": error.hints, "trace": error.trace}
        (folder / "result.json").write_text(json.dumps({"error": failure}))
        return 3
    pages = [] if result is None else result if isinstance(result, list) else [result]
    for number, page in enumerate(pages, start=1):
        (folder / f"page-{number:05d}.{output_format}").write_bytes(page)
    peak_mb = _peak_rss_mb()
    summary = {"pages": len(pages), "end": end, "peak_mb": peak_mb, "marks": marks}
    (folder / "result.json").write_text(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
