"""The definition and plan layers accept only valid input: whatever a definition file holds,
``pr.load`` and ``pr.validate`` either succeed or raise a polarreports error with one clear line."""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polarreports as pr
from polarreports.compute.formats import format_expr
from polarreports.definition.report import Report
from polarreports.stream import collect as stream
from tests.conftest import ROOT

DATA = pl.DataFrame(
    {
        "region": ["North", "South", "North"],
        "amount": [10.5, 20.25, 3.0],
        "quantity": [1, 2, 3],
        "when": [dt.date(2024, 1, 2), dt.date(2024, 3, 4), dt.date(2024, 5, 6)],
    }
)


def detail(*elements: Any) -> pr.Bands:
    return pr.Bands(detail=pr.Band(elements=list(elements)))


def load_text(tmp_path: Path, text: str, name: str = "report.yaml") -> pr.Report:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return pr.load(path)


# -- 1. a pl.Expr cannot be saved, wherever it is ------------------------------------------------


@pytest.mark.parametrize(
    ("report", "field"),
    [
        (pr.Report(name="r", filter=pl.col("amount") > 1), "filter"),
        (
            pr.Report(name="r", bands=pr.Bands(detail=pr.Band(print_when=pl.col("amount") > 1))),
            "bands.detail.print_when",
        ),
        (pr.Report(name="r", groups=[pr.Group(name="g", key=pl.col("region"))]), "groups[0].key"),
        (
            pr.Report(name="r", variables=[pr.Variable(name="v", calculation="sum", expression=pl.col("amount"))]),
            "variables[0].expression",
        ),
        (pr.Report(name="r", columns={"double": pl.col("amount") * 2}), "columns.double"),
        (pr.Report(name="r", bands=detail(pr.Expression(expr=pl.col("amount")))), "bands.detail.elements[0].expr"),
    ],
)
def test_a_polars_expression_cannot_be_saved_and_the_error_names_its_field(report: pr.Report, field: str) -> None:
    for save in (report.to_yaml, report.to_json, report.to_dict):
        with pytest.raises(pr.DefinitionError) as error:
            save()
        message = str(error.value)
        assert message.startswith(f"{field}: the Polars expression "), message
        assert "cannot be saved in a definition file" in message
        assert "\n" not in message


# -- 2. the locale and the currency are checked in the plan --------------------------------------


def test_an_unknown_locale_is_a_plan_error_with_the_closest_names() -> None:
    report = pr.Report(name="r", locale="de_DX", bands=detail(pr.Field(column="amount")))
    with pytest.raises(pr.PlanError) as error:
        pr.validate(report, DATA)
    assert str(error.value).startswith("locale: unknown locale 'de_DX'; did you mean 'de_DE'")
    nowhere = report.model_copy(update={"locale": "xx_YY"})
    with pytest.raises(pr.PlanError, match=r"^locale: unknown locale 'xx_YY' \(a Babel locale such as 'en_US'"):
        pr.validate(nowhere, DATA)


def test_an_unknown_currency_is_a_plan_error_with_the_closest_codes() -> None:
    report = pr.Report(name="r", currency="EURO", bands=detail(pr.Field(column="amount")))
    with pytest.raises(pr.PlanError, match=r"^currency: unknown currency 'EURO'; did you mean 'EUR'\?"):
        pr.validate(report, DATA)


def test_known_locales_and_currencies_in_any_spelling_pass() -> None:
    for locale, currency in (("de-DE", "eur"), ("en_US", None), ("hi_IN", "INR"), ("fr", "CHF")):
        report = pr.Report(name="r", locale=locale, currency=currency, bands=detail(pr.Field(column="amount")))
        pr.validate(report, DATA)


