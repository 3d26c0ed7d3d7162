"""A ledger of many small groups, rendered by polarreports and by its two peers side by side.

The data: ``rows`` orders of about 10,000 customers (``rows / 10``) spread over 25 nations, so a
customer header and a customer footer come every ten rows or so, the kind of report printed
most (ledgers, statements). The document is the example report
(``examples/sales_by_region.yaml``, grouped by region then customer) with the nation in the
``region`` column; its peers are the same document in ReportLab PLATYPUS and in plain
hand-written Typst (``benchmarks/peers.py``: a ``table()`` per customer), and ``typst_boxes``:
hand-written Typst with a block of fixed-width boxes per row, as polarreports writes it.

    python benchmarks/ledger.py                 # 100K rows, 3 paired rounds
    python benchmarks/ledger.py --rows 10000    # under a minute on a loaded machine

Each render runs in a fresh process; the rounds alternate which side goes first. For each run:
wall time, CPU time of the whole process tree (user + system, the process and every child it
waited for: Typst workers included) and the peak resident memory of the tree (sampled from
/proc). Prints the medians and the ratios polarreports / peer, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "sales_by_region.yaml"
SIDES = ("polarreports", "reportlab", "plain_typst", "typst_boxes")
NATIONS = [
    "Argentina", "Australia", "Belgique", "Brasil", "Canada", "Danmark", "Deutschland", "España",
    "France", "India", "Ireland", "Italia", "Nederland", "Norge", "Österreich", "Polska", "Portugal",
    "Schweiz", "Suomi", "Sverige", "Türkiye", "United Kingdom", "United States", "Việt Nam", "Japan",
]  # fmt: skip
STEMS = ["Müller", "Søndergaard", "Núñez", "Dvořák", "Öztürk", "O'Brien", "García", "Rossi", "Sato", "Nguyễn"]
KINDS = ["GmbH", "AB", "S.A.", "Ltd", "Trading", "Group", "SARL", "Partners", "AG", "& Söhne"]
PRODUCTS = [
    ('Laptop 14"', 899.00), ('Monitor 27"', 249.90), ("Dock USB-C", 129.50), ("Keyboard", 59.99),
    ("Office suite", 149.00), ("Antivirus (1 yr)", 39.95), ("Installation", 85.00), ("Support hour", 65.00),
    ("Paper A4 ×5", 24.75), ("Toner cartridge", 79.40), ("Cables pack", 12.30), ("Training day", 540.00),
]  # fmt: skip


def ledger_data(rows: int, *, seed: int = 3) -> pl.DataFrame:
    """``rows`` orders of ``rows // 10`` customers in 25 nations, with the columns of
    :func:`polarreports.sample.sales_data` (``region`` holds the nation).

    >>> frame = ledger_data(1000)
    >>> frame.height, frame["customer"].n_unique() > 90, frame["region"].n_unique()
    (1000, True, 25)
    """
    rng = random.Random(seed)
    customers = max(1, rows // 10)
    nation_of = [rng.choice(NATIONS) for _ in range(customers)]
    names = [f"{rng.choice(STEMS)} {rng.choice(KINDS)} {n:05d}" for n in range(customers)]
    picks = [rng.randrange(customers) for _ in range(rows)]
    products = rng.choices(PRODUCTS, k=rows)
    return pl.DataFrame(
        {
            "order_id": range(1, rows + 1),
            "order_date": pl.date_range(pl.date(2024, 1, 1), pl.date(2025, 12, 31), eager=True).sample(
                rows, with_replacement=True, seed=seed
            ),
            "region": [nation_of[c] for c in picks],
            "country": [None if i % 97 == 13 else nation_of[c] for i, c in enumerate(picks)],
            "customer": [names[c] for c in picks],
            "product": [p[0] for p in products],
            "category": ["Goods"] * rows,
            "quantity": [rng.randint(1, 40) for _ in range(rows)],
            "unit_price": [p[1] for p in products],
            "discount": rng.choices([0.0, 0.05, 0.1, 0.15, None], weights=[60, 15, 12, 8, 5], k=rows),
        },
        schema_overrides={"quantity": pl.Int32, "unit_price": pl.Decimal(12, 2)},
    )


BOXES_SOURCE = """\
#let data = json("data.json")
#let grey = rgb("#555555")
#let navy = rgb("#1f3b5c")

