"""polarreports' speed and memory, measured against its targets and its peers.

    python benchmarks/run.py            # everything (about 5 minutes on 2 cores)
    python benchmarks/run.py --quick    # 10K and 100K rows only
    python benchmarks/run.py --exports [100000,1000000]  # every output of one render (default 100K rows)

Sections (each render in a fresh process, so memory is its own):
- grouped: the example report (examples/sales_by_region.yaml) at 10K, 100K and 1M rows, read
  from Parquet: time of each phase, pages per second, peak memory of the whole process tree
  (this process and its Typst workers, sampled from /proc), and how that peak grows with the rows;
- workers: 100K rows with one worker process and with one per core: the speed-up;
- summary: a summary-only report over 10M rows against the bare Polars group_by().agg();
- small: a 1-5 page report rendered again in the same process; preview: the first page of a
  100K and a 1M row report; concurrency: 100 small reports at once from one process;
- page_values: the sales ledger (page subtotals, brought/carried forward) at 20K rows with and
  without its values per page, and at 40K rows (it must grow with the rows);
- exports: the example report at 100K (and 1M) rows saved as PDF, HTML, Parquet, CSV, JSON and XLSX from
  one render: the time and peak memory of each save (``--exports``: only this, at 100K rows);
- peers: ReportLab (PLATYPUS) and a plain hand-written Typst document of the same 100K rows
  (benchmarks/peers.py), as ratios.

Results go to benchmarks/results/latest.json (and a plot, scaling.svg); the targets are in
benchmarks/baselines.json, and the exit status is 1 if one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE = ROOT / "examples" / "sales_by_region.yaml"
SUMMARY = ROOT / "examples" / "sales_summary.yaml"
LEDGER = ROOT / "examples" / "sales_ledger.yaml"
RESULTS = HERE / "results"


# --- memory of a process tree -----------------------------------------------------------------


def _rss_kb(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (of each of its threads: a thread starts a worker)."""
    found: list[int] = []
    try:
        threads = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for thread in threads:
        try:
            found.extend(int(child) for child in (thread / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return found


PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _command(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, from /proc (only the tree is read,
    so that sampling costs little next to the render it measures). A child that has not yet
    started its own program (between fork and exec) still shares its parent's memory, which
    /proc shows as its own: it is not counted twice."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _rss_kb(current)
        command = _command(current)
        todo.extend(child for child in _children(current) if _command(child) != command)
    return total / 1024


class TreeMemory:
    """Samples this process tree's memory every 20 ms; ``peak_mb`` is the largest total seen."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
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
            self._stop.wait(0.02)


# --- measurements (in child processes) ----------------------------------------------------------


def child_grouped(data: Path, workers: int | None) -> dict[str, Any]:
    import polarreports as pr

    with TreeMemory() as memory:
        start = time.perf_counter()
        document = pr.load(EXAMPLE).render(data, workers=workers)
        rendered = time.perf_counter()
        _ = document.pdf
        typeset = time.perf_counter()
        with tempfile.TemporaryDirectory() as folder:
            document.save(Path(folder) / "report.pdf")
        written = time.perf_counter()
    pages = document.page_count
    return {
        "rows": document.stats["rows"],
        "pages": pages,
        "data_s": document.stats["plan_s"] + document.stats["data_s"],
        "layout_s": document.stats["layout_s"],
        "typst_s": typeset - rendered,
        "write_s": written - typeset,
        "total_s": written - start,
        "pages_per_s": pages / (written - start),
        "peak_mb": memory.peak_mb,
        "typeset": document.stats.get("typeset", ""),
    }


def child_ledger(data: Path, variant: str) -> dict[str, Any]:
    """The sales ledger example (page subtotals, rows per page, brought and carried forward),
    or with ``variant`` "without", the same report with those values replaced by labels."""
    import polarreports as pr

    report = pr.load(LEDGER)
    if variant == "without":
        bands = {}
        for kind in ("page_header", "page_footer"):
            band = getattr(report.bands, kind)
            elements = [
                pr.Label(text="-", width=e.width) if isinstance(e, pr.Aggregate) and e.show != "value" else e
                for e in band.elements
            ]
            bands[kind] = band.model_copy(update={"elements": elements})
        report = report.model_copy(update={"bands": report.bands.model_copy(update=bands)})
    with TreeMemory() as memory:
        start = time.perf_counter()
        document = report.render(data)
        _ = document.pdf
        seconds = time.perf_counter() - start
    return {
        "rows": document.stats["rows"],
        "pages": document.page_count,
        "seconds": seconds,
        "peak_mb": memory.peak_mb,
        "typeset": document.stats.get("typeset", ""),
    }


def child_summary(data: Path) -> dict[str, Any]:
    import polars as pl

    import polarreports as pr

    report = pr.load(SUMMARY)

    def bare() -> None:
        amount = (pl.col("quantity") * pl.col("unit_price")).sum().alias("revenue")
        aggregation = (
            pl.scan_parquet(data).group_by("region", "customer").agg(amount, pl.col("quantity").sum(), pl.len())
        )
        aggregation.collect(engine="streaming")

    def ours() -> None:
        _ = report.render(data).pdf

    bare_times, our_times = [], []
    for _ in range(3):  # side by side, alternating, best of 3
        start = time.perf_counter()
        bare()
        bare_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        ours()
        our_times.append(time.perf_counter() - start)
    return {"bare_s": min(bare_times), "polarreports_s": min(our_times), "ratio": min(our_times) / min(bare_times)}


def child_small(data_100k: Path, data_1m: Path) -> dict[str, Any]:
    import polars as pl

    import polarreports as pr

    report = pr.load(EXAMPLE)
    small = pr.sample.sales_data(150)
    for _ in range(3):  # the first render starts the warm Typst worker and fills the caches
        pdf = report.render(small).pdf
    times, cpu = [], []
    for _ in range(20):
        start, started = time.perf_counter(), time.process_time()
        pdf = report.render(small).pdf
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - started)
    result: dict[str, Any] = {
        "small_pages": pr.render(report, small).page_count,
        "small_rerender_ms": 1000 * statistics.median(times),
        "small_rerender_cpu_ms": 1000 * statistics.median(cpu),  # this process's, Polars' threads included
    }
    for name, data in (("100k", data_100k), ("1m", data_1m)):
        document = report.render(pl.scan_parquet(data))
        start = time.perf_counter()
        document.preview()
        result[f"preview_{name}_s"] = time.perf_counter() - start
        result[f"render_{name}_s"] = document.stats["plan_s"] + document.stats["data_s"]

    def one(seed: int) -> int:
        return len(report.render(pr.sample.sales_data(120, seed=seed)).pdf)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        sizes = list(pool.map(one, range(100)))
    seconds = time.perf_counter() - start
    result.update(
        concurrent_reports=len(sizes),
        concurrent_errors=100 - sum(1 for s in sizes if s > 0),
        concurrent_reports_per_s=100 / seconds,
    )
    del pdf
    return result


def child_charts() -> dict[str, Any]:
    """A chart in each of 240 group footers (customer x category), drawn cold, then cached."""
    import polarreports as pr
    from polarreports.definition.elements import Chart

    spec = {
        "mark": "bar",
        "encoding": {
            "x": {"field": "order_date", "type": "temporal", "timeUnit": "yearmonth"},
            "y": {"field": "revenue", "type": "quantitative"},
        },
    }
    chart = Chart(
        spec=spec, by=[{"column": "order_date", "bucket": "month"}], measures={"revenue": "sum(amount)"}, height="25mm"
    )
    footer = pr.Band(elements=[pr.Field(column="key", width="30%"), chart.model_copy(update={"width": "70%"})])
    report = pr.Report(
        name="charts",
        columns={"amount": "quantity * unit_price"},
        groups=[pr.Group(name="key", key="customer || ' · ' || category", footer=footer)],
    )
    data = pr.sample.sales_data(20_000)
    start = time.perf_counter()
    cold = report.render(data)
    _ = cold.pdf
    cold_s = time.perf_counter() - start
    start = time.perf_counter()
    cached = report.render(data)
    _ = cached.pdf
    cached_s = time.perf_counter() - start
    charts = cold.stats["charts"]
    return {
        "charts": charts,
        "cold_s": cold_s,
        "cached_s": cached_s,
        "cold_ms_per_chart": 1000 * cold_s / charts,
        "cached_ms_per_chart": 1000 * cached_s / charts,
        "pages": cold.page_count,
    }


def child_exports(data: Path, suffixes: str) -> dict[str, Any]:
    """The example report rendered once, then saved as each data output and as XLSX: the time
    of each save and the peak memory of the process tree during it (the render's own peak apart)."""
    import polars as pl

    import polarreports as pr

    with TreeMemory() as memory:
        start = time.perf_counter()
        document = pr.load(EXAMPLE).render(pl.scan_parquet(data))
        result: dict[str, Any] = {"rows": document.stats["rows"], "render_s": time.perf_counter() - start}
    result["render_peak_mb"] = memory.peak_mb
    with tempfile.TemporaryDirectory() as folder:
        for suffix in suffixes.split(","):
            path = Path(folder) / f"report.{suffix}"
            with TreeMemory() as memory:
                start = time.perf_counter()
                document.save(path)
                result[f"{suffix}_s"] = time.perf_counter() - start
            result[f"{suffix}_peak_mb"] = memory.peak_mb
            result[f"{suffix}_mb"] = path.stat().st_size / 2**20
    return result


def exports(files: dict[int, Path], sizes: list[int]) -> list[dict[str, Any]]:
    """Every output of the grouped report from one render (PDF, HTML, the data exports, XLSX),
    a fresh process per size: the time and peak memory of each save, and the time of HTML and
    XLSX as a share of the PDF's (the target: at most the PDF's)."""
    found = []
    outputs = ("pdf", "html", "parquet", "csv", "json", "xlsx")
    for rows in sizes:  # at 1M rows, JSON (800 MB of text) is left out to keep the run short
        chosen = [s for s in outputs if s != "json" or rows <= 100_000]
        found.append(in_child("exports", str(files[rows]), ",".join(chosen)))
    print_table(
        "outputs from one render (examples/sales_by_region.yaml), fresh process per size",
        ["rows", "render s", "render MB", *(f"{s} s / MB" for s in outputs), "html/pdf", "xlsx/pdf"],
        [
            [f"{e['rows']:,}", f"{e['render_s']:.2f}", f"{e['render_peak_mb']:.0f}"]
            + [f"{e[f'{s}_s']:.2f} / {e[f'{s}_peak_mb']:.0f}" if f"{s}_s" in e else "-" for s in outputs]
            + [f"{e[f'{s}_s'] / e['pdf_s']:.2f}" for s in ("html", "xlsx")]
            for e in found
        ],
    )
    return found


CHILDREN = {"grouped": child_grouped, "summary": child_summary, "small": child_small, "charts": child_charts}
"""Children called with file paths only (grouped and ledger take a setting too)."""


def in_child(kind: str, *args: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", kind, *args]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    if run.returncode:
        message = f"benchmark {kind} failed:\n{run.stderr[-3000:]}"
        raise RuntimeError(message)
    return json.loads(run.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def page_values(folder: Path) -> dict[str, Any]:
    """The cost of values per page (examples/sales_ledger.yaml) at 20K rows, and at 40K rows to
    show it grows with the rows, not with rows times pages."""
    runs = {}
    for rows in (20_000, 40_000):
        data = str(data_file(folder, rows))
        runs[rows] = {variant: in_child("ledger", data, variant) for variant in ("with", "without")}
    at_20k, at_40k = runs[20_000], runs[40_000]
    result = {
        "rows": 20_000,
        "pages": at_20k["with"]["pages"],
        "with_s": at_20k["with"]["seconds"],
        "without_s": at_20k["without"]["seconds"],
        "overhead": at_20k["with"]["seconds"] / at_20k["without"]["seconds"] - 1,
        "with_40k_s": at_40k["with"]["seconds"],
        "growth": at_40k["with"]["seconds"] / at_20k["with"]["seconds"],
        "typeset": at_20k["with"]["typeset"],
    }
    print(
        f"\nvalues per page (examples/sales_ledger.yaml: page subtotal, rows per page, brought and carried "
        f"forward), 20K rows, {result['pages']} pages: {result['with_s']:.2f} s with them, "
        f"{result['without_s']:.2f} s without (+{100 * result['overhead']:.0f} %); 40K rows "
        f"{result['with_40k_s']:.2f} s (x{result['growth']:.2f} for twice the rows)"
    )
    return result


# --- report -------------------------------------------------------------------------------------


def data_file(folder: Path, rows: int) -> Path:
    """The sample data at ``rows`` rows as Parquet (10M rows: ten copies of 1M, new order ids)."""
    import polars as pl

    from polarreports.sample import write_sales_data

    path = folder / f"sales_{rows}.parquet"
    if rows <= 1_000_000:
        return write_sales_data(path, rows)
    base = data_file(folder, 1_000_000)
    copies = [pl.scan_parquet(base).with_columns(pl.col("order_id") + i * 1_000_000) for i in range(rows // 1_000_000)]
    pl.concat(copies).sink_parquet(path)
    return path


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    print(f"\n{title}")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


def plot(grouped: list[dict[str, Any]], path: Path) -> None:
    """Time and peak memory against rows, as an SVG (Altair, rendered by vl-convert)."""
    import altair as alt
    import vl_convert as vlc

    points = [{"rows": g["rows"], "measure": "total seconds", "value": g["total_s"]} for g in grouped] + [
        {"rows": g["rows"], "measure": "peak memory, GB", "value": g["peak_mb"] / 1024} for g in grouped
    ]
    chart = (
        alt.Chart(alt.Data(values=points), title="polarreports: grouped report, 2 cores")
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "rows:Q", scale=alt.Scale(type="log"), title="rows", axis=alt.Axis(values=[10_000, 100_000, 1_000_000])
            ),
            y=alt.Y("value:Q", scale=alt.Scale(type="log"), title=None),
            color=alt.Color("measure:N", title=None),
        )
        .properties(width=420, height=220)
    )
    path.write_text(vlc.vegalite_to_svg(chart.to_dict()))


def check(record: dict[str, Any], baselines: dict[str, Any]) -> list[str]:
    misses = []
    found = {f"grouped_{g['rows']}": g for g in record["grouped"]}
    found.update({k: v for k, v in record.items() if isinstance(v, dict) and k != "grouped"})
    for section, limits in baselines.items():
        values = found.get(section)
        if values is None:
            continue
        for key, (bound, limit) in limits.items():
            value = values[key]
            if (bound == "max" and value > limit) or (bound == "min" and value < limit):
                misses.append(
                    f"{section}.{key} = {value:.3g}, target {'at most' if bound == 'max' else 'at least'} {limit}"
                )
    return misses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10K and 100K rows of the grouped report only")
    parser.add_argument(
        "--exports", nargs="?", const="100000", help="every output of one render, at these rows (comma-separated)"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "exports":
            result = child_exports(Path(rest[0]), rest[1])
        elif kind == "grouped":
            result = child_grouped(Path(rest[0]), int(rest[1]) if rest[1] != "-" else None)
        elif kind == "ledger":
            result = child_ledger(Path(rest[0]), rest[1])
        else:
            result = CHILDREN[kind](*(Path(r) for r in rest))
        print(json.dumps(result))
        return 0

    if args.exports:
        chosen = [int(rows) for rows in args.exports.split(",")]
        with tempfile.TemporaryDirectory(prefix="polarreports-bench-") as folder:
            found = exports({rows: data_file(Path(folder), rows) for rows in chosen}, chosen)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "exports.json").write_text(json.dumps(found, indent=2) + "\n")
        return 0
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    record: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores",
    }
    with tempfile.TemporaryDirectory(prefix="polarreports-bench-") as folder:
        files = {rows: data_file(Path(folder), rows) for rows in sizes}
        record["grouped"] = [in_child("grouped", str(files[rows]), "-") for rows in sizes]
        print_table(
            "grouped report (examples/sales_by_region.yaml), fresh process per size",
            ["rows", "pages", "data s", "layout s", "Typst s", "write s", "total s", "pages/s", "peak MB", "how"],
            [
                [
                    f"{g['rows']:,}",
                    f"{g['pages']:,}",
                    f"{g['data_s']:.2f}",
                    f"{g['layout_s']:.3f}",
                    f"{g['typst_s']:.2f}",
                    f"{g['write_s']:.2f}",
                    f"{g['total_s']:.2f}",
                    f"{g['pages_per_s']:.0f}",
                    f"{g['peak_mb']:.0f}",
                    g["typeset"],
                ]
                for g in record["grouped"]
            ],
        )
        peaks = {g["rows"]: g["peak_mb"] for g in record["grouped"]}
        if 1_000_000 in peaks:
            record["memory_growth"] = {
                "x10_rows": peaks[1_000_000] / peaks[100_000],
                "x100_rows": peaks[1_000_000] / peaks[10_000],
            }
            g = record["memory_growth"]
            print(
                f"\nmemory as the rows grow: 100K -> 1M x{g['x10_rows']:.2f}, 10K -> 1M x{g['x100_rows']:.2f} "
                "(peak of all processes)"
            )
        record["page_values"] = page_values(Path(folder))
        record["exports"] = exports(files, [rows for rows in sizes if rows >= 100_000])
        if not args.quick:
            one = in_child("grouped", str(files[100_000]), "1")
            many = next(g for g in record["grouped"] if g["rows"] == 100_000)
            record["workers"] = {
                "one_worker_s": one["total_s"],
                "all_cores_s": many["total_s"],
                "speedup": one["total_s"] / many["total_s"],
            }
            print(
                f"\nworkers, 100K rows: one worker {one['total_s']:.2f} s, one per core {many['total_s']:.2f} s: "
                f"speed-up x{record['workers']['speedup']:.2f}"
            )
            summary_file = data_file(Path(folder), 10_000_000)
            record["summary"] = in_child("summary", str(summary_file))
            s = record["summary"]
            print(
                f"\nsummary-only report over 10M rows: bare Polars group_by {s['bare_s']:.2f} s, "
                f"polarreports (data + PDF) {s['polarreports_s']:.2f} s: ratio {s['ratio']:.2f}"
            )
            record["small"] = in_child("small", str(files[100_000]), str(files[1_000_000]))
            m = record["small"]
            pages, ms = m["small_pages"], m["small_rerender_ms"]
            cpu_ms = m.get("small_rerender_cpu_ms", float("nan"))
            print(
                f"\nsmall report ({pages} pages) rendered again: {ms:.0f} ms wall, {cpu_ms:.0f} ms CPU of this "
                "process (medians of 20; target: 50 ms)"
            )
            print(
                f"preview of page 1: 100K rows {m['preview_100k_s']:.2f} s, 1M rows {m['preview_1m_s']:.2f} s "
                f"(after render: {m['render_100k_s']:.2f} s / {m['render_1m_s']:.2f} s)"
            )
            errors, rate = m["concurrent_errors"], m["concurrent_reports_per_s"]
            print(f"100 small reports on 8 threads: {errors} errors, {rate:.1f} reports/s")
            record["charts"] = in_child("charts")
            c = record["charts"]
            print(
                f"\n{c['charts']} charts (one per group footer, {c['pages']} pages): {c['cold_s']:.2f} s cold "
                f"({c['cold_ms_per_chart']:.1f} ms a chart, report included), {c['cached_s']:.2f} s cached "
                f"({c['cached_ms_per_chart']:.2f} ms a chart)"
            )
            sys.path.insert(0, str(HERE))
            from peers import measure_peer

            ours = many
            record["peers"] = {}
            for which in ("reportlab", "plain_typst"):
                peer = measure_peer(which, files[100_000])
                record["peers"][which] = peer
            rl, pt = record["peers"]["reportlab"], record["peers"]["plain_typst"]
            record["vs_reportlab"] = {
                "speed": rl["seconds"] / ours["total_s"],
                "memory": ours["peak_mb"] / rl["peak_rss_mb"],
            }
            record["vs_plain_typst"] = {
                "speed": pt["seconds"] / ours["total_s"],
                "memory": ours["peak_mb"] / pt["peak_rss_mb"],
            }
            print_table(
                "peers, same 100K rows (fresh process each)",
                ["", "seconds", "peak MB", "pages", "our speed-up", "our memory ratio"],
                [["polarreports", f"{ours['total_s']:.2f}", f"{ours['peak_mb']:.0f}", f"{ours['pages']:,}", "", ""]]
                + [
                    [
                        name,
                        f"{p['seconds']:.2f}",
                        f"{p['peak_rss_mb']:.0f}",
                        f"{p['pages']:,}",
                        f"x{p['seconds'] / ours['total_s']:.2f}",
                        f"x{ours['peak_mb'] / p['peak_rss_mb']:.2f}",
                    ]
                    for name, p in record["peers"].items()
                ],
            )
    RESULTS.mkdir(exist_ok=True)
    if len(record["grouped"]) > 2:
        plot(record["grouped"], RESULTS / "scaling.svg")
    record["targets_missed"] = check(record, json.loads((HERE / "baselines.json").read_text()))
    (RESULTS / ("quick.json" if args.quick else "latest.json")).write_text(json.dumps(record, indent=2) + "\n")
    print()
    for miss in record["targets_missed"]:
        print(f"MISSED: {miss}")
    if not record["targets_missed"]:
        print("all targets met")
    return 1 if record["targets_missed"] else 0


if __name__ == "__main__":
    sys.exit(main())
