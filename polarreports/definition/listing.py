"""Columns declared once: a listing's column header, detail band and total lines, made from one
list of columns, so that a heading, its values and its totals can never be misaligned.

Each column says its heading, what it shows (``value``: a column; or ``expr``, or ``variable``
with ``show``), its width, alignment and format, and, per group level (a group's name, or
``report`` for the summary), the variable to total under it. The ordinary bands are made from
it when the definition is read (``expand_listing``): the rest of polarreports sees bands only.

    >>> data = {"name": "r", "groups": [{"name": "region"}],
    ...     "variables": [{"name": "revenue", "calculation": "sum", "expression": "amount"}],
    ...     "listing": {"columns": [
    ...         {"heading": "Region", "value": "region", "width": "70%"},
    ...         {"heading": "Amount", "value": "amount", "width": "30%", "format": "#,##0.00",
    ...          "totals": {"region": "revenue", "report": {"variable": "revenue", "bold": True}}},
    ...     ], "footers": {"report": {"label": {"text": "Total"}}}}}
    >>> bands = expand_listing(data)
    >>> [e["text"] for e in bands["bands"]["column_header"]["elements"]]
    ['Region', 'Amount']
    >>> [(e["type"], e["width"]) for e in bands["bands"]["summary"]["elements"]]
    [('label', '70%'), ('aggregate', '30%')]
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import ConfigDict, field_validator, model_validator

from polarreports.definition.base import DefinitionModel
from polarreports.definition.elements import Length, _check_length, check_color
from polarreports.suggest import closest

__all__ = ["Listing", "ListingColumn", "ListingFooter", "Origins", "expand_listing"]

Origins = dict[tuple[int | str, ...], tuple[str, dict[str, str]]]
"""Where the bands a listing makes come from, for the messages about them: a generated band or
element (its place in the data, ``("bands", "detail", "elements", 2)``) -> the place in the
listing it was made from (``listing.columns[2]``), and the places of the keys it took from
elsewhere (a heading's ``bold`` from ``listing.heading_style``)."""

REPORT_LEVEL = "report"
"""The level whose totals go in the summary band."""
_TEXT_OPTIONS = ("bold", "italic", "size", "color", "style")
_LENGTH = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-z%]+)\s*$")


