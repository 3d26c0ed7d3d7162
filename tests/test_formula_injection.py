"""Values that look like spreadsheet formulas never run when the output is opened: the CSV quotes
them (OWASP: a leading single quote) unless asked to write them as stored, the XLSX holds them as
text cells; read back by LibreOffice with formulas evaluated, each shows as its text."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

import polarreports as pr
from tests.libreoffice import shown_by_libreoffice as _shown_by_libreoffice

FORMULAS = ["=1+1", '=HYPERLINK("http://example.com","x")', "+1+1", "-1+1", "@SUM(1,2)", "\t=1+1", "\r=2+2"]
PLAIN = ["-1,234.50", "-5", "+3 %", "a=b", "plain"]
DATA = pl.DataFrame(
    {"name": FORMULAS + PLAIN, "amount": [-1.5, 2.0, -3.25, 4.0, 5.0, 6.0, 7.0, 8.0, -9.0, 10.0, 11.0, 12.0]}
)
REPORT = pr.Report(
    name="formulas",
    bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="name"), pr.Field(column="amount")])),
)


def test_csv_quotes_formula_like_texts_and_keeps_numbers(tmp_path: Path) -> None:
    doc = REPORT.render(DATA)
    read = pl.read_csv(doc.save(tmp_path / "r.csv")[0], schema_overrides={"amount_text": pl.String})
    read = read.filter(band="detail")
    assert read["name"].to_list() == ["'" + value for value in FORMULAS] + PLAIN
    assert read["name_text"].to_list() == ["'" + value for value in FORMULAS] + PLAIN
    assert read["amount"].dtype == pl.Float64
    assert read["amount"].to_list() == DATA["amount"].to_list()  # numbers stay numbers
    assert read["amount_text"][0] == "-1.50"  # a negative number's text is not quoted
    stored = pl.read_csv(doc.save_csv(tmp_path / "stored.csv", as_stored=True)).filter(band="detail")
    assert stored["name"].to_list() == DATA["name"].to_list()
    with pytest.raises(pr.OutputError, match=r"must end in \.csv"):
        doc.save_csv(tmp_path / "r.txt")


def _csv_shown_by_libreoffice(path: Path, folder: Path) -> list[list[str]]:
    """The CSV's cells as LibreOffice shows them, opened with its formulas evaluated (as a
    spreadsheet user who ticks "Evaluate formulas" would)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed (Debian package libreoffice-calc-nogui; make system installs it)")
    folder.mkdir()
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--infilter=CSV:44,34,76,1,,0,false,true,false,false,false,false,true",  # token 13: evaluate formulas
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false",  # cells as shown
            "--outdir",
            str(folder / "out"),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return list(csv.reader(io.StringIO((folder / "out" / path.name).read_text(encoding="utf-8"), newline="")))


@pytest.mark.slow
def test_libreoffice_shows_the_csv_texts_and_computes_nothing(tmp_path: Path) -> None:
    doc = REPORT.render(DATA)
    shown = _csv_shown_by_libreoffice(doc.save(tmp_path / "r.csv")[0], tmp_path / "quoted")
    column = shown[0].index("name")
    names = [row[column].replace("\n", "\r") for row in shown[1:] if row[0] == "detail"]  # a CR comes back as LF
    assert names[: len(FORMULAS)] == ["'" + value for value in FORMULAS]
    assert names[-2:] == PLAIN[-2:]  # (a number's text, not quoted, LibreOffice reads as the number)
    # written as stored, the same file runs its formulas: what the quote prevents
    stored = _csv_shown_by_libreoffice(doc.save_csv(tmp_path / "s.csv", as_stored=True), tmp_path / "stored")
    assert next(row[column] for row in stored[1:] if row[0] == "detail") == "2"


@pytest.mark.slow
def test_libreoffice_shows_the_xlsx_texts_and_computes_nothing(tmp_path: Path) -> None:
    doc = REPORT.render(DATA)
    folder = tmp_path / "lo"
    folder.mkdir()
    shown = _shown_by_libreoffice(doc.save(tmp_path / "r.xlsx")[0], folder)
    texts = [cell for row in shown for cell in row]
    for value in FORMULAS + PLAIN:
        assert value.strip("\t\r") in {cell.strip("\t\r\n ") for cell in texts}, value
    assert not {"2", "3", "x"} & set(texts)  # =1+1, @SUM(1,2), the link's text
