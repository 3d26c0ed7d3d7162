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
from babel import Locale, UnknownLocaleError
from babel.localedata import locale_identifiers
from babel.numbers import list_currencies

from polarreports.definition.elements import (
    Aggregate,
    Barcode,
    Chart,
    Crosstab,
    Element,
    Expression,
    Field,
    Image,
    PageNumber,
    Subreport,
)
from polarreports.definition.report import Band, Group, Report
from polarreports.exceptions import DataError, FormatError, PlanError
from polarreports.plan.calculations import PERCENTABLE, row_share, total
from polarreports.plan.expressions import ExpressionError, closest, oversized, param_column, root_names, to_expr
from polarreports.plan.fonts import read_fonts
from polarreports.plan.formats import check_pattern_length
from polarreports.plan.geometry import column_width, fit_factor, placement_issues
from polarreports.plan.images import allowed_dirs, logo_image, static_issue
from polarreports.plan.model import (
    PAGE_BANDS,
    REPORT_BANDS,
    BandKind,
    BandPlan,
    Cell,
    ChartPlan,
    CrosstabPlan,
    GroupLevel,
    PageSlot,
    ReportPlan,
    Scope,
    VariablePlan,
)
from polarreports.plan.navigation import contents_title, heading_rank, link_url, outlined
from polarreports.plan.parameters import resolve_parameters
from polarreports.plan.styles import StyleResolver, detail_stripe
from polarreports.plan.subreports import TALLEST, TYPED, subreport_columns
from polarreports.units import to_points

__all__ = ["FIRST_PREFIX", "RUNNING_PREFIX", "build_plan"]

FIRST_PREFIX = "__first__"
RUNNING_PREFIX = "__run__"
PAGE_SHOWS = ("page", "brought_forward", "carried_forward")


def _chart_title(element: Element) -> str | None:
    title = getattr(element, "spec", {}).get("title") if isinstance(element, Chart) else None
    if isinstance(title, dict):
        title = title.get("text")
    return title if isinstance(title, str) else None


_GENERATORS = ("sequence", "sphere", "graticule")
"""Vega-Lite's data generators: data that Vega builds by itself, not from the chart's points."""


def _outside_data(spec: dict[str, Any]) -> str | None:
    """What in a chart's specification would bring in data that is not the chart's own, with
    its path (``spec.layer[0].data.url``): a ``url`` anywhere (a data source, an image mark or
    channel: vl-convert would fetch it), a ``lookup`` from other data, or a data generator
    (``sequence``, ``sphere``, ``graticule``: Vega would build rows by itself, as many as it is
    told); None if nothing."""
    todo: list[tuple[str, Any]] = [("spec", spec)]
    while todo:  # (not recursive: a hostile spec may nest deeply)
        path, node = todo.pop()
        if isinstance(node, list):
            todo.extend((f"{path}[{i}]", item) for i, item in reversed(list(enumerate(node))))
            continue
        if not isinstance(node, dict):
            continue
        if "url" in node:
            return f"fetches a URL at {path}.url"
        data = node.get("data")
        generator = next((name for name in _GENERATORS if name in data), None) if isinstance(data, dict) else None
        if generator is not None:
            return f"generates its own data at {path}.data.{generator}"
        source = node.get("from")
        if "lookup" in node and isinstance(source, dict) and "data" in source:
            return f"looks up data that is not the chart's own at {path}.from.data"
        todo.extend((f"{path}.{key}", value) for key, value in reversed(list(node.items())))
    return None


def _linked(element: Subreport) -> bool:
    """Whether a subreport is linked to the master's rows (a key other than a ``:parameter``)."""
    return any(not mine.startswith(":") for mine in element.keys)


