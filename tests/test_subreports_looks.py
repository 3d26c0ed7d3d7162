"""A subreport's own looks inside the master: its styles (by name, else the master's), its
theme, its band fills and zebra, its font size; checked in the table's data, in the HTML page
and in the pixels Typst draws."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import polarreports as pr
from polarreports.compute.subreports import attach_subreports

FILL = "#ffee00"
RED = "#b00020"


def _sub(**extra: object) -> pr.Report:
    return pr.Report(
        name="payments",
        styles={"money": pr.Style(color=RED, italic=True, fill=FILL)},
        variables=[pr.Variable(name="paid", calculation="sum", expression="amount")],
        bands=pr.Bands(
            column_header=pr.Band(elements=[pr.Label(text="Amount"), pr.Label(text="Method")]),
            detail=pr.Band(
                elements=[pr.Field(column="amount", style="money", width="30mm"), pr.Field(column="m", style="strong")]
            ),
            summary=pr.Band(elements=[pr.Aggregate(variable="paid")], fill="#00ff00"),
        ),
        **extra,  # type: ignore[arg-type]
    )


def _master(sub: pr.Report, **extra: object) -> pr.Report:
    element = pr.Subreport(report=sub, source="pay", keys=["id"])
    return pr.Report(
        name="orders",
        styles={"strong": pr.Style(bold=True), "money": pr.Style(color="#0000ff")},
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="id"), element])),
        **extra,  # type: ignore[arg-type]
    )


ORDERS = pl.DataFrame({"id": [1, 2, 3]})
PAY = pl.DataFrame({"id": [1, 1, 1, 2], "amount": [1.5, 2.0, 3.0, 4.0], "m": ["a", "b", "x", "c"]})


def _table(report: pr.Report) -> dict[str, Any]:
    rows = attach_subreports(report, ORDERS.lazy(), {"pay": PAY}, {}).collect()
    return json.loads(rows["__sub0"][0])


def test_the_subreport_s_styles_win_by_name_and_the_master_s_fill_in() -> None:
    table = _table(_master(_sub()))
    looks, kinds = table["L"], {entry["k"]: entry for entry in table["lk"]}
    amount, method = (looks[i] for i in kinds["d"]["l"])
    assert (amount["c"], amount["i"], amount["g"]) == (RED, True, FILL)  # its own 'money', not the master's
    assert method["b"] is True  # 'strong' is the master's only
    assert kinds["t"]["g"] == "#00ff00"  # the summary band's fill
    assert table["x"] == {"z": 8.5, "stripe": None}


def test_the_subreport_s_theme_and_font_size_apply() -> None:
    table = _table(_master(_sub(theme="corporate", page={"font_size": 7})))
    kinds = {entry["k"]: entry for entry in table["lk"]}
    header = table["L"][kinds["c"]["l"][0]]
    assert header["b"] is True  # the corporate column header
    assert header["c"] == "#ffffff"
    assert kinds["c"]["g"] == "#1f4e79"
    assert table["x"]["z"] == 7
    assert table["x"]["stripe"]  # corporate stripes its rows


def test_a_plain_subreport_carries_no_looks() -> None:
    plain = pr.Report(name="p", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="amount")])))
    assert not {"L", "lk", "x"} & set(_table(_master(plain)))


def test_conditional_styles_in_a_subreport_are_refused() -> None:
    sub = _sub()
    assert sub.bands.detail is not None
    detail = sub.bands.detail.model_copy(
        update={"conditional_styles": [pr.ConditionalStyle(when="amount > 2", style="money")]}
    )
    sub = sub.model_copy(update={"bands": sub.bands.model_copy(update={"detail": detail})})
    with pytest.raises(pr.PlanError, match="conditional_styles are not supported in a subreport"):
        attach_subreports(_master(sub), ORDERS.lazy(), {"pay": PAY}, {})


def test_the_html_page_shows_the_looks(tmp_path: Path) -> None:
    _master(_sub()).render(ORDERS, sources={"pay": PAY}).save(tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    assert page.count(f'font-style:italic;color:{RED};background:{FILL}">') == PAY.height
    assert 'background:#00ff00">6.50<' in page


def _pixels(png: bytes, color: str) -> int:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    wanted = tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))
    return sum(1 for pixel in image.get_flattened_data() if pixel == wanted)


@pytest.mark.typst
def test_typst_draws_the_subreport_s_fills() -> None:
    styled = _master(_sub()).render(ORDERS, sources={"pay": PAY}).png()[0]
    plain = _master(_sub().model_copy(update={"styles": {"money": pr.Style()}})).render(ORDERS, sources={"pay": PAY})
    assert _pixels(styled, FILL) > 1000  # the amounts' cells, 4 rows of 30 mm
    assert _pixels(styled, "#00ff00") > 1000  # the two totals' rows
    assert _pixels(plain.png()[0], FILL) == 0


def test_a_subreport_uses_the_master_s_own_fonts(tmp_path: Path) -> None:
    from polarreports.compute.subreports import _inheriting

    (tmp_path / "fonts").mkdir()
    master = _master(_sub()).model_copy(update={"font_dirs": [str(tmp_path / "fonts")]})
    assert _inheriting(_sub(), master).font_dirs == [str(tmp_path / "fonts")]
    own = _sub().model_copy(update={"font_dirs": ["elsewhere"]})
    assert _inheriting(own, master).font_dirs == ["elsewhere"]
