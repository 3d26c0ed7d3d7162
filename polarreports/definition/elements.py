"""Band elements: what can be placed in a band, left to right.

Every element is pure data (it round-trips through YAML/JSON). An element's ``type``
selects its kind::

    >>> from polarreports.definition.elements import Field
    >>> Field(column="amount", format="#,##0.00", align="right").type
    'field'
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    Strict,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic import Field as PydField

from polarreports.definition.base import DefinitionModel
from polarreports.exceptions import DefinitionError

__all__ = [
    "Aggregate",
    "Barcode",
    "Box",
    "Chart",
    "ConditionalStyle",
    "Crosstab",
    "CrosstabDimension",
    "CrosstabMeasure",
    "Dimension",
    "Element",
    "Expression",
    "ExpressionSource",
    "Field",
    "FilePath",
    "FontSize",
    "Image",
    "Label",
    "Length",
    "Line",
    "PageNumber",
    "Subreport",
    "Thickness",
]

_LENGTH = re.compile(r"^\s*(\d+(\.\d+)?|\.\d+)\s*(pt|mm|cm|in|em|%|fr)\s*$")
_COLOR = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
"""The one pattern of a colour (whole strings only): hex #rgb, #rrggbb or #rrggbbaa, the '#'
optional, as Typst's ``rgb()`` reads them."""
MAX_POINTS = 10_000.0
"""The longest absolute length of a definition, in points (about 3.5 m): far beyond any page."""
MAX_RELATIVE = 1_000.0
"""The largest number of ``em``, ``%`` or ``fr`` in a length."""
_POINTS_PER = {"pt": 1.0, "mm": 72 / 25.4, "cm": 720 / 25.4, "in": 72.0}


MAX_FONT_SIZE = 1_000.0
MAX_THICKNESS = 100.0
FontSize = Annotated[float, PydField(gt=0, le=MAX_FONT_SIZE, allow_inf_nan=False)]
"""A font size in points: more than 0, at most 1000."""
Thickness = Annotated[float, PydField(ge=0, le=MAX_THICKNESS, allow_inf_nan=False)]
"""The thickness of a stroke in points: 0 to 100."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_color(value: str | None) -> str | None:
    """``value`` if it is a colour (or None); every colour of a definition passes here."""
    if value is not None and not (isinstance(value, str) and _COLOR.fullmatch(value)):
        msg = f"{_shown(value)} is not a hex colour such as '#1f4e79' (#rgb, #rrggbb or #rrggbbaa)"
        raise ValueError(msg)
    return value


def check_path(value: str) -> str:
    """``value`` if it can name a file: the operating system refuses a NUL character."""
    if "\x00" in value:
        msg = f"{_shown(value)} is not a file path: it holds a NUL character"
        raise ValueError(msg)
    return value


FilePath = Annotated[str, AfterValidator(check_path)]
"""The path of a file or folder a definition names (an image, the logo, an image folder)."""


def _check_length(value: Any) -> Any:
    """A length as the definition keeps it (``'30mm'``; a number is points), or ``ValueError``:
    lengths are finite, never negative, at most ``MAX_POINTS`` (``MAX_RELATIVE`` em, % or fr)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value) or value < 0:
            msg = f"{_shown(value)} is not a length: use a number of points from 0 to {MAX_POINTS:g}, or a unit"
            raise ValueError(msg)
        if value > MAX_POINTS:
            msg = f"{_shown(value)} is too long: at most {MAX_POINTS:g}pt (about 3.5 m)"
            raise ValueError(msg)
        text = f"{value}pt"
        value = text if _LENGTH.match(text) else f"{value:.6f}".rstrip("0").rstrip(".") + "pt"
    found = _LENGTH.match(value) if isinstance(value, str) else None
    if found is None:
        msg = f"{_shown(value)} is not a length: use a number with a unit, such as '30mm', '12pt', '25%' or '1fr'"
        raise ValueError(msg)
    number, unit = float(found[1]), found[3]
    if unit in _POINTS_PER and number * _POINTS_PER[unit] > MAX_POINTS * (1 + 1e-9):
        largest = "" if unit == "pt" else f"{math.floor(MAX_POINTS / _POINTS_PER[unit])}{unit}, "
        msg = f"{_shown(value)} is too long: at most {MAX_POINTS:g}pt ({largest}about 3.5 m)"
        raise ValueError(msg)
    if unit not in _POINTS_PER and number > MAX_RELATIVE:
        msg = f"{_shown(value)} is too long: at most {MAX_RELATIVE:g}{unit}"
        raise ValueError(msg)
    return f"{found[1]}{unit}"  # no spaces, line breaks or tabs around it (the regex allows them)


