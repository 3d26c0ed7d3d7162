"""Translated labels: one definition, several languages, from gettext catalogs read with Babel.

Read back as people see them (the PDF's text through pdftotext), with the missing translations
reported, catalogs confined to their folders, hostile translations kept as text, and the text
direction set from the locale."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from hypothesis import given, settings
from hypothesis import strategies as st

import polarreports as pr
from polarreports.emit.escape import typst_string

DEFINITION = """
name: sales_letter
title: Sales by region
locale: en_US
translations:
  dirs: [locale]
groups:
  - name: region
    footer:
      elements:
        - {type: label, text: Subtotal, width: 40%}
        - {type: aggregate, variable: region_total, format: "#,##0.00", align: right}
variables:
  - {name: region_total, calculation: sum, expression: amount, reset: region}
  - {name: total, calculation: sum, expression: amount}
bands:
  title:
    elements:
      - {type: label, text: Sales by region, size: 14}
  column_header:
    elements:
      - {type: label, text: Region, width: 40%}
      - {type: label, text: Amount, align: right}
  detail:
    elements:
      - {type: field, column: region, width: 40%, null_text: unknown}
      - {type: field, column: amount, format: "#,##0.00"}
  summary:
    elements:
      - {type: label, text: Grand total, width: 40%}
      - {type: aggregate, variable: total, format: "#,##0.00", align: right}
  page_footer:
    elements:
      - {type: page_number}
