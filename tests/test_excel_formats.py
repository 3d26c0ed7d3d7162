"""The translation table of :mod:`polarreports.emit.excel_formats`, without a spreadsheet program.

What the codes *show* is checked by LibreOffice in ``test_excel_formats_libreoffice.py``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polarreports.compute.formats import check_pattern
from polarreports.emit.excel_formats import ExcelFormat, cell_value, excel_format, translate_format
from polarreports.exceptions import FormatError

F64 = pl.Float64()

NUMBERS = [
    ("#,##0.00", "en_US", None, "[$-409]#,##0.00"),
    ("#,##0.00", "de_DE", None, "[$-407]#,##0.00"),
    ("#,##0", "fr_FR", None, "[$-40C]#,##0"),
    ("0", "en_US", None, "[$-409]0"),
    ("#", "en_US", None, "[$-409]0"),
    ("#.##", "en_US", None, "[$-409]0.##"),
    ("000.0#", "en_US", None, "[$-409]000.0#"),
    ("0,000", "en_US", None, "[$-409]0,000"),
    ("00,000", "en_US", None, "[$-409]00,000"),
    ("0.0%", "en_US", None, "[$-409]0.0%"),
    ("0.0% of all", "en_US", None, '[$-409]0.0%" of all"'),
    ("'%'0", "en_US", None, '[$-409]"%"0'),
    ("#,##0 orders", "en_US", None, '[$-409]#,##0" orders"'),
    ("'Page total '#,##0.00", "en_US", None, '[$-409]"Page total "#,##0.00'),
    ("'it''s '0", "en_US", None, '[$-409]"its "0'),  # as the report shows it
    ('"x" 0', "en_US", None, '[$-409]""\\""x"\\"" "0'),
    ("¤#,##0.00", "en_US", None, '[$-409]"$"#,##0.00'),
    ("¤#,##0.00", "en_IE", "EUR", '[$-1809]"€"#,##0.00'),
    ("¤#,##0.00", "en_US", "EUR", '[$-409]"€"#,##0.00'),
    ("¤¤ #,##0", "de_DE", "CHF", '[$-407]"CHF "#,##0'),
    ("#,##0.00 ¤", "de_DE", None, '[$-407]#,##0.00" €"'),
    ("currency", "de_DE", None, '[$-407]#,##0.00"\u00a0€"'),
    ("currency", "ja_JP", None, '[$-411]"￥"#,##0'),
    ("accounting", "en_US", None, '[$-409]"$"#,##0.00;[$-409]"($"#,##0.00")"'),
    ("percent", "de_DE", None, '[$-407]#,##0"\u00a0"%'),
    ("integer", "en_US", None, "[$-409]#,##0"),
    ("decimal", "en_US", None, "[$-409]#,##0.###"),
    ("#,##0.00;(#,##0.00)", "en_US", None, '[$-409]#,##0.00;[$-409]"("#,##0.00")"'),
    ("0;'minus '0", "en_US", None, '[$-409]0;[$-409]"minus "0'),
    ("+0;-0", "en_US", None, '[$-409]"+"0;[$-409]"-"0'),
    ("#,##0.00", "sv_SE", None, '[$-41D]#,##0.00;[$-41D]"\u2212"#,##0.00'),
    ("0%;(0)%", "en_US", None, '[$-409]0%;[$-409]"("0")"%'),
]


@pytest.mark.parametrize(("pattern", "locale", "currency", "code"), NUMBERS)
def test_number_codes(pattern: str, locale: str, currency: str | None, code: str) -> None:
    assert translate_format(pattern, F64, locale=locale, currency=currency) == ExcelFormat(code)


DATES = [
    ("yyyy-MM-dd", pl.Date(), "en_US", '[$-409]yyyy"-"mm"-"dd'),
    ("dd/MM/yyyy", pl.Date(), "en_GB", '[$-809]dd"/"mm"/"yyyy'),
    ("d.M.yy", pl.Date(), "de_DE", '[$-407]d"."m"."yy'),
    ("y", pl.Date(), "en_US", "[$-409]yyyy"),
    ("yyyyy", pl.Date(), "en_US", '[$-409]"0"yyyy'),
    ("dd MMM yyyy", pl.Date(), "en_US", '[$-409]dd" "mmm" "yyyy'),
    ("EEEE d MMMM", pl.Date(), "en_US", '[$-409]dddd" "d" "mmmm'),
    ("EEE", pl.Date(), "en_US", "[$-409]ddd"),
    ("dd 'de' MMMM", pl.Date(), "en_US", '[$-409]dd" de "mmmm'),
    ("HH:mm", pl.Time(), "en_US", '[$-409]hh":"mm'),
    ("H'h'mm", pl.Time(), "en_US", '[$-409]h"h"mm'),
    ("mm:ss", pl.Time(), "en_US", '[$-409]mm":"ss'),
    ("h:mm a", pl.Time(), "en_US", '[$-409]h":"mm" "AM/PM'),
    ("h:mm a", pl.Time(), "de_DE", '[$-409]h":"mm" "AM/PM'),
    ("HH:mm:ss.SSS", pl.Time(), "en_US", '[$-409]hh":"mm":"ss.000'),
    ("HH:mm:ss.SSS", pl.Time(), "de_DE", '[$-409]hh":"mm":"ss.000'),  # en-US shows the report's '.'
    ("HH:mm:ss,SS", pl.Time(), "de_DE", '[$-407]hh":"mm":"ss.00'),  # de-DE shows the report's ','
    ("EEE HH:mm:ss,S", pl.Datetime(), "fr_FR", '[$-40C]ddd" "hh":"mm":"ss.0'),
    ("yyyy-MM-dd'T'HH:mm:ss", pl.Datetime(), "en_US", '[$-409]yyyy"-"mm"-"dd"T"hh":"mm":"ss'),
    ("HH:mm zzzz", pl.Datetime("us", "UTC"), "en_US", '[$-409]hh":"mm" Coordinated Universal Time"'),
    ("HH:mm xxx", pl.Datetime(), "en_US", '[$-409]hh":"mm" +00:00"'),
    (None, pl.Date(), "en_US", '[$-409]yyyy"-"mm"-"dd'),
    (None, pl.Datetime("ms"), "de_DE", '[$-407]yyyy"-"mm"-"dd" "hh":"mm'),
    (None, pl.Time(), "en_US", '[$-409]hh":"mm":"ss'),
    ("date:medium", pl.Date(), "de_DE", '[$-407]dd"."mm"."yyyy'),
    (None, pl.Duration("us"), "en_US", '[$-409][h]":"mm":"ss'),
    ("m:ss", pl.Duration("us"), "en_US", '[$-409][m]":"ss'),
    ("hh:mm:ss.SS", pl.Duration("us"), "en_US", '[$-409][hh]":"mm":"ss.00'),
]


@pytest.mark.parametrize(("pattern", "dtype", "locale", "code"), DATES)
def test_date_time_and_duration_codes(pattern: str | None, dtype: pl.DataType, locale: str, code: str) -> None:
    assert excel_format(pattern, dtype, locale=locale) == code


NO_CODE = [
    ("0.0‰", F64, "per-mille"),
    ("0%;(0)", F64, "'%'"),
    ("Q yyyy", pl.Date(), "'Q'"),
    ("G y", pl.Date(), "'G'"),
    ("D", pl.Date(), "'D'"),
    ("e", pl.Date(), "'e'"),
    ("K:mm a", pl.Time(), "K"),
    ("k:mm", pl.Time(), "k"),
    ("h:mm", pl.Time(), "AM/PM"),
    ("HH:mm a", pl.Time(), "AM/PM"),
    ("mm", pl.Time(), "month"),
    ("HH MM", pl.Datetime(), "month"),
    ("HH:mm:ss.SSSS", pl.Time(), "ss.000"),
    ("HH:mm:ss SSS", pl.Time(), "ss.000"),
    ("HH:mm:ss,SSS", pl.Time(), "after '.'"),
    ("HH:mm zzzz", pl.Datetime("us", "Europe/Berlin"), "zone"),
    ("d h", pl.Duration("us"), "days"),
    ("SS", pl.Duration("us"), "ss.000"),
    (None, pl.String(), "text"),
    ("upper", pl.String(), "text"),
    (None, pl.List(pl.Int64()), "text"),
    (None, pl.Null(), "text"),
    ("'" + "x" * 250 + "' 0", F64, "255"),
]


@pytest.mark.parametrize(("pattern", "dtype", "why"), NO_CODE)
def test_no_code_where_excel_cannot_show_the_text(pattern: str | None, dtype: pl.DataType, why: str) -> None:
    result = translate_format(pattern, dtype)
    assert result.code is None
    assert result.note is not None
    assert why in result.note


def test_no_code_where_the_locale_marks_fractions_of_a_second_otherwise() -> None:
    result = translate_format("EEE HH:mm:ss.SSS", pl.Datetime(), locale="de_DE")  # German names: ','
    assert result == ExcelFormat(None, "Excel shows fractions of a second after ',' here, the report after '.'")


NOTED = [
    ("#,##,##0", pl.Int64(), "hi_IN", "[$-439]#,##0", "by three"),
    ("dd MMM yyyy", pl.Date(), "de_DE", '[$-407]dd" "mmm" "yyyy', "names"),
    ("EEEEE", pl.Date(), "en_US", "[$-409]ddd", "abbreviated weekday"),
    ("MMMMM", pl.Date(), "en_US", "[$-409]mmmmm", "first letter"),
    ("h:mm a", pl.Time(), "en_GB", '[$-409]h":"mm" "AM/PM', "am/pm"),
    ("EEE h:mm a", pl.Datetime(), "de_DE", '[$-407]ddd" "h":"mm" "AM/PM', "AM/PM words"),
    ("ss.S", pl.Time(), "en_US", "[$-409]ss.0", "round"),
    (None, pl.Duration("us"), "en_US", '[$-409][h]":"mm":"ss', "negative durations"),
]


@pytest.mark.parametrize(("pattern", "dtype", "locale", "code", "why"), NOTED)
def test_notes_say_what_differs(pattern: str | None, dtype: pl.DataType, locale: str, code: str, why: str) -> None:
    result = translate_format(pattern, dtype, locale=locale)
    assert result.code == code
    assert result.note is not None
    assert why in result.note


@pytest.mark.parametrize(
    ("pattern", "code"),
    [(None, '"Yes";"Yes";"No"'), ("Ja/Nein", '"Ja";"Ja";"Nein"'), ('"on"/', '""\\""on"\\""";""\\""on"\\""";')],
)
def test_boolean_codes_show_the_texts_for_one_and_zero(pattern: str | None, code: str) -> None:
    assert excel_format(pattern, pl.Boolean()) == code