FINGERPRINT = {"expressions": "fingerprint"}
"""Serialization context in which a ``pl.Expr`` is written as its Polars serialization (for a
fingerprint of a definition built in Python, such as a batch's), not refused."""


def _serialize_expression(value: str | pl.Expr, info: SerializationInfo) -> str:
    if isinstance(value, pl.Expr) and info.context == FINGERPRINT:
        try:
            return value.meta.serialize().hex()
        except Exception:  # a Python function inside: its text is the best stable stand-in
            return repr(value)
    if isinstance(value, pl.Expr):
        msg = (
            f"the Polars expression {value} cannot be saved in a definition file.\n"
            'Hint: write it as a SQL expression string, such as "quantity * unit_price".'
        )
        raise DefinitionError(msg)
    return value


def _serialize_image_data(value: bytes) -> str:
    msg = (
        f"an image given as bytes ({len(value):,} bytes) cannot be saved in a definition file.\n"
        "Hint: save the image as a file and give its path, or a column of paths or bytes."
    )
    raise DefinitionError(msg)


Length = Annotated[str, PydField(json_schema_extra={"examples": ["30mm", "12pt", "25%", "1fr"]})]
"""A Typst length: a number with a unit (pt, mm, cm, in, em, %, fr); a bare number means points."""

ExpressionSource = Annotated[
    str | pl.Expr,
    PlainSerializer(_serialize_expression, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "description": 'A Polars SQL expression, such as "quantity * unit_price"; parameters are '
            "referenced as :name.",
        }
    ),
]
"""An expression: Polars SQL text (``"quantity * unit_price"``) or, from Python, a ``pl.Expr``."""

Markup = Annotated[
    Literal["none", "markdown"],
    PydField(
        description="How the text reads: 'none', as it is; 'markdown', a safe subset (bold, italic, links, "
        "line breaks, bullet and numbered lists), never Typst markup."
    ),
]
"""``none``: the text shows as it is; ``markdown``: **bold**, *italic*, [links](https://...), line
breaks, bullet and numbered lists (``compute.markup``)."""

LinkSource = Annotated[
    ExpressionSource | None,
    PydField(
        description="An expression giving the element's link target (a URL) in the band's scope; only http, "
        "https and mailto URLs become links."
    ),
]
"""An expression giving a URL per row (or group, or report): the element links to it."""


