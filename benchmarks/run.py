"""Render the grouped example at several sizes and print where the time and memory go.

Each size runs in a fresh process (so peak memory is that render's own), reading the sample
data from a Parquet file. Results go to ``benchmarks/results/latest.json`` and are compared
with the targets in ``benchmarks/baselines.json``; the exit status is 1 if a target is missed.

    python benchmarks/run.py                 # 10K and 100K rows
    python benchmarks/run.py --rows 20000    # one size
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE = ROOT / "examples" / "sales_by_region.yaml"


class TreeMemory:
    """Samples the resident memory of this process and all its descendants (from /proc), so
    that worker processes count too; ``peak_mb`` is the largest total seen."""

    def __init__(self, interval: float = 0.02) -> None:
        self.peak_mb = 0.0
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, tree_rss_mb(os.getpid()))
            self._stop.wait(self._interval)


def tree_rss_mb(pid: int) -> float:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parent = int(fields.get("PPid", "0").strip() or 0)
        children.setdefault(parent, []).append(int(entry.name))
        rss[int(entry.name)] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo.extend(children.get(current, []))
    return total / 1024


def measure(rows: int, data: Path) -> dict[str, float]:
    """Runs in the child process: render ``data`` with the example report, timing each phase."""
    import polarreports as pr

    memory = TreeMemory().__enter__()
    start = time.perf_counter()
    document = pr.load(EXAMPLE).render(data)
    rendered = time.perf_counter()
    pdf = document.pdf
    typeset = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        document.save(Path(folder) / "report.pdf")
    written = time.perf_counter()
    memory.__exit__()
    pages = document.page_count
    total = written - start
    return {
        "rows": rows,
        "pages": pages,
        "plan_s": document.stats["plan_s"],
        "data_s": document.stats["data_s"],
        "layout_s": document.stats["layout_s"],
        "render_call_s": rendered - start,
        "typst_s": typeset - rendered,
        "write_s": written - typeset,
        "total_s": total,
        "pages_per_s": pages / total,
        "peak_rss_mb": max(memory.peak_mb, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "typeset": document.stats.get("typeset", ""),
        "pdf_mb": len(pdf) / 1e6,
    }


def run_size(rows: int) -> dict[str, float]:
    from polarreports.sample import write_sales_data

    with tempfile.TemporaryDirectory() as folder:
        data = write_sales_data(Path(folder) / "sales.parquet", rows)
        output = subprocess.run(
            [sys.executable, __file__, "--child", str(rows), str(data)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def check(results: list[dict[str, float]], baselines: dict[str, dict[str, float]]) -> list[str]:
    misses = []
    for result in results:
        target = baselines.get(str(int(result["rows"])))
        if not target:
            continue
        for key, limit in target.items():
            if result[key] > limit:
                misses.append(f"{int(result['rows']):,} rows: {key} = {result[key]:.2f}, target at most {limit}")
    return misses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, action="append", help="row counts (default: 10000 and 100000)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(int(args.child[0]), Path(args.child[1]))))
        return 0
    sizes = args.rows or [10_000, 100_000]
    results = [run_size(rows) for rows in sizes]
    columns = ["rows", "pages", "data s", "layout s", "typst s", "write s", "total s", "pages/s", "peak MB"]
    print(" ".join(f"{c:>9}" for c in columns))
    for r in results:
        cells = [
            f"{int(r['rows']):,}",
            f"{int(r['pages'])}",
            f"{r['plan_s'] + r['data_s']:.2f}",
            f"{r['layout_s']:.3f}",
            f"{r['typst_s']:.2f}",
            f"{r['write_s']:.3f}",
            f"{r['total_s']:.2f}",
            f"{r['pages_per_s']:.1f}",
            f"{r['peak_rss_mb']:.0f}",
        ]
        print(" ".join(f"{c:>9}" for c in cells))
    baselines = json.loads((HERE / "baselines.json").read_text())
    misses = check(results, baselines)
    record = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()}, {platform.python_version()}, {__import__('os').cpu_count()} cores",
        "results": results,
        "targets_missed": misses,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "latest.json").write_text(json.dumps(record, indent=2) + "\n")
    for miss in misses:
        print(f"MISSED: {miss}")
    if not misses:
        print("all targets met")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
