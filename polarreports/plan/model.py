"""The resolved plan: a report definition bound to its parameters and checked against the data's
columns. Frozen dataclasses, no pydantic: the plan is internal.

Scopes (which frame a band's values come from):
- ``rows``: one row per detail row; variables by name hold their running values.
- ``group``: one row per group instance of a level; variables hold the group's totals.
- ``report``: one row; variables hold the report totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import polars as pl

from polarreports.definition.elements import Element
from polarreports.definition.report import Band, Report
from polarreports.plan.styles import BandStyling

__all__ = [
    "BandKind",
    "BandPlan",
    "Cell",
    "CellRole",
    "ChartPlan",
    "CrosstabPlan",
    "GroupLevel",
    "PageSlot",
    "ReportPlan",
    "Scope",
    "VariablePlan",
]

Scope = Literal["rows", "group", "report"]
CellRole = Literal["value", "image", "barcode", "subreport", "outline", "link", "when", "off"]


class BandKind(StrEnum):
    """What a band is; equal to its name in a definition (``BandKind.DETAIL == "detail"``)."""

    TITLE = "title"
    PAGE_HEADER = "page_header"
    COLUMN_HEADER = "column_header"
    GROUP_HEADER = "group_header"
    DETAIL = "detail"
    GROUP_FOOTER = "group_footer"
    COLUMN_FOOTER = "column_footer"
    PAGE_FOOTER = "page_footer"
    LAST_PAGE_FOOTER = "last_page_footer"
    SUMMARY = "summary"
    NO_DATA = "no_data"
    BACKGROUND = "background"


REPORT_BANDS = (
    BandKind.TITLE,
    BandKind.PAGE_HEADER,
    BandKind.COLUMN_HEADER,
    BandKind.COLUMN_FOOTER,
    BandKind.PAGE_FOOTER,
    BandKind.LAST_PAGE_FOOTER,
    BandKind.SUMMARY,
    BandKind.NO_DATA,
    BandKind.BACKGROUND,
)
PAGE_BANDS = (
    BandKind.PAGE_HEADER,
    BandKind.COLUMN_HEADER,
    BandKind.COLUMN_FOOTER,
    BandKind.PAGE_FOOTER,
    BandKind.LAST_PAGE_FOOTER,
)
"""Bands printed on every page: the only ones that can show values per page."""
PageValue = Literal["page", "brought_forward", "carried_forward", "page_in_group", "pages_in_group"]


@dataclass(frozen=True)
class Cell:
    """One element of a band, with the expression that gives its value in the band's scope."""

    element: Element
    where: str
    """Where the element is in the definition, for error messages."""
    value: pl.Expr | None = None
    """Raw value in the band's scope; None for static elements (labels, lines, boxes, images)."""
    pattern: str | None = None
    default_pattern: str | None = None
    """Pattern to use when the element gives none (e.g. '0.0%' for a percent)."""
    page_slot: int | None = None
    """For a value per page: its index in each page's list of values (see ``PageSlot``)."""
    role: CellRole = "value"
    """``value``: shown by its element. ``image``: an image per row or group (the value is a
    path or the bytes; the data phase turns it into our asset name). ``barcode``: a barcode's
    value (the data phase turns it into the JSON of the drawn code, see ``plan.barcodes``).
    ``subreport``: a subreport's table, as JSON text (``compute.subreports``). Hidden cells, carried as
    data but not shown: ``outline`` (a group header's bookmark/contents title) and ``link``
    (the URL of the element whose ``where`` is this cell's without ``.link``) and ``when``
    (whether that element shows: its ``print_when``); ``off``: an element of another panel of a
    wide listing (its value is data, it is not shown in this panel)."""

    @property
    def hidden(self) -> bool:
        return self.role in ("outline", "link", "when", "off")


@dataclass(frozen=True)
class BandPlan:
    kind: BandKind
    name: str
    """Where the band is in the definition, such as 'bands.detail' or "groups[0] 'region'.footer"."""
    band: Band
    scope: Scope
    level: int = 0
    """Group level (1 = outermost) for group bands."""
    cells: tuple[Cell, ...] = ()
    when: pl.Expr | None = None
    """Where the band shows (``print_when``), in its scope; None: everywhere."""
    break_before: bool = False
    """Whether a new page starts before the band."""
    break_after: bool = False
    """Whether a new page starts after the band."""
    styling: BandStyling | None = None
    """Its looks (theme, styles, zebra, conditional styles); None: the plain look of its fields."""

    @property
    def data_cells(self) -> tuple[Cell, ...]:
        return tuple(cell for cell in self.cells if cell.value is not None)


@dataclass(frozen=True)
class ChartPlan:
    """A chart element and where its data comes from: group level ``level`` (0: the report)."""

    index: int
    element: Any
    where: str
    level: int

    @property
    def column(self) -> str:
        return f"__chart{self.index}"


@dataclass(frozen=True)
class CrosstabPlan:
    """A crosstab element and where its data comes from: group level ``level`` (0: the report)."""

    index: int
    element: Any
    where: str
    level: int

    @property
    def column(self) -> str:
        return f"__crosstab{self.index}"


@dataclass(frozen=True)
class GroupLevel:
    name: str
    key: pl.Expr
    descending: bool
    level: int


@dataclass(frozen=True)
class VariablePlan:
    name: str
    calculation: str
    value: pl.Expr | None
    reset_level: int
    """0 resets at the start of the report, k at the start of each group of level k."""


@dataclass(frozen=True)
class PageSlot:
    """A value that differs from page to page (a page subtotal, a carried-forward total, a page
    number within a group), computed in Polars once the page breaks are known."""

    index: int
    what: PageValue
    where: str
    variable: VariablePlan | None = None
    level: int = 0
    """For page numbers within a group: the group's level."""
    pattern: str | None = None
    null_text: str = ""


@dataclass(frozen=True)
class ReportPlan:
    report: Report
    parameters: dict[str, Any]
    base_dir: Path
    filter: pl.Expr | None
    derived: tuple[tuple[str, pl.Expr], ...]
    groups: tuple[GroupLevel, ...]
    sort: tuple[tuple[pl.Expr, bool], ...]
    variables: tuple[VariablePlan, ...]
    bands: tuple[BandPlan, ...]
    first_columns: dict[int, tuple[str, ...]] = field(default_factory=dict)
    """Per scope level (0 = report), the data columns whose first value a field shows."""
    running_levels: frozenset[int] = frozenset()
    """Group levels whose bands show running values (joined from the rows at the group's end)."""
    charts: tuple[ChartPlan, ...] = ()
    crosstabs: tuple[CrosstabPlan, ...] = ()
    page_slots: tuple[PageSlot, ...] = ()
    """Values per page, in the order of each page's list of values."""
    fonts: tuple[Any, ...] = ()
    """The fonts of the report's own (``plan.fonts.FontFile``), read from ``font_dirs``."""
    own_fonts: dict[str, str] = field(default_factory=dict)
    """Each family of the report's own that a style uses -> where (``styles.brand.font``)."""

    @property
    def has_page_values(self) -> bool:
        return bool(self.page_slots)

    @property
    def group_keys(self) -> list[str]:
        return [g.name for g in self.groups]

    def band(self, kind: str, level: int = 0) -> BandPlan | None:
        for band in self.bands:
            if band.kind == kind and band.level == level:
                return band
        return None