#set document(title: "Sales by region and customer")
#set text(font: "Inter", size: 8pt)
#set par(leading: 0.45em, spacing: 0.45em)
#set block(spacing: 0pt)
#let widths = (13%, 9%, 23%, 7%, 12%, 9%, 13%, 14%)
#let right-aligned = (false, true, false, true, true, true, true, true)
#let line-of(cells, widths, right-aligned) = block(width: 100%, inset: (x: 2pt, y: 1.5pt), {
  for (i, cell) in cells.enumerate() {
    if i > 0 { h(4pt) }
    let w = if i > 0 { widths.at(i) - 4pt } else { widths.at(i) }
    box(width: w, if right-aligned.at(i) { align(right, cell) } else { cell })
  }
})
#let column-header = block(stroke: (bottom: 0.5pt), line-of(
  ("Date", "Order", "Product", "Qty", "Unit price", "Discount", "Amount", "Running").map(strong),
  widths, right-aligned))
#set page(
  paper: "a4",
  margin: (x: 15mm, top: 27mm, bottom: 22mm),
  header: [
    #set text(fill: grey)
    polarreports · Sales by region and customer #h(1fr) Amounts in EUR
    #line(length: 100%, stroke: 0.5pt)
    #context if here().page() > 1 { column-header }
  ],
  footer: context [
    #line(length: 100%, stroke: 0.5pt)
    #set text(fill: grey)
    Confidential · generated by polarreports #h(1fr)
    Page #counter(page).display() of #counter(page).final().first()
  ],
)
#let totals = (45%, 7%, 21%, 27%)

#block(inset: (y: 6pt), {
  box(width: 70%, text(size: 16pt, weight: "bold", fill: navy)[Sales by region and customer])
  box(width: 30%, align(right, text(size: 12pt)[All years]))
})
#column-header

