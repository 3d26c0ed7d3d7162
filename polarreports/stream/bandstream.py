"""The band stream: every band instance of a report in reading order, as JSON texts.

The kinds (``k``, two bytes a band) stay in memory for pagination; the texts stay in memory
while they are small and go to a temporary file of JSON lines once they pass ``spill_bytes``
(about 100 MB at a million rows), read back a chunk at a time when a chunk is typeset.

    >>> import polars as pl
    >>> writer = BandStreamWriter(spill_bytes=0)             # spill at once
    >>> writer.add(pl.DataFrame({"k": [1, 2], "json": ['{"k":1,"c":["a"]}', '{"k":2,"c":[]}']}))
    >>> stream = writer.finish()
    >>> stream.height, stream.spilled, stream.texts(1).to_list(), stream.text(0)
    (2, True, ['{"k":2,"c":[]}'], '{"k":1,"c":["a"]}')
"""

from __future__ import annotations

import os
import tempfile
import weakref
from array import array
from pathlib import Path
from typing import BinaryIO

import polars as pl

from polarreports.control import temp_prefix

__all__ = ["SPILL_BYTES", "BandStream", "BandStreamWriter"]

SPILL_BYTES = 16 * 2**20
"""Band texts above this many bytes are kept in a temporary file rather than in memory."""


class BandStream:
    """Band kinds in memory; band texts (one JSON object each) in memory or in a file."""

    def __init__(self, kinds: pl.Series, texts: pl.Series | None = None, file: _SpillFile | None = None) -> None:
        self.kinds = kinds
        """``k`` of every band instance: its band's index in the layout."""
        self._texts = texts
        self._file = file

    @property
    def height(self) -> int:
        return self.kinds.len()

    @property
    def spilled(self) -> bool:
        """Whether the texts are in a temporary file."""
        return self._file is not None

    def texts(self, start: int = 0, count: int | None = None) -> pl.Series:
        """The JSON texts of bands ``start`` .. ``start + count`` (to the end without ``count``)."""
        if self._file is None:
            assert self._texts is not None
            return self._texts.slice(start, count)
        end = self.height if count is None else min(self.height, start + count)
        return self._file.read(start, max(start, end))

    def text(self, band: int) -> str:
        """The JSON text of band ``band``."""
        return str(self.texts(band, 1).item())


class _SpillFile:
    """JSON lines in a temporary file (removed with this object), and where each line starts."""

    def __init__(self) -> None:
        handle, name = tempfile.mkstemp(prefix=temp_prefix("bands-"), suffix=".jsonl")
        self.path = Path(name)
        self._out: BinaryIO | None = os.fdopen(handle, "wb")
        self.offsets = array("Q", [0])
        self._finalizer = weakref.finalize(self, _remove, self.path)

    def write(self, texts: pl.Series) -> None:
        """Append ``texts`` (JSON escapes every line break, so a text is one line)."""
        assert self._out is not None
        if texts.is_empty():
            return
        lengths = (texts.str.len_bytes().cast(pl.UInt64) + 1).cum_sum() + self.offsets[-1]
        self._out.write(texts.str.join("\n").item().encode() + b"\n")
        self.offsets.extend(lengths.to_list())

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def read(self, start: int, end: int) -> pl.Series:
        if end <= start:
            return pl.Series("json", [], dtype=pl.String)
        with self.path.open("rb") as file:
            file.seek(self.offsets[start])
            text = file.read(self.offsets[end] - self.offsets[start] - 1).decode()
        return pl.Series("json", text.split("\n"), dtype=pl.String)

    def discard(self) -> None:
        self.close()
        self._finalizer()


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


class BandStreamWriter:
    """Collects the band stream a batch at a time; past ``spill_bytes`` of text, into a file."""

    def __init__(self, spill_bytes: int | None = None) -> None:
        self._spill_bytes = SPILL_BYTES if spill_bytes is None else spill_bytes
        self._kinds: list[pl.Series] = []
        self._texts: list[pl.Series] = []
        self._bytes = 0
        self._file: _SpillFile | None = None

    def add(self, batch: pl.DataFrame) -> None:
        """Append a batch of band instances: columns ``k`` and ``json``."""
        self._kinds.append(batch["k"].cast(pl.UInt16))
        texts = batch["json"]
        if self._file is None:
            self._texts.append(texts)
            self._bytes += int(texts.str.len_bytes().sum() or 0)
            if self._bytes > self._spill_bytes:
                self._file = _SpillFile()
                for held in self._texts:
                    self._file.write(held)
                self._texts = []
        else:
            self._file.write(texts)

    def finish(self) -> BandStream:
        kinds = pl.concat(self._kinds) if self._kinds else pl.Series("k", [], dtype=pl.UInt16)
        if self._file is not None:
            file, self._file = self._file, None
            file.close()
            return BandStream(kinds.rechunk(), file=file)
        texts = pl.concat(self._texts) if self._texts else pl.Series("json", [], dtype=pl.String)
        return BandStream(kinds.rechunk(), texts.rechunk())

    def discard(self) -> None:
        """Remove the file, if any (the stream was not finished)."""
        if self._file is not None:
            self._file.discard()
