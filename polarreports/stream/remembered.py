"""Display strings remembered per format and value, so that a small report rendered again (a
notebook cell run twice, a preview whose parameter changed) formats only values it has not
seen yet.

A format expression has a fixed cost of a millisecond or more whatever the rows (a currency
Decimal about five), and a small report's values are formatted in a dozen of them
(``stream.stacked``): most of its data phase. A display string depends on its value and its
format only (its type, pattern, locale, currency, null text; ``stream.stacked`` relies on it
too), so the strings made once are good for any later render in this process.

Only values that survive the trip to Python whole and cost a format expression are
remembered: integers, floats (by their bits: ``-0.0`` is not ``0.0``), Decimals, booleans and
dates; a datetime, time or duration (nanoseconds would be lost) is always formatted by Polars,
and so is text (it costs little, and may be long). At most ``MAX_STRINGS`` strings of at most
``LONGEST`` characters are kept, the least recently used dropped first; one lock guards them,
so renders on several threads share them safely.

    >>> memo = RememberedStrings(max_strings=10)
    >>> key = ("Int64", "#,##0", "en_US", None, "")
    >>> memo.known(key, pl.Series([1, 2]))
    [None, None]
    >>> memo.learn(key, pl.Series([1, 2]), pl.Series(["1", "2"]))
    >>> memo.known(key, pl.Series([2, 3]))
    ['2', None]
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

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
    return dtype.is_integer() or dtype.is_float() or isinstance(dtype, pl.Decimal | pl.Boolean | pl.Date)


def _value_keys(values: pl.Series) -> list[Hashable]:
    """Each value as a dict key that tells apart values formatted differently."""
    if values.dtype.is_float():
        return [None if value is None else value.hex() for value in values.to_list()]
    return list(values.to_list())


class RememberedStrings:
    """Display strings by format key and value, least recently used dropped past ``max_strings``."""

    def __init__(self, max_strings: int = MAX_STRINGS) -> None:
        self._strings: OrderedDict[tuple[Hashable, Hashable], Any] = OrderedDict()
        self._max = max_strings
        self._lock = threading.Lock()

    def known(self, key: Hashable, values: pl.Series) -> list[str | None]:
        """The remembered display string of each of ``values`` (of format ``key``), None where
        none is (a string itself is never None: a null value shows its null text)."""
        keys = _value_keys(values)
        strings = self._strings
        found: list[str | None] = []
        with self._lock:
            for value in keys:
                string = strings.get((key, value))
                if string is not None:
                    strings.move_to_end((key, value))
                found.append(string)
        return found

    def learn(self, key: Hashable, values: pl.Series, strings: pl.Series) -> None:
        """Remember the display ``strings`` of ``values`` (of format ``key``)."""
        pairs = [((key, value), string) for value, string in zip(_value_keys(values), strings.to_list(), strict=True)]
        with self._lock:
            for pair, string in pairs:
                if string is not None and len(string) <= LONGEST:
                    self._strings[pair] = string
                    self._strings.move_to_end(pair)
            while len(self._strings) > self._max:
                self._strings.popitem(last=False)

    def __len__(self) -> int:
        return len(self._strings)

    def clear(self) -> None:
        with self._lock:
            self._strings.clear()


STRINGS = RememberedStrings()
"""The display strings of this process's renders (``stream.stacked`` reads and fills it)."""