# -- 3. only polarreports errors from the definition ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("page: {margins: {top: .inf}}", "page.margins.top: inf is not a length"),
        ("page: {margins: {top: .nan}}", "page.margins.top: nan is not a length"),
        ("page: {margins: {top: -1}}", "page.margins.top: -1 is not a length"),
        ("page: {margins: {top: 1.0e+308}}", "page.margins.top: 1e+308 is too long: at most 10000pt"),
        ("page: {margins: {top: 1e308}}", "page.margins.top: '1e308' is not a length"),
        ("page: {margins: {top: 99999999999999999999999999999999999999mm}}", "page.margins.top: '9999"),
        ("page: {margins: {left: 20000pt}}", "page.margins.left: '20000pt' is too long: at most 10000pt"),
        ("page: {column_gap: 1001em}", "page.column_gap: '1001em' is too long: at most 1000em"),
        (
            "bands: {detail: {elements: [{type: label, text: a, width: 1.0e+308}]}}",
            "elements[0].width: 1e+308 is too long",
        ),
        ("bands: {detail: {elements: [{type: label, text: a, width: 5000%}]}}", "is too long: at most 1000%"),
        ("bands: {detail: {space_after: 1.0e-300}}", None),
        ("page: {font_size: .inf}", "page.font_size: "),
        ("page: {font_size: -1}", "page.font_size: "),
        ("page: {font_size: 0}", "page.font_size: "),
        ("bands: {detail: {elements: [{type: label, text: a, size: .nan}]}}", "bands.detail.elements[0].size: "),
        ("bands: {detail: {elements: [{type: line, thickness: -1}]}}", "bands.detail.elements[0].thickness: "),
        ("bands: {detail: {elements: [{type: box, stroke: .inf}]}}", "bands.detail.elements[0].stroke: "),
        ("styles: {s: {size: 1e308}}", "styles.s.size: "),
    ],
)
def test_lengths_and_sizes_are_finite_and_in_range(tmp_path: Path, text: str, found: str | None) -> None:
    if found is None:
        load_text(tmp_path, f"name: r\n{text}\n")
        return
    with pytest.raises(pr.DefinitionError) as error:
        load_text(tmp_path, f"name: r\n{text}\n")
    assert found in str(error.value)


def test_the_largest_lengths_allowed_still_load(tmp_path: Path) -> None:
    report = load_text(
        tmp_path,
        "name: r\npage: {margins: {top: 10000pt, left: 0, right: 352cm}, font_size: 1000, column_gap: 1000em}\n",
    )
    assert report.page.margins.top == "10000pt"
    assert report.page.margins.left == "0pt"
    assert pr.Margins(top=1e-300).top == "0pt"
    assert pr.Margins(top=2.5).top == "2.5pt"


@pytest.mark.parametrize("key", ["\u2028", "a\u0085b", "\x00", "x" * 300, ""])
def test_an_unknown_key_that_is_not_printable_text_is_shown_escaped_on_one_line(key: str) -> None:
    # found by benchmarks/hostile_campaign.py: a key U+2028 broke the message into two lines
    with pytest.raises(pr.DefinitionError) as error:
        pr.Report.from_dict({"name": "r", "bands": {"summary": {key: 1}}})
    message = str(error.value)
    assert len(message.splitlines()) == 1
    assert message.startswith("definition: bands.summary[")
    assert message.endswith("]: unknown key")


@pytest.mark.parametrize("spaced", ["14%\r\n", " 14 %\t", "\u2028 14%\u0085", "14\x0b%"])
def test_a_length_with_line_breaks_or_tabs_around_it_is_kept_without_them(spaced: str) -> None:
    # found by benchmarks/hostile_campaign.py: '14%\r\n' loaded, then the render failed with a ValueError
    field = pr.Field(column="x", width=spaced)
    assert field.width == "14%"
    doc = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[field]))).render(pl.DataFrame({"x": [1]}))
    assert doc.stats.rows == 1


@pytest.mark.parametrize(
    ("parameter", "given"),
    [
        ({"type": "integer", "default": 1e308}, {}),
        ({"type": "integer"}, {"p": 10**30}),
        ({"type": "integer"}, {"p": math.inf}),
        ({"type": "float"}, {"p": 10**400}),
        ({"type": "decimal"}, {"p": "1e308"}),
        ({"type": "decimal"}, {"p": "1e30"}),
        ({"type": "decimal"}, {"p": "nan"}),
        ({"type": "decimal"}, {"p": "-inf"}),
        ({"type": "string"}, {"p": "\ud800"}),
        ({"type": "integer", "allowed": ["one"]}, {"p": 1}),
    ],
)
def test_parameter_values_that_polars_cannot_hold_are_parameter_errors(
    parameter: dict[str, Any], given: dict[str, Any]
) -> None:
    report = pr.Report(
        name="r",
        parameters=[pr.Parameter(name="p", **parameter)],
        bands=pr.Bands(title=pr.Band(elements=[pr.Field(column="p")])),
    )
    with pytest.raises(pr.ParameterError, match=r"^parameter 'p' "):
        pr.validate(report, DATA, **given)


