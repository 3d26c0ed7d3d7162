"""A Typst worker process: typesets jobs one after another, with typst and its fonts loaded once.

Run as a script, never imported by the package's users: it loads only the standard library
and typst, so it starts in a few hundredths of a second::

    python -S -I _worker.py FONTS_DIR PARENT_PID TYPST_PATH

``-S`` skips the site module (half of Python's start-up time); ``TYPST_PATH`` is the folder
the typst package is imported from. It ends when its parent ends (its job pipe closes, or,
while it typesets, its parent process id changes).

Each job is one JSON line on stdin: ``{"root", "format", "ppi", "timestamp", "tagged",
"pdf_standards", "selectors", "address_space_mb"}`` (with PDF standards, the document is dated:
``sys.inputs.dated`` is ``"yes"``). The worker typesets ``ROOT/report.typ`` (which reads
``ROOT/data.json``) with its address space capped at ``address_space_mb`` (so an exploding
compile fails here, not in the machine), writes the pages to ``ROOT/page-00001.FORMAT`` ...,
and answers, after a ``+`` as it takes the job, with one JSON line on its stdout: ``{"pages":
n, "values": [...], "peak_mb": m, "rss_mb": r, "start_mb": s}`` (``values``: per selector,
the metadata values it labels; then its resident memory at the job's peak, after it and
before it), or ``{"error": {"message", "diagnostic", "hints", "trace"}}`` when Typst fails,
or ``{"memory": ...}`` / ``{"crash": ...}`` before it ends itself. Where Typst runs out of
its address space it aborts (``memory allocation of N bytes failed``): the parent sees the
process die.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

if __name__ == "__main__":  # started with -S: find typst where the parent found it
    sys.path.insert(0, sys.argv[-1])

import typst


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmHWM: peak resident, VmRSS: now)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:  # pragma: no cover (no /proc)
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def _reset_peak() -> None:
    """Start the peak resident memory (VmHWM) again from now, so each job reports its own."""
    with contextlib.suppress(OSError):  # an old kernel or no /proc: the peak since the start
        Path("/proc/self/clear_refs").write_text("5")


def _watch_parent(parent: int) -> None:
    """End this process as soon as its parent is gone, even in the middle of a job."""
    while True:
        time.sleep(0.2)
        if os.getppid() != parent:
            os._exit(1)


_OWN_FONTS: dict[tuple[str, ...], tuple[typst.Fonts, Path]] = {}
"""The shipped fonts plus a report's own (by their files' names, which hash their bytes): the
last few sets, so that the chunks of one report load its fonts once."""


def _fonts(folder: Path, shipped: typst.Fonts, fonts_dir: str) -> typst.Fonts:
    """The fonts of a job: the shipped ones, plus those in the compile folder's ``fonts/`` (a
    report's own, put there by polarreports under names of its own)."""
    own = folder / "fonts"
    if not own.is_dir():
        return shipped
    key = tuple(sorted(path.name for path in own.iterdir()))
    if key not in _OWN_FONTS:
        if len(_OWN_FONTS) >= 4:
            _, oldest = _OWN_FONTS.pop(next(iter(_OWN_FONTS)))
            shutil.rmtree(oldest, ignore_errors=True)
        # the job's folder is removed after it; Typst reads font files when it needs them
        kept = Path(tempfile.mkdtemp(prefix=f"polarreports-{os.getpid()}-fonts-"))
        for path in own.iterdir():
            shutil.copyfile(path, kept / path.name)
        fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=True, font_paths=[fonts_dir, str(kept)])
        _OWN_FONTS[key] = (fonts, kept)
    return _OWN_FONTS[key][0]


@atexit.register
def _remove_font_copies() -> None:
    for _, kept in _OWN_FONTS.values():
        shutil.rmtree(kept, ignore_errors=True)


def _typeset(request: dict[str, Any], fonts: typst.Fonts, fonts_dir: str) -> dict[str, Any]:
    folder = Path(request["root"])
    output_format = request["format"]
    standards = request.get("pdf_standards") or []
    compiler = typst.Compiler(
        input=str(folder / "report.typ"),
        root=str(folder),
        font_paths=_fonts(folder, fonts, fonts_dir),
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


def serve(fonts_dir: str, out: BinaryIO) -> int:
    """Answer the jobs on stdin until it closes (0) or a job leaves this process unusable (1)."""
    fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=True, font_paths=[fonts_dir])
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    for line in sys.stdin.buffer:
        out.write(b"+")  # taken: a worker that dies before this never saw the job
        out.flush()
        request = json.loads(line)
        cap = int(request["address_space_mb"] * 2**20)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        _reset_peak()
        start_mb = _status_mb("VmRSS")
        ended = False
        try:
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
            answer = _typeset(request, fonts, fonts_dir)
        except MemoryError:
            answer, ended = {"memory": "MemoryError"}, True
        except BaseException as error:  # a Rust panic (PanicException) among them: this process ends
            answer, ended = {"crash": f"{type(error).__name__}: {error}"[:2000]}, True
        finally:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        answer.update(peak_mb=_status_mb("VmHWM"), rss_mb=_status_mb("VmRSS"), start_mb=start_mb)
        out.write(json.dumps(answer).encode() + b"\n")
        out.flush()
        if ended:
            return 1
    return 0


def main(argv: list[str]) -> int:
    fonts_dir, parent, _ = argv
    threading.Thread(target=_watch_parent, args=(int(parent),), daemon=True).start()
    out = os.fdopen(os.dup(1), "wb")  # the answers; anything else printed goes to stderr
    os.dup2(2, 1)
    return serve(fonts_dir, out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
