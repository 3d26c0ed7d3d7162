"""Number patterns (``#,##0.00``, ``0.0%``, ``¤#,##0.00``, the ``"currency"`` shortcut ...):
compiled with the locale's symbols into a :class:`NumberPlan`, then built into an exact,
vectorised Polars expression (banker's rounding on the shortest decimal text, grouping,
affixes).

>>> from polarreports.compute.formats import find_locale
>>> plan = compile_number("#,##0.00 ¤", pl.Float64(), "float", find_locale("de_DE"), "EUR", "")
>>> pl.select(build_number(plan, pl.lit(-1234.565))).item()
'-1.234,56 €'
"""

from __future__ import annotations

import polars as pl
from babel import Locale
from babel import numbers as babel_numbers
from babel.core import get_global

from polarreports.compute.formats.plans import NumberPlan
from polarreports.compute.formats.sharing import Get, let
from polarreports.compute.formats.syntax import (
    NUMBER_SHORTCUTS,
    describe_foreign,
    format_error,
    mismatch_error,
    split_number_pattern,
    without_quoted,
)

__all__ = ["affix_symbols", "build_number", "compile_number", "localize_affix", "number_sections"]

_MAX_FRACTION_DIGITS = 20
# Integer digits handled by the fast fixed-width grouping; longer numbers take a
# slower regex path that only touches the rows that need it.
_FAST_GROUP_DIGITS = 18

_INT_DIGITS: dict[type[pl.DataType], int] = {
    pl.Int8: 3,
    pl.Int16: 5,
    pl.Int32: 10,
    pl.Int64: 19,
    pl.UInt8: 3,
    pl.UInt16: 5,
    pl.UInt32: 10,
    pl.UInt64: 20,
    pl.Int128: 39,
    pl.UInt128: 39,
}


# ---------------------------------------------------------------------- compiling


def number_sections(pattern: str, loc: Locale, currency: str | None) -> tuple[list[tuple[str, str, str]], str | None]:
    """The sections of a number pattern (a shortcut such as ``"currency"`` first resolved to
    the locale's pattern), each as (prefix, number, suffix), and the currency its ``¤`` stands
    for (``currency``, else the locale's own; None when the pattern has no ``¤``).

    >>> from polarreports.compute.formats import find_locale
    >>> number_sections("#,##0.00;(#,##0.00)", find_locale("en_US"), None)
    ([('', '#,##0.00', ''), ('(', '#,##0.00', ')')], None)
    >>> number_sections("currency", find_locale("de_DE"), None)
    ([('', '#,##0.00', '\xa0¤')], 'EUR')
    """
    if pattern in NUMBER_SHORTCUTS:
        if pattern in ("currency", "accounting"):
            currency = currency or _locale_currency(loc)
        pattern, _ = _resolve_number_shortcut(pattern, loc, currency)
    sections = split_number_pattern(pattern)
    if "¤" in "".join(without_quoted(prefix + suffix) for prefix, _, suffix in sections):
        currency = currency or _locale_currency(loc)
    return sections, currency


def _resolve_number_shortcut(pattern: str, loc: Locale, currency: str | None) -> tuple[str, tuple[int, int] | None]:
    """Return the locale's pattern for a shortcut and an optional fraction override."""
    if pattern == "integer":
        return str(loc.decimal_formats[None].pattern), (0, 0)
    if pattern == "decimal":
        return str(loc.decimal_formats[None].pattern), None
    if pattern == "percent":
        return str(loc.percent_formats[None].pattern), None
    kind = "standard" if pattern == "currency" else "accounting"
    digits = babel_numbers.get_currency_precision(currency) if currency else 2
    return str(loc.currency_formats[kind].pattern), (digits, digits)


def _locale_currency(loc: Locale) -> str | None:
    territory = loc.territory
    if territory is None:
        likely = get_global("likely_subtags").get(loc.language)
        if likely:
            territory = Locale.parse(likely).territory
    if territory is None:
        return None
    currencies = babel_numbers.get_territory_currencies(territory)
    return currencies[0] if currencies else None


