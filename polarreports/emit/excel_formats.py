"""The Excel number format that shows a cell as the report shows its value.

:func:`excel_format` translates a polarreports pattern (the ICU/CLDR patterns of
:mod:`polarreports.compute.formats`, with its locale and currency) into an Excel number
format code, so a spreadsheet cell holding the *value* (a number, a date) displays the
text the PDF displays and still sums.  :func:`translate_format` gives the same code with a
note saying what, if anything, differs.  The code is ``None`` where no number format can
show the report's text (write the formatted text as a string cell instead).
:func:`cell_value` gives the value to write so that even ties, negative zero and fractions
of a second show exactly the report's text.

>>> import polars as pl
>>> excel_format("#,##0.00", pl.Float64(), locale="de_DE")
'[$-407]#,##0.00'
>>> excel_format("¤#,##0.00", pl.Float64(), locale="en_US")
'[$-409]"$"#,##0.00'
>>> excel_format("#,##0.00;(#,##0.00)", pl.Float64(), locale="fr_FR", currency="EUR")
'[$-40C]#,##0.00;[$-40C]"("#,##0.00")"'
>>> excel_format("dd MMM yyyy", pl.Date(), locale="en_GB")
'[$-809]dd" "mmm" "yyyy'
>>> excel_format("Q yyyy", pl.Date()) is None  # Excel has no quarter field
True

Numbers
-------
=================================  ================================================
report pattern                     Excel code
=================================  ================================================
``0``, ``000``, ``#.##``           ``0``, ``000``, ``0.##`` (at least one integer
                                   digit, as the report always shows one)
``#,##0``, ``0,000``               ``#,##0``, ``0,000``
``0.00``, ``0.0##``                ``0.00``, ``0.0##``
``0.0%``                           ``0.0%`` (Excel scales by 100 too)
``0.0‰``                           none: Excel cannot scale by 1000
``¤#,##0.00``, ``#,##0.00 ¤``      the currency text of the locale as a quoted
                                   literal where the pattern puts ``¤``: en_US
                                   ``"$"#,##0.00``, de_DE ``#,##0.00" €"``
``'Page '0``, ``0 orders``         quoted literals: ``"Page "0``, ``0" orders"``
``#,##0;(#,##0)``                  two sections, the second with its own affixes
``integer``, ``currency`` ...      the locale's pattern, translated the same way
``0.00E0``, ``@@@``                refused by the report, so by this module too
                                   (:class:`~polarreports.exceptions.FormatError`)
=================================  ================================================

A locale tag ``[$-LCID]`` (the Windows locale id of the report's locale, e.g. ``[$-407]``
for de_DE) starts every section: LibreOffice then shows the locale's decimal and group
separators (``1.234,50``) and its month and day names.  With the default minus sign the
code has one section, so a value that rounds to zero shows ``0.00`` as in the report; an
explicit negative subpattern, or a locale whose minus is not ``-`` (sv_SE's U+2212), gets a
second section with the report's own negative prefix and suffix.

Dates, times, durations
-----------------------
``yyyy`` → ``yyyy``, ``yy`` → ``yy``, ``y`` → ``yyyy`` (Excel dates start in 1900),
``M``/``MM``/``MMM``/``MMMM``/``MMMMM`` → ``m``/``mm``/``mmm``/``mmmm``/``mmmmm`` (``L``
alike), ``d``/``dd`` → ``d``/``dd``, ``E``..``EEE`` → ``ddd``, ``EEEE`` → ``dddd``,
``H``/``HH`` → ``h``/``hh`` (24-hour: no ``AM/PM`` in the code), ``h``/``hh`` with ``a``
→ ``h``/``hh`` with ``AM/PM``, ``m``/``mm`` → ``m``/``mm`` (minutes), ``s``/``ss`` →
``s``/``ss``, ``ss.SSS`` → ``ss.000`` (one to three digits), literal text → quoted
literals.  Zone fields of a naive or UTC column become their constant text.  A duration's
largest field holds the whole amount: ``h:mm:ss`` → ``[h]:mm:ss`` (write a duration as a
number of days).  A boolean pattern ``Yes/No`` gives ``"Yes";"Yes";"No"`` for a cell
holding 1 or 0.

Where the code is ``None`` (write the formatted text)
-----------------------------------------------------
Per-mille patterns; quarters (``Q``), eras (``G``), day of year (``D``), day of week in
month (``F``), numeric weekdays (``e``, ``c``), milliseconds in day (``A``), ``K``
(0-11) and ``k`` (1-24) hours, a 12-hour ``h`` without ``a`` or a 24-hour ``H`` with
``a`` (Excel ties the clock to ``AM/PM``), more than three fraction-of-second digits,
minutes Excel would read as a month and months it would read as minutes (Excel's ``m``
means minutes only right after an hour or right before seconds), zone fields of a zone
with changing offsets, durations with a day field, text, lists, and codes longer than
Excel's 255 characters.

What still differs
------------------
These differences are in the note of :func:`translate_format` where they depend on the
pattern; the others depend on the value or on the program:

* Ties: Excel and LibreOffice round an exact half away from zero (``0.125`` → ``0.13``,
  ``2.5`` → ``3``); the report rounds half to even (``0.12``, ``2``).  Other values
  show the same digits.  :func:`cell_value` writes values rounded as the report rounds
  them, which removes this difference and the next.
* A negative value that rounds to zero shows the negative section (``(0.00)``) where the
  code has two sections; the report shows ``0.00``.  Excel (not LibreOffice) also shows
  ``-0.00`` with one section.
* Separators and names come from the spreadsheet program's locale data, not Babel's CLDR:
  fr_FR groups with U+00A0 in LibreOffice 7.4 (CLDR: U+202F), en_GB's September is
  ``Sep`` (CLDR: ``Sept``), ``AM/PM`` words follow the program (de_DE: ``nachm.``, CLDR:
  ``PM``; an ``a`` pattern without names uses the en-US tag, so ``AM``/``PM`` match where
  CLDR says so).  Narrow (``EEEEE``) and short (``EEEEEE``) weekdays show the abbreviated
  name.  Only 3-digit grouping exists: ``#,##,##0`` (hi_IN) groups by thousands.
* Excel ignores the locale tag's separators and uses the viewer's own (Windows/macOS
  region settings); LibreOffice follows the tag.  Excel shows a trailing decimal point
  for ``0.##`` and a whole number (``1.``), LibreOffice does not.
* Excel rounds a time to the shown second (or fraction), LibreOffice and the report cut
  it off (LibreOffice rounds fractions of a second); :func:`cell_value` cuts times to the
  shown unit, so every program shows the report's text.
  Excel cannot show negative durations (``####``); LibreOffice shows ``-1:00:00``.
* Excel holds 15 significant digits; larger integers lose their last digits.  NaN and
  infinities, and nulls, have no number: write the report's text.
* A boolean cell shows ``TRUE``/``FALSE`` in Excel whatever its format (LibreOffice
  applies the format): write 1/0 with the boolean code to show ``Yes``/``No``.
"""

