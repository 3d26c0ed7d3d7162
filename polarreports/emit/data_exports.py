"""Writers of the data exports (Parquet, CSV, JSON): the rows of :class:`BandFrames`, written to an
open binary file a batch at a time, so a report of any size is written with flat memory.

    >>> import io, polars as pl, polarreports as pr
    >>> from polarreports.emit.bandframe import BandFrames
    >>> doc = pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(20))
    >>> rendered = doc._rendered
    >>> out = io.BytesIO()
    >>> write_csv(BandFrames(rendered.plan, rendered.stream, rendered.dtypes), out)
    >>> pl.read_csv(out.getvalue()).filter(band="summary")["revenue"].item()
    117406.78
"""

from __future__ import annotations

from typing import BinaryIO

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from polarreports.emit.bandframe import BandFrames

__all__ = ["DATA_WRITERS", "formulas_quoted", "write_csv", "write_json", "write_parquet"]


def write_parquet(frames: BandFrames, file: BinaryIO) -> None:
    """One Parquet file, a row group (or more) per batch; Decimals stay decimals."""
    schema = pl.DataFrame(schema=frames.schema).to_arrow().schema
    with pq.ParquetWriter(file, schema, compression="zstd") as writer:
        for batch in frames.batches():
            writer.write_table(pa.Table.from_batches(batch.to_arrow().to_batches(), schema=schema))


FORMULA_START = r"^[=+\-@\t\r]"
"""What a spreadsheet program may take for the start of a formula (OWASP's list)."""
_NUMBER_LIKE = r"^[+\-][\d\s.,'%\p{Sc}]*$"
"""A sign, then nothing but digits, separators, ``%`` and currency symbols (``-1,234.50``,
``-$5``): a number's text, which no spreadsheet can run as a formula."""


def formulas_quoted(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text that a spreadsheet would evaluate (one starting with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return, other than a number's text such as
    ``-1,234.50``) prefixed with a single quote, as OWASP advises against CSV injection; the
    numbers, dates and other values stay as they are.

    >>> frame = pl.DataFrame({"t": ["=1+1", "-1,234.50", "@SUM(A1)", "a-b", None], "n": [-1, 2, 3, 4, 5]})
    >>> formulas_quoted(frame).rows()
    [("'=1+1", -1), ('-1,234.50', 2), ("'@SUM(A1)", 3), ('a-b', 4), (None, 5)]
    """
    texts = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_START) & ~pl.col(name).str.contains(_NUMBER_LIKE))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in texts
    )


def write_csv(frames: BandFrames, file: BinaryIO, *, as_stored: bool = False) -> None:
    """CSV with a header line (UTF-8, comma-separated, dates as ISO 8601). A text a spreadsheet
    would evaluate as a formula gets a leading single quote (:func:`formulas_quoted`), unless
    ``as_stored`` (for a pipeline that must read back exactly the values stored)."""
    header = True
    for batch in frames.batches():
        (batch if as_stored else formulas_quoted(batch)).write_csv(file, include_header=header)
        header = False
    if header:  # no rows: the header alone
        pl.DataFrame(schema=frames.schema).write_csv(file)


def write_json(frames: BandFrames, file: BinaryIO) -> None:
    """A JSON array of objects, one per row (Decimals as strings, so as not to lose digits)."""
    file.write(b"[")
    first = True
    for batch in frames.batches():
        for piece in batch.iter_slices(2_000):  # a row is a long text: a few thousand at a time
            lines = piece.write_ndjson().rstrip("\n").replace("\n", ",\n")
            file.write((("" if first else ",\n") + lines).encode())
            first = False
    file.write(b"]\n")


DATA_WRITERS = {".parquet": write_parquet, ".csv": write_csv, ".json": write_json}
"""The data exports by suffix."""
