"""``polarreports init``: a readable first page for wide data. The columns are sized from their
values and kept apart, headings are separate words, years print without separators, the columns
that do not fit are listed commented out, and a grouping is suggested."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from polarreports.cli import app
from polarreports.definition.report import Report
from polarreports.scaffold import grouping_suggestion, scaffold, scaffold_yaml

runner = CliRunner()


def flights(rows: int = 400) -> pl.DataFrame:
    """21 columns, as in the well-known airline on-time data."""
    rng = random.Random(3)

    def ints(low: int, high: int) -> list[int]:
        return [rng.randint(low, high) for _ in range(rows)]

    def pick(values: list[str]) -> list[str]:
        return [rng.choice(values) for _ in range(rows)]

    airports = ["ATL", "ORD", "DFW", "DEN", "LAX", "JFK", "SFO", "SEA", "LAS", "MCO"]
    return pl.DataFrame(
        {
            "Year": [2013] * rows,
            "Month": ints(1, 12),
            "DayofMonth": ints(1, 28),
            "DayOfWeek": ints(1, 7),
            "DepTime": ints(0, 2359),
            "CRSDepTime": ints(0, 2359),
            "ArrTime": ints(0, 2359),
            "CRSArrTime": ints(0, 2359),
            "UniqueCarrier": pick(["AA", "DL", "UA", "WN", "B6", "AS"]),
            "FlightNum": ints(1, 6999),
            "TailNum": [f"N{n}AA" for n in ints(100, 999)],
            "ActualElapsedTime": ints(30, 400),
            "CRSElapsedTime": ints(30, 400),
            "AirTime": ints(20, 380),
            "ArrDelay": [round(rng.gauss(5, 30), 1) for _ in range(rows)],
            "DepDelay": [round(rng.gauss(5, 30), 1) for _ in range(rows)],
            "Origin": pick(airports),
            "Dest": pick(airports),
            "AirDistance": ints(100, 4900),
            "TaxiIn": ints(1, 40),
            "TaxiOut": ints(1, 60),
        }
    )


def test_the_yaml_is_the_report_with_the_rest_commented_out() -> None:
    frame = flights().with_columns(
        Remarks=pl.lit("delayed by weather at the origin airport"), Gate=pl.lit("B12"), Crew=pl.lit("A. Smith")
    )
    text = scaffold_yaml(frame.schema, name="flights", sample=frame)
    report = Report.from_yaml(text)
    assert report == scaffold(frame.schema, name="flights", sample=frame)
    assert report.page.orientation == "landscape"
    shown = [element.column for element in report.bands.detail.elements]
    assert shown == frame.columns[: len(shown)]
    assert 10 < len(shown) < frame.width
    commented = [line.strip()[4:] for line in text.splitlines() if line.strip().startswith("# - {type: field")]
    assert [yaml.safe_load(line)["column"] for line in commented] == frame.columns[len(shown) :]
    assert report.bands.detail.elements[0].format == "0"  # the year: 2013, not 2,013
    assert report.bands.column_header.elements[18 if len(shown) > 18 else 0].text in ("Air distance", "Year")


def test_headings_are_words_and_a_grouping_is_suggested() -> None:
    frame = flights()
    report = scaffold(frame.schema, name="flights", sample=frame)
    headings = [label.text for label in report.bands.column_header.elements]
    assert "Air distance" in headings
    assert "CRS dep time" in headings
    assert grouping_suggestion(frame.schema, frame) == ("UniqueCarrier", 6)
    text = scaffold_yaml(frame.schema, name="flights", sample=frame)
    grouped = yaml.safe_load(text.replace("# groups:", "groups:").replace("# - name", "- name").replace("#   ", "  "))
    assert grouped["groups"][0]["name"] == "UniqueCarrier"
    Report.model_validate(grouped)  # the suggestion, uncommented, is a valid definition


def _words(pdf: Path) -> list[tuple[float, float, float, float, str]]:
    """The words of the first page with their boxes (pdftotext -bbox)."""
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    import re

    found = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html)
    return [(float(a), float(b), float(c), float(d), word) for a, b, c, d, word in found]


@pytest.mark.typst
def test_a_21_column_file_renders_a_readable_first_page(tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is missing: install poppler-utils (make system)")
    data = tmp_path / "flights.parquet"
    flights().write_parquet(data)
    definition, pdf = tmp_path / "flights.yaml", tmp_path / "flights.pdf"
    assert runner.invoke(app, ["init", str(data), "-o", str(definition)]).exit_code == 0
    result = runner.invoke(app, ["render", str(definition), "-d", str(data), "-o", str(pdf)])
    assert result.exit_code == 0, result.output
    words = _words(pdf)
    texts = [w[4] for w in words]
    assert "2013" in texts
    assert "2,013" not in texts
    assert "AirDistance" not in texts
    assert {"Air", "distance", "Unique", "carrier", "Actual", "elapsed"} <= set(texts)

    def overlap(low_a: float, high_a: float, low_b: float, high_b: float) -> float:
        return min(high_a, high_b) - max(low_a, low_b)

    overlaps = [  # ink on ink: boxes that share width and most of their height (lines touch a little)
        (a[4], b[4])
        for i, a in enumerate(words)
        for b in words[i + 1 :]
        if overlap(a[0], a[2], b[0], b[2]) > 0.5 and overlap(a[1], a[3], b[1], b[3]) > 0.5 * (a[3] - a[1])
    ]
    assert not overlaps, overlaps[:5]
