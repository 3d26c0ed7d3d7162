"""Turn definition expressions (SQL text or ``pl.Expr``) into Polars expressions.

Parameters are referenced in SQL as ``:name``; they become the columns ``__p__name`` that the
data stage adds as literals, so parameter values are never spliced into SQL text.

    >>> root_names(to_expr("amount * :rate", {"rate"}))
    ['amount', '__p__rate']
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from typing import Any

import polars as pl

from polarreports.suggest import closest  # re-exported: the plan's modules name it here

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
    return _substituted(sql, parameters)[0]


def _substituted(sql: str, parameters: Collection[str]) -> tuple[str, list[tuple[int, int]]]:
    """The SQL with parameters replaced, and where each replacement sits: pairs (position in
    the new text, how many characters longer it made the text), to map positions back."""
    shifts: list[tuple[int, int]] = []
    parts: list[str] = []
    last, grown = 0, 0
    for match in _TOKEN.finditer(sql):
        name = match.group(1)
        if name is None:
            continue
        if name not in parameters:
            hint = closest(name, parameters)
            msg = f"unknown parameter ':{name}'{hint}"
            raise ExpressionError(msg)
        replacement = f'"{param_column(name)}"'
        parts += [sql[last : match.start()], replacement]
        grown += len(replacement) - len(match.group(0))
        shifts.append((match.start() + grown + len(match.group(0)), grown))
        last = match.end()
    parts.append(sql[last:])
    return "".join(parts), shifts


_PARSER_ERROR = re.compile(
    r"Expected: (?P<expected>.+?), found: (?P<found>\S+)(?: at Line: (?P<line>\d+), Column: (?P<col>\d+))?"
)
_UNTERMINATED = re.compile(r"(?P<what>Unterminated [^\n]+?) at Line: (?P<line>\d+), Column: (?P<col>\d+)")


def _offset(text: str, line: int, column: int) -> int:
    """The position in ``text`` of a 1-based line and column."""
    lines = text.split("\n")
    return sum(len(item) + 1 for item in lines[: line - 1]) + column - 1


def describe_parse_error(source: str, parameters: Collection[str]) -> str:
    """Why ``source`` does not parse, pointing at the position as the user wrote it.

    >>> describe_parse_error("region = :year AND (quantity <= ", {"year"})
    "cannot parse the expression 'region = :year AND (quantity <= ' at position 33 (its end): expected an expression"
    >>> describe_parse_error("a + * b", ())
    "cannot parse the expression 'a + * b' at position 5 (at '* b'): expected an expression, found '*'"
    """
    sql, shifts = _substituted(source, parameters)
    prefix = "SELECT "
    try:  # a statement's parser says where it stopped, which sql_expr does not
        pl.SQLContext().execute(prefix + sql, eager=False)
    except (pl.exceptions.PolarsError, ValueError) as error:
        text = str(error)
    else:
        text = ""
    found = _PARSER_ERROR.search(text) or _UNTERMINATED.search(text)
    if found is None:
        detail = text.strip().splitlines()[0] if text.strip() else "not a SQL expression"
        for name in parameters:
            detail = detail.replace(f'"{param_column(name)}"', f":{name}")
        return f"cannot parse the expression {source!r}: {detail}"
    groups = found.groupdict()
    if groups.get("line"):
        position = _offset(prefix + sql, int(groups["line"]), int(groups["col"])) - len(prefix)
        position -= next((grown for at, grown in reversed(shifts) if at <= position), 0)
    else:
        position = len(source)
    position = max(0, min(position, len(source)))
    place = "its end" if position >= len(source.rstrip()) else f"at {source[position:][:20]!r}"
    if "what" in groups:
        problem = groups["what"].lower()
    else:
        expected = {"end of statement": "the end of the expression"}.get(groups["expected"], groups["expected"])
        problem = f"expected {expected!r}" if len(expected) == 1 else f"expected {expected}"
        if groups["found"] != "EOF":
            problem += f", found {groups['found']!r}"
    return f"cannot parse the expression {source!r} at position {position + 1} ({place}): {problem}"


def to_expr(source: str | pl.Expr, parameters: Collection[str]) -> pl.Expr:
    """Compile an expression from a definition into a ``pl.Expr``."""
    if isinstance(source, pl.Expr):
        return source
    sql = substitute_parameters(source, parameters)
    try:
        return pl.sql_expr(sql)
    except (pl.exceptions.PolarsError, ValueError):
        raise ExpressionError(describe_parse_error(source, parameters)) from None


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
