"""Date, datetime and time patterns (``dd MMM yyyy``, ``HH:mm``, ``zzzz``, the ``"date"``
shortcuts ...): checked against the column type into a :class:`TemporalPlan`, then built into
a Polars expression with the locale's names of months, days, periods, eras and time zones.

>>> from datetime import date
>>> from polarreports.compute.formats import find_locale
>>> plan = compile_temporal("EEEE d MMMM y", pl.Date(), "date", find_locale("fr_FR"), "")
>>> pl.select(build_temporal(plan, pl.lit(date(2025, 7, 14)))).item()
'lundi 14 juillet 2025'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import polars as pl
from babel import Locale
from babel import dates as babel_dates
from babel.core import get_global

from polarreports.compute.formats.locales import find_locale
from polarreports.compute.formats.plans import DateField, TemporalPlan
from polarreports.compute.formats.sharing import Get, let
from polarreports.compute.formats.syntax import (
    DATE_FIELD_COUNTS,
    DATE_SHORTCUTS,
    NUMBER_SHORTCUTS,
    STRING_TRANSFORMS,
    TIME_FIELD_COUNTS,
    ZONE_FIELD_COUNTS,
    date_fields,
    describe_foreign,
    format_error,
    mismatch_error,
)

__all__ = ["build_temporal", "compile_temporal", "pad", "period_names"]

_WIDTHS = ("short", "medium", "long", "full")
_UNSUPPORTED_LETTERS = {
    "Y": "week-based year",
    "u": "extended year",
    "U": "cyclic year",
    "r": "related Gregorian year",
    "w": "week of year",
    "W": "week of month",
    "g": "modified Julian day",
    "l": "deprecated letter",
    "b": "day period",
    "B": "flexible day period",
    "C": "input skeleton letter",
    "j": "input skeleton letter",
    "J": "input skeleton letter",
    "v": "generic time zone name",
    "O": "short localized GMT format, use 'OOOO'",
    "V": "only 'VV' is supported",
}


# ---------------------------------------------------------------------- compiling


def _resolve_date_shortcut(pattern: str, loc: Locale) -> str | None:
    name, _, width = pattern.partition(":")
    if name not in DATE_SHORTCUTS:
        return None
    width = width or "medium"
    if width not in _WIDTHS:
        return None
    if name == "date":
        return str(loc.date_formats[width].pattern)
    if name == "time":
        return str(loc.time_formats[width].pattern)
    glue = str(loc.datetime_formats[width])
    date = str(loc.date_formats[width].pattern)
    time = str(loc.time_formats[width].pattern)
    return glue.replace("{1}", date).replace("{0}", time)


def compile_temporal(pattern: str, dtype: pl.DataType, kind: str, loc: Locale, where: str) -> TemporalPlan:
    """The plan of a date/time pattern (or shortcut) for a column of ``dtype`` (of ``kind``)."""
    text = _resolve_date_shortcut(pattern, loc) or pattern
    if pattern in NUMBER_SHORTCUTS or pattern in STRING_TRANSFORMS:
        hint = f"{describe_foreign(pattern)}; use a date pattern such as 'yyyy-MM-dd'"
        raise mismatch_error(pattern, dtype, where, hint)
    tokens, fields = date_fields(
        text, pattern, dtype, where, "date", "a date pattern needs fields such as 'yyyy-MM-dd'"
    )
    allowed: dict[str, tuple[int, ...] | None] = {}
    if kind in ("date", "datetime"):
        allowed |= DATE_FIELD_COUNTS
    if kind in ("time", "datetime"):
        allowed |= TIME_FIELD_COUNTS
    if kind == "datetime":
        allowed |= ZONE_FIELD_COUNTS
    for field in fields:
        letters = field.char * field.count
        if field.char in allowed:
            counts = allowed[field.char]
            if counts is None or field.count in counts:
                continue
            if field.char in _UNSUPPORTED_LETTERS:
                reason = _UNSUPPORTED_LETTERS[field.char]
                raise format_error(where, f"bad date pattern {pattern!r}: {letters!r} is not supported ({reason})")
            raise format_error(where, f"bad date pattern {pattern!r}: invalid field length {letters!r}")
        if field.char in DATE_FIELD_COUNTS or field.char in TIME_FIELD_COUNTS or (field.char in ZONE_FIELD_COUNTS):
            what = (
                "date"
                if field.char in DATE_FIELD_COUNTS
                else "time"
                if field.char in TIME_FIELD_COUNTS
                else "time zone"
            )
            raise mismatch_error(pattern, dtype, where, f"{letters!r} is a {what} field, which a {kind} lacks")
        if field.char in _UNSUPPORTED_LETTERS:
            reason = _UNSUPPORTED_LETTERS[field.char]
            raise format_error(where, f"bad date pattern {pattern!r}: {letters!r} is not supported ({reason})")
        raise format_error(
            where,
            f"bad date pattern {pattern!r}: unknown pattern letter {field.char!r} (put literal text in single quotes)",
        )
    time_zone = dtype.time_zone if isinstance(dtype, pl.Datetime) else None
    return TemporalPlan(kind, tuple(tokens), str(loc), time_zone)


# ----------------------------------------------------------------------- building


def pad(value: pl.Expr, count: int) -> pl.Expr:
    """A whole number as text, zero-padded to ``count`` digits."""
    text = value.cast(pl.String)
    return text.str.zfill(count) if count > 1 else text


def _names(value: pl.Expr, mapping: dict[int, str]) -> pl.Expr:
    return value.replace_strict(list(mapping), list(mapping.values()), return_dtype=pl.String)


def build_temporal(plan: TemporalPlan, expr: pl.Expr) -> pl.Expr:
    """The expression that shows ``expr`` (a date, datetime or time) as ``plan`` says."""
    loc = find_locale(plan.locale)
    fields = {"v": expr}
    zoned = plan.time_zone is not None and any(
        isinstance(t, DateField) and t.char in ZONE_FIELD_COUNTS for t in plan.tokens
    )
    if zoned:
        fields["off"] = (expr.dt.base_utc_offset() + expr.dt.dst_offset()).dt.total_seconds()
        fields["dst"] = expr.dt.dst_offset().dt.total_seconds() != 0

    def body(g: Get) -> pl.Expr:
        if zoned:
            offset, dst = g("off"), g("dst")
        else:
            offset, dst = pl.lit(0, dtype=pl.Int64), pl.lit(False)
        parts: list[pl.Expr] = []
        for token in plan.tokens:
            if isinstance(token, str):
                parts.append(pl.lit(token))
            elif token.char in ZONE_FIELD_COUNTS:
                parts.append(_zone_field(token.char, token.count, offset, dst, plan, loc))
            else:
                parts.append(_temporal_field(token, g("v"), loc))
        result = parts[0] if len(parts) == 1 else pl.concat_str(parts)
        if not any(isinstance(t, DateField) and t.char not in "zZOXxV" for t in plan.tokens):
            result = pl.when(g("v").is_not_null()).then(result)  # only constant fields
        return result

    return let(fields, body)


_Width3 = Literal["abbreviated", "wide", "narrow"]
_Context = Literal["format", "stand-alone"]
_WIDTH3: dict[int, _Width3] = {3: "abbreviated", 4: "wide", 5: "narrow"}
_DAY_WIDTHS: dict[int, Literal["abbreviated", "wide", "narrow", "short"]] = {
    3: "abbreviated",
    4: "wide",
    5: "narrow",
    6: "short",
}


def _context(char: str) -> _Context:
    return "stand-alone" if char in "qLc" else "format"


def _era(dt: pl.Expr, char: str, num: int, loc: Locale) -> pl.Expr:
    eras = babel_dates.get_era_names(_WIDTH3[max(3, num)], locale=loc)
    return pl.when(dt.dt.year() >= 0).then(pl.lit(eras[1])).otherwise(pl.lit(eras[0]))


def _year(dt: pl.Expr, char: str, num: int, loc: Locale) -> pl.Expr:
    return pad(dt.dt.year() % 100, 2) if num == 2 else pad(dt.dt.year(), num)


def _quarter(dt: pl.Expr, char: str, num: int, loc: Locale) -> pl.Expr:
    if num <= 2:
        return pad(dt.dt.quarter(), num)
    names = babel_dates.get_quarter_names(_WIDTH3[num], _context(char), loc)
    return _names(dt.dt.quarter(), {q: names[q] for q in range(1, 5)})


def _month(dt: pl.Expr, char: str, num: int, loc: Locale) -> pl.Expr:
    if num <= 2:
        return pad(dt.dt.month(), num)
    names = babel_dates.get_month_names(_WIDTH3[num], _context(char), loc)
    return _names(dt.dt.month(), {m: names[m] for m in range(1, 13)})


def _weekday(dt: pl.Expr, char: str, num: int, loc: Locale) -> pl.Expr:
    if num < 3 and char != "E":  # local day-of-week number
        local = (7 - loc.first_week_day + dt.dt.weekday().cast(pl.Int32) - 1) % 7 + 1
        return pad(local, num)
    names = babel_dates.get_day_names(_DAY_WIDTHS[max(3, num)], _context(char), loc)
    return _names(dt.dt.weekday(), {d + 1: names[d] for d in range(7)})


def _period(dt: pl.Expr, char: str, num: int, loc: Locale) -> pl.Expr:
    am, pm = period_names(loc, num)
    return pl.when(dt.dt.hour() >= 12).then(pl.lit(pm)).otherwise(pl.lit(am))


def _millis_in_day(dt: pl.Expr) -> pl.Expr:
    return (
        dt.dt.hour().cast(pl.Int64) * 3_600_000
        + dt.dt.minute().cast(pl.Int64) * 60_000
        + dt.dt.second().cast(pl.Int64) * 1_000
        + dt.dt.nanosecond().cast(pl.Int64) // 1_000_000
    )


def _hour(dt: pl.Expr) -> pl.Expr:
    return dt.dt.hour().cast(pl.Int32)


_FieldBuilder = Callable[[pl.Expr, str, int, Locale], pl.Expr]
_NUMERIC_FIELDS: dict[str, Callable[[pl.Expr, int], pl.Expr]] = {
    "d": lambda dt, _: dt.dt.day(),
    "D": lambda dt, _: dt.dt.ordinal_day(),
    "h": lambda dt, _: (_hour(dt) + 11) % 12 + 1,
    "H": lambda dt, _: _hour(dt),
    "K": lambda dt, _: _hour(dt) % 12,
    "k": lambda dt, _: (_hour(dt) + 23) % 24 + 1,
    "m": lambda dt, _: dt.dt.minute(),
    "s": lambda dt, _: dt.dt.second(),
    "S": lambda dt, num: dt.dt.nanosecond().cast(pl.Int64) // 10 ** (9 - num),
    "A": lambda dt, _: _millis_in_day(dt),
}
_TEXT_FIELDS: dict[str, _FieldBuilder] = {
    "G": _era,
    "y": _year,
    "Q": _quarter,
    "q": _quarter,
    "M": _month,
    "L": _month,
    "E": _weekday,
    "e": _weekday,
    "c": _weekday,
    "a": _period,
}


def _temporal_field(field: DateField, expr: pl.Expr, loc: Locale) -> pl.Expr:
    if field.char == "F":  # day of week in month
        return ((expr.dt.day() - 1) // 7 + 1).cast(pl.String)
    if field.char in _NUMERIC_FIELDS:
        return pad(_NUMERIC_FIELDS[field.char](expr, field.count), field.count)
    return _TEXT_FIELDS[field.char](expr, field.char, field.count, loc)


def period_names(loc: Locale, num: int) -> tuple[str, str]:
    """The locale's names of AM and PM for a pattern of ``num`` letters ``a``.

    >>> period_names(find_locale("en_US"), 1)
    ('AM', 'PM')
    """
    widths: list[_Width3] = [_WIDTH3[max(3, num)], "wide", "narrow", "abbreviated"]
    found: dict[str, str] = {}
    for period in ("am", "pm"):
        for width in widths:
            names = babel_dates.get_period_names(width=width, context="format", locale=loc)
            if period in names:
                found[period] = names[period]
                break
        else:  # pragma: no cover - every CLDR locale has am/pm
            found[period] = period.upper()
    return found["am"], found["pm"]


def _zone_field(char: str, num: int, offset: pl.Expr, dst: pl.Expr, plan: TemporalPlan, loc: Locale) -> pl.Expr:
    zone = plan.time_zone or "UTC"
    if char == "z":
        return _zone_name_expr(zone, "short" if num < 4 else "long", offset, dst, loc)
    if char == "V":
        return pl.lit(get_global("zone_aliases").get(zone, zone))
    if char == "Z":
        width = {4: "long", 5: "iso8601"}.get(num, "short")
    elif char == "O":
        width = "long"
    else:  # X and x
        width = {1: "iso8601_short", 2: "short", 4: "short"}.get(num, "iso8601")
    return _gmt(offset, width, loc, z=char == "X" or (char == "Z" and num == 5))


def _zone_name_expr(zone: str, width: str, offset: pl.Expr, dst: pl.Expr, loc: Locale) -> pl.Expr:
    """Babel's ``get_timezone_name`` for a datetime: a CLDR name, else the GMT offset."""
    standard = _zone_name(zone, width, "standard", loc)
    daylight = _zone_name(zone, width, "daylight", loc)
    gmt = _gmt(offset, width, loc)
    standard_expr = pl.lit(standard) if standard is not None else gmt
    daylight_expr = pl.lit(daylight) if daylight is not None else gmt
    return pl.when(dst).then(daylight_expr).otherwise(standard_expr)


