"""Subreports: another definition's rows, per master row or group, in one Polars pass each.

For each subreport element, its source is planned with its own definition (filter, computed
columns, sort, variables, formats), then grouped by the link keys in one ``group_by``: each
key gets the formatted table of its rows (a JSON text: headers, rows, totals, column looks)
and the values of the subreport's variables. That frame is joined onto the master's rows by
the keys (a left join): the table arrives in column ``__sub<n>`` (shown by the element, as
data, never as code) and each variable named in ``returns`` in a column of its own.
Never one query per master row.

    >>> import polars as pl, polarreports as pr
    >>> sub = pr.Report(name="p", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="amount")])),
    ...     variables=[pr.Variable(name="paid", calculation="sum", expression="amount")])
    >>> element = pr.Subreport(report=sub, source="pay", keys=["id"], returns={"paid": "paid"})
    >>> master = pr.Report(name="m", bands=pr.Bands(detail=pr.Band(elements=[element])))
    >>> pay = pl.LazyFrame({"id": [1, 1, 2], "amount": [1.5, 2.0, 4.0]})
    >>> import json
    >>> rows = attach_subreports(master, pl.LazyFrame({"id": [1, 2, 3]}), {"pay": pay}, {}).collect()
    >>> rows["paid"].to_list()
    [3.5, 4.0, 0.0]
    >>> json.loads(rows["__sub0"][0])["r"]
    [['1.50'], ['2.00']]
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from polarreports.compute.databases import read_database
from polarreports.compute.formats import default_pattern, format_expr
from polarreports.compute.source import data_dirs, report_frame, to_lazyframe
from polarreports.definition import report as definition
from polarreports.definition.elements import Aggregate, Expression, Field, Label, Subreport
from polarreports.exceptions import AccessError, DataError, DefinitionError, FormatError, ParameterError, PlanError
from polarreports.plan.build import FIRST_PREFIX, build_plan
from polarreports.plan.calculations import total
from polarreports.plan.expressions import param_column
from polarreports.plan.images import allowed_dirs
from polarreports.plan.model import BandKind, BandPlan, ReportPlan
from polarreports.plan.parameters import resolve_parameters
from polarreports.plan.subreports import PAGE_BANDS, REPORT_BANDS, TALLEST, TYPED, band_of, subreports
from polarreports.resources import SUBREPORT, SUBREPORT_DATA, confined_path
from polarreports.suggest import closest

__all__ = ["MAX_DEPTH", "attach_subreports"]

MAX_DEPTH = 4
"""Subreports nest at most this deep (a definition file naming itself stops here)."""
_SHOWN = (BandKind.COLUMN_HEADER, BandKind.DETAIL, BandKind.GROUP_HEADER, BandKind.GROUP_FOOTER, BandKind.SUMMARY)
"""The bands a subreport shows: its column header, its rows and groups, its totals."""
_KEY = "__subkey"


def attach_subreports(
    report: definition.Report,
    rows: pl.LazyFrame,
    sources: Mapping[str, Any] | None,
    params: Mapping[str, Any],
    *,
    base_dir: Path | None = None,
    depth: int = 0,
    schema_only: bool = False,
) -> pl.LazyFrame:
    """``rows`` with the columns of ``report``'s subreports joined on (lazily; reads no rows but
    a database query's, which runs here; with ``schema_only``, returning none)."""
    base_dir = base_dir or Path.cwd()
    found = subreports(report)
    if not found:
        return rows
    if depth >= MAX_DEPTH:
        raise PlanError([f"{found[0][0]}: subreports nest more than {MAX_DEPTH} deep"])
    schema = rows.collect_schema()
    for where, element, column in found:
        links, fixed = _links(element, where, report, params, nested=depth > 0)
        sub_report = _inheriting(_definition(element, where, report, base_dir), report)
        sub_params = {p.name: params[p.name] for p in sub_report.parameters if p.name in params}
        if isinstance(element.source, definition.Source):
            source = _query(element.source, where, sub_report, sub_params, report, schema_only=schema_only)
        else:
            source = _source(element, where, sources or {}, report, base_dir)
        source = attach_subreports(
            sub_report, source, sources, sub_params, base_dir=base_dir, depth=depth + 1, schema_only=schema_only
        )
        source = _fixed(source, fixed, where)
        try:
            plan = build_plan(sub_report, source.collect_schema(), sub_params, base_dir=base_dir)
        except PlanError as error:
            raise PlanError([f"{where}: {issue}" for issue in error.issues]) from None
        except pl.exceptions.PolarsError as error:
            msg = f"{where}: cannot read the source {element.source!r}: {str(error).splitlines()[0]}"
            raise DataError(msg) from None
        try:
            tables = _tables(plan, source, element, links, where, column, report.page.font_size)
            issues = _link_issues(element, links, where, schema, source.collect_schema(), tables.collect_schema())
            if issues:
                raise PlanError(issues)
            if links:
                rows = rows.join(tables, left_on=list(links), right_on=_keys(links), how="left", maintain_order="left")
            else:  # one table over the whole source, on every row (the title and summary show it)
                whole = _keys({_KEY: _KEY})[0]
                rows = rows.with_columns(pl.lit(0, dtype=pl.Int8).alias(whole))
                rows = rows.join(tables, on=whole, how="left", maintain_order="left").drop(whole)
            rows = rows.with_columns(_filled(plan, element))
            if links and band_of(where) in PAGE_BANDS:
                rows = rows.with_columns(_tallest(column).alias(column + TALLEST))
            schema = rows.collect_schema()
        except pl.exceptions.PolarsError as error:
            msg = f"{where}: cannot compute the subreport: {str(error).splitlines()[0]}"
            raise DataError(msg) from None
    return rows


