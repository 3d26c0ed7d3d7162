"""Values per page: page subtotals, brought and carried forward totals, rows per page, and page
numbers within a group.

They are known once the page breaks are: each band instance's page follows from the first band
of every page, and the rest is a group_by over the page number in Polars, so the cost grows
with the rows, never with rows times pages.

    >>> import polarreports as pr
    >>> report = pr.Report(name="r", variables=[pr.Variable(name="n", calculation="count")],
    ...     bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="x")]),
    ...         page_footer=pr.Band(elements=[pr.Aggregate(variable="n", show="page")])))
    >>> from polarreports.api import plan_report
    >>> from polarreports.stream.collect import collect_stream
    >>> from polarreports.emit.typst_source import band_indices
    >>> plan, scopes = plan_report(report, pl.DataFrame({"x": range(5)}))
    >>> stream = collect_stream(plan, scopes, band_indices(plan))
    >>> stream.pages.values(band_pages([0, 2], 5), total=2)   # two pages: rows 0-1, then 2-4
    [['2'], ['3']]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from polarreports.compute.formats import default_pattern, format_expr
from polarreports.compute.scopes import ROW_INDEX
from polarreports.plan.calculations import total
from polarreports.plan.model import PageSlot, ReportPlan

__all__ = ["PageRows", "band_pages", "page_rows_query"]

PAGE = "__page"


def _variable(slot: PageSlot) -> str:
    """The name of the slot's variable (slots of one variable share its columns)."""
    assert slot.variable is not None
    return slot.variable.name


def _value(slot: PageSlot) -> str:
    return f"__pv:{_variable(slot)}"


def _running(slot: PageSlot) -> str:
    return f"__pr:{_variable(slot)}"


def _before(slot: PageSlot) -> str:
    return f"__pb:{_variable(slot)}"


def _table(slot: PageSlot) -> str:
    return f"__pt{slot.index}"


def _group_id(level: int) -> str:
    return f"__gid{level}"


def band_pages(starts: list[int], count: int, *, first_page: int = 0) -> pl.Series:
    """The page (0-based) of each of ``count`` band instances, given the first band of each page
    from ``first_page`` on.

    >>> band_pages([0, 2], 5).to_list()
    [0, 0, 1, 1, 1]
    """
    first_bands = pl.Series(starts, dtype=pl.UInt32)
    index = pl.int_range(count, dtype=pl.UInt32, eager=True)
    return (first_bands.search_sorted(index, side="right") - 1 + first_page).cast(pl.UInt32)


def page_rows_query(
    plan: ReportPlan,
    rows: pl.LazyFrame,
    *,
    group_ids: Mapping[int, int] | None = None,
    before: Mapping[str, pl.Series] | None = None,
) -> pl.LazyFrame:
    """Per row (all rows, in report order): what the values per page are computed from.

    For a part of the rows (see ``data.parts``): ``group_ids`` numbers the groups of each level
    on from the parts before (the first group's number), and ``before`` is the running value,
    at the last row of the part before, of each variable whose reset group the part goes on with.
    """
    keys = plan.group_keys
    columns: list[pl.Expr] = [pl.col(ROW_INDEX).cast(pl.UInt32)]
    first_row = pl.int_range(pl.len()) == 0
    for slot in plan.page_slots:
        variable = slot.variable
        if slot.level:
            group_id = pl.struct(keys[: slot.level]).rle_id() + (group_ids or {}).get(slot.level, 0)
            columns.append(group_id.alias(_group_id(slot.level)))
        if slot.column is not None:  # a subreport's table, per row
            columns.append(pl.col(slot.column).alias(_table(slot)))
        if variable is None:
            continue
        columns.append((variable.value if variable.value is not None else pl.lit(1)).alias(_value(slot)))
        running = pl.col(variable.name)
        columns.append(running.alias(_running(slot)))
        reset = keys[: variable.reset_level]
        previous = running.shift(1).over(reset) if reset else running.shift(1)
        carried = (before or {}).get(variable.name)
        if carried is not None:
            previous = pl.when(first_row).then(pl.lit(carried.item(), dtype=carried.dtype)).otherwise(previous)
        columns.append(previous.alias(_before(slot)))
    unique = {expr.meta.output_name(): expr for expr in columns}
    return rows.select(unique.values())


