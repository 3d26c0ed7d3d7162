"""No text silently lost: every character of a value, a label or a group key reaches the page,
in order and inside the page; what is cut on purpose is reported (issue 12, item 5)."""

from __future__ import annotations

import html
import io
import re
import subprocess
import tempfile
from pathlib import Path

import polars as pl
import pytest
from pypdf import PdfReader

import polarreports as pr
from tests.conftest import pdf_lines

pytestmark = pytest.mark.typst  # every test reads back what Typst set

_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">')
_WORD = re.compile(r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">(.*?)</word>')
ZWSP = "\u200b"


def page_words(pdf: bytes) -> list[tuple[str, float, float, float, float, float, float]]:
    """Every word of the PDF (pdftotext -bbox, in reading order) with its box and its page's size."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, check=True, text=True)
    found = []
    for page in out.stdout.split("<page ")[1:]:
        size = _PAGE.match("<page " + page)
        assert size is not None
        width, height = float(size[1]), float(size[2])
        found += [
            (html.unescape(w).replace(ZWSP, ""), float(a), float(b), float(c), float(d), width, height)
            for a, b, c, d, w in _WORD.findall(page)
        ]
    return found


def assert_whole(pdf: bytes, value: str) -> None:
    """Each character of ``value`` (but spaces) is in the PDF's text, in order, and no word
    lies outside its page."""
    words = page_words(pdf)
    outside = [w for w in words if w[1] < 0 or w[2] < 0 or w[3] > w[5] + 0.5 or w[4] > w[6] + 0.5]
    assert not outside, f"{len(outside)} words outside the page, such as {outside[0][:5]}"
    text = "".join(w[0] for w in words if w[0] != "(continued)")  # the marker atop a continuation page
    wanted = "".join(value.split())
    assert wanted in text, f"{len(wanted)} characters wanted, the PDF has {len(text)}"


def listing(*elements: pr.Element, split: str = "allow", **page: object) -> pr.Report:
    return pr.Report(
        name="loss",
        page=pr.PageSetup(**page),  # type: ignore[arg-type]
        bands=pr.Bands(detail=pr.Band(split=split, elements=list(elements))),  # type: ignore[arg-type]
    )


UNBREAKABLE = "".join(str(i) for i in range(1_500))  # 5,190 characters, no space
LINES = "\n".join(f"line{i}" for i in range(100)) + " end"
WORDS = " ".join(f"w{i}" for i in range(10_000))


@pytest.mark.parametrize("length", [300, 5_190])
def test_a_value_without_spaces_wraps_at_the_cell_edge(length: int) -> None:
    value = UNBREAKABLE[:length]
    pdf = listing(pr.Field(column="note")).render(pl.DataFrame({"note": ["a", value, "z"]})).pdf
    assert_whole(pdf, "a" + value + "z")


def test_a_long_word_in_a_narrow_cell_and_a_label_wrap() -> None:
    report = listing(
        pr.Field(column="id", format="0", width="15mm"),
        pr.Field(column="note", width="30mm"),
        pr.Label(text="Reference:" + UNBREAKABLE[:200], width="40mm"),
    )
    pdf = report.render(pl.DataFrame({"id": [1], "note": [UNBREAKABLE[:120]]})).pdf
    assert_whole(pdf, UNBREAKABLE[:120])
    assert_whole(pdf, UNBREAKABLE[:200])


def test_ordinary_words_are_left_alone() -> None:
    """Words that fit their cell get no break opportunity: the text is as it was."""
    report = listing(pr.Field(column="note", width="40mm"))
    document = report.render(pl.DataFrame({"note": ["international business machines " * 5]}))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(document.pdf)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    assert ZWSP not in text
    assert "international" in text.split()


def test_a_number_wider_than_its_cell_is_never_broken() -> None:
    """A figure is read whole: a number too wide for its cell stays on one line (right-aligned, it
    reaches into the gap on its left), where text would break."""
    report = listing(pr.Label(text="Total", width="20mm"), pr.Field(column="units", format="#,##0", width="4mm"))
    lines = pdf_lines(report.render(pl.DataFrame({"units": [40_806, 1_234_567]})).pdf)
    assert any(line.endswith("40,806") for line in lines), lines
    assert any(line.endswith("1,234,567") for line in lines), lines
    assert ZWSP.encode() not in report.render(pl.DataFrame({"units": [40_806]})).data_json


def test_many_line_breaks_split_across_pages() -> None:
    pdf = listing(pr.Field(column="note")).render(pl.DataFrame({"note": ["a", LINES, "z"]})).pdf
    assert_whole(pdf, "a" + LINES + "z")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2


def test_many_line_breaks_with_split_error_name_the_band() -> None:
    report = listing(pr.Field(column="note"), split="error")
    with pytest.raises(pr.LayoutError, match=r"bands\.detail is taller than the page") as error:
        report.render(pl.DataFrame({"note": ["a", LINES]})).pdf  # noqa: B018 (typesets)
    assert error.value.band == "bands.detail"


def test_a_long_label_in_a_detail_band_is_printed_whole() -> None:
    report = listing(pr.Field(column="id", format="0", width="10mm"), pr.Label(text=WORDS))
    pdf = report.render(pl.DataFrame({"id": [1, 2]})).pdf
    words = page_words(pdf)
    assert sum(w[0] == "w9999" for w in words) == 2  # both rows, whole
    assert_whole(pdf, WORDS + " 2 " + WORDS)


def test_a_long_label_in_the_title_is_printed_whole() -> None:
    report = pr.Report(
        name="loss",
        bands=pr.Bands(
            title=pr.Band(elements=[pr.Label(text=LINES)]), detail=pr.Band(elements=[pr.Field(column="id")])
        ),
    )
    assert_whole(report.render(pl.DataFrame({"id": [1]})).pdf, LINES)


def test_a_long_label_with_split_error_names_the_band() -> None:
    report = listing(pr.Field(column="id", format="0", width="10mm"), pr.Label(text=LINES), split="error")
    with pytest.raises(pr.LayoutError, match=r"bands\.detail is taller than the page"):
        report.render(pl.DataFrame({"id": [1]})).pdf  # noqa: B018 (typesets)


@pytest.mark.parametrize("widths", [("60%", "60%"), ("120mm", "120mm")])
def test_cells_wrapped_onto_a_second_line_stay_on_the_page(widths: tuple[str, str]) -> None:
    value = " ".join(f"v{i}" for i in range(2_000))
    report = listing(
        pr.Field(column="id", format="0", width=widths[0]), pr.Field(column="note", width=widths[1]), wide="wrap"
    )
    pdf = report.render(pl.DataFrame({"id": [1, 2], "note": ["short", value]})).pdf
    assert_whole(pdf, value)
    assert_whole(pdf, "short")


def test_a_long_group_key_gets_a_shortened_bookmark() -> None:
    key = " ".join(f"k{i}" for i in range(600))
    report = pr.Report(
        name="loss",
        outline=True,
        groups=[pr.Group(name="g", header=pr.Band(elements=[pr.Field(column="g")]))],
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="id", format="0")])),
    )
    pdf = report.render(pl.DataFrame({"g": ["A", key], "id": [1, 2]})).pdf
    titles = [item.title for item in PdfReader(io.BytesIO(pdf)).outline]  # type: ignore[union-attr]
    assert titles[0] == "A"
    assert len(titles) == 2
    assert titles[1] == key[:199] + "…"
    assert_whole(pdf, key)


# -- what is cut on purpose is reported ----------------------------------------------------

CUT_DATA = pl.DataFrame(
    {"id": [1, 2, 3], "note": ["short", "a rather long text that cannot fit into the narrow cell", "x" * 40]}
)


def cut_report(overflow: str = "wrap", height: str | None = None, policy: str = "warn") -> pr.Report:
    note = pr.Field(column="note", width="25mm", overflow=overflow)  # type: ignore[arg-type]
    return pr.Report(
        name="cut",
        overflow=policy,  # type: ignore[arg-type]
        bands=pr.Bands(detail=pr.Band(height=height, elements=[pr.Field(column="id", format="0", width="10mm"), note])),
    )


@pytest.mark.parametrize(
    ("overflow", "height", "how"),
    [
        ("clip", None, "clipped at the cell's edge (overflow: clip)"),
        ("ellipsis", None, 'cut to end in "…" (overflow: ellipsis)'),
        ("wrap", "12pt", "taller than its fixed height, cut off"),
    ],
)
def test_cut_text_is_reported(overflow: str, height: str | None, how: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="polarreports"):
        document = cut_report(overflow, height).render(CUT_DATA)
    expected = f"bands.detail.elements[1] (field 'note'): text {how} in 2 rows"
    assert document.stats["warnings"] == [expected]
    assert expected in caplog.text


def test_text_that_fits_is_not_reported() -> None:
    assert cut_report("clip").render(CUT_DATA.head(1)).stats["warnings"] == []
    tall_enough = cut_report("wrap", "60pt").render(CUT_DATA)
    assert tall_enough.stats["warnings"] == []
    assert_whole(tall_enough.pdf, CUT_DATA["note"][1])
    assert_whole(tall_enough.pdf, CUT_DATA["note"][2])
    assert cut_report().render(CUT_DATA).stats["warnings"] == []


def test_a_clipped_label_and_a_placed_text_are_reported() -> None:
    report = pr.Report(
        name="cut",
        bands=pr.Bands(
            title=pr.Band(
                elements=[pr.Label(text="A title much too long for its cell", width="20mm", overflow="clip")]
            ),
            detail=pr.Band(elements=[pr.Field(column="note", x="0mm", y="0mm", width="20mm", height="8pt")]),
        ),
    )
    warnings = report.render(CUT_DATA).stats["warnings"]
    assert len(warnings) == 2
    assert warnings[0].startswith("bands.title.elements[0]")
    assert warnings[0].endswith("clipped at the cell's edge (overflow: clip) in 1 row")
    assert warnings[1].endswith("taller than its fixed height, cut off in 2 rows")


def test_overflow_error_makes_a_cut_a_layout_error() -> None:
    with pytest.raises(pr.LayoutError, match=r"^bands\.detail\.elements\[1\] .*clip.* in 2 rows.*overflow: error") as e:
        cut_report("clip", policy="error").render(CUT_DATA)
    assert e.value.band == "bands.detail"
    assert cut_report("wrap", policy="error").render(CUT_DATA).stats["warnings"] == []


def test_the_narrow_characters_bound_holds_for_every_shipped_font() -> None:
    """The cheap bound that spares measuring most values assumes no narrow character is wider."""
    from polarreports.compute.metrics import font_widths, text_font
    from polarreports.compute.overflow import NARROW, NARROW_ADVANCE

    for bold in (False, True):
        for italic in (False, True):
            advance = font_widths(text_font(bold=bold, italic=italic)).advance
            assert max(advance[char] for char in NARROW) <= NARROW_ADVANCE


def test_a_long_value_in_a_report_with_page_totals() -> None:
    """The tall variant reports its page, and its row counts in the page's totals (on main: a
    raw Polars ShapeError, then a page total without the row)."""
    from tests.test_page_values import check_pages, ledger, ledger_data

    long = " ".join(f"w{i}" for i in range(600))
    data = ledger_data(120).with_columns(
        customer=pl.when(pl.col("order_id") == 50).then(pl.lit(long)).otherwise(pl.col("customer"))
    )
    document = ledger().render(data)
    assert check_pages(document.pdf, data) >= 2
    shown = {word[0] for word in page_words(document.pdf)}  # (the columns are read in another order)
    assert set(long.split()) <= shown