def _tallest(column: str) -> pl.Expr:
    """On every row, the table of ``column`` with the most rows (then the longest text): a page
    band's subreport linked per page keeps this one's room on every page.

    >>> tables = pl.DataFrame({"t": ['{"r":[["a"]]}', None, '{"r":[["a"],["b"]]}']})
    >>> tables.select(_tallest("t"))["t"].to_list()[0]
    '{"r":[["a"],["b"]]}'
    """
    text = pl.col(column).fill_null("")
    return text.sort_by(text.str.count_matches("],[", literal=True), text.str.len_bytes()).last()


def _definition(element: Subreport, where: str, report: definition.Report, base_dir: Path) -> definition.Report:
    """The subreport's definition: inline, or read from a file in the report's folders."""
    if not isinstance(element.report, str):
        return element.report  # type: ignore[no-any-return]
    dirs = allowed_dirs(report, base_dir)
    try:
        path = confined_path(base_dir / element.report, element.report, where, dirs, SUBREPORT)
    except AccessError:
        raise
    except DataError as error:  # missing: the definition is wrong
        raise DefinitionError(str(error)) from None
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        msg = f"{where}: the subreport definition {element.report!r} is not a .yaml, .yml or .json file"
        raise DefinitionError(msg)
    try:
        return definition.load(path)
    except DefinitionError as error:
        msg = f"{where}: {error}"
        raise DefinitionError(msg) from None


def _inheriting(sub: definition.Report, master: definition.Report) -> definition.Report:
    """The subreport, with the master's locale, currency, font size and font folders where it
    keeps the defaults, and the master's named styles it uses under its own (its own win by name)."""
    fields = type(sub).model_fields
    unset: dict[str, Any] = {
        name: getattr(master, name) for name in ("locale", "currency") if getattr(sub, name) == fields[name].default
    }
    if not sub.font_dirs and master.font_dirs:  # its styles may use the master's own fonts, which Typst has
        unset["font_dirs"] = master.font_dirs
    borrowed = _borrowed_styles(sub, master)
    if borrowed:
        unset["styles"] = {**borrowed, **sub.styles}
    if sub.page.font_size == type(sub.page).model_fields["font_size"].default:  # as big as the master's text
        unset["page"] = sub.page.model_copy(update={"font_size": master.page.font_size})
    return sub.model_copy(update=unset) if unset else sub


