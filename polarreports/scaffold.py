"""Scaffold a report definition from a data file's columns: a readable first listing.

The columns are sized from a sample of the values (their formatted widths in the report font)
and taken in order while they fit the page (landscape when a portrait page cannot hold them);
the rest are written into the YAML commented out, ready to swap in. Headings are words
("AirDistance" -> "Air distance"); integer-like years and codes print without thousands
separators; a column with few distinct values is suggested as a grouping (commented out).

>>> import polars as pl
>>> report = scaffold(pl.Schema({"day": pl.Date, "amount": pl.Float64}), name="orders")
>>> [e.column for e in report.bands.detail.elements]
['day', 'amount']
>>> heading("AirDistance"), heading("CRSDepTime"), heading("order_id")
('Air distance', 'CRS dep time', 'Order id')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import polars as pl
import yaml

from polarreports.compute.metrics import font_widths, text_font
from polarreports.definition.elements import Aggregate, Field, Label, PageNumber
from polarreports.definition.papers import PAPER_MM
from polarreports.definition.report import Band, Bands, PageSetup, Report, Variable

__all__ = ["Column", "grouping_suggestion", "heading", "plan_columns", "scaffold", "scaffold_yaml"]

FONT_SIZE = 8.5
"""The page's base font size in points (``PageSetup``'s default)."""
MARGINS_MM = 30.0
"""Left and right margins together (``Margins``' defaults)."""
CELL_EXTRA_PT = 3.0 + 2.0
"""Besides its text, a cell takes its padding (2 x 1.5pt) and a little room for error (2pt)."""
HEADING_ONE_LINE_PT = 40.0
"""A heading wider than this (and than its values) wraps onto a second line."""
GUTTER_PT = 4.0
"""The space between neighbouring cells (the emitter's gutter)."""
MAX_TEXT_CHARS = 28
"""Text columns are at most this wide; longer values end in "…"."""
PT_PER_MM = 72 / 25.4
_YEAR = re.compile(r"(?i)(^|[^a-z])(year|yr|yyyy)($|[^a-z])|year$|^year")
_CODE = re.compile(r"(?i)(^|_|[a-z](?=[A-Z]))(id|no|num|nr|number|code|key|zip|postcode|phone|time|hhmm)$|^id$")


@dataclass(frozen=True)
class Column:
    """One column of the listing: its heading, display pattern, width in points and alignment."""

    name: str
    heading: str
    pattern: str | None
    width_pt: float
    align: str | None
    cut: bool
    """Whether some values are wider than the column (they end in "…")."""


def heading(name: str) -> str:
    """A column name as a heading of separate words: snake_case and CamelCase split, the first
    word capitalised, acronyms kept."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)
    words = [w for w in re.split(r"[\s_\-.]+", spaced) if w]
    shown = [w if w.isupper() and len(w) > 1 else w.lower() for w in words]
    if not shown:
        return name
    shown[0] = shown[0][:1].upper() + shown[0][1:]
    return " ".join(shown)


def _pattern(name: str, dtype: pl.DataType, values: pl.Series | None) -> str | None:
    if dtype.is_integer():
        years = values is not None and values.len() > 0 and values.drop_nulls().is_between(1000, 2999).all()
        if _YEAR.search(name) or _CODE.search(name) or (years and values is not None and values.null_count() == 0):
            return "0"
        return "#,##0"
    if dtype.is_float() or isinstance(dtype, pl.Decimal):
        return "#,##0.00"
    if isinstance(dtype, pl.Datetime):
        return "yyyy-MM-dd HH:mm"
    if dtype == pl.Date:
        return "yyyy-MM-dd"
    if dtype == pl.Boolean:
        return "Yes/No"
    return None


def _text_width(text: str, *, bold: bool = False) -> float:
    """Points ``text`` takes in the report font at the base size."""
    advance = font_widths(text_font(bold=bold, italic=False)).advance
    return sum(advance.get(c, 1.0) for c in text) * FONT_SIZE


def _shown_values(values: pl.Series, pattern: str | None) -> list[str]:
    """The sample's values roughly as the report shows them (for their widths)."""
    kept = values.drop_nulls().head(2_000)
    if pattern == "#,##0":
        return [f"{v:,}" for v in kept.to_list()]
    if pattern == "#,##0.00":
        return [f"{float(v):,.2f}" for v in kept.to_list()]
    if pattern in ("yyyy-MM-dd", "yyyy-MM-dd HH:mm"):
        return ["0000-00-00" + (" 00:00" if "HH" in pattern else "")]
    if pattern == "Yes/No":
        return ["Yes", "No"]
    return [str(v) for v in kept.cast(pl.String, strict=False).drop_nulls().to_list()]


def plan_columns(schema: pl.Schema, sample: pl.DataFrame | None = None) -> list[Column]:
    """Every column of ``schema`` sized for the listing, in order (from ``sample``'s values when
    given, else from its type)."""
    columns = []
    for name, dtype in schema.items():
        values = sample[name] if sample is not None and name in sample.columns else None
        pattern = _pattern(name, dtype, values)
        title = heading(name)
        shown = _shown_values(values, pattern) if values is not None else []
        if not shown:
            shown = {"#,##0": ["000,000"], "#,##0.00": ["000,000.00"], "0": ["000000"]}.get(pattern or "", ["x" * 12])
        widest = max(_text_width(text) for text in shown)
        cap = _text_width("n" * MAX_TEXT_CHARS)
        cut = pattern is None and widest > cap
        values_width = min(widest, cap) if pattern is None else widest
        title_width = _text_width(title, bold=True)
        if title_width > max(values_width * 1.3, HEADING_ONE_LINE_PT) and " " in title:  # two lines, or three
            longest_word = max(_text_width(word, bold=True) for word in title.split())
            title_width = max(longest_word, values_width, title_width / 2)
        width = max(title_width, values_width) + CELL_EXTRA_PT
        align = "right" if dtype.is_numeric() else None
        columns.append(Column(name, title, pattern, round(width, 1), align, cut))
    return columns


def _page_width_pt(orientation: str) -> float:
    short, long = PAPER_MM["a4"]
    return ((long if orientation == "landscape" else short) - MARGINS_MM) * PT_PER_MM


def _fitting(columns: list[Column]) -> tuple[str, list[Column], list[Column]]:
    """The orientation, the columns shown (in order, while they fit) and those left out."""
    total = sum(c.width_pt + GUTTER_PT for c in columns) - GUTTER_PT
    orientation = "portrait" if total <= _page_width_pt("portrait") else "landscape"
    room, used = _page_width_pt(orientation), -GUTTER_PT
    shown: list[Column] = []
    for column in columns:
        used += column.width_pt + GUTTER_PT
        if used > room and shown:
            break
        shown.append(column)
    return orientation, shown, columns[len(shown) :]


def grouping_suggestion(schema: pl.Schema, sample: pl.DataFrame | None) -> tuple[str, int] | None:
    """A column to try grouping by, and how many values it has in the sample: a text (or
    boolean) column with a few distinct values, repeated often."""
    if sample is None or sample.height < 4:
        return None
    found = []
    for name, dtype in schema.items():
        if not (dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum) or dtype == pl.Boolean):
            continue
        distinct = sample[name].n_unique()
        if 2 <= distinct <= 30 and distinct * 4 <= sample.height:
            found.append((distinct, name))
    if not found:
        return None
    distinct, name = min(found)
    return name, distinct


