"""The Polars expression that shows a column as its format pattern says: the compiled plan
built by its family's builder, nulls shown as the null text.

>>> pl.DataFrame({"done": [True, None]}).select(format_expr(pl.col("done"), pl.Boolean(), "✓/✗"))["done"].to_list()
['✓', '']
"""

from __future__ import annotations

import polars as pl

from polarreports.compute.formats.compiler import compile_plan
from polarreports.compute.formats.dates import build_temporal
from polarreports.compute.formats.dtypes import normalize_dtype
from polarreports.compute.formats.durations import build_duration
from polarreports.compute.formats.numbers import build_number
from polarreports.compute.formats.plans import (
    BoolPlan,
    DurationPlan,
    FormatPlan,
    ListPlan,
    NumberPlan,
    StringPlan,
    TemporalPlan,
)

__all__ = ["format_expr"]


def format_expr(
    expr: pl.Expr,
    dtype: pl.DataType,
    pattern: str | None,
    *,
    locale: str = "en_US",
    currency: str | None = None,
    null_text: str = "",
    where: str = "",
) -> pl.Expr:
    """Return a ``String`` expression that displays ``expr`` (of type ``dtype``) with ``pattern``.

    Parameters
    ----------
    expr
        The expression to format.
    dtype
        Its Polars data type (as found in the schema).
    pattern
        A CLDR pattern or shortcut name (see the module docstring); ``None`` uses
        :func:`default_pattern`.
    locale
        A Babel locale identifier such as ``"de_DE"`` (``"de-DE"`` is accepted too).
    currency
        ISO 4217 code that replaces ``¤``; ``None`` uses the locale's currency.
    null_text
        The text shown for nulls.
    where
        A human label of the element, put at the start of every error message.

    Returns
    -------
    pl.Expr
        A ``String`` expression with the same output name as ``expr``.

    Raises
    ------
    FormatError
        If the pattern is malformed or does not fit ``dtype``, or the locale or the
        currency is unknown.

    Examples
    --------
    >>> df = pl.DataFrame({"share": [0.256, None]})
    >>> df.select(format_expr(pl.col("share"), pl.Float64(), "0.0%", null_text="-"))
    shape: (2, 1)
    ┌───────┐
    │ share │
    │ ---   │
    │ str   │
    ╞═══════╡
    │ 25.6% │
    │ -     │
    └───────┘
    """
    dtype = normalize_dtype(dtype)
    if currency is not None:
        currency = currency.upper()
    plan = compile_plan(pattern, dtype, locale, currency, where)
    result = _build(plan, expr, null_text).fill_null(pl.lit(null_text))
    try:
        name = expr.meta.output_name()
    except pl.exceptions.PolarsError:
        return result
    return result.alias(name)


def _build(plan: FormatPlan, expr: pl.Expr, null_text: str) -> pl.Expr:
    result: pl.Expr
    if isinstance(plan, NumberPlan):
        result = build_number(plan, expr)
    elif isinstance(plan, TemporalPlan):
        result = build_temporal(plan, expr)
    elif isinstance(plan, DurationPlan):
        result = build_duration(plan, expr)
    elif isinstance(plan, BoolPlan):
        result = pl.when(expr).then(pl.lit(plan.true_text)).when(expr.not_()).then(pl.lit(plan.false_text))
    elif isinstance(plan, StringPlan):
        result = expr.cast(pl.String)
        if plan.transform is not None:
            result = {
                "upper": result.str.to_uppercase,
                "lower": result.str.to_lowercase,
                "title": result.str.to_titlecase,
            }[plan.transform]()
    elif isinstance(plan, ListPlan):
        items = expr.arr.to_list() if plan.array else expr
        item = _build(plan.item, pl.element(), null_text).fill_null(pl.lit(null_text))
        result = items.list.eval(item).list.join(", ")
    else:
        result = expr.cast(pl.String)
    return result