def _borrowed_styles(sub: definition.Report, master: definition.Report) -> dict[str, Any]:
    """The master's styles that the subreport names (on its bands and elements, or that its
    styles extend) and does not define itself, with the ones they extend."""
    wanted: list[str | None] = [style.extends for style in sub.styles.values()]
    for kind in type(sub.bands).model_fields:
        band = getattr(sub.bands, kind)
        bands = [band] if band is not None else []
        if kind == "detail":
            bands += [group_band for group in sub.groups for group_band in (group.header, group.footer) if group_band]
        for each in bands:
            wanted += [each.style, *(getattr(element, "style", None) for element in each.elements)]
    borrowed: dict[str, Any] = {}
    while wanted:
        name = wanted.pop()
        if name and name not in sub.styles and name in master.styles and name not in borrowed:
            borrowed[name] = master.styles[name]
            wanted.append(master.styles[name].extends)
    return borrowed


def _source(
    element: Subreport, where: str, sources: Mapping[str, Any], report: definition.Report, base_dir: Path
) -> pl.LazyFrame:
    """The subreport's rows: a frame given at render by name, or a data file in the report's folders."""
    if element.source in sources:
        try:
            return to_lazyframe(sources[element.source])
        except DataError as error:
            msg = f"{where}: source {element.source!r}: {error}"
            raise DataError(msg) from None
    if not Path(element.source).suffix:
        hint = closest(element.source, list(sources)) or f" (sources given: {sorted(sources) or 'none'})"
        msg = (
            f"{where}: unknown source {element.source!r}{hint}; give it at render, "
            f"render(data, sources={{{element.source!r}: frame}}), or name a data file"
        )
        raise PlanError([msg])
    path = confined_path(
        base_dir / element.source, element.source, where, allowed_dirs(report, base_dir), SUBREPORT_DATA
    )
    try:
        return to_lazyframe(path)
    except DataError as error:
        msg = f"{where}: {error}"
        raise DataError(msg) from None


def _links(
    element: Subreport, where: str, report: definition.Report, params: Mapping[str, Any], *, nested: bool
) -> tuple[dict[str, str], dict[str, Any]]:
    """The keys linking the subreport to the master's columns, and the subreport's columns fixed
    to a master parameter's value (a key ``:name``). In the title and summary, a subreport is
    over the whole source: no keys, or parameters only; elsewhere it needs a master column (a
    subreport nests subreports in its detail band only, which its own checks say)."""
    links = {mine: theirs for mine, theirs in element.keys.items() if not mine.startswith(":")}
    named = {mine[1:]: theirs for mine, theirs in element.keys.items() if mine.startswith(":")}
    declared = [p.name for p in report.parameters]
    unknown = [name for name in named if name not in declared]
    if unknown:
        known = ", ".join(declared) or "none"
        hint = closest(unknown[0], declared)
        msg = f"{where}: key ':{unknown[0]}' names no parameter of the report{hint} (its parameters: {known})"
        raise PlanError([msg])
    values = resolve_parameters(report.parameters, {k: v for k, v in params.items() if k in declared}) if named else {}
    fixed = {theirs: values[name] for name, theirs in named.items()}
    band = band_of(where)
    if nested and band != "detail":  # refused by the subreport holding it (_check_supported)
        return links, fixed
    if band in REPORT_BANDS and links:
        msg = (
            f"{where}: a subreport in the {band} is over the whole source: give no keys (keys: []), or link it "
            f"to the report's parameters ({{':name': column}}), not to the master's column {next(iter(links))!r}"
        )
        raise PlanError([msg])
    if band not in REPORT_BANDS and band not in PAGE_BANDS and not links:
        msg = (
            f"{where}: a subreport here needs at least one key column linking it to the master's rows, such as "
            "[order_id] (a subreport over the whole source goes in the title, the summary or a page band)"
        )
        raise PlanError([msg])
    return links, fixed