def test_locale_tags() -> None:
    tags = {loc: excel_format("0", F64, locale=loc) for loc in ("de", "de-CH", "fr_FR", "en_IE", "ja", "eo")}
    assert tags == {
        "de": "[$-407]0",
        "de-CH": "[$-807]0",
        "fr_FR": "[$-40C]0",
        "en_IE": "[$-1809]0",
        "ja": "[$-411]0",
        "eo": "[$-409]0",  # no Windows id: en-US
    }


@pytest.mark.parametrize(
    ("pattern", "dtype", "kwargs"),
    [
        ("#,##0.0.0", F64, {}),
        ("0.00E0", F64, {}),
        ("yyyy-ww", pl.Date(), {}),
        ("#,##0", F64, {"locale": "xx_NOPE"}),
        ("¤0", F64, {"currency": "XYZ"}),
        ("0.00", pl.Date(), {}),
        ("yyyy", F64, {}),
    ],
)
def test_refuses_what_the_report_refuses(pattern: str, dtype: pl.DataType, kwargs: dict[str, str]) -> None:
    with pytest.raises(FormatError):
        translate_format(pattern, dtype, **kwargs)


def excel_sections(code: str) -> list[list[tuple[bool, str]]]:
    """An Excel code read as Excel reads it: sections of (is literal, text) pieces."""
    sections: list[list[tuple[bool, str]]] = [[]]
    i = 0
    while i < len(code):
        char = code[i]
        if char == '"':
            end = code.index('"', i + 1)
            sections[-1].append((True, code[i + 1 : end]))
            i = end + 1
        elif char == "\\":
            sections[-1].append((True, code[i + 1]))
            i += 2
        elif char == ";":
            sections.append([])
            i += 1
        else:
            sections[-1].append((False, char))
            i += 1
    return sections


