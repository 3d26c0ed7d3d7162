"""The band stream as data: one row per printed band, in report order, with its band, kind, group
level, group keys, raw typed values and formatted texts (``doc.to_frame()``, ``.parquet``,
``.csv``, ``.json``).

Columns, in this order:

- ``band``: which band, such as ``title``, ``region.header``, ``detail``, ``region.footer``,
  ``summary`` (``no_data`` instead of the summary when no row passed the filter, as in the
  PDF); ``kind``: the band's kind (``group_footer``, ...); ``level``: the group level of a
  group band, the number of groups for a detail row, 0 for the title and the summary;
- one column per group, named after it (``region``, ``customer``): the keys of the band's
  groups (a level-1 band has only the outermost key; a detail row has all of them);
- one column per value shown, in its own type: a field's column name, a variable's name
  (``revenue``; ``revenue_percent`` for ``show: percent``), an expression's text. A name used
  twice in one band gets ``_2``; a name whose type differs between bands, or that is taken by
  the columns above, is qualified by its band (``region.header.region``);
- then, for each value column ``x``, ``x_text``: the string the report prints.

Rich text (``markup: markdown``) is plain text in both columns (``compute.markup.tree_text``:
no ``**`` markers, one line per line break or list item), never the Markdown source nor its
parsed tree.

A barcode's value is what it encodes, as text (an EAN-13 with its check digit, a QR code's
text). Page headers and footers and the column header are not rows (they repeat per page);
charts, images and crosstabs have no value column (a crosstab's figures are in the HTML page's
table and in the spreadsheet's rows below its band; a data export would hold them only as a
JSON text, so it leaves them out). A subreport's rows are rows of their own, right after their
band's row: band ``<band>.<subreport name>`` (``detail.payments``), kind ``subreport_detail``,
``subreport_group_header``, ``subreport_group_footer`` or ``subreport_summary``, level one more
than the band's, the band's group keys, the values of its detail rows in their own types in
columns ``<subreport>.<column>`` (``payments.amount``: from the raw values kept beside its
table, ``plan.subreports.TYPED``; its group rows and totals have none) and their texts in
columns ``<subreport>.<column>_text`` (``payments.amount_text``: the strings the report
prints). The rows come a batch at a time (:meth:`BandFrames.batches`), so a report of any size
is written with flat memory.

    >>> import polarreports as pr
    >>> doc = pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(20))
    >>> frame = doc.to_frame()
    >>> frame.select("band", "region", "revenue").filter(band="region.footer").head(2).rows()
    [('region.footer', 'Central', Decimal('51175.34')), ('region.footer', 'East', Decimal('15096.47'))]
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import polars as pl

from polarreports.compute.markup import plain_series
from polarreports.definition.elements import Aggregate, Barcode, Crosstab, Expression, Field, Subreport
from polarreports.plan.barcodes import encoded_series
from polarreports.plan.model import BandKind, BandPlan, ReportPlan
from polarreports.plan.subreports import TYPED, table_columns
from polarreports.stream.collect import StreamData

__all__ = ["CROSSTAB_PREFIX", "SUBREPORT_PREFIX", "BandFrames", "band_label", "value_name"]

logger = logging.getLogger("polarreports")
_EXPORTED_REPORT_BANDS = (BandKind.TITLE, BandKind.SUMMARY, BandKind.NO_DATA)
_BASE = ("band", "kind", "level")
CROSSTAB_PREFIX = "__crosstab."
"""With ``crosstabs=True``, the column of a crosstab's JSON (``compute.crosstabs``) is named
``__crosstab.<band>.<data cell index>`` (for the spreadsheet, which lays its rows out)."""
SUBREPORT_PREFIX = "__subreport."
"""The column of a subreport's table (its JSON, ``compute.subreports``): ``__subreport.<band>.<data
cell index>``; the spreadsheet lays its rows out, a data export makes them rows of its own."""
_TABLE = pl.Struct({"r": pl.List(pl.List(pl.String)), "k": pl.List(pl.String), "t": pl.List(pl.String)})
_SUB_KINDS = {"d": "subreport_detail", "h": "subreport_group_header", "f": "subreport_group_footer"}


def band_label(plan: ReportPlan, band: BandPlan) -> str:
    """A band's short name: its kind, or for a group band ``<group>.header`` / ``<group>.footer``."""
    if band.scope == "group":
        end = "header" if band.kind == BandKind.GROUP_HEADER else "footer"
        return f"{plan.groups[band.level - 1].name}.{end}"
    return str(band.kind)


