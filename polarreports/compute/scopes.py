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

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from polarreports.compute.charts import aggregation
from polarreports.compute.crosstabs import join_crosstabs
from polarreports.compute.formats import check_pattern
from polarreports.definition.elements import Chart, Expression
from polarreports.exceptions import FormatError, PlanError
from polarreports.plan.barcodes import column_issue as barcode_issue
from polarreports.plan.build import FIRST_PREFIX, RUNNING_PREFIX
from polarreports.plan.calculations import NUMERIC_ONLY, running, total
from polarreports.plan.expressions import ROW_INDEX, param_column
from polarreports.plan.images import column_issue
from polarreports.plan.model import BandKind, BandPlan, ChartPlan, ReportPlan, VariablePlan
from polarreports.plan.parameters import POLARS_TYPES
from polarreports.plan.subreports import TYPED

__all__ = ["ROW_INDEX", "Scopes", "build_scopes", "group_frame", "join_charts", "report_frame", "sorted_rows"]


@dataclass
class Scopes:
    rows: pl.LazyFrame
    groups: dict[int, pl.LazyFrame]
    report: pl.LazyFrame
    dtypes: dict[str, pl.DataType] = field(default_factory=dict)
    """The value type of every data cell, by the cell's ``where``."""
    base: pl.LazyFrame | None = None
    """The rows before their sort (filtered, with derived columns), when ``rows`` sorts them."""
    most_rows: int | None = None
    """At most this many rows are in ``base``, when known without a query (the rows of an
    in-memory input: the filter only drops rows, and a subreport's table joins one row per
    key); None: unknown."""

    def frame(self, band: BandPlan) -> pl.LazyFrame:
        if band.scope == "rows":
            return self.rows
        if band.scope == "group":
            return self.groups[band.level]
        return self.report


def _prepared(plan: ReportPlan, lf: pl.LazyFrame) -> pl.LazyFrame:
    """Parameters as literal columns, the filter, derived columns and computed group keys."""
    if plan.parameters:
        lf = lf.with_columns(_parameter_values(plan))
    if plan.filter is not None:
        _check_filter(plan.filter, lf)
        lf = lf.filter(plan.filter)
    for name, expr in plan.derived:
        lf = lf.with_columns(expr.alias(name))
    computed_keys = [g.key.alias(g.name) for g in plan.groups if not g.key.meta.eq(pl.col(g.name))]
    if computed_keys:
        lf = lf.with_columns(computed_keys)
    return lf


def _parameter_values(plan: ReportPlan) -> list[pl.Expr]:
    """Each parameter's value as a literal of its declared type: the same in every scope, even
    one without rows (a first value of the rows would be null there)."""
    declared = plan.parameter_types
    return [
        pl.lit(value, dtype=POLARS_TYPES[declared[name]]).alias(param_column(name))
        for name, value in plan.parameters.items()
    ]


def sorted_rows(
    plan: ReportPlan,
    lf: pl.LazyFrame,
    *,
    offset: int = 0,
    carried: Callable[[VariablePlan, pl.Expr], pl.Expr] | None = None,
) -> pl.LazyFrame:
    """The prepared rows in report order, numbered from ``offset``, with each variable's running
    value (which ``carried``, if given, continues from the rows before: see ``data.parts``)."""
    by = [pl.col(g.name) for g in plan.groups] + [expr for expr, _ in plan.sort]
    if by:
        descending = [g.descending for g in plan.groups] + [d for _, d in plan.sort]
        lf = lf.sort(by, descending=descending, nulls_last=True, maintain_order=True)
    lf = lf.with_row_index(ROW_INDEX, offset=offset)
    keys = plan.group_keys
    values = [(v, running(v.calculation, v.value, keys[: v.reset_level])) for v in plan.variables]
    if values:
        lf = lf.with_columns((carried(v, value) if carried else value).alias(v.name) for v, value in values)
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
        *_parameter_values(plan),
    ]