def _fixed(source: pl.LazyFrame, fixed: Mapping[str, Any], where: str) -> pl.LazyFrame:
    """The source's rows whose columns hold the parameters' values (``keys: {':region': region}``)."""
    if not fixed:
        return source
    schema = source.collect_schema()
    for column, value in fixed.items():
        if column not in schema:
            msg = f"{where}: unknown key column {column!r}{closest(column, schema.names())} in the subreport's source"
            raise PlanError([msg])
        given = pl.Series([value]).dtype
        if given != pl.Null and not _comparable(given, schema[column]):
            msg = (
                f"{where}: key {column!r} is {schema[column]} in the subreport's source but the parameter's "
                f"value is {given}; declare the parameter with the column's type"
            )
            raise PlanError([msg])
    return source.filter(*(pl.col(column) == pl.lit(value) for column, value in fixed.items()))


def _comparable(one: pl.DataType, other: pl.DataType) -> bool:
    """Whether values of the two types compare (numbers with numbers, dates with dates, ...)."""
    if one.is_numeric() and other.is_numeric():
        return True
    if one.is_temporal() and other.is_temporal():
        return True
    return one.base_type() == other.base_type()


def _query(
    source: definition.Source,
    where: str,
    sub: definition.Report,
    params: Mapping[str, Any],
    master: definition.Report,
    *,
    schema_only: bool,
) -> pl.LazyFrame:
    """The rows of a subreport's ``{uri, query}`` (or ``{path}``) source: the query run with its
    ``:name`` placeholders bound to the subreport's parameters (the master's values, else their
    defaults); files only from the master's ``data_dirs``, credentials only from the environment."""
    try:
        values = resolve_parameters(sub.parameters, params)
        if source.path is not None:
            return report_frame(master.model_copy(update={"source": source}), None, values)
        assert source.uri is not None
        assert source.query is not None
        return read_database(source.uri, source.query, values, data_dirs(master), schema_only=schema_only)
    except (DataError, AccessError, ParameterError) as error:
        msg = f"{where}: {error}"
        raise type(error)(msg) from None


def _keys(links: Mapping[str, str]) -> list[str]:
    return [f"{_KEY}{i}" for i in range(len(links) or 1)]


def _link_issues(
    element: Subreport, links: Mapping[str, str], where: str, master: pl.Schema, sub: pl.Schema, tables: pl.Schema
) -> list[str]:
    issues = []
    for i, (mine, theirs) in enumerate(links.items()):
        if mine not in master:
            issues.append(f"{where}: unknown key column {mine!r}{closest(mine, master.names())} in the master's rows")
        elif theirs not in sub:
            issues.append(
                f"{where}: unknown key column {theirs!r}{closest(theirs, sub.names())} in the subreport's source"
            )
        elif master[mine] != tables[f"{_KEY}{i}"]:
            issues.append(
                f"{where}: key {mine!r} is {master[mine]} in the master but {sub[theirs]} in the subreport's "
                "source; cast one of them so they match"
            )
    for name in element.returns:
        if name in master:
            issues.append(f"{where}: returns {name!r}: the master already has a column {name!r}; choose another name")
    return issues


def _filled(plan: ReportPlan, element: Subreport) -> list[pl.Expr]:
    """A master row without subreport rows gets 0 for a returned count or sum (nothing paid is 0 paid)."""
    calculations = {v.name: v.calculation for v in plan.variables}
    return [
        pl.col(name).fill_null(0)
        for name, variable in element.returns.items()
        if calculations.get(variable) in ("count", "sum")
    ]


