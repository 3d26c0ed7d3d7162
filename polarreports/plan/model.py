"""The resolved plan: a report definition bound to its parameters and checked against the data's
columns. Frozen dataclasses, no pydantic: the plan is internal.

The plan does not keep the definition's ``Report``: what the later stages need of it is resolved
here once (the page and its widths, the locale, the title, each group's options, the bookmarks,
the folders files may come from), so nothing downstream reads the definition again. It keeps
the definition's validated pieces that are values already: each band's ``Band``, each cell's
element and the ``PageSetup`` (its lengths as written, since the Typst source and the HTML page
write them so).

Scopes (which frame a band's values come from):
- ``rows``: one row per detail row; variables by name hold their running values.
- ``group``: one row per group instance of a level; variables hold the group's totals.
- ``report``: one row; variables hold the report totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Literal

import polars as pl

from polarreports.definition.elements import Element
from polarreports.definition.report import Band, PageSetup
from polarreports.plan.geometry import cell_widths
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
PageValue = Literal["page", "brought_forward", "carried_forward", "page_in_group", "pages_in_group", "subreport"]


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
    typed: pl.Expr | None = None
    """For a subreport: its rows' raw values (``plan.subreports.TYPED``), kept with the band's
    raw values (``__t<i>``) for the data exports and the spreadsheet, never shown."""
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
    column_width: float = 0.0
    """Width (pt) of the page's body column the band's row of cells spans (``ReportPlan.column_width``)."""

    @property
    def data_cells(self) -> tuple[Cell, ...]:
        return tuple(cell for cell in self.cells if cell.value is not None)

    @property
    def shown_cells(self) -> tuple[Cell, ...]:
        """The cells an output shows (not the hidden ones), left to right."""
        return tuple(cell for cell in self.cells if not cell.hidden)

    @cached_property
    def widths(self) -> tuple[float, ...]:
        """Width (pt) of each of ``shown_cells`` in a row of cells across ``column_width``, less
        the gaps between them (``geometry.cell_widths``): worked out once per band, and read
        by the stream (overflow), the Typst, HTML and XLSX emitters alike.

            >>> from polarreports.definition.elements import Label
            >>> band = BandPlan(BandKind.DETAIL, "d", Band(), "rows", cells=(
            ...     Cell(Label(text="a", width="25%"), "a"), Cell(Label(text="b"), "b")), column_width=100.0)
            >>> band.widths
            (25.0, 71.0)
        """
        return tuple(cell_widths([cell.element for cell in self.shown_cells], self.column_width))


@dataclass(frozen=True)
class _ComputedElement:
    """An element whose content Polars computes (a chart's points, a crosstab's table) and
    where its data comes from: group level ``level`` (0: the report); its column is named
    after ``_PREFIX`` and its index."""

    _PREFIX: ClassVar[str]
    index: int
    element: Any
    where: str
    level: int

    @property
    def column(self) -> str:
        return f"{self._PREFIX}{self.index}"


@dataclass(frozen=True)
class ChartPlan(_ComputedElement):
    """A chart element and where its data comes from (``column``: ``__chart0``, ...)."""

    _PREFIX = "__chart"


@dataclass(frozen=True)
class CrosstabPlan(_ComputedElement):
    """A crosstab element and where its data comes from (``column``: ``__crosstab0``, ...)."""

    _PREFIX = "__crosstab"


@dataclass(frozen=True)
class GroupLevel:
    """A group level with its options, resolved from the definition's ``Group``."""

    name: str
    key: pl.Expr
    descending: bool
    level: int
    new_page: bool = False
    reprint_header: bool = False
    """Whether its header is printed again, with ``continued_text``, atop a page it goes on to."""
    continued_text: str = "(continued)"
    keep_together: bool = False
    min_space: float | None = None
    """Room (pt) the group needs left on a page to start there (``Group.min_space``); None: any."""
    footer_position: Literal["after_group", "page_bottom"] = "after_group"
    heading_rank: int = 0
    """Its heading level among the groups that get a bookmark or a contents entry (0: none)."""

    @property
    def asks_for_room(self) -> bool:
        """Whether a page break may be decided before the group (keep together, minimum space)."""
        return self.keep_together or self.min_space is not None


@dataclass(frozen=True)
class VariablePlan:
    name: str
    calculation: str
    value: pl.Expr | None
    reset_level: int
    """0 resets at the start of the report, k at the start of each group of level k."""
    source: str | None = None
    """Its expression as written, when written as text (``"amount"``); None otherwise."""


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
    column: str | None = None
    """For a subreport linked to the master's rows in a page band (``subreport``): its data
    column; the page shows the table of the row of the page's first band."""


@dataclass(frozen=True)
class ReportPlan:
    """A report ready to compute and write: every decision about the definition made once."""

    name: str
    """The report's name (file names, messages, the Typst source's first line)."""
    title: str
    """The document's title: the report's ``title``, else its name."""
    locale: str
    """The locale values are formatted in (checked: a Babel locale)."""
    currency: str | None
    page: PageSetup
    """The page settings, validated; lengths as written (see the module docstring)."""
    column_width: float
    """Width (pt) of one body column of the page (``geometry.column_width``)."""
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
    parameter_types: dict[str, str] = field(default_factory=dict)
    """Each declared parameter's type (``"integer"``, ``"date"``, ...) by name."""
    image_dirs: tuple[Path, ...] = ()
    """The folders (resolved) images and other files the definition names may come from."""
    fit: float = 1.0
    """``wide: fit``: the scale that makes the widest row of fixed widths fit the column."""
    tagged_pdf: bool = False
    hyphenate: bool | Literal["auto"] = "auto"
    detail_stripe: str | None = None
    """The colour of the detail band's zebra stripes; None: no stripes."""
    """The definition's ``hyphenate``: ``auto`` hyphenates justified text only."""
    outline: bool = False
    """Whether the groups' headings are PDF bookmarks."""
    contents_title: str | None = None
    """The title of the contents page (``table_of_contents``); None: no contents page."""

    @property
    def has_page_values(self) -> bool:
        return bool(self.page_slots)

    @property
    def group_keys(self) -> list[str]:
        return [g.name for g in self.groups]

    def group(self, level: int) -> GroupLevel:
        """The group of level ``level`` (1 = outermost)."""
        return self.groups[level - 1]

    @property
    def asks_for_room(self) -> bool:
        """Whether a group's page break may be decided before it (keep together, minimum space)."""
        return any(group.asks_for_room for group in self.groups)

    def band(self, kind: str, level: int = 0) -> BandPlan | None:
        for band in self.bands:
            if band.kind == kind and band.level == level:
                return band
        return None