_AFFIX_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="'"), max_size=8)


@settings(max_examples=150, deadline=None)
@given(
    prefix=_AFFIX_TEXT,
    suffix=_AFFIX_TEXT,
    number=st.sampled_from(["0", "#,##0", "0.00", "#,##0.0#", "000"]),
    locale=st.sampled_from(["en_US", "de_DE", "fr_FR", "sv_SE"]),
)
def test_quoted_text_is_always_literal(prefix: str, suffix: str, number: str, locale: str) -> None:
    """Any quoted affix comes out as Excel literals around the digits, whatever it holds."""
    pattern = "".join([f"'{prefix}'" if prefix else "", number, f"'{suffix}'" if suffix else ""])
    check_pattern(pattern, F64)
    code = excel_format(pattern, F64, locale=locale)
    assert code is not None
    positive = excel_sections(code)[0]
    tag_end = next(i for i, piece in enumerate(positive) if piece == (False, "]"))
    assert "".join(text for _, text in positive[: tag_end + 1]) == code[: tag_end + 1]
    positive = positive[tag_end + 1 :]
    codes = "".join(text for literal, text in positive if not literal)
    assert codes == excel_format(number, F64, locale=locale).split("]")[1].split(";")[0]  # type: ignore[union-attr]
    first = next(i for i, (literal, _) in enumerate(positive) if not literal)
    before = "".join(text for literal, text in positive[:first] if literal)
    last = max(i for i, (literal, _) in enumerate(positive) if not literal)
    after = "".join(text for literal, text in positive[last + 1 :] if literal)
    assert (before, after) == (prefix, suffix)