class ConditionalStyle(DefinitionModel):
    """A named style used where ``when`` is true (in the band's scope, like ``print_when``);
    of several, the first that is true wins."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    when: ExpressionSource
    style: str


class _Element(DefinitionModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    width: Length | None = None
    """Width of the element's cell; elements without a width share the rest of the line."""
    align: Literal["left", "center", "right", "justify"] | None = None
    """Horizontal alignment; numbers default to right, everything else to left. ``justify``:
    wrapped text flush with both edges of its cell (the last line left), hyphenated in the
    report's language unless the report says ``hyphenate: false``."""
    bold: bool | None = None
    """Bold text; None: as the element's style says (not bold without one)."""
    italic: bool | None = None
    size: FontSize | None = None
    """Font size in points; the report's font size when not given."""
    color: str | None = None
    """Text colour as a hex string, such as '#1f4e79'."""
    style: str | None = None
    """A named style of the report (``styles``); the element's own settings win over it."""
    conditional_styles: list[ConditionalStyle] = []
    """Styles used where their ``when`` is true, such as ``{when: "amount < 0", style: negative}``."""
    x: Length | None = None
    """Absolute placement (forms): the distance from the band's left edge; needs ``y`` too."""
    y: Length | None = None
    """Absolute placement: the distance from the band's top edge (pt, mm, cm, in or em)."""
    height: Length | None = None
    """Height of the element's cell (placed elements); text elements grow when not given."""
    overflow: Literal["wrap", "clip", "ellipsis"] = "wrap"
    """Text longer than the cell: ``wrap`` onto more lines (the band grows), ``clip`` at the
    cell's edge on one line, or ``ellipsis``: one line ending in "…"."""
    print_when: ExpressionSource | None = None
    """Show the element only where this is true (in the band's scope, like the band's own
    ``print_when``); elsewhere its cell stays empty, e.g. ``"discount > 0"``."""
    msgctxt: str | None = None
    """The gettext context of the element's texts in the report's message catalogs (see
    ``Report.translations``): tells apart two meanings of one text, such as "Total"."""

    @field_validator("width", "x", "y", "height", mode="before")
    @classmethod
    def _width(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name == "width" and isinstance(value, int | float) and not isinstance(value, bool):
            _check_length(value)  # a number out of range says so first
            shown = f"{value:g}"
            msg = (
                f"{shown} has no unit: a width needs one, such as '{shown}mm', '{shown}pt' or '{shown}%' "
                "(a bare number is ambiguous for a width)"
            )
            raise ValueError(msg)
        return None if value is None else _check_length(value)

    @model_serializer(mode="wrap")
    def _with_type(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Always write ``type`` first, even where defaults are left out: it selects the kind."""
        data: dict[str, Any] = handler(self)
        return {"type": getattr(self, "type"), **data}  # noqa: B009 (every concrete element has it)

    @field_validator("color")
    @classmethod
    def _color(cls, value: str | None) -> str | None:
        return check_color(value)


class _Valued(_Element):
    format: str | None = None
    """Display pattern: '#,##0.00', '0.0%', '¤#,##0.00', 'dd MMM yyyy', 'Yes/No', or a name
    ('integer', 'decimal', 'percent', 'currency', 'date', 'datetime'). A default fits the type."""
    null_text: str = ""
    """Text shown where the value is null."""


class Label(_Element):
    """Fixed text."""

    type: Literal["label"] = "label"
    text: str
    link: LinkSource = None
    markup: Markup = "none"


class Field(_Valued):
    """The value of a column: the row's value in the detail band, the group's value in group
    bands (the group key, or the first row's value), the parameter's value elsewhere."""

    type: Literal["field"] = "field"
    column: str
    link: LinkSource = None
    markup: Markup = "none"


class Expression(_Valued):
    """A computed value. In group bands and the summary, variables can be used by name."""

    type: Literal["expression"] = "expression"
    expr: ExpressionSource
    link: LinkSource = None
    markup: Markup = "none"


class Aggregate(_Valued):
    """A variable's value.

    ``show``: ``value`` is the total over the band's scope (the group in a group band, the
    report in the title and summary, the variable's reset scope in the detail band);
    ``running`` is the cumulative value since the variable was last reset; ``percent`` is the
    value as a fraction of the total of the group named by ``of`` (default: the enclosing
    group, or the report).

    In the page header and footer and the column header and footer, values per page:
    ``page`` is the calculation over the detail rows on that page (a page subtotal, or a row
    count per page), ``brought_forward`` the running value before the page's first row and
    ``carried_forward`` after its last row (as accounting ledgers print them).
    """

    type: Literal["aggregate"] = "aggregate"
    variable: str
    show: Literal["value", "running", "percent", "page", "brought_forward", "carried_forward"] = "value"
    of: str | None = None


class Line(_Element):
    """A horizontal rule across the element's width (the whole line by default)."""

    type: Literal["line"] = "line"
    thickness: Thickness = 0.5
    """Stroke thickness in points."""


class Box(_Element):
    """A rectangle, optionally filled, e.g. to frame a totals area."""

    type: Literal["box"] = "box"
    height: Length = "12pt"
    stroke: Thickness = 0.5
    fill: str | None = None

    @field_validator("fill")
    @classmethod
    def _fill(cls, value: str | None) -> str | None:
        return check_color(value)

    @field_validator("height", mode="before")
    @classmethod
    def _height(cls, value: Any) -> Any:
        return _check_length(value)


class Image(_Element):
    """An image (PNG, JPEG, GIF or SVG), from one of: ``path``, a file (relative to the
    definition file); ``column``, a column of paths (String) or of the images' bytes (Binary),
    giving one image per row or group; ``data``, the bytes of an image (from Python only: such
    a report cannot be saved to a definition file). Files are read only from the report's
    ``image_dirs``."""

    type: Literal["image"] = "image"
    path: FilePath | None = None
    column: str | None = None
    data: Annotated[
        bytes | None,
        Strict(),
        PlainSerializer(_serialize_image_data, return_type=str, when_used="json-unless-none"),
        WithJsonSchema({"type": "null", "description": "Python only: the bytes of an image."}),
    ] = None
    height: Length | None = None
    on_missing: Literal["raise", "placeholder"] = "raise"
    """What a missing or unreadable image does: stop the render, or show a visible placeholder."""

    @field_validator("height", mode="before")
    @classmethod
    def _height(cls, value: Any) -> Any:
        return None if value is None else _check_length(value)

    @model_validator(mode="after")
    def _one_source(self) -> Image:
        given = [name for name in ("path", "column", "data") if getattr(self, name) is not None]
        if len(given) != 1:
            msg = f"an image needs exactly one of path, column or data (given: {', '.join(given) or 'none'})"
            raise ValueError(msg)
        return self


Symbology = Literal["code128", "code39", "ean13", "ean8", "upca", "itf", "qr", "pdf417", "datamatrix", "aztec"]
"""The barcode kinds: 1D Code 128, Code 39, EAN-13, EAN-8, UPC-A, ITF (interleaved 2 of 5),
and the 2D QR code, PDF417, Data Matrix and Aztec code."""


class Barcode(_Element):
    """A barcode or QR code of a value per row (or group): from a ``column`` or an ``expr``,
    drawn as vector graphics (SVG) by a barcode library, with ``height``, a ``quiet_zone`` (in
    modules, the narrowest bar's width: 10 for 1D codes, 4 for QR, 2 for PDF417, Data Matrix and
    Aztec by default) and, under 1D codes, the human-readable ``text``. A value that the
    symbology cannot encode (an EAN-13 with a wrong check digit, too long, letters in a numeric
    code) stops the render with a ``DataError`` naming the element and the value, or with
    ``on_invalid: empty`` leaves the cell empty; a null value leaves it empty.

    >>> Barcode(column="sku", symbology="ean13").quiet_zone is None
    True
    """

    type: Literal["barcode"] = "barcode"
    column: str | None = None
    expr: ExpressionSource | None = None
    symbology: Symbology = "code128"
    height: Length = "15mm"
    """The height of the bars (of the square, for QR, Data Matrix and Aztec; the most a PDF417
    symbol may take, keeping its proportions), without the text."""
    quiet_zone: Annotated[float, PydField(ge=0, le=50, allow_inf_nan=False)] | None = None
    """The blank margin on each side, in modules; None: the symbology's usual one."""
    text: bool = True
    """Show the encoded text under a 1D code (its check digit included)."""
    error_correction: Literal["L", "M", "Q", "H"] = "M"
    """QR only: the error correction level (L 7%, M 15%, Q 25%, H 30% of the code may be lost);
    PDF417, Data Matrix and Aztec use their library's recommended level."""
    on_invalid: Literal["raise", "empty"] = "raise"
    """What a value the symbology cannot encode does: stop the render, or leave the cell empty."""

    @field_validator("height", mode="before")
    @classmethod
    def _height(cls, value: Any) -> Any:
        return _check_length(value)

    @model_validator(mode="after")
    def _one_source(self) -> Barcode:
        given = [name for name in ("column", "expr") if getattr(self, name) is not None]
        if len(given) != 1:
            msg = f"a barcode needs exactly one of column or expr (given: {', '.join(given) or 'none'})"
            raise ValueError(msg)
        return self


class PageNumber(_Element):
    """Page numbering; ``text`` may use {page} and {pages}. With ``group``, the numbers count
    the pages of that group's current instance (statements numbered per customer)."""

    type: Literal["page_number"] = "page_number"
    text: str = "Page {page} of {pages}"
    group: str | None = None


class Dimension(DefinitionModel):
    """A column a chart groups by, optionally bucketed: dates by ``bucket`` (day, week, month,
    quarter, year), numbers into bins ``bin`` wide (a histogram)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str
    bucket: Literal["day", "week", "month", "quarter", "year"] | None = None
    bin: Annotated[float, PydField(gt=0, allow_inf_nan=False)] | None = None


def _dimension(value: Any) -> Any:
    return {"column": value} if isinstance(value, str) else value


def _chart_spec(value: Any) -> Any:
    """An Altair chart becomes its Vega-Lite dict; the data it may carry is dropped (the
    report aggregates the chart's data with Polars)."""
    if hasattr(value, "to_dict") and not isinstance(value, dict):
        value = value.to_dict(validate=False)
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k not in {"data", "datasets", "$schema"}}
    return value


class Chart(_Element):
    """A Vega-Lite chart (a dict, or an Altair chart from Python) over the band's rows,
    aggregated by Polars first: ``by`` the dimensions, with the named ``measures``
    (aggregations such as ``sum(amount)``). In a group band it shows that group's rows; in the
    title and summary, the whole report's. Its encodings name the dimensions and measures.
    """

    type: Literal["chart"] = "chart"
    spec: Annotated[dict[str, Any], BeforeValidator(_chart_spec)]
    by: list[Annotated[Dimension, BeforeValidator(_dimension, json_schema_input_type=Dimension | str)]] = []
    measures: dict[str, ExpressionSource] = {}
    height: Length = "45mm"
    alt: str | None = None
    """Text for readers who cannot see the chart; generated from the chart when not given."""
    caption: str | None = None
    on_error: Literal["raise", "placeholder"] = "raise"
    """What a chart that Vega rejects does: stop the render, or show a visible placeholder."""
    max_points: Annotated[int, PydField(ge=1)] = 5_000
    """The most points one chart may send to Vega (counted in Polars, after the aggregation);
    past it, a ``ChartError`` (Vega's memory grows with the points, and no page shows more)."""

    @field_validator("height", mode="before")
    @classmethod
    def _height(cls, value: Any) -> Any:
        return _check_length(value)


class CrosstabDimension(Dimension):
    """A row or column group of a crosstab: a column (dates bucketed, numbers binned, like a
    chart's ``by``), shown with ``format`` (``"QQQ yyyy"`` for quarters) or its type's default."""

    format: str | None = None
    null_text: str = "(none)"
    label: str | None = None
    """A row dimension's heading (default: its column's name); translated with the report."""


class CrosstabMeasure(DefinitionModel):
    """What a crosstab's cells show: an aggregation such as ``sum(amount)``, or, as a
    variable's, a ``calculation`` over ``value`` (``{calculation: sum, value: amount}``; a
    count without a value counts rows), with its ``format``; ``label`` heads its column when a
    crosstab has several measures."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    value: ExpressionSource | None = None
    calculation: Literal["sum", "count", "count_distinct", "avg", "min", "max", "median", "stddev", "var"] | None = None
    """As a variable's (null semantics too); the first and last value have no order here."""
    format: str | None = None
    label: str | None = None
    null_text: str = ""

    @model_validator(mode="after")
    def _needs_value(self) -> CrosstabMeasure:
        if self.value is None and self.calculation != "count":
            msg = "a crosstab measure needs a value, such as sum(amount) (only a count may go without)"
            raise ValueError(msg)
        return self


_CrosstabDimensionSource = Annotated[
    CrosstabDimension, BeforeValidator(_dimension, json_schema_input_type=CrosstabDimension | str)
]


def _measure(value: Any) -> Any:
    return {"value": value} if isinstance(value, str | pl.Expr) else value


class Crosstab(_Element):
    """A cross table: the band's rows grouped by ``rows`` (down) and ``columns`` (across),
    each cell the ``measures`` of its rows, with a total column, a total row and their grand
    total. Computed in Polars; in a group band, one crosstab per group instance. When its
    columns do not fit the page's width, the next columns follow in further panels (its row
    headers repeated), and a crosstab longer than a page repeats its column headers."""

    type: Literal["crosstab"] = "crosstab"
    rows: list[
        Annotated[CrosstabDimension, BeforeValidator(_dimension, json_schema_input_type=CrosstabDimension | str)]
    ]
    columns: list[
        Annotated[CrosstabDimension, BeforeValidator(_dimension, json_schema_input_type=CrosstabDimension | str)]
    ]
    measures: dict[str, Annotated[CrosstabMeasure, BeforeValidator(_measure)]]
    total_column: bool = True
    """A last column with each row's total (over all the columns)."""
    total_row: bool = True
    """A last row with each column's total (over all the rows); with both, the grand total."""
    subtotals: bool = False
    """With several row (or column) groups: a total row (column) after each outer group's
    values, such as each region's total over its countries."""
    total_label: str = "Total"
    row_header_width: Length = "30mm"
    column_width: Length = "20mm"
    header_fill: str | None = "#e8ecf1"
    total_fill: str | None = "#f4f6f8"
    stroke: Thickness = 0.5
    max_cells: Annotated[int, PydField(ge=1)] = 100_000
    """The most cells one crosstab may hold (rows x columns x measures), checked in Polars."""

    @field_validator("row_header_width", "column_width", mode="before")
    @classmethod
    def _lengths(cls, value: Any) -> Any:
        return _check_length(value)

    @field_validator("header_fill", "total_fill")
    @classmethod
    def _fills(cls, value: str | None) -> str | None:
        return check_color(value)

    @model_validator(mode="after")
    def _dimensions(self) -> Crosstab:
        if not self.rows or not self.columns or not self.measures:
            msg = "a crosstab needs rows, columns and measures (at least one of each)"
            raise ValueError(msg)
        names = [d.column for d in [*self.rows, *self.columns]]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            msg = f"a crosstab groups by each column once; {', '.join(map(repr, twice))} is in rows or columns twice"
            raise ValueError(msg)
        return self


def _link_keys(value: Any) -> Any:
    """``[order_id]`` (or ``order_id``) is ``{order_id: order_id}``: the same name on both sides."""
    if isinstance(value, str):
        return {value: value}
    if isinstance(value, list | tuple):
        return {name: name for name in value}
    return value


def _sub_definition(value: Any) -> Any:
    """A subreport's ``report``: a file path, or a definition (a dict becomes a ``Report``)."""
    from polarreports.definition.report import Report  # (the report holds bands of elements)

    if isinstance(value, str):
        return check_path(value)
    if isinstance(value, Report):
        return value
    if isinstance(value, dict):
        try:
            return Report.model_validate(value, source="subreport")
        except DefinitionError as error:  # one line, placed by the master's own error (file and line)
            problems = [line.removeprefix("subreport: ") for line in str(error).splitlines() if line.strip()]
            msg = "its report: " + "; ".join(problems)
            raise ValueError(msg) from None
    msg = f"{_shown(value)} is not a report definition: give a mapping, a Report, or the path of a definition file"
    raise ValueError(msg)


def _dump_definition(value: Any, info: SerializationInfo) -> Any:
    if isinstance(value, str):
        return value
    return value.model_dump(mode=info.mode, exclude_defaults=info.exclude_defaults, exclude_none=info.exclude_none)


SubDefinition = Annotated[
    Any,
    BeforeValidator(_sub_definition),
    PlainSerializer(_dump_definition),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "object"}],
            "description": "A report definition (as this schema's top level describes), or its file's path.",
        }
    ),
]


