"""A format pattern compiled, for one column type and locale, into its plan (cached): the one
place that checks a pattern and routes it to its family (numbers, dates, durations, booleans,
text, lists).

>>> compile_pattern("Yes/No", pl.Boolean())
BoolPlan(true_text='Yes', false_text='No')
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl

from polarreports.compute.formats.dates import compile_temporal
from polarreports.compute.formats.dtypes import column_kind, default_pattern, item_dtype, normalize_dtype
from polarreports.compute.formats.durations import compile_duration
from polarreports.compute.formats.locales import find_locale, locale_or_error
from polarreports.compute.formats.numbers import compile_number
from polarreports.compute.formats.plans import BoolPlan, FormatPlan, ListPlan, NullPlan, StringPlan
from polarreports.compute.formats.syntax import STRING_TRANSFORMS, describe_foreign, format_error, mismatch_error
from polarreports.plan.formats import check_pattern_length

__all__ = ["check_pattern", "compile_pattern", "compile_plan"]

_NUMBER_KINDS = frozenset({"int", "float", "decimal"})
_TEMPORAL_KINDS = frozenset({"date", "datetime", "time"})


def check_pattern(pattern: str | None, dtype: pl.DataType, *, where: str = "") -> None:
    """Raise :class:`FormatError` if ``pattern`` cannot format a column of ``dtype``.

    Used at plan time, before any data is read.  Shortcut names are checked with the
    ``en_US`` locale; a currency pattern is accepted whatever currency is used later.

    Parameters
    ----------
    pattern
        The format pattern, a shortcut name, or ``None`` for the type's default.
    dtype
        The Polars data type of the column the pattern will format.
    where
        A human label of the element, put at the start of every error message.

    Examples
    --------
    >>> from polarreports.exceptions import FormatError
    >>> check_pattern("#,##0.00", pl.Float64())
    >>> try:
    ...     check_pattern("#,##0.0.0", pl.Float64(), where="detail.elements[3]")
    ... except FormatError as exc:
    ...     print(exc)
    detail.elements[3]: bad number pattern '#,##0.0.0': more than one decimal point
    """
    compile_plan(pattern, normalize_dtype(dtype), "en_US", None, where)


# ------------------------------------------------- the compiled pattern, for other outputs
# What another output (the spreadsheet's number formats, emit.excel_formats) reads to show a
# value as the report does: the very plan that formats the PDF, so the two cannot disagree.


def compile_pattern(
    pattern: str | None, dtype: pl.DataType, *, locale: str = "en_US", currency: str | None = None, where: str = ""
) -> FormatPlan:
    """The compiled plan of ``pattern`` for a column of ``dtype``: what :func:`format_expr`
    builds its expression from (the same checks and errors). A :class:`NumberPlan`,
    :class:`TemporalPlan`, :class:`DurationPlan` or :class:`BoolPlan`; text, lists and nulls
    give plans of their own that hold nothing to translate.

    >>> plan = compile_pattern("#,##0.00", pl.Float64, locale="de_DE")
    >>> plan.frac_min, plan.frac_max, plan.primary, plan.decimal_symbol, plan.group_symbol
    (2, 2, 3, ',', '.')
    >>> compile_pattern("dd.MM.yyyy", pl.Date).tokens
    (DateField(char='d', count=2), '.', DateField(char='M', count=2), '.', DateField(char='y', count=4))
    """
    return compile_plan(pattern, normalize_dtype(dtype), locale, currency.upper() if currency else None, where)


def compile_plan(pattern: str | None, dtype: pl.DataType, locale: str, currency: str | None, where: str) -> FormatPlan:
    """The plan of ``pattern`` for a column of ``dtype`` (an instance): checked, then cached."""
    if pattern is not None and not isinstance(pattern, str):
        raise format_error(where, f"a pattern must be a string, not {type(pattern).__name__}")
    check_pattern_length(pattern, where=where)
    loc = locale_or_error(locale, where)
    return _compile_cached(pattern, dtype, str(loc), currency, where)


@lru_cache(maxsize=512)
def _compile_cached(
    pattern: str | None, dtype: pl.DataType, locale: str, currency: str | None, where: str
) -> FormatPlan:
    kind = column_kind(dtype)
    loc = find_locale(locale)
    if kind == "list":
        item = _compile_cached(pattern, item_dtype(dtype), locale, currency, where)
        return ListPlan(item, array=isinstance(dtype, pl.Array))
    if kind == "other":
        raise format_error(where, f"cannot format a column of type {dtype}")
    text = default_pattern(dtype) if pattern is None else pattern
    plan: FormatPlan
    if kind == "null":
        plan = NullPlan()
    elif kind == "bool":
        plan = _compile_bool(pattern, dtype, where)
    elif kind == "string":
        plan = _compile_string(pattern, dtype, where)
    elif text is None:  # pragma: no cover - every other kind has a default pattern
        raise format_error(where, f"no pattern for a column of type {dtype}")
    elif kind in _NUMBER_KINDS:
        plan = compile_number(text, dtype, kind, loc, currency, where)
    elif kind in _TEMPORAL_KINDS:
        plan = compile_temporal(text, dtype, kind, loc, where)
    else:
        plan = compile_duration(text, dtype, loc, where)
    return plan


# ------------------------------------------------------------------ booleans, text


def _compile_bool(pattern: str | None, dtype: pl.DataType, where: str) -> BoolPlan:
    if pattern is None:
        return BoolPlan("Yes", "No")
    if pattern.count("/") != 1:
        foreign = describe_foreign(pattern)
        if foreign is not None:
            raise mismatch_error(pattern, dtype, where, f"{foreign}; use 'true text/false text'")
        raise format_error(
            where,
            f"bad boolean pattern {pattern!r}: use 'true text/false text', e.g. 'Yes/No'",
        )
    true_text, false_text = pattern.split("/")
    return BoolPlan(true_text, false_text)


def _compile_string(pattern: str | None, dtype: pl.DataType, where: str) -> StringPlan:
    if pattern is None or pattern in STRING_TRANSFORMS:
        return StringPlan(pattern)
    foreign = describe_foreign(pattern)
    hint = f"{foreign}; " if foreign else ""
    raise mismatch_error(pattern, dtype, where, f"{hint}text takes no pattern, or 'upper', 'lower', 'title'")
