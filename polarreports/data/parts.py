"""Sort and number the rows a part at a time, so that a report's memory does not grow with them.

Polars sorts in memory: a million rows with their running totals take about 500 MB at once.
So a long report is cut, at group boundaries, into parts of about ``PART_ROWS`` rows, each a
run of whole groups of the *split level* in report order. Each part is sorted on its own; its
rows are numbered on from the parts before, and the running values that span parts (those
that reset at a coarser level) are carried on from the last row of the part before. Group
and report totals come from each part's pieces, merged (a sum of sums, the first of firsts).

The rows are split only when every value comes out the same (else one part holds them all):
the report has groups and detail rows, no values per page, its variables are ``sum``,
``count``, ``min``, ``max``, ``first`` or ``last`` (their totals and running values can be
continued), and each detail value reads only its own row, or a window within whole groups.

    >>> import polars as pl
    >>> keys = ["g"]
    >>> split_level_of(pl.col("x") * 2, keys), split_level_of(pl.col("x").sum(), keys)
    (1, 0)
    >>> split_level_of(pl.col("x") / pl.col("x").sum().over("g"), keys)
    1
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from polarreports.data.scopes import Scopes, group_frame, join_charts, report_frame, sorted_rows
from polarreports.plan.build import FIRST_PREFIX, RUNNING_PREFIX
from polarreports.plan.model import ReportPlan, VariablePlan

__all__ = [
    "PART_ROWS",
    "Part",
    "batches_of",
    "detail_batches",
    "merged_frames",
    "part_rows",
    "split_level",
    "split_level_of",
    "split_rows",
]

PART_ROWS = 100_000
"""About how many rows a part holds (more if one group of the split level has more)."""

CONTINUABLE = frozenset({"sum", "count", "min", "max", "first", "last"})
"""Calculations whose totals and running values go on from one part to the next."""


@dataclass(frozen=True)
class Part:
    """A run of whole groups of the split level, in report order."""

    keys: pl.DataFrame
    """The split level's group keys of the groups it holds."""
    offset: int
    """Rows before it (its first row's number)."""
    rows: int
    carried: dict[str, pl.Series]
    """Per variable that goes on from the part before: its running value at that part's last
    row (a one-value Series, for its type)."""


def split_level(plan: ReportPlan, detail_values: Sequence[pl.Expr]) -> int:
    """The deepest group level whose groups, kept whole in a part, leave every value as it is
    over all rows; 0 if the rows cannot be split."""
    if not plan.groups or plan.has_page_values:
        return 0
    if any(v.value is not None and v.calculation not in CONTINUABLE for v in plan.variables):
        return 0
    return min((split_level_of(value, plan.group_keys) for value in detail_values), default=len(plan.groups))


def split_level_of(expr: pl.Expr, keys: Sequence[str]) -> int:
    """How many of ``keys`` must be constant in a part for ``expr`` to come out the same on it as
    on all rows: ``len(keys)`` if it reads only its own row, 0 if it reads every row."""
    try:
        tree = json.loads(expr.meta.serialize(format="json"))
    except (pl.exceptions.PolarsError, ValueError):  # e.g. a Python function in the expression
        return 0
    return _level(tree, list(keys))


def _level(node: Any, keys: list[str]) -> int:
    """See :func:`split_level_of`, for a node of a serialized expression."""
    deepest = len(keys)
    if not isinstance(node, dict) or len(node) != 1:
        return 0  # "Len", or a kind of node not known here
    ((kind, body),) = node.items()
    match kind:
        case "Column" | "Literal":
            return deepest
        case "KeepName":
            return _level(body, keys)
        case "Alias":
            return _level(body[0], keys)
        case "Cast":
            return _level(body["expr"], keys)
        case "BinaryExpr":
            return min(_level(body["left"], keys), _level(body["right"], keys))
        case "Ternary":
            return min(_level(body[part], keys) for part in ("predicate", "truthy", "falsy"))
        case "Function":
            if not _row_separable(body):
                return 0
            return min((_level(each, keys) for each in body["input"]), default=deepest)
        case "Over":
            if body.get("order_by") is not None:
                return 0
            names = {each.get("Column") for each in body["partition_by"] if isinstance(each, dict)}
            covered = 0
            while covered < len(keys) and keys[covered] in names:
                covered += 1
            return covered  # the window's function sees only rows of whole groups of that level
    return 0


