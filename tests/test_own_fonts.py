"""Fonts of a report's own (``font_dirs``): read only from their folders, used by styles,
embedded in the PDF, and the characters they lack reported by name."""

from __future__ import annotations

import functools
import io
import logging
import os
from pathlib import Path

import polars as pl
import pytest
from fontTools import subset
from fontTools.ttLib import TTFont
from pypdf import PdfReader

import polarreports as pr
from polarreports.resources import FONTS_DIR
from tests.conftest import pdf_lines

FAMILY = "Polar Test Sans"


def make_font(path: Path, family: str = FAMILY) -> Path:
    """A font of its own: DejaVu Sans cut down to ASCII, renamed ``family``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_font_bytes(family))
    return path


@functools.cache
def _font_bytes(family: str) -> bytes:
    options = subset.Options()
    options.name_IDs = ["*"]
    font = TTFont(io.BytesIO((FONTS_DIR / "DejaVuSans.ttf").read_bytes()))
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(map(chr, range(32, 127))))
    subsetter.subset(font)
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 4, 16):
            names.setName(family, record.nameID, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 6:
            names.setName(family.replace(" ", "") + "-Regular", 6, record.platformID, record.platEncID, record.langID)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _report(**options: object) -> pr.Report:
    return pr.Report(
        name="fonts",
        styles={"brand": {"font": FAMILY, "size": 11}},
        bands={"detail": {"elements": [{"type": "field", "column": "city", "style": "brand"}]}},
        **options,
    )


def _font_names(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


@pytest.mark.typst
def test_a_style_uses_a_font_of_the_reports_own(tmp_path: Path) -> None:
    make_font(tmp_path / "fonts" / "polar.ttf")
    definition = tmp_path / "report.yaml"
    definition.write_text(_report(font_dirs=["fonts"]).to_yaml())
    doc = pr.load(definition).render(pl.DataFrame({"city": ["Oslo", "Lima"]}))
    pdf = doc.pdf
    assert any("PolarTestSans" in name for name in _font_names(pdf))
    assert pdf_lines(pdf) == ["Oslo", "Lima"]
    assert doc.stats.warnings == []


@pytest.mark.typst
def test_characters_the_font_lacks_are_named(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    make_font(tmp_path / "polar.ttf")
    report = _report(font_dirs=[str(tmp_path)])
    with caplog.at_level(logging.WARNING, logger="polarreports"):
        doc = report.render(pl.DataFrame({"city": ["Zürich", "Kraków", "\U0001d11e clef"]}))
    lacking, nowhere = doc.stats.warnings
    assert lacking.startswith(f"styles.brand.font: the font {FAMILY!r} has no glyph for ")
    assert "'ó' (U+00F3 LATIN SMALL LETTER O WITH ACUTE)" in lacking
    assert "'ü' (U+00FC LATIN SMALL LETTER U WITH DIAERESIS)" in lacking
    assert nowhere.startswith("no font has a glyph for '\U0001d11e' (U+1D11E MUSICAL SYMBOL G CLEF)")
    assert sum("no glyph for" in record.getMessage() for record in caplog.records) == 1
    assert "Zürich" in pdf_lines(doc.pdf)  # drawn by a shipped font


def test_an_unknown_family_names_the_fonts_found(tmp_path: Path) -> None:
    make_font(tmp_path / "polar.ttf")
    report = pr.Report(
        name="fonts",
        font_dirs=[str(tmp_path)],
        styles={"brand": {"font": "Polar Test San"}},
        bands={"detail": {"elements": [{"type": "field", "column": "city", "style": "brand"}]}},
    )
    with pytest.raises(pr.PlanError) as caught:
        report.render(pl.DataFrame({"city": ["x"]}))
    assert f"unknown font 'Polar Test San'; did you mean {FAMILY!r}?" in str(caught.value)
    assert f"in font_dirs: {FAMILY}" in str(caught.value)


@pytest.mark.parametrize("case", ["missing", "not_a_font", "symlink_out", "fifo", "empty"])
def test_font_folders_are_confined(tmp_path: Path, case: str) -> None:
    folder = tmp_path / "fonts"
    folder.mkdir()
    secret = tmp_path / "secret.ttf"
    make_font(secret)
    expected = {
        "missing": "is not a folder",
        "not_a_font": "is not a TrueType or OpenType font",
        "symlink_out": "is outside the folders fonts may be read from",
        "fifo": "is a FIFO, not a file",
        "empty": "holds no font file",
    }[case]
    dirs = [str(folder)]
    if case == "missing":
        dirs = [str(tmp_path / "nowhere")]
    elif case == "not_a_font":
        (folder / "fake.ttf").write_text("<svg/>")
    elif case == "symlink_out":
        (folder / "link.ttf").symlink_to(secret)
    elif case == "fifo":
        os.mkfifo(folder / "pipe.otf")
    with pytest.raises(pr.PlanError, match=expected) as caught:
        _report(font_dirs=dirs).render(pl.DataFrame({"city": ["x"]}))
    assert "font_dirs[0]" in str(caught.value)


@pytest.mark.typst
def test_typst_warnings_are_logged_by_name(caplog: pytest.LogCaptureFixture) -> None:
    from polarreports.emit.typst_source import TypstSource
    from polarreports.typeset.compile import CompileJob, default_compiler

    source = TypstSource('#text(font: "No Such Family", fallback: true)[x]\n')
    with caplog.at_level(logging.WARNING, logger="polarreports"):
        done = default_compiler().compile(CompileJob(source, b"{}"))
    assert done.warnings == ("unknown font family: no such family",)
    assert "Typst: unknown font family: no such family" in caplog.text
