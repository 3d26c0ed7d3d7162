"""Values a format expression uses more than once: computed once with :func:`let`, or, for a
frame of few rows (:func:`for_few_rows`), written where they are used.

>>> pl.select(let({"x": pl.lit(3)}, lambda get: get("x") * get("x"))).item()
9
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

import polars as pl

__all__ = ["FEW_ROWS", "Get", "building_for_few_rows", "for_few_rows", "let"]

Get = Callable[[str], pl.Expr]
"""How a body reads a value bound by :func:`let`: by its name."""


def _element(_: str) -> pl.Expr:
    return pl.element()


def _element_field(name: str) -> pl.Expr:
    return pl.element().struct.field(name)


FEW_ROWS = 2_000
"""Up to this many rows, a format expression built within :func:`for_few_rows` is quicker."""
_INLINE: contextvars.ContextVar[bool] = contextvars.ContextVar("polarreports_inline_lets", default=False)


@contextlib.contextmanager
def for_few_rows(few: bool = True) -> Iterator[None]:
    """Build the format expressions of this block for a frame of at most ``FEW_ROWS`` rows
    (if ``few``): each intermediate value is written where it is used instead of being
    computed once in a ``list.eval``, whose fixed cost (about a third of a millisecond, several
    per number) outweighs computing small values twice; from about 3,000 rows on, it is the
    other way round. The strings are the same.

    >>> from polarreports.compute.formats import format_expr
    >>> frame = pl.DataFrame({"x": [1234.5]})
    >>> with for_few_rows():
    ...     inline = format_expr(pl.col("x"), pl.Float64(), "#,##0.00")
    >>> frame.select(inline).item(), frame.select(format_expr(pl.col("x"), pl.Float64(), "#,##0.00")).item()
    ('1,234.50', '1,234.50')
    """
    token = _INLINE.set(few)
    try:
        yield
    finally:
        _INLINE.reset(token)


def building_for_few_rows() -> bool:
    """Whether the format expressions built now are for few rows (see :func:`for_few_rows`)."""
    return _INLINE.get()


def let(fields: dict[str, pl.Expr], body: Callable[[Get], pl.Expr]) -> pl.Expr:
    """Evaluate every expression of ``fields`` once, then ``body`` on cheap references.

    Polars shares repeated subexpressions only in lazy mode.  Packing the values into
    a one-item list and running ``body`` with ``list.eval`` materialises each value
    once in every mode (eager, lazy, streaming) at a negligible cost per row, but a fixed
    cost per evaluation: within :func:`for_few_rows`, the values are written where they are
    used instead.
    """
    if _INLINE.get():
        return body(fields.__getitem__)
    get: Get
    if len(fields) == 1:
        (packed,) = fields.values()
        get = _element
    else:
        packed = pl.struct([value.alias(name) for name, value in fields.items()])
        get = _element_field
    return pl.concat_list([packed]).list.eval(body(get)).list.first()