def _tables(
    plan: ReportPlan,
    source: pl.LazyFrame,
    element: Subreport,
    links: Mapping[str, str],
    where: str,
    column: str,
    size: float,
) -> pl.LazyFrame:
    """One row per link key: the key, the table of its rows as JSON (column ``column``), and the
    subreport's variables that ``returns`` names."""
    _check_supported(plan, where)
    variables = {v.name: v for v in plan.variables}
    for name, variable in element.returns.items():
        if name.startswith("__"):
            msg = f"{where}: returns {name!r}: names starting with '__' are polarreports' own; choose another"
            raise PlanError([msg])
        if variable not in variables:
            hint = closest(variable, list(variables))
            raise PlanError([f"{where}: returns {name!r}: unknown variable {variable!r}{hint} of the subreport"])
    rows = source.with_columns(pl.lit(value).alias(param_column(name)) for name, value in plan.parameters.items())
    if plan.filter is not None:
        rows = rows.filter(plan.filter)
    for name, expr in plan.derived:
        rows = rows.with_columns(expr.alias(name))
    missing = [key for key in links.values() if key not in rows.collect_schema()]
    if missing:
        return pl.LazyFrame({f"{_KEY}{i}": [] for i in range(len(links))})  # reported by _link_issues
    keys = [pl.col(key).alias(f"{_KEY}{i}") for i, key in enumerate(links.values())]
    keys = keys or [pl.lit(0, dtype=pl.Int8).alias(f"{_KEY}0")]  # no keys: one table of all the rows
    link = _keys(links)
    detail = plan.band(BandKind.DETAIL)
    header = plan.band(BandKind.COLUMN_HEADER)
    summary = plan.band(BandKind.SUMMARY)
    firsts = [pl.col(name).first().alias(FIRST_PREFIX + name) for name in plan.first_columns.get(0, ())]
    totals_of = [*(total(v.calculation, v.value).alias(v.name) for v in plan.variables), *firsts]
    if plan.groups:
        rows = rows.with_columns(*keys, *(group.key.alias(group.name) for group in plan.groups))
        detail_cells = _strings(plan, detail, rows, where) if detail else []
        typed = _typed(detail, rows) if detail else None
        grouped = rows.group_by(link, maintain_order=True).agg(*totals_of)
        grouped = grouped.join(_group_rows(plan, rows, link, len(detail_cells), where, typed), on=link, how="left")
    else:
        if plan.sort:
            order = [expr for expr, _ in plan.sort]
            rows = rows.sort(order, descending=[d for _, d in plan.sort], maintain_order=True)
        detail_cells = _strings(plan, detail, rows, where) if detail else []
        typed = _typed(detail, rows) if detail else None
        grouped = rows.group_by(keys, maintain_order=True).agg(
            (pl.concat_list(detail_cells) if detail_cells else pl.lit([], dtype=pl.List(pl.String))).alias("__r"),
            pl.lit(None, dtype=pl.List(pl.String)).alias("__k"),
            *([typed.alias("__v")] if typed is not None else []),
            *totals_of,
        )
    grouped = grouped.with_columns(pl.lit(value).alias(param_column(name)) for name, value in plan.parameters.items())
    totals = _strings(plan, summary, grouped, where) if summary else []
    width = len(detail_cells)
    looks: dict[str, Any] = _looks(plan, detail, rows) if detail else {"a": [], "s": [], "wn": [], "wu": []}
    looks.update(_styled(plan, width, size))
    heads = [c.element.text if isinstance(c.element, Label) else "" for c in header.cells] if header else []
    if len(heads) > width or len(totals) > width:
        band = "column header" if len(heads) > width else "summary"
        msg = f"{where}: the subreport's {band} has more elements than its detail band has columns ({width})"
        raise PlanError([msg])
    table = pl.struct(
        pl.lit(pl.Series([[*heads, *[""] * (width - len(heads))] if heads else []], dtype=pl.List(pl.String)))
        .first()
        .alias("h"),
        pl.col("__r").alias("r"),
        pl.col("__k").alias("k"),
        (
            pl.concat_list([*totals, *[pl.lit("")] * (width - len(totals))])
            if totals
            else pl.lit([], dtype=pl.List(pl.String))
        ).alias("t"),
        *(_constant(name, value) for name, value in looks.items()),
    )
    return grouped.select(
        *link,
        table.struct.json_encode().alias(column),
        *([pl.col("__v").alias(column + TYPED)] if typed is not None else []),
        *(pl.col(variable).alias(name) for name, variable in element.returns.items()),
    )