def affix_symbols(loc: Locale) -> dict[str, str]:
    """The locale's signs that a pattern's affixes write as ``-``, ``+``, ``%`` and ``‰``.

    >>> from polarreports.compute.formats.locales import find_locale
    >>> affix_symbols(find_locale("en_US"))["%"]
    '%'
    """
    symbols = loc.number_symbols["latn"]
    return {
        "-": symbols["minusSign"],
        "+": symbols["plusSign"],
        "%": symbols["percentSign"],
        "‰": symbols["perMille"],
    }


def localize_affix(affix: str, loc: Locale, currency: str | None, symbols: dict[str, str]) -> str:
    """A number pattern's prefix or suffix as shown: quotes removed, ``¤`` as the currency's
    symbol (``¤¤`` its code, ``¤¤¤`` its name), and each character in ``symbols`` replaced.

    >>> from polarreports.compute.formats import find_locale
    >>> localize_affix("'Total: '¤", find_locale("en_US"), "EUR", {"-": "\u2212"})
    'Total: €'
    """
    out: list[str] = []
    i = 0
    while i < len(affix):
        char = affix[i]
        if char == "'":
            end = affix.index("'", i + 1)
            out.append(affix[i + 1 : end] or "'")
            i = end + 1
            continue
        if char == "¤":
            run = len(affix) - i - len(affix[i:].lstrip("¤"))
            assert currency is not None
            if run >= 3:
                out.append(babel_numbers.get_currency_name(currency, locale=loc))
            elif run == 2:
                out.append(currency)
            else:
                out.append(babel_numbers.get_currency_symbol(currency, locale=loc))
            i += run
            continue
        out.append(symbols.get(char, char))
        i += 1
    return "".join(out)


def _parse_number_pattern(
    pattern: str, text: str, dtype: pl.DataType, where: str
) -> tuple[list[tuple[str, str, str]], babel_numbers.NumberPattern]:
    try:
        parts = split_number_pattern(text)
    except ValueError as exc:
        foreign = None if any(c in "0#" for c in pattern) else describe_foreign(pattern)
        if foreign is not None and foreign != "it is a number pattern":
            hint = f"{foreign}, use a number pattern such as '#,##0.00'"
            raise mismatch_error(pattern, dtype, where, hint) from exc
        raise format_error(where, f"bad number pattern {pattern!r}: {exc}") from exc
    try:
        parsed = babel_numbers.parse_pattern(parts[0][1])  # the positive number part
    except ValueError as exc:  # pragma: no cover - caught by our own checks
        raise format_error(where, f"bad number pattern {pattern!r}: {exc}") from exc
    return parts, parsed


def _digit_bounds(dtype: pl.DataType, kind: str, shift: int) -> tuple[int, int]:
    """The column's decimal scale and the most integer digits a formatted value can have.

    ``shift`` is 2 for percent and 3 for per-mille patterns, else 0.
    """
    if kind == "int":
        return 0, _INT_DIGITS.get(type(dtype), 39) + shift
    if isinstance(dtype, pl.Decimal):
        precision = dtype.precision or 38
        # + 1: rounding can carry into a new digit (99.995 -> 100.00)
        return dtype.scale, max(precision - dtype.scale, 1) + 1 + shift
    return 0, 39  # a float read as a Decimal(38, ...), or a huge float


