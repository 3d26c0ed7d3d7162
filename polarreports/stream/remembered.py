"""Display strings remembered per format and value, so that a small report rendered again (a
notebook cell run twice, a preview whose parameter changed) formats only values it has not
seen yet.

A format expression has a fixed cost of a millisecond or more whatever the rows (a currency
Decimal about five), and a small report's values are formatted in a dozen of them
(``stream.stacked``): most of its data phase. A display string depends on its value and its
format only (its type, pattern, locale, currency, null text; ``stream.stacked`` relies on it
too), so the strings made once are good for any later render in this process.

Only values that survive the trip to Python whole are remembered: integers, floats (by their
bits: ``-0.0`` is not ``0.0``), Decimals, booleans, dates and text; a datetime, time or
duration (nanoseconds would be lost) is always formatted by Polars. At most ``MAX_STRINGS``
strings of at most ``LONGEST`` characters are kept (a longer value is formatted each time),
those of the formats least recently used dropped first; one lock guards them, so renders on
several threads share them safely.

    >>> memo = RememberedStrings(max_strings=10)
    >>> key = ("Int64", "#,##0", "en_US", None, "")
    >>> memo.known(key, pl.Series([1, 2]))
    [None, None]
    >>> memo.learn(key, pl.Series([1, 2]), pl.Series(["1", "2"]))
    >>> memo.known(key, pl.Series([2, 3]))
    ['2', None]
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Hashable

import polars as pl

__all__ = ["LONGEST", "MAX_STRINGS", "STRINGS", "RememberedStrings", "rememberable"]

MAX_STRINGS = 20_000
"""Display strings kept per process (a few MB at most)."""
LONGEST = 256
"""Longer display strings (a long format pattern's) are not kept."""


def rememberable(dtype: pl.DataType) -> bool:
    """Whether values of ``dtype`` come to Python whole, so that their strings may be remembered.

    >>> rememberable(pl.Decimal(38, 2)), rememberable(pl.Date()), rememberable(pl.Datetime("ns"))
    (True, True, False)
    """
    return dtype.is_integer() or dtype.is_float() or isinstance(dtype, pl.Decimal | pl.Boolean | pl.Date | pl.String)


def _value_keys(values: pl.Series) -> list[Hashable]:
    """Each value as a dict key that tells apart values formatted differently."""
    if values.dtype.is_float():
        return [None if value is None else value.hex() for value in values.to_list()]
    return list(values.to_list())


class RememberedStrings:
    """Display strings by format key and value: a table per format key, the least recently
    used tables dropped (then the oldest strings of the last) past ``max_strings``."""

    def __init__(self, max_strings: int = MAX_STRINGS) -> None:
        self._tables: OrderedDict[Hashable, dict[Hashable, str]] = OrderedDict()
        self._count = 0
        self._max = max_strings
        self._lock = threading.Lock()

    def known(self, key: Hashable, values: pl.Series) -> list[str | None]:
        """The remembered display string of each of ``values`` (of format ``key``), None where
        none is (a string itself is never None: a null value shows its null text)."""
        keys = _value_keys(values)
        with self._lock:
            table = self._tables.get(key)
            if table is None:
                return [None] * len(keys)
            self._tables.move_to_end(key)
            return [table.get(value) for value in keys]

    def learn(self, key: Hashable, values: pl.Series, strings: pl.Series) -> None:
        """Remember the display ``strings`` of ``values`` (of format ``key``)."""
        pairs = [
            (value, string)
            for value, string in zip(_value_keys(values), strings.to_list(), strict=True)
            if string is not None and len(string) <= LONGEST and not (isinstance(value, str) and len(value) > LONGEST)
        ]
        with self._lock:
            table = self._tables.setdefault(key, {})
            self._tables.move_to_end(key)
            before = len(table)
            table.update(pairs)
            self._count += len(table) - before
            while self._count > self._max:  # (the table of ``key`` is the oldest only when alone)
                oldest_key = next(iter(self._tables))
                oldest, extra = self._tables[oldest_key], self._count - self._max
                if len(oldest) > extra:  # its oldest strings are enough
                    for value in list(itertools.islice(oldest, extra)):
                        del oldest[value]
                    self._count -= extra
                else:
                    del self._tables[oldest_key]
                    self._count -= len(oldest)

    def __len__(self) -> int:
        return self._count

    def clear(self) -> None:
        with self._lock:
            self._tables.clear()
            self._count = 0


STRINGS = RememberedStrings()
"""The display strings of this process's renders (``stream.stacked`` reads and fills it)."""