def _row_separable(function: dict[str, Any]) -> bool:
    """Whether Polars computes a function of the rows on each row alone (asked of the function
    with plain numbers as its inputs: whether it is does not depend on them)."""
    one = {"Literal": {"Dyn": {"Int": 1}}}
    node = {"Function": {**function, "input": [one for _ in function["input"]]}}
    try:
        return pl.Expr.deserialize(io.StringIO(json.dumps(node)), format="json").meta.is_row_separable()
    except pl.exceptions.PolarsError:
        return False


def split_rows(plan: ReportPlan, base: pl.LazyFrame, level: int, rows_per_part: int = PART_ROWS) -> list[Part]:
    """The parts of ``base`` (filtered, unsorted rows): whole groups of ``level``, about
    ``rows_per_part`` rows each. Without their ``carried`` values (see :func:`merged_frames`)."""
    keys = plan.group_keys[:level]
    descending = [g.descending for g in plan.groups[:level]]
    sizes = (
        base.group_by(keys)
        .agg(pl.len().alias("__n"))
        .sort(keys, descending=descending, nulls_last=True, maintain_order=True)
        .with_columns(pl.col("__n").cum_sum().alias("__end"))
        .with_columns(((pl.col("__end") - pl.col("__n")) // rows_per_part).rle_id().alias("__part"))
        .collect(engine="streaming")
    )
    parts = []
    for frame in sizes.partition_by("__part", maintain_order=True, include_key=False):
        end = int(frame["__end"][-1])
        rows = int(frame["__n"].sum())
        parts.append(Part(keys=frame.select(keys), offset=end - rows, rows=rows, carried={}))
    return parts


def part_rows(plan: ReportPlan, base: pl.LazyFrame, part: Part) -> pl.LazyFrame:
    """The rows of ``part``, sorted and numbered, with running values carried on."""
    keys = part.keys.columns
    rows = base.join(part.keys.lazy(), on=keys, how="semi", nulls_equal=True, maintain_order="left")
    return sorted_rows(plan, rows, offset=part.offset, carried=_carrier(plan, part.carried))


def _carrier(plan: ReportPlan, carried: dict[str, pl.Series]) -> Callable[[VariablePlan, pl.Expr], pl.Expr]:
    def carry(variable: VariablePlan, running: pl.Expr) -> pl.Expr:
        before = carried.get(variable.name)
        if before is None or before.null_count():
            return running  # nothing to go on from: no value seen yet
        last = pl.lit(before.item(), dtype=before.dtype)
        match variable.calculation if variable.value is not None else "count":
            case "count":
                combined = running + last
            case "sum":
                combined = running.fill_null(0) + last
            case "min":
                combined = pl.min_horizontal(running, last)
            case "max":
                combined = pl.max_horizontal(running, last)
            case "first":
                combined = last
            case _:  # last
                combined = running.fill_null(last)
        reset = plan.group_keys[: variable.reset_level]
        if not reset:
            return combined.cast(before.dtype)
        # only the part's first group of the reset level goes on from the part before
        continuing = pl.struct(reset).rle_id() == 0
        return pl.when(continuing).then(combined).otherwise(running).cast(before.dtype)

    return carry


def _carried_variables(plan: ReportPlan, level: int) -> list[VariablePlan]:
    return [v for v in plan.variables if v.reset_level < level]


def merged_frames(
    plan: ReportPlan, scopes: Scopes, level: int, parts: list[Part], *, check: Callable[[], None] = lambda: None
) -> tuple[pl.DataFrame, dict[int, pl.DataFrame], list[Part]]:
    """The report frame and the frame of every group level, from the parts one at a time (with
    charts), and the parts with the running values they carry on. ``check`` is called before
    each part (it raises to stop)."""
    assert scopes.base is not None
    levels = [g.level for g in plan.groups]
    carried_variables = _carried_variables(plan, level)
    report_pieces: list[pl.DataFrame] = []
    level_pieces: dict[int, list[pl.DataFrame]] = {lv: [] for lv in levels}
    done: list[Part] = []
    carried: dict[str, pl.Series] = {}
    for i, part in enumerate(parts):
        check()
        part = Part(part.keys, part.offset, part.rows, _continued(plan, parts, i, carried, carried_variables))
        done.append(part)
        rows = part_rows(plan, scopes.base, part)
        queries = [report_frame(plan, rows), *(group_frame(plan, rows, lv) for lv in levels)]
        if carried_variables:  # the running values at the part's last row
            queries.append(rows.select(pl.col(v.name).last() for v in carried_variables))
        report, *groups = pl.collect_all(queries, engine="streaming")
        if carried_variables:
            ends = groups.pop()
            carried = {v.name: ends[v.name] for v in carried_variables}
        report_pieces.append(report)
        for lv, piece in zip(levels, groups, strict=True):
            level_pieces[lv].append(piece)
    merged = Scopes(
        rows=scopes.rows,
        groups={lv: _merge(plan, pl.concat(level_pieces[lv]), lv, level).lazy() for lv in levels},
        report=_merge(plan, pl.concat(report_pieces), 0, level).lazy(),
    )
    join_charts(plan, scopes.base, merged)
    report, *groups = pl.collect_all([merged.report, *(merged.groups[lv] for lv in levels)], engine="streaming")
    return report, dict(zip(levels, groups, strict=True)), done


def _continued(
    plan: ReportPlan, parts: list[Part], i: int, ends: dict[str, pl.Series], variables: list[VariablePlan]
) -> dict[str, pl.Series]:
    """The running values part ``i`` goes on from: those whose reset group it continues."""
    if i == 0:
        return {}
    last, first = parts[i - 1].keys.tail(1), parts[i].keys.head(1)
    carried = {}
    for variable in variables:
        reset = plan.group_keys[: variable.reset_level]
        if last.select(reset).equals(first.select(reset)):
            carried[variable.name] = ends[variable.name]
    return carried


def _merge(plan: ReportPlan, pieces: pl.DataFrame, level: int, split: int) -> pl.DataFrame:
    """One row per group (or one for the report) from the pieces the parts made of it."""
    if level >= split:  # groups of this level are whole in a part: nothing to merge
        return pieces
    calculations = {v.name: (v.calculation if v.value is not None else "count") for v in plan.variables}
    keys = plan.group_keys[:level]
    merged = [_merged_column(name, calculations.get(name)) for name in pieces.columns if name not in keys]
    schema = pieces.schema
    casts = [pl.col(name).cast(schema[name]) for name in pieces.columns if name not in keys]
    if keys:
        return pieces.group_by(keys, maintain_order=True).agg(merged).with_columns(casts).sort("__start")
    return pieces.select(merged).with_columns(casts)


def _merged_column(name: str, calculation: str | None) -> pl.Expr:
    column = pl.col(name)
    if name == "__start":
        return column.min()
    if name == "__end":
        return column.max()
    if name == "__rows" or calculation == "count":
        return column.sum()
    if name.startswith(RUNNING_PREFIX):
        return column.last()
    match calculation:
        case "sum":
            return pl.when(column.count() > 0).then(column.sum()).alias(name)
        case "min":
            return column.min()
        case "max":
            return column.max()
        case "first":
            return column.drop_nulls().first()
        case "last":
            return column.drop_nulls().last()
    assert calculation is None or name.startswith(FIRST_PREFIX), name
    return column.first()  # first values of columns, parameters: from the first piece


def detail_batches(
    plan: ReportPlan,
    scopes: Scopes,
    parts: list[Part],
    query: Callable[[pl.LazyFrame], pl.LazyFrame],
    batch_rows: int,
) -> Iterator[tuple[int, int, pl.DataFrame]]:
    """Per part, its rows through ``query`` (the detail's raw values), in batches of row
    positions ``[start, end)`` of at most ``batch_rows``."""
    assert scopes.base is not None
    for part in parts:
        rows = query(part_rows(plan, scopes.base, part)).collect(engine="streaming")
        yield from batches_of(rows, part.offset, part.offset + part.rows, batch_rows)


def batches_of(rows: pl.DataFrame, start: int, end: int, batch_rows: int) -> Iterator[tuple[int, int, pl.DataFrame]]:
    """``rows`` (sorted by ``__pos``) in ranges of positions ``[start, end)``, ``batch_rows`` long."""
    for low in range(start, end, batch_rows):
        high = min(end, low + batch_rows)
        bounds = pl.Series([low, high], dtype=pl.UInt32)
        first, last = rows["__pos"].search_sorted(bounds, side="left").to_list()
        yield low, high, rows.slice(first, last - first)