def value_name(element: object) -> str | None:
    """The column name of an element's value, or None for what has no value column.

    >>> value_name(Aggregate(variable="revenue", show="percent"))
    'revenue_percent'
    """
    if isinstance(element, Field):
        return element.column
    if isinstance(element, Barcode) and element.column:
        return element.column
    if isinstance(element, Barcode):
        text = " ".join(element.expr.split()) if isinstance(element.expr, str) else ""
        return text if 0 < len(text) <= 40 else "barcode"
    if isinstance(element, Aggregate):
        return element.variable if element.show in ("value", "running") else f"{element.variable}_{element.show}"
    if isinstance(element, Expression):
        text = " ".join(element.expr.split()) if isinstance(element.expr, str) else ""
        return text if 0 < len(text) <= 40 else "expression"
    return None


@dataclass(frozen=True)
class _Value:
    index: int
    """The cell's index among its band's data cells: its raw column ``__v<index>`` and its text."""
    name: str
    dtype: pl.DataType
    decode: str | None = None
    """``markdown``: rich text, whose text is the tree's plain text, and so is its value;
    ``barcode``: a barcode, whose text and value are what it encodes (``plan.barcodes``)."""


@dataclass(frozen=True)
class _Band:
    plan: BandPlan
    label: str
    values: tuple[_Value, ...]


def _named(
    plan: ReportPlan, bands: list[BandPlan], dtypes: dict[str, pl.DataType], crosstabs: bool = False
) -> list[_Band]:
    """Each exported band with its value columns, named (see the module's docstring)."""
    found: list[tuple[BandPlan, str, list[tuple[int, str, pl.DataType, str | None]]]] = []
    for band in bands:
        seen: Counter[str] = Counter()
        values: list[tuple[int, str, pl.DataType, str | None]] = []
        for index, cell in enumerate(band.data_cells):
            name = value_name(cell.element)
            if crosstabs and isinstance(cell.element, Crosstab) and not cell.hidden and cell.role == "value":
                label = band_label(plan, band)
                values.append((index, f"{CROSSTAB_PREFIX}{label}.{index}", pl.String(), None))
                continue
            if isinstance(cell.element, Subreport) and cell.role == "subreport":
                label = band_label(plan, band)
                values.append((index, f"{SUBREPORT_PREFIX}{label}.{index}", pl.String(), None))
                if cell.typed is not None and cell.where + TYPED in dtypes:  # its rows' raw values
                    typed = dtypes[cell.where + TYPED]
                    values.append((index, f"{SUBREPORT_PREFIX}{label}.{index}{TYPED}", typed, None))
                continue
            barcode = isinstance(cell.element, Barcode) and cell.role == "barcode"
            if cell.hidden or (cell.role != "value" and not barcode) or name is None:
                continue
            seen[name] += 1
            decode = "barcode" if barcode else "markdown" if getattr(cell.element, "markup", "") == "markdown" else None
            dtype = pl.String() if decode else dtypes.get(cell.where, pl.String())
            values.append((index, name if seen[name] == 1 else f"{name}_{seen[name]}", dtype, decode))
        found.append((band, band_label(plan, band), values))
    types: dict[str, set[pl.DataType]] = {}
    for _, _, values in found:
        for _, name, dtype, _ in values:
            types.setdefault(name, set()).add(dtype)
    taken = {*_BASE, *key_names(plan)}
    named = []
    for band, label, values in found:
        columns = []
        for index, name, dtype, decode in values:
            if name in taken or len(types[name]) > 1:
                name = f"{label}.{name}"
            columns.append(_Value(index, name, dtype, decode))
        named.append(_Band(band, label, tuple(columns)))
    return named