def _describe(element: Element) -> str:
    ident = {
        "field": getattr(element, "column", None),
        "aggregate": getattr(element, "variable", None),
        "label": getattr(element, "text", None),
        "expression": getattr(element, "expr", None),
        "image": getattr(element, "path", None) or getattr(element, "column", None),
        "barcode": getattr(element, "column", None) or getattr(element, "expr", None),
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
        self.crosstabs: list[CrosstabPlan] = []
        self.page_slots: list[PageSlot] = []
        self.fonts, font_issues = read_fonts(report, base_dir)
        for problem in font_issues:
            self.issue(problem)
        self.subreport_columns = subreport_columns(report)
        self.styles = StyleResolver(report, self.issue, self._logo(), [font.family for font in self.fonts])
        self.column_width = column_width(report.page)
        self.image_dirs = tuple(allowed_dirs(report, base_dir))

    # -- helpers -------------------------------------------------------------------------

    def _logo(self) -> tuple[str, bytes] | None:
        """The theme's logo, read by the one rule for files a definition names (None: none, or a problem)."""
        try:
            return logo_image(self.report, self.base_dir)
        except DataError as error:
            self.issue(str(error))
            return None

    def issue(self, message: str) -> None:
        self.issues.append(message)

    def expr(self, source: str | pl.Expr, where: str, allowed: Collection[str], scope_hint: str = "") -> pl.Expr | None:
        try:
            expr = to_expr(source, self.params)
        except ExpressionError as error:
            self.issue(f"{where}: {error}")
            return None
        if (too_long := oversized(expr)) is not None:
            self.issue(f"{where}: {too_long}")
            return None
        for name in root_names(expr):
            if name not in allowed:
                self.issue(f"{where}: unknown column {name!r}{closest(name, allowed)}{scope_hint}")
                return None
        return expr

    # -- stages --------------------------------------------------------------------------

    def build(self) -> ReportPlan:
        report = self.report
        self._check_locale()
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
        self.styles.check_logo()
        if self.issues:
            raise PlanError(self.issues)
        page = report.page
        return ReportPlan(
            name=report.name,
            title=report.title or report.name,
            locale=report.locale,
            currency=report.currency,
            page=page,
            column_width=self.column_width,
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
            crosstabs=tuple(self.crosstabs),
            page_slots=tuple(self.page_slots),
            fonts=tuple(self.fonts),
            own_fonts=dict(self.styles.own_fonts),
            parameter_types={parameter.name: parameter.type for parameter in report.parameters},
            image_dirs=self.image_dirs,
            fit=fit_factor([band.band for band in bands], page),
            tagged_pdf=report.tagged_pdf,
            hyphenate=report.hyphenate,
            detail_stripe=detail_stripe(report),
            outline=report.outline,
            contents_title=contents_title(report),
        )

    def _check_locale(self) -> None:
        """The locale and the currency are ones Babel knows (``de-DE`` is ``de_DE``)."""
        locale, currency = self.report.locale, self.report.currency
        try:
            Locale.parse(locale.replace("-", "_"))
        except (UnknownLocaleError, ValueError, TypeError):
            known = locale_identifiers()
            language = [name for name in known if name.split("_")[0] == locale.replace("-", "_").split("_")[0]]
            hint = closest(locale, language) or closest(locale, known) or " (a Babel locale such as 'en_US' or 'de_DE')"
            self.issue(f"locale: unknown locale {locale!r}{hint}")
        if currency is not None and currency.upper() not in list_currencies():
            hint = closest(currency.upper(), list_currencies()) or " (an ISO 4217 code such as 'EUR' or 'USD')"
            self.issue(f"currency: unknown currency {currency!r}{hint}")

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
                groups.append(self._group_level(group, key, i + 1))
        return groups

    def _group_level(self, group: Group, key: pl.Expr, level: int) -> GroupLevel:
        """Group level ``level`` with its options resolved (the minimum space in points)."""
        font_size = self.report.page.font_size
        return GroupLevel(
            group.name,
            key,
            group.descending,
            level,
            new_page=group.new_page,
            reprint_header=group.reprint_header,
            continued_text=group.continued_text,
            keep_together=group.keep_together,
            min_space=to_points(group.min_space, whole=0, font_size=font_size) if group.min_space else None,
            footer_position=group.footer_position,
            heading_rank=heading_rank(self.report, level) if outlined(self.report, group) else 0,
        )

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
            source = variable.expression.strip() if isinstance(variable.expression, str) else None
            variables.append(VariablePlan(variable.name, variable.calculation, value, reset_level, source))
        return variables

    def _bands(self, groups: list[GroupLevel], variables: list[VariablePlan]) -> list[BandPlan]:
        report = self.report
        plans: list[BandPlan] = []
        deepest = len(groups) + 1
        if report.bands.detail is not None:
            plans.append(
                self._band(BandKind.DETAIL, "bands.detail", report.bands.detail, "rows", deepest, groups, variables)
            )
        for group in groups:
            definition = report.groups[group.level - 1]
            header, footer = definition.header, definition.footer
            needs_header = (
                definition.new_page
                or definition.keep_together
                or definition.min_space is not None
                or outlined(report, definition)
            )
            if header is None and needs_header:
                header = Band(padding="0pt")  # an empty header carries the page break, the bookmark
            if footer is None and definition.reprint_header:
                footer = Band(padding="0pt")  # an empty footer ends the group's "(continued)"
            for kind, band in ((BandKind.GROUP_HEADER, header), (BandKind.GROUP_FOOTER, footer)):
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
            if kind in PAGE_BANDS and isinstance(element, Aggregate | PageNumber):
                cell = self._page_cell(element, where, groups, variables)
            elif kind in PAGE_BANDS and isinstance(element, Subreport) and _linked(element):
                cell = self._page_subreport(element, where, groups, variables)
            else:
                cell = self._cell(element, where, scope, level, groups, variables)
            if cell is not None:
                cells.append(cell)
        cells.extend(self._hidden_cells(kind, band, cells, self._scope_names(scope, level, groups, variables), level))
        when = None
        names = self._scope_names(scope, level, groups, variables)
        if band.print_when is not None:
            when = self.expr(band.print_when, f"{name}.print_when", names)
        group = self.report.groups[level - 1] if scope == "group" else None
        new_page = kind == BandKind.GROUP_HEADER and group is not None and group.new_page
        at_page_bottom = kind == BandKind.GROUP_FOOTER and group is not None and group.footer_position == "page_bottom"
        if band.page_break_after and kind in PAGE_BANDS:
            self.issue(
                f"{name}.page_break_after: the {kind.replace('_', ' ')} is printed on every page; it cannot break"
            )
        for issue in placement_issues(band, name, self.report.page):
            self.issue(issue)
        styling = self.styles.band(
            kind,
            name,
            band,
            level,
            cells,
            lambda source, where: self.expr(source, where, names),
            self._zebra_keys(groups),
        )
        return BandPlan(
            BandKind(kind),
            name,
            band,
            scope,
            level if scope == "group" else 0,
            tuple(cells),
            when,
            band.page_break_before or new_page,
            band.page_break_after or at_page_bottom,
            styling,
            self.column_width,
        )

    def _zebra_keys(self, groups: list[GroupLevel]) -> list[str]:
        """The group keys within which detail stripes restart: those of the deepest level that
        shows a band (header, footer, or a new page) between its groups."""
        definitions = self.report.groups
        deepest = max(
            (g.level for g in groups if (d := definitions[g.level - 1]).header or d.footer or d.new_page), default=0
        )
        return [g.name for g in groups if g.level <= deepest]

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
            if element.show in PAGE_SHOWS:
                self.issue(
                    f"{where}: show {element.show!r} is a value per page: it can be shown in the page "
                    "header or footer and the column header or footer"
                )
                return None
            return self._aggregate(element, where, scope, level, groups, variables)
        if isinstance(element, PageNumber) and element.group is not None:
            self.issue(f"{where}: page numbers within a group can be shown in the page header or footer")
            return None
        if isinstance(element, Chart):
            return self._chart(element, where, scope, level)
        if isinstance(element, Crosstab):
            return self._crosstab(element, where, scope, level)
        if isinstance(element, Subreport):  # its table, joined onto the rows (compute.subreports)
            column = self.subreport_columns.get(id(element), "")
            found = self._cell(Field(column=column), where, scope, level, groups, variables)
            if found is None:
                return None
            typed = None
            if column + TYPED in self.rows_names:  # its rows' raw values (a subreport of values)
                typed = self._cell(Field(column=column + TYPED), where, scope, level, groups, variables)
            value = typed.value if typed is not None else None
            return Cell(element, where, found.value, role="subreport", typed=value)
        if isinstance(element, Image):
            if element.column is not None:
                found = self._cell(Field(column=element.column), where, scope, level, groups, variables)
                return None if found is None else Cell(element, where, found.value, role="image")
            issue = static_issue(element, where, self.image_dirs, self.base_dir)
            if issue is not None:
                self.issue(issue)
                return None
        if isinstance(element, Barcode):
            source: Field | Expression = (
                Field(column=element.column) if element.column is not None else Expression(expr=element.expr or "")
            )
            found = self._cell(source, where, scope, level, groups, variables)
            return None if found is None else Cell(element, where, found.value, role="barcode")
        return Cell(element, where)

    def _page_cell(
        self, element: Aggregate | PageNumber, where: str, groups: list[GroupLevel], variables: list[VariablePlan]
    ) -> Cell | None:
        """A cell of a band printed on every page; values per page get a slot in each page's
        list of values."""
        if isinstance(element, PageNumber):
            if element.group is None:
                return Cell(element, where)
            levels = {g.name: g.level for g in groups}
            if element.group not in levels:
                self.issue(f"{where}: unknown group {element.group!r}{closest(element.group, levels)}")
                return None
            first = len(self.page_slots)
            for number in ("page_in_group", "pages_in_group"):
                slot = PageSlot(len(self.page_slots), number, where, level=levels[element.group], pattern="0")
                self.page_slots.append(slot)
            return Cell(element, where, page_slot=first)
        what = element.show
        if what not in ("page", "brought_forward", "carried_forward"):
            return self._cell(element, where, "report", 0, groups, variables)
        try:
            check_pattern_length(element.format, where=where)  # its type is known only at render
        except FormatError as error:
            self.issue(str(error))
            return None
        variable = next((v for v in variables if v.name == element.variable), None)
        if variable is None:
            hint = closest(element.variable, [v.name for v in variables])
            self.issue(f"{where}: unknown variable {element.variable!r}{hint}")
            return None
        slot = PageSlot(
            len(self.page_slots), what, where, variable, pattern=element.format, null_text=element.null_text
        )
        self.page_slots.append(slot)
        return Cell(element, where, page_slot=slot.index)

    def _page_subreport(
        self, element: Subreport, where: str, groups: list[GroupLevel], variables: list[VariablePlan]
    ) -> Cell | None:
        """A subreport linked to the rows in a page band: each page shows the table of the row of
        its first band (a slot per page, as values per page), in the room of the tallest table
        (the cell's value: the same on every page, so every page's band is as tall)."""
        column = self.subreport_columns.get(id(element), "")
        found = self._cell(Field(column=column + TALLEST), where, "report", 0, groups, variables)
        if found is None:
            return None
        slot = PageSlot(len(self.page_slots), "subreport", where, column=column)
        self.page_slots.append(slot)
        return Cell(element, where, found.value, role="subreport", page_slot=slot.index)

    def _hidden_cells(self, kind: str, band: Band, cells: list[Cell], names: list[str], level: int) -> list[Cell]:
        """Cells carried as data but not shown: whether each element with a ``print_when``
        shows, each linked element's URL, and a group header's outline title (the group's key,
        formatted as the header shows it)."""
        hidden = []
        for cell in cells:
            if cell.element.print_when is not None:
                visible = self.expr(cell.element.print_when, f"{cell.where}.print_when", names)
                if visible is not None:
                    hidden.append(Cell(cell.element, f"{cell.where}.print_when", visible, role="when"))
            source = getattr(cell.element, "link", None)
            if source is not None:
                url = self.expr(source, f"{cell.where}.link", names)
                if url is not None:
                    hidden.append(Cell(cell.element, f"{cell.where}.link", link_url(url), role="link"))
        if kind == BandKind.GROUP_HEADER and outlined(self.report, self.report.groups[level - 1]):
            key = self.report.groups[level - 1].name
            shown = [c.element for c in cells if isinstance(c.element, Field) and c.element.column == key]
            title = shown[0] if shown else Field(column=key, null_text="(none)")
            where = f"{self._band_name(kind, level)}.outline"
            hidden.append(Cell(title, where, pl.col(key), title.format, role="outline"))
        return hidden

    def _band_name(self, kind: str, level: int) -> str:
        return f"groups[{level - 1}] ({self.report.groups[level - 1].name!r}).{kind.removeprefix('group_')}"

    def _chart(self, element: Chart, where: str, scope: Scope, level: int) -> Cell | None:
        outside = _outside_data(element.spec)
        if outside is not None:
            self.issue(
                f"{where}: the chart's spec {outside}; a chart shows only the data its 'by' and 'measures' "
                "compute from the report's rows, so remove it"
            )
            return None
        if scope == "rows":
            return self._row_chart(element, where)
        ok = True
        for dimension in element.by:
            if dimension.column not in self.rows_names:
                hint = closest(dimension.column, self.rows_names)
                self.issue(f"{where}: unknown column {dimension.column!r}{hint} in the chart's 'by'")
                ok = False
        keys = [group.name for group in self.report.groups[:level]] if scope == "group" else []
        for dimension in element.by:
            if dimension.column in keys and (dimension.bucket is not None or dimension.bin is not None):
                how = f"bucket: {dimension.bucket}" if dimension.bucket is not None else f"bin: {dimension.bin:g}"
                self.issue(
                    f"{where}: the chart's 'by' column {dimension.column!r} is the key of its group, one value "
                    f"per chart, so its {how} has nothing to group; chart by another column, or drop the {how}"
                )
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

    def _crosstab(self, element: Crosstab, where: str, scope: Scope, level: int) -> Cell | None:
        """A crosstab over the rows of its group instance (or the report): checked here, its
        data computed with the scope frames (``compute.crosstabs``)."""
        if scope == "rows":
            self.issue(
                f"{where}: a crosstab sums up many rows: place it in a group header or footer, the title or the summary"
            )
            return None
        ok = True
        for dimension in [*element.rows, *element.columns]:
            if dimension.column not in self.rows_names:
                hint = closest(dimension.column, self.rows_names)
                self.issue(f"{where}: the crosstab's rows or columns name an unknown column {dimension.column!r}{hint}")
                ok = False
        for name, measure in element.measures.items():
            if measure.value is not None:
                ok = self.expr(measure.value, f"{where} measure {name!r}", self.rows_names) is not None and ok
        if not ok:
            return None
        crosstab = CrosstabPlan(len(self.crosstabs), element, where, level if scope == "group" else 0)
        self.crosstabs.append(crosstab)
        return Cell(element, where, pl.col(crosstab.column))

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
        points = pl.max_horizontal(pl.concat_list(field).list.len() for field in fields).alias("__n")
        return Cell(element, where, pl.struct([*fields, points]).struct.json_encode())

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