def test_parameter_values_at_the_edges_of_their_types_pass() -> None:
    report = pr.Report(
        name="r",
        parameters=[
            pr.Parameter(name="i", type="integer", default=2**63 - 1),
            pr.Parameter(name="d", type="decimal", default="99999999999999999999999999999.123456789"),
            pr.Parameter(name="s", type="string", default="Åsa 👍"),
        ],
    )
    assert pr.validate(report, DATA).parameters["i"] == 2**63 - 1


@pytest.mark.parametrize(
    "definition",
    [
        {"bands": {"detail": {"fill": "red"}}},
        {"bands": {"detail": {"fill": 'red"); #panic('}}},
        {"bands": {"detail": {"elements": [{"type": "box", "fill": "nope"}]}}},
        {"bands": {"detail": {"elements": [{"type": "label", "text": "a", "color": "#12345"}]}}},
        {"bands": {"detail": {"elements": [{"type": "label", "text": "a", "color": "#fff\n"}]}}},
        {"bands": {"detail": {"zebra": "#12345"}}},
        {"styles": {"s": {"fill": "#ggg"}}},
        {"styles": {"s": {"border": "1pt #12345"}}},
        {"styles": {"s": {"border": "1000pt #123456"}}},
        {"theme": {"brand_color": "#1234567"}},
        {"theme": {"zebra": "blue"}},
    ],
)
def test_every_colour_is_checked(definition: dict[str, Any]) -> None:
    with pytest.raises(pr.DefinitionError, match=r"not a hex colour|not a stroke"):
        pr.Report.model_validate({"name": "r", **definition})


def test_every_colour_field_of_the_definition_refuses_what_is_not_a_colour() -> None:
    """Whatever model a colour field is on (found by name), a non-colour is refused."""
    seen = set()
    for model in _models(Report):
        for name in model.model_fields:
            if name in {"color", "fill", "brand_color", "zebra"}:
                seen.add((model.__name__, name))
                required = {n: "x" for n, f in model.model_fields.items() if f.is_required() and n != name}
                sources = {
                    "Chart": {"spec": {}},
                    "Image": {"path": "a.png"},
                    "Barcode": {"column": "x"},
                    "Crosstab": {"rows": ["a"], "columns": ["b"], "measures": {"n": "count(*)"}},
                }
                required |= sources.get(model.__name__, {})
                model.model_validate({**required, name: "#abc"})
                with pytest.raises(ValueError, match="not a hex colour"):
                    model.model_validate({**required, name: "url(x)"})
    assert ("Band", "fill") in seen
    assert ("Box", "fill") in seen
    assert ("Label", "color") in seen


def _models(model: Any, found: list[Any] | None = None) -> list[Any]:
    from typing import get_args

    from pydantic import BaseModel

    found = [] if found is None else found
    if isinstance(model, type) and issubclass(model, BaseModel):
        if model in found:
            return found
        found.append(model)
        for field in model.model_fields.values():
            _models(field.annotation, found)
        return found
    for arg in get_args(model):
        _models(arg, found)
    return found


@pytest.mark.parametrize("pattern", ["0" * 100_000, "yyyy" * 100_000, "'" + "x" * 300 + "' 0"])
def test_an_overlong_format_pattern_is_refused_up_front(pattern: str) -> None:
    column = "when" if pattern.startswith("y") else "amount"
    report = pr.Report(name="r", bands=detail(pr.Field(column=column, format=pattern)))
    with pytest.raises(
        pr.PlanError,
        match=r"^bands\.detail\.elements\[0\] \(field '\w+'\): "
        r"the format pattern is [\d,]+ characters long; at most 256",
    ):
        pr.validate(report, DATA)
    with pytest.raises(pr.FormatError, match="at most 256"):
        format_expr(pl.col(column), DATA.schema[column], pattern)