def test_cell_values_round_as_the_report_rounds() -> None:
    values = [0.125, 0.375, 2.675, 1.005, -0.004, -2.5, float("nan"), float("inf"), 1e300, None]
    frame = pl.DataFrame({"x": values})
    rounded = frame.select(cell_value(pl.col("x"), F64, "0.00"))["x"].to_list()
    assert rounded[:6] == [0.12, 0.38, 2.68, 1.0, 0.0, -2.5]
    assert rounded[6] != rounded[6]  # NaN
    assert rounded[7:] == [float("inf"), 1e300, None]
    percents = frame.select(cell_value(pl.col("x"), F64, "0%"))["x"].to_list()
    assert percents[:6] == [0.12, 0.38, 2.68, 1.0, 0.0, -2.5]


def test_cell_values_of_decimals_and_integers() -> None:
    decimals = pl.DataFrame({"x": [Decimal("0.1250"), Decimal("-0.0040")]}, schema={"x": pl.Decimal(18, 4)})
    assert decimals.select(cell_value(pl.col("x"), pl.Decimal(18, 4), "0.00"))["x"].to_list() == [0.12, 0.0]
    integers = pl.DataFrame({"x": [2**62 + 1]})
    assert integers.select(cell_value(pl.col("x"), pl.Int64(), "#,##0"))["x"].to_list() == [2**62 + 1]


