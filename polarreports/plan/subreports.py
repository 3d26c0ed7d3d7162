"""Where a report's subreports are, and the column each one's data arrives in.

The subreports' data is joined onto the master's rows before the plan is built (see
``compute.subreports``): each subreport gives one column of nested tables, named here, so the
plan and the data agree on it.

    >>> import polarreports as pr
    >>> sub = pr.Subreport(report="payments.yaml", source="payments", keys=["order_id"])
    >>> report = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[sub])))
    >>> [(where, column) for where, _, column in subreports(report)]
    [('bands.detail.elements[0] (subreport)', '__sub0')]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from polarreports.definition.elements import Subreport
from polarreports.definition.report import Band, Report, load
from polarreports.exceptions import PolarReportsError
from polarreports.plan.model import BandPlan

__all__ = [
    "PAGE_BANDS",
    "REPORT_BANDS",
    "ROW_CLASSES",
    "SUB_PREFIX",
    "SUB_ROWS",
    "TALLEST",
    "TYPED",
    "band_of",
    "source_names",
    "subreport_columns",
    "subreport_rows",
    "subreports",
    "table_columns",
    "table_formats",
]

SUB_PREFIX = "__sub"
SUB_ROWS = "#rows"
"""Suffix of the layout name of a band's variant for subreports of n rows (``#rows3``)."""
ROW_CLASSES = 30
"""A band holding a subreport has a variant per number of rows from 1 to this; longer ones
stay in the band's own kind (and a report with several heights there is typeset in one piece)."""
REPORT_BANDS = ("title", "summary")
"""The bands whose subreport is over the whole source (no keys), or linked to parameters."""
PAGE_BANDS = ("page_header", "column_header", "column_footer", "page_footer", "last_page_footer")
"""The bands printed on every page: a subreport there is over the whole source (no keys: the
same table on every page), or linked by keys to the row of each page's first band."""
TYPED = ":typed"
"""Suffix of the column holding a subreport's rows' raw values (``__sub0:typed``: a list of
structs, one per row of its table, null for a group's rows), for the data exports and the
spreadsheet."""
TALLEST = ":tallest"
"""Suffix of the column holding, on every row, the table with the most rows of a subreport
linked per page (``__sub0:tallest``): the page band keeps its room on every page."""


def _bands(report: Report) -> Iterator[tuple[str, Band]]:
    for kind in type(report.bands).model_fields:
        band = getattr(report.bands, kind)
        if band is not None:
            yield f"bands.{kind}", band
    for i, group in enumerate(report.groups):
        for part in ("header", "footer"):
            band = getattr(group, part)
            if band is not None:
                yield f"groups[{i}] ({group.name!r}).{part}", band


def subreports(report: Report) -> list[tuple[str, Subreport, str]]:
    """Each subreport element of ``report``: where it is, the element, and its data column."""
    found: list[tuple[str, Subreport, str]] = []
    for name, band in _bands(report):
        for i, element in enumerate(band.elements):
            if isinstance(element, Subreport):
                found.append((f"{name}.elements[{i}] (subreport)", element, f"{SUB_PREFIX}{len(found)}"))
    return found


def source_names(report: Report, depth: int = 0) -> set[str]:
    """The names of the sources given at render that ``report``'s subreports (nested ones too:
    inline, or from a definition file that loads) read; a data file or a query is no name.

    >>> import polarreports as pr
    >>> sub = pr.Subreport(report=pr.Report(name="p"), source="payments", keys=["order_id"])
    >>> source_names(pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[sub]))))
    {'payments'}
    """
    names: set[str] = set()
    for _, element, _ in subreports(report):
        if isinstance(element.source, str) and not Path(element.source).suffix:
            names.add(element.source)
        inner = element.report
        if isinstance(inner, str):
            try:
                inner = load(Path(inner))
            except (OSError, PolarReportsError):  # reported when the report renders
                continue
        if depth < 4:
            names |= source_names(inner, depth + 1)
    return names


def table_columns(element: Subreport) -> tuple[str, list[str]]:
    """The subreport's name and the names of its table's columns (its detail band's elements:
    a field's column, an expression's text, a label's text; ``column3`` where none, or where
    its definition file no longer loads), for the rows of a data export.

    >>> import polarreports as pr
    >>> sub = pr.Report(name="pay", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="amount"),
    ...     pr.Expression(expr="amount * 2"), pr.Field(column="amount")])))
    >>> table_columns(pr.Subreport(report=sub, source="payments", keys=["order_id"]))
    ('pay', ['amount', 'amount * 2', 'amount_2'])
    """
    sub = element.report
    if isinstance(sub, str):
        try:
            sub = load(Path(sub))
        except (OSError, PolarReportsError):
            return Path(sub).stem, []
    detail = sub.bands.detail
    names: list[str] = []
    seen: Counter[str] = Counter()
    for i, shown in enumerate(detail.elements if detail is not None else []):
        text = getattr(shown, "column", None) or getattr(shown, "expr", None) or getattr(shown, "text", None)
        name = " ".join(text.split()) if isinstance(text, str) and 0 < len(text) <= 40 else f"column{i + 1}"
        seen[name] += 1
        names.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return sub.name, names


def table_formats(element: Subreport) -> tuple[list[str | None], str | None, str | None]:
    """The ``format`` of each column of the subreport's table (its detail band's elements; none
    where its definition file no longer loads), and the locale and currency it sets of its own
    (None: the master's), for the spreadsheet's number formats.

    >>> import polarreports as pr
    >>> sub = pr.Report(name="pay", currency="EUR", bands=pr.Bands(detail=pr.Band(elements=[
    ...     pr.Field(column="on"), pr.Field(column="amount", format="#,##0.00")])))
    >>> table_formats(pr.Subreport(report=sub, source="payments", keys=["order_id"]))
    ([None, '#,##0.00'], None, 'EUR')
    """
    sub = element.report
    if isinstance(sub, str):
        try:
            sub = load(Path(sub))
        except (OSError, PolarReportsError):
            return [], None, None
    detail = sub.bands.detail
    formats = [getattr(shown, "format", None) for shown in (detail.elements if detail is not None else [])]
    fields = type(sub).model_fields
    own = {name: getattr(sub, name) for name in ("locale", "currency") if getattr(sub, name) != fields[name].default}
    return formats, own.get("locale"), own.get("currency")


def band_of(where: str) -> str:
    """The kind of band a subreport's ``where`` (as :func:`subreports` gives it) names.

    >>> band_of("bands.title.elements[0] (subreport)"), band_of("groups[1] ('region').footer.elements[0]")
    ('title', 'group')
    """
    return where.split(".")[1] if where.startswith("bands.") else "group"


def subreport_columns(report: Report) -> dict[int, str]:
    """The data column of each subreport element, by the element's ``id``."""
    return {id(element): column for _, element, column in subreports(report)}


def subreport_rows(band: BandPlan) -> pl.Expr | None:
    """The number of rows of the longest subreport table of a band instance (its cells in
    ``c``), counting nested rows: 0 where it has none; None for a band without a subreport."""
    counts = [
        pl.when(text != "").then(text.str.count_matches("],[", literal=True) + 1).otherwise(0)
        for i, cell in enumerate(band.data_cells)
        if cell.role == "subreport"
        for text in [pl.col("c").list.get(i, null_on_oob=True).fill_null("")]
    ]
    return pl.max_horizontal(counts) if counts else None