def _label(column: Column) -> Label:
    return Label(text=column.heading, bold=True, width=f"{column.width_pt:g}pt", align=column.align)


def _field(column: Column) -> Field:
    return Field(
        column=column.name,
        format=column.pattern,
        width=f"{column.width_pt:g}pt",
        align=column.align,
        overflow="ellipsis" if column.cut else "wrap",
    )


def scaffold(schema: pl.Schema, *, name: str, sample: pl.DataFrame | None = None) -> Report:
    """A listing of the columns of ``schema`` that fit the page, with a title, page numbers and
    a row count (:func:`scaffold_yaml` writes it with the other columns commented out)."""
    orientation, shown, _ = _fitting(plan_columns(schema, sample))
    title = heading(name)
    return Report(
        name=name,
        title=title,
        page=PageSetup(orientation=orientation),
        variables=[Variable(name="row_count", calculation="count")],
        bands=Bands(
            title=Band(padding="6pt", elements=[Label(text=title, bold=True, size=14)]),
            column_header=Band(line_below=True, elements=[_label(c) for c in shown]),
            detail=Band(elements=[_field(c) for c in shown]),
            page_footer=Band(
                line_above=True, elements=[Label(text=title, width="50%"), PageNumber(width="50%", align="right")]
            ),
            summary=Band(
                line_above=True,
                elements=[
                    Label(text="Rows", bold=True, width="50%"),
                    Aggregate(variable="row_count", bold=True, width="50%", align="right"),
                ],
            ),
            no_data=Band(elements=[Label(text="No rows.", italic=True)]),
        ),
    )


