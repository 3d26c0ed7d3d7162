"""Format the values of many small band frames at once: one format expression per distinct
format, not one per cell.

A format expression has a fixed cost whatever the rows (about a millisecond for a number with
grouping, more for a currency Decimal), and a small report has a few dozen cells in a dozen
frames (the report bands, each group band, the detail rows): most of its data phase was that
fixed cost. Cells that show values of one type with one pattern and one null text (the
revenue of the summary, of each region header and of each region footer) are formatted the
same way, so their values are stacked into one column, formatted once (the stacks in one
``collect_all``), and split back: column ``__f{i}`` beside each frame's ``__v{i}``. Each string
depends on its own value only, so the strings are those each cell would get alone.

    >>> import polars as pl
    >>> stack = Stacks()
    >>> a = stack.add(pl.Series([1.5, None]), ("Float64", "#,##0.00", ""))
    >>> b = stack.add(pl.Series([1234.0]), ("Float64", "#,##0.00", ""))
    >>> from polarreports.compute.formats import format_expr
    >>> done = stack.format(lambda key, column: format_expr(column, pl.Float64(), key[1]))
    >>> done.get(a).to_list(), done.get(b).to_list()
    (['1.50', ''], ['1,234.00'])
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import polars as pl

from polarreports.compute.formats import FEW_ROWS, for_few_rows
from polarreports.queries import collect_batch
from polarreports.stream.remembered import RememberedStrings, rememberable

__all__ = ["STACKABLE", "Slot", "Stacked", "Stacks", "stackable"]

STACKABLE = (pl.Boolean, pl.String, pl.Date, pl.Datetime, pl.Time, pl.Duration, pl.Decimal)
"""Types (with every integer and float) whose values are stacked; the others (lists, structs,
categories, nulls) are formatted in their band's query, as they cost little or concatenate badly."""


def stackable(dtype: pl.DataType) -> bool:
    """Whether values of ``dtype`` may be stacked with others of the same type.

    >>> stackable(pl.Decimal(38, 2)), stackable(pl.Int32()), stackable(pl.List(pl.Int64))
    (True, True, False)
    """
    return dtype.is_integer() or dtype.is_float() or isinstance(dtype, STACKABLE)


@dataclass(frozen=True)
class Slot:
    """Where a column's values are in its stack: the stack's number, the first row, the rows."""

    stack: int
    offset: int
    length: int


@dataclass(frozen=True)
class Stacked:
    """The formatted stacks (one string column each)."""

    columns: list[pl.Series]

    def get(self, slot: Slot) -> pl.Series:
        """The display strings of the values put at ``slot``."""
        return self.columns[slot.stack].slice(slot.offset, slot.length)


@dataclass
class Stacks:
    """Value columns gathered by format key (anything hashable that tells the format: the type,
    the pattern, the null text), to be formatted once per key by :meth:`format`."""

    keys: dict[Hashable, int] = field(default_factory=dict)
    columns: list[list[pl.Series]] = field(default_factory=list)
    heights: list[int] = field(default_factory=list)

    def add(self, values: pl.Series, key: Hashable) -> Slot:
        """Put ``values`` on the stack of ``key`` (same type for every column of a key)."""
        number = self.keys.setdefault(key, len(self.keys))
        if number == len(self.columns):
            self.columns.append([])
            self.heights.append(0)
        slot = Slot(number, self.heights[number], len(values))
        self.columns[number].append(values)
        self.heights[number] += len(values)
        return slot

    def format(
        self, expression: Callable[[Hashable, pl.Expr], pl.Expr], memo: RememberedStrings | None = None
    ) -> Stacked:
        """Every stack formatted with ``expression(key, column)``, the stacks in one
        ``collect_all`` (each its own height: padding them to one frame costs more). With a
        ``memo`` (``stream.remembered``), only the values it does not know yet are formatted,
        and their strings are added to it."""
        columns: list[pl.Series | None] = []
        queries, pending = [], []
        for key, parts in zip(self.keys, self.columns, strict=True):
            stack = pl.concat([part.rename("s") for part in parts]) if len(parts) > 1 else parts[0].rename("s")
            known = memo.known(key, stack) if memo is not None and rememberable(stack.dtype) else None
            if known is not None and None not in known:
                columns.append(pl.Series("s", known, dtype=pl.String))
                continue
            todo = stack if known is None else stack.filter(pl.Series([string is None for string in known]))
            with for_few_rows(len(todo) <= FEW_ROWS):
                queries.append(todo.to_frame().lazy().select(expression(key, pl.col("s")).alias("s")))
            pending.append((len(columns), key, todo, known))
            columns.append(None)
        for (at, key, todo, known), frame in zip(pending, collect_batch(queries) if queries else [], strict=True):
            strings = frame.get_column("s")
            if known is not None:
                assert memo is not None
                memo.learn(key, todo, strings)
                made = iter(strings.to_list())
                strings = pl.Series("s", [next(made) if string is None else string for string in known], pl.String)
            elif memo is not None and rememberable(todo.dtype):
                memo.learn(key, todo, strings)
            columns[at] = strings
        return Stacked([column for column in columns if column is not None])
