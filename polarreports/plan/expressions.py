"""Turn definition expressions (SQL text or ``pl.Expr``) into Polars expressions.

Parameters are referenced in SQL as ``:name``; they become the columns ``__p__name`` that the
data stage adds as literals, so parameter values are never spliced into SQL text.

    >>> root_names(to_expr("amount * :rate", {"rate"}))
    ['amount', '__p__rate']
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Iterable, Iterator
from typing import Any

import polars as pl

__all__ = [
    "MAX_TEXT_LENGTH",
    "PARAM_PREFIX",
    "ROW_INDEX",
    "ExpressionError",
    "closest",
    "oversized",
    "param_column",
    "root_names",
    "to_expr",
]

PARAM_PREFIX = "__p__"
ROW_INDEX = "__row"
"""The internal column that numbers the rows in report order, from 0."""
MAX_TEXT_LENGTH = 100_000
"""The longest text an expression may build by padding or repeating with a literal length: past
it, a value could only exhaust the typesetting's time and memory, and it is refused up front."""
_GROWING = {"PadStart": "LPAD", "PadEnd": "RPAD", "ZFill": "zfill", "Repeat": "REPEAT", "RepeatBy": "REPEAT"}
"""Polars functions whose second input is a length or a count: the SQL name they are known by."""
_TOKEN = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|::|:([A-Za-z_][A-Za-z0-9_]*)""")


class ExpressionError(ValueError):
    """An expression cannot be parsed, or names an unknown parameter."""


def param_column(name: str) -> str:
    """The internal column that holds parameter ``name``."""
    return f"{PARAM_PREFIX}{name}"


def substitute_parameters(sql: str, parameters: Collection[str]) -> str:
    """Replace ``:name`` outside string literals with the parameter's quoted column name."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)
        if name not in parameters:
            hint = closest(name, parameters)
            msg = f"unknown parameter ':{name}'{hint}"
            raise ExpressionError(msg)
        return f'"{param_column(name)}"'

    return _TOKEN.sub(replace, sql)


def to_expr(source: str | pl.Expr, parameters: Collection[str]) -> pl.Expr:
    """Compile an expression from a definition into a ``pl.Expr``."""
    if isinstance(source, pl.Expr):
        return source
    sql = substitute_parameters(source, parameters)
    try:
        return pl.sql_expr(sql)
    except (pl.exceptions.PolarsError, ValueError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        msg = f"cannot parse the expression {source!r}: {first_line}"
        raise ExpressionError(msg) from None


def _literal_int(node: Any) -> int | None:
    literal = node.get("Literal") if isinstance(node, dict) else None
    if not isinstance(literal, dict):
        return None
    values = [*literal.get("Dyn", {}).values(), *literal.get("Scalar", {}).values()]
    return values[0] if len(values) == 1 and isinstance(values[0], int) else None


def _function_name(kind: Any) -> str:
    """``"Repeat"``, ``{"StringExpr": "ZFill"}``, ``{"StringExpr": {"PadStart": {...}}}``: the name."""
    while isinstance(kind, dict) and len(kind) == 1:
        key, kind = next(iter(kind.items()))
        if key != "StringExpr":
            return str(key)
    return kind if isinstance(kind, str) else ""


def _growing(node: Any) -> Iterator[tuple[str, int]]:
    """Every padding or repeating in a serialized expression, with its literal length."""
    if isinstance(node, list):
        for item in node:
            yield from _growing(item)
    elif isinstance(node, dict):
        function = node.get("Function")
        if isinstance(function, dict):
            name = _function_name(function.get("function"))
            inputs = function.get("input", [])
            if name in _GROWING and len(inputs) > 1:
                length = _literal_int(inputs[1])
                if length is not None:
                    yield _GROWING[name], length
        for value in node.values():
            yield from _growing(value)


def oversized(expr: pl.Expr) -> str | None:
    """Why ``expr`` can only build a text too long to typeset (``LPAD(t, 10000000, 'x')``), or None."""
    try:
        tree = json.loads(expr.meta.serialize(format="json"))
    except (pl.exceptions.PolarsError, ValueError, TypeError):  # an expression that cannot be serialized
        return None
    for name, length in _growing(tree):
        if length > MAX_TEXT_LENGTH:
            return (
                f"{name} to {length:,} characters builds a text too long to typeset; "
                f"use a length of at most {MAX_TEXT_LENGTH:,}"
            )
    return None


def root_names(expr: pl.Expr) -> list[str]:
    """The column names an expression reads."""
    try:
        return list(dict.fromkeys(expr.meta.root_names()))
    except pl.exceptions.PolarsError:
        return []


def closest(name: str, candidates: Iterable[str]) -> str:
    """A "did you mean" hint naming the nearest candidates, or an empty string."""
    visible = [c for c in candidates if not c.startswith("__")]
    matches = difflib.get_close_matches(name, visible, n=3, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in visible}
        if name.lower() in lowered:
            matches = [lowered[name.lower()]]
    if not matches:
        return ""
    return "; did you mean " + " or ".join(repr(m) for m in matches) + "?"
