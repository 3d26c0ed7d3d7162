"""A crosstab's query against the bare aggregations it stands for, at 2M rows (regions by
quarter, ``sum(amount)``, with the total row, the total column and the grand total):

    python benchmarks/crosstab.py              # 2M rows, 5 rounds (about 20 s on 2 cores)
    python benchmarks/crosstab.py --rows 500000

Timed side by side, alternating, the median of the rounds: polarreports' crosstab query (the
cells, every total, formatted, as JSON), the bare Polars ``group_by`` of the cells alone (no
totals, no formatting), Polars' ``pivot`` (no totals) and DuckDB's ``PIVOT`` (no totals);
then the whole render to PDF. Results go to benchmarks/results/crosstab.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

import polarreports as pr
from polarreports.compute.crosstabs import crosstab_json

RESULTS = Path(__file__).resolve().parent / "results"
REGIONS = ["North", "South", "East", "West", "Central"]


def data(rows: int) -> pl.DataFrame:
    dates = pl.date_range(pl.date(2024, 1, 1), pl.date(2025, 12, 31), eager=True)
    return pl.DataFrame(
        {
            "region": pl.Series(REGIONS).sample(rows, with_replacement=True, seed=1),
            "order_date": dates.sample(rows, with_replacement=True, seed=2),
            "amount": (pl.int_range(rows, eager=True) % 1000).cast(pl.Float64),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    frame = data(args.rows)
    connection = duckdb.connect()
    connection.register("quarters", frame.with_columns(q=pl.col("order_date").dt.truncate("1q")))
    crosstab = pr.Crosstab(
        rows=["region"],
        columns=[{"column": "order_date", "bucket": "quarter"}],
        measures={"revenue": {"value": "sum(amount)", "format": "#,##0.00"}},
    )
    lazy = frame.lazy()
    cases: dict[str, Callable[[], Any]] = {
        "crosstab_query": lambda: crosstab_json(crosstab, lazy, keys=[]).collect(),
        "bare_group_by": lambda: (
            lazy.group_by("region", pl.col("order_date").dt.truncate("1q")).agg(pl.col("amount").sum()).collect()
        ),
        "polars_pivot": lambda: frame.with_columns(q=pl.col("order_date").dt.truncate("1q")).pivot(
            on="q", index="region", values="amount", aggregate_function="sum"
        ),
        "duckdb_pivot": lambda: connection.sql("PIVOT quarters ON q USING sum(amount) GROUP BY region").pl(),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, case in cases.items():
            start = time.perf_counter()
            case()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    report = pr.Report.model_validate({"name": "bench", "bands": {"summary": {"elements": [crosstab.model_dump()]}}})
    start = time.perf_counter()
    pdf = report.render(frame).pdf
    result = {
        "rows": args.rows,
        "median_s": {name: round(value, 4) for name, value in medians.items()},
        "ratio_to_bare_group_by": round(medians["crosstab_query"] / medians["bare_group_by"], 2),
        "ratio_to_polars_pivot": round(medians["crosstab_query"] / medians["polars_pivot"], 2),
        "render_pdf_s": round(time.perf_counter() - start, 3),
        "pdf_bytes": len(pdf),
    }
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "crosstab.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