def _problem(loc: tuple[Any, ...], message: str) -> str:
    """One problem of a validation error: where, then what (``uri: a database source needs a query``)."""
    message = message.removeprefix("Value error, ")
    return f"{'.'.join(str(part) for part in loc)}: {message}" if loc else message


def _sub_source(value: Any) -> Any:
    """A subreport's ``source``: a name or a data file (a string), or a database query, a
    mapping like a report's ``source`` (``{uri: "sqlite:///shop.db", query: "SELECT ..."}``)."""
    from polarreports.definition.report import Source  # (a report's source, defined with the report)

    if isinstance(value, str | Source):
        return value
    if isinstance(value, dict):
        try:
            return Source.model_validate(value)
        except ValidationError as error:
            problems = [_problem(e["loc"], e["msg"]) for e in error.errors()]
            raise ValueError("; ".join(problems)) from None
        except DefinitionError as error:
            raise ValueError(str(error).replace("\n", "; ")) from None
    msg = f"{_shown(value)} is not a source: give a name, a data file, or a mapping with uri and query"
    raise ValueError(msg)


SubSource = Annotated[
    Any,
    BeforeValidator(_sub_source),
    PlainSerializer(_dump_definition),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "object"}],
            "description": "A source's name, a data file, or {uri, query} (a database query, as a report's source).",
        }
    ),
]