def test_an_overlong_pattern_on_a_page_value_is_refused_up_front() -> None:
    report = pr.Report(
        name="r",
        variables=[pr.Variable(name="total", calculation="sum", expression="amount")],
        bands=pr.Bands(
            detail=pr.Band(elements=[pr.Field(column="amount")]),
            page_footer=pr.Band(elements=[pr.Aggregate(variable="total", show="page", format="0" * 100_000)]),
        ),
    )
    with pytest.raises(pr.PolarReportsError, match="at most 256"):
        pr.validate(report, DATA)


def test_a_rust_panic_while_formatting_is_a_format_error_naming_the_band(monkeypatch: pytest.MonkeyPatch) -> None:
    def panicking(*_: object) -> pl.Expr:
        return pl.concat_list([pl.lit("1").str.zfill(100_000)])  # Polars panics: width out of range

    monkeypatch.setattr(stream, "formatted_cells", panicking)
    report = pr.Report(name="r", bands=detail(pr.Field(column="amount")))
    with pytest.raises(pr.FormatError, match=r"^bands\.detail: "):
        pr.render(report, DATA)


def test_a_nul_in_a_file_path_names_the_element(tmp_path: Path) -> None:
    with pytest.raises(pr.DefinitionError, match=r"bands\.detail\.elements\[0\]\.path: .*NUL"):
        load_text(tmp_path, 'name: r\nbands: {detail: {elements: [{type: image, path: "a\\0b.png"}]}}\n')
    with pytest.raises(pr.DefinitionError, match=r"theme\.logo: .*NUL"):
        pr.Report.model_validate({"name": "r", "theme": {"logo": "logo\x00.svg"}})
    with pytest.raises(pr.DefinitionError, match=r"image_dirs\[0\]: .*NUL"):
        pr.Report.model_validate({"name": "r", "image_dirs": ["a\x00"]})


def test_a_nul_in_a_column_of_image_paths_is_refused_naming_the_element() -> None:
    report = pr.Report(name="r", bands=detail(pr.Image(column="photo")))
    with pytest.raises(
        pr.AccessError, match=r"^bands\.detail\.elements\[0\] \(image 'photo'\): the image name 'a\\x00b.png'"
    ):
        pr.render(report, pl.DataFrame({"photo": ["a\x00b.png"]}))


def test_a_lone_surrogate_anywhere_in_a_definition_is_refused(tmp_path: Path) -> None:
    with pytest.raises(pr.DefinitionError, match=r"bands\.detail\.elements\[0\]\.text: .*U\+D800"):
        load_text(tmp_path, 'name: r\nbands: {detail: {elements: [{type: label, text: "a\\uD800"}]}}\n')


@pytest.mark.parametrize(
    ("report", "where"),
    [
        (pr.Report(name="r", filter="regexp_like(region, '(')"), "filter"),
        (pr.Report(name="r", columns={"x": "region ~ '(('"}), "columns.x"),
        (pr.Report(name="r", bands=detail(pr.Expression(expr="regexp_like(region, '[')"))), "bands.detail.elements[0]"),
        (
            pr.Report(name="r", bands=pr.Bands(detail=pr.Band(print_when="regexp_like(region, '(')"))),
            "bands.detail.print_when",
        ),
        (
            pr.Report(
                name="r",
                variables=[pr.Variable(name="n", calculation="count", expression="regexp_like(region, '(')")],
            ),
            "variables[0]",
        ),
        (pr.Report(name="r", groups=[pr.Group(name="g", key="regexp_like(region, '(')")]), "groups[0]"),
    ],
)
def test_a_bad_regular_expression_is_a_plan_error_naming_its_place(report: pr.Report, where: str) -> None:
    with pytest.raises(pr.PlanError) as error:
        pr.validate(report, DATA)
    assert str(error.value).startswith(where), str(error.value)
    assert "regular expression" in str(error.value)


