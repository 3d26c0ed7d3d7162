"""The band stream's raw typed values: what each band instance's cells hold before formatting.

Beside the JSON texts (``bandstream``), a render keeps, unformatted and in Polars' own types
(numbers, Decimals, dates, datetimes, booleans, strings), the values the texts were made from:

- ``detail``: the detail rows a batch at a time, as the stream was made (``__pos`` and the
  cells' values ``__v0``, ``__v1``, ...);
- ``groups``: per group band, all its instances (``__pos``, ``__sub``, ``__v0``, ...);
- ``keys``: per group level, where each group starts (``__start``) and its key values;
- ``report``: per report band (title, summary, ...), its one row of values.

A band instance's place in the stream is ``(__pos, __sub)`` (see ``stream.collect``), so the
stream order is rebuilt by sorting on it. Keeping them costs a reference while they are small;
past ``spill_bytes`` they go to Arrow IPC files in a temporary folder (removed with the store;
LZ4: as fast to write as uncompressed, a third of the size), written as they come and read back
a batch at a time, so memory stays flat.

    >>> import polars as pl
    >>> writer = TypedBandsWriter(spill_bytes=0)  # spill at once
    >>> writer.add_detail(0, 2, pl.DataFrame({"__pos": [0, 1], "__v0": [1.5, 2.5]}))
    >>> typed = writer.finish(groups={}, keys={}, report={})
    >>> typed.spilled, [(start, end, frame["__v0"].to_list()) for start, end, frame in typed.detail()]
    (True, [(0, 2, [1.5, 2.5])])
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from polarreports.control import temp_prefix

__all__ = ["TypedBands", "TypedBandsWriter"]

SPILL_BYTES = 16 * 2**20
"""Raw values above this many bytes (Polars' estimate) go to a temporary folder."""


@dataclass(frozen=True)
class _Batch:
    start: int
    end: int
    frame: pl.DataFrame | None
    """The rows in memory, or None: in the file ``<folder>/<index>.arrow``."""


class TypedBands:
    """The raw values of a render's band instances (see the module's docstring)."""

    def __init__(
        self,
        batches: list[_Batch],
        groups: dict[str, pl.DataFrame | Path],
        keys: dict[int, pl.DataFrame],
        report: dict[str, pl.DataFrame],
        folder: Path | None,
    ) -> None:
        self._batches = batches
        self._groups = groups
        self.keys = keys
        """Per group level: ``__start`` (the group's first row) and the key columns of levels 1..k."""
        self.report = report
        """Per report band name (``bands.title``, ...): its one row of raw values ``__v0``, ..."""
        self._folder = folder
        self._finalizer = weakref.finalize(self, shutil.rmtree, folder, True) if folder is not None else None

    @property
    def spilled(self) -> bool:
        """Whether some values are in a temporary folder."""
        return self._folder is not None

    def detail(self) -> Iterator[tuple[int, int, pl.DataFrame | None]]:
        """The detail rows' values a batch at a time, in stream order: ``(start, end, frame)``
        with the rows whose ``__pos`` is in ``[start, end)`` (``end`` < 0: no detail band, all
        positions; frame None)."""
        for index, batch in enumerate(self._batches):
            frame = batch.frame
            if frame is None and batch.end >= 0:
                assert self._folder is not None
                frame = pl.read_ipc(self._folder / f"{index}.arrow")
            yield batch.start, batch.end, frame

    def group(self, name: str) -> pl.DataFrame:
        """Every instance of group band ``name``: ``__pos``, ``__sub`` and its values."""
        held = self._groups[name]
        return pl.read_ipc(held) if isinstance(held, Path) else held

    @property
    def group_names(self) -> list[str]:
        return list(self._groups)


class TypedBandsWriter:
    """Collects the raw values as the stream is made; past ``spill_bytes``, into files."""

    def __init__(self, spill_bytes: int | None = None) -> None:
        self._spill_bytes = SPILL_BYTES if spill_bytes is None else spill_bytes
        self._batches: list[_Batch] = []
        self._bytes = 0
        self._folder: Path | None = None

    def _spill(self) -> Path:
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix=temp_prefix("bands-")))
            for index, batch in enumerate(self._batches):
                if batch.frame is not None:
                    batch.frame.write_ipc(self._folder / f"{index}.arrow", compression="lz4")
                    self._batches[index] = _Batch(batch.start, batch.end, None)
        return self._folder

    def add_detail(self, start: int, end: int, frame: pl.DataFrame | None) -> None:
        """The detail rows of positions ``[start, end)`` (``__pos`` and ``__v0``, ...)."""
        if frame is None:
            self._batches.append(_Batch(start, end, None))
            return
        if self._folder is None:
            self._batches.append(_Batch(start, end, frame))
            self._bytes += int(frame.estimated_size())
            if self._bytes > self._spill_bytes:
                self._spill()
            return
        frame.write_ipc(self._folder / f"{len(self._batches)}.arrow", compression="lz4")
        self._batches.append(_Batch(start, end, None))

    def finish(
        self, groups: dict[str, pl.DataFrame], keys: dict[int, pl.DataFrame], report: dict[str, pl.DataFrame]
    ) -> TypedBands:
        """The store, with each group band's instances, each level's keys and the report bands'
        values (spilled too once the detail rows were)."""
        held: dict[str, pl.DataFrame | Path] = dict(groups)
        if self._folder is None and sum(frame.estimated_size() for frame in groups.values()) > self._spill_bytes:
            self._spill()
        if self._folder is not None:
            for index, (name, frame) in enumerate(groups.items()):
                path = self._folder / f"group-{index}.arrow"
                frame.write_ipc(path, compression="lz4")
                held[name] = path
        folder, self._folder = self._folder, None
        return TypedBands(self._batches, held, keys, report, folder)

    def discard(self) -> None:
        """Remove the folder, if any (the stream was not finished)."""
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