def group_frame(plan: ReportPlan, rows: pl.LazyFrame, level: int, extra: Sequence[pl.Expr] = ()) -> pl.LazyFrame:
    """The groups of level ``level`` of the numbered ``rows``: first and last row, totals (and
    ``extra`` aggregations)."""
    keys = plan.group_keys[:level]
    frame = (
        rows.group_by(keys)
        .agg(
            pl.col(ROW_INDEX).min().alias("__start"),
            pl.col(ROW_INDEX).max().alias("__end"),
            *_totals(plan, level),
            *extra,
        )
        .sort("__start")
    )
    if level in plan.running_levels:
        at_end = rows.select(
            pl.col(ROW_INDEX).alias("__end"), *(pl.col(v.name).alias(RUNNING_PREFIX + v.name) for v in plan.variables)
        )
        frame = frame.join(at_end, on="__end", how="left", maintain_order="left")
    return frame


def report_frame(plan: ReportPlan, rows: pl.LazyFrame, extra: Sequence[pl.Expr] = ()) -> pl.LazyFrame:
    """One row: the number of ``rows`` and the report totals (and ``extra`` aggregations)."""
    return rows.select(pl.len().alias("__rows"), *_totals(plan, 0), *extra)


def _needs_rows(plan: ReportPlan) -> bool:
    """Whether the report shows rows one by one (or running values), so the rows must be sorted."""
    return plan.band(BandKind.DETAIL) is not None or bool(plan.running_levels) or plan.has_page_values


DECOMPOSABLE = frozenset({"sum", "count", "avg", "min", "max"})
"""Calculations whose group totals follow from their subgroups' (sums of sums, ...)."""


def _parts(plan: ReportPlan) -> list[pl.Expr]:
    """Per variable, the pieces a coarser level's total is made of."""
    parts = []
    for v in plan.variables:
        if v.value is None:
            parts.append(pl.len().alias(f"{v.name}__n"))
            continue
        match v.calculation:
            case "sum" | "avg":
                parts += [v.value.sum().alias(f"{v.name}__s"), v.value.count().alias(f"{v.name}__n")]
            case "count":
                parts.append(v.value.count().alias(f"{v.name}__n"))
            case "min":
                parts.append(v.value.min().alias(f"{v.name}__m"))
            case "max":
                parts.append(v.value.max().alias(f"{v.name}__m"))
    return parts


def _combine(plan: ReportPlan) -> list[pl.Expr]:
    """Each variable's total from its subgroups' pieces (see :func:`_parts`)."""
    totals = []
    for v in plan.variables:
        n, s, m = pl.col(f"{v.name}__n"), pl.col(f"{v.name}__s"), pl.col(f"{v.name}__m")
        match (v.calculation, v.value is None):
            case (_, True) | ("count", False):
                totals.append(n.sum().alias(v.name))
            case ("sum", False):
                totals.append(pl.when(n.sum() > 0).then(s.sum()).alias(v.name))
            case ("avg", False):
                totals.append(pl.when(n.sum() > 0).then(s.sum().cast(pl.Float64) / n.sum()).alias(v.name))
            case ("min", False):
                totals.append(m.min().alias(v.name))
            case ("max", False):
                totals.append(m.max().alias(v.name))
    return totals


