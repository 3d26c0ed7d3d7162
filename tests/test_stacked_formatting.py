"""The values of cells that share a format, formatted once for all the small frames of a report
(stream.stacked), show exactly the strings each cell gets when its band is formatted alone."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import polars as pl
import pytest

import polarreports as pr
from polarreports.compute.formats import FEW_ROWS
from polarreports.stream import collect
from polarreports.stream.stacked import Stacks

MIXED = pl.DataFrame(
    {
        "g": ["a", "a", "b", None, "b"],
        "n": [1, -22_000, None, 3, 4],
        "x": [1234.5, -0.004, None, 2.675, 1e15],
        "d": [decimal.Decimal("1.25"), None, decimal.Decimal("-99999.99"), decimal.Decimal("0.005"), None],
        "day": [dt.date(2024, 1, 5), None, dt.date(1999, 12, 31), dt.date(2024, 2, 29), dt.date(2000, 1, 1)],
        "ok": [True, None, False, True, False],
        "tags": [["x"], [], None, ["y", "z"], ["w"]],
    },
    schema_overrides={"d": pl.Decimal(12, 3)},
)
REPORT = pr.Report(
    name="stacked",
    locale="de_DE",
    groups=[
        pr.Group(
            name="g",
            key="g",
            header=pr.Band(elements=[pr.Field(column="g", null_text="(none)"), pr.Aggregate(variable="total")]),
            footer=pr.Band(elements=[pr.Aggregate(variable="total", format="#,##0.0"), pr.Aggregate(variable="rows")]),
        )
    ],
    variables=[
        pr.Variable(name="total", calculation="sum", expression="x"),
        pr.Variable(name="rows", calculation="count"),
        pr.Variable(name="dsum", calculation="sum", expression="d"),  # a wider Decimal than d's: one stack
    ],
    bands=pr.Bands(
        detail=pr.Band(
            elements=[
                pr.Field(column="n", null_text="–"),
                pr.Field(column="x", format="#,##0.0"),
                pr.Field(column="x"),
                pr.Field(column="d"),
                pr.Field(column="day", format="d. MMMM yyyy"),
                pr.Field(column="ok"),
                pr.Field(column="tags"),
                pr.Field(column="g"),
            ]
        ),
        summary=pr.Band(
            elements=[pr.Aggregate(variable="total"), pr.Aggregate(variable="rows"), pr.Aggregate(variable="dsum")]
        ),
    ),
)


def _data_file(monkeypatch: pytest.MonkeyPatch, *, stacked: bool) -> tuple[bytes, list[int]]:
    """The report's data file, and how many frames each stacked formatting query served."""
    served: list[int] = []
    many = collect._Formatter.many

    def spy(self: Any, pieces: Any) -> Any:
        served.append(len(pieces))
        return many(self, pieces)

    monkeypatch.setattr(collect._Formatter, "many", spy)
    if not stacked:
        monkeypatch.setattr(collect, "FEW_ROWS", -1)  # every frame formatted in its own query
    return REPORT.render(MIXED).data_json, served


def test_stacked_strings_are_those_of_each_band_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    stacked, served = _data_file(monkeypatch, stacked=True)
    assert served == [4]  # summary, group header and footer, detail: one call (and one query)
    with monkeypatch.context() as alone:
        separate, _ = _data_file(alone, stacked=False)
    assert stacked == separate
    assert "-22.000" in stacked.decode()
    assert "29. Februar 2024" in stacked.decode()


def test_large_frames_are_formatted_band_by_band(monkeypatch: pytest.MonkeyPatch) -> None:
    formats: list[int] = []
    format_stacks = Stacks.format

    def spy(self: Stacks, expression: Any) -> Any:
        formats.append(len(self.columns))
        return format_stacks(self, expression)

    monkeypatch.setattr(Stacks, "format", spy)
    big = pl.concat([MIXED] * (FEW_ROWS // len(MIXED) + 1))
    text = REPORT.render(big).data_json.decode()
    assert formats == []
    assert text.count('"29. Februar 2024"') == FEW_ROWS // len(MIXED) + 1


@pytest.mark.parametrize("rows", [0, 1])
def test_a_report_of_detail_rows_only(rows: int) -> None:
    report = pr.Report(name="bare", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="n")])))
    data = pl.DataFrame({"n": [12_345] * rows}, schema={"n": pl.Int64})
    text = report.render(data).data_json.decode()
    assert text.count('"12,345"') == rows