def _typed(detail: BandPlan, rows: pl.LazyFrame) -> pl.Expr | None:
    """The raw values of the subreport's detail rows (its fields and expressions: not its labels
    nor nested tables) as a struct, field ``v<i>`` for the table's column ``i``, in their own
    types: the rows of a data export and the spreadsheet's numbers. None without such values."""
    fields = [
        cell.value.alias(f"v{i}")
        for i, cell in enumerate(detail.cells)
        if cell.value is not None and cell.role == "value" and isinstance(cell.element, Field | Expression)
    ]
    if not fields:
        return None
    try:
        rows.select(fields).collect_schema()
    except pl.exceptions.PolarsError:  # reported with the texts' formatting (_strings)
        return None
    return pl.struct(fields)


def _padded(cells: list[pl.Expr], width: int) -> pl.Expr:
    """The cells as a list of ``width`` strings (empty ones after them)."""
    if not width:
        return pl.lit([], dtype=pl.List(pl.String))
    return pl.concat_list([*cells, *[pl.lit("")] * (width - len(cells))])


def _group_rows(
    plan: ReportPlan, rows: pl.LazyFrame, link: list[str], width: int, where: str, typed: pl.Expr | None
) -> pl.LazyFrame:
    """Per link key, its table's rows ``r`` with their kinds ``k`` (``h1`` the header of group
    level 1, ``d`` a row, ``f1`` its footer), placed as the report's stream places them: a header before its
    group's first row, a footer after its last, inner footers first; with ``typed``, the raw
    values of each row ``__v`` (null for a group's rows)."""
    depth = len(plan.groups)
    order = [*link, *(group.name for group in plan.groups), *(expr for expr, _ in plan.sort)]
    descending = [False] * len(link) + [group.descending for group in plan.groups] + [d for _, d in plan.sort]
    rows = rows.sort(order, descending=descending, maintain_order=True).with_row_index("__pos")
    detail = plan.band(BandKind.DETAIL)
    entries = []
    values: list[pl.Expr] = []
    no_values: list[pl.Expr] = []
    if typed is not None:
        values = [typed.alias("__v")]
        no_values = [pl.lit(None, dtype=rows.select(typed).collect_schema().dtypes()[0]).alias("__v")]
    if detail is not None:
        cells = _padded(_strings(plan, detail, rows, where), width)
        entries.append(
            rows.select(
                *link, "__pos", pl.lit(depth + 1).alias("__sub"), pl.lit("d").alias("__k"), cells.alias("__c"), *values
            )
        )
    for group in plan.groups:
        keys = [*link, *(outer.name for outer in plan.groups[: group.level])]
        firsts = [pl.col(name).first().alias(FIRST_PREFIX + name) for name in plan.first_columns.get(group.level, ())]
        level = rows.group_by(keys, maintain_order=True).agg(
            pl.col("__pos").min().alias("__start"),
            pl.col("__pos").max().alias("__end"),
            *(total(v.calculation, v.value).alias(v.name) for v in plan.variables),
            *firsts,
        )
        level = level.with_columns(pl.lit(value).alias(param_column(name)) for name, value in plan.parameters.items())
        footer_sub = depth + 1 + (depth - group.level + 1)
        for kind, position, sub, flag in (
            (BandKind.GROUP_HEADER, "__start", group.level, f"h{group.level}"),
            (BandKind.GROUP_FOOTER, "__end", footer_sub, f"f{group.level}"),
        ):
            band = plan.band(kind, group.level)
            if band is None:
                continue
            strings = _strings(plan, band, level, where)
            if len(strings) > width:
                msg = (
                    f"{where}: the subreport's {band.name} has more elements than its detail band has columns ({width})"
                )
                raise PlanError([msg])
            entries.append(
                level.select(
                    *link,
                    pl.col(position).alias("__pos"),
                    pl.lit(sub).alias("__sub"),
                    pl.lit(flag).alias("__k"),
                    _padded(strings, width).alias("__c"),
                    *no_values,
                )
            )
    if not entries:
        empty = pl.lit([], dtype=pl.List(pl.String))
        return rows.group_by(link).agg(empty.alias("__r"), empty.alias("__k"))
    kept = [*link, pl.col("__pos").cast(pl.Int64), pl.col("__sub").cast(pl.Int32), "__k", "__c"]
    kept += ["__v"] if values else []
    return (
        pl.concat([entry.select(kept) for entry in entries])
        .sort("__pos", "__sub")
        .group_by(link, maintain_order=True)
        .agg(pl.col("__c").alias("__r"), pl.col("__k"), *(pl.col("__v") for _ in values))
    )