@dataclass(frozen=True)
class PageRows:
    """What values per page are computed from, collected with the band stream."""

    plan: ReportPlan
    rows: pl.DataFrame
    """See :func:`page_rows_query`."""
    band_rows: pl.Series
    """Per band instance of the stream: the row it belongs to (a group band: its first or last row)."""
    detail_bands: pl.Series
    """Per band instance: whether it is a detail row."""

    def values(self, band_page: pl.Series, *, total: int) -> list[list[str]]:
        """For each of the ``total`` pages, the display string of every value per page, given
        the page (0-based) of every band instance (see :func:`band_pages`)."""
        slots = self.plan.page_slots
        pages = pl.DataFrame({PAGE: pl.int_range(total, dtype=pl.UInt32, eager=True)})
        placed = pl.DataFrame({ROW_INDEX: self.band_rows, PAGE: band_page, "__detail": self.detail_bands})
        # detail bands come in row order: the joined rows stay in it
        on_pages = placed.filter("__detail").join(self.rows, on=ROW_INDEX, how="left", maintain_order="left")
        per_page = on_pages.group_by(PAGE).agg(self._aggregations())
        firsts = placed.group_by(PAGE).agg(pl.col(ROW_INDEX).first()).join(self.rows, on=ROW_INDEX, how="left")
        group_ids = [_group_id(slot.level) for slot in slots if slot.level]
        tables = [_table(slot) for slot in slots if slot.column is not None]
        table = pages.join(per_page, on=PAGE, how="left").join(
            firsts.select(PAGE, *dict.fromkeys(group_ids), *tables), on=PAGE, how="left"
        )
        table = table.sort(PAGE).with_columns(self._filled(slots))
        strings = [self._formatted(slot, table) for slot in slots]
        return table.select(pl.concat_list(strings))[:, 0].to_list()

    def _aggregations(self) -> list[pl.Expr]:
        aggregations = []
        for slot in self.plan.page_slots:
            variable = slot.variable
            if variable is None:
                continue
            match slot.what:
                case "page":
                    value = None if variable.value is None else pl.col(_value(slot))
                    aggregations.append(total(variable.calculation, value).alias(f"__s{slot.index}"))
                case "carried_forward":
                    aggregations.append(pl.col(_running(slot)).last().alias(f"__s{slot.index}"))
                    # whether the page's first row starts the variable's reset group
                    aggregations.append(pl.col(_before(slot)).first().is_null().alias(f"__r{slot.index}"))
                case "brought_forward":
                    aggregations.append(pl.col(_before(slot)).first().alias(f"__s{slot.index}"))
                    aggregations.append(pl.col(_running(slot)).last().alias(f"__c{slot.index}"))
        return [pl.len().alias("__rows_on_page"), *aggregations]

    def _filled(self, slots: tuple[PageSlot, ...]) -> list[pl.Expr]:
        """Pages without detail rows: a page total of nothing, the running value carried on.
        Nothing (null) is brought forward to the first page of the report or of the variable's
        reset group, nor carried forward from the last one."""
        filled = []
        for slot in slots:
            column = pl.col(f"__s{slot.index}")
            variable = slot.variable
            additive = variable is not None and variable.calculation in {"sum", "count"}
            match slot.what:
                case "page":
                    filled.append(column.fill_null(0) if additive else column)
                case "carried_forward":
                    # carried forward only where the running value goes on: on the last page
                    # (of the report, or of the variable's reset group) nothing is carried
                    next_restarts = pl.col(f"__r{slot.index}").shift(-1).backward_fill()
                    filled.append(
                        pl.when(next_restarts.not_()).then(column.forward_fill()).alias(column.meta.output_name())
                    )
                case "brought_forward":
                    carried_before = pl.col(f"__c{slot.index}").forward_fill().shift(1)
                    value = pl.when(pl.col("__rows_on_page").fill_null(0) > 0).then(column).otherwise(carried_before)
                    # nothing is brought forward to the first page (of the variable's reset group)
                    filled.append(value.alias(f"__s{slot.index}"))
                case "subreport":  # a page that no band starts on: the table of the band it goes on with
                    filled.append(pl.col(_table(slot)).forward_fill().fill_null("").alias(f"__s{slot.index}"))
                case "page_in_group" | "pages_in_group":
                    group = pl.col(_group_id(slot.level)).forward_fill()
                    numbers = pl.int_range(1, pl.len() + 1) if slot.what == "page_in_group" else pl.len()
                    filled.append(numbers.over(group).cast(pl.UInt32).alias(f"__s{slot.index}"))
        return filled

    def _formatted(self, slot: PageSlot, table: pl.DataFrame) -> pl.Expr:
        column = f"__s{slot.index}"
        if slot.what == "subreport":  # its table's JSON, as it is
            return pl.col(column)
        dtype = table.schema[column]
        plan = self.plan
        pattern = slot.pattern or default_pattern(dtype)
        return format_expr(
            pl.col(column),
            dtype,
            pattern,
            locale=plan.locale,
            currency=plan.currency,
            null_text=slot.null_text,
            where=slot.where,
        )