from __future__ import annotations

import locale as _stdlib_locale
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import polars as pl
from babel import Locale
from babel.core import get_global

# The report's own formatting, through its public API: the translation reads the same compiled
# plan that formats the PDF, so the two cannot disagree on what a pattern means.
from polarreports.compute.formats import (
    BoolPlan,
    DateField,
    DateToken,
    DurationPlan,
    NumberPlan,
    TemporalPlan,
    affix_symbols,
    compile_pattern,
    default_pattern,
    find_locale,
    format_expr,
    localize_affix,
    normalize_dtype,
    number_sections,
    period_names,
)

__all__ = ["ExcelFormat", "cell_value", "excel_format", "translate_format"]

_MAX_CODE_LENGTH = 255
"""Excel refuses number format codes longer than this."""

_EN_US = 0x409
_LCIDS: dict[str, int] = {}
for _id, _name in sorted(_stdlib_locale.windows_locale.items()):
    _LCIDS.setdefault(_name, _id)


@dataclass(frozen=True)
class ExcelFormat:
    """An Excel number format code and what it shows differently from the report.

    ``code`` is ``None`` when no number format shows the report's text: write the
    formatted text instead.  ``note`` is ``None`` when the code shows the report's text
    (apart from the value-dependent differences of the module docstring).
    """

    code: str | None
    note: str | None = None


