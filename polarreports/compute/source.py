"""Turn what the user passes as data into a LazyFrame, without reading rows.

>>> import polars as pl
>>> to_lazyframe(pl.DataFrame({"a": [1]})).collect_schema()
Schema([('a', Int64)])
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from polarreports.exceptions import DataError

__all__ = ["DataSource", "to_lazyframe"]

DataSource = pl.LazyFrame | pl.DataFrame | str | Path
_SCANNERS: dict[str, Callable[[Path], pl.LazyFrame]] = {
    ".parquet": pl.scan_parquet,
    ".pq": pl.scan_parquet,
    # ISO dates and times in a text file become dates and times, as a report formats them
    ".csv": lambda path: pl.scan_csv(path, try_parse_dates=True),
    ".tsv": lambda path: pl.scan_csv(path, separator="\t", try_parse_dates=True),
    ".ipc": pl.scan_ipc,
    ".arrow": pl.scan_ipc,
    ".feather": pl.scan_ipc,
    ".ndjson": pl.scan_ndjson,
    ".jsonl": pl.scan_ndjson,
}


def to_lazyframe(data: Any) -> pl.LazyFrame:
    """A LazyFrame over ``data``: a LazyFrame, a DataFrame, or a Parquet/CSV/IPC/NDJSON path."""
    if isinstance(data, pl.LazyFrame):
        return data
    if isinstance(data, pl.DataFrame):
        return data.lazy()
    if isinstance(data, str | Path):
        path = Path(data)
        scanner = _SCANNERS.get(path.suffix.lower())
        if scanner is None:
            known = ", ".join(sorted(_SCANNERS))
            msg = f"cannot read {path}: unknown file type {path.suffix!r} (known: {known})"
            raise DataError(msg)
        if not path.is_file():
            msg = f"cannot read {path}: no such file"
            raise DataError(msg)
        try:
            lf: pl.LazyFrame = scanner(path)
            lf.collect_schema()
        except (pl.exceptions.PolarsError, OSError) as error:
            msg = f"cannot read {path}: {str(error).splitlines()[0]}"
            raise DataError(msg) from None
        return lf
    msg = f"cannot use a {type(data).__name__} as report data; pass a polars LazyFrame or DataFrame, or a file path"
    raise DataError(msg)