def key_names(plan: ReportPlan) -> list[str]:
    """The group key columns: the groups' names (``group.<name>`` for a name the base columns use)."""
    return [f"group.{group.name}" if group.name in _BASE else group.name for group in plan.groups]


class BandFrames:
    """The rows of a render's data export, a batch at a time (see the module's docstring)."""

    def __init__(
        self,
        plan: ReportPlan,
        stream: StreamData,
        dtypes: dict[str, pl.DataType],
        *,
        crosstabs: bool = False,
        check: Callable[[], None] = lambda: None,
    ) -> None:
        if stream.typed is None:
            msg = "this band stream was made without its typed values"
            raise ValueError(msg)
        self._plan = plan
        self._stream = stream
        self.check = check
        """Called before each batch (and by a writer between its pieces): raises ``Cancelled``
        once the render is cancelled or past its time limit."""
        self._typed = stream.typed
        self._depth = len(plan.groups)
        self._keys = key_names(plan)
        shown = [
            band
            for band in plan.bands
            if band.scope in ("group", "rows")
            or (band.kind in _EXPORTED_REPORT_BANDS and band.name in stream.typed.report)
        ]
        self._bands = {band.plan.name: band for band in _named(plan, shown, dtypes, crosstabs)}
        self._crosstabs = crosstabs
        self._tables: dict[str, tuple[str, str, list[str]]] = {}
        """Per subreport column: its band's label, the subreport's name and its columns' names."""
        for band in self._bands.values():
            for value in band.values:
                element = band.plan.data_cells[value.index].element
                if _subreport_table(value.name) and isinstance(element, Subreport):
                    self._tables[value.name] = (band.label, *table_columns(element))
        _warn_left_out(plan, shown, crosstabs=crosstabs)
        self._key_dtypes = {
            name: self._typed.keys[level].schema[group.name]
            for level, (group, name) in enumerate(zip(plan.groups, self._keys, strict=True), start=1)
            if level in self._typed.keys
        }
        values: dict[str, pl.DataType] = {}
        for band in self._bands.values():
            values.update((value.name, value.dtype) for value in band.values)
        sub_texts = [f"{sub}.{column}_text" for _, sub, columns in self._tables.values() for column in columns]
        sub_values: dict[str, pl.DataType] = {}
        for name, (_, sub, columns) in self._tables.items():
            typed = values.get(name + TYPED)
            if isinstance(typed, pl.List) and isinstance(typed.inner, pl.Struct):
                fields = {
                    field.name: field.dtype if isinstance(field.dtype, pl.DataType) else field.dtype()
                    for field in typed.inner.fields
                }
                sub_values.update(
                    (f"{sub}.{column}", fields[f"v{i}"]) for i, column in enumerate(columns) if f"v{i}" in fields
                )
        if not crosstabs:  # a data export: a subreport's rows are rows, their texts in columns of their own
            values = {name: dtype for name, dtype in values.items() if not name.startswith(SUBREPORT_PREFIX)}
        self.schema: dict[str, pl.DataType] = {
            "band": pl.String(),
            "kind": pl.String(),
            "level": pl.UInt8(),
            **{name: self._key_dtypes.get(name, pl.String()) for name in self._keys},
            **values,
            **{f"{name}_text": pl.String() for name in values if not _table(name)},
            **({} if crosstabs else sub_values),
            **({} if crosstabs else dict.fromkeys(sub_texts, pl.String())),
        }
        """The columns of every batch, in order."""

    @property
    def plan(self) -> ReportPlan:
        return self._plan

    @property
    def band_count(self) -> int:
        """How many rows :meth:`batches` gives (the stream's bands, the title and the summary)."""
        return self._stream.band_count + sum(kind in self._typed.report for kind in ("bands.title", "bands.summary"))

    @property
    def schema_names(self) -> list[str]:
        """The columns' names, in order."""
        return list(self.schema)

    @property
    def bands(self) -> list[BandPlan]:
        """The bands that have rows, in the plan's order."""
        return [band.plan for band in self._bands.values()]

    def value_names(self, band: str) -> dict[int, str]:
        """Band ``band``'s value columns by the index of their data cell (none for a band that
        has no rows, such as the column header)."""
        found = self._bands.get(band)
        if not found:
            return {}
        return {value.index: value.name for value in found.values if not value.name.endswith(TYPED)}

    def typed_name(self, band: str, index: int) -> str | None:
        """The column of the raw values of the rows of the subreport in data cell ``index`` of
        band ``band`` (with ``crosstabs``), or None (a subreport of labels only)."""
        found = self._bands.get(band)
        names = [value.name for value in found.values if value.index == index] if found else []
        typed = [name for name in names if name.endswith(TYPED)]
        return typed[0] if typed and typed[0] in self.schema else None

    def label(self, band: str) -> str:
        """Band ``band``'s ``band`` column (``region.footer``, ...)."""
        return self._bands[band].label

    def _piece(self, band: _Band, raw: pl.DataFrame, sub: pl.Expr) -> pl.DataFrame:
        level = band.plan.level if band.plan.scope == "group" else self._depth
        return raw.select(
            pl.col("__pos"),
            sub.cast(pl.UInt8).alias("__sub"),
            pl.lit(band.label).alias("band"),
            pl.lit(str(band.plan.kind)).alias("kind"),
            pl.lit(level, dtype=pl.UInt8).alias("level"),
            *(_value_column(value) for value in band.values),
        )

    def _texts(self, frame: pl.DataFrame, texts: pl.Series) -> pl.DataFrame:
        """``frame`` with the ``<name>_text`` columns, from the band's display strings ``texts``."""
        cells = texts.str.json_decode(pl.Struct({"c": pl.List(pl.String)})).struct.field("c")
        columns, rich_values = [], []
        for name in (value for value in self.schema if value.endswith("_text")):
            shown = name.removesuffix("_text")
            texts_of = []
            for band in self._bands.values():
                for value in band.values:
                    if value.name != shown:
                        continue
                    text = pl.col("__c").list.get(value.index, null_on_oob=True)
                    if value.decode is not None:
                        decoder = plain_series if value.decode == "markdown" else encoded_series
                        text = text.map_batches(decoder, return_dtype=pl.String)
                        rich_values.append(pl.when(pl.col("band") == band.label).then(text).alias(shown))
                    texts_of.append(pl.when(pl.col("band") == band.label).then(text))
            columns.append(pl.coalesce(texts_of).alias(name) if texts_of else pl.lit(None, dtype=pl.String).alias(name))
        for band in self._bands.values():
            for value in band.values:
                if _table(value.name) and not value.name.endswith(TYPED):
                    text = pl.col("__c").list.get(value.index, null_on_oob=True)
                    rich_values.append(pl.when(pl.col("band") == band.label).then(text).alias(value.name))
        frame = frame.with_columns(cells.alias("__c")).with_columns(columns)
        for rich in rich_values:  # rich text's value is its plain text too (a crosstab's: its JSON)
            name = rich.meta.output_name()
            if name in frame.columns:  # (a band of this batch)
                frame = frame.with_columns(pl.coalesce(rich, pl.col(name)))
        return frame.drop("__c")

    def _with_keys(self, frame: pl.DataFrame, keys: dict[int, pl.DataFrame]) -> pl.DataFrame:
        for level, (group, name) in enumerate(zip(self._plan.groups, self._keys, strict=True), start=1):
            found = keys.get(level)
            if found is None:
                frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(name))
                continue
            frame = frame.join_asof(
                found.select("__start", pl.col(group.name).alias(name)),
                left_on="__pos",
                right_on="__start",
                strategy="backward",
            ).drop("__start")
            frame = frame.with_columns(pl.when(pl.col("level") >= level).then(pl.col(name)).alias(name))
        return frame

    def _report_row(self, kind: BandKind) -> pl.DataFrame | None:
        band_plan = self._plan.band(kind)
        if band_plan is None or band_plan.name not in self._bands:
            return None
        band = self._bands[band_plan.name]
        raw = self._typed.report[band_plan.name]  # no column at all for a band of labels only
        raw = raw.with_columns(pl.lit(0, dtype=pl.UInt32).alias("__pos")) if raw.width else pl.DataFrame({"__pos": [0]})
        piece = self._piece(band, raw, pl.lit(0)).with_columns(pl.lit(0, dtype=pl.UInt8).alias("level"))
        texts = pl.Series([_json_texts(self._stream.static.get(str(kind), []))])
        return self._finished(self._texts(piece, texts), None)

    def _with_tables(self, frame: pl.DataFrame) -> pl.DataFrame:
        """A data export's ``frame`` with each subreport's rows below its band's row: its rows
        (``subreport_detail``, ``subreport_group_header``/``_footer``) then its totals
        (``subreport_summary``), one level under the band, band ``<band>.<subreport>``."""
        tables = [name for name in frame.columns if name in self._tables]
        if self._crosstabs or not tables:
            return frame
        order = pl.lit(0, dtype=pl.UInt32)
        pieces = [frame.with_columns(order.alias("__table"), order.alias("__seq"))]
        for number, name in enumerate(tables, start=1):
            label, sub, columns = self._tables[name]
            found = frame.filter(pl.col(name).is_not_null() & (pl.col(name) != ""))
            typed = name + TYPED if name + TYPED in frame.columns else None
            parsed = found.select(
                "__pos",
                "__sub",
                (pl.col("level") + 1).alias("level"),
                pl.col(name).str.json_decode(_TABLE).alias("t"),
                *([pl.col(typed).alias("__values")] if typed else []),
            ).unnest("t")
            rows = parsed.select(
                "__pos",
                "__sub",
                "level",
                pl.col("r").alias("__cells"),
                pl.coalesce(pl.col("k"), pl.col("r").list.eval(pl.lit("d"))).alias("__kind"),
                pl.int_ranges(1, pl.col("r").list.len() + 1, dtype=pl.UInt32).alias("__seq"),
                *(["__values"] if typed else []),
            ).explode("__cells", "__kind", "__seq", *(["__values"] if typed else []))
            rows = rows.filter(pl.col("__seq").is_not_null())
            totals = parsed.filter(pl.col("t").list.len() > 0).select(
                "__pos",
                "__sub",
                "level",
                pl.col("t").alias("__cells"),
                pl.lit("t").alias("__kind"),
                (pl.col("r").list.len() + 1).cast(pl.UInt32).alias("__seq"),
            )
            both = pl.concat([rows, totals], how="diagonal")  # (totals have no raw values)
            kind = pl.col("__kind").str.slice(0, 1)
            pieces.append(
                both.select(
                    "__pos",
                    "__sub",
                    "level",
                    "__seq",
                    pl.lit(number, dtype=pl.UInt32).alias("__table"),
                    pl.lit(f"{label}.{sub}").alias("band"),
                    kind.replace_strict({**_SUB_KINDS, "t": "subreport_summary"}, default="subreport_detail").alias(
                        "kind"
                    ),
                    *(
                        pl.col("__cells").list.get(i, null_on_oob=True).alias(f"{sub}.{column}_text")
                        for i, column in enumerate(columns)
                    ),
                    *(
                        pl.col("__values").struct.field(f"v{i}").alias(f"{sub}.{column}")
                        for i, column in enumerate(columns)
                        if f"{sub}.{column}" in self.schema and typed
                    ),
                )
            )
        return pl.concat(pieces, how="diagonal_relaxed").sort("__pos", "__sub", "__table", "__seq")

    def _finished(self, frame: pl.DataFrame, keys: dict[int, pl.DataFrame] | None) -> pl.DataFrame:
        frame = self._with_tables(frame)
        if keys is not None:
            frame = self._with_keys(frame, keys)
        return frame.select(
            pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype=dtype).alias(name)
            for name, dtype in self.schema.items()
        )

    def batches(self) -> Iterator[pl.DataFrame]:
        """The rows a batch at a time, in report order, each with the columns of :attr:`schema`."""
        keys = {level: frame.sort("__start") for level, frame in self._typed.keys.items()}
        groups = {
            name: self._typed.group(name)
            for name in self._typed.group_names
            if name in self._bands  # every group band is exported
        }
        detail = self._plan.band(BandKind.DETAIL)
        first = self._report_row(BandKind.TITLE)
        if first is not None:
            yield first
        offset = 0
        for start, end, rows in self._typed.detail():
            self.check()
            pieces = []
            for name, frame in groups.items():
                within = frame if end < 0 else frame.filter(pl.col("__pos").is_between(start, end, closed="left"))
                pieces.append(self._piece(self._bands[name], within, pl.col("__sub")))
            if rows is not None and detail is not None:
                pieces.append(self._piece(self._bands[detail.name], rows, pl.lit(self._depth + 1)))
            if not pieces:
                continue
            merged = pl.concat(pieces, how="diagonal").sort("__pos", "__sub")
            if merged.is_empty():
                continue
            texts = self._stream.bands.texts(offset, merged.height)
            offset += merged.height
            yield self._finished(self._texts(merged, texts), keys)
        # as the PDF: the summary after the rows, or with no row at all, the no-data band instead
        for kind in (BandKind.SUMMARY,) if self._stream.row_count else (BandKind.NO_DATA,):
            last = self._report_row(kind)
            if last is not None:
                yield last

    def frame(self) -> pl.DataFrame:
        """Every row at once."""
        batches = list(self.batches())
        return pl.concat(batches) if batches else pl.DataFrame(schema=self.schema)


