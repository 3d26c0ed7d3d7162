"""Does a batch worker gain from typesetting in its own process instead of its warm Typst worker?

    python benchmarks/batch_compile.py

Renders one-page statements (as ``benchmarks/batch.py``) one after another in this process,
alternating, document by document, between the Typst worker process every render uses (warm:
typst and its fonts loaded once) and typst called in this process (its fonts loaded once too),
and prints the median time of a statement each way, and whether both give the same bytes.
An experiment, not a product path: it swaps the document's compiler (a private attribute).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import typst

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from batch import STATEMENT, statements  # noqa: E402

import polarreports as pr  # noqa: E402
from polarreports.resources import FONTS_DIR  # noqa: E402
from polarreports.typeset.compile import FIXED_TIMESTAMP, Compiled, CompileJob, _prepare  # noqa: E402


class InProcessCompiler:
    """Typesets in this process (no memory cap, no stop: for the comparison only)."""

    def __init__(self) -> None:
        self.fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=True, font_paths=[str(FONTS_DIR)])

    def compile(self, job: CompileJob, **_: Any) -> Compiled:
        with tempfile.TemporaryDirectory() as folder:
            main = _prepare(Path(folder), job.source, job.data())
            compiler = typst.Compiler(input=str(main), root=folder, font_paths=self.fonts)
            result = compiler.compile(
                format=job.format, ppi=job.ppi, timestamp=FIXED_TIMESTAMP, pdf_tags=job.source.tagged
            )
            values = [json.loads(compiler.query(selector, field="value")) for selector in job.selectors]
        return Compiled(result if isinstance(result, list) else [result], values)


def main() -> int:
    report = pr.load(STATEMENT)
    parts = list(statements(84).partition_by("customer_no", as_dict=True).values())
    in_process = InProcessCompiler()

    def one(rows: Any, *, here: bool) -> tuple[float, bytes]:
        start = time.perf_counter()
        document = report.render(rows)
        if here:
            document._compiler = in_process  # the experiment's swap
        pdf = document.pdf
        return time.perf_counter() - start, pdf

    for rows in parts[:4]:  # both warm
        one(rows, here=False)
        one(rows, here=True)
    worker, here, same = [], [], True
    for i, rows in enumerate(parts[4:]):
        seconds, pdf = one(rows, here=i % 2 == 1)
        (here if i % 2 else worker).append(seconds)
        if i < 4:
            same &= one(rows, here=i % 2 == 0)[1] == pdf
    a, b = statistics.median(worker), statistics.median(here)
    print(
        f"warm Typst worker {a * 1000:.0f} ms, in this process {b * 1000:.0f} ms a statement "
        f"(median of {len(worker)} each, alternating): ratio {a / b:.2f}; same bytes: {same}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
