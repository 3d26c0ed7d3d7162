"""A subreport over many master rows against the same rows as a plain group:

    python benchmarks/subreports.py                   # 100K orders, 0-4 payments each: the data phase
    python benchmarks/subreports.py --rows 12000 --rounds 1 --pdf  # the PDFs too (typesetting), within a minute

Report A: the orders (one row each), with a subreport of each order's payments (method,
amount, and their total), joined in one Polars pass. Report B: the payments joined to their
orders, grouped by order: a header with the order, the payments as rows, a footer with their
total: the same figures as a plain group. Runs alternate (A, B, A, B, ...) so that load on the
machine hits both alike; the median of each and their ratio go to
benchmarks/results/subreports.json (subreports_pdf.json with --pdf). The target: A within 2x of B.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

import polarreports as pr  # noqa: E402 (after the paths)


def data(rows: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``rows`` orders; order i has i % 5 payments (0 to 4: 2 on average)."""
    orders = pl.DataFrame({"order_id": range(rows), "customer": [f"Customer {i % 997}" for i in range(rows)]})
    payments = (
        orders.select("order_id", pay=pl.int_ranges(pl.col("order_id") % 5))
        .explode("pay")
        .drop_nulls("pay")
        .with_row_index("i")
        .select(
            "order_id",
            method=pl.when(pl.col("i") % 2 == 0).then(pl.lit("card")).otherwise(pl.lit("transfer")),
            amount=(pl.col("i") % 500).cast(pl.Float64) / 4,
        )
    )
    return orders, payments


PAYMENTS = pr.Report(
    name="payments",
    variables=[pr.Variable(name="paid", calculation="sum", expression="amount")],
    bands=pr.Bands(
        detail=pr.Band(elements=[pr.Field(column="method"), pr.Field(column="amount", format="#,##0.00")]),
        summary=pr.Band(elements=[pr.Label(text="Paid"), pr.Aggregate(variable="paid", format="#,##0.00")]),
    ),
)
WITH_SUBREPORT = pr.Report(
    name="orders_with_payments",
    bands=pr.Bands(
        detail=pr.Band(
            elements=[
                pr.Field(column="order_id", width="20mm"),
                pr.Field(column="customer", width="40mm"),
                pr.Subreport(report=PAYMENTS, source="payments", keys=["order_id"], returns={"paid": "paid"}),
            ]
        )
    ),
)
AS_GROUP = pr.Report(
    name="orders_grouped",
    variables=[pr.Variable(name="paid", calculation="sum", expression="amount", reset="order_id")],
    groups=[
        pr.Group(
            name="order_id",
            header=pr.Band(elements=[pr.Field(column="order_id", width="20mm"), pr.Field(column="customer")]),
            footer=pr.Band(elements=[pr.Label(text="Paid"), pr.Aggregate(variable="paid", format="#,##0.00")]),
        )
    ],
    bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="method"), pr.Field(column="amount", format="#,##0.00")])),
)


def once(which: str, orders: pl.DataFrame, payments: pl.DataFrame, pdf: bool) -> dict[str, float]:
    start = time.perf_counter()
    if which == "subreport":
        document = WITH_SUBREPORT.render(orders.lazy(), sources={"payments": payments.lazy()})
    else:
        document = AS_GROUP.render(payments.lazy().join(orders.lazy(), on="order_id"))
    result: dict[str, Any] = {"render_s": time.perf_counter() - start}
    result |= {f"{key}": document.stats[key] for key in ("plan_s", "data_s", "bands")}
    if pdf:
        with tempfile.TemporaryDirectory() as folder:
            begin = time.perf_counter()
            document.save(Path(folder) / "report.pdf")
            result["pdf_s"] = time.perf_counter() - begin
            result["pages"] = document.page_count
            result["typeset"] = document.stats["typeset"]
            texts = document._rendered.stream.bands.texts()  # the band stream Typst reads: its size
            result["stream_mb"] = texts.str.len_bytes().sum() / 1e6
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="master rows (orders); twice as many payments")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pdf", action="store_true", help="typeset the PDFs too")
    args = parser.parse_args()
    orders, payments = data(args.rows)
    runs: dict[str, list[dict[str, float]]] = {"subreport": [], "group": []}
    once("subreport", orders.head(100), payments.head(200), pdf=False)  # warm caches alike
    once("group", orders.head(100), payments.head(200), pdf=False)
    for i in range(args.rounds):  # alternating, and which goes first alternates too
        for which in ("subreport", "group") if i % 2 == 0 else ("group", "subreport"):
            runs[which].append(once(which, orders, payments, args.pdf))
    record: dict[str, Any] = {"rows": args.rows, "rounds": args.rounds}
    for which, results in runs.items():
        for key in results[0]:
            values = [r[key] for r in results]
            numeric = all(isinstance(v, int | float) for v in values)
            record[f"{which}_{key}"] = statistics.median(values) if numeric else values[0]
    for key in ("render", "data", "pdf"):  # the median of the paired runs' ratios
        if f"{key}_s" in runs["group"][0]:
            pairs = zip(runs["subreport"], runs["group"], strict=True)
            record[f"{key}_ratio"] = statistics.median(a[f"{key}_s"] / b[f"{key}_s"] for a, b in pairs)
    print(json.dumps(record, indent=2))
    RESULTS.mkdir(exist_ok=True)
    name = "subreports_pdf.json" if args.pdf else "subreports.json"
    (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n")
    return 0 if record["render_ratio"] <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