def compile_number(
    pattern: str,
    dtype: pl.DataType,
    kind: str,
    loc: Locale,
    currency: str | None,
    where: str,
) -> NumberPlan:
    """The plan of a number pattern (or shortcut) for a column of ``dtype`` in locale ``loc``."""
    frac_override: tuple[int, int] | None = None
    text = pattern
    if pattern in NUMBER_SHORTCUTS:
        if pattern in ("currency", "accounting"):
            currency = currency or _locale_currency(loc)
        text, frac_override = _resolve_number_shortcut(pattern, loc, currency)
    parts, parsed = _parse_number_pattern(pattern, text, dtype, where)
    # Affixes come from our own quote-aware split (Babel splits at any ';'); digits
    # and grouping from Babel's parse of the positive subpattern.
    pos_prefix, _, pos_suffix = parts[0]
    neg_prefix, _, neg_suffix = parts[1] if len(parts) > 1 else ("-" + pos_prefix, "", pos_suffix)
    unquoted = "".join(without_quoted(affix) for affix in (pos_prefix, pos_suffix, neg_prefix, neg_suffix))
    shift = 2 if "%" in unquoted else 3 if "‰" in unquoted else 0
    uses_currency = "¤" in unquoted
    if uses_currency:
        currency = currency or _locale_currency(loc)
        if currency is None:
            raise format_error(where, f"pattern {pattern!r} shows a currency but none is given")
        if not babel_numbers.is_currency(currency):
            raise format_error(where, f"unknown currency {currency!r}")

    frac_min, frac_max = frac_override or parsed.frac_prec
    if frac_max > _MAX_FRACTION_DIGITS:
        raise format_error(
            where,
            f"bad number pattern {pattern!r}: at most {_MAX_FRACTION_DIGITS} fraction digits",
        )
    primary, secondary = parsed.grouping
    if primary >= 1000:
        primary = secondary = 0

    symbols_data = loc.number_symbols["latn"]
    symbols = affix_symbols(loc)

    def localize(affix: str) -> str:
        return localize_affix(affix, loc, currency, symbols)

    scale, max_digits = _digit_bounds(dtype, kind, shift)
    return NumberPlan(
        kind=kind,
        scale=scale,
        max_int_digits=max_digits,
        pos_prefix=localize(pos_prefix),
        neg_prefix=localize(neg_prefix),
        pos_suffix=localize(pos_suffix),
        neg_suffix=localize(neg_suffix),
        int_min=parsed.int_prec[0],
        frac_min=frac_min,
        frac_max=frac_max,
        primary=primary,
        secondary=secondary,
        shift=shift,
        decimal_symbol=symbols_data["decimal"],
        group_symbol=symbols_data["group"],
        nan=symbols_data["nan"],
        infinity=symbols_data["infinity"],
    )


# ----------------------------------------------------------------------- building


def _lit_int(value: int) -> pl.Expr:
    return pl.lit(value, dtype=pl.Int128)


def build_number(plan: NumberPlan, expr: pl.Expr) -> pl.Expr:
    """The expression that shows ``expr`` (an integer, float or decimal) as ``plan`` says."""
    if plan.kind == "int":
        return let({"x": expr}, lambda g: _int_body(plan, g("x")))
    if plan.kind == "decimal":
        return let({"x": expr}, lambda g: _decimal_body(plan, g("x")))
    return let({"x": expr}, lambda g: _float_body(plan, g("x")))


def _int_body(plan: NumberPlan, x: pl.Expr, shift: int | None = None) -> pl.Expr:
    """Integers, and decimals whose scale is below the percent shift: text, no arithmetic."""
    shift = plan.shift if shift is None else shift
    digits = x.cast(pl.String).str.strip_prefix("-")
    if shift:
        zeros = pl.lit("0" * shift)
        digits = pl.when(x == 0).then(pl.lit("0")).otherwise(pl.concat_str([digits, zeros]))
    return _assemble(plan, x < 0, digits, None, 0)