def _chart(measure: str, band: str = "summary") -> pr.Report:
    chart = pr.Chart(
        spec={"mark": "bar", "encoding": {"x": {"field": "region"}, "y": {"field": "m"}}},
        by=["region"],
        measures={"m": measure},
    )
    return pr.Report(name="r", bands=pr.Bands(**{band: pr.Band(elements=[chart])}))


@pytest.mark.parametrize(
    ("measure", "found"),
    [
        ("sum((", "cannot parse the expression"),
        ("max(region)", "a chart's measure must give numbers, but gives String"),
        ("region", "a chart's measure must give numbers, but gives List(String)"),
        ("count(*) + CAST(regexp_like(max(region), '(') AS INT)", "regular expression"),
    ],
)
def test_a_bad_chart_measure_is_a_plan_error_naming_the_chart(measure: str, found: str) -> None:
    for band in ("summary", "page_header"):
        with pytest.raises(pr.PlanError) as error:
            pr.validate(_chart(measure, band), DATA)
        assert str(error.value).startswith(f"bands.{band}.elements[0] (chart) measure 'm': "), str(error.value)
        assert found in str(error.value)


def test_a_value_that_fails_on_the_data_is_a_data_error_not_a_polars_error() -> None:
    report = pr.Report(name="r", columns={"x": "CAST(region AS DOUBLE)"}, bands=detail(pr.Field(column="x")))
    with pytest.raises(pr.DataError, match="cannot be computed: conversion from `str` to `f64` failed"):
        pr.render(report, DATA)


# -- pydantic's errors, one clear line each -----------------------------------------------------


def test_a_misspelled_calculation_gets_one_line_with_a_did_you_mean(tmp_path: Path) -> None:
    text = (
        "name: r\nvariables:\n  - {name: a, calculation: sum, expression: x}\n  - {name: b, calculation: count}\n"
        "  - {name: c, calculation: summ, expression: x}\n"
    )
    with pytest.raises(pr.DefinitionError) as error:
        load_text(tmp_path, text)
    assert str(error.value) == (
        f"{tmp_path / 'report.yaml'}, line 5: variables[2].calculation: 'summ' is not a calculation "
        "(one of sum, count, count_distinct, avg, min, max, first, last, median, stddev, var); did you mean 'sum'?"
    )


def test_a_misspelled_element_type_gets_one_line_with_a_did_you_mean(tmp_path: Path) -> None:
    with pytest.raises(pr.DefinitionError) as error:
        load_text(tmp_path, "name: r\nbands: {detail: {elements: [{type: feild, column: x}]}}\n")
    assert str(error.value).endswith(
        "report.yaml, line 2: bands.detail.elements[0].type: 'feild' is not an element type "
        "(one of label, field, expression, aggregate, line, box, image, page_number, chart, barcode, crosstab, "
        "subreport); did you mean 'field'?"
    )


def test_a_value_of_the_wrong_type_names_the_field_and_the_value(tmp_path: Path) -> None:
    with pytest.raises(pr.DefinitionError) as error:
        load_text(tmp_path, "name: r\nfilter: [1, 2]\npage: {size: a44}\n")
    lines = [line.strip() for line in str(error.value).splitlines()]
    assert "line 2: filter: input should be a valid string, not [1, 2]" in lines
    assert (
        "line 3: page.size: 'a44' is no paper size: use a name from Typst's list (did you mean 'a4'?) or "
        "'WIDTH x HEIGHT' such as '80mm x auto'"
    ) in lines


def test_one_problem_is_one_line_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(pr.DefinitionError) as error:
        load_text(tmp_path, "name: r\npage: {orientation: sideways}\n")
    path = tmp_path / "report.yaml"
    assert str(error.value) == (
        f"{path}, line 2: page.orientation: 'sideways' is not an orientation (one of portrait, landscape)"
    )


def test_a_yaml_syntax_error_names_the_file_and_the_line(tmp_path: Path) -> None:
    with pytest.raises(pr.DefinitionError) as error:
        load_text(tmp_path, "name: r\npage:\n  size: a4\n bad: [\n")
    message = str(error.value)
    assert "<unicode string>" not in message
    assert message.startswith(f"{tmp_path / 'report.yaml'}, line 4, column ")
    assert "not valid YAML" in message
    assert "\n" not in message