class Subreport(_Element):
    """Another report definition shown inside a band, over a second data source, with the
    rows whose ``keys`` match the band's (master-detail): in the detail band, the row's; in a
    group band, the group's (its first row's). ``report`` is the definition (inline, or the
    path of a YAML/JSON file in the report's ``image_dirs``); ``source`` names a frame given
    at render (``sources={"payments": lf}``), or is a data file path (in ``image_dirs`` too).
    ``keys`` maps the master's columns to the subreport's (a list: the same names); a key
    ``:name`` keeps the subreport's rows whose column holds the master's parameter ``name``. In
    the title and summary, a subreport is over the whole source: no keys, or parameters only.
    ``returns`` passes the subreport's variables back as columns of the master's rows
    (``{paid: total_paid}``: column ``paid`` holds the subreport's ``total_paid``), so the
    master can show them, compute with them and total them in its own variables.

        >>> Subreport(report="payments.yaml", source="payments", keys=["order_id"]).keys
        {'order_id': 'order_id'}
    """

    type: Literal["subreport"] = "subreport"
    report: SubDefinition
    """The subreport's definition (a ``Report``, or a mapping), or its file's path."""
    source: SubSource
    """A frame's name given at render, a data file, or ``{uri, query}``: a database query whose
    ``:name`` placeholders are bound to the subreport's parameters (as a report's ``source``)."""
    keys: Annotated[
        dict[str, str], BeforeValidator(_link_keys, json_schema_input_type=dict[str, str] | list[str] | str)
    ] = {}
    returns: dict[str, str] = {}


Element = Annotated[
    Label | Field | Expression | Aggregate | Line | Box | Image | PageNumber | Chart | Barcode | Crosstab | Subreport,
    PydField(discriminator="type"),
]
