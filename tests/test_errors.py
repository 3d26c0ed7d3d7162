"""Bad input gets a clear error that names the problem, and nothing is lost."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import polarreports as pr

DATA = pl.DataFrame(
    {
        "region": ["North", "South"],
        "customer": ["Åsa AB", "Núñez S.A."],
        "amount": [10.5, 20.25],
        "when": [dt.date(2024, 1, 2), dt.date(2024, 3, 4)],
    }
)


def detail(*elements: pr.Field | pr.Expression | pr.Aggregate | pr.Image | pr.Label) -> pr.Bands:
    return pr.Bands(detail=pr.Band(elements=list(elements)))


def test_unknown_column_names_the_closest_ones() -> None:
    report = pr.Report(name="r", bands=detail(pr.Field(column="amout")))
    with pytest.raises(pr.PlanError) as error:
        report.render(DATA)
    assert (
        str(error.value) == "bands.detail.elements[0] (field 'amout'): unknown column 'amout'; did you mean 'amount'?"
    )


def test_every_problem_is_reported_at_once() -> None:
    report = pr.Report(
        name="r",
        groups=[pr.Group(name="regoin")],
        variables=[pr.Variable(name="total", calculation="sum", expression="amonut", reset="region")],
        bands=detail(pr.Field(column="custmer"), pr.Expression(expr="amount * rate")),
    )
    with pytest.raises(pr.PlanError) as error:
        report.render(DATA)
    issues = error.value.issues
    assert len(issues) == 4
    assert "groups[0] ('regoin'): unknown column 'regoin'; did you mean 'region'?" in issues[0]
    assert "variables[0] ('total')" in issues[1]
    assert "did you mean 'customer'?" in issues[2]
    assert "unknown column 'rate'" in issues[3]


def test_calculation_that_does_not_fit_the_column_type() -> None:
    report = pr.Report(name="r", variables=[pr.Variable(name="total", calculation="sum", expression="customer")])
    with pytest.raises(
        pr.PlanError, match=r"variables\[0\] \('total'\): a sum needs numbers, but its expression is String"
    ):
        report.render(DATA)


def test_expression_that_does_not_parse() -> None:
    report = pr.Report(name="r", bands=detail(pr.Expression(expr="amount * * 2")))
    with pytest.raises(
        pr.PlanError, match=r"bands\.detail\.elements\[0\] \(expression 'amount \* \* 2'\): cannot parse"
    ):
        report.render(DATA)


def test_filter_that_is_not_true_or_false() -> None:
    report = pr.Report(name="r", filter="amount * 2")
    with pytest.raises(pr.PlanError, match="filter: must be true or false for each row, but gives Float64"):
        report.render(DATA)


def test_variable_resetting_on_an_unknown_group() -> None:
    report = pr.Report(
        name="r",
        groups=[pr.Group(name="region")],
        variables=[pr.Variable(name="n", calculation="count", reset="regions")],
    )
    with pytest.raises(pr.PlanError, match="resets on unknown group 'regions'; did you mean 'region'"):
        report.render(DATA)


def test_unknown_variable_in_an_aggregate() -> None:
    report = pr.Report(
        name="r",
        variables=[pr.Variable(name="total", calculation="count")],
        bands=detail(pr.Aggregate(variable="totl")),
    )
    with pytest.raises(pr.PlanError, match="unknown variable 'totl'; did you mean 'total'"):
        report.render(DATA)


class TestParameters:
    report = pr.Report(
        name="r",
        parameters=[
            pr.Parameter(name="region", type="string", required=True, allowed=["North", "South"]),
            pr.Parameter(name="minimum", type="float", default=0),
            pr.Parameter(name="since", type="date"),
        ],
        filter='region = :region AND amount >= :minimum AND (:since IS NULL OR "when" >= :since)',
        bands=detail(pr.Field(column="customer")),
    )

    def test_missing_required_parameter(self) -> None:
        with pytest.raises(pr.ParameterError, match=r"parameter 'region' \(string\) is required"):
            self.report.render(DATA)

    def test_unknown_parameter(self) -> None:
        with pytest.raises(pr.ParameterError, match="unknown parameter 'regoin'; did you mean 'region'"):
            self.report.render(DATA, region="North", regoin="x")

    def test_badly_typed_parameter(self) -> None:
        with pytest.raises(pr.ParameterError, match="parameter 'minimum' must be a float, got 'lots'"):
            self.report.render(DATA, region="North", minimum="lots")
        with pytest.raises(pr.ParameterError, match="parameter 'since' must be a date"):
            self.report.render(DATA, region="North", since="2024-13-45")

    def test_value_not_allowed(self) -> None:
        with pytest.raises(pr.ParameterError, match="allowed values"):
            self.report.render(DATA, region="West")

    @pytest.mark.typst
    def test_parameters_filter_rows(self) -> None:
        from tests.conftest import pdf_lines

        lines = pdf_lines(self.report.render(DATA, region="South", minimum="20", since="2024-02-01").pdf)
        assert "Núñez S.A." in lines
        assert "Åsa AB" not in lines

    def test_unknown_parameter_in_an_expression(self) -> None:
        report = pr.Report(name="r", filter="amount > :limit")
        with pytest.raises(pr.PlanError, match=r"filter: unknown parameter ':limit'"):
            report.render(DATA)


def test_bad_format_pattern_names_the_element() -> None:
    report = pr.Report(
        name="r", bands=detail(pr.Field(column="customer"), pr.Field(column="amount", format="#,##0.0.0"))
    )
    with pytest.raises(pr.PlanError, match=r"bands\.detail\.elements\[1\] \(field 'amount'\).*'#,##0\.0\.0'"):
        report.render(DATA)


def test_format_that_does_not_fit_the_type_names_the_element() -> None:
    report = pr.Report(name="r", bands=detail(pr.Field(column="when", format="#,##0.00")))
    with pytest.raises(pr.PlanError, match=r"bands\.detail\.elements\[0\] \(field 'when'\)"):
        report.render(DATA)


def test_unreadable_data(tmp_path: Path) -> None:
    report = pr.Report(name="r")
    with pytest.raises(pr.DataError, match="no such file"):
        report.render(tmp_path / "missing.parquet")
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"this is not parquet")
    with pytest.raises(pr.DataError, match="cannot read"):
        report.render(garbage)
    with pytest.raises(pr.DataError, match="unknown file type"):
        report.render(tmp_path / "data.xlsx")
    with pytest.raises(pr.DataError, match="cannot use a dict"):
        report.render({"a": [1]})


@pytest.mark.typst
def test_typst_failure_is_traced_to_the_band_and_element(tmp_path: Path) -> None:
    broken = tmp_path / "logo.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n but not really an image")
    report = pr.Report(
        name="r",
        image_dirs=[str(tmp_path)],
        groups=[
            pr.Group(name="region", header=pr.Band(elements=[pr.Field(column="region"), pr.Image(path=str(broken))]))
        ],
    )
    with pytest.raises(pr.RenderError) as error:
        _ = report.render(DATA).pdf
    assert error.value.band == "groups[0] ('region').header"
    assert error.value.element is not None
    assert error.value.element.startswith("groups[0] ('region').header.elements[1] (image")
    assert "Typst could not lay out the report in groups[0] ('region').header.elements[1]" in str(error.value)


def test_missing_image_is_a_plan_error() -> None:
    report = pr.Report(name="r", bands=detail(pr.Image(path="no/such/logo.png")))
    with pytest.raises(
        pr.PlanError,
        match=r"bands\.detail\.elements\[0\] \(image 'no/such/logo\.png'\): the image '.*logo\.png' is missing",
    ):
        report.render(DATA)


@pytest.mark.typst
def test_failed_render_leaves_no_file_behind(tmp_path: Path) -> None:
    broken = tmp_path / "logo.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n but not really an image")  # Typst fails on it
    report = pr.Report(
        name="r", image_dirs=[str(tmp_path)], bands=pr.Bands(title=pr.Band(elements=[pr.Image(path=str(broken))]))
    )
    target = tmp_path / "out" / "report.pdf"
    target.parent.mkdir()
    target.write_bytes(b"the previous, good report")
    with pytest.raises(pr.RenderError):
        report.render(DATA).save(target)
    assert target.read_bytes() == b"the previous, good report"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.pdf"]


def test_unknown_output_suffix() -> None:
    with pytest.raises(pr.OutputError, match=r"use \.pdf, \.png, \.svg\b.*\.html"):
        pr.Report(name="r").render(DATA).save("report.docx")