def _check_supported(plan: ReportPlan, where: str) -> None:
    """What a subreport cannot show yet is refused, never silently dropped."""
    issues = []
    for band in plan.bands:
        if band.when is not None:
            issues.append(f"{where}: {band.name}.print_when is not supported in a subreport")
        if band.kind not in _SHOWN and band.cells:
            issues.append(
                f"{where}: the subreport's {band.name} is not shown (a subreport shows its column_header, "
                "detail, group header and footer, and summary bands)"
            )
    for band in plan.bands:
        if band.styling is not None and band.styling.conditions:
            issues.append(f"{where}: the subreport's {band.name}: conditional_styles are not supported in a subreport")
        for cell in band.cells:
            if cell.hidden:
                issues.append(f"{where}: {cell.where}: print_when and link are not supported in a subreport")
            elif isinstance(cell.element, Aggregate) and (band.kind == BandKind.DETAIL or cell.element.show != "value"):
                issues.append(
                    f"{where}: {cell.where}: a subreport shows its variables' totals (show: value) in its group "
                    "headers and footers and its summary only"
                )
            elif isinstance(cell.element, Subreport) and band.kind != BandKind.DETAIL:
                issues.append(f"{where}: {cell.where}: a subreport nests subreports in its detail band only")
            elif band.kind == BandKind.COLUMN_HEADER and not isinstance(cell.element, Label):
                issues.append(f"{where}: {cell.where}: a subreport's column header holds labels only")
            elif not isinstance(cell.element, Label | Field | Expression | Aggregate | Subreport):
                issues.append(f"{where}: {cell.where}: a {cell.element.type} cannot be shown in a subreport")
    if issues:
        raise PlanError(issues)


def _strings(plan: ReportPlan, band: BandPlan, frame: pl.LazyFrame, where: str) -> list[pl.Expr]:
    """The display string of each element of ``band``, in ``frame``'s rows."""
    strings = []
    schema = frame.collect_schema()
    for cell in band.cells:
        if isinstance(cell.element, Label):
            strings.append(pl.lit(cell.element.text, dtype=pl.String))
            continue
        assert cell.value is not None
        if cell.role == "subreport":  # a nested subreport's table, as it is
            strings.append(cell.value.cast(pl.String).fill_null(""))
            continue
        try:
            dtype = pl.LazyFrame(schema=schema).select(cell.value).collect_schema().dtypes()[0]
            pattern = cell.pattern or cell.default_pattern or default_pattern(dtype)
            strings.append(
                format_expr(
                    cell.value,
                    dtype,
                    pattern,
                    locale=plan.locale,
                    currency=plan.currency,
                    null_text=getattr(cell.element, "null_text", ""),
                    where=f"{where}: {cell.where}",
                )
            )
        except pl.exceptions.PolarsError as error:
            raise PlanError([f"{where}: {cell.where}: cannot compute: {str(error).splitlines()[0]}"]) from None
        except FormatError as error:
            raise PlanError([str(error)]) from None
    return strings


def _looks(plan: ReportPlan, band: BandPlan, rows: pl.LazyFrame) -> dict[str, list[Any]]:
    """Per column: its alignment ``a``, whether it holds a nested subreport ``s``, and its
    width as a number ``wn`` of a unit ``wu`` (fr, pt or %)."""
    schema = rows.collect_schema()
    looks: dict[str, list[Any]] = {"a": [], "s": [], "wn": [], "wu": []}
    for cell in band.cells:
        element = cell.element
        numeric = False
        if cell.value is not None and cell.role == "value":
            numeric = pl.LazyFrame(schema=schema).select(cell.value).collect_schema().dtypes()[0].is_numeric()
        looks["a"].append(element.align or ("right" if numeric else "left"))
        looks["s"].append(cell.role == "subreport")
        number, unit = _width(element.width, plan.page.font_size)
        looks["wn"].append(number)
        looks["wu"].append(unit)
    return looks