def excel_format(
    pattern: str | None,
    dtype: pl.DataType,
    *,
    locale: str = "en_US",
    currency: str | None = None,
) -> str | None:
    """Return the Excel number format code showing values like ``pattern`` does, or ``None``.

    Parameters
    ----------
    pattern
        A pattern or shortcut name as :func:`~polarreports.compute.formats.format_expr`
        takes it; ``None`` for the type's default pattern.
    dtype
        The column's Polars data type.
    locale
        The report's Babel locale, e.g. ``"de_DE"``.
    currency
        ISO 4217 code for ``¤``; ``None`` for the locale's currency.

    Returns
    -------
    str or None
        The code, or ``None`` when no number format can show the report's text.

    Raises
    ------
    FormatError
        If ``format_expr`` would refuse the pattern, locale or currency.

    Examples
    --------
    >>> excel_format("0.0%", pl.Float64())
    '[$-409]0.0%'
    >>> excel_format(None, pl.Datetime("us"))
    '[$-409]yyyy"-"mm"-"dd" "hh":"mm'
    """
    return translate_format(pattern, dtype, locale=locale, currency=currency).code


def translate_format(
    pattern: str | None,
    dtype: pl.DataType,
    *,
    locale: str = "en_US",
    currency: str | None = None,
) -> ExcelFormat:
    """Return the Excel code for ``pattern`` with a note of what it shows differently.

    Takes the arguments of :func:`excel_format`.

    Examples
    --------
    >>> translate_format("#,##,##0", pl.Int64(), locale="hi_IN").code
    '[$-439]#,##0'
    >>> print(translate_format("#,##,##0", pl.Int64(), locale="hi_IN").note)
    Excel groups digits by three only: 1,234,567 where the report shows 12,34,567
    >>> translate_format("0.0‰", pl.Float64()).code is None
    True
    """
    dtype = normalize_dtype(dtype)
    if currency is not None:
        currency = currency.upper()
    compile_pattern(pattern, dtype, locale=locale, currency=currency)  # the same checks and errors as format_expr
    return _translate(pattern, dtype, str(find_locale(locale.replace("-", "_"))), currency)


@lru_cache(maxsize=256)
def _translate(pattern: str | None, dtype: pl.DataType, locale: str, currency: str | None) -> ExcelFormat:
    plan = compile_pattern(pattern, dtype, locale=locale, currency=currency)
    loc = find_locale(locale)
    text = default_pattern(dtype) if pattern is None else pattern
    result: ExcelFormat
    if isinstance(plan, NumberPlan):
        assert text is not None
        result = _number_format(text, plan, loc, currency)
    elif isinstance(plan, TemporalPlan):
        result = _temporal_format(plan, dtype, loc)
    elif isinstance(plan, DurationPlan):
        result = _duration_format(plan)
    elif isinstance(plan, BoolPlan):
        result = ExcelFormat(f"{_quote(plan.true_text)};{_quote(plan.true_text)};{_quote(plan.false_text)}")
    else:
        result = ExcelFormat(None, "text, lists and nulls have no number format: write the formatted text")
    if result.code is not None and len(result.code) > _MAX_CODE_LENGTH:
        return ExcelFormat(None, f"the Excel code would be longer than {_MAX_CODE_LENGTH} characters")
    return result


