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

from polarreports.compute.databases import is_uri, read_database
from polarreports.definition.report import Report, check_uri
from polarreports.exceptions import DataError, DefinitionError
from polarreports.resources import DATA_FILE, confined_path

__all__ = ["DataSource", "data_dirs", "report_frame", "to_lazyframe"]

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


def data_dirs(report: Report) -> list[Path]:
    """The folders a definition's ``source`` may read files from, resolved (default: the
    working directory; a loaded definition's own folder, see ``definition.load``)."""
    return [Path(folder).resolve() for folder in report.data_dirs] or [Path.cwd().resolve()]


def report_frame(report: Report, data: Any, parameters: dict[str, Any], *, schema_only: bool = False) -> pl.LazyFrame:
    """The report's rows: ``data`` as given (a frame, a file path, or a database URI that the
    definition's ``source.query`` is run at), or without data, the definition's ``source``.
    ``parameters`` (typed) are bound to the query's ``:name`` placeholders; with
    ``schema_only`` a query returns no rows (for ``validate``)."""
    source = report.source
    if data is None:
        if source is None:
            msg = "no data: pass the rows to render() (--data), or give the definition a source"
            raise DataError(msg)
        if source.path is not None:
            dirs = data_dirs(report)
            path = confined_path(dirs[0] / source.path, source.path, "source.path", dirs, DATA_FILE)
            return to_lazyframe(path)
        uri, query = source.uri, source.query
    elif isinstance(data, str) and is_uri(data):
        if source is None or source.query is None:
            msg = "a database URI as data needs a query: give the definition a source with a query"
            raise DataError(msg)
        try:
            uri, query = check_uri(data), source.query
        except (ValueError, DefinitionError) as error:
            raise DataError(str(error)) from None
    else:
        return to_lazyframe(data)
    assert uri is not None
    assert query is not None
    return read_database(uri, query, parameters, data_dirs(report), schema_only=schema_only)
