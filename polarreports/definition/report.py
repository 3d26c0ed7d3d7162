"""The report definition: page setup, parameters, groups, variables and bands.

A ``Report`` is pure data: it round-trips through YAML and JSON, and nothing in it is ever
evaluated as Python. Expressions are Polars SQL strings (or, from Python, ``pl.Expr``).

    >>> import polarreports as pr
    >>> report = pr.Report(
    ...     name="sales",
    ...     groups=[pr.Group(name="region")],
    ...     variables=[pr.Variable(name="revenue", calculation="sum", expression="amount")],
    ...     bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="amount")])),
    ... )
    >>> pr.Report.from_yaml(report.to_yaml()) == report
    True
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self, TypeVar, Union, get_args, get_origin

import polars as pl
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic import Field as PydField
from pydantic_core import PydanticSerializationError

from polarreports.definition.base import DefinitionModel
from polarreports.definition.elements import (
    ConditionalStyle,
    Element,
    ExpressionSource,
    FilePath,
    FontSize,
    Length,
    _check_length,
    check_color,
)
from polarreports.definition.listing import Listing, Origins, expand_listing
from polarreports.definition.locations import Locations, locations_of, read_yaml, remember
from polarreports.definition.papers import AUTO_HEIGHT_MM, PAPER_MM, parse_size
from polarreports.definition.styles import Style, Theme, ThemeOption, check_zebra
from polarreports.exceptions import DefinitionError
from polarreports.suggest import closest

if TYPE_CHECKING:
    from polarreports.definition.tree import Node

__all__ = [
    "Band",
    "Bands",
    "Group",
    "Margins",
    "PageSetup",
    "Parameter",
    "Report",
    "SortKey",
    "Source",
    "Translations",
    "Variable",
    "check_uri",
]

Calculation = Literal["sum", "count", "count_distinct", "avg", "min", "max", "first", "last", "median", "stddev", "var"]
MAX_VALUES = 100_000
"""The most values (keys, items, scalars) a definition file may hold, YAML aliases expanded."""
RESERVED_PARAMETER_NAMES = frozenset({"progress", "cancel", "timeout", "memory_budget_mb", "workers"})
"""Keyword arguments of ``render()`` that are options, not report parameters."""
ParameterType = Literal["string", "integer", "float", "decimal", "date", "datetime", "boolean"]


class _Model(DefinitionModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class Margins(_Model):
    top: Length = "15mm"
    bottom: Length = "15mm"
    left: Length = "15mm"
    right: Length = "15mm"

    @field_validator("top", "bottom", "left", "right", mode="before")
    @classmethod
    def _length(cls, value: Any) -> Any:
        return _check_length(value)


class PageSetup(_Model):
    size: Annotated[
        str,
        PydField(
            description="A paper name from Typst's list (a4, a5, us-letter, iso-c5, ...) or 'WIDTH x HEIGHT' "
            "(mm, cm, in, pt), the height 'auto' for a page as tall as its content (a receipt: '80mm x auto').",
            json_schema_extra={"examples": ["a4", "us-letter", "a5", "80mm x auto", "100mm x 150mm"]},
        ),
    ] = "a4"
    orientation: Literal["portrait", "landscape"] = "portrait"
    margins: Margins = Margins()
    font_size: FontSize = 8.5
    """Base font size in points."""
    columns: int = PydField(default=1, ge=1, le=8)
    """Columns of the body (labels, phone-book listings): detail and group bands flow down one
    column, then the next; the page header and footer, title and summary span the page."""
    column_gap: Length = "6mm"
    """Space between body columns."""
    wide: Literal["wrap", "fit", "continue"] = "wrap"
    """A band whose fixed widths add up to more than the page: ``wrap`` the elements that do not
    fit onto a new line, ``fit``: scale every band's widths and text down to the page width, or
    ``continue``: print the columns that do not fit on continuation pages (panels), each
    repeating the first ``repeat_columns`` elements (the key columns)."""
    repeat_columns: int = PydField(default=1, ge=0)
    """With ``wide: continue``: how many leading elements of a wide band every panel repeats."""

    @field_validator("column_gap", mode="before")
    @classmethod
    def _gap(cls, value: Any) -> Any:
        return _check_length(value)

    @field_validator("size")
    @classmethod
    def _size(cls, value: str) -> str:
        parse_size(value)
        name = value.strip().lower()
        return name if name in PAPER_MM else value.strip()

    @model_validator(mode="after")
    def _auto_upright(self) -> PageSetup:
        if self.auto_height and self.orientation == "landscape":
            msg = f"size {self.size!r} has no fixed height to turn: give orientation portrait (the default)"
            raise ValueError(msg)
        if self.auto_height and self.columns > 1:
            msg = f"size {self.size!r} grows with its content, so it has no column to fill: give columns 1"
            raise ValueError(msg)
        return self

    @property
    def auto_height(self) -> bool:
        """Whether the page is as tall as its content (``size: "80mm x auto"``)."""
        return parse_size(self.size)[1] is None

    @property
    def size_mm(self) -> tuple[float, float]:
        """Width and height of the page in millimetres, as oriented; for an ``auto`` height,
        ``AUTO_HEIGHT_MM`` (the layout arithmetic's stand-in: no band is ever taller)."""
        width, height = parse_size(self.size)
        height = AUTO_HEIGHT_MM if height is None else height
        return (height, width) if self.orientation == "landscape" else (width, height)


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def check_uri(uri: str) -> str:
    """``uri`` if it names a database a report may read: ``postgresql://``, ``sqlite:///`` or
    ``duckdb:``; a password in it must be an environment placeholder (``${PGPASSWORD}``), never
    the password itself (a ``DefinitionError`` that does not show it; ``ValueError`` otherwise)."""
    scheme = uri.split(":", 1)[0].lower() if ":" in uri else ""
    if scheme not in ("postgresql", "postgres", "sqlite", "duckdb"):
        msg = (
            f"{_shown_text(uri)} is not a database URI: use postgresql://user@host:5432/db, "
            "sqlite:///path/to.db or duckdb: (a DuckDB query over files)"
        )
        raise ValueError(msg)
    authority = uri.split("://", 1)[1].split("/", 1)[0] if "://" in uri else ""
    userinfo = authority.rpartition("@")[0]
    if ":" in userinfo and not _PLACEHOLDER.fullmatch(userinfo.split(":", 1)[1]):
        # a DefinitionError, not a ValueError: pydantic would keep the URI (the password) as the input
        msg = (
            "source.uri: a database URI may not hold a password: write it as an environment placeholder, "
            "such as postgresql://app:${PGPASSWORD}@host/db, or leave it out (libpq reads PGPASSWORD)"
        )
        raise DefinitionError(msg)
    return uri


def _shown_text(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


class Source(_Model):
    """Where a report's rows come from when ``render()`` is given none: a data file (``path``,
    relative to the definition, read like ``--data``), or a database (``uri``) and the SQL
    ``query`` to run there, whose ``:name`` placeholders are bound to the report's parameters
    (never pasted into the SQL). Files are read only from the report's ``data_dirs``."""

    path: FilePath | None = None
    uri: str | None = None
    """``postgresql://user@host:5432/db`` (``${VAR}`` placeholders are read from the environment),
    ``sqlite:///orders.db`` (relative to the definition), or ``duckdb:`` (DuckDB over files)."""
    query: str | None = None
    """The SQL to run, with ``:name`` for the report's parameters, such as
    ``SELECT * FROM orders WHERE region = :region``."""

    @field_validator("uri")
    @classmethod
    def _uri(cls, value: str | None) -> str | None:
        return None if value is None else check_uri(value)

    @model_validator(mode="after")
    def _one_source(self) -> Source:
        if (self.path is None) == (self.uri is None):
            msg = "a source needs exactly one of path or uri"
            raise ValueError(msg)
        if self.uri is not None and not (self.query or "").strip():
            msg = "a database source needs a query"
            raise ValueError(msg)
        if self.path is not None and self.query is not None:
            msg = "a query goes with a uri; a path is read whole"
            raise ValueError(msg)
        return self


class Parameter(_Model):
    """A value given at render time (``report.render(data, region="North")``), used in
    expressions as ``:name``."""

    name: str
    type: ParameterType = "string"
    default: Any = None
    required: bool = False
    allowed: list[Any] | None = None
    description: str = ""

    @field_validator("name")
    @classmethod
    def _usable_name(cls, name: str) -> str:
        if not name.isidentifier():
            msg = f"parameter name {name!r} must be a name such as 'region' or 'min_amount'"
            raise ValueError(msg)
        if name in RESERVED_PARAMETER_NAMES:
            msg = f"parameter name {name!r} is taken by render() itself; choose another"
            raise ValueError(msg)
        return name


class SortKey(_Model):
    column: ExpressionSource
    descending: bool = False


class Variable(_Model):
    """A calculation over rows, reset at the start of the report or of a group.

    Null semantics follow SQL and JasperReports: ``count`` counts non-null values (with no
    expression it counts rows); ``sum``, ``avg``, ``min``, ``max`` ignore nulls, and a sum of
    only nulls is null.
    """

    name: str
    calculation: Calculation
    expression: ExpressionSource | None = None
    reset: str = "report"
    """'report' or the name of a group: where running values start again."""

    @model_validator(mode="after")
    def _needs_expression(self) -> Variable:
        if self.expression is None and self.calculation != "count":
            msg = f"variable {self.name!r}: a {self.calculation} needs an expression"
            raise ValueError(msg)
        return self


class Band(_Model):
    """A horizontal strip of elements laid out left to right; long content wraps."""

    elements: list[Element] = []
    fill: str | None = None
    """Background colour, such as '#eef2f7'."""
    line_above: bool = False
    line_below: bool = False
    padding: Length | None = None
    """Space above and below the band's content (1.5pt unless its style says otherwise)."""
    space_after: Length = "0pt"
    """Extra space after the band, e.g. to set groups apart."""
    print_when: ExpressionSource | None = None
    """Show the band only where this is true (evaluated in the band's scope: a row, a group, the
    report), e.g. ``"amount > 1000"`` in the detail band or ``"orders > 1"`` in a group footer."""
    page_break_before: bool = False
    """Start a new page before the band (unless it is already at the top of one)."""
    page_break_after: bool = False
    """Start a new page after the band: on the title, a title page of its own."""
    keep_together: bool = False
    """Never split the band across pages (a band of several lines moves to the next page whole)."""
    style: str | None = None
    """A named style of the report (``styles``) for the band and, as text settings, its elements."""
    conditional_styles: list[ConditionalStyle] = []
    """Styles used where their ``when`` is true, such as ``{when: "amount < 0", style: negative}``."""
    zebra: Annotated[bool | str | None, BeforeValidator(check_zebra)] = None
    """Detail band: stripe every other row, with this colour or (``true``) the theme's."""
    height: Length | None = None
    """A fixed height (content that does not fit is cut off, never spills over the next band);
    flexible when not given. A band of placed elements (``x``, ``y``) is as tall as its lowest
    element when not given."""
    split: Literal["allow", "error"] = "allow"
    """A band taller than the page: ``allow`` it to break across pages, or stop the render
    with a ``LayoutError`` naming the band."""

    @field_validator("space_after", mode="before")
    @classmethod
    def _length(cls, value: Any) -> Any:
        return _check_length(value)

    @field_validator("fill")
    @classmethod
    def _fill(cls, value: str | None) -> str | None:
        return check_color(value)

    @field_validator("padding", mode="before")
    @classmethod
    def _padding(cls, value: Any) -> Any:
        return value if value is None else _check_length(value)

    @field_validator("height", mode="before")
    @classmethod
    def _height(cls, value: Any) -> Any:
        return None if value is None else _check_length(value)


class Group(_Model):
    """One grouping level. Its key is the column of the same name unless ``key`` is given."""

    name: str
    key: ExpressionSource | None = None
    descending: bool = False
    new_page: bool = False
    """Start every group of this level on a new page."""
    reprint_header: bool = False
    """Print the group header again at the top of every page the group continues on, followed
    by ``continued_text``."""
    continued_text: str = "(continued)"
    keep_together: bool = False
    """Start the group on a new page if it does not fit in the rest of the page but fits on one
    page (a longer group starts where it is and continues on the next pages)."""
    min_space: Length | None = None
    """Start the group on a new page unless at least this much room is left, e.g. '40mm'. (A
    group header never ends a page in any case.)"""
    footer_position: Literal["after_group", "page_bottom"] = "after_group"
    """``page_bottom`` prints the group footer at the bottom of the page (e.g. an invoice's
    totals), and the next group starts on a new page."""
    header: Band | None = None
    footer: Band | None = None
    outline: bool = True
    """With the report's ``outline`` or ``table_of_contents``: list this level's groups there."""

    @field_validator("min_space", mode="before")
    @classmethod
    def _min_space(cls, value: Any) -> Any:
        return None if value is None else _check_length(value)


class Bands(_Model):
    title: Band | None = None
    page_header: Band | None = None
    column_header: Band | None = None
    detail: Band | None = None
    column_footer: Band | None = None
    page_footer: Band | None = None
    last_page_footer: Band | None = None
    """Printed instead of the page footer on the last page (e.g. with the signature line)."""
    summary: Band | None = None
    no_data: Band | None = None
    background: Band | None = None
    """Printed behind the content of every page, centred: a watermark such as "DRAFT"."""


def _sort_key(value: Any) -> Any:
    return {"column": value} if isinstance(value, str) else value


class Translations(_Model):
    """Message catalogs for the definition's texts (gettext ``.mo`` or ``.po`` files, read with
    Babel): ``<dir>/<language>/LC_MESSAGES/<domain>.mo`` for the report's ``locale`` (``de_AT``,
    then ``de``), then for ``fallback``. A text is its own message id, as with gettext's ``_()``.

        >>> Translations(dirs=["locale"], fallback="en").domain
        'messages'
    """

    dirs: list[FilePath] = ["locale"]
    """Folders holding the catalogs (relative to the definition file), read like image folders:
    nothing outside them."""
    domain: str = PydField(default="messages", pattern=r"^[A-Za-z0-9_.-]{1,100}$")
    """The catalogs' file name without suffix (gettext's domain)."""
    source_language: str | None = PydField(default="en", pattern=r"^[A-Za-z]{2,3}$")
    """The language the definition's texts are written in: a message missing from the catalog of
    a locale of that language is not reported (the text as written is right). None: the texts
    are keys (``total.label``), and every locale needs its translations."""
    fallback: str | None = PydField(default=None, pattern=r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$")
    """A language whose catalog gives the messages the locale's catalogs lack (before the text as
    written), e.g. ``en`` where the texts are keys such as ``total.label``."""
    missing: Literal["warn", "error"] = "warn"
    """A text without a translation: shown from the fallback (or as written) with a warning in
    ``doc.stats["warnings"]`` and the log (``warn``), or a PlanError (``error``)."""


class Report(_Model):
    """A banded report definition: data only (``polarreports.Report`` adds ``render``)."""

    name: str
    title: str = ""
    page: PageSetup = PageSetup()
    locale: str = "en_US"
    currency: str | None = None
    """ISO 4217 code for '¤' in formats; the locale's currency when not given."""
    hyphenate: bool | Literal["auto"] = "auto"
    """Hyphenation of wrapped text, in the language of the report's ``locale``: ``auto``
    hyphenates justified text only (``align: justify``, as Typst does), ``true`` every text
    that wraps, ``false`` none. A word wider than its cell breaks at its hyphenation points
    when it hyphenates, and after any character otherwise (or where a piece is still too wide)."""
    tagged_pdf: bool = False
    """Write a tagged PDF: document structure and the alt texts of images and charts, for
    screen readers. Typesetting takes somewhat longer."""
    outline: bool = False
    """PDF bookmarks: one per group, nested by level, titled with the group's key."""
    table_of_contents: bool | str = False
    """A contents page after the title: the groups with their page numbers, linked. ``true``
    titles it "Contents"; a string gives the title. A report with one is typeset in one piece."""
    overflow: Literal["warn", "error"] = "warn"
    """Text cut on the page (clipped, cut to "…", or taller than a fixed height): a warning in
    ``doc.stats["warnings"]`` and the ``polarreports`` log (``warn``), or a LayoutError (``error``)."""
    image_dirs: list[FilePath] = []
    """Folders images may be read from (relative to the definition file). Default: the
    definition file's folder, or the working directory for a report built in Python."""
    source: Source | None = None
    """Where the rows come from when ``render()`` is given no data (see ``Source``)."""
    data_dirs: list[FilePath] = []
    """Folders the files a definition's ``source`` names may be read from (a data file, an
    SQLite file, the files of a DuckDB query). Default: the definition file's folder, or the
    working directory for a report built in Python."""
    font_dirs: list[FilePath] = []
    """Folders of fonts of the report's own (.ttf, .otf, .ttc, .otc; relative to the definition
    file), whose families styles may name besides the shipped ones (``plan.fonts``)."""
    translations: Translations | None = None
    """Message catalogs translating the definition's texts into the report's ``locale`` (labels,
    titles, null texts, page numbers, chart captions); None: texts are shown as written."""
    parameters: list[Parameter] = []
    filter: ExpressionSource | None = None
    columns: dict[str, ExpressionSource] = {}
    """Derived columns, computed after the filter, in order."""
    sort: list[Annotated[SortKey, BeforeValidator(_sort_key, json_schema_input_type=SortKey | str)]] = []
    """Sort keys applied within the innermost group: column names, or ``{column, descending}``."""
    groups: list[Group] = []
    variables: list[Variable] = []
    bands: Bands = Bands()
    styles: dict[str, Style] = {}
    """Named styles that bands and elements refer to with ``style: name``."""
    theme: ThemeOption = Theme()
    """The look of every band kind: plain (the default), corporate, ledger or minimal, or
    ``{name, brand_color, logo, zebra}``."""
    listing: Listing | None = None
    """Columns declared once (heading, value, width, alignment, format, totals per level), from
    which the column header, the detail band and the total lines are made when the definition is
    read: a read definition has the bands, and no listing."""

    @model_validator(mode="wrap")
    @classmethod
    def _from_listing(cls, data: Any, handler: ModelWrapValidatorHandler[Report]) -> Report:
        """Check the definition as written, then make its listing into bands and check those."""
        report = handler(data)
        if report.listing is None:
            return report
        written = {name: getattr(report, name) for name in type(report).model_fields if name in report.model_fields_set}
        dumped = {
            key: value.model_dump(mode="python") if isinstance(value, BaseModel) else value
            for key, value in written.items()
        }
        dumped["groups"] = [group.model_dump(mode="python") for group in report.groups]
        dumped["variables"] = [variable.model_dump(mode="python") for variable in report.variables]
        origins: Origins = {}
        expanded = expand_listing(dumped, origins)
        try:
            return handler(expanded)
        except ValidationError as error:  # in the bands made: said at the listing's places
            message = _listing_problems(error, origins)
            if message is None:
                raise
            raise ValueError(message) from None

    @model_validator(mode="before")
    @classmethod
    def _only_text(cls, data: Any) -> Any:
        """Every string is text that can be written out: no lone surrogate (``"\\ud800"`` in a
        YAML or JSON file), which no file, PDF or Typst source can hold."""
        for where, text in _strings(data):
            bad = next((c for c in text if "\ud800" <= c <= "\udfff"), None)
            if bad is not None:
                msg = f"{where or 'name'}: {_short(text)} holds a lone surrogate (U+{ord(bad):04X}), which is not text"
                raise ValueError(msg)
        return data

    # -- display ---------------------------------------------------------------------------

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """What ``repr(report)``, ``str`` and rich show: the name, the file it was read from,
        its data source, its groups and how many bands, elements, variables and parameters it
        has, in one line (``report.tree()`` shows the whole structure).

        >>> import polarreports as pr
        >>> pr.load("examples/sales_summary.yaml")  # doctest: +ELLIPSIS
        Report(name='sales_summary', file='examples/sales_summary.yaml', groups=['region', 'customer'], bands=7, ...)
        """
        yield "name", self.name
        where = locations_of(self)
        if where is not None and where.source != "definition":  # "definition": read from no file
            yield "file", where.source
        if self.source is not None:  # a database's address is not shown: it may hold a user name
            uri = self.source.uri
            yield "source", str(self.source.path) if uri is None else f"{uri.split(':', 1)[0]}: query"
        yield "groups", [group.name for group in self.groups]
        bands = self.written_bands()
        yield "bands", len(bands)
        yield "elements", sum(len(band.elements) for band in bands)
        if self.variables:
            yield "variables", len(self.variables)
        if self.parameters:
            yield "parameters", len(self.parameters)

    def __str__(self) -> str:
        return repr(self)

    def written_bands(self) -> list[Band]:
        """The bands the definition has: the report's own and its groups' headers and footers."""
        own = [getattr(self.bands, name) for name in type(self.bands).model_fields]
        grouped = [band for group in self.groups for band in (group.header, group.footer)]
        return [band for band in (*own, *grouped) if band is not None]

    def tree(self) -> Node:
        """The report's structure as a tree: parameters, variables, and the bands in reading
        order with the groups nested and each band's elements (``print(report.tree())``)."""
        from polarreports.definition.tree import report_tree

        return report_tree(self)

    def _repr_html_(self) -> str:
        """Jupyter: the report's structure (:meth:`tree`)."""
        return self.tree()._repr_html_()

    # -- files -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The definition as plain data, leaving out everything that has its default value."""
        for where, expr in _expressions(self):
            msg = (
                f"{where}: the Polars expression {expr} cannot be saved in a definition file; "
                'write it as a SQL expression string, such as "quantity * unit_price"'
            )
            raise DefinitionError(msg)
        try:
            return self.model_dump(mode="json", exclude_defaults=True)
        except PydanticSerializationError as error:
            message = str(error).split("DefinitionError: ", 1)[-1]
            raise DefinitionError(message) from None

    def to_json(self, *, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> Self:
        """Pydantic's ``model_validate``, raising ``DefinitionError`` (one line per problem)."""
        return cls.from_dict(obj, **options)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "definition", **options: Any) -> Self:
        return cls._from_data(data, Locations(source), **options)

    @classmethod
    def _from_data(cls, data: Any, where: Locations, **options: Any) -> Self:
        """The report ``data`` describes, remembering where it was written (``where``)."""
        source = where.source
        try:
            report = super().model_validate(data, **options)
        except ValidationError as error:
            raise DefinitionError(describe_validation_error(error, where)) from None
        except RecursionError:
            msg = f"{source}: nested too deeply to be a report definition"
            raise DefinitionError(msg) from None
        remember(report, where)
        return report

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "definition") -> Self:
        try:
            data, where = read_yaml(text, source)
        except yaml.YAMLError as error:
            raise DefinitionError(_describe_yaml_error(error, source)) from None
        except RecursionError:
            msg = f"{source}: not valid YAML: nested too deeply"
            raise DefinitionError(msg) from None
        if _size(data) > MAX_VALUES:  # YAML aliases can make a small file a huge one
            msg = f"{source}: holds more than {MAX_VALUES:,} values (with its YAML aliases expanded)"
            raise DefinitionError(msg)
        return cls._from_data(data, where)

    @classmethod
    def from_json(cls, text: str, *, source: str = "definition") -> Self:
        try:
            data = json.loads(text)
        except RecursionError:
            msg = f"{source}: not valid JSON: nested too deeply"
            raise DefinitionError(msg) from None
        except json.JSONDecodeError as error:
            msg = f"{source}: not valid JSON: {error}"
            raise DefinitionError(msg) from None
        return cls.from_dict(data, source=source)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of a definition file, for editor completion."""
        schema = cls.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = "polarreports report definition"
        return schema


R = TypeVar("R", bound=Report)


def load(path: str | Path, report_type: type[R] = Report) -> R:  # type: ignore[assignment]
    """Read a report definition from a YAML or JSON file, as a ``report_type``.

    >>> import polarreports as pr
    >>> pr.load("examples/sales_by_region.yaml").name
    'sales_by_region'
    """
    path = Path(path)
    try:
        if path.exists() and not path.is_file():  # a folder, a FIFO (whose read would wait forever)
            msg = f"cannot read the definition {path}: it is not a file"
            raise DefinitionError(msg)
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        msg = f"cannot read the definition {path}: {error.strerror}"
        raise DefinitionError(msg) from None
    except UnicodeDecodeError as error:
        msg = f"{path}: not UTF-8 text (byte {error.object[error.start]:#04x} at position {error.start})"
        raise DefinitionError(msg) from None
    try:
        if path.suffix.lower() == ".json":
            report = report_type.from_json(text, source=str(path))
        else:
            report = report_type.from_yaml(text, source=str(path))
        where = locations_of(report) or Locations(str(path))
        return _resolve_images(report, path.parent.resolve(), where)
    except RecursionError:
        msg = f"{path}: the definition is nested too deeply"
        raise DefinitionError(msg) from None
    except ValidationError as error:  # a value the first check let through
        raise DefinitionError(describe_validation_error(error, Locations(str(path)))) from None


def _resolve_images(report: R, folder: Path, where: Locations) -> R:
    """Make image paths and image folders relative to the definition file's folder absolute;
    without ``image_dirs``, images may come from that folder. So are a subreport's definition
    file and data file (a ``source`` ending in a data file's suffix), and the paths of an inline
    subreport, which reads from the same folders as its master unless it names its own."""
    data = report.model_dump(mode="python")
    moved = _resolve_paths(data, folder)
    if not moved:  # only the folders change: no need to check the whole definition again
        resolved = report.model_copy(update={name: data[name] for name in ("image_dirs", "font_dirs", "data_dirs")})
        remember(resolved, where)
        return resolved
    return type(report)._from_data(data, where)


_DATA_SUFFIXES = (".parquet", ".pq", ".csv", ".tsv", ".ipc", ".arrow", ".feather", ".ndjson", ".jsonl")
"""The suffixes of the data files a subreport's ``source`` may name (see ``compute.source``)."""


def _resolve_paths(data: dict[str, Any], folder: Path, inherited: list[str] | None = None) -> list[str]:
    """Make the paths in a dumped definition ``data`` absolute (in place); returns those beyond
    the folders that changed (image, logo, source, catalog and subreport paths)."""
    data["image_dirs"] = [str(folder / d) for d in data["image_dirs"]] or inherited or [str(folder)]
    moved: list[str] = []
    data["font_dirs"] = [str(folder / d) for d in data["font_dirs"]]
    data["data_dirs"] = [str(folder / d) for d in data["data_dirs"]] or [str(folder)]
    rows: dict[str, Any] | None = data.get("source")
    if rows and rows.get("path") and not Path(rows["path"]).is_absolute():
        rows["path"] = str(folder / rows["path"])
        moved.append(rows["path"])

    def visit(band: dict[str, Any] | None) -> None:
        for element in (band or {}).get("elements", []):
            if element.get("type") == "image" and element.get("path") and not Path(element["path"]).is_absolute():
                element["path"] = str(folder / element["path"])
                moved.append(element["path"])
            if element.get("type") != "subreport":
                continue
            moved.append("a subreport")  # its paths are checked again with the definition
            sub, source = element.get("report"), element.get("source")
            if isinstance(sub, str) and not Path(sub).is_absolute():
                element["report"] = str(folder / sub)
            elif isinstance(sub, dict):
                _resolve_paths(sub, folder, data["image_dirs"])
            if isinstance(source, str) and Path(source).suffix.lower() in _DATA_SUFFIXES:
                element["source"] = str(folder / source)

    if data.get("translations"):
        data["translations"]["dirs"] = [str(folder / d) for d in data["translations"]["dirs"]]
        moved.extend(data["translations"]["dirs"])
    logo = data["theme"]["logo"]
    if logo is not None and not Path(logo).is_absolute():
        data["theme"]["logo"] = str(folder / logo)
        moved.append(logo)
    for band in data["bands"].values():
        visit(band)
    for group in data["groups"]:
        visit(group["header"])
        visit(group["footer"])
    return moved


def _size(data: Any) -> int:
    """How many values ``data`` holds, counting a value shared by YAML aliases at each use, without
    expanding them (stops counting past ``MAX_VALUES``)."""
    sizes: dict[int, int] = {}

    def size(value: Any) -> int:
        if id(value) not in sizes:
            children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
            total = 1
            for child in children:
                total += size(child)
                if total > MAX_VALUES:
                    break
            sizes[id(value)] = total
        return sizes[id(value)]

    try:
        return size(data)
    except RecursionError:
        return MAX_VALUES + 1


def _expressions(value: Any, where: str = "") -> list[tuple[str, pl.Expr]]:
    """Every ``pl.Expr`` in a definition, with its place (``groups[0].key``)."""
    if isinstance(value, pl.Expr):
        return [(where, value)]
    if isinstance(value, BaseModel):
        items: Any = ((f"{where}.{name}" if where else name, getattr(value, name)) for name in type(value).model_fields)
    elif isinstance(value, dict):
        items = ((f"{where}.{key}", item) for key, item in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{where}[{i}]", item) for i, item in enumerate(value))
    else:
        return []
    return [found for place, item in items for found in _expressions(item, place)]


def _strings(value: Any, where: str = "") -> list[tuple[str, str]]:
    """Every string in a definition (its keys too) with its place (``bands.detail.elements[0].text``)."""
    if isinstance(value, str):
        return [(where, value)]
    if isinstance(value, BaseModel):
        value = {name: getattr(value, name) for name in type(value).model_fields}
    if isinstance(value, dict):
        return [
            found
            for key, item in value.items()
            for found in (*_strings(key, where), *_strings(item, _join(where, str(key))))
        ]
    if isinstance(value, list | tuple):
        return [found for i, item in enumerate(value) for found in _strings(item, f"{where}[{i}]")]
    return []


def _describe_yaml_error(error: yaml.YAMLError, source: str) -> str:
    """One line: the file, the line and column, and what YAML found wrong there."""
    if isinstance(error, yaml.reader.ReaderError):
        return f"{source}, position {error.position}: not valid YAML: character {error.character!r} is not allowed"
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    where = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark is not None else source
    problem = getattr(error, "problem", None) or getattr(error, "context", None) or type(error).__name__
    context = getattr(error, "context", None)
    detail = f" ({context})" if context and context != problem else ""
    return f"{where}: not valid YAML: {problem}{detail}"


def describe_validation_error(error: ValidationError, where: Locations, root: type[BaseModel] | None = None) -> str:
    """One line per problem, each naming its line in the file (when known) and its place as the
    plan does (``variables[2].calculation``), below ``root`` (the model validated: a Report,
    or the element or part constructed in Python)."""
    root = root or Report
    problems: dict[str, str] = {}
    lines_of: dict[str, int | None] = {}
    for item in error.errors():
        place, annotation = _item_place(item, root)
        if place not in problems:  # of a union's members (str | pl.Expr), the first says it
            problems[place] = _problem(item, place, annotation, root)
            lines_of[place] = where.line(item["loc"]) if place else where.line_of_place(problems[place])
    lines = [
        ("" if lines_of[place] is None else f"line {lines_of[place]}: ") + (f"{place}: {problem}" if place else problem)
        for place, problem in problems.items()
    ]
    if len(lines) == 1:
        return f"{where.source}, {lines[0]}" if lines[0].startswith("line ") else f"{where.source}: {lines[0]}"
    more = len(lines) - 5
    shown = lines[:5] + ([f"... and {more} more"] if more > 0 else [])
    return f"{where.source} is not a valid report definition:\n  " + "\n  ".join(shown)


def _item_place(item: Any, root: type[BaseModel]) -> tuple[str, Any]:
    """The place in the definition one of pydantic's errors is about (with the unknown key, or
    the element's ``type``), and the type found there."""
    loc = item["loc"][:-1] if item["type"] == "extra_forbidden" else item["loc"]
    place, annotation = _place(loc, root)
    if item["type"] == "extra_forbidden":
        place = _join(place, str(item["loc"][-1]))
    elif item["type"] == "union_tag_invalid":
        place = _join(place, "type")
    return place, annotation


def _listing_problems(error: ValidationError, origins: Origins) -> str | None:
    """The problems pydantic found in the bands a listing made, each said at the place in the
    listing it comes from (``listing.heading_style.bld``, not the five headings made with it),
    as one line; None if one is elsewhere."""
    found: dict[str, None] = {}
    for item in error.errors():
        loc = tuple(item["loc"])
        made = max((key for key in origins if loc[: len(key)] == key), key=len, default=None)
        if made is None:
            return None
        place, annotation = _item_place(item, Report)
        made_place = _place(made, Report)[0]
        suffix = place[len(made_place) :] if place.startswith(made_place) else ""
        default, keys = origins[made]
        key = re.split(r"[.\[]", suffix.lstrip("."), maxsplit=1)[0]
        found.setdefault(f"{keys.get(key, default)}{suffix}: {_problem(item, place, annotation, Report)}")
    first, *rest = found
    more = f" (and {len(rest)} more in the listing)" if rest else ""
    return first + more


def _place(loc: tuple[int | str, ...], root: type[BaseModel]) -> tuple[str, Any]:
    """A pydantic location as the place in the definition (``bands.detail.elements[0].width``)
    and the type found there; the members of unions (``str``, ``field``) are not places."""
    where, current = "", root
    for part in loc:
        if part == "[key]":  # pydantic's mark of a dict's key (the key itself comes before it)
            continue
        step = _step(current, part)
        if isinstance(part, int):
            in_list = any(get_origin(member) is list for member in _members(current))
            where = f"{where}[{part}]" if in_list else _join(where, str(part))
        elif step is not None and _is_place(current, part):
            where = _join(where, part)
        current = step if step is not None else current
    return where, current


def _join(where: str, part: str) -> str:
    """``where.part``; a key that is not printable text (a line break, a control character) or
    is long is shown quoted and escaped, ``where['\\u2028']``, so the message stays one line."""
    if not part.isprintable() or len(part) > 60 or not part:
        return f"{where}[{_short(part)}]"
    return f"{where}.{part}" if where else part


def _is_place(annotation: Any, part: str) -> bool:
    """Whether ``part`` is a field or a dict key below ``annotation`` (not a union's tag)."""
    for candidate in _members(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel) and part in candidate.model_fields:
            return True
        if get_origin(candidate) is dict:
            return True
    return False


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _article(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def _problem(item: Any, where: str, annotation: Any, root: type[BaseModel]) -> str:
    """What is wrong at one place: the value found and what would be valid."""
    kind, value, context = item["type"], item.get("input"), item.get("ctx") or {}
    field = where.rsplit(".", 1)[-1].split("[", 1)[0].replace("_", " ") or "value"
    if kind == "extra_forbidden":
        key = str(item["loc"][-1])
        allowed = _allowed_keys(item["loc"][:-1], root)
        listed = f" (allowed keys: {', '.join(allowed)})" if allowed else ""
        return f"unknown key{closest(key, allowed)}{listed}"
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", str(context.get("expected", "")))
        hint = closest(value, expected) if isinstance(value, str) else ""
        return f"{_short(value)} is not {_article(field)} (one of {', '.join(expected)}){hint}"
    if kind == "union_tag_invalid":
        tags = re.findall(r"'([^']*)'", str(context.get("expected_tags", "")))
        hint = closest(str(context.get("tag")), tags)
        return f"{_short(context.get('tag'))} is not an element type (one of {', '.join(tags)}){hint}"
    if kind == "union_tag_not_found":
        tags = [m.model_fields["type"].default for m in _members(annotation) if _is_model(m)]
        return f"an element needs a type: one of {', '.join(map(repr, tags))}"
    if kind == "missing":
        return "required, but missing"
    if item["loc"][-1:] == ("[key]",):
        return f"the key {_short(value)} must be a string"
    message = str(item["msg"])
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    return f"{message[:1].lower()}{message[1:]}, not {_short(value)}"


def _allowed_keys(loc: tuple[int | str, ...], root: type[BaseModel]) -> list[str]:
    """The field names of the model found at ``loc`` inside ``root`` (for "unknown key")."""
    current: Any = root
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    return list(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _step(annotation: Any, part: int | str) -> Any:
    """One step down a type: into a model's field, a list's items, a dict's values, or the
    member of a union named by its ``type`` tag."""
    for candidate in _members(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            if isinstance(part, str) and part in candidate.model_fields:
                return candidate.model_fields[part].annotation
            type_field = candidate.model_fields.get("type")
            if type_field is not None and type_field.default == part:
                return candidate
        origin = get_origin(candidate)
        if origin is list and isinstance(part, int):
            return get_args(candidate)[0]
        if origin is dict and isinstance(part, str):
            return get_args(candidate)[1]
    return None


def _members(annotation: Any) -> list[Any]:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, UnionType):
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [annotation]