def _gmt(offset: pl.Expr, width: str, loc: Locale, *, z: bool = False) -> pl.Expr:
    """Babel's ``get_timezone_gmt`` formats, vectorised over an offset in seconds."""
    magnitude = offset.abs()
    sign = pl.when(offset < 0).then(pl.lit("-")).otherwise(pl.lit("+"))
    hours = pad(magnitude // 3600, 2)
    minutes = pad(magnitude % 3600 // 60, 2)
    text: pl.Expr
    if width == "iso8601_short":
        with_minutes = pl.concat_str([sign, hours, minutes])
        text = pl.when(magnitude % 3600 == 0).then(pl.concat_str([sign, hours])).otherwise(with_minutes)
    elif width == "short":
        text = pl.concat_str([sign, hours, minutes])
    else:
        text = pl.concat_str([sign, hours, pl.lit(":"), minutes])
        if width == "long":
            before, _, after = str(loc.zone_formats["gmt"]).partition("%s")
            text = pl.concat_str([pl.lit(before), text, pl.lit(after)])
    if z:
        text = pl.when(offset == 0).then(pl.lit("Z")).otherwise(text)
    return text


def _zone_name(zone: str, width: str, variant: str, loc: Locale) -> str | None:
    """The localized zone name Babel's ``get_timezone_name`` finds, or None."""
    marker = babel_dates.NO_INHERITANCE_MARKER
    zone = get_global("zone_aliases").get(zone, zone)
    info = loc.time_zones.get(zone, {})
    if width in info and variant in info[width]:
        value = info[width][variant]
        if value != marker:
            return str(value)
    metazone = get_global("meta_zones").get(zone)
    if metazone:
        metazone_info = loc.meta_zones.get(metazone, {})
        if width in metazone_info:
            name = metazone_info[width].get(variant)
            if width == "short" and name == marker:
                name = metazone_info.get("long", {}).get(variant)
            if name and name != marker:
                return str(name)
    return None