def _summary_scopes(plan: ReportPlan, base: pl.LazyFrame) -> tuple[dict[int, pl.LazyFrame], pl.LazyFrame]:
    """Group and report frames for a report without detail rows: no sort of the rows, and
    (when every calculation allows it) one pass over them, coarser levels being rolled up
    from the finest one.

    The group instances are numbered in report order (``__start``/``__end`` count finest
    groups instead of rows), which is all the band stream needs to place them.
    """
    keys = plan.group_keys
    descending = [g.descending for g in plan.groups]
    firsts = {level: list(dict.fromkeys(columns)) for level, columns in plan.first_columns.items()}
    order = [expr for expr, _ in plan.sort]

    def in_report_order(values: pl.Expr, level: int) -> pl.Expr:
        """``values`` in the order the rows of a level-``level`` group appear in the report."""
        by = [pl.col(key) for key in keys[level:]] + order
        if not by:
            return values
        flags = descending[level:] + [d for _, d in plan.sort]
        return values.sort_by(by, descending=flags, nulls_last=True, maintain_order=True)

    def ordered(variable: VariablePlan, level: int) -> pl.Expr | None:
        """The variable's values, in report order where its calculation depends on order."""
        if variable.value is None or variable.calculation not in {"first", "last"}:
            return variable.value
        return in_report_order(variable.value, level)

    def first_of(column: str) -> pl.Expr:
        return in_report_order(pl.col(column), len(keys)).first().alias(FIRST_PREFIX + column)

    params = _parameter_values(plan)
    rollup = all(v.calculation in DECOMPOSABLE or v.value is None for v in plan.variables)
    finest = (
        base.group_by(keys)
        .agg(
            pl.len().alias("__rows"),
            *(_parts(plan) if rollup else []),
            *(first_of(c) for c in sorted({c for cs in firsts.values() for c in cs})),
            *params,
        )
        .sort(keys, descending=descending, nulls_last=True, maintain_order=True)
        .with_row_index("__rank")
    )
    groups: dict[int, pl.LazyFrame] = {}
    for level in range(1, len(keys) + 1):
        frame = finest.group_by(keys[:level]).agg(
            pl.col("__rank").min().alias("__start"),
            pl.col("__rank").max().alias("__end"),
            *(pl.col(FIRST_PREFIX + c).sort_by("__rank").first() for c in firsts.get(level, [])),
            *params,
            *(_combine(plan) if rollup else []),
        )
        if not rollup:
            totals = [total(v.calculation, ordered(v, level)).alias(v.name) for v in plan.variables]
            frame = frame.join(base.group_by(keys[:level]).agg(totals), on=keys[:level], nulls_equal=True)
        groups[level] = frame.sort("__start")
    if rollup:
        report = finest.select(
            pl.col("__rows").sum(),
            *_combine(plan),
            *(pl.col(FIRST_PREFIX + c).sort_by("__rank").first() for c in firsts.get(0, [])),
            *params,
        )
    else:
        report = base.select(
            pl.len().alias("__rows"),
            *(total(v.calculation, ordered(v, 0)).alias(v.name) for v in plan.variables),
            *(in_report_order(pl.col(c), 0).first().alias(FIRST_PREFIX + c) for c in firsts.get(0, [])),
            *params,
        )
    return groups, report


def join_charts(plan: ReportPlan, base: pl.LazyFrame, scopes: Scopes) -> None:
    """Give each scope frame a column per chart: the chart's aggregated points for that group
    instance (or the report), as JSON ``{"points": [...], "__n": count}``; past the chart's
    ``max_points``, the points are left out (null) and only their count is given."""
    for chart in plan.charts:
        keys = plan.group_keys[: chart.level]
        points = aggregation(chart.element, base, keys=keys, parameters=plan.parameters)
        measures = [pl.col(name).cast(pl.Float64) for name in chart.element.measures]  # Vega needs numbers
        values = [*(d.column for d in chart.element.by), *measures]
        count = pl.col("__n")
        capped = pl.struct(pl.when(count <= chart.element.max_points).then(pl.col("points")).alias("points"), count)
        if keys:
            per_instance = points.group_by(keys, maintain_order=True).agg(
                pl.struct(values).alias("points"), pl.len().alias("__n")
            )
            encoded = per_instance.select(*keys, capped.struct.json_encode().alias(chart.column))
            frame = scopes.groups[chart.level]
            scopes.groups[chart.level] = frame.join(
                encoded, on=keys, how="left", nulls_equal=True, maintain_order="left"
            )
        else:
            encoded = points.select(pl.struct(values).implode().alias("points"), pl.len().alias("__n")).select(
                capped.struct.json_encode().alias(chart.column)
            )
            scopes.report = scopes.report.join(encoded, how="cross")