_FIRST_KEYS = ("type", "text", "column", "variable")


def _flow(value: dict[str, Any]) -> str:
    """One YAML flow mapping on one line, what it shows first: ``{type: field, column: x, ...}``."""
    ordered = {k: value[k] for k in _FIRST_KEYS if k in value} | value
    text = yaml.safe_dump(ordered, default_flow_style=True, width=100_000, sort_keys=False, allow_unicode=True)
    return str(text).rstrip("\n")


def _block(value: Any, indent: int) -> list[str]:
    text = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=100)
    return [" " * indent + line for line in text.splitlines()]


def scaffold_yaml(schema: pl.Schema, *, name: str, sample: pl.DataFrame | None = None) -> str:
    """:func:`scaffold`'s definition as YAML to edit: one element a line, the columns that do
    not fit listed commented out, and a grouping to try.

    >>> import polars as pl
    >>> text = scaffold_yaml(pl.Schema({f"c{i}": pl.String for i in range(30)}), name="wide")
    >>> "      # - {type: field, column: c29" in text, Report.from_yaml(text) == scaffold(
    ...     pl.Schema({f"c{i}": pl.String for i in range(30)}), name="wide")
    (True, True)
    """
    columns = plan_columns(schema, sample)
    orientation, shown, left_out = _fitting(columns)
    report = scaffold(schema, name=name, sample=sample)
    data = report.to_dict()
    bands = data.pop("bands")
    lines = [
        f"# A first listing of {name}: {len(shown)} of its {len(columns)} columns fit an A4 page ({orientation}).",
        *(
            ["# The others are listed commented out under column_header and detail: swap them in as you like."]
            if left_out
            else []
        ),
        *_block({k: v for k, v in data.items() if k != "variables"}, 0),
    ]
    suggestion = grouping_suggestion(schema, sample)
    if suggestion is not None:
        column, distinct = suggestion
        group = {
            "name": column,
            "header": {"padding": "3pt", "elements": [{"type": "field", "column": column, "bold": True}]},
            "footer": {
                "line_above": True,
                "space_after": "6pt",
                "elements": [
                    {"type": "label", "text": "Rows", "italic": True, "width": "50%"},
                    {"type": "aggregate", "variable": "row_count", "width": "50%", "align": "right"},
                ],
            },
        }
        lines += [
            f"# A grouping to try: {column!r} has {distinct} distinct values in the first rows. Uncomment to",
            "# group the rows by it, with a row count under each group:",
            *("# " + line for line in _block({"groups": [group]}, 0)),
        ]
    lines += _block({"variables": data["variables"]}, 0)
    lines.append("bands:")
    extra = {
        "column_header": [_flow(_label(c).model_dump(mode="json", exclude_defaults=True)) for c in left_out],
        "detail": [_flow(_field(c).model_dump(mode="json", exclude_defaults=True)) for c in left_out],
    }
    for band, content in bands.items():
        lines.append(f"  {band}:")
        lines += _block({k: v for k, v in content.items() if k != "elements"}, 4) if len(content) > 1 else []
        lines.append("    elements:")
        lines += [f"      - {_flow(element)}" for element in content.get("elements", [])]
        lines += [f"      # - {element}" for element in extra.get(band, [])]
    return "\n".join(lines) + "\n"
