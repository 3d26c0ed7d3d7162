"""Build the lazy frames each band reads from, and check every type before any row is read.

- ``rows``: parameters as literal columns, the filter, derived columns, group keys, the sort
  (group keys first), a ``__row`` index, and each variable's running value under its name.
- one frame per group level ``k``: the cumulative group_by over the first ``k`` keys, with
  ``__start``/``__end`` (the group's first and last row) and each variable's group total.
- ``report``: one row of report totals.

    >>> import polars as pl, polarreports as pr
    >>> from polarreports.plan import build_plan
    >>> report = pr.Report(name="r", groups=[pr.Group(name="g")],
    ...     variables=[pr.Variable(name="n", calculation="count")])
    >>> lf = pl.LazyFrame({"g": ["b", "a", "a"]})
    >>> scopes = build_scopes(build_plan(report, lf.collect_schema(), {}), lf)
    >>> scopes.groups[1].select("g", "n").collect().rows()
    [('a', 2), ('b', 1)]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from polarreports.exceptions import FormatError, PlanError
from polarreports.formatting import check_pattern
from polarreports.plan.build import FIRST_PREFIX, RUNNING_PREFIX
from polarreports.plan.calculations import NUMERIC_ONLY, running, total
from polarreports.plan.expressions import param_column
from polarreports.plan.model import BandPlan, ReportPlan
from polarreports.plan.parameters import POLARS_TYPES

__all__ = ["ROW_INDEX", "Scopes", "build_scopes"]

ROW_INDEX = "__row"


@dataclass
class Scopes:
    rows: pl.LazyFrame
    groups: dict[int, pl.LazyFrame]
    report: pl.LazyFrame
    dtypes: dict[str, pl.DataType] = field(default_factory=dict)
    """The value type of every data cell, by the cell's ``where``."""

    def frame(self, band: BandPlan) -> pl.LazyFrame:
        if band.scope == "rows":
            return self.rows
        if band.scope == "group":
            return self.groups[band.level]
        return self.report


def _rows(plan: ReportPlan, lf: pl.LazyFrame) -> pl.LazyFrame:
    declared = {p.name: p.type for p in plan.report.parameters}
    if plan.parameters:
        lf = lf.with_columns(
            pl.lit(value, dtype=POLARS_TYPES[declared[name]]).alias(param_column(name))
            for name, value in plan.parameters.items()
        )
    if plan.filter is not None:
        _check_filter(plan.filter, lf)
        lf = lf.filter(plan.filter)
    for name, expr in plan.derived:
        lf = lf.with_columns(expr.alias(name))
    computed_keys = [g.key.alias(g.name) for g in plan.groups if not g.key.meta.eq(pl.col(g.name))]
    if computed_keys:
        lf = lf.with_columns(computed_keys)
    by = [pl.col(g.name) for g in plan.groups] + [expr for expr, _ in plan.sort]
    if by:
        descending = [g.descending for g in plan.groups] + [d for _, d in plan.sort]
        lf = lf.sort(by, descending=descending, nulls_last=True, maintain_order=True)
    lf = lf.with_row_index(ROW_INDEX)
    keys = plan.group_keys
    if plan.variables:
        lf = lf.with_columns(
            running(v.calculation, v.value, keys[: v.reset_level]).alias(v.name) for v in plan.variables
        )
    return lf


def _check_filter(row_filter: pl.Expr, lf: pl.LazyFrame) -> None:
    try:
        dtype = lf.select(row_filter).collect_schema().dtypes()[0]
    except pl.exceptions.PolarsError as error:
        raise PlanError([f"filter: cannot compute: {_first_line(error)}"]) from None
    if dtype != pl.Boolean:
        raise PlanError([f"filter: must be true or false for each row, but gives {dtype}"])


def _totals(plan: ReportPlan, level: int) -> list[pl.Expr]:
    return [
        *(total(v.calculation, v.value).alias(v.name) for v in plan.variables),
        *(pl.col(c).first().alias(FIRST_PREFIX + c) for c in dict.fromkeys(plan.first_columns.get(level, ()))),
        *(pl.col(param_column(name)).first() for name in plan.parameters),
    ]


def _group(plan: ReportPlan, rows: pl.LazyFrame, level: int) -> pl.LazyFrame:
    keys = plan.group_keys[:level]
    frame = (
        rows.group_by(keys)
        .agg(
            pl.col(ROW_INDEX).min().alias("__start"),
            pl.col(ROW_INDEX).max().alias("__end"),
            *_totals(plan, level),
        )
        .sort("__start")
    )
    if level in plan.running_levels:
        at_end = rows.select(
            pl.col(ROW_INDEX).alias("__end"), *(pl.col(v.name).alias(RUNNING_PREFIX + v.name) for v in plan.variables)
        )
        frame = frame.join(at_end, on="__end", how="left", maintain_order="left")
    return frame


def _report(plan: ReportPlan, rows: pl.LazyFrame) -> pl.LazyFrame:
    return rows.select(pl.len().alias("__rows"), *_totals(plan, 0))


def _check_types(plan: ReportPlan, scopes: Scopes) -> None:
    issues: list[str] = []
    try:
        row_schema = scopes.rows.collect_schema()
    except pl.exceptions.PolarsError as error:
        raise PlanError([f"the filter, derived columns or sort cannot be computed: {_first_line(error)}"]) from None
    for i, variable in enumerate(plan.variables):
        if variable.value is None or variable.calculation not in NUMERIC_ONLY:
            continue
        try:
            dtype = pl.LazyFrame(schema=row_schema).select(variable.value).collect_schema().dtypes()[0]
        except pl.exceptions.PolarsError as error:
            issues.append(f"variables[{i}] ({variable.name!r}): {_first_line(error)}")
            continue
        if not (dtype.is_numeric() or dtype in (pl.Duration, pl.Boolean)):
            issues.append(
                f"variables[{i}] ({variable.name!r}): a {variable.calculation} needs numbers, "
                f"but its expression is {dtype}"
            )
    if issues:
        raise PlanError(issues)
    for band in plan.bands:
        frame = scopes.frame(band)
        for cell in band.data_cells:
            assert cell.value is not None
            try:
                dtype = frame.select(cell.value).collect_schema().dtypes()[0]
            except pl.exceptions.PolarsError as error:
                issues.append(f"{cell.where}: cannot compute: {_first_line(error)}")
                continue
            scopes.dtypes[cell.where] = dtype
            try:
                check_pattern(cell.pattern, dtype, where=cell.where)
            except FormatError as error:
                issues.append(str(error))
    if issues:
        raise PlanError(issues)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def build_scopes(plan: ReportPlan, lf: pl.LazyFrame) -> Scopes:
    """The lazy frames of every scope; raises ``PlanError`` if any value has the wrong type."""
    rows = _rows(plan, lf)
    groups = {g.level: _group(plan, rows, g.level) for g in plan.groups}
    scopes = Scopes(rows=rows, groups=groups, report=_report(plan, rows))
    _check_types(plan, scopes)
    return scopes
