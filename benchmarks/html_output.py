"""The HTML output's speed and memory at 100K and 1M rows (examples/sales_by_region.yaml, read
from Parquet), each size in a fresh process:

    python benchmarks/html_output.py                     # 100K and 1M rows (about a minute on 2 cores)
    python benchmarks/html_output.py --rows 100000 --pdf  # and the PDF of the same render, for the ratio

For each: the render (plan, data, band stream) and the writing of the page, their times, the
peak memory of the process tree during each (sampled from /proc, see run.py), and the page's
size. The page is written a batch of bands at a time from the band stream (kept in a temporary
file when large), so the writing's peak should not grow with the rows: the memory it adds to
the render's is printed as ``save_extra_mb``. Results go to benchmarks/results/html.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import EXAMPLE, RESULTS, TreeMemory, data_file  # noqa: E402 (beside this file)


def child(data: Path, pdf: bool) -> dict[str, Any]:
    import polarreports as pr

    with tempfile.TemporaryDirectory() as folder:
        with TreeMemory() as rendering:
            start = time.perf_counter()
            document = pr.load(EXAMPLE).render(data)
            rendered = time.perf_counter()
        with TreeMemory() as saving:
            page = Path(folder) / "report.html"
            document.save(page)
            saved = time.perf_counter()
        result = {
            "rows": document.stats["rows"],
            "render_s": rendered - start,
            "html_s": saved - rendered,
            "render_peak_mb": rendering.peak_mb,
            "save_peak_mb": saving.peak_mb,
            "save_extra_mb": max(0.0, saving.peak_mb - rendering.peak_mb),
            "html_mb": page.stat().st_size / 2**20,
        }
        if pdf:
            begin = time.perf_counter()
            document.save(Path(folder) / "report.pdf")
            result["pdf_s"] = time.perf_counter() - begin
            result["html_vs_pdf"] = result["html_s"] / result["pdf_s"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--pdf", action="store_true", help="also time the PDF of the same render")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(child(Path(options.child), options.pdf)))
        return 0
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for rows in options.rows:
            command = [sys.executable, __file__, "--child", str(data_file(Path(folder), rows))]
            run = subprocess.run(
                command + (["--pdf"] if options.pdf else []), capture_output=True, text=True, check=True
            )
            result = json.loads(run.stdout.strip().splitlines()[-1])
            results.append(result)
            print(
                f"{result['rows']:>9,} rows: render {result['render_s']:6.2f} s "
                f"(peak {result['render_peak_mb']:5.0f} MB), "
                f"HTML {result['html_s']:6.2f} s (peak {result['save_peak_mb']:5.0f} MB, "
                f"+{result['save_extra_mb']:.0f} MB), {result['html_mb']:.0f} MB page"
                + (f", PDF {result['pdf_s']:.2f} s (HTML/PDF {result['html_vs_pdf']:.2f})" if "pdf_s" in result else "")
            )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "html.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
