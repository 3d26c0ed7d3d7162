"""A long tagged report (``tagged_pdf: true``) before and after another checkout, side by side:
the ledger of ``benchmarks/ledger.py`` (the example report over ``ledger_data(rows)``), tagged,
rendered and saved as PDF in a fresh process per run, the two checkouts alternating. Prints
each run's wall time, CPU time and peak memory (PSS) of every process of the tree (sampled from
/proc every 50 ms: Typst workers, and the children they fork for a job), pages and how it was
typeset (``doc.stats["typeset"]``), then medians and paired ratios.

    git -C /work/main archive HEAD | (mkdir -p /tmp/before && tar -x -C /tmp/before)
    python benchmarks/tagged.py --before /tmp/before --rows 100000 --rounds 2

Before this branch a tagged report was typeset in one piece (one Typst process for every page);
now it is typeset in chunks like an untagged one and the joiner keeps one structure tree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CHILD = """
import json, sys
import polarreports as pr
from polarreports.typeset.compile import default_compiler
report = pr.load("examples/sales_by_region.yaml").model_copy(update={"tagged_pdf": True})
document = report.render(sys.argv[1])
document.save(sys.argv[2])
default_compiler().close()  # reap the idle workers, so that their CPU time is counted
print(json.dumps({"typeset": document.stats["typeset"], "pages": document.page_count}))
"""


TICK = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    """``pid`` and every process under it (children of each thread: a thread starts a worker)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            threads = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        for thread in threads:
            try:
                todo.extend(int(child) for child in (thread / "children").read_text().split())
            except (OSError, ValueError):
                continue
    return found


def _pss_mb(pid: int) -> float:
    """Proportional set size: a page shared by a worker and the child it forked for a job
    counts half in each, so the sum over the tree is what the tree holds."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def measure(checkout: Path, data: Path, out: Path) -> dict[str, Any]:
    """One render in a fresh process importing ``checkout``: wall time; CPU time and peak memory
    (PSS) of every process of its tree, sampled from /proc every 50 ms (a job child forked by a
    worker and killed with it is counted too, which the rusage of waited children misses)."""
    environment = {**os.environ, "PYTHONPATH": str(checkout)}
    command = [sys.executable, "-c", CHILD, str(data), str(out)]
    peak, cpu = [0.0], dict[int, float]()
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=checkout, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            pids = _tree(process.pid)
            peak[0] = max(peak[0], sum(_pss_mb(pid) for pid in pids))
            for pid in pids:
                cpu[pid] = max(cpu.get(pid, 0.0), _cpu_s(pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    stdout, stderr = process.communicate()
    if os.waitstatus_to_exitcode(status):  # (say a ResourceError: the one piece needed too much)
        result = {"pages": 0, "typeset": "FAILED: " + stderr.decode().strip().splitlines()[-1][:300]}
    else:
        result = json.loads(stdout.decode().strip().splitlines()[-1])
    # (each process's last 50 ms may be missed; the rusage of the waited tree, for comparison)
    return {
        "wall_s": wall,
        "cpu_s": sum(cpu.values()),
        "peak_mb": peak[0],
        "rusage_cpu_s": usage.ru_utime + usage.ru_stime,
        **result,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="the other checkout (a folder)")
    parser.add_argument("--rows", type=int, default=100_000, help="ledger orders (default: 100000)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    import ledger

    sides = {"before": args.before.resolve(), "after": HERE.parent}
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="tagged-bench-") as folder:
        data = Path(folder) / "ledger.parquet"
        ledger.ledger_data(args.rows).write_parquet(data)
        for round_ in range(args.rounds):
            for side in ("before", "after") if round_ % 2 == 0 else ("after", "before"):
                run = measure(sides[side], data, Path(folder) / f"{side}.pdf")
                runs[side].append(run)
                print(
                    f"round {round_ + 1} {side:>6}: {run['wall_s']:6.1f} s wall {run['cpu_s']:6.1f} s CPU "
                    f"{run['peak_mb']:6.0f} MB peak (rusage CPU {run['rusage_cpu_s']:.1f} s), {run['pages']} pages, "
                    f"{run['typeset']} "
                    f"(load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    for key in ("wall_s", "cpu_s", "peak_mb"):
        before, after = [r[key] for r in runs["before"]], [r[key] for r in runs["after"]]
        paired = statistics.median(a / b for a, b in zip(after, before, strict=True))
        print(f"{key}: {statistics.median(before):.1f} -> {statistics.median(after):.1f} (paired x{paired:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