"""

GERMAN = {
    "Sales by region": "Umsatz nach Region",
    "Region": "Gebiet",
    "Amount": "Betrag",
    "Subtotal": "Zwischensumme",
    "Grand total": "Gesamtsumme",
    "unknown": "unbekannt",
    "Page {page} of {pages}": "Seite {page} von {pages}",
}
FRENCH = {
    "Sales by region": "Ventes par région",
    "Region": "Région",
    "Amount": "Montant",
    "Subtotal": "Sous-total",
    "Grand total": "Total général",
    "unknown": "inconnue",
    "Page {page} of {pages}": "Page {page} sur {pages}",
}
DATA = pl.DataFrame(
    {
        "region": ["North", "North", "South", None],
        "amount": [Decimal("1234.50"), Decimal("10.25"), Decimal("2000.00"), Decimal("5.00")],
    },
    schema_overrides={"amount": pl.Decimal(12, 2)},
)


def catalog(language: str, messages: dict[str, str], fuzzy: dict[str, str] | None = None) -> Catalog:
    found = Catalog(locale=language, domain="messages")
    for msgid, text in messages.items():
        found.add(msgid, text)
    for msgid, text in (fuzzy or {}).items():
        found.add(msgid, text, flags=["fuzzy"])
    return found


def write_catalog(folder: Path, language: str, messages: dict[str, str], *, suffix: str = ".po", **kw: dict) -> Path:
    path = folder / "locale" / language / "LC_MESSAGES" / f"messages{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        (write_mo if suffix == ".mo" else write_po)(file, catalog(language, messages, **kw))
    return path


@pytest.fixture
def letter(tmp_path: Path) -> Path:
    """The definition file with a German .po catalog and a French .mo catalog next to it."""
    write_catalog(tmp_path, "de", GERMAN)
    write_catalog(tmp_path, "fr", FRENCH, suffix=".mo")
    path = tmp_path / "letter.yaml"
    path.write_text(DEFINITION, encoding="utf-8")
    return path


def pdftotext(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("no pdftotext: install the Debian package poppler-utils (make system)")
    command = ["pdftotext", "-layout", "-", "-"]
    return subprocess.run(command, input=pdf, capture_output=True, check=True).stdout.decode()


def norm(text: str) -> str:
    """``text`` with each run of white space (U+202F, the French group separator, too) one space."""
    return " ".join(text.split())


def region_totals() -> dict[str | None, Decimal]:
    sums = DATA.group_by("region").agg(pl.col("amount").sum())
    return dict(zip(sums["region"].to_list(), sums["amount"].to_list(), strict=True))


@pytest.mark.typst
def test_one_definition_renders_in_english_german_and_french(letter: Path) -> None:
    report = pr.load(letter)
    expected = {
        "en_US": ({text: text for text in GERMAN}, "3,249.75", "1,244.75"),
        "de_DE": (GERMAN, "3.249,75", "1.244,75"),
        "fr_FR": (FRENCH, "3\u202f249,75", "1\u202f244,75"),
    }
    assert sum(DATA["amount"]) == Decimal("3249.75")  # the figures below, computed by Polars
    assert region_totals()["North"] == Decimal("1244.75")
    for locale, (texts, total, north) in expected.items():
        doc = report.render(DATA, locale=locale)
        assert doc.stats["warnings"] == [], locale
        text = pdftotext(doc.pdf)
        lines = [norm(line) for line in text.splitlines() if line.strip()]
        assert lines[0] == texts["Sales by region"], locale
        assert f"{texts['Region']} {texts['Amount']}" in lines, locale
        assert norm(f"{texts['Subtotal']} {north}") in lines, locale
        assert norm(f"{texts['Grand total']} {total}") in lines, locale
        assert any(line.startswith(texts["unknown"]) for line in lines), locale
        assert texts["Page {page} of {pages}"].format(page=1, pages=1) in lines, locale
        language = locale.split("_")[0]
        assert f'lang: "{language}", dir: ltr' in doc.to_typst()
        other = {"de_DE": "Gesamtsumme", "fr_FR": "Total général", "en_US": "Grand total"}
        assert all(word not in text for loc, word in other.items() if loc != locale)


def test_missing_translations_fall_back_and_are_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    german = {k: v for k, v in GERMAN.items() if k not in {"Grand total", "Amount"}}
    write_catalog(tmp_path, "de", german, fuzzy={"Amount": "Betrag (unsicher)"})
    write_catalog(tmp_path, "en", {"Grand total": "Total of all regions"})
    definition = DEFINITION.replace("dirs: [locale]", "dirs: [locale]\n  fallback: en")
    (tmp_path / "r.yaml").write_text(definition, encoding="utf-8")
    with caplog.at_level("WARNING", logger="polarreports"):
        doc = pr.load(tmp_path / "r.yaml").render(DATA, locale="de_AT")  # de_AT: the de catalog
    source = doc.to_typst()
    assert typst_string("Gesamtsumme") not in source
    assert typst_string("Total of all regions") in source  # from the fallback language
    assert typst_string("Amount") in source  # a fuzzy entry is no translation: as written
    assert typst_string("Zwischensumme") in source
    assert doc.stats["warnings"] == [
        "translations: no 'de_AT' translation of 'Amount'; shown as written",
        "translations: no 'de_AT' translation of 'Grand total'; shown in 'en'",
    ]
    assert "no 'de_AT' translation of 'Amount'" in caplog.text


def test_a_locale_without_catalog_warns_once_and_the_source_language_never(letter: Path) -> None:
    report = pr.load(letter)
    doc = report.render(DATA, locale="es_ES")
    assert doc.stats["warnings"] == [
        f"translations: no 'es_ES' catalog named 'messages' in {letter.parent / 'locale'}; "
        "the texts are shown as written"
    ]
    assert typst_string("Grand total") in doc.to_typst()
    assert report.render(DATA, locale="en_GB").stats["warnings"] == []


def test_missing_error_is_a_plan_error_naming_the_texts(letter: Path) -> None:
    write_catalog(letter.parent, "de", {"Region": "Gebiet"})
    report = pr.load(letter)
    strict = report.model_copy(
        update={"translations": report.translations.model_copy(update={"missing": "error"})}  # type: ignore[union-attr]
    )
    with pytest.raises(pr.PlanError) as caught:
        strict.render(DATA, locale="de_DE")
    assert "no 'de_DE' translation of 'Grand total'" in str(caught.value)
    assert "Hint: add them to the catalog" in str(caught.value)


def test_more_than_ten_missing_are_counted(tmp_path: Path) -> None:
    write_catalog(tmp_path, "de", {"x": "y"})
    labels = [pr.Label(text=f"Text {i}") for i in range(13)]
    report = pr.Report(
        name="many",
        translations=pr.Translations(dirs=[str(tmp_path / "locale")]),
        bands=pr.Bands(title=pr.Band(elements=labels), detail=pr.Band(elements=[pr.Field(column="region")])),
    )
    warnings = report.render(DATA, locale="de_DE").stats["warnings"]
    assert len(warnings) == 11
    assert warnings[-1] == "translations: and 3 more texts without a 'de_DE' translation"


def test_a_broken_catalog_is_a_plan_error(letter: Path) -> None:
    path = letter.parent / "locale" / "fr" / "LC_MESSAGES" / "messages.mo"
    path.write_bytes(b"\xde\x12\x04\x95" + b"\xff" * 40)
    with pytest.raises(pr.PlanError, match=r"the catalog .*messages\.mo' cannot be read"):
        pr.load(letter).render(DATA, locale="fr_FR")


def test_catalogs_are_confined_to_their_folders(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write_catalog(outside, "de", {"Region": "SECRET"})
    home = tmp_path / "report"
    (home / "locale").mkdir(parents=True)
    (home / "locale" / "de").symlink_to(outside / "locale" / "de")  # a language folder leading out
    (home / "r.yaml").write_text(DEFINITION, encoding="utf-8")
    opened: list[str] = []

    def audit(event: str, args: tuple) -> None:
        if event == "open" and str(args[0]).startswith(str(outside)):
            opened.append(str(args[0]))

    sys.addaudithook(audit)
    outside_message = r"translations.dirs\[0\]: the catalog .* is outside the folders catalogs may be read from"
    with pytest.raises(pr.AccessError, match=outside_message):
        pr.load(home / "r.yaml").render(DATA, locale="de_DE")
    assert opened == []


def test_a_fifo_catalog_is_refused_without_blocking(letter: Path) -> None:
    path = letter.parent / "locale" / "fr" / "LC_MESSAGES" / "messages.mo"
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(pr.AccessError, match="is a FIFO, not a file"):
        pr.load(letter).render(DATA, locale="fr_FR")


def test_a_hostile_locale_reads_no_catalog(letter: Path) -> None:
    with pytest.raises(pr.PlanError, match="locale: unknown locale"):
        pr.load(letter).render(DATA, locale="../../../etc/passwd")


HOSTILE = '"); #panic("owned") // ] $x$ <b> \\ #emph[x]'


@pytest.mark.typst
def test_hostile_translations_stay_text(letter: Path) -> None:
    write_catalog(letter.parent, "de", {**GERMAN, "Grand total": HOSTILE, "Region": "#{1+1}"})
    doc = pr.load(letter).render(DATA, locale="de_DE")
    assert typst_string(HOSTILE) in doc.to_typst()
    lines = [" ".join(line.split()) for line in pdftotext(doc.pdf).splitlines()]
    assert " ".join(f"{HOSTILE} 3.249,75".split()) in lines
    assert "#{1+1} Betrag" in lines


@pytest.mark.typst
def test_right_to_left_languages_set_the_text_direction(tmp_path: Path) -> None:
    write_catalog(tmp_path, "he", {"Grand total": "סך הכול", "Region": "אזור"})
    (tmp_path / "r.yaml").write_text(DEFINITION, encoding="utf-8")
    report = pr.load(tmp_path / "r.yaml")
    doc = report.render(DATA, locale="he_IL")
    assert 'lang: "he", dir: rtl' in doc.to_typst()
    html = io.BytesIO()
    doc.save(tmp_path / "r.html")
    html.write((tmp_path / "r.html").read_bytes())
    assert b'<html lang="he-IL" dir="rtl">' in html.getvalue()
    text = pdftotext(doc.pdf)
    assert "סך הכול" in text  # DejaVu Sans has the Hebrew letters: no missing glyph
    assert "אזור" in text


def test_messages_command_writes_a_template(letter: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from polarreports.cli import app

    pot = tmp_path / "messages.pot"
    result = CliRunner().invoke(app, ["messages", str(letter), "-o", str(pot)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote {pot}: 7 messages"
    template = read_po(io.BytesIO(pot.read_bytes()))
    assert sorted(message.id for message in template if message.id) == sorted(GERMAN)
    assert ("bands.summary.elements[0]", None) in template["Grand total"].locations


def test_keys_as_texts_are_translated_in_every_language_and_reported_when_missing(tmp_path: Path) -> None:
    write_catalog(tmp_path, "en", {"summary.total": "Grand total", "header.region": "Region"})
    write_catalog(tmp_path, "de", {"summary.total": "Gesamtsumme"})
    report = pr.Report(
        name="keys",
        translations=pr.Translations(dirs=[str(tmp_path / "locale")], source_language=None, fallback="en"),
        bands=pr.Bands(
            column_header=pr.Band(elements=[pr.Label(text="header.region"), pr.Label(text="header.unused")]),
            summary=pr.Band(elements=[pr.Label(text="summary.total")]),
        ),
    )
    english = report.render(DATA, locale="en_US")
    assert typst_string("Grand total") in english.to_typst()
    assert english.stats["warnings"] == ["translations: no 'en_US' translation of 'header.unused'; shown as written"]
    german = report.render(DATA, locale="de_DE").to_typst()
    assert typst_string("Gesamtsumme") in german
    assert typst_string("Region") in german  # from the fallback language's catalog


def test_the_command_line_renders_in_another_locale(letter: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from polarreports.cli import app

    data, page = tmp_path / "data.parquet", tmp_path / "letter.html"
    DATA.write_parquet(data)
    arguments = ["render", str(letter), "--data", str(data), "-o", str(page), "--locale", "de_DE", "--no-progress"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert '<html lang="de-DE" dir="ltr">' in html
    assert "Gesamtsumme" in html
    assert "3.249,75" in html


def test_every_text_of_the_definition_is_translated_and_nothing_else() -> None:
    from polarreports.plan.translations import rewrite_texts

    report = pr.Report(
        name="all",
        title="Title",
        table_of_contents=True,
        groups=[
            pr.Group(name="region", reprint_header=True, header=pr.Band(elements=[pr.Field(column="region")])),
            pr.Group(name="city"),  # no reprinted header: its "(continued)" is never shown
        ],
        bands=pr.Bands(
            detail=pr.Band(
                elements=[
                    pr.Field(column="region", null_text="none"),
                    pr.Expression(expr="amount * 2", null_text="n/a"),
                    pr.Label(text="label", link="'https://example.com'"),
                ]
            ),
            summary=pr.Band(
                elements=[
                    pr.Aggregate(variable="total", null_text="-"),
                    pr.Chart(spec={"mark": "bar"}, caption="caption", alt="alt"),
                    pr.PageNumber(),
                ]
            ),
        ),
    )
    seen: list[tuple[str, str]] = []

    def rewrite(text: str, where: str, context: str | None) -> str:
        seen.append((where, text))
        return text.upper()

    done = rewrite_texts(report, rewrite)
    assert seen == [
        ("title", "Title"),
        ("table_of_contents", "Contents"),
        ("bands.detail.elements[0]", "none"),
        ("bands.detail.elements[1]", "n/a"),
        ("bands.detail.elements[2]", "label"),
        ("bands.summary.elements[0]", "-"),
        ("bands.summary.elements[1]", "caption"),
        ("bands.summary.elements[1]", "alt"),
        ("bands.summary.elements[2]", "Page {page} of {pages}"),
        ("groups[0].continued_text", "(continued)"),
    ]
    assert (done.title, done.table_of_contents, done.groups[0].continued_text) == ("TITLE", "CONTENTS", "(CONTINUED)")
    assert done.bands.detail is not None
    assert done.bands.detail.elements[2] == pr.Label(text="LABEL", link="'https://example.com'")
    assert done.groups[1] == report.groups[1]
    assert report.title == "Title"  # the definition itself is left as it was


@settings(max_examples=40, deadline=None)
@given(text=st.text(min_size=1, max_size=40).filter(lambda t: t.strip() and "\x00" not in t))
def test_any_translation_reaches_typst_only_as_a_string_literal(text: str) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        write_catalog(folder, "de", {"Grand total": text})
        report = pr.Report(
            name="any",
            translations=pr.Translations(dirs=[str(folder / "locale")]),
            bands=pr.Bands(summary=pr.Band(elements=[pr.Label(text="Grand total")])),
        )
        source = report.render(DATA, locale="de_DE").to_typst()
        assert typst_string(text) in source  # hypothesis' text has no lone surrogate
    finally:
        shutil.rmtree(folder)


def test_the_locale_option_is_checked_and_never_taken_for_a_parameter(letter: Path) -> None:
    report = pr.load(letter)
    with pytest.raises(pr.RenderOptionError, match="render option locale=5 is not valid"):
        report.render(DATA, locale=5)  # type: ignore[arg-type]
    with pytest.raises(pr.RenderOptionError, match=r"unknown keyword 'locle'; did you mean 'locale'"):
        report.render(DATA, locle="de_DE")
    with_parameter = report.model_copy(update={"parameters": [pr.Parameter(name="locale", default="x")]})
    with pytest.raises(pr.RenderOptionError, match=r"give the parameter in params=\{'locale': ...\}"):
        with_parameter.render(DATA, locale="de_DE")
    doc = with_parameter.render(DATA, params={"locale": "x"}, locale="de_DE")
    assert typst_string("Gesamtsumme") in doc.to_typst()


def test_a_context_tells_two_meanings_of_one_text_apart(tmp_path: Path) -> None:
    german = catalog("de", {"Total": "Summe"})
    german.add("Total", "Gesamt", context="heading")
    german.add("Total", "Insgesamt", context="count")
    path = tmp_path / "locale" / "de" / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as file:
        write_po(file, german)
    report = pr.Report(
        name="contexts",
        translations=pr.Translations(dirs=[str(tmp_path / "locale")]),
        bands=pr.Bands(
            title=pr.Band(elements=[pr.Label(text="Total", msgctxt="heading"), pr.Label(text="Total")]),
            summary=pr.Band(
                elements=[pr.Label(text="Total", msgctxt="count"), pr.Label(text="Total", msgctxt="other")]
            ),
        ),
    )
    doc = report.render(DATA, locale="de_DE")
    source = doc.to_typst()
    assert all(typst_string(word) in source for word in ("Gesamt", "Summe", "Insgesamt", "Total"))
    assert doc.stats["warnings"] == [
        "translations: no 'de_DE' translation of 'Total' (msgctxt 'other'); shown as written"
    ]
    template = pr_messages(report)
    assert sorted((m.id, m.context or "") for m in template if m.id) == [
        ("Total", ""),
        ("Total", "count"),
        ("Total", "heading"),
        ("Total", "other"),
    ]


def pr_messages(report: pr.Report) -> Catalog:
    from polarreports.plan.translations import extract_messages

    return extract_messages(report)


@pytest.mark.typst
@pytest.mark.parametrize("locale", ["de_DE", "fr_FR"])
def test_the_gallery_letter_in_german_and_french(locale: str) -> None:
    from babel.numbers import format_currency

    from tests.conftest import ROOT
    from tests.test_visual import PPI, REFERENCES, assert_matches_reference

    data = pr.sample.sales_data(300)
    doc = pr.load(ROOT / "examples" / "sales_letter.yaml").render(data, locale=locale)
    assert doc.stats["warnings"] == []
    assert_matches_reference(doc.png(ppi=PPI)[0], REFERENCES / f"sales_letter_{locale}-page1.png")
    lines = [norm(line) for line in pdftotext(doc.pdf).splitlines() if line.strip()]
    revenue = data.group_by("region").agg(
        pl.len().alias("orders"), (pl.col("quantity") * pl.col("unit_price")).sum().alias("revenue")
    )
    for region, orders, amount in revenue.sort("region").iter_rows():
        assert norm(f"{region} {orders} {format_currency(amount, 'EUR', locale=locale)}") in lines
    total = format_currency(revenue["revenue"].sum(), "EUR", locale=locale)
    assert norm(f"{'Summe' if locale == 'de_DE' else 'Total'} {len(data)} {total}") in lines
    closing = {"de_DE": "Das Vertriebsteam", "fr_FR": "L'équipe commerciale"}[locale]
    assert closing in lines