def test_a_definition_that_is_not_utf8_is_a_definition_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: Åsa\n".encode("latin-1"))
    with pytest.raises(pr.DefinitionError, match="not UTF-8 text"):
        pr.load(path)


def test_a_definition_nested_too_deeply_is_a_definition_error(tmp_path: Path) -> None:
    deep = "[" * 2_000 + "]" * 2_000
    with pytest.raises(pr.DefinitionError, match="nested too deeply"):
        load_text(tmp_path, f"name: r\nbands: {{summary: {{elements: [{{type: chart, spec: {{a: {deep}}}}}]}}}}\n")
    with pytest.raises(pr.DefinitionError, match="nested too deeply"):
        load_text(tmp_path, f'{{"name": "r", "title": {deep}}}', name="report.json")


def test_yaml_aliases_cannot_blow_a_small_file_up(tmp_path: Path) -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefg"):
        previous = "abcdefg"[i]
        levels.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    text = "spec:\n" + "".join(f"  {level}\n" for level in levels)  # 10 million values, in 700 bytes
    with pytest.raises(pr.DefinitionError, match=r"holds more than 100,000 values \(with its YAML aliases"):
        load_text(tmp_path, f"name: r\n{text}")


def test_keys_that_are_not_strings_are_named(tmp_path: Path) -> None:
    with pytest.raises(pr.DefinitionError) as error:
        load_text(tmp_path, "name: r\ncolumns: {1: x}\n")
    assert str(error.value).endswith("report.yaml, line 2: columns.1: the key 1 must be a string")


def test_model_validate_raises_a_definition_error() -> None:
    with pytest.raises(pr.DefinitionError, match=r"page\.font_size"):
        pr.Report.model_validate({"name": "r", "page": {"font_size": "big"}})


# -- 4. the gallery, mutated -----------------------------------------------------------------------

SAMPLES: dict[str, Callable[[], pl.DataFrame]] = {
    "invoice": pr.sample.invoice_data,
    "customer_statement": pr.sample.statement_data,
}
"""Sample data by example name; every other example reads the sales data."""
EXAMPLES = sorted(path.stem for path in (ROOT / "examples").glob("*.yaml"))
_DATA: dict[str, pl.DataFrame] = {}
_TREES: dict[str, Any] = {}

ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    1e308,
    -1e308,
    10**30,
    math.inf,
    -math.inf,
    math.nan,
    [],
    {},
    [1, "a"],
    {"x": 1},
    "",
    " ",
    "\x00",
    "a\x00b.png",
    "\ud800",
    "a\u2028b",
    "'",
    '"',
    "\\",
    "#",
    "#fff",
    "#12345",
    "red",
    "nan",
    ".inf",
    "1e308",
    "1e308mm",
    "-1pt",
    "0pt",
    "100000000000000000000cm",
    "{",
    ":p",
    "sum((",
    "regexp_like(region, '(')",
    "region ~ '('",
    "xx_YY",
    "EURO",
    "summ",
    "feild",
    "../../etc/passwd",
    "0" * 100_000,
    "yyyy" * 100_000,
    "x" * 5_000,
]
"""Values known to have escaped as something else than a polarreports error, and their kin."""

scalars = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.booleans(),
)


def sample_data(name: str) -> pl.DataFrame:
    if name not in _DATA:
        _DATA[name] = SAMPLES.get(name, lambda: pr.sample.sales_data(300))()
    return _DATA[name]


def gallery_tree(name: str) -> Any:
    if name not in _TREES:
        _TREES[name] = yaml.safe_load((ROOT / "examples" / f"{name}.yaml").read_text(encoding="utf-8"))
    return copy.deepcopy(_TREES[name])


