"""This checkout against another one (say the commit before a change), side by side: each run in
a fresh process, the two alternating, medians and paired ratios. On a shared machine, read the
CPU seconds (of the whole process tree for the ledger): load distorts them less than wall time.

    git archive HEAD~1 | (mkdir -p /tmp/before && tar -x -C /tmp/before)
    python benchmarks/paired.py --before /tmp/before ledger --rows 20000 --rounds 4
    python benchmarks/paired.py --before /tmp/before small --rounds 5

``ledger``: the polarreports side of ``benchmarks/ledger.py`` (wall, CPU of the tree, peak memory
of the tree, and whether the PDF bytes are the same). ``small``: the 150-row
``examples/sales_by_region.yaml`` rendered again 30 times in one process (``render()`` then
``.pdf``): the median wall time and CPU time of that process per re-render, and the fastest.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SMALL = """
import json, statistics, time
import polarreports as pr
report = pr.load("examples/sales_by_region.yaml")
rows = pr.sample.sales_data(150)
for _ in range(5):
    report.render(rows).pdf
wall, cpu = [], []
for _ in range(30):
    c, s = time.process_time(), time.perf_counter()
    report.render(rows).pdf
    wall.append(time.perf_counter() - s)
    cpu.append(time.process_time() - c)
print(json.dumps({"wall_ms": 1000 * statistics.median(wall), "cpu_ms": 1000 * statistics.median(cpu),
                  "fastest_ms": 1000 * min(wall)}))
"""


def _small(checkout: Path) -> dict[str, Any]:
    environment = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run(
        [sys.executable, "-c", SMALL], cwd=checkout, env=environment, capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _ledger(checkout: Path, data: Path, out: Path) -> dict[str, Any]:
    import ledger

    os.environ["PYTHONPATH"] = str(checkout)  # the render's fresh process imports this checkout
    run = ledger.measure("polarreports", data, out)
    run["sha"] = hashlib.sha256(out.read_bytes()).hexdigest()[:12]
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="the other checkout (a folder)")
    parser.add_argument("case", choices=["ledger", "small"])
    parser.add_argument("--rows", type=int, default=20_000, help="ledger orders (default: 20000)")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    sides = {"before": args.before.resolve(), "after": HERE.parent}
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="paired-") as folder:
        data = Path(folder) / "ledger.parquet"
        if args.case == "ledger":
            sys.path.insert(0, str(HERE))
            import ledger

            ledger.ledger_data(args.rows).write_parquet(data)
        for round_ in range(args.rounds):
            for side in ("before", "after") if round_ % 2 == 0 else ("after", "before"):
                start = time.perf_counter()
                if args.case == "ledger":
                    run = _ledger(sides[side], data, Path(folder) / f"{side}.pdf")
                else:
                    run = _small(sides[side])
                runs[side].append(run)
                shown = {k: round(v, 2) if isinstance(v, float) else v for k, v in run.items() if k != "stats"}
                print(f"round {round_ + 1} {side:>6} ({time.perf_counter() - start:.0f} s): {shown}", flush=True)
    keys = ("wall_s", "cpu_s", "peak_mb") if args.case == "ledger" else ("wall_ms", "cpu_ms", "fastest_ms")
    for key in keys:
        before, after = [r[key] for r in runs["before"]], [r[key] for r in runs["after"]]
        paired = statistics.median(a / b for a, b in zip(after, before, strict=True))
        print(f"{key}: {statistics.median(before):.2f} -> {statistics.median(after):.2f} (paired x{paired:.3f})")
    if args.case == "ledger":
        print("same PDF bytes:", len({r["sha"] for side in runs.values() for r in side}) == 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
