"""Data reaches Typst as data: no value can change the document, every value shows literally."""

from __future__ import annotations

import unicodedata

import polars as pl
import pytest
from fontTools.ttLib import TTFont
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polarreports as pr
from polarreports.compute.markup import markdown_tree
from polarreports.typeset.compile import FONTS_DIR
from tests.conftest import pdf_lines
from tests.test_markup import shown_text

pytestmark = pytest.mark.typst

REPORT = pr.Report(
    name="safety",
    bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="text", width="100%")])),
)
HOSTILE = [
    '#import "x"',
    "]",
    "$x^2$",
    "\\",
    "<b>bold</b>",
    "@ref",
    '#panic("boom")',
    '"] #read("/etc/passwd") #["',
    "*strong* _emph_ `raw`",
    "= Heading",
    "// comment",
    "#{while true {}}",
    "😀 emoji 👍",
    "שלום עולם",  # right-to-left
    "مرحبا",
    "日本語とカタカナ",
    "한국어",
]


def rendered(values: list[str]) -> list[str]:
    return pdf_lines(REPORT.render(pl.DataFrame({"text": values})).pdf)


def test_hostile_strings_render_literally() -> None:
    lines = rendered(HOSTILE)
    for value in HOSTILE:
        if value in {"שלום עולם", "مرحبا"}:
            continue  # the PDF stores right-to-left runs in visual order; checked below
        assert value in lines
    text = "\n".join(lines)
    assert "עולם" in text or "םלוע" in text
    assert "passwd" in text  # shown as text, never read


def test_a_10000_character_value_renders() -> None:
    value = "long " * 2000
    text = "".join(rendered([value.strip()])).replace(" ", "")
    assert text.count("long") == 2000


def covered_characters() -> list[str]:
    """Letters, digits, punctuation and symbols that a shipped font has a glyph for.

    Right-to-left scripts are left out: a PDF stores them in visual order, so extracted text
    differs from the logical order (they are checked above). Characters with no glyph in any
    shipped font print as a missing glyph, which no text extraction can give back.
    """
    characters: set[int] = set()
    for path in FONTS_DIR.glob("*.[ot]tf"):
        if "Emoji" not in path.name:
            with TTFont(path, lazy=True) as font:
                characters.update(font.getBestCmap())
    keep = []
    for code in sorted(characters):
        char = chr(code)
        if unicodedata.category(char)[0] in "LNPS" and unicodedata.bidirectional(char) in {
            "L",
            "EN",
            "ES",
            "ET",
            "ON",
            "CS",
        }:
            keep.append(char)
    return keep


printable = st.sampled_from(covered_characters())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.text(alphabet=printable | st.just(" "), min_size=1, max_size=40).map(str.strip).filter(bool),
        min_size=1,
        max_size=5,
    )
)
def test_arbitrary_strings_render_literally_and_never_break_compilation(values: list[str]) -> None:
    text = "\n".join(rendered(values))
    # pypdf puts a stray control character where the font changes mid-word (pdftotext does not)
    squashed = "".join(char for char in "".join(text.split()) if char.isprintable())
    for value in values:
        assert "".join(value.split()) in squashed


def test_hostile_strings_with_markup_on_show_as_text() -> None:
    report = pr.Report(
        name="safety",
        bands={"detail": {"elements": [{"type": "field", "column": "text", "width": "100%", "markup": "markdown"}]}},
    )
    values = [*HOSTILE, '**#panic("b")** [#x](https://e.org/"]#panic()) *$x$*', "- #import\n- ]"]
    text = " ".join(pdf_lines(report.render(pl.DataFrame({"text": values})).pdf))
    squashed = "".join(text.replace("•", "").split())  # list bullets are Typst's
    for value in values:
        if value in {"שלום עולם", "مرحبا"}:
            continue  # right-to-left: stored in visual order (see test_safety)
        expected = "".join(shown_text(markdown_tree(value)).split())
        assert expected in squashed, value
    assert "passwd" in text