def _check_types(plan: ReportPlan, scopes: Scopes) -> None:
    issues: list[str] = []
    try:
        row_schema = scopes.rows.collect_schema()
    except pl.exceptions.PolarsError as error:
        raise PlanError([f"the filter, derived columns or sort cannot be computed: {_first_line(error)}"]) from None
    issues.extend(_dry_run(row_schema, _row_expressions(plan)))
    issues.extend(_chart_issues(plan, scopes))
    issues.extend(_variable_issues(plan, row_schema))
    if issues:
        raise PlanError(issues)
    pending: dict[int, tuple[pl.LazyFrame, list[tuple[str, pl.Expr]]]] = {}  # per frame: what to dry-run
    known = _types_at_once(plan, scopes)
    for band in plan.bands:
        frame = scopes.frame(band)
        conditions = list(band.styling.conditions) if band.styling else []
        if band.when is not None:
            conditions.insert(0, (f"{band.name}.print_when", band.when))
        issues.extend(
            wrong := [issue for where, cond in conditions if (issue := _not_boolean(frame, cond, where, known))]
        )
        computed = [] if wrong else list(conditions)
        for cell in band.data_cells:
            assert cell.value is not None
            try:
                dtype = known[id(cell.value)] if id(cell.value) in known else _type_of(frame, cell.value)
            except pl.exceptions.PolarsError as error:
                issues.append(f"{cell.where}: cannot compute: {_first_line(error)}")
                continue
            if cell.role in ("when", "link") or isinstance(cell.element, Expression | Chart):  # expressions of its own
                computed.append((cell.where, cell.value))
            scopes.dtypes[cell.where] = dtype
            if cell.typed is not None:  # a subreport's rows' raw values (a list of structs)
                scopes.dtypes[cell.where + TYPED] = _type_of(frame, cell.typed)
            if cell.role in ("image", "barcode", "subreport"):  # a subreport's table: compute.subreports
                issue = (
                    column_issue(cell, dtype)
                    if cell.role == "image"
                    else barcode_issue(cell.where, dtype)
                    if cell.role == "barcode"
                    else None
                )
                issues.extend([issue] if issue else [])
                continue
            if cell.role == "when":
                if dtype != pl.Boolean:
                    issues.append(f"{cell.where}: must be true or false, but gives {dtype}")
                continue
            try:
                check_pattern(cell.pattern, dtype, where=cell.where)
            except FormatError as error:
                issues.append(str(error))
        pending.setdefault(id(frame), (frame, []))[1].extend(computed)
    issues = issues or [issue for frame, named in pending.values() for issue in _dry_run(frame, named)]
    if issues:
        raise PlanError(issues)


def _variable_issues(plan: ReportPlan, row_schema: pl.Schema) -> list[str]:
    """The variables whose calculation needs numbers but whose expression gives something else."""
    issues = []
    for i, variable in enumerate(plan.variables):
        if variable.value is None or variable.calculation not in NUMERIC_ONLY:
            continue
        try:
            dtype = empty_frame(row_schema).lazy().select(variable.value).collect_schema().dtypes()[0]
        except pl.exceptions.PolarsError as error:
            issues.append(f"variables[{i}] ({variable.name!r}): {_first_line(error)}")
            continue
        if not (dtype.is_numeric() or dtype in (pl.Duration, pl.Boolean)):
            issues.append(
                f"variables[{i}] ({variable.name!r}): a {variable.calculation} needs numbers, "
                f"but its expression is {dtype}"
            )
    return issues


