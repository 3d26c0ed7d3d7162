"""Sort and number the rows a part at a time, so that a report's memory does not grow with them.

Polars sorts in memory: a million rows with their running totals take about 500 MB at once.
So a long report is cut into parts of about ``PART_ROWS`` rows, each a run of rows in report
order that share their *split keys* (the group keys, then the first sort key): whole groups,
and within the finest group whole runs of one sort value (a customer's orders of one day).
Each part is sorted on its own; its rows are numbered on from the parts before, and running
values are carried on from the last row of the part before. Group and report totals come
from each part's pieces, merged (a sum of sums, the first of firsts).

The rows are split only when every value comes out the same (else one sort takes them all):
the variables are ``sum``, ``count``, ``avg`` (carried on as a sum and a count), ``min``,
``max``, ``first`` or ``last``, whose totals and running values can be continued; and each
detail value, variable value and sort key reads only its own row, or a window within whole
groups (then parts hold whole groups). Values per page are computed from each part's rows,
with groups numbered on. A sum of floats may differ in its last bit, as any change in the
order of its additions makes it.

    >>> import polarreports as pr
    >>> from polarreports.api import plan_report
    >>> plan, _ = plan_report(pr.load("examples/sales_by_region.yaml"), pr.sample.sales_data(10))
    >>> split_keys(plan)  # by region, customer, then order date
    [('region', False), ('customer', False), ('__split', False)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import polars as pl

from polarreports.compute.crosstabs import join_crosstabs
from polarreports.compute.pages import page_rows_query
from polarreports.compute.reach import least, split_level_of
from polarreports.compute.scopes import Scopes, group_frame, join_charts, report_frame, sorted_rows
from polarreports.plan.build import FIRST_PREFIX, RUNNING_PREFIX
from polarreports.plan.calculations import running, total
from polarreports.plan.model import ReportPlan, VariablePlan
from polarreports.queries import collect, collect_all

__all__ = [
    "PART_ROWS",
    "Part",
    "batches_of",
    "detail_batches",
    "merged_frames",
    "part_rows",
    "split_keys",
    "split_level",
    "split_rows",
]

PART_ROWS = 100_000
"""About how many rows a part holds (more if one group of the split level has more)."""

SPLIT_KEY = "__split"
"""The column of the first sort key (or of the rows' order) when the rows are split by it."""

CONTINUABLE = frozenset({"sum", "count", "avg", "min", "max", "first", "last"})
"""Calculations whose totals and running values go on from one part to the next."""


@dataclass(frozen=True)
class Part:
    """A run of rows in report order that share their first split keys (whole groups, or whole
    runs of one sort value), sorted and numbered on its own."""

    keys: pl.DataFrame
    """The split keys (see :func:`split_keys`) its rows have, one row per combination."""
    offset: int
    """Rows before it (its first row's number)."""
    rows: int
    carried: dict[str, pl.Series]
    """Per variable that goes on from the part before: its running value at that part's last
    row (a one-value Series, for its type); an average's sum and count too."""
    group_ids: dict[int, int] = field(default_factory=dict)
    """Per group level: the number of the part's first group, counting groups from the first
    part's (for values per page)."""


def split_keys(plan: ReportPlan) -> list[tuple[str, bool]]:
    """What a report's rows can be split by, coarsest first, each with its order (descending):
    the group keys, then the first sort key (or, for a report with neither, the rows' order)."""
    keys = [(g.name, g.descending) for g in plan.groups]
    if plan.sort:
        keys.append((SPLIT_KEY, plan.sort[0][1]))
    elif not keys:
        keys.append((SPLIT_KEY, False))
    return keys


def _with_split_key(plan: ReportPlan, base: pl.LazyFrame) -> pl.LazyFrame:
    if plan.sort:
        return base.with_columns(plan.sort[0][0].alias(SPLIT_KEY))
    return base if plan.groups else base.with_row_index(SPLIT_KEY)


def split_level(plan: ReportPlan, detail_values: Sequence[pl.Expr]) -> int | None:
    """How many of :func:`split_keys` a part's rows have in common (at least): the most that
    leaves every value as it is over all rows; None if the rows cannot be split."""
    if any(v.value is not None and v.calculation not in CONTINUABLE for v in plan.variables):
        return None
    names = [name for name, _ in split_keys(plan)]
    computed_on_parts = [
        *detail_values,
        *(v.value for v in plan.variables if v.value is not None),
        *(expr for expr, _ in plan.sort),
    ]
    return least((split_level_of(value, names) for value in computed_on_parts), len(names))


def split_rows(plan: ReportPlan, base: pl.LazyFrame, level: int, rows_per_part: int = PART_ROWS) -> list[Part]:
    """The parts of ``base`` (filtered, unsorted rows): runs of rows with the same first ``level``
    :func:`split_keys` (only the group keys if the finest groups are small enough), about
    ``rows_per_part`` rows each, in report order. Without their ``carried`` values (see
    :func:`merged_frames`)."""
    groups = min(level, len(plan.groups))
    sizes = _sizes(plan, base, groups, rows_per_part) if 0 < groups < level else None
    if sizes is None or sizes.select(pl.col("__n").max().fill_null(0)).item() > rows_per_part:
        sizes = _sizes(plan, base, level, rows_per_part)
    parts = []
    for frame in sizes.partition_by("__part", maintain_order=True, include_key=False):
        end = int(frame["__end"][-1])
        rows = int(frame["__n"].sum())
        parts.append(Part(keys=frame.drop("__n", "__end"), offset=end - rows, rows=rows, carried={}))
    return parts


def _sizes(plan: ReportPlan, base: pl.LazyFrame, level: int, rows_per_part: int) -> pl.DataFrame:
    """Rows per value of the first ``level`` split keys, in report order, and the part of each."""
    keys = split_keys(plan)[:level]
    names = [name for name, _ in keys]
    counts = (
        _with_split_key(plan, base)
        .group_by(names)
        .agg(pl.len().alias("__n"))
        .sort(names, descending=[descending for _, descending in keys], nulls_last=True, maintain_order=True)
        .with_columns(pl.col("__n").cum_sum().alias("__end"))
        .with_columns(((pl.col("__end") - pl.col("__n")) // rows_per_part).rle_id().alias("__part"))
    )
    return collect(counts)


def part_rows(plan: ReportPlan, base: pl.LazyFrame, part: Part) -> pl.LazyFrame:
    """The rows of ``part``, sorted and numbered, with running values carried on."""
    keys = part.keys.columns
    rows = _with_split_key(plan, base).join(
        part.keys.lazy(), on=keys, how="semi", nulls_equal=True, maintain_order="left"
    )
    return sorted_rows(plan, rows, offset=part.offset, carried=_Carrier(plan, part.carried).running)


AVERAGE_SUM, AVERAGE_COUNT = "__avg_sum_", "__avg_count_"
"""Prefixes of the columns an average is carried on and merged by: its sum and its count."""


@dataclass(frozen=True)
class _State:
    """What a running value goes on from: itself, or for an average its sum and its count."""

    name: str
    calculation: str
    value: pl.Expr | None


def _states(variable: VariablePlan) -> list[_State]:
    if variable.calculation == "avg" and variable.value is not None:
        return [
            _State(AVERAGE_SUM + variable.name, "sum", variable.value.cast(pl.Float64)),
            _State(AVERAGE_COUNT + variable.name, "count", variable.value),
        ]
    return [_State(variable.name, variable.calculation, variable.value)]


@dataclass(frozen=True)
class _Carrier:
    """Running values that go on from the part before (see :attr:`Part.carried`)."""

    plan: ReportPlan
    carried: dict[str, pl.Series]

    def running(self, variable: VariablePlan, value: pl.Expr) -> pl.Expr:
        """The running value of ``variable`` on a part, given its value within the part."""
        states = _states(variable)
        if len(states) == 2:  # an average: its running sum over its running count
            total, count = (self.state(variable, state) for state in states)
            return total / count
        return self._continued(variable, states[0], value)

    def state(self, variable: VariablePlan, state: _State) -> pl.Expr:
        """The running value of one state of ``variable``, carried on."""
        reset = self.plan.group_keys[: variable.reset_level]
        return self._continued(variable, state, running(state.calculation, state.value, reset))

    def _continued(self, variable: VariablePlan, state: _State, value: pl.Expr) -> pl.Expr:
        before = self.carried.get(state.name)
        if before is None or before.null_count():
            return value  # nothing to go on from: no value seen yet
        last = pl.lit(before.item(), dtype=before.dtype)
        match state.calculation if state.value is not None else "count":
            case "count":
                combined = value + last
            case "sum":
                combined = value.fill_null(0) + last
            case "min":
                combined = pl.min_horizontal(value, last)
            case "max":
                combined = pl.max_horizontal(value, last)
            case "first":
                combined = last
            case _:  # last
                combined = value.fill_null(last)
        reset = self.plan.group_keys[: variable.reset_level]
        if not reset:
            return combined.cast(before.dtype)
        # only the part's first group of the reset level goes on from the part before
        continuing = pl.struct(reset).rle_id() == 0
        return pl.when(continuing).then(combined).otherwise(value).cast(before.dtype)

    def ends(self, variables: Sequence[VariablePlan]) -> list[pl.Expr]:
        """The running value of each of ``variables`` at a part's last row (and the states of
        an average)."""
        ends = [pl.col(variable.name).last() for variable in variables]
        for variable in variables:
            ends.extend(
                self.state(variable, state).last().alias(state.name)
                for state in _states(variable)
                if state.name != variable.name
            )
        return ends


def _carried_variables(plan: ReportPlan, level: int) -> list[VariablePlan]:
    return [v for v in plan.variables if v.reset_level < level]


def _average_parts(plan: ReportPlan) -> list[pl.Expr]:
    """The sum and count of every average, for merging averages of pieces."""
    return [
        expr
        for v in plan.variables
        if v.calculation == "avg" and v.value is not None
        for expr in (
            v.value.cast(pl.Float64).sum().alias(AVERAGE_SUM + v.name),
            v.value.count().alias(AVERAGE_COUNT + v.name),
        )
    ]


def merged_frames(
    plan: ReportPlan, scopes: Scopes, parts: list[Part], *, check: Callable[[], None] = lambda: None
) -> tuple[pl.DataFrame, dict[int, pl.DataFrame], list[Part]]:
    """The report frame and the frame of every group level, from the parts one at a time (with
    charts), and the parts with the running values they carry on. ``check`` is called before
    each part (it raises to stop)."""
    assert scopes.base is not None
    level = parts[0].keys.width  # the split keys the parts were cut by
    levels = [g.level for g in plan.groups]
    carried_variables = _carried_variables(plan, level)
    averages = _average_parts(plan)
    report_pieces: list[pl.DataFrame] = []
    level_pieces: dict[int, list[pl.DataFrame]] = {lv: [] for lv in levels}
    done: list[Part] = []
    ends: dict[str, pl.Series] = {}
    numbering = _GroupNumbers(plan)
    for i, part in enumerate(parts):
        check()
        part = replace(part, carried=_continued(plan, parts, i, ends, carried_variables))
        rows = part_rows(plan, scopes.base, part)
        queries = [report_frame(plan, rows, averages), *(group_frame(plan, rows, lv, averages) for lv in levels)]
        if carried_variables:  # the running values at the part's last row
            queries.append(rows.select(_Carrier(plan, part.carried).ends(carried_variables)))
        report, *groups = collect_all(queries)
        if carried_variables:
            last_row = groups.pop()
            ends = {name: last_row[name] for name in last_row.columns}
        report_pieces.append(report)
        for lv, piece in zip(levels, groups, strict=True):
            level_pieces[lv].append(piece)
        done.append(replace(part, group_ids=numbering.first_ids(dict(zip(levels, groups, strict=True)))))
    merged = Scopes(
        rows=scopes.rows,
        groups={lv: _merge(plan, pl.concat(level_pieces[lv]), lv, level).lazy() for lv in levels},
        report=_merge(plan, pl.concat(report_pieces), 0, level).lazy(),
    )
    join_charts(plan, scopes.base, merged)
    join_crosstabs(plan, scopes.base, merged)
    report, *groups = collect_all([merged.report, *(merged.groups[lv] for lv in levels)])
    return report, dict(zip(levels, groups, strict=True)), done


class _GroupNumbers:
    """Numbers the groups of each level across parts (0, 1, ... in report order), from the
    group pieces each part has: a part's first group keeps the number of the part before's
    last one if it is the same group."""

    def __init__(self, plan: ReportPlan) -> None:
        self.keys = plan.group_keys
        self.last: dict[int, tuple[int, pl.DataFrame]] = {}

    def first_ids(self, pieces: dict[int, pl.DataFrame]) -> dict[int, int]:
        first_ids = {}
        for level, piece in pieces.items():
            keys = self.keys[:level]
            number, last_keys = self.last.get(level, (-1, pl.DataFrame()))
            first = number if last_keys.equals(piece.head(1).select(keys)) else number + 1
            first_ids[level] = first
            self.last[level] = (first + piece.height - 1, piece.tail(1).select(keys))
        return first_ids


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
            names = {variable.name, *(state.name for state in _states(variable))}
            carried.update({name: ends[name] for name in names})
    return carried


def _merge(plan: ReportPlan, pieces: pl.DataFrame, level: int, split: int) -> pl.DataFrame:
    """One row per group (or one for the report) from the pieces the parts made of it."""
    helpers = [name for name in pieces.columns if name.startswith((AVERAGE_SUM, AVERAGE_COUNT))]
    if level >= split:  # groups of this level are whole in a part: nothing to merge
        return pieces.drop(helpers)
    calculations = {v.name: (v.calculation if v.value is not None else "count") for v in plan.variables}
    keys = plan.group_keys[:level]
    columns = [name for name in pieces.columns if name not in keys]
    merged = [_merged_column(name, calculations.get(name)) for name in columns]
    schema = pieces.schema
    casts = [pl.col(name).cast(schema[name]) for name in columns if name not in helpers]
    if not keys:
        return pieces.select(merged).with_columns(casts).drop(helpers)
    return pieces.group_by(keys, maintain_order=True).agg(merged).sort("__start").with_columns(casts).drop(helpers)


def _merged_column(name: str, calculation: str | None) -> pl.Expr:
    """How the pieces' values of column ``name`` (a variable's, if ``calculation``) make the
    group's: a sum, minimum, maximum, first or last of them is that of the pieces' totals."""
    column = pl.col(name)
    if name == "__start":
        return column.min()
    if name == "__end":
        return column.max()
    if name == "__rows" or calculation == "count" or name.startswith((AVERAGE_SUM, AVERAGE_COUNT)):
        return column.sum()
    if name.startswith(RUNNING_PREFIX):
        return column.last()
    match calculation:
        case "avg":
            count = pl.col(AVERAGE_COUNT + name).sum()
            return pl.when(count > 0).then(pl.col(AVERAGE_SUM + name).sum() / count).alias(name)
        case "sum" | "min" | "max" | "first" | "last":
            return total(calculation, column).alias(name)
    assert calculation is None or name.startswith(FIRST_PREFIX), name
    return column.first()  # first values of columns, parameters: from the first piece


def detail_batches(
    plan: ReportPlan,
    scopes: Scopes,
    parts: list[Part],
    query: Callable[[pl.LazyFrame], pl.LazyFrame],
    batch_rows: int,
    page_rows: list[pl.DataFrame] | None = None,
) -> Iterator[tuple[int, int, pl.DataFrame]]:
    """Per part, its rows through ``query`` (the detail's raw values), in batches of row
    positions ``[start, end)`` of at most ``batch_rows``; each part's rows for the values per
    page (:func:`~polarreports.compute.pages.page_rows_query`) are added to ``page_rows``."""
    assert scopes.base is not None
    for part in parts:
        rows = part_rows(plan, scopes.base, part)
        if page_rows is None:
            shown = collect(query(rows))
        else:
            before = {v.name: part.carried[v.name] for v in plan.variables if v.name in part.carried}
            per_page = page_rows_query(plan, rows, group_ids=part.group_ids, before=before)
            shown, on_pages = collect_all([query(rows), per_page])
            page_rows.append(on_pages)
        yield from batches_of(shown, part.offset, part.offset + part.rows, batch_rows)


def batches_of(rows: pl.DataFrame, start: int, end: int, batch_rows: int) -> Iterator[tuple[int, int, pl.DataFrame]]:
    """``rows`` (sorted by ``__pos``) in ranges of positions ``[start, end)``, ``batch_rows`` long."""
    for low in range(start, end, batch_rows):
        high = min(end, low + batch_rows)
        bounds = pl.Series([low, high], dtype=pl.UInt32)
        first, last = rows["__pos"].search_sorted(bounds, side="left").to_list()
        yield low, high, rows.slice(first, last - first)