def test_cell_values_cut_times_to_the_shown_unit() -> None:
    stamp = dt.datetime(2024, 3, 5, 23, 59, 59, 987654)
    cases = {
        "yyyy-MM-dd": dt.datetime(2024, 3, 5),
        "HH:mm": dt.datetime(2024, 3, 5, 23, 59),
        "HH:mm:ss.SS": dt.datetime(2024, 3, 5, 23, 59, 59, 980000),
    }
    for pattern, expected in cases.items():
        frame = pl.DataFrame({"t": [stamp]})
        assert frame.select(cell_value(pl.col("t"), pl.Datetime("us"), pattern)).item() == expected
    berlin = pl.DataFrame({"t": [stamp]}).select(pl.col("t").dt.replace_time_zone("Europe/Berlin"))
    # Excel has no zones: the wall-clock time of the column's zone
    wall = berlin.select(cell_value(pl.col("t"), pl.Datetime("us", "Europe/Berlin"), "HH:mm")).item()
    assert wall == dt.datetime(2024, 3, 5, 23, 59)
    times = pl.DataFrame({"t": [stamp.time()]})
    assert times.select(cell_value(pl.col("t"), pl.Time(), "HH:mm:ss")).item() == dt.time(23, 59, 59)
    durations = pl.DataFrame({"d": [dt.timedelta(minutes=-61, seconds=-30), dt.timedelta(seconds=59.9)]})
    cut = durations.select(cell_value(pl.col("d"), pl.Duration("us"), "h:mm"))["d"].to_list()
    assert cut == [dt.timedelta(minutes=-61), dt.timedelta(0)]  # toward zero, as the report shows them


def test_cell_values_of_other_types_are_unchanged() -> None:
    frame = pl.DataFrame({"b": [True, None], "s": ["x", "y"]})
    assert frame.select(cell_value(pl.col("b"), pl.Boolean(), None))["b"].to_list() == [True, None]
    assert frame.select(cell_value(pl.col("s"), pl.String(), "upper"))["s"].to_list() == ["x", "y"]


_DTYPES = [F64, pl.Int32(), pl.Decimal(10, 3), pl.Date(), pl.Datetime("ms", "UTC"), pl.Time(), pl.Duration("ms")]
_AFFIX_TOKENS = ["", "¤", "¤¤", "¤¤¤", "%", "‰", "-", "+", " ", "'x'", "''", '"', "\\", "[", "'[Red]'", ";"]
_NUMBER_TOKENS = ["0", "#", "#,##0", "0,000", "#,##,##0", "000", "0.0", "0.##", "#.#", ".00", "0E0", "@@"]
_DATE_TOKENS = "yyyy yy y yyyyy MM M MMM MMMM MMMMM LLL dd d D EEE EEEE EEEEE e c HH H hh h K k mm m ss s S SSS a"
_DATE_TOKENS += " Q G zzzz z xxx X VV ' '' 'lit' \" \\ . , : / -"
_PATTERNS = st.one_of(
    st.builds(
        lambda *parts: "".join(parts),
        st.sampled_from(_AFFIX_TOKENS),
        st.sampled_from(_NUMBER_TOKENS),
        st.sampled_from(_AFFIX_TOKENS),
        st.sampled_from(["", ";", ";(0)", ";-#", ";'minus '0%"]),
    ),
    st.lists(st.sampled_from([*_DATE_TOKENS.split(), " "]), max_size=7).map("".join),
    st.sampled_from(["integer", "decimal", "percent", "currency", "accounting", "date:full", "datetime:long"]),
    st.text(max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(
    pattern=_PATTERNS,
    dtype=st.sampled_from(_DTYPES),
    locale=st.sampled_from(["en_US", "de_DE", "fr_FR", "ja_JP", "hi_IN", "sv_SE"]),
)
def test_any_accepted_pattern_translates_or_says_why_not(pattern: str, dtype: pl.DataType, locale: str) -> None:
    """Generated patterns: whatever the report accepts gives a well-formed code or None, never a crash."""
    try:
        check_pattern(pattern, dtype)
    except FormatError:
        with pytest.raises(FormatError):
            translate_format(pattern, dtype, locale=locale)
        return
    result = translate_format(pattern, dtype, locale=locale)
    if result.code is None:
        assert result.note
        return
    assert len(result.code) <= 255
    sections = excel_sections(result.code)  # every quote closed
    assert 1 <= len(sections) <= 3
    codes = {text for section in sections for literal, text in section if not literal}
    assert codes <= set("[]$-0123456789ABCDEF#,.%ymdhsAMP/")  # Excel codes; all else is quoted
