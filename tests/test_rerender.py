"""A report rendered again in one process reuses its plan, its values' types, its Typst code
(``plan.reuse``) and the display strings of values seen before (``stream.remembered``), and
gives exactly what a first render gives: for the same data, for other data, from many threads."""

from __future__ import annotations

import functools
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import polarreports as pr
from polarreports import api
from polarreports.compute import overflow
from polarreports.compute.formats import format_expr
from polarreports.plan.reuse import LARGEST_DEFINITION, PLANS, plan_key
from polarreports.stream.remembered import LONGEST, STRINGS, RememberedStrings
from tests.conftest import ROOT


@pytest.fixture
def example() -> pr.Report:
    return pr.load(ROOT / "examples" / "sales_by_region.yaml")


def _outputs(document: pr.Document) -> tuple[str, bytes]:
    return document.to_typst(), document.data_json


def _first_render(report: pr.Report, data: Any, **parameters: Any) -> tuple[str, bytes]:
    """What a render gives in a process that kept nothing yet."""
    PLANS.clear()
    STRINGS.clear()
    return _outputs(report.render(data, **parameters))


def _plans_built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    built: list[str] = []
    build = api.build_plan

    def spy(report: pr.Report, *args: Any, **kwargs: Any) -> Any:
        built.append(report.name)
        return build(report, *args, **kwargs)

    monkeypatch.setattr(api, "build_plan", spy)
    return built