def cell_value(
    expr: pl.Expr,
    dtype: pl.DataType,
    pattern: str | None,
    *,
    locale: str = "en_US",
    currency: str | None = None,
) -> pl.Expr:
    """The value to write in a cell so its :func:`excel_format` shows exactly the report's text.

    Floats and decimals become ``Float64`` rounded as the report rounds them (half to even,
    on the shortest decimal text of a float), so a spreadsheet's half-away-from-zero rounding
    and negative zero never show: ``0.125`` with ``0.00`` is written ``0.12``.  Datetimes
    (as the wall-clock time of their zone: Excel has no zones), times and durations are cut
    to the smallest field shown, as the report cuts them, so no spreadsheet rounds them up.
    Other values are returned unchanged.  A cell written this way sums the shown figures,
    not the unrounded ones behind the report's totals.

    Examples
    --------
    >>> frame = pl.DataFrame({"x": [0.125, 2.675, -0.001, 1.5]})
    >>> frame.select(cell_value(pl.col("x"), pl.Float64(), "0.00"))["x"].to_list()
    [0.12, 2.68, 0.0, 1.5]
    >>> frame.select(cell_value(pl.col("x"), pl.Float64(), "0%"))["x"].to_list()
    [0.12, 2.68, 0.0, 1.5]
    """
    dtype = normalize_dtype(dtype)
    plan = compile_pattern(pattern, dtype, locale=locale, currency=currency)
    if isinstance(plan, NumberPlan) and plan.kind in ("float", "decimal"):
        digits = plan.frac_max + plan.shift
        exact = expr.cast(pl.String).cast(pl.Decimal(38, digits), strict=False).cast(pl.Float64)
        return pl.coalesce(exact, expr.cast(pl.Float64))  # NaN, infinities and huge floats as they are
    if isinstance(plan, TemporalPlan) and plan.kind != "date":
        step = _smallest_step(plan.tokens)
        if plan.kind == "time":
            return (expr.cast(pl.Int64) // step * step).cast(pl.Time)
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            expr = expr.dt.replace_time_zone(None)
        return expr.dt.truncate(f"{step}ns")
    if isinstance(plan, DurationPlan):
        step = _smallest_step(plan.tokens)
        nanos = expr.dt.total_nanoseconds()
        cut = (nanos.abs() // step * step) * pl.when(nanos < 0).then(-1).otherwise(1)
        try:
            name = expr.meta.output_name()
        except pl.exceptions.PolarsError:
            return pl.duration(nanoseconds=cut)
        return pl.duration(nanoseconds=cut).alias(name)
    return expr


_STEPS = {"s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "H": 3600 * 10**9, "K": 3600 * 10**9, "k": 3600 * 10**9}
_DAY = 86_400 * 10**9


def _smallest_step(tokens: tuple[DateToken, ...]) -> int:
    """Nanoseconds of the smallest unit a pattern shows (a day for dates)."""
    steps = [_DAY]
    for token in tokens:
        if isinstance(token, DateField):
            if token.char == "S":
                steps.append(10 ** (9 - token.count))
            elif token.char in _STEPS:
                steps.append(_STEPS[token.char])
    return min(steps)


# ----------------------------------------------------------------------- helpers


def _quote(text: str) -> str:
    """An Excel literal showing ``text`` (``""`` for no text)."""
    if not text:
        return ""
    return '"' + text.replace('"', '"\\""') + '"'


def _tag(loc: Locale) -> str:
    return f"[$-{_lcid(loc):X}]"


def _lcid(loc: Locale) -> int:
    """The Windows locale id of ``loc`` (its likely territory for a bare language)."""
    name = f"{loc.language}_{loc.territory}" if loc.territory else None
    if name in _LCIDS:
        return _LCIDS[name]
    likely = get_global("likely_subtags").get(loc.language)
    if likely:
        parsed = Locale.parse(likely)
        name = f"{parsed.language}_{parsed.territory}"
        if name in _LCIDS:
            return _LCIDS[name]
    return _EN_US


# ----------------------------------------------------------------------- numbers


def _number_format(text: str, plan: NumberPlan, loc: Locale, currency: str | None) -> ExcelFormat:
    if plan.shift == 3:
        return ExcelFormat(None, "Excel has no per-mille scaling")
    parts, currency = number_sections(text, loc, currency)
    symbols = affix_symbols(loc)
    notes: list[str] = []
    if plan.shift == 2 and symbols["%"] != "%":
        notes.append(f"Excel shows '%' where the report shows {symbols['%']!r}")
    if plan.primary and (plan.primary, plan.secondary) != (3, 3):
        notes.append("Excel groups digits by three only: 1,234,567 where the report shows 12,34,567")
    digits = _digits(plan)
    tag = _tag(loc)

    def section(prefix: str, suffix: str) -> str | None:
        pieces: list[str] = []
        percents = 0
        for affix in (prefix, suffix):
            translated, scaling = _affix(affix, loc, currency, symbols)
            percents += scaling
            pieces.append(translated)
        if plan.shift == 2 and percents != 1:  # Excel scales each section by 100 per '%'
            return None
        return tag + pieces[0] + digits + pieces[1]

    pos_prefix, _, pos_suffix = parts[0]
    positive = section(pos_prefix, pos_suffix)
    if len(parts) == 1 and symbols["-"] == "-":
        # One section: Excel and LibreOffice put '-' before everything, as the report does.
        negative: str | None = ""
    else:
        neg_prefix, _, neg_suffix = parts[1] if len(parts) > 1 else ("-" + pos_prefix, "", pos_suffix)
        negative = section(neg_prefix, neg_suffix)
    if positive is None or negative is None:
        return ExcelFormat(None, "a section has no '%' where the report scales by 100")
    code = positive + (";" + negative if negative else "")
    return ExcelFormat(code, "; ".join(notes) or None)


def _digits(plan: NumberPlan) -> str:
    """Excel digit placeholders: integer digits (grouped or not) and fraction digits."""
    zeros = max(plan.int_min, 1)
    integer = "0" * zeros
    if plan.primary:
        integer = "#" * max(0, 4 - zeros) + integer
        integer = integer[:-3] + "," + integer[-3:]
    fraction = "0" * plan.frac_min + "#" * (plan.frac_max - plan.frac_min)
    return integer + ("." + fraction if fraction else "")


def _affix(affix: str, loc: Locale, currency: str | None, symbols: dict[str, str]) -> tuple[str, int]:
    """An affix as one Excel literal per run of text, and its count of unquoted '%' (Excel's scaling '%')."""
    pieces = re.split(r"('[^']*')", affix)  # quoted parts at odd indexes
    out: list[str] = []
    text: list[str] = []
    percents = 0
    for index, piece in enumerate(pieces):
        if index % 2:
            text.append(localize_affix(piece, loc, currency, symbols))
            continue
        for position, chunk in enumerate(piece.split("%")):
            if position:
                percents += 1
                if percents == 1:
                    out.extend([_quote("".join(text)), "%"])
                    text = []
                else:
                    text.append(symbols["%"])
            text.append(localize_affix(chunk, loc, currency, symbols))
    out.append(_quote("".join(text)))
    return "".join(out), percents


# ---------------------------------------------------------------- dates and times


def _is_name(field: DateField) -> bool:
    return field.char in "Ec" or (field.char in "MLe" and field.count >= 3)


@dataclass(frozen=True)
class _Code:
    text: str  # an Excel code, or the text of a literal
    role: str  # "hour", "minute", "month", "second", "other", "literal"


def _temporal_format(plan: TemporalPlan, dtype: pl.DataType, loc: Locale) -> ExcelFormat:
    fields = [t for t in plan.tokens if isinstance(t, DateField)]
    has_period = any(f.char == "a" for f in fields)
    hours = {f.char for f in fields if f.char in "hHKk"}
    if "K" in hours or "k" in hours:
        return ExcelFormat(None, "Excel has no 0-11 (K) or 1-24 (k) hour")
    if has_period and "H" in hours:
        return ExcelFormat(None, "Excel shows a 12-hour clock whenever the code has AM/PM")
    if "h" in hours and not has_period:
        return ExcelFormat(None, "Excel shows a 12-hour clock only with AM/PM")
    notes: list[str] = []
    codes: list[_Code] = []
    tokens = list(plan.tokens)
    fraction_mark: str | None = None  # the literal before fractions of a second
    for index, token in enumerate(tokens):
        if isinstance(token, str):
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if isinstance(following, DateField) and following.char == "S" and token in (".", ","):
                fraction_mark = token  # written with the fraction digits, as the locale's decimal mark
                continue
            codes.append(_Code(token, "literal"))
            continue
        code = _temporal_field(token, tokens, index, plan, dtype, loc, notes)
        if code is None:
            return ExcelFormat(None, notes[-1])
        codes.append(code)
    if not _unambiguous(codes):
        return ExcelFormat(None, "Excel would read a month as minutes or minutes as a month")
    names = any(_is_name(f) for f in fields)
    # The tag sets the names, the AM/PM words and the decimal mark of fractions of a second;
    # a code without names takes en-US where that shows the report's AM/PM or decimal mark.
    english = _lcid(loc) == _EN_US
    decimal = "." if english else str(loc.number_symbols["latn"]["decimal"])
    if not names and (has_period or (fraction_mark is not None and fraction_mark != decimal)):
        english, decimal = True, "."
    if fraction_mark is not None and fraction_mark != decimal:
        return ExcelFormat(
            None, f"Excel shows fractions of a second after {decimal!r} here, the report after {fraction_mark!r}"
        )
    tag = f"[$-{_EN_US:X}]" if english else _tag(loc)
    if has_period:
        am, pm = period_names(loc, 1)
        if not names and (am, pm) != ("AM", "PM"):
            notes.append(f"Excel shows AM/PM where the report shows {am}/{pm}")
        elif names and ((am, pm) != ("AM", "PM") or not english):
            notes.append(f"AM/PM words come from the spreadsheet's locale data (the report: {am}/{pm})")
    if names and not english:
        notes.append("month and day names come from the spreadsheet's locale data")
    return ExcelFormat(tag + _joined(codes), "; ".join(notes) or None)


def _temporal_field(
    field: DateField,
    tokens: list[DateToken],
    index: int,
    plan: TemporalPlan,
    dtype: pl.DataType,
    loc: Locale,
    notes: list[str],
) -> _Code | None:
    char, count = field.char, field.count
    if char == "y":
        if count == 2:
            return _Code("yy", "other")
        return _Code(_quote("0" * max(0, count - 4)) + "yyyy", "other")
    if char in "ML":
        if count == 5:
            notes.append("Excel shows the first letter of the month's name, the report CLDR's narrow name")
        return _Code("m" * count, "month" if count <= 2 else "other")
    if char == "d":
        return _Code("d" * count, "other")
    if char in "Eec" and (char == "E" or count >= 3):
        if count >= 5:
            notes.append("Excel shows the abbreviated weekday where the report shows a narrow or short one")
        return _Code("dddd" if count == 4 else "ddd", "other")
    if char in "hH":
        return _Code("h" * count, "hour")
    if char == "m":
        return _Code("m" * count, "minute")
    if char == "s":
        return _Code("s" * count, "second")
    if char == "a":
        return _Code("AM/PM", "other")
    if char == "S":
        before = tokens[index - 2] if index >= 2 else None
        if (
            count > 3
            or tokens[index - 1] not in (".", ",")
            or not (isinstance(before, DateField) and before.char == "s")
        ):
            notes.append("Excel shows fractions of a second only as ss.0 to ss.000")
            return None
        notes.append("Excel and LibreOffice round fractions of a second, the report cuts them off")
        return _Code("." + "0" * count, "other")
    if char in "zZOXxV":
        if plan.time_zone not in (None, "UTC", "Etc/UTC"):
            notes.append("the time zone's name or offset changes from row to row")
            return None
        sample = pl.DataFrame({"v": [datetime(2000, 1, 1)]}, schema={"v": dtype})
        text = sample.select(format_expr(pl.col("v"), dtype, char * count, locale=str(loc))).item()
        return _Code(str(text), "literal")
    notes.append(f"Excel has no field like {char * count!r}")
    return None


def _joined(codes: list[_Code]) -> str:
    """The codes as one string, each run of literal text quoted once."""
    out: list[str] = []
    literal: list[str] = []
    for code in codes:
        if code.role == "literal":
            literal.append(code.text)
            continue
        out.extend([_quote("".join(literal)), code.text])
        literal = []
    out.append(_quote("".join(literal)))
    return "".join(out)


def _unambiguous(codes: list[_Code]) -> bool:
    """Whether Excel reads every ``m`` code as the pattern means it (minute or month)."""
    fields = [c for c in codes if c.role != "literal"]
    for index, code in enumerate(fields):
        if code.role not in ("minute", "month"):
            continue
        after_hour = index > 0 and fields[index - 1].role == "hour"
        before_second = index + 1 < len(fields) and fields[index + 1].role == "second"
        if (code.role == "minute") != (after_hour or before_second):
            return False
    return True


# -------------------------------------------------------------------- durations


def _duration_format(plan: DurationPlan) -> ExcelFormat:
    fields = [t for t in plan.tokens if isinstance(t, DateField) and t.char != "S"]
    if any(f.char == "d" for f in fields):
        return ExcelFormat(None, "Excel cannot show a number of days in a time format")
    if not fields:
        return ExcelFormat(None, "Excel shows fractions of a second only as ss.0 to ss.000")
    order = {"h": 0, "H": 0, "m": 1, "s": 2}
    largest = min(order[f.char] for f in fields)
    tokens = list(plan.tokens)
    codes: list[_Code] = []
    for index, token in enumerate(tokens):
        if isinstance(token, str):
            if token == "." and index + 1 < len(tokens) and isinstance(tokens[index + 1], DateField):
                following = tokens[index + 1]
                assert isinstance(following, DateField)
                if following.char == "S":
                    continue
            codes.append(_Code(token, "literal"))
            continue
        char = "h" if token.char == "H" else token.char
        if char == "S":
            before = tokens[index - 2] if index >= 2 else None
            if (
                token.count > 3
                or tokens[index - 1] != "."
                or not (isinstance(before, DateField) and before.char == "s")
            ):
                return ExcelFormat(None, "Excel shows fractions of a second only as ss.0 to ss.000")
            codes.append(_Code("." + "0" * token.count, "other"))
            continue
        text = char * token.count
        role = {"h": "hour", "m": "minute", "s": "second"}[char]
        if order[char] == largest:
            text = f"[{text}]"
            role = "other" if char == "m" else role  # [m] is always minutes
        codes.append(_Code(text, role))
    if not _unambiguous(codes):
        return ExcelFormat(None, "Excel would read the minutes as a month")
    note = "Excel cannot show negative durations (LibreOffice can)"
    if plan.minus != "-":
        note += f"; the minus sign is '-', not {plan.minus!r}"
    return ExcelFormat(f"[$-{_EN_US:X}]" + _joined(codes), note)
