"""The column types a format pattern applies to: a type's kind and its default pattern.

>>> column_kind(pl.Datetime("us")), column_kind(pl.UInt8()), column_kind(pl.Object())
('datetime', 'int', 'other')
"""

from __future__ import annotations

from typing import Any, Literal

import polars as pl

__all__ = ["Kind", "column_kind", "default_pattern", "item_dtype", "normalize_dtype"]

Kind = Literal[
    "int", "float", "decimal", "bool", "string", "date", "datetime", "time", "duration",
    "list", "null", "other",
]  # fmt: skip
"""The family of a column type, which decides the patterns it takes."""


def default_pattern(dtype: pl.DataType) -> str | None:
    """Return the pattern used for a column of ``dtype`` when an element gives none.

    Parameters
    ----------
    dtype
        The column's Polars data type.

    Returns
    -------
    str or None
        ``"#,##0"`` for integers, ``"#,##0.00"`` for floats and decimals,
        ``"yyyy-MM-dd"``, ``"yyyy-MM-dd HH:mm"``, ``"HH:mm:ss"`` for dates,
        datetimes and times, ``"h:mm:ss"`` for durations, the item type's default
        for lists, and ``None`` (no pattern) for everything else.

    Examples
    --------
    >>> default_pattern(pl.Int32())
    '#,##0'
    >>> default_pattern(pl.Datetime("us", "Europe/Berlin"))
    'yyyy-MM-dd HH:mm'
    >>> default_pattern(pl.Boolean()) is None
    True
    """
    dtype = normalize_dtype(dtype)
    kind = column_kind(dtype)
    if kind == "list":
        return default_pattern(item_dtype(dtype))
    return {
        "int": "#,##0",
        "float": "#,##0.00",
        "decimal": "#,##0.00",
        "date": "yyyy-MM-dd",
        "datetime": "yyyy-MM-dd HH:mm",
        "time": "HH:mm:ss",
        "duration": "h:mm:ss",
    }.get(kind)


def normalize_dtype(dtype: Any) -> pl.DataType:
    """A Polars data type as an instance (``pl.Int64`` gives ``Int64()``); ``TypeError`` for
    anything else.

    >>> normalize_dtype(pl.Int64) == pl.Int64()
    True
    """
    if isinstance(dtype, type):  # a data type class such as pl.Int64
        dtype = dtype()
    if not isinstance(dtype, pl.DataType):
        msg = f"not a Polars data type: {dtype!r}"
        raise TypeError(msg)
    return dtype


_KIND_BY_CLASS: tuple[tuple[type[pl.DataType] | tuple[type[pl.DataType], ...], Kind], ...] = (
    (pl.Decimal, "decimal"),
    (pl.Boolean, "bool"),
    ((pl.String, pl.Categorical, pl.Enum), "string"),
    (pl.Datetime, "datetime"),
    (pl.Date, "date"),
    (pl.Time, "time"),
    (pl.Duration, "duration"),
    ((pl.List, pl.Array), "list"),
    (pl.Null, "null"),
)


def column_kind(dtype: pl.DataType) -> Kind:
    """The kind of a column type (``"other"``: one that cannot be formatted)."""
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    return next((kind for cls, kind in _KIND_BY_CLASS if isinstance(dtype, cls)), "other")


def item_dtype(dtype: pl.DataType) -> pl.DataType:
    """The item type of a ``List`` or ``Array`` type."""
    assert isinstance(dtype, (pl.List, pl.Array))
    return normalize_dtype(dtype.inner)