#for region in data.regions {
  block(width: 100%, fill: navy, inset: 3pt, sticky: true, {
    set text(fill: white)
    box(width: 40%, text(size: 10pt, weight: "bold", region.region))
    box(width: 20%, align(right)[#region.orders orders])
    box(width: 40% - 6pt, align(right, strong[€#region.revenue]))
  })
  for customer in region.customers {
    block(width: 100%, inset: (x: 2pt, y: 2.5pt), sticky: true)[
      *#customer.customer* #h(1fr) #text(fill: grey, style: "italic", customer.country)
    ]
    for r in customer.rows {
      line-of((..r.slice(0, 7), text(fill: grey, r.at(7))), widths, right-aligned)
    }
    block(width: 100%, below: 6pt, stroke: (top: 0.5pt), line-of(
      (emph[Customer subtotal], customer.units, customer.percent, strong(customer.revenue)),
      (45%, 7%, 21%, 13%), (false, true, true, true)))
  }
  block(width: 100%, below: 10pt, stroke: (top: 0.5pt), inset: (y: 1.5pt), line-of(
    (strong[Region total], strong(region.units), strong(region.percent), strong[€#region.revenue]),
    totals, (false, true, true, true)))
}

#block(width: 100%, stroke: (top: 0.5pt), inset: (y: 3.5pt), text(size: 10pt, line-of(
  (strong[Grand total], strong(data.total.units), [#data.total.orders orders], strong[€#data.total.revenue]),
  totals, (false, true, true, true))))
"""


def render_typst_boxes(data_path: Path, out_path: Path) -> None:
    """The ledger as hand-written Typst with a block of fixed-width boxes per row (what
    polarreports writes, without its machinery): one compile, in this process."""
    import peers
    import typst

    report = peers.prepare(data_path)
    with tempfile.TemporaryDirectory(prefix="peer-typst-") as folder:
        root = Path(folder)
        (root / "data.json").write_text(peers._typst_data(report), encoding="utf-8")
        (root / "main.typ").write_text(BOXES_SOURCE, encoding="utf-8")
        fonts = typst.Fonts(include_system_fonts=False, font_paths=[str(peers.FONTS_DIR)])
        compiler = typst.Compiler(input=str(root / "main.typ"), root=folder, font_paths=fonts)
        pdf = compiler.compile(format="pdf", pdf_tags=False)
    assert isinstance(pdf, bytes)
    out_path.write_bytes(pdf)


# --- one render, in a fresh process -------------------------------------------------------------


def _render(side: str, data: Path, out: Path) -> dict[str, Any]:
    """Render with one side (imports included: they are part of what a user waits for)."""
    extra: dict[str, Any] = {}
    if side == "polarreports":
        import polarreports as pr
        from polarreports.typeset.compile import default_compiler

        document = pr.load(EXAMPLE).render(data)
        document.save(out)
        extra = {k: v for k, v in document.stats.items() if isinstance(v, (int, float, str))}
        default_compiler().close()  # reap the idle workers, so that their CPU time is counted
    elif side == "typst_boxes":
        render_typst_boxes(data, out)
    else:
        import peers

        peers.RENDERERS[side](data, out)
    return extra


def _cpu_seconds(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def _tree_rss_mb(pid: int) -> float:
    from run import tree_rss_mb

    return tree_rss_mb(pid)


def measure(side: str, data: Path, out: Path) -> dict[str, Any]:
    """Run one render in a fresh process: wall, CPU of its process tree, peak tree memory, pages."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", side, str(data), str(out)]
    peak = [0.0]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_mb(process.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = process.communicate()
    if process.returncode:
        message = f"{side} failed:\n{stderr[-3000:]}"
        raise RuntimeError(message)
    from pypdf import PdfReader

    return {
        "side": side,
        "wall_s": wall,
        "cpu_s": _cpu_seconds(usage),
        "peak_mb": peak[0],
        "pages": len(PdfReader(out).pages),
        "stats": json.loads(stdout.strip().splitlines()[-1]),
    }


def compare(rows: int, rounds: int, sides: tuple[str, ...] = SIDES) -> dict[str, Any]:
    """``rounds`` paired rounds of every side, alternating the order; medians and ratios."""
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as folder:
        data = Path(folder) / "ledger.parquet"
        ledger_data(rows).write_parquet(data)
        for round_ in range(rounds):
            order = sides if round_ % 2 == 0 else sides[::-1]
            for side in order:
                run = measure(side, data, Path(folder) / f"{side}.pdf")
                runs[side].append(run)
                print(
                    f"  round {round_ + 1} {side:>12}: {run['wall_s']:6.2f} s wall {run['cpu_s']:6.2f} s CPU "
                    f"{run['peak_mb']:6.0f} MB {run['pages']} pages (load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    medians = {
        side: {key: statistics.median(r[key] for r in results) for key in ("wall_s", "cpu_s", "peak_mb", "pages")}
        for side, results in runs.items()
    }
    ours = medians[sides[0]]
    ratios = {
        peer: {key: ours[key] / medians[peer][key] for key in ("wall_s", "cpu_s", "peak_mb")} for peer in sides[1:]
    }
    # paired ratios: each round's polarreports run against the same round's peer run
    paired = {
        peer: {
            key: statistics.median(a[key] / b[key] for a, b in zip(runs[sides[0]], runs[peer], strict=True))
            for key in ("wall_s", "cpu_s")
        }
        for peer in sides[1:]
    }
    return {
        "rows": rows,
        "rounds": rounds,
        "load": [load_before, os.getloadavg()[0]],
        "medians": medians,
        "ratios": ratios,
        "paired_ratios": paired,
        "stats": runs[sides[0]][-1]["stats"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="orders (default: 100000)")
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds (default: 3)")
    parser.add_argument("--sides", default=",".join(SIDES), help="comma-separated, polarreports first")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        side, data, out = args.child
        extra = _render(side, Path(data), Path(out))
        print(json.dumps(extra))
        return 0
    sides = tuple(args.sides.split(","))
    result = compare(args.rows, args.rounds, sides)
    print(f"\nledger, {args.rows:,} orders, {result['medians'][sides[0]]['pages']:.0f} pages, medians of {args.rounds}")
    print(f"load average {result['load'][0]:.1f} before, {result['load'][1]:.1f} after; {os.cpu_count()} cores")
    for side, m in result["medians"].items():
        print(f"  {side:>12}: {m['wall_s']:6.2f} s wall {m['cpu_s']:6.2f} s CPU {m['peak_mb']:6.0f} MB peak (tree)")
    for peer, r in result["ratios"].items():
        p = result["paired_ratios"][peer]
        print(
            f"  polarreports / {peer}: wall x{r['wall_s']:.2f} (paired x{p['wall_s']:.2f}), "
            f"CPU x{r['cpu_s']:.2f} (paired x{p['cpu_s']:.2f}), peak memory x{r['peak_mb']:.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main())
