"""The group tree of a report with its subtotals, computed without typesetting: for a quick look
while designing (``polarreports inspect``), as rows or as a table for the terminal.

Each group of each level, in report order, with its number of rows and every variable's total
over the group, then the report's totals: the figures the group footers and the summary show,
computed by the same expressions.

    >>> import polarreports as pr
    >>> report = pr.Report(
    ...     name="r",
    ...     groups=[pr.Group(name="region")],
    ...     variables=[pr.Variable(name="units", calculation="sum", expression="quantity")],
    ... )
    >>> tree = group_tree(report, pr.sample.sales_data(50))
    >>> tree.columns
    ('units',)
    >>> tree.groups[0].level, tree.groups[0].key, tree.groups[-1].key
    (1, 'Central', 'Report total')
    >>> sum(g.values[0] for g in tree.groups if g.level == 1) == tree.groups[-1].values[0]
    True
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Any

import polars as pl

from polarreports.api import plan_report, report_parameters
from polarreports.compute.scopes import group_frame, report_frame, sorted_rows
from polarreports.definition.report import Report

__all__ = ["GroupRow", "GroupTree", "group_tree"]

REPORT_TOTAL = "Report total"


@dataclass(frozen=True)
class GroupRow:
    """One group (``level`` 1 is the outermost; 0 is the report), its key, rows and totals."""

    level: int
    key: Any
    rows: int
    values: tuple[Any, ...]


@dataclass(frozen=True)
class GroupTree:
    """Every group in report order, the report's totals last; ``more`` groups were left out."""

    report: str
    levels: tuple[str, ...]
    columns: tuple[str, ...]
    groups: tuple[GroupRow, ...]
    more: int = 0

    def width(self) -> int:
        """The characters a line of :meth:`table` takes, none of its cells cut."""
        from rich.console import Console
        from rich.measure import Measurement

        console = Console(width=10_000)
        return Measurement.get(console, console.options, self.table()).maximum

    def table(self) -> Any:
        """The tree as a ``rich.table.Table``: one indented line per group, a column per variable."""
        from rich.table import Table
        from rich.text import Text

        table = Table(title=Text(f"{self.report}: {' > '.join(self.levels) or 'no groups'}"), title_justify="left")
        cells = [
            ["  " * max(g.level - 1, 0) + (REPORT_TOTAL if g.level == 0 else _shown(g.key)) for g in self.groups],
            [f"{g.rows:,}" for g in self.groups],
            *([_shown(g.values[i]) for g in self.groups] for i in range(len(self.columns))),
        ]
        headings = [" > ".join(self.levels) or "report", "rows", *self.columns]
        for i, (heading, column) in enumerate(zip(headings, cells, strict=True)):
            width = max([len(heading), *(len(cell) for cell in column)])
            table.add_column(Text(heading), justify="left" if i == 0 else "right", no_wrap=True, min_width=width)
        nested = len(self.levels) > 1
        for i, group in enumerate(self.groups):
            if group.level == 0 and self.more:
                table.add_row(f"… {self.more:,} more groups", "", *("" for _ in self.columns), style="dim")
            following = self.groups[i + 1].level if i + 1 < len(self.groups) else 0
            table.add_row(
                *(Text(column[i]) for column in cells),  # as text: data is never markup
                style="bold" if group.level in (0, 1) and nested else None,
                end_section=(nested and following == 1) or (following == 0 and not self.more),
            )
        return table


def _shown(value: Any) -> str:
    """A value as the table shows it: thousands separators, two decimals for fractions."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | decimal.Decimal):
        return f"{value:,.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def group_tree(
    report: Report,
    data: Any,
    /,
    *,
    params: dict[str, Any] | None = None,
    depth: int | None = None,
    limit: int = 500,
    **parameters: Any,
) -> GroupTree:
    """The groups of ``report`` over ``data`` (down to ``depth`` levels; at most ``limit`` groups
    listed) with their totals, and the report's totals; reads the data, typesets nothing. The
    report's parameters go in ``params``, or as further keywords for short, as in ``render``
    (a parameter named ``depth`` or ``limit`` goes in ``params``)."""
    plan, scopes = plan_report(report, data, params=report_parameters(report, params, parameters))
    # a report with no detail band reads its groups without numbering the rows: number them
    rows = scopes.rows if scopes.base is not None else sorted_rows(plan, scopes.rows)
    names = tuple(variable.name for variable in plan.variables)
    levels = plan.groups[: depth if depth is not None else len(plan.groups)]
    frames = []
    for group in levels:
        frame = group_frame(plan, rows, group.level).select(
            pl.lit(group.level, pl.Int32).alias("__level"),
            pl.col(group.name).cast(pl.String).alias("__key"),
            "__start",
            (pl.col("__end") - pl.col("__start") + 1).cast(pl.Int64).alias("__rows"),
            *names,
        )
        frames.append(frame)
    collected = pl.collect_all(
        [
            *(frame.sort("__start", "__level").head(limit) for frame in frames),
            report_frame(plan, rows).select(pl.col("__rows").cast(pl.Int64), *names),
        ]
    )
    counts = pl.collect_all([frame.select(pl.len()) for frame in frames]) if frames else []
    listed = [row for frame in collected[:-1] for row in frame.iter_rows(named=True)]
    listed.sort(key=lambda row: (row["__start"], row["__level"]))
    listed = listed[:limit]
    groups = [GroupRow(row["__level"], row["__key"], row["__rows"], tuple(row[n] for n in names)) for row in listed]
    total = collected[-1].row(0, named=True)
    groups.append(GroupRow(0, REPORT_TOTAL, total["__rows"], tuple(total[n] for n in names)))
    return GroupTree(
        report=report.name,
        levels=tuple(group.name for group in levels),
        columns=names,
        groups=tuple(groups),
        more=sum(count.item() for count in counts) - len(listed),
    )
