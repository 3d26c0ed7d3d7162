"""The plan holds the definition resolved: no ``Report`` in it, and no module of the later
stages (emit, stream, typeset, output) reads the definition's ``Report`` or ``Group``; what they
need is in typed plan fields, made once in ``plan/`` (checked here against the definition)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import polars as pl
import pytest

import polarreports as pr
from polarreports.plan import build_plan
from polarreports.plan.geometry import cell_widths, column_width
from polarreports.plan.model import BandKind, ReportPlan
from polarreports.plan.panels import panel_plans
from tests.conftest import ROOT

PACKAGE = ROOT / "polarreports"
DOWNSTREAM = ("emit", "stream", "typeset", "output")
WHOLE_DEFINITION = {"Report", "Group", "Bands", "Variable"}
"""Definition models a later stage must not read: the plan resolves what it needs of them."""


def _modules() -> list[Path]:
    return sorted(path for layer in DOWNSTREAM for path in (PACKAGE / layer).rglob("*.py"))


def _names_a_plan(node: ast.expr) -> bool:
    """Whether ``node`` is ``plan``, ``self.plan``, ``rendered.plan``, ``self._plan`` ..."""
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name.lstrip("_").endswith("plan")


def _reads_of_the_definition(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("polarreports.definition"):
            found += [f"line {node.lineno}: imports {a.name}" for a in node.names if a.name in WHOLE_DEFINITION]
        if isinstance(node, ast.Attribute) and node.attr == "report" and _names_a_plan(node.value):
            found.append(f"line {node.lineno}: reads {ast.unparse(node)}")
    return found


def test_the_plan_keeps_no_definition() -> None:
    fields = {f.name: str(f.type) for f in dataclasses.fields(ReportPlan)}
    assert "report" not in fields
    assert not [name for name, kind in fields.items() if "Report" in kind.replace("ReportPlan", "")]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_later_stage_reads_the_definition(path: Path) -> None:
    assert _reads_of_the_definition(path) == []


def test_the_check_finds_a_read(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from polarreports.definition.report import Group, PageSetup\n"
        "def f(self, plan):\n    return self.plan.report.page, plan.report.name, scopes.report\n"
    )
    assert _reads_of_the_definition(module) == [
        "line 1: imports Group",
        "line 3: reads self.plan.report",
        "line 3: reads plan.report",
    ]


SCHEMA = {"region": pl.String, "customer": pl.String, "amount": pl.Float64, "note": pl.String}


def _report(**options: object) -> pr.Report:
    groups = [
        pr.Group(
            name="region",
            keep_together=True,
            min_space="2cm",
            reprint_header=True,
            continued_text="(cont.)",
            header=pr.Band(elements=[pr.Field(column="region")]),
        ),
        pr.Group(name="customer", outline=False, footer_position="page_bottom"),
        pr.Group(name="note", new_page=True, header=pr.Band(elements=[pr.Field(column="note")])),
    ]
    detail = pr.Band(
        elements=[
            pr.Field(column="customer", width="30%"),
            pr.Field(column="amount", width="2fr", link="'https://x.org/' + customer"),
            pr.Field(column="note"),
        ]
    )
    return pr.Report(
        name="r",
        groups=groups,
        variables=[pr.Variable(name="total", calculation="sum", expression=" amount ")],
        parameters=[pr.Parameter(name="year", type="integer")],
        bands=pr.Bands(detail=detail),
        **options,  # type: ignore[arg-type]
    )


def test_group_options_are_resolved_once() -> None:
    report = _report(outline=True, page=pr.PageSetup(font_size=10))
    plan = build_plan(report, pl.Schema(SCHEMA), {})
    region, customer, note = plan.groups
    assert (region.keep_together, region.reprint_header, region.continued_text) == (True, True, "(cont.)")
    assert region.min_space == pytest.approx(20 * 72 / 25.4)
    assert (customer.min_space, customer.footer_position, customer.asks_for_room) == (None, "page_bottom", False)
    assert note.new_page
    assert plan.asks_for_room
    # bookmarks: the customer level has none, so the note level's headings rank second
    assert [g.heading_rank for g in plan.groups] == [1, 0, 2]
    assert (plan.outline, plan.contents_title) == (True, None)
    assert plan.parameter_types == {"year": "integer"}
    assert plan.variables[0].source == "amount"
    assert (plan.name, plan.title, plan.locale, plan.currency) == ("r", "r", "en_US", None)


@pytest.mark.parametrize(("contents", "title"), [(False, None), (True, "Contents"), ("Inhalt", "Inhalt")])
def test_the_contents_title(contents: bool | str, title: str | None) -> None:
    plan = build_plan(_report(table_of_contents=contents, title="T"), pl.Schema(SCHEMA), {})
    assert (plan.contents_title, plan.title) == (title, "T")


def test_cell_widths_are_the_shown_cells_across_the_column() -> None:
    page = pr.PageSetup(size="a5", columns=2, column_gap="10mm")
    plan = build_plan(_report(page=page), pl.Schema(SCHEMA), {})
    detail = plan.band(BandKind.DETAIL)
    assert detail is not None
    assert plan.column_width == column_width(page) == detail.column_width
    shown = [cell for cell in detail.cells if not cell.hidden]
    assert len(shown) == 3 < len(detail.cells)  # the link's cell is hidden
    assert detail.widths == tuple(cell_widths([cell.element for cell in shown], column_width(page)))
    assert detail.shown_cells == tuple(shown)


def test_a_panel_has_the_widths_of_its_own_cells() -> None:
    wide = [pr.Field(column=c, width="55mm") for c in ("a", "b", "c", "d")]
    report = pr.Report(name="r", page=pr.PageSetup(wide="continue"), bands=pr.Bands(detail=pr.Band(elements=wide)))
    plan = build_plan(report, dict.fromkeys("abcd", pl.Int64), {})
    first, second = panel_plans(plan)
    assert len(plan.bands[0].widths) == 4
    assert len(first.bands[0].widths) == 3
    assert len(second.bands[0].widths) == 2
