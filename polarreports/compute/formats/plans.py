"""The compiled plan of a format pattern: what a pattern means for one column type and locale.

Plans are plain frozen data, built once per pattern (see :mod:`.compiler`) and read by the
expression builders and by other outputs (the spreadsheet's number formats).

>>> BoolPlan("Yes", "No")
BoolPlan(true_text='Yes', false_text='No')
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BoolPlan",
    "DateField",
    "DateToken",
    "DurationPlan",
    "FormatPlan",
    "ListPlan",
    "NullPlan",
    "NumberPlan",
    "StringPlan",
    "TemporalPlan",
]


@dataclass(frozen=True)
class NumberPlan:
    """A compiled number pattern: its digits, grouping, scaling, affixes and the locale's symbols."""

    kind: str  # "int", "float" or "decimal"
    scale: int  # digits of the Decimal column (0 for the others)
    max_int_digits: int  # upper bound of integer digits (before the percent shift)
    pos_prefix: str
    neg_prefix: str
    pos_suffix: str
    neg_suffix: str
    int_min: int
    frac_min: int
    frac_max: int
    primary: int  # 0: no grouping
    secondary: int
    shift: int  # 2 for percent, 3 for per mille
    decimal_symbol: str
    group_symbol: str
    nan: str
    infinity: str


@dataclass(frozen=True)
class DateField:
    """One field of a date, time or duration pattern: its letter repeated ``count`` times (``MMM``)."""

    char: str
    count: int


DateToken = str | DateField
"""A piece of a date, time or duration pattern: literal text, or a field."""


@dataclass(frozen=True)
class TemporalPlan:
    """A compiled date, datetime or time pattern: its pieces, locale and time zone."""

    kind: str  # "date", "datetime" or "time"
    tokens: tuple[DateToken, ...]
    locale: str
    time_zone: str | None  # None for naive datetimes (shown as UTC)


@dataclass(frozen=True)
class DurationPlan:
    """A compiled duration pattern: its pieces and the locale's minus sign."""

    tokens: tuple[DateToken, ...]
    minus: str


@dataclass(frozen=True)
class BoolPlan:
    """A compiled boolean pattern (``"Yes/No"``): the text of each value."""

    true_text: str
    false_text: str


@dataclass(frozen=True)
class StringPlan:
    """A text column's plan: no pattern, or a case transform (``"upper"``, ``"lower"``, ``"title"``)."""

    transform: str | None


@dataclass(frozen=True)
class ListPlan:
    """A list or array column's plan: the plan of its items, which are joined with ``", "``."""

    item: FormatPlan
    array: bool = False


@dataclass(frozen=True)
class NullPlan:
    """A column of type ``Null``'s plan: every value shows the null text."""


FormatPlan = NumberPlan | TemporalPlan | DurationPlan | BoolPlan | StringPlan | ListPlan | NullPlan
"""What :func:`compile_pattern` gives: the plan of one pattern for one column type."""
