"""Bind a report definition to its parameters and to the data's column names.

Every problem found is collected, then raised together as one ``PlanError``; nothing here
reads data. Types are checked afterwards, when the lazy frames are built (``data.scopes``).

    >>> import polars as pl, polarreports as pr
    >>> report = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="amout")])))
    >>> try:
    ...     build_plan(report, pl.Schema({"amount": pl.Float64}), {})
    ... except pr.PlanError as error:
    ...     print(error)
    bands.detail.elements[0] (field 'amout'): unknown column 'amout'; did you mean 'amount'?
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from polarreports.definition.elements import Aggregate, Chart, Element, Expression, Field, Image
from polarreports.definition.report import Band, Report
from polarreports.exceptions import PlanError
from polarreports.layout.placement import placement_issues
from polarreports.plan.calculations import PERCENTABLE, row_share, total
from polarreports.plan.expressions import ExpressionError, closest, param_column, root_names, to_expr
from polarreports.plan.model import (
    REPORT_BANDS,
    BandPlan,
    Cell,
    ChartPlan,
    GroupLevel,
    ReportPlan,
    Scope,
    VariablePlan,
)
from polarreports.plan.parameters import resolve_parameters

__all__ = ["FIRST_PREFIX", "RUNNING_PREFIX", "build_plan"]

FIRST_PREFIX = "__first__"
RUNNING_PREFIX = "__run__"


def _chart_title(element: Element) -> str | None:
    title = getattr(element, "spec", {}).get("title") if isinstance(element, Chart) else None
    if isinstance(title, dict):
        title = title.get("text")
    return title if isinstance(title, str) else None


def _describe(element: Element) -> str:
    ident = {
        "field": getattr(element, "column", None),
        "aggregate": getattr(element, "variable", None),
        "label": getattr(element, "text", None),
        "expression": getattr(element, "expr", None),
        "image": getattr(element, "path", None),
        "chart": _chart_title(element),
    }.get(element.type)
    if ident is None or not isinstance(ident, str):
        return element.type
    if len(ident) > 40:
        ident = ident[:37] + "..."
    return f"{element.type} {ident!r}"


class _Builder:
    def __init__(self, report: Report, schema: pl.Schema, params: dict[str, Any], base_dir: Path) -> None:
        self.report = report
        self.params = params
        self.base_dir = base_dir
        self.issues: list[str] = []
        self.columns: list[str] = list(schema.names())
        self.param_columns = {name: param_column(name) for name in params}
        self.first_columns: dict[int, list[str]] = {}
        self.running_levels: set[int] = set()
        self.charts: list[ChartPlan] = []

    # -- helpers -------------------------------------------------------------------------

    def issue(self, message: str) -> None:
        self.issues.append(message)

    def expr(self, source: str | pl.Expr, where: str, allowed: Collection[str], scope_hint: str = "") -> pl.Expr | None:
        try:
            expr = to_expr(source, self.params)
        except ExpressionError as error:
            self.issue(f"{where}: {error}")
            return None
        for name in root_names(expr):
            if name not in allowed:
                self.issue(f"{where}: unknown column {name!r}{closest(name, allowed)}{scope_hint}")
                return None
        return expr

    # -- stages --------------------------------------------------------------------------

    def build(self) -> ReportPlan:
        report = self.report
        available = [*self.columns, *self.param_columns.values()]
        row_filter = None
        if report.filter is not None:
            row_filter = self.expr(report.filter, "filter", available)
        derived: list[tuple[str, pl.Expr]] = []
        for name, source in report.columns.items():
            column = self.expr(source, f"columns.{name}", available)
            if column is not None:
                derived.append((name, column))
            available.append(name)
        groups = self._groups(available)
        available.extend(g.name for g in groups if g.name not in available)
        sort = []
        expr: pl.Expr | None
        for i, key in enumerate(report.sort):
            source = key.column
            if isinstance(source, str) and source in available:
                expr = pl.col(source)
            else:
                expr = self.expr(source, f"sort[{i}]", available)
            if expr is not None:
                sort.append((expr, key.descending))
        variables = self._variables(available, groups)
        self.rows_names = [*available, *(v.name for v in variables)]
        bands = self._bands(groups, variables)
        if self.issues:
            raise PlanError(self.issues)
        return ReportPlan(
            report=report,
            parameters=self.params,
            base_dir=self.base_dir,
            filter=row_filter,
            derived=tuple(derived),
            groups=tuple(groups),
            sort=tuple(sort),
            variables=tuple(variables),
            bands=tuple(bands),
            first_columns={k: tuple(v) for k, v in self.first_columns.items()},
            running_levels=frozenset(self.running_levels),
            charts=tuple(self.charts),
        )

    def _groups(self, available: list[str]) -> list[GroupLevel]:
        groups = []
        seen: set[str] = set()
        for i, group in enumerate(self.report.groups):
            where = f"groups[{i}] ({group.name!r})"
            if group.name in seen:
                self.issue(f"{where}: a group named {group.name!r} comes twice")
            seen.add(group.name)
            if group.key is None:
                if group.name not in available:
                    self.issue(
                        f"{where}: unknown column {group.name!r}{closest(group.name, available)} "
                        "(a group without a key groups by the column of its name)"
                    )
                    continue
                key: pl.Expr | None = pl.col(group.name)
            else:
                key = self.expr(group.key, f"{where}.key", available)
            if key is not None:
                groups.append(GroupLevel(group.name, key, group.descending, i + 1))
        return groups

    def _variables(self, available: list[str], groups: list[GroupLevel]) -> list[VariablePlan]:
        levels = {g.name: g.level for g in groups}
        variables = []
        for i, variable in enumerate(self.report.variables):
            where = f"variables[{i}] ({variable.name!r})"
            if variable.name in available:
                self.issue(f"{where}: the name {variable.name!r} is already a column; choose another")
                continue
            if variable.reset != "report" and variable.reset not in levels:
                hint = closest(variable.reset, levels)
                self.issue(f"{where}: resets on unknown group {variable.reset!r}{hint} (groups: {list(levels)})")
                continue
            value = None
            if variable.expression is not None:
                value = self.expr(variable.expression, f"{where}.expression", available)
                if value is None:
                    continue
            reset_level = 0 if variable.reset == "report" else levels[variable.reset]
            variables.append(VariablePlan(variable.name, variable.calculation, value, reset_level))
        return variables

    def _bands(self, groups: list[GroupLevel], variables: list[VariablePlan]) -> list[BandPlan]:
        report = self.report
        plans: list[BandPlan] = []
        deepest = len(groups) + 1
        if report.bands.detail is not None:
            plans.append(self._band("detail", "bands.detail", report.bands.detail, "rows", deepest, groups, variables))
        for group in groups:
            definition = report.groups[group.level - 1]
            header = definition.header
            if header is None and definition.new_page:
                header = Band(padding="0pt")  # an empty header carries the page break
            for kind, band in (("group_header", header), ("group_footer", definition.footer)):
                if band is not None:
                    name = f"groups[{group.level - 1}] ({group.name!r}).{kind.removeprefix('group_')}"
                    plans.append(self._band(kind, name, band, "group", group.level, groups, variables))
        for kind in REPORT_BANDS:
            band = getattr(report.bands, kind)
            if band is not None:
                plans.append(self._band(kind, f"bands.{kind}", band, "report", 0, groups, variables))
        return plans

    def _band(
        self,
        kind: str,
        name: str,
        band: Band,
        scope: Scope,
        level: int,
        groups: list[GroupLevel],
        variables: list[VariablePlan],
    ) -> BandPlan:
        cells = []
        for i, element in enumerate(band.elements):
            where = f"{name}.elements[{i}] ({_describe(element)})"
            cell = self._cell(element, where, scope, level, groups, variables)
            if cell is not None:
                cells.append(cell)
        when = None
        if band.print_when is not None:
            names = self._scope_names(scope, level, groups, variables)
            when = self.expr(band.print_when, f"{name}.print_when", names)
        for issue in placement_issues(band, name, self.report.page):
            self.issue(issue)
        new_page = kind == "group_header" and self.report.groups[level - 1].new_page
        return BandPlan(
            kind,
            name,
            band,
            scope,
            level if scope == "group" else 0,
            tuple(cells),
            when,
            band.page_break_before or new_page,
        )

    def _scope_names(
        self, scope: Scope, level: int, groups: list[GroupLevel], variables: list[VariablePlan]
    ) -> list[str]:
        if scope == "rows":
            return self.rows_names
        keys = [g.name for g in groups[:level]] if scope == "group" else []
        return [*keys, *(v.name for v in variables), *self.param_columns.values()]

    def _cell(
        self,
        element: Element,
        where: str,
        scope: Scope,
        level: int,
        groups: list[GroupLevel],
        variables: list[VariablePlan],
    ) -> Cell | None:
        names = self._scope_names(scope, level, groups, variables)
        if isinstance(element, Field):
            column = element.column
            if column in names:
                return Cell(element, where, pl.col(column), element.format)
            if scope != "rows" and column in self.params:
                return Cell(element, where, pl.col(self.param_columns[column]), element.format)
            if scope != "rows" and column in self.rows_names and column not in {v.name for v in variables}:
                self.first_columns.setdefault(level if scope == "group" else 0, []).append(column)
                return Cell(element, where, pl.col(FIRST_PREFIX + column), element.format)
            candidates = [*self.rows_names, *self.params]
            self.issue(f"{where}: unknown column {column!r}{closest(column, candidates)}")
            return None
        if isinstance(element, Expression):
            hint = ""
            if scope != "rows":
                hint = (
                    " (in group bands and the title, summary and page bands an expression can use"
                    " group keys, variables and :parameters)"
                )
            expr = self.expr(element.expr, where, names, hint)
            return None if expr is None else Cell(element, where, expr, element.format)
        if isinstance(element, Aggregate):
            return self._aggregate(element, where, scope, level, groups, variables)
        if isinstance(element, Chart):
            return self._chart(element, where, scope, level)
        if isinstance(element, Image):
            path = (self.base_dir / element.path).resolve()
            if not path.is_file():
                self.issue(f"{where}: image file not found: {path}")
                return None
        return Cell(element, where)

    def _chart(self, element: Chart, where: str, scope: Scope, level: int) -> Cell | None:
        if scope == "rows":
            return self._row_chart(element, where)
        ok = True
        for dimension in element.by:
            if dimension.column not in self.rows_names:
                hint = closest(dimension.column, self.rows_names)
                self.issue(f"{where}: unknown column {dimension.column!r}{hint} in the chart's 'by'")
                ok = False
        for name, source in element.measures.items():
            ok = self.expr(source, f"{where} measure {name!r}", self.rows_names) is not None and ok
        if not element.measures:
            self.issue(f"{where}: a chart needs at least one measure, such as {{n: 'count(*)'}}")
            ok = False
        if not ok:
            return None
        chart = ChartPlan(len(self.charts), element, where, level if scope == "group" else 0)
        self.charts.append(chart)
        return Cell(element, where, pl.col(chart.column))

    def _row_chart(self, element: Chart, where: str) -> Cell | None:
        """A chart in the detail band (a sparkline): one series per row, from the row's list
        columns: ``by`` names the list of x values (or, without it, x is the position) and each
        measure a list of y values."""
        fields = []
        for dimension in element.by:
            if dimension.column not in self.rows_names:
                hint = closest(dimension.column, self.rows_names)
                self.issue(f"{where}: unknown column {dimension.column!r}{hint} in the chart's 'by'")
                return None
            fields.append(pl.col(dimension.column))
        for name, source in element.measures.items():
            expr = self.expr(source, f"{where} measure {name!r}", self.rows_names)
            if expr is None:
                return None
            fields.append(expr.alias(name))
        if not element.measures:
            self.issue(f"{where}: a chart in the detail band needs a measure: a list column of the row")
            return None
        return Cell(element, where, pl.struct(fields).struct.json_encode())

    def _aggregate(
        self,
        element: Aggregate,
        where: str,
        scope: Scope,
        level: int,
        groups: list[GroupLevel],
        variables: list[VariablePlan],
    ) -> Cell | None:
        by_name = {v.name: v for v in variables}
        variable = by_name.get(element.variable)
        if variable is None:
            self.issue(f"{where}: unknown variable {element.variable!r}{closest(element.variable, by_name)}")
            return None
        keys = [g.name for g in groups]
        band_level = {"rows": len(groups) + 1, "group": level, "report": 0}[scope]
        default = "0.0%" if element.show == "percent" else None
        name = variable.name
        if element.show == "percent":
            if variable.calculation not in PERCENTABLE:
                self.issue(f"{where}: a percent of total needs a sum or count variable, not {variable.calculation}")
                return None
            of_level = max(band_level - 1, 0)
            if element.of is not None and element.of != "report":
                levels = {g.name: g.level for g in groups}
                if element.of not in levels:
                    self.issue(f"{where}: unknown group {element.of!r}{closest(element.of, levels)}")
                    return None
                of_level = levels[element.of]
                if of_level >= band_level:
                    self.issue(f"{where}: {element.of!r} does not enclose this band, so it has no total to divide by")
                    return None
            elif element.of == "report":
                of_level = 0
            if scope == "rows":
                denominator = total(variable.calculation, variable.value)
                share = row_share(variable.calculation, variable.value)
            else:
                denominator, share = pl.col(name).sum(), pl.col(name)
            if of_level:
                denominator = denominator.over(keys[:of_level])
            value = share.cast(pl.Float64) / denominator.cast(pl.Float64)
            return Cell(element, where, value, element.format, default)
        if scope == "rows":
            if element.show == "running":
                return Cell(element, where, pl.col(name), element.format)
            value = total(variable.calculation, variable.value)
            if variable.reset_level:
                value = value.over(keys[: variable.reset_level])
            return Cell(element, where, value, element.format)
        if scope == "group" and element.show == "running":
            self.running_levels.add(level)
            return Cell(element, where, pl.col(RUNNING_PREFIX + name), element.format)
        return Cell(element, where, pl.col(name), element.format)


def build_plan(
    report: Report,
    schema: pl.Schema | Mapping[str, pl.DataType],
    params: Mapping[str, Any],
    *,
    base_dir: Path | None = None,
) -> ReportPlan:
    """Resolve ``report`` against the column names of ``schema`` and the given parameters."""
    values = resolve_parameters(report.parameters, params)
    schema = schema if isinstance(schema, pl.Schema) else pl.Schema(schema)
    return _Builder(report, schema, values, base_dir or Path.cwd()).build()
