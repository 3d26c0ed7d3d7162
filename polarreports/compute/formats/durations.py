"""Duration patterns (``h:mm:ss``, ``d'd' hh'h'``): checked into a :class:`DurationPlan`, then
built into a Polars expression whose largest field holds the whole amount.

>>> from datetime import timedelta
>>> from polarreports.compute.formats import find_locale
>>> plan = compile_duration("h:mm:ss", pl.Duration(), find_locale("en_US"), "")
>>> pl.select(build_duration(plan, pl.lit(timedelta(days=1, hours=2)))).item()
'26:00:00'
"""

from __future__ import annotations

import polars as pl
from babel import Locale

from polarreports.compute.formats.dates import pad
from polarreports.compute.formats.plans import DateField, DurationPlan
from polarreports.compute.formats.sharing import Get, let
from polarreports.compute.formats.syntax import date_fields, format_error

__all__ = ["build_duration", "compile_duration"]

_DURATION_UNITS = {"d": 86_400, "h": 3_600, "H": 3_600, "m": 60, "s": 1}


def compile_duration(pattern: str, dtype: pl.DataType, loc: Locale, where: str) -> DurationPlan:
    """The plan of a duration pattern for a column of ``dtype``."""
    tokens, fields = date_fields(pattern, pattern, dtype, where, "duration", "use a duration pattern such as 'h:mm:ss'")
    for field in fields:
        if field.char == "S" and field.count <= 9:
            continue
        if field.char not in _DURATION_UNITS:
            raise format_error(
                where,
                f"bad duration pattern {pattern!r}: {field.char * field.count!r} is not a "
                "duration field (use d, h, m, s, S; quote literal text)",
            )
    return DurationPlan(tuple(tokens), str(loc.number_symbols["latn"]["minusSign"]))


def build_duration(plan: DurationPlan, expr: pl.Expr) -> pl.Expr:
    """The expression that shows ``expr`` (a duration) as ``plan`` says."""
    units = [t.char for t in plan.tokens if isinstance(t, DateField) and t.char != "S"]
    sizes = sorted({_DURATION_UNITS[u] for u in units})

    def body(g: Get) -> pl.Expr:
        nanos = g("n")
        magnitude = nanos.abs()
        seconds = magnitude // 1_000_000_000
        parts: list[pl.Expr] = [pl.when(nanos < 0).then(pl.lit(plan.minus)).otherwise(pl.lit(""))]
        for token in plan.tokens:
            if isinstance(token, str):
                parts.append(pl.lit(token))
            elif token.char == "S":
                fraction = magnitude % 1_000_000_000 // 10 ** (9 - token.count)
                parts.append(pad(fraction, token.count))
            else:
                unit = _DURATION_UNITS[token.char]
                value = seconds // unit
                bigger = [size for size in sizes if size > unit]
                if bigger:  # the largest field holds the whole amount
                    value = value % (bigger[0] // unit)
                parts.append(pad(value, token.count))
        return pl.concat_str(parts)

    return let({"n": expr.dt.total_nanoseconds().cast(pl.Int64)}, body)
