"""A query's rows, streamed from the database into a temporary Arrow IPC file and scanned lazily.

A database driver hands its result over as Arrow record batches; each batch is written to a
file (LZ4-compressed Arrow IPC) as it arrives, so the result is never whole in memory, and
the report reads the file back lazily, like any other file: only the columns and rows each
query needs, a batch at a time. The file is a snapshot: every pass of the report over the rows
(the schema, the scopes, a PDF's data attachment) sees the same rows, and the query runs once.

The file lives as long as a LazyFrame can read it: the scan is a Polars IO source whose
reading function holds the file's owner, so the folder is removed (``weakref.finalize``) once
the last LazyFrame built on it is gone, or at exit; a process killed outright leaves a folder
named by ``control.temp_prefix("rows-")``, which a later render's sweep removes.

    >>> import pyarrow as pa
    >>> table = pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    >>> lf = spilled(pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=2)))
    >>> lf.filter(pl.col("a") > 1).select("b").collect()["b"].to_list()
    ['y', 'z']
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
from polars.io.plugins import register_io_source

from polarreports.control import temp_prefix

__all__ = ["BATCH_ROWS", "spilled"]

BATCH_ROWS = 16_384
"""Rows per batch in the file (and asked of a driver that lets one choose: DuckDB)."""


class _Spill:
    """A temporary folder holding a query's rows, removed when this object is collected."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix=temp_prefix("rows-")))
        self.path = self.folder / "rows.arrow"
        weakref.finalize(self, shutil.rmtree, self.folder, True)


def _coalesced(reader: Any) -> Iterator[Any]:
    """The batches of ``reader`` joined into batches of about ``BATCH_ROWS`` rows (ADBC's
    SQLite driver hands over 1,024 rows at a time: each batch read back costs a call)."""
    import pyarrow as pa  # type: ignore[import-untyped]  # (imported here: 25 MB that most renders never need)

    pending: list[Any] = []
    rows = 0
    for batch in reader:
        pending.append(batch)
        rows += batch.num_rows
        if rows >= BATCH_ROWS:
            yield from pa.Table.from_batches(pending, reader.schema).combine_chunks().to_batches()
            pending, rows = [], 0
    if pending:
        yield from pa.Table.from_batches(pending, reader.schema).combine_chunks().to_batches()


def spilled(reader: Any) -> pl.LazyFrame:
    """A LazyFrame over the batches of ``reader`` (a ``pyarrow.RecordBatchReader``), written to
    a temporary file as they come."""
    import pyarrow as pa

    spill = _Spill()
    options = pa.ipc.IpcWriteOptions(compression=None)
    with pa.OSFile(str(spill.path), "wb") as sink, pa.ipc.new_file(sink, reader.schema, options=options) as writer:
        for batch in _coalesced(reader):
            writer.write_batch(batch)
    empty = pl.from_arrow(reader.schema.empty_table())
    assert isinstance(empty, pl.DataFrame)

    def rows(
        with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, _batch_size: int | None
    ) -> Iterator[pl.DataFrame]:
        """The spilled rows a batch at a time: only ``with_columns``, those ``predicate`` keeps,
        at most ``n_rows`` (Polars pushes these down into the scan)."""
        left = n_rows
        with pa.memory_map(str(spill.path)) as file:  # (``spill`` kept alive by this closure)
            batches = pa.ipc.open_file(file)
            for i in range(batches.num_record_batches):
                if left is not None and left <= 0:
                    return
                batch = batches.get_batch(i)
                frame = pl.from_arrow(batch.select(with_columns) if with_columns is not None else batch)
                assert isinstance(frame, pl.DataFrame)
                if predicate is not None:
                    frame = frame.filter(predicate)
                if left is not None:
                    frame = frame.head(left)
                    left -= frame.height
                yield frame

    return register_io_source(rows, schema=empty.schema, is_pure=True, explain_name="polarreports query rows")
