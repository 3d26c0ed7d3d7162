"""The data phase's cost of barcodes and Markdown cells, which do Python work per distinct value.

    PYTHONPATH=$PWD python benchmarks/distinct_values.py   # about 15 s

100,000 rows with 1,000 distinct values, rendered (data phase only: no typesetting) with a
plain field, a Code 128 barcode of it, and a Markdown field; the caches are cleared before
each render, and the three alternate, three rounds, medians printed.
"""

from __future__ import annotations

import statistics
import time

import polars as pl

import polarreports as pr
from polarreports.compute import markup
from polarreports.plan import barcodes

ROWS, DISTINCT = 100_000, 1_000
ELEMENTS = {
    "plain": {"type": "field", "column": "code"},
    "code128": {"type": "barcode", "column": "code", "width": "40mm"},
    "qr": {"type": "barcode", "column": "code", "symbology": "qr", "width": "20mm", "height": "20mm"},
    "markdown": {"type": "field", "column": "note", "markup": "markdown"},
}


def main() -> None:
    data = pl.DataFrame(
        {
            "code": [f"P{i % DISTINCT:05d}" for i in range(ROWS)],
            "note": [f"**item** {i % DISTINCT}\n- *a* list" for i in range(ROWS)],
        }
    )
    times: dict[str, list[float]] = {kind: [] for kind in ELEMENTS}
    for _ in range(3):
        for kind, element in ELEMENTS.items():
            barcodes.draw.cache_clear()
            markup.markdown_json.cache_clear()
            report = pr.Report(name=kind, bands={"detail": {"elements": [element]}})
            start = time.perf_counter()
            report.render(data)
            times[kind].append(time.perf_counter() - start)
    for kind, seconds in times.items():
        print(f"{kind:9} {statistics.median(seconds):6.2f} s  ({', '.join(f'{s:.2f}' for s in seconds)})")


if __name__ == "__main__":
    main()