def _decimal_body(plan: NumberPlan, x: pl.Expr) -> pl.Expr:
    unscaled = x.to_physical().cast(pl.Int128)  # exact: value * 10**scale
    t = plan.scale - plan.shift
    if t < 0:  # e.g. a whole-number Decimal shown as a percentage
        return let({"u": unscaled}, lambda g: _int_body(plan, g("u"), -t))
    if t <= plan.frac_max:
        return let({"u": unscaled}, lambda g: _split(plan, g("u") < 0, g("u").abs(), t))
    divisor = 10 ** (t - plan.frac_max)

    def rounded(g: Get) -> pl.Expr:
        quotient, remainder = g("q"), g("r")
        half = _lit_int(divisor // 2)
        up = (remainder > half) | ((remainder == half) & (quotient % 2 == 1))
        magnitude = quotient + up.cast(pl.Int128)
        return let(
            {"u": g("u"), "n": magnitude},
            lambda h: _split(plan, (h("u") < 0) & (h("n") != 0), h("n"), plan.frac_max),
        )

    return let({"u": unscaled}, lambda g: let(
        {"u": g("u"), "q": g("u").abs() // _lit_int(divisor), "r": g("u").abs() % _lit_int(divisor)},
        rounded,
    ))  # fmt: skip


def _float_body(plan: NumberPlan, x: pl.Expr) -> pl.Expr:
    # The shortest round-trip text of the float, read as an exact decimal and
    # rounded half-to-even to frac_max digits by Polars' String -> Decimal cast.
    decimal = pl.Decimal(38, plan.frac_max + plan.shift)
    unscaled = x.cast(pl.String).cast(decimal, strict=False).to_physical()
    return let(
        {"x": x, "u": unscaled},
        lambda g: _split(plan, pl.coalesce(g("u") < 0, g("x") < 0), g("u").abs(), plan.frac_max, g("x")),
    )


def _split(plan: NumberPlan, neg: pl.Expr, magnitude: pl.Expr, t: int, x: pl.Expr | None = None) -> pl.Expr:
    """Split ``magnitude / 10**t`` (Int128 >= 0, a cheap reference) into digit strings."""
    fields = {"neg": neg}
    if t == 0:
        fields["int"] = magnitude
    else:
        power = _lit_int(10**t)
        fields["int"] = magnitude // power
        fraction = (magnitude % power).cast(pl.Int64 if t <= 18 else pl.Int128)
        fields["frac"] = fraction.cast(pl.String).str.zfill(t)
    if x is not None:
        fields["x"] = x

    def body(g: Get) -> pl.Expr:
        digits = _int128_to_string(g("int"))
        frac = g("frac") if t else None
        special = None
        if x is not None:  # a float: huge values, NaN and infinities
            digits = pl.coalesce(digits, _huge_float_digits(g("x"), g("int"), plan.shift))
            if frac is not None:  # huge floats are whole numbers
                frac = pl.coalesce(frac, pl.lit("0" * t))
            special = g("x")
        return _assemble(plan, g("neg"), digits, frac, t, special)

    return let(fields, body)


def _int128_to_string(value: pl.Expr) -> pl.Expr:
    # Int64 -> String is several times faster than Int128 -> String.
    small = value.cast(pl.Int64, strict=False).cast(pl.String)
    big = pl.when(value > _lit_int(2**63 - 1)).then(value).cast(pl.String)
    return pl.coalesce(small, big)


def _huge_float_digits(x: pl.Expr, integer: pl.Expr, shift: int) -> pl.Expr:
    """Integer digits of floats too large for a Decimal (their text has an exponent)."""
    text = pl.when(integer.is_null() & x.is_finite()).then(x.abs()).cast(pl.String)

    def body(g: Get) -> pl.Expr:
        pattern = r"^(\d+)(?:\.(\d+))?(?:[eE]\+?(\d+))?$"
        lead = g("t").str.extract(pattern, 1)
        rest = g("t").str.extract(pattern, 2).fill_null("")
        exponent = g("t").str.extract(pattern, 3).cast(pl.Int64).fill_null(0)
        length = lead.str.len_chars().cast(pl.Int64) + exponent + shift
        return pl.concat_str([lead, rest]).str.pad_end(length, "0").str.head(length)

    return let({"t": text}, body)


def _assemble(
    plan: NumberPlan,
    neg: pl.Expr,
    digits: pl.Expr,
    frac: pl.Expr | None,
    t: int,
    special: pl.Expr | None = None,
) -> pl.Expr:
    """Join sign, grouped digits, fraction and affixes; ``neg`` and ``frac`` are cheap."""
    number = _group(digits, plan)
    if frac is not None and t > 0:
        if plan.frac_min < t:
            frac = frac.str.strip_chars_end("0")
            if plan.frac_min:
                frac = frac.str.pad_end(plan.frac_min, "0")
        elif plan.frac_min > t:
            frac = frac.str.pad_end(plan.frac_min, "0")
        number = pl.concat_str([number, pl.lit(plan.decimal_symbol), frac])
        if plan.frac_min == 0:  # no fraction digits left: drop the decimal symbol
            number = number.str.strip_suffix(plan.decimal_symbol)
    elif plan.frac_min:
        number = pl.concat_str([number, pl.lit(plan.decimal_symbol + "0" * plan.frac_min)])
    body = _affixed(number, neg, plan)
    if special is not None:
        infinity = _affixed(pl.lit(plan.infinity), special < 0, plan)
        body = (
            pl.when(special.is_nan()).then(pl.lit(plan.nan)).when(special.is_infinite()).then(infinity).otherwise(body)
        )
    return body


def _group(digits: pl.Expr, plan: NumberPlan) -> pl.Expr:
    """Pad to the minimum integer digits and insert group separators."""
    if plan.int_min > 1:
        digits = digits.str.zfill(plan.int_min)
    if not plan.primary:
        return digits
    p, s, symbol = plan.primary, plan.secondary, plan.group_symbol
    needed = max(plan.max_int_digits, plan.int_min)
    if needed <= p:
        return digits
    # Fast path: zero-pad to a fixed width whose separators sit at fixed places, cut
    # the pieces, join them with the separator, then keep the tail that holds the
    # row's own digits.
    groups = max(-(-(min(needed, _FAST_GROUP_DIGITS) - p) // s), 1)
    width = p + s * groups
    full_len = width + groups * len(symbol)

    def body(g: Get) -> pl.Expr:
        length = g("d").str.len_bytes().cast(pl.Int64)
        padded = g("z")
        pieces = [padded.str.slice(i * s, s) for i in range(groups)]
        pieces.append(padded.str.slice(groups * s, p))
        joined = pl.concat_str(pieces, separator=symbol)
        seps = pl.when(length > p).then((length - p - 1) // s + 1).otherwise(0)
        grouped = joined.str.slice(full_len - length - seps * len(symbol))
        if needed <= width:
            return grouped
        # Slow path for longer numbers, computed for those rows only.
        long_digits = pl.when(length > width).then(g("d"))
        return pl.coalesce(_group_regex(long_digits, p, s, symbol), grouped)

    return let({"d": digits}, lambda g: let({"d": g("d"), "z": g("d").str.zfill(width)}, body))


def _group_regex(digits: pl.Expr, p: int, s: int, symbol: str) -> pl.Expr:
    mark = "\x00"

    def body(g: Get) -> pl.Expr:
        head, tail = g("h"), g("t")
        tail = tail.str.replace_all(rf"(\d{{{s}}})", "${1}" + mark).str.strip_chars_end(mark)
        joined = pl.concat_str([head, pl.lit(mark), tail]).str.strip_suffix(mark)
        return joined.str.reverse().str.replace_all(mark, symbol, literal=True)

    def split(g: Get) -> pl.Expr:
        return let({"h": g("r").str.slice(0, p), "t": g("r").str.slice(p)}, body)

    return let({"r": digits.str.reverse()}, split)


def _affixed(number: pl.Expr, neg: pl.Expr, plan: NumberPlan) -> pl.Expr:
    prefix = _affix(plan.pos_prefix, plan.neg_prefix, neg)
    suffix = _affix(plan.pos_suffix, plan.neg_suffix, neg)
    pieces = [e for e in (prefix, number, suffix) if e is not None]
    return pieces[0] if len(pieces) == 1 else pl.concat_str(pieces)


def _affix(positive: str, negative: str, neg: pl.Expr) -> pl.Expr | None:
    if positive == negative:
        return pl.lit(positive) if positive else None
    return pl.when(neg).then(pl.lit(negative)).otherwise(pl.lit(positive))
