"""How far a Polars expression reads across rows: its own row only, the rows of its group, or
all of them. Rows can be sorted a part at a time (``data.parts``) only if every value computed
on a part comes out as it would on all rows.

The expression's serialized tree is walked: columns and literals read their own row; a function
reads its own row if Polars says it is row-separable; a window (``over``) reads the rows of
the groups it partitions by; an aggregation, ``len()`` or any node not known here reads them all.

    >>> import polars as pl
    >>> keys = ["region", "customer"]
    >>> split_level_of(pl.col("x") * 2, keys), split_level_of(pl.col("x").sum(), keys)
    (2, None)
    >>> split_level_of(pl.col("x") / pl.col("x").sum().over("region"), keys)
    1
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

__all__ = ["least", "split_level_of"]


def split_level_of(expr: pl.Expr, keys: Sequence[str]) -> int | None:
    """The most of ``keys`` that parts may be cut by (each part: rows sharing them) with ``expr``
    coming out on a part as on all rows: ``len(keys)`` if it reads only its own row, ``k`` for a
    window over the first ``k`` keys, None if it reads other rows (an aggregate, a shift, a
    window over other columns)."""
    try:
        tree = json.loads(expr.meta.serialize(format="json"))
    except (pl.exceptions.PolarsError, ValueError):  # e.g. a Python function in the expression
        return None
    return _level(tree, list(keys))


def least(levels: Iterable[int | None], most: int) -> int | None:
    """The smallest of ``levels`` (``most`` if there are none); None if one of them is None."""
    found = list(levels)
    return None if None in found else min([level for level in found if level is not None], default=most)


def _level(node: Any, keys: list[str]) -> int | None:
    """See :func:`split_level_of`, for a node of a serialized expression."""
    deepest = len(keys)
    if not isinstance(node, dict) or len(node) != 1:
        return None  # "Len", or a kind of node not known here
    ((kind, body),) = node.items()
    match kind:
        case "Column" | "Literal":
            return deepest
        case "KeepName":
            return _level(body, keys)
        case "Alias":
            return _level(body[0], keys)
        case "Cast":
            return _level(body["expr"], keys)
        case "BinaryExpr":
            return least((_level(body["left"], keys), _level(body["right"], keys)), deepest)
        case "Ternary":
            return least((_level(body[part], keys) for part in ("predicate", "truthy", "falsy")), deepest)
        case "Function":
            if not _row_separable(body):
                return None
            return least((_level(each, keys) for each in body["input"]), deepest)
        case "Over":
            if body.get("order_by") is not None:
                return None
            names = {each.get("Column") for each in body["partition_by"] if isinstance(each, dict)}
            covered = 0
            while covered < len(keys) and keys[covered] in names:
                covered += 1
            return covered or None  # the window's function sees only rows of whole groups
    return None


def _row_separable(function: dict[str, Any]) -> bool:
    """Whether Polars computes a function of the rows on each row alone (asked of the function
    with plain numbers as its inputs: the answer does not depend on them)."""
    one = {"Literal": {"Dyn": {"Int": 1}}}
    node = {"Function": {**function, "input": [one for _ in function["input"]]}}
    try:
        return pl.Expr.deserialize(io.StringIO(json.dumps(node)), format="json").meta.is_row_separable()
    except pl.exceptions.PolarsError:
        return False