def _constant(name: str, value: Any) -> pl.Expr:
    """A value the same in every table (its columns' looks), of its type in the JSON."""
    return pl.lit(pl.Series([value], dtype=_LOOK_TYPES.get(name))).first().alias(name)


_LOOK = pl.Struct({"f": pl.String, "z": pl.Float64, "b": pl.Boolean, "i": pl.Boolean, "c": pl.String, "g": pl.String})
_LOOK_TYPES: dict[str, pl.DataType] = {
    "L": pl.List(_LOOK),
    "lk": pl.List(pl.Struct({"k": pl.String, "l": pl.List(pl.Int32), "g": pl.String})),
    "x": pl.Struct({"z": pl.Float64, "stripe": pl.String}),
}
"""The types of the looks' fields in the table's JSON (decoded once, a constant of the frame)."""


def _styled(plan: ReportPlan, width: int, size: float) -> dict[str, Any]:
    """The subreport's own looks, as data for Typst and the HTML page: ``L`` the distinct text
    looks (font ``f``, size ``z``, bold ``b``, italic ``i``, colour ``c``, cell fill ``g``; None:
    not set); ``lk`` per kind of row (``c`` its column header, ``d`` a row, ``h1``/``f1`` a
    group's header and footer, ``t`` its summary) the look of each column and the band's fill;
    ``x`` its font size and the detail rows' stripe colour (its zebra). None of them where all
    are plain and its font size is ``size``, the master's."""
    distinct: list[dict[str, Any]] = [dict.fromkeys(("f", "z", "b", "i", "c", "g"))]
    kinds = []
    for band in plan.bands:
        if band.kind not in _SHOWN or band.styling is None:
            continue
        styling = band.styling
        indexes = []
        for look in styling.elements[:width]:
            merged = styling.band.text.then(look)
            entry = {"f": merged.font, "z": merged.size, "b": merged.bold, "i": merged.italic, "c": merged.color}
            entry["g"] = look.fill
            if entry not in distinct:
                distinct.append(entry)
            indexes.append(distinct.index(entry))
        band_text = styling.band.text
        default = {"f": band_text.font, "z": band_text.size, "b": band_text.bold, "i": band_text.italic}
        default |= {"c": band_text.color, "g": None}
        if default not in distinct:
            distinct.append(default)
        indexes += [distinct.index(default)] * (width - len(indexes))
        kind = {"column_header": "c", "detail": "d", "summary": "t"}.get(band.kind, "")
        kind = kind or f"{'h' if band.kind == BandKind.GROUP_HEADER else 'f'}{band.level}"
        kinds.append({"k": kind, "l": indexes, "g": styling.band.fill})
    stripe, font_size = plan.detail_stripe, plan.page.font_size
    if len(distinct) == 1 and not any(kind["g"] for kind in kinds) and stripe is None and font_size == size:
        return {}  # plain: the master's text, as before (and no bytes more per table)
    return {"L": distinct, "lk": kinds, "x": {"z": font_size, "stripe": stripe}}


def _width(length: str | None, font_size: float) -> tuple[float, str]:
    """A column width as a number and a unit Typst multiplies: ``('2', 'fr')``, ``(30.0, 'pt')``."""
    if length is None:
        return 1.0, "fr"
    for unit in ("fr", "%"):
        if length.endswith(unit):
            return float(length.removesuffix(unit)), unit
    if length.endswith("em"):
        return float(length[:-2]) * font_size, "pt"
    points = {"pt": 1.0, "mm": 72 / 25.4, "cm": 720 / 25.4, "in": 72.0}
    return float(length[:-2]) * points[length[-2:]], "pt"