def _row_expressions(plan: ReportPlan) -> list[tuple[str, pl.Expr]]:
    """The expressions computed over the rows, each with its place in the definition."""
    return [
        *([("filter", plan.filter)] if plan.filter is not None else []),
        *((f"columns.{name}", expr) for name, expr in plan.derived),
        *((f"groups[{g.level - 1}] ({g.name!r}).key", g.key) for g in plan.groups),
        *((f"sort[{i}]", expr) for i, (expr, _) in enumerate(plan.sort)),
        *((f"variables[{i}] ({v.name!r})", v.value) for i, v in enumerate(plan.variables) if v.value is not None),
    ]


def _dry_run(frame: pl.LazyFrame | pl.Schema, named: Sequence[tuple[str, pl.Expr]]) -> list[str]:
    """What fails when the expressions are computed over no rows of ``frame``'s columns: what
    their types cannot tell, such as a regular expression that does not parse. One query when
    all succeed; none when all are plain columns."""
    named = [(where, expr) for where, expr in named if not expr.meta.is_column()]
    if not named:
        return []
    schema = frame if isinstance(frame, pl.Schema) else frame.collect_schema()
    empty = empty_frame(schema)  # eager: a lazy query costs twice as much here
    try:
        empty.select(expr.alias(f"__{i}") for i, (_, expr) in enumerate(named))
    except pl.exceptions.PolarsError:
        pass
    else:
        return []
    issues = []
    for where, expr in named:
        try:
            empty.select(expr)
        except pl.exceptions.PolarsError as error:
            issues.append(f"{where}: cannot compute: {_polars_problem(error)}")
    return issues


def empty_frame(schema: pl.Schema) -> pl.DataFrame:
    """A frame of no rows of ``schema``: made once per schema in a process (making one takes
    about 50 microseconds a column), as the checks of a report's types run on the same few.
    (Kept by the types' text: Polars' types compare loosely, ``Datetime`` equal to ``Datetime("ns")``.)

    >>> frame = empty_frame(pl.Schema({"a": pl.Int64()}))
    >>> frame.shape, frame.dtypes, frame is empty_frame(pl.Schema({"a": pl.Int64()}))
    ((0, 1), [Int64], True)
    """
    key = tuple((name, repr(dtype)) for name, dtype in schema.items())
    with _EMPTY_LOCK:
        found = _EMPTY.get(key)
    if found is None:
        found = pl.DataFrame(schema=schema)
        with _EMPTY_LOCK:
            _EMPTY[key] = found
            while len(_EMPTY) > _EMPTY_MAX:
                _EMPTY.popitem(last=False)
    return found


_EMPTY: OrderedDict[tuple[tuple[str, str], ...], pl.DataFrame] = OrderedDict()
"""Frames of no rows by schema, oldest first (never changed in place: a select makes a new one)."""
_EMPTY_MAX = 64
_EMPTY_LOCK = threading.Lock()


def _chart_issues(plan: ReportPlan, scopes: Scopes) -> list[str]:
    """The problems of the charts' measures: each must give numbers (one per point), and compute."""
    if not plan.charts:
        return []
    schema = (scopes.base if scopes.base is not None else scopes.rows).collect_schema()
    rows = pl.LazyFrame([pl.Series(name, [None], dtype=dtype) for name, dtype in schema.items()])  # one group

    def points(chart: ChartPlan, element: Chart) -> pl.LazyFrame:
        return aggregation(element, rows, keys=plan.group_keys[: chart.level], parameters=plan.parameters)

    try:  # every chart at once; when one fails, each measure alone, to name it
        schemas: list[pl.Schema | None] = [
            found.schema for found in pl.collect_all([points(chart, chart.element) for chart in plan.charts])
        ]
    except pl.exceptions.PolarsError:
        schemas = [None] * len(plan.charts)
    issues = []
    for chart, found in zip(plan.charts, schemas, strict=True):
        if found is None:
            try:  # the chart's own grouping, without its measures
                points(chart, chart.element.model_copy(update={"measures": {}})).collect()
            except pl.exceptions.PolarsError as error:
                issues.append(f"{chart.where}: cannot compute: {_polars_problem(error)}")
                continue
        for name, source in chart.element.measures.items():
            where = f"{chart.where} measure {name!r}"
            try:
                alone = chart.element.model_copy(update={"measures": {name: source}})
                dtype = found[name] if found is not None else points(chart, alone).collect()[name].dtype
            except pl.exceptions.PolarsError as error:
                issues.append(f"{where}: cannot compute: {_polars_problem(error)}")
                continue
            if not (dtype.is_numeric() or dtype.is_temporal() or dtype in (pl.Boolean, pl.Null)):
                issues.append(f"{where}: a chart's measure must give numbers, but gives {dtype}")
    return issues