def test_a_report_rendered_again_reuses_its_plan_and_gives_the_same(
    example: pr.Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = pr.sample.sales_data(150)
    first = _first_render(example, data)
    built = _plans_built(monkeypatch)
    assert _outputs(example.render(data)) == first
    assert built == []  # planned, checked and written once
    assert len(STRINGS) > 0


def test_what_the_plan_depends_on_makes_a_new_one(example: pr.Report, monkeypatch: pytest.MonkeyPatch) -> None:
    data = pr.sample.sales_data(80)
    example.render(data)
    built = _plans_built(monkeypatch)
    example.render(data, year=2024)  # a parameter
    example.render(data.with_columns(pl.col("quantity").cast(pl.Float64)))  # a column's type
    example.render(data.rename({"country": "nation"}).with_columns(country=pl.col("nation")))  # the columns
    example.model_copy(update={"title": "Other"}).render(data)  # the definition
    assert len(built) == 4


def test_other_data_gives_what_a_first_render_gives(example: pr.Report) -> None:
    """Display strings remembered from one data set serve the next only where its values are
    the same: the others are formatted."""
    before, after = pr.sample.sales_data(120, seed=1), pr.sample.sales_data(150, seed=2)
    expected = _first_render(example, after)
    PLANS.clear()
    STRINGS.clear()
    example.render(before)
    assert _outputs(example.render(after)) == expected


def test_a_definition_naming_a_file_or_too_long_is_planned_each_time(tmp_path: Path) -> None:
    schema = pl.Schema({"x": pl.Int64()})
    named = [
        pr.Report(name="r", theme=pr.Theme(logo="logo.svg")),
        pr.Report(name="r", bands=pr.Bands(title=pr.Band(elements=[pr.Image(path="a.png")]))),
        pr.Report(name="r", font_dirs=["fonts"]),
        pr.Report(name="r", bands=pr.Bands(title=pr.Band(elements=[pr.Image(data=b"\x89PNG")]))),
        pr.Report(
            name="r", bands=pr.Bands(detail=pr.Band(elements=[pr.Subreport(report="s.yaml", source="s", keys=["x"])]))
        ),
    ]
    assert [plan_key(report, schema, {}, tmp_path) for report in named] == [None] * 5
    text = pr.Report(name="r", bands=pr.Bands(title=pr.Band(elements=[pr.Label(text='"path": x')])))
    assert plan_key(text, schema, {}, tmp_path) is not None  # a label's text names no file
    huge = pr.Report(name="r", bands=pr.Bands(title=pr.Band(elements=[pr.Label(text="x" * LARGEST_DEFINITION)])))
    assert plan_key(huge, schema, {}, tmp_path) is None  # too big to keep 32 of


def test_renders_from_many_threads_with_nothing_kept_yet(example: pr.Report) -> None:
    other = pr.load(ROOT / "examples" / "sales_styled.yaml")
    jobs = [
        (report, pr.sample.sales_data(40 + 10 * seed, seed=seed)) for seed in range(6) for report in (example, other)
    ]
    expected = [_first_render(report, data) for report, data in jobs]
    PLANS.clear()
    STRINGS.clear()
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(pool.map(lambda job: _outputs(job[0].render(job[1])), jobs * 2))
    assert got == expected * 2


def test_remembered_strings_are_those_polars_makes() -> None:
    memo = RememberedStrings()
    values = pl.Series([0.0, 1234.5, None, float("nan"), 1e12])
    key = ("Float64", "#,##0.0", "de_DE", None, "–")
    expression = format_expr(pl.col("v"), pl.Float64(), "#,##0.0", locale="de_DE", null_text="–")
    strings = pl.DataFrame({"v": values}).select(expression).to_series()
    memo.learn(key, values, strings)
    assert memo.known(key, values) == strings.to_list()
    assert memo.known(key, pl.Series([-0.0])) == [None]  # floats by their bits: -0.0 is another value
    assert memo.known(("Float64", "0", "de_DE", None, "–"), values) == [None] * 5  # another format


def test_remembered_strings_are_bounded() -> None:
    memo = RememberedStrings(max_strings=100)
    key = ("Decimal(precision=38, scale=2)", "#,##0.00", "en_US", None, "")
    for start in range(0, 1_000, 50):
        values = pl.Series([Decimal(n) / 100 for n in range(start, start + 50)], dtype=pl.Decimal(38, 2))
        memo.learn(key, values, values.cast(pl.String))
    assert len(memo) == 100
    assert memo.known(key, pl.Series([Decimal("9.99")], dtype=pl.Decimal(38, 2))) == ["9.99"]  # the latest kept
    memo.learn(key, pl.Series([1]), pl.Series(["x" * (LONGEST + 1)]))
    assert memo.known(key, pl.Series([1])) == [None]  # a long string is not kept
    long_text = pl.Series(["y" * (LONGEST + 1)])
    memo.learn(("String", None, "en_US", None, ""), long_text, long_text)
    assert memo.known(("String", None, "en_US", None, ""), long_text) == [None]  # nor a long value


def test_remembered_strings_from_many_threads() -> None:
    memo = RememberedStrings(max_strings=500)
    wrong: list[tuple[int, str | None]] = []
    start = threading.Barrier(8)

    def work(offset: int) -> None:
        start.wait()
        for round_ in range(40):
            values = pl.Series(range(offset + round_, offset + round_ + 30))
            memo.learn("k", values, values.cast(pl.String))
            for value, found in zip(values, memo.known("k", values), strict=True):
                if found is not None and found != str(value):
                    wrong.append((value, found))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, range(0, 800, 100)))
    assert wrong == []
    assert len(memo) <= 500


@pytest.mark.parametrize(
    ("width", "size", "language"), [(5.0, 12.0, None), (60.0, 8.5, "en_US"), (120.0, 10.0, "de_DE")]
)
def test_words_broken_in_python_as_in_a_query(
    width: float, size: float, language: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few values are bounded in Python (``overflow.FEW_IN_PYTHON``): the same texts as the query."""
    rng = random.Random(5)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-'()/\nÄéß漢字😀W@#\u200b\u00ad"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 8, 15, 30, 80, 300]))) for _ in range(800)]
    values = pl.Series("s", [None if n % 20 == 0 else text for n, text in enumerate(texts)], dtype=pl.String)
    breaking = functools.partial(
        overflow._break_wide_words, width=width, size=size, bold=False, italic=True, language=language
    )
    in_python = breaking(values)
    monkeypatch.setattr(overflow, "FEW_IN_PYTHON", -1)
    in_a_query = breaking(values)
    assert in_python.to_list() == in_a_query.to_list()
    assert in_python.to_list() != values.to_list()  # some words were broken
