"""Scaffold a report definition from a data schema: every column, with a format that fits.

>>> import polars as pl
>>> report = scaffold(pl.Schema({"day": pl.Date, "amount": pl.Float64}), name="orders")
>>> [e.column for e in report.bands.detail.elements]
['day', 'amount']
"""

from __future__ import annotations

import polars as pl

from polarreports.definition.elements import Aggregate, Field, Label, PageNumber
from polarreports.definition.report import Band, Bands, PageSetup, Report, Variable

__all__ = ["scaffold"]


def _pattern(dtype: pl.DataType) -> str | None:
    if dtype.is_integer():
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


def scaffold(schema: pl.Schema, *, name: str) -> Report:
    """A listing of every column in ``schema``, with a title, page numbers and a row count."""
    columns = list(schema.items())
    landscape = len(columns) > 7
    width = f"{100 / max(len(columns), 1):.2f}%"
    header = [
        Label(
            text=column.replace("_", " ").capitalize(),
            bold=True,
            width=width,
            align="right" if dtype.is_numeric() else None,
        )
        for column, dtype in columns
    ]
    detail = [Field(column=column, format=_pattern(dtype), width=width) for column, dtype in columns]
    title = name.replace("_", " ").capitalize()
    return Report(
        name=name,
        title=title,
        page=PageSetup(orientation="landscape" if landscape else "portrait"),
        variables=[Variable(name="row_count", calculation="count")],
        bands=Bands(
            title=Band(padding="6pt", elements=[Label(text=title, bold=True, size=14)]),
            column_header=Band(line_below=True, elements=header),
            detail=Band(elements=detail),
            page_footer=Band(
                line_above=True, elements=[Label(text=title, width="50%"), PageNumber(width="50%", align="right")]
            ),
            summary=Band(
                line_above=True,
                elements=[
                    Label(text="Rows", bold=True, width="50%"),
                    Aggregate(variable="row_count", bold=True, width="50%"),
                ],
            ),
            no_data=Band(elements=[Label(text="No rows.", italic=True)]),
        ),
    )
