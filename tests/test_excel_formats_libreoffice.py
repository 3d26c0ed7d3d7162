"""Every Excel code of :mod:`polarreports.emit.excel_formats`, shown by a real spreadsheet program.

Values × patterns × locales are written to one .xlsx (xlsxwriter), numbers and dates as
values with the translated format; one LibreOffice run converts it to CSV with the cells'
*shown* text; each text must equal what polarreports' own formatting shows for the value.
The only allowed differences are the documented ones, each applied here by name: ties
rounded half away from zero, negative zero in a two-section code, LibreOffice's own group
separator (``LIBREOFFICE_SEPARATORS``), and its own names and AM/PM words
(``LIBREOFFICE_NAMES``) only where ``translate_format``'s note announces them.  Values
written through ``cell_value`` must show the report's text with no exception at all.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import xlsxwriter
import yaml

from polarreports.compute.formats import NumberPlan, compile_pattern, format_expr
from polarreports.emit.excel_formats import cell_value, translate_format
from polarreports.exceptions import FormatError
from tests.libreoffice import MISSING, SOFFICE, shown_by_libreoffice

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.skipif(SOFFICE is None, reason=MISSING),
    pytest.mark.slow,  # starts LibreOffice: make test runs it, make test-fast does not
]

# Where LibreOffice's locale data differs from Babel's CLDR, for every code (locale, CLDR, LibreOffice).
LIBREOFFICE_SEPARATORS = [("fr_FR", "\u202f", "\u00a0")]  # groups: narrow no-break space vs no-break space
_GERMAN_DAYS = r"\b(Mo|Di|Mi|Do|Fr|Sa|So)\."
_GERMAN_MONTHS = [(r"\b(Jan|Feb|Apr|Aug|Okt|Nov|Dez)\.", r"\1"), (r"\bMärz\b", "Mär"), (r"\bJuni\b", "Jun")]
_GERMAN_MONTHS += [(r"\bJuli\b", "Jul"), (r"\bSept\.", "Sep")]
# The differences a note of translate_format announces, as LibreOffice 7.4 shows them, by the
# code's locale tag: (tag, what the code shows) -> [(CLDR text as a regular expression, LibreOffice's)].
LIBREOFFICE_NAMES: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("[$-407]", "abbreviated month"): _GERMAN_MONTHS,
    ("[$-407]", "abbreviated day"): [(_GERMAN_DAYS, r"\1")],
    ("[$-407]", "AM/PM"): [(r"\bAM\b", "vorm."), (r"\bPM\b", "nachm.")],
    ("[$-809]", "abbreviated month"): [(r"\bSept\b", "Sep")],
    ("[$-809]", "AM/PM"): [(r"\bam\b", "AM"), (r"\bpm\b", "PM")],
    ("[$-1809]", "abbreviated month"): [(r"\bSept\b", "Sep")],
    ("[$-1809]", "AM/PM"): [(r"\bam\b", "a.m."), (r"\bpm\b", "p.m.")],
    ("[$-409]", "AM/PM"): [(r"\bam\b", "AM"), (r"\bpm\b", "PM")],
}


LOCALES = ["en_US", "de_DE", "fr_FR", "en_GB", "de_CH", "sv_SE", "en_IE", "ja_JP"]
NUMBER_PARTS = ["0", "#,##0", "0,000", "000", "#"]
FRACTIONS = ["", ".0", ".00", ".0#", ".##", ".000"]
AFFIXES = [("", ""), ("¤", ""), ("", " ¤"), ("", "%"), ("", " %"), ("'Total '", ""), ("", " orders"), ("¤¤ ", "")]
NEGATIVES = ["", ";(#)", ";'minus '#' !'", ";-#"]
SHORTCUTS = ["integer", "decimal", "percent", "currency", "accounting"]
# Literal text holding the characters that mean something in an Excel code.
LITERALS = ["'\"q\" '0", "0' [Red];@_*\\'", "0' %'", "'$'0.00", "'it''s '0", "'#,##0.00 '0", "'0.0%'0.0%"]

FLOATS = [
    0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 7.25, 1234.5, -1234.5, 0.125, 2.675, 1.005, 2.5, -2.5, 0.0004,
    -0.0004, 999.995, 1e12 + 0.37, -98765432.1, 0.1 + 0.2, 12345678.9, 0.07, -0.256, 1e-9, 100.0,
]  # fmt: skip
INTS = [0, 1, -1, 7, -1234, 1234567, -98765432, 10**14, 999, 1000]

DATETIMES = [
    dt.datetime(2024, month, 1 + 2 * month, hour, 7 * month % 60, 3 * month % 60)
    for month, hour in zip(range(1, 13), [0, 1, 9, 11, 12, 13, 14, 17, 20, 23, 0, 12], strict=True)
] + [dt.datetime(1999, 12, 31, 23, 59, 59), dt.datetime(2000, 2, 29, 0, 0, 0)]
DATE_PATTERNS = [
    "yyyy-MM-dd", "dd.MM.yy", "d/M/y", "MMM d, y", "MMMM yyyy", "EEE dd MMM", "EEEE", "LLLL",
    "MMMMM", "dd 'de' MMMM", "y-MM-dd'T'", "yyyyy", "''yy", "date:short", "date:medium", "date:long",
    "date:full",
]  # fmt: skip
TIME_PATTERNS = ["HH:mm", "HH:mm:ss", "h:mm a", "hh:mm:ss a", "H'h'mm", "mm:ss", "time:short", "time:medium"]
DATETIME_PATTERNS = [
    "yyyy-MM-dd HH:mm",
    "yyyy-MM-dd'T'HH:mm:ss",
    "EEE d MMM yyyy, h:mm a",
    "dd.MM.yyyy HH:mm z",
    "yyyy-MM-dd HH:mm:ss ZZZZZ",
    "datetime:short",
    "datetime:medium",
]
DURATIONS = [
    dt.timedelta(0),
    dt.timedelta(hours=26, minutes=3, seconds=4),
    dt.timedelta(minutes=-61),
    dt.timedelta(seconds=59),
]
DURATION_PATTERNS = ["h:mm:ss", "hh:mm", "m:ss", "H:mm"]


@dataclass
class Case:
    pattern: str | None
    dtype: pl.DataType
    locale: str
    currency: str | None
    value: Any
    code: str
    note: str | None
    expected: str
    tie: str | None = None  # at an exact decimal tie: the text rounded half away from zero
    written: Any = None  # the value written, when not ``value``: cell_value's
    shown: str = ""


def number_patterns() -> list[str]:
    rng = random.Random(13)
    patterns = [n + f for n in NUMBER_PARTS for f in FRACTIONS]
    for _ in range(30):
        number = rng.choice(NUMBER_PARTS) + rng.choice(FRACTIONS)
        prefix, suffix = rng.choice(AFFIXES)
        negative = rng.choice(NEGATIVES).replace("#", number)
        if negative and "%" in suffix:
            negative += "%"
        patterns.append(prefix + number + suffix + negative)
    return patterns


@functools.cache
def gallery_formats() -> list[tuple[str, str, str | None]]:
    """(pattern, locale, currency) of every element format in the gallery examples (not the charts')."""
    found: set[tuple[str, str, str | None]] = set()

    def walk(node: Any, loc: str, currency: str | None) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("field", "aggregate", "expression") and isinstance(node.get("format"), str):
                found.add((node["format"], loc, currency))
            for value in node.values():
                walk(value, loc, currency)
        elif isinstance(node, list):
            for value in node:
                walk(value, loc, currency)

    for path in sorted((ROOT / "examples").glob("*.yaml")):
        definition = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        walk(definition, definition.get("locale", "en_US"), definition.get("currency"))
    return sorted(found, key=str)


def shown_by_polarreports(
    values: list[Any], dtype: pl.DataType, pattern: str | None, loc: str, currency: str | None
) -> list[str]:
    frame = pl.DataFrame({"v": values}, schema={"v": dtype})
    texts = frame.select(format_expr(pl.col("v"), dtype, pattern, locale=loc, currency=currency))["v"].to_list()
    return [str(t) for t in texts]


def expected_number_texts(
    values: list[Any], dtype: pl.DataType, pattern: str | None, loc: str, currency: str | None, code: str
) -> list[tuple[str, str | None]]:
    """polarreports' texts, and at ties the text rounded half away from zero; negative zero as Excel shows it."""
    plan = compile_pattern(pattern, dtype, locale=loc, currency=currency)
    assert isinstance(plan, NumberPlan)
    unit = Decimal(1).scaleb(-plan.frac_max)  # of the shown (percent-scaled) number
    ties: list[Any] = []
    negative_zero: list[bool] = []
    for value in values:
        exact = (Decimal(repr(value)) if isinstance(value, float) else Decimal(value)).scaleb(plan.shift)
        rounded = exact.quantize(unit, rounding=ROUND_HALF_UP)
        tie = abs(exact / unit) % 1 == Decimal("0.5")
        ties.append(type(value)(rounded.scaleb(-plan.shift)) if tie else None)
        negative_zero.append(value < 0 and rounded == 0 and ";" in re.sub(r'"[^"]*"|\\.', "", code))
    texts = shown_by_polarreports(values, dtype, pattern, loc, currency)
    tie_values = [t for t in ties if t is not None]
    tie_texts = iter(shown_by_polarreports(tie_values, dtype, pattern, loc, currency) if tie_values else [])
    if any(negative_zero):  # a two-section code shows the negative section: its affixes around zero
        zero = shown_by_polarreports([0], dtype, pattern, loc, currency)[0]
        digits = zero[len(plan.pos_prefix) : len(zero) - len(plan.pos_suffix)]
        texts = [
            plan.neg_prefix + digits + plan.neg_suffix if nz else t for t, nz in zip(texts, negative_zero, strict=True)
        ]
    return [(text, None if tie is None else next(tie_texts)) for text, tie in zip(texts, ties, strict=True)]


def number_combos() -> list[tuple[str | None, str, str | None, list[pl.DataType]]]:
    """(pattern, locale, currency, dtypes) of the numbers to show."""
    every: list[pl.DataType] = [pl.Float64(), pl.Int64(), pl.Decimal(18, 4)]
    floats: list[pl.DataType] = [pl.Float64()]
    combos: list[tuple[str | None, str, str | None, list[pl.DataType]]]
    combos = [(p, "en_US", None, every) for p in number_patterns() + LITERALS]
    combos += [(p, "de_DE", None, floats) for p in number_patterns() + LITERALS]
    combos += [(p, loc, None, floats) for p in ("integer", "decimal", "percent") for loc in LOCALES]
    combos += [(p, loc, c, floats) for p in ("currency", "accounting") for loc in LOCALES for c in (None, "JPY")]
    combos += [(p, loc, "EUR", floats) for p in ("¤#,##0.00", "#,##0.00 ¤;(#,##0.00 ¤)", "0.0%") for loc in LOCALES]
    combos += [(p, loc, c, every) for p, loc, c in gallery_formats()]
    combos += [(None, loc, None, every) for loc in ("en_US", "de_DE", "fr_FR")]  # the default patterns
    return combos


def number_cases() -> Iterator[Case]:
    for pattern, loc, currency, dtypes in number_combos():
        for dtype in dtypes:
            try:
                compile_pattern(pattern, dtype, locale=loc, currency=currency)
            except FormatError:  # a date pattern of the gallery, say
                continue
            values: list[Any] = INTS if dtype == pl.Int64() else FLOATS
            if isinstance(dtype, pl.Decimal):
                values = [Decimal(repr(v)).quantize(Decimal("0.0001")) for v in values[:12]]
            result = translate_format(pattern, dtype, locale=loc, currency=currency)
            if result.code is None:
                continue
            expected = expected_number_texts(values, dtype, pattern, loc, currency, result.code)
            for value, (text, tie) in zip(values, expected, strict=True):
                yield Case(pattern, dtype, loc, currency, value, result.code, result.note, text, tie)


def temporal_cases() -> Iterator[Case]:
    combos: list[tuple[str | None, pl.DataType, list[Any]]] = []
    dates = [d.date() for d in DATETIMES]
    times = [d.time() for d in DATETIMES]
    combos += [(p, pl.Date(), dates) for p in [*DATE_PATTERNS, None]]
    combos += [(p, pl.Time(), times) for p in [*TIME_PATTERNS, None]]
    combos += [(p, pl.Datetime("us"), DATETIMES) for p in [*DATETIME_PATTERNS, None]]
    combos += [(p, pl.Datetime("us", "UTC"), DATETIMES) for p in DATETIME_PATTERNS]
    combos += [(p, pl.Duration("us"), DURATIONS) for p in [*DURATION_PATTERNS, None]]
    combos += [(p, pl.Boolean(), [True, False]) for p in ("Yes/No", None, "✓/'x'")]
    gallery = [(p, loc) for p, loc, _ in gallery_formats()]
    for loc in ("en_US", "de_DE", "fr_FR", "en_GB", "en_IE"):
        for pattern, dtype, values in combos + [(p, pl.Date(), dates) for p, at in gallery if at == loc]:
            try:
                compile_pattern(pattern, dtype, locale=loc)
            except FormatError:  # a number pattern of the gallery
                continue
            result = translate_format(pattern, dtype, locale=loc)
            if result.code is None:
                continue
            texts = shown_by_polarreports(values, dtype, pattern, loc, None)
            for value, text in zip(values, texts, strict=True):
                yield Case(pattern, dtype, loc, None, value, result.code, result.note, text)


FRACTIONAL = [
    dt.datetime(2024, 3, 5, 23, 59, 59, 987654),
    dt.datetime(2024, 12, 31, 23, 59, 59, 999999),
    dt.datetime(2024, 6, 1, 12, 0, 0, 600000),
    dt.datetime(2024, 6, 1, 12, 0, 29, 500000),
]
FRACTIONAL_PATTERNS = [
    "yyyy-MM-dd",
    "dd MMM yyyy",
    "yyyy-MM-dd HH:mm",
    "HH:mm:ss",
    "HH:mm:ss.S",
    "HH:mm:ss.SSS",
    "mm:ss",
]
FRACTIONAL_DURATIONS = [
    dt.timedelta(seconds=59.9),
    dt.timedelta(hours=-1, seconds=-0.4),
    dt.timedelta(hours=2, seconds=-0.001),
]


def cell_value_cases() -> Iterator[Case]:
    """Values written through cell_value: the cell shows the report's text exactly, ties and negative zero too."""
    numbers = [(p, "en_US", None) for p in number_patterns()[:30]] + gallery_formats()
    numbers += [(p, loc, None) for p in ("#,##0.00", "percent", "accounting") for loc in ("sv_SE", "en_US", "de_CH")]
    numbers += [("#,##0.00;(#,##0.00)", "en_US", None), ("0%", "en_US", None), ("0.0%;'minus '0.0%", "de_DE", None)]
    temporal: list[tuple[str, pl.DataType, list[Any]]] = [
        (p, pl.Datetime("us"), FRACTIONAL) for p in FRACTIONAL_PATTERNS
    ]
    zoned = [d.replace(tzinfo=dt.UTC) for d in FRACTIONAL]
    temporal += [(p, pl.Datetime("us", "UTC"), zoned) for p in FRACTIONAL_PATTERNS]
    temporal += [(p, pl.Time(), [d.time() for d in FRACTIONAL]) for p in FRACTIONAL_PATTERNS[3:]]
    temporal += [(p, pl.Duration("us"), FRACTIONAL_DURATIONS) for p in ("h:mm:ss", "h:mm:ss.SS", "m:ss")]
    german = [(p, pl.Datetime("us"), FRACTIONAL) for p in ("HH:mm:ss,SSS", "HH:mm:ss.SS", "EEE HH:mm:ss,S")]
    combos = [(p, pl.Float64(), FLOATS, loc, c) for p, loc, c in numbers]
    combos += [(p, dtype, values, "de_DE", None) for p, dtype, values in german]
    combos += [(p, pl.Decimal(18, 4), FLOATS[:12], loc, c) for p, loc, c in gallery_formats()]
    combos += [(p, dtype, values, "en_US", None) for p, dtype, values in temporal]
    for pattern, dtype, values, loc, currency in combos:
        try:
            compile_pattern(pattern, dtype, locale=loc, currency=currency)
        except FormatError:  # a date pattern of the gallery, say
            continue
        if isinstance(dtype, pl.Decimal):
            values = [Decimal(repr(v)).quantize(Decimal("0.0001")) for v in values]
        result = translate_format(pattern, dtype, locale=loc, currency=currency)
        assert result.code is not None
        frame = pl.DataFrame({"v": values}, schema={"v": dtype})
        written = frame.select(cell_value(pl.col("v"), dtype, pattern, locale=loc, currency=currency))["v"]
        texts = shown_by_polarreports(values, dtype, pattern, loc, currency)
        for value, cell, text in zip(values, written.to_list(), texts, strict=True):
            yield Case(pattern, dtype, loc, currency, value, result.code, result.note, text, written=cell)


def write_cell(sheet: Any, row: int, case: Case, style: Any) -> None:
    value = case.value if case.written is None else case.written
    if isinstance(value, dt.timedelta):
        sheet.write_number(row, 0, value.total_seconds() / 86_400, style)
    elif isinstance(value, bool):
        sheet.write_number(row, 0, int(value), style)
    elif isinstance(value, (dt.datetime, dt.date, dt.time)):
        sheet.write_datetime(row, 0, value, style)
    else:
        sheet.write_number(row, 0, float(value), style)


@pytest.fixture(scope="module")
def shown_cases(tmp_path_factory: pytest.TempPathFactory) -> list[Case]:
    cases = [*number_cases(), *temporal_cases(), *cell_value_cases()]
    tmp = tmp_path_factory.mktemp("excel_formats")
    path = tmp / "cases.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    styles: dict[str, Any] = {}
    for row, case in enumerate(cases):
        style = styles.setdefault(case.code, workbook.add_format({"num_format": case.code}))
        write_cell(sheet, row, case, style)
        sheet.write_string(row, 1, str(row))
    workbook.close()
    rows = shown_by_libreoffice(path, tmp)
    assert len(rows) == len(cases)
    for index, (shown, case) in enumerate(zip(rows, cases, strict=True)):
        assert shown[1] == str(index)  # the row of this case
        case.shown = shown[0]
    return cases


def libreoffice_text(text: str, case: Case) -> str:
    """The text LibreOffice should show for the report's ``text``: with the documented differences."""
    for loc, cldr, libreoffice in LIBREOFFICE_SEPARATORS:
        if case.locale == loc:
            text = text.replace(cldr, libreoffice)
    if case.note is None:
        return text
    shows = []
    if "mmm" in case.code and "mmmm" not in case.code:
        shows.append("abbreviated month")
    if "ddd" in case.code and "dddd" not in case.code:
        shows.append("abbreviated day")
    if "AM/PM" in case.code:
        shows.append("AM/PM")
    for what in shows:
        tag = case.code[: case.code.index("]") + 1]
        for cldr, libreoffice in LIBREOFFICE_NAMES.get((tag, what), []):
            text = re.sub(cldr, libreoffice, text)
    if "mmmmm" in case.code:  # the first letter of the name, in the name's case
        text = text.lower()
    return text


def mismatches(cases: list[Case]) -> list[str]:
    """Every case whose shown text is not the report's (nor, at a tie, the one rounded away from zero)."""
    bad = []
    for c in cases:
        shown = c.shown.lower() if "mmmmm" in c.code else c.shown
        allowed = {libreoffice_text(c.expected, c)}
        if c.tie is not None:
            allowed.add(libreoffice_text(c.tie, c))
        if shown not in allowed:
            case = f"{c.pattern!r} {c.dtype} {c.locale} {c.currency} {c.value!r}"
            bad.append(f"{case}: code {c.code!r} shows {c.shown!r}, report {c.expected!r}")
    return bad


def test_numbers_show_the_reports_text(shown_cases: list[Case]) -> None:
    numbers = [c for c in shown_cases if c.dtype.is_numeric() and c.written is None]
    assert len(numbers) > 3000
    assert mismatches(numbers) == []


def test_dates_times_durations_and_booleans_show_the_reports_text(shown_cases: list[Case]) -> None:
    others = [c for c in shown_cases if not c.dtype.is_numeric() and c.written is None]
    assert len(others) > 1000
    assert mismatches(others) == []


def test_cell_values_show_exactly_the_reports_text(shown_cases: list[Case]) -> None:
    """Written through cell_value, even ties, negative zero and fractions of a second match."""
    written = [c for c in shown_cases if c.written is not None]
    assert len(written) > 1000
    assert sum(c.shown != c.expected and c.written is None for c in shown_cases) > 100  # without it, some differ
    exact = [replace(c, tie=None) for c in written]
    assert mismatches(exact) == []


def test_gallery_formats_are_all_covered(shown_cases: list[Case]) -> None:
    patterns = {(c.pattern, c.locale, c.currency) for c in shown_cases}
    for pattern, loc, currency in gallery_formats():
        assert (pattern, loc, currency) in patterns or (pattern, loc, None) in patterns, pattern
