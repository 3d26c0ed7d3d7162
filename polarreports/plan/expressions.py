"""Turn definition expressions (SQL text or ``pl.Expr``) into Polars expressions.

Parameters are referenced in SQL as ``:name``; they become the columns ``__p__name`` that the
data stage adds as literals, so parameter values are never spliced into SQL text.

    >>> root_names(to_expr("amount * :rate", {"rate"}))
    ['amount', '__p__rate']
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable

import polars as pl

__all__ = ["PARAM_PREFIX", "ROW_INDEX", "ExpressionError", "closest", "param_column", "root_names", "to_expr"]

PARAM_PREFIX = "__p__"
ROW_INDEX = "__row"
"""The internal column that numbers the rows in report order, from 0."""
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
