"""The definition: YAML/JSON round trips, the JSON Schema, and clear errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml

import polarreports as pr
from tests.conftest import EXAMPLE, ROOT, pdf_lines


def every_example() -> list[Path]:
    return sorted((ROOT / "examples").glob("*.yaml"))


def small_report() -> pr.Report:
    return pr.Report(
        name="round_trip",
        title="Round trip: «quotes» & 'apostrophes'",
        page=pr.PageSetup(size="us-letter", orientation="landscape", margins=pr.Margins(top="20mm")),
        parameters=[pr.Parameter(name="country", type="string", default="Ísland", allowed=["Ísland", "Norge"])],
        filter="country = :country",
        columns={"amount": "quantity * unit_price"},
        sort=["order_date", pr.SortKey(column="amount", descending=True)],
        groups=[pr.Group(name="region", header=pr.Band(elements=[pr.Field(column="region", bold=True)]))],
        variables=[pr.Variable(name="total", calculation="sum", expression="amount", reset="region")],
        bands=pr.Bands(
            detail=pr.Band(
                elements=[
                    pr.Field(column="amount", format="#,##0.00", width="30mm"),
                    pr.Aggregate(variable="total", show="running"),
                    pr.Line(),
                    pr.Box(height=10, fill="#eeeeee"),
                    pr.PageNumber(),
                ]
            )
        ),
    )


@pytest.mark.parametrize("path", every_example(), ids=lambda p: p.name)
def test_examples_round_trip_through_yaml_and_json(path: Path) -> None:
    report = pr.load(path)
    assert pr.Report.from_yaml(report.to_yaml()) == report
    assert pr.Report.from_json(report.to_json()) == report


def test_constructed_report_round_trips() -> None:
    report = small_report()
    assert pr.Report.from_yaml(report.to_yaml()) == report
    assert pr.Report.from_json(report.to_json()) == report


def test_json_schema_validates_the_examples_and_rejects_a_typo() -> None:
    import jsonschema  # here: its import takes 1.4 s (it builds a URI grammar), paid by one test process

    schema = pr.Report.json_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)  # once: jsonschema.validate checks it at every call
    validator = validator_class(schema)
    for path in every_example():
        validator.validate(yaml.safe_load(path.read_text()))
    bad = yaml.safe_load(EXAMPLE.read_text())
    bad["bands"]["detail"]["elements"][0]["colunm"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(bad)


def test_unknown_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nbands:\n  detail:\n    elements:\n      - {type: field, colunm: amount}\n")
    with pytest.raises(pr.DefinitionError) as error:
        pr.load(path)
    assert (
        "bands.detail.elements[0].colunm: unknown key; did you mean 'column'? (allowed keys: width, align, bold"
        in str(error.value)
    )
    assert "column" in str(error.value).rsplit("allowed keys:", 1)[1]


def test_malformed_yaml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(pr.DefinitionError, match="not valid YAML"):
        pr.load(path)
    with pytest.raises(pr.DefinitionError, match="cannot read the definition"):
        pr.load(tmp_path / "missing.yaml")


def test_bad_length_and_colour_are_rejected() -> None:
    with pytest.raises(pr.DefinitionError, match="is not a length"):
        pr.Field(column="a", width="wide")
    with pytest.raises(pr.DefinitionError, match="is not a hex colour"):
        pr.Label(text="a", color="red; #panic()")


@pytest.mark.typst
def test_polars_expressions_work_in_python_but_cannot_be_saved() -> None:
    detail = pr.Bands(detail=pr.Band(elements=[pr.Field(column="double", format="0")]))
    report = pr.Report(name="expr", columns={"double": pl.col("v") * 21}, bands=detail)
    assert "42" in pdf_lines(report.render(pl.DataFrame({"v": [1, 2]})).pdf)
    with pytest.raises(pr.DefinitionError, match="cannot be saved in a definition file"):
        report.to_yaml()


def test_definition_files_are_never_evaluated_as_python(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(pr.DefinitionError):
        pr.load(path)


def test_schema_command_output_is_json() -> None:
    schema = pr.Report.json_schema()
    assert json.loads(json.dumps(schema))["title"] == "polarreports report definition"
