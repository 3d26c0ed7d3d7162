"""Peak memory of a report over a 1M-row SQLite query (``source: {uri: sqlite:///...}``).

    PYTHONPATH=$PWD python benchmarks/database_memory.py   # about 30 s (the database is made once)

Each measurement runs in a fresh process (its peak resident memory, ``ru_maxrss``):
- import: Python with polarreports and the SQLite driver imported, nothing read (the floor);
- read: the query's rows through polarreports' database source, then the region totals
  collected from them (a ``group_by``);
- render: a report of the region totals (a group footer per region, 5 pages of PDF) whose
  definition's source is the query.
The rows spill to a temporary Arrow IPC file as they arrive and are scanned lazily
(``compute/spill.py``); before, ``pl.read_database`` held the whole result in memory.
"""

from __future__ import annotations

import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = 1_000_000
FOLDER = Path(tempfile.gettempdir()) / "polarreports-bench-db"
DATABASE = FOLDER / "orders.db"
QUERY = "SELECT * FROM orders WHERE amount >= :low"
FOOTER = [{"type": "field", "column": "region"}, {"type": "aggregate", "variable": "total"}]


def make_database() -> None:
    if DATABASE.exists():
        return
    FOLDER.mkdir(exist_ok=True)
    regions = ["North", "South", "East", "West", "Central"]
    rows = (
        (
            i,
            regions[i % 5],
            f"customer {i % 5000:05d}",
            f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
            (i * 37 % 10000) / 100,
        )
        for i in range(ROWS)
    )
    with sqlite3.connect(DATABASE) as connection:
        connection.execute("CREATE TABLE orders (id INTEGER, region TEXT, customer TEXT, day TEXT, amount REAL)")
        connection.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", rows)


def measure(mode: str) -> None:
    """One measurement, in this process (run as ``database_memory.py --measure MODE``)."""
    import polars as pl

    import polarreports as pr
    from polarreports.compute.databases import read_database

    start = time.perf_counter()
    if mode == "read":
        rows = read_database(f"sqlite:///{DATABASE}", QUERY, {"low": 0.0}, [FOLDER])
        totals = rows.group_by("region").agg(pl.len(), pl.col("amount").sum()).collect()
        assert totals["len"].sum() == ROWS
    elif mode == "render":
        report = pr.Report.model_validate(
            {
                "name": "orders",
                "data_dirs": [str(FOLDER)],
                "parameters": [{"name": "low", "type": "float"}],
                "source": {"uri": f"sqlite:///{DATABASE}", "query": QUERY},
                "variables": [{"name": "total", "calculation": "sum", "expression": "amount", "reset": "region"}],
                "groups": [
                    {
                        "name": "region",
                        "footer": {
                            "elements": [
                                {"type": "field", "column": "region"},
                                {"type": "aggregate", "variable": "total"},
                            ]
                        },
                    }
                ],
            }
        )
        doc = report.render(low=0.0)
        assert doc.stats.rows == ROWS
        assert doc.pdf.startswith(b"%PDF")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{mode:>7}: peak {peak:6.0f} MB, {seconds:5.2f} s")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        measure(sys.argv[2])
        return
    make_database()
    print(f"{ROWS:,} rows of SQLite ({DATABASE.stat().st_size / 1e6:.0f} MB), each line a fresh process:")
    for mode in ("import", "read", "render"):
        subprocess.run([sys.executable, __file__, "--measure", mode], check=True)


if __name__ == "__main__":
    main()