def _warn_left_out(plan: ReportPlan, bands: list[BandPlan], *, crosstabs: bool) -> None:
    """A logged warning naming the tables a data export leaves out: crosstabs have no column of
    their own; they are shown whole in the PDF, the HTML page and the spreadsheet. Never silently.
    (A subreport's rows are rows of the export and of the spreadsheet.)"""
    if crosstabs:
        return
    left = [cell.where for band in bands for cell in band.data_cells if isinstance(cell.element, Crosstab)]
    if left:
        logger.warning(
            "%s: %s not in this output (a table inside a band has no column here; it is shown whole in the PDF "
            "and the HTML page%s)",
            plan.name,
            ", ".join(dict.fromkeys(left)),
            "" if crosstabs else ", a crosstab also in the .xlsx",
        )


def _value_column(value: _Value) -> pl.Expr:
    """A value's column (rich text's, a barcode's, a crosstab's and a subreport's are filled from
    their texts)."""
    if value.name.startswith(SUBREPORT_PREFIX) and value.name.endswith(TYPED):  # its rows' raw values
        return pl.col(f"__t{value.index}").cast(value.dtype).alias(value.name)
    if value.decode is not None or _table(value.name):
        return pl.lit(None, dtype=pl.String).alias(value.name)
    return pl.col(f"__v{value.index}").cast(value.dtype).alias(value.name)


def _subreport_table(name: str) -> bool:
    """Whether column ``name`` holds a subreport's table's JSON (not its rows' raw values)."""
    return name.startswith(SUBREPORT_PREFIX) and not name.endswith(TYPED)


def _table(name: str) -> bool:
    """Whether column ``name`` holds a table's JSON (a crosstab's or a subreport's)."""
    return name.startswith((CROSSTAB_PREFIX, SUBREPORT_PREFIX))


def _json_texts(texts: list[str]) -> str:
    return json.dumps({"c": texts}, ensure_ascii=False)