def _nodes(tree: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """Every node of a YAML tree with its path, the root first."""
    found = [(path, tree)]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found.extend(_nodes(value, (*path, key)))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            found.extend(_nodes(value, (*path, i)))
    return found


def _set(tree: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        tree = tree[part]
    tree[path[-1]] = value


@st.composite
def mutated_definitions(draw: st.DrawFn) -> tuple[str, Any, str]:
    """A gallery definition with one mutation, and a description of it."""
    name = draw(st.sampled_from(EXAMPLES))
    tree = gallery_tree(name)
    nodes = _nodes(tree)[1:]
    path, node = draw(st.sampled_from(nodes))
    kind = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add"]))
    if kind == "delete":
        parent = tree
        for part in path[:-1]:
            parent = parent[part]
        del parent[path[-1]]
        return name, tree, f"{name}: delete {path}"
    if kind == "add":
        dicts = [(p, n) for p, n in _nodes(tree) if isinstance(n, dict)]
        where, target = draw(st.sampled_from(dicts))
        key = draw(st.sampled_from(["colour", "typ", "elements", "fill", "x", "\x00"]))
        target[key] = draw(scalars)
        return name, tree, f"{name}: add {key!r} at {where}"
    value = draw(scalars.filter(lambda v: type(v) is not type(node) or isinstance(node, dict | list)))
    _set(tree, path, value)
    return name, tree, f"{name}: {path} = {value!r:.60}"


def outcome(name: str, tree: Any, folder: Path) -> BaseException | None:
    """What loading and validating the definition ``tree`` (as a file in ``folder``) raised."""
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(tree, sort_keys=False, allow_unicode=True), encoding="utf-8")
    try:
        report = pr.load(path)
        pr.validate(report, sample_data(name))
    except BaseException as error:  # a Rust panic is a BaseException
        return error
    return None


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutation=mutated_definitions())
def test_a_mutated_gallery_definition_loads_or_fails_clearly(
    mutation: tuple[str, Any, str], gallery_copy: Path
) -> None:
    name, tree, description = mutation
    error = outcome(name, tree, gallery_copy)
    assert error is None or isinstance(error, pr.PolarReportsError), f"{description}: {error!r}"


def test_an_expression_error_points_at_the_position_as_written(tmp_path: Path) -> None:
    text = (
        "name: r\nparameters: [{name: year, type: integer}]\n"
        "filter: 'region = :year AND (quantity <= '\nbands: {detail: {elements: [{type: field, column: region}]}}\n"
    )
    with pytest.raises(pr.PlanError) as error:
        pr.validate(load_text(tmp_path, text), pr.sample.sales_data(5))
    assert str(error.value) == (
        f"{tmp_path / 'report.yaml'}, line 3: filter: cannot parse the expression "
        "'region = :year AND (quantity <= ' at position 33 (its end): expected an expression"
    )


def test_an_expression_error_past_a_parameter_counts_as_written(tmp_path: Path) -> None:
    text = "name: r\nparameters: [{name: rate}]\ncolumns: {x: ':rate + * quantity'}\n"
    with pytest.raises(pr.PlanError) as error:
        pr.validate(load_text(tmp_path, text), pr.sample.sales_data(5))
    assert "at position 9 (at '* quantity'): expected an expression, found '*'" in str(error.value)
    assert "__p__" not in str(error.value)


def test_a_width_without_a_unit_is_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(pr.DefinitionError) as error:
        load_text(tmp_path, "name: r\nbands:\n  detail:\n    elements:\n      - {type: label, text: a, width: 10}\n")
    assert str(error.value) == (
        f"{tmp_path / 'report.yaml'}, line 5: bands.detail.elements[0].width: 10 has no unit: a width needs one, "
        "such as '10mm', '10pt' or '10%' (a bare number is ambiguous for a width)"
    )


def test_a_plan_error_names_the_file_and_line_of_each_problem(tmp_path: Path) -> None:
    text = (
        "name: r\nvariables:\n  - {name: units, calculation: sum, expression: quantity}\nbands:\n  detail:\n"
        "    elements:\n      - {type: field, column: prodct}\n  summary:\n    elements:\n"
        "      - {type: aggregate, variable: unit}\n"
    )
    with pytest.raises(pr.PlanError) as error:
        pr.validate(load_text(tmp_path, text), pr.sample.sales_data(5))
    path = tmp_path / "report.yaml"
    assert error.value.issues == [
        f"{path}, line 7: bands.detail.elements[0] (field 'prodct'): unknown column 'prodct'; did you mean 'product'?",
        f"{path}, line 10: bands.summary.elements[0] (aggregate 'unit'): unknown variable 'unit'; "
        "did you mean 'units'?",
    ]