def _polars_problem(error: Exception) -> str:
    """Polars's message in one line (a regular expression's own error where there is one)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if lines and lines[0].startswith("regex error"):
        detail = next((line.removeprefix("error:").strip() for line in lines if line.startswith("error:")), "")
        return f"bad regular expression: {detail or lines[0]}"
    return lines[0] if lines else type(error).__name__


def _type_of(frame: pl.LazyFrame, expr: pl.Expr) -> pl.DataType:
    return frame.select(expr).collect_schema().dtypes()[0]


def _types_at_once(plan: ReportPlan, scopes: Scopes) -> dict[int, pl.DataType]:
    """The type of every cell value and band condition (by the expression's ``id``), from one
    schema query per scope frame (resolving a frame's plan costs more than its expressions);
    empty for a frame where any of them fails: each is then asked alone, to name it."""
    per_frame: dict[int, tuple[pl.LazyFrame, list[pl.Expr]]] = {}
    for band in plan.bands:
        frame = scopes.frame(band)
        expressions = [cell.value for cell in band.data_cells if cell.value is not None]
        expressions += [condition for _, condition in band.styling.conditions] if band.styling else []
        expressions += [band.when] if band.when is not None else []
        per_frame.setdefault(id(frame), (frame, []))[1].extend(expressions)
    known: dict[int, pl.DataType] = {}
    for frame, expressions in per_frame.values():
        try:
            dtypes = frame.select(e.alias(f"__{i}") for i, e in enumerate(expressions)).collect_schema().dtypes()
        except pl.exceptions.PolarsError:
            continue
        if len(dtypes) == len(expressions):  # (an expression of several columns: asked alone)
            known.update(zip(map(id, expressions), dtypes, strict=True))
    return known


def _not_boolean(
    frame: pl.LazyFrame, condition: pl.Expr, where: str, known: dict[int, pl.DataType] | None = None
) -> str | None:
    """What is wrong with a condition (``print_when``, a conditional style) that is not true or
    false for each instance, or None."""
    try:
        dtype = known[id(condition)] if known and id(condition) in known else _type_of(frame, condition)
    except pl.exceptions.PolarsError as error:
        return f"{where}: cannot compute: {_first_line(error)}"
    return None if dtype == pl.Boolean else f"{where}: must be true or false, but gives {dtype}"


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def build_scopes(plan: ReportPlan, lf: pl.LazyFrame, dtypes: Mapping[str, pl.DataType] | None = None) -> Scopes:
    """The lazy frames of every scope; raises ``PlanError`` if any value has the wrong type.
    ``dtypes``: the types found when the plan was checked against data of the same schema
    before (``plan.reuse``), so not checked again."""
    base = _prepared(plan, lf)
    if _needs_rows(plan) or not plan.groups:
        rows = sorted_rows(plan, base)
        groups = {g.level: group_frame(plan, rows, g.level) for g in plan.groups}
        scopes = Scopes(rows=rows, groups=groups, report=report_frame(plan, rows), base=base)
    else:
        groups, report = _summary_scopes(plan, base)
        scopes = Scopes(rows=base, groups=groups, report=report)
    join_charts(plan, base, scopes)
    join_crosstabs(plan, base, scopes)
    if dtypes is None:
        _check_types(plan, scopes)
    else:
        scopes.dtypes.update(dtypes)
    return scopes
