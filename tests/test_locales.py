"""Locale-aware output as users read it: the PDF text of a report in each supported locale
equals Babel's own formatting of the same values."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from decimal import Decimal

import polars as pl
import pytest
from babel import dates as babel_dates
from babel import numbers as babel_numbers

import polarreports as pr

pytestmark = pytest.mark.typst

LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "ja_JP", "hi_IN"]
DATA = pl.DataFrame(
    {
        "amount": [Decimal("1234567.891"), Decimal("-0.5"), Decimal("98765.4321")],
        "share": [0.1234, 0.5, 0.0071],
        "day": [dt.date(2025, 3, 9), dt.date(2025, 11, 30), dt.date(2024, 2, 29)],
    },
    schema_overrides={"amount": pl.Decimal(14, 4)},
)


def report(locale: str) -> pr.Report:
    def row(label: str, element: pr.Element) -> pr.Band:
        return pr.Band(elements=[pr.Label(text=label, width="20%"), element])

    return pr.Report(
        name="locales",
        locale=locale,
        currency="EUR",
        variables=[pr.Variable(name="total", calculation="sum", expression="amount")],
        bands=pr.Bands(
            detail=pr.Band(
                elements=[
                    pr.Label(text="N", width="4%"),
                    pr.Field(column="amount", format="#,##0.00", width="20%", align="left"),
                    pr.Label(text="C", width="4%"),
                    pr.Field(column="amount", format="currency", width="22%", align="left"),
                    pr.Label(text="P", width="4%"),
                    pr.Field(column="share", format="0.0%", width="10%", align="left"),
                    pr.Label(text="D", width="4%"),
                    pr.Field(column="day", format="d MMMM yyyy", width="32%", align="left"),
                ]
            ),
            summary=row("Total", pr.Aggregate(variable="total", format="#,##0.00", align="left")),
        ),
    )


def pdftotext_lines(pdf: bytes) -> list[str]:
    """The text lines poppler reads (pypdf garbles shaped Devanagari: it maps conjuncts to
    control characters, where pdftotext gives the letters)."""
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return out.stdout.decode().splitlines()


def _same_spaces(text: str) -> str:
    """Spaces as a PDF reader gives them: Babel's group separators (narrow no-break spaces in
    fr_FR) are spaces, and a reader puts a space where the font changes (Inter to a CJK font)."""
    text = " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())
    return re.sub(r"\s*([\u3000-\u9fff])\s*", r"\1", text)


@pytest.mark.parametrize("locale", LOCALES)
def test_report_output_matches_babel(locale: str) -> None:
    lines = [_same_spaces(line) for line in pdftotext_lines(report(locale).render(DATA).pdf) if line.strip()]
    expected = []
    for amount, share, day in DATA.iter_rows():
        number = babel_numbers.format_decimal(amount, format="#,##0.00", locale=locale, decimal_quantization=True)
        currency = babel_numbers.format_currency(amount, "EUR", locale=locale)
        percent = babel_numbers.format_percent(share, format="0.0%", locale=locale)
        date = babel_dates.format_date(day, format="d MMMM yyyy", locale=locale)
        expected.append(_same_spaces(f"N {number} C {currency} P {percent} D {date}"))
    total = babel_numbers.format_decimal(DATA["amount"].sum(), format="#,##0.00", locale=locale)
    expected.append(_same_spaces(f"Total {total}"))
    assert lines == expected