class _Model(DefinitionModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ListingColumn(_Model):
    """One column: its heading, what it shows, and what it totals under it per group level."""

    heading: str = ""
    value: str | None = None
    """The data column shown on each row."""
    expr: str | None = None
    """Or: an expression computed on each row."""
    variable: str | None = None
    """Or: a variable, with ``show`` (``running`` for a running balance)."""
    show: Literal["value", "running", "percent", "page", "brought_forward", "carried_forward"] | None = None
    width: Length | None = None
    align: Literal["left", "center", "right"] | None = None
    format: str | None = None
    null_text: str | None = None
    overflow: Literal["wrap", "clip", "ellipsis"] | None = None
    markup: Literal["none", "markdown"] | None = None
    """``markdown``: the cells (of a ``value`` or an ``expr``) are rich text (``compute.markup``)."""
    bold: bool | None = None
    italic: bool | None = None
    size: float | None = None
    color: str | None = None
    style: str | None = None
    totals: dict[str, str | dict[str, Any]] = {}
    """Per level (a group's name, or ``report``): the variable totalled under this column, or
    ``{variable, format, bold, show, ..., span}`` (an aggregate's settings, the column's format
    and alignment unless given; ``span: 2`` takes this column and the next one, for a wider
    text such as "1,024 orders")."""

    @field_validator("width", mode="before")
    @classmethod
    def _width(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            _check_length(value)
            msg = f"{value:g} has no unit: a width needs one, such as '{value:g}mm', '{value:g}pt' or '{value:g}%'"
            raise ValueError(msg)
        return None if value is None else _check_length(value)

    @field_validator("color")
    @classmethod
    def _color(cls, value: str | None) -> str | None:
        return check_color(value)

    @model_validator(mode="after")
    def _one_value(self) -> ListingColumn:
        given = [name for name in ("value", "expr", "variable") if getattr(self, name) is not None]
        if len(given) > 1:
            msg = f"give one of value, expr or variable, not {' and '.join(given)}"
            raise ValueError(msg)
        if self.show is not None and self.variable is None:
            msg = "show goes with variable"
            raise ValueError(msg)
        if self.markup == "markdown" and self.variable is not None:
            msg = "markup: markdown goes with value or expr (a variable's figure is no rich text)"
            raise ValueError(msg)
        return self


class ListingFooter(_Model):
    """The total line of one level: its band settings and the label before the first total."""

    label: dict[str, Any] | None = None
    """``{text: ...}`` or ``{expr: ...}`` (and text settings), spanning the columns before the
    first one with a total."""
    band: dict[str, Any] = {}
    """The band's settings (padding, line_above, space_after, fill, ...)."""


class Listing(_Model):
    """A listing declared column by column (see the module's documentation)."""

    columns: list[ListingColumn]
    header: dict[str, Any] = {}
    """The column header band's settings (line_below, padding, fill, ...)."""
    heading_style: dict[str, Any] = {}
    """Text settings of every heading, such as ``{bold: true, color: '#ffffff'}``."""
    header_in: str | None = None
    """Print the headings in this group's header instead of the column header band (with the
    group's ``reprint_header``, they are printed again on every page the group continues on)."""
    detail: dict[str, Any] = {}
    """The detail band's settings (padding, line_below, zebra, ...)."""
    footers: dict[str, ListingFooter] = {}
    """Per level: the label and band settings of its total line."""


def _defined(options: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in options.items() if value is not None}


def _heading(column: ListingColumn, style: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "label",
        "text": column.heading,
        **_defined({"width": column.width, "align": column.align}),
        **style,
    }


def _cell(column: ListingColumn) -> dict[str, Any]:
    text = {name: getattr(column, name) for name in (*_TEXT_OPTIONS, "format", "null_text", "overflow")}
    place = {"width": column.width, "align": column.align}
    if column.variable is not None:
        return {"type": "aggregate", "variable": column.variable, **_defined({"show": column.show, **place, **text})}
    text["markup"] = column.markup
    if column.expr is not None:
        return {"type": "expression", "expr": column.expr, **_defined({**place, **text})}
    return {"type": "field", "column": column.value, **_defined({**place, **text})}


def _total(columns: list[ListingColumn], total: str | dict[str, Any], where: str) -> tuple[dict[str, Any], int]:
    """The aggregate under ``columns[0]`` and how many columns it spans."""
    column = columns[0]
    given = {"variable": total} if isinstance(total, str) else dict(total)
    span = given.pop("span", 1)
    if isinstance(span, bool) or not isinstance(span, int) or not 1 <= span <= len(columns):
        msg = f"{where}.span: {span!r} is not a number of columns from 1 to {len(columns)}"
        raise ValueError(msg)
    width = _span([c.width for c in columns[:span]], f"{where}.span") if span > 1 else column.width
    inherited = _defined({"width": width, "align": column.align, "format": column.format})
    return {"type": "aggregate", "variable": given.pop("variable", None), **inherited, **given}, span


def _span(widths: list[str | None], where: str) -> str | None:
    """The width of cells side by side (``12%`` and ``8%``: ``20%``); they must share a unit."""
    if not widths:
        return None
    found = [_LENGTH.match(w) if w is not None else None for w in widths]
    units = {m[2] for m in found if m is not None}
    if any(m is None for m in found) or len(units) != 1:
        msg = f"{where}: the label spans columns whose widths do not add up ({widths}); give them all in one unit"
        raise ValueError(msg)
    total = sum(float(m[1]) for m in found if m is not None)
    return f"{total:g}{units.pop()}"


def _footer(listing: Listing, level: str) -> tuple[dict[str, Any], list[tuple[str, dict[str, str]]]]:
    """The total line of ``level``: the label, spanning the columns before the first total, then
    a cell per column (an empty one where the column totals nothing at this level); and where
    each cell comes from in the listing (see :data:`Origins`)."""
    footer = listing.footers.get(level, ListingFooter())
    cells: list[dict[str, Any]] = []
    origins: list[tuple[str, dict[str, str]]] = []
    first = next((i for i, c in enumerate(listing.columns) if level in c.totals), len(listing.columns))
    if footer.label is not None:
        label = dict(footer.label)
        kind = "expression" if "expr" in label else "label"
        width = _span([c.width for c in listing.columns[:first]], f"listing.footers.{level}.label")
        cells.append({"type": kind, **label, **_defined({"width": width})})
        origins.append((f"listing.footers.{level}.label", {}))
    elif first:
        width = _span([c.width for c in listing.columns[:first]], f"listing.footers.{level}")
        cells.append({"type": "label", "text": "", **_defined({"width": width})})
        origins.append((f"listing.footers.{level}", {}))
    i = first
    while i < len(listing.columns):
        total = listing.columns[i].totals.get(level)
        if total is None:
            cells.append({"type": "label", "text": "", **_defined({"width": listing.columns[i].width})})
            origins.append((f"listing.columns[{i}]", {}))
            i += 1
            continue
        where = f"listing.columns[{i}].totals.{level}"
        cell, span = _total(listing.columns[i:], total, where)
        given = set(total) if isinstance(total, dict) else set()
        inherited = [key for key in ("width", "align", "format") if key not in given]
        origins.append((where, dict.fromkeys(inherited, f"listing.columns[{i}]")))
        cells.append(cell)
        i += span
    while cells and cells[-1].get("type") == "label" and cells[-1].get("text") == "":
        cells.pop()  # nothing after the last total
    band_place = f"listing.footers.{level}.band" if level in listing.footers else f"listing.footers.{level}"
    return {**footer.band, "elements": cells}, [(band_place, {}), *origins[: len(cells)]]


def _check_references(listing: Listing, data: dict[str, Any]) -> None:
    """Each level a column totals is a group or ``report``, each variable a declared one."""
    groups = [g.get("name") for g in data.get("groups") or [] if isinstance(g, dict)]
    levels = [*groups, REPORT_LEVEL]
    variables = [v.get("name") for v in data.get("variables") or [] if isinstance(v, dict)]
    for i, column in enumerate(listing.columns):
        for level, total in column.totals.items():
            where = f"listing.columns[{i}].totals.{level}"
            if level not in levels:
                msg = f"{where}: unknown level {level!r}{closest(level, levels, n=1)} (the groups, or 'report')"
                raise ValueError(msg)
            name = total if isinstance(total, str) else total.get("variable")
            if name not in variables:
                msg = f"{where}: unknown variable {name!r}{closest(str(name), variables, n=1)}"
                raise ValueError(msg)
    for level in listing.footers:
        if level not in levels:
            hint = closest(level, levels, n=1)
            msg = f"listing.footers.{level}: unknown level {level!r}{hint} (the groups, or 'report')"
            raise ValueError(msg)
    if listing.header_in is not None and listing.header_in not in groups:
        msg = f"listing.header_in: unknown group {listing.header_in!r}{closest(listing.header_in, groups, n=1)}"
        raise ValueError(msg)


def _put(holder: dict[str, Any], key: str, band: dict[str, Any], where: str) -> None:
    if holder.get(key) is not None:
        msg = f"{where}: given twice, by the listing and here; leave one out"
        raise ValueError(msg)
    holder[key] = band


def expand_listing(data: Any, origins: Origins | None = None) -> Any:
    """A definition's data with its ``listing`` made into the ordinary bands (and no listing);
    ``origins``, when given, is filled with where each band and element made comes from."""
    if not isinstance(data, dict) or data.get("listing") is None:
        return data
    raw = data["listing"]
    listing = raw if isinstance(raw, Listing) else Listing.model_validate(raw)
    data = {key: value for key, value in data.items() if key != "listing"}
    _check_references(listing, data)
    made: Origins = {} if origins is None else origins
    bands = dict(data.get("bands") or {})
    groups = [dict(g) if isinstance(g, dict) else g for g in data.get("groups") or []]
    headings = [_heading(column, listing.heading_style) for column in listing.columns]
    styled = dict.fromkeys(listing.heading_style, "listing.heading_style")
    if listing.header_in is None:
        header: tuple[int | str, ...] = ("bands", "column_header")
        _put(bands, "column_header", {**listing.header, "elements": headings}, "bands.column_header")
    else:
        i = next(i for i, g in enumerate(groups) if g.get("name") == listing.header_in)
        header = ("groups", i, "header")
        _put(groups[i], "header", {**listing.header, "elements": headings}, f"groups[{i}].header")
    made[header] = ("listing.header", {})
    made.update({(*header, "elements", i): (f"listing.columns[{i}]", styled) for i in range(len(headings))})
    _put(bands, "detail", {**listing.detail, "elements": [_cell(c) for c in listing.columns]}, "bands.detail")
    made[("bands", "detail")] = ("listing.detail", {})
    made.update({("bands", "detail", "elements", i): (f"listing.columns[{i}]", {}) for i in range(len(headings))})
    levels = {level for column in listing.columns for level in column.totals} | set(listing.footers)
    footers: list[tuple[tuple[int | str, ...], str]] = [
        (("groups", i, "footer"), group["name"]) for i, group in enumerate(groups) if group.get("name") in levels
    ]
    if REPORT_LEVEL in levels:
        footers.append((("bands", "summary"), REPORT_LEVEL))
    for place, level in footers:
        band, (band_origin, *cells) = _footer(listing, level)
        holder = groups[int(place[1])] if place[0] == "groups" else bands
        _put(holder, str(place[-1]), band, _place(place))
        made[place] = band_origin
        made.update({(*place, "elements", i): origin for i, origin in enumerate(cells)})
    return {**data, "groups": groups, "bands": bands}


def _place(loc: tuple[int | str, ...]) -> str:
    """``("groups", 1, "footer")`` as ``groups[1].footer``."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
