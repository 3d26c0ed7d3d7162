"""Hyphenation follows the report's language (``hyphenate``, ``align: justify``).

Read back from the PDF's text (pdftotext): a word wider than its cell breaks at its
hyphenation points, with a hyphen, where the cell hyphenates, and at the cell's edge without
one where it does not; either way no letter is lost or added.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import polars as pl
import pyphen
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import polarreports as pr
from polarreports.compute.overflow import SOFT_HYPHEN, ZERO_WIDTH_SPACE, _broken_words, hyphenation_language
from polarreports.definition.elements import Field, Label

GERMAN = "Donaudampfschifffahrtsgesellschaft"
ENGLISH = "internationalization"


def report(word_locale: str, **options: Any) -> pr.Report:
    element = {"type": "field", "column": "word", "width": "14mm", **options.pop("element", {})}
    return pr.Report.model_validate(
        {"name": "h", "locale": word_locale, **options, "bands": {"detail": {"elements": [element]}}}
    )


def cell_lines(pdf: bytes) -> list[str]:
    if shutil.which("pdftotext") is None:
        pytest.skip("no pdftotext: install the Debian package poppler-utils (make system)")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return [line.replace(ZERO_WIDTH_SPACE, "").strip() for line in text.splitlines() if line.strip()]


def broken_at(lines: list[str]) -> list[int]:
    """Where the word was broken: the length of the word up to each line's end."""
    ends, at = [], 0
    for line in lines[:-1]:
        at += len(line.replace(SOFT_HYPHEN, "").removesuffix("-"))
        ends.append(at)
    return ends


def hyphen_ends(lines: list[str]) -> list[bool]:
    return [line.endswith((SOFT_HYPHEN, "-")) for line in lines[:-1]]


@pytest.mark.typst
@pytest.mark.parametrize(("locale", "word"), [("de_DE", GERMAN), ("en_US", ENGLISH)])
def test_a_long_word_in_a_narrow_cell_is_hyphenated_in_the_reports_language(locale: str, word: str) -> None:
    data = pl.DataFrame({"word": [word]})
    on = report(locale, hyphenate=True).render(data)
    lines = cell_lines(on.pdf)
    assert "".join(line.replace(SOFT_HYPHEN, "") for line in lines) == word  # nothing lost
    assert len(lines) > 1
    assert all(hyphen_ends(lines))
    points = set(pyphen.Pyphen(lang=locale).positions(word))
    assert set(broken_at(lines)) <= points  # only where the language allows
    assert f'lang: "{locale[:2]}"' in on.to_typst()
    assert "hyphenate: true" in on.to_typst()

    off = report(locale, hyphenate=False).render(data)
    lines = cell_lines(off.pdf)
    assert "".join(lines) == word
    assert len(lines) > 1
    assert not any(hyphen_ends(lines))  # broken at the cell's edge, without a hyphen


@pytest.mark.typst
def test_justified_text_hyphenates_by_default_and_other_text_does_not() -> None:
    data = pl.DataFrame({"word": [GERMAN]})
    justified = cell_lines(report("de_DE", element={"align": "justify"}).render(data).pdf)
    assert all(hyphen_ends(justified))
    assert len(justified) > 1
    plain = report("de_DE").render(data)  # the default (auto): as every report rendered before
    assert "hyphenate: auto" in plain.to_typst()
    assert not any(hyphen_ends(cell_lines(plain.pdf)))


def test_which_cells_hyphenate() -> None:
    justified = Label(text="x", align="justify")
    assert hyphenation_language(justified, hyphenate="auto", locale="de_DE") == "de_DE"
    assert hyphenation_language(justified, hyphenate=False, locale="de_DE") is None
    assert hyphenation_language(Field(column="x"), hyphenate=True, locale="fr_FR") == "fr"
    assert hyphenation_language(Field(column="x", overflow="clip"), hyphenate=True, locale="fr_FR") is None
    assert hyphenation_language(Field(column="x"), hyphenate=True, locale="he_IL") is None  # no dictionary


def test_a_piece_still_too_wide_breaks_after_any_character() -> None:
    broken = _broken_words(GERMAN, width=20.0, size=10.0, bold=False, italic=False, language="de_DE")
    pieces = broken.split(SOFT_HYPHEN)
    assert "".join(pieces).replace(ZERO_WIDTH_SPACE, "") == GERMAN
    assert pieces[0] == "Do"  # fits with its hyphen
    assert ZERO_WIDTH_SPACE in pieces[2]  # "dampf" does not fit 20pt
    hostile = "#panic(" + "x" * 60 + ')"'
    assert (
        _broken_words(hostile, width=20.0, size=10.0, bold=False, italic=False, language="de_DE")
        .replace(SOFT_HYPHEN, "")
        .replace(ZERO_WIDTH_SPACE, "")
        == hostile
    )


def test_codes_numbers_and_urls_never_get_a_hyphen() -> None:
    for value in ("https://example.com/Donaudampfschifffahrt", "ORD2025000123456789AB", "12345678901234567890"):
        broken = _broken_words(value, width=30.0, size=10.0, bold=False, italic=False, language="de_DE")
        assert SOFT_HYPHEN not in broken
        assert broken.replace(ZERO_WIDTH_SPACE, "") == value
    quoted = _broken_words(
        "„Rechnungsprüfungsgesellschaft“,", width=30.0, size=10.0, bold=False, italic=False, language="de_DE"
    )
    assert SOFT_HYPHEN in quoted


def test_the_html_page_hyphenates_like_the_pdf(tmp_path: Any) -> None:
    data = pl.DataFrame({"word": [GERMAN]})
    report("de_DE", element={"align": "justify"}).render(data).save(tmp_path / "j.html")
    page = (tmp_path / "j.html").read_text(encoding="utf-8")
    assert "text-align:justify;hyphens:auto" in page
    assert f"Do{SOFT_HYPHEN}nau" in page
    report("de_DE", hyphenate=True).render(data).save(tmp_path / "h.html")
    assert ".page{hyphens:auto}" in (tmp_path / "h.html").read_text(encoding="utf-8")


@given(st.text(max_size=80), st.sampled_from(["de_DE", "en_US", "fr", None]))
@settings(deadline=None)  # (the first use of a dictionary loads it)
def test_breaking_words_never_changes_the_text(text: str, language: str | None) -> None:
    """Whatever the text, only invisible break points are added (soft hyphens, zero-width spaces)."""
    broken = _broken_words(text, width=25.0, size=10.0, bold=False, italic=False, language=language)
    assert broken.replace(SOFT_HYPHEN, "").replace(ZERO_WIDTH_SPACE, "") == text.replace(SOFT_HYPHEN, "").replace(
        ZERO_WIDTH_SPACE, ""
    )
