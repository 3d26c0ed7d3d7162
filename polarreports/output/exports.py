"""The outputs other than Typst's (HTML, spreadsheets, data), by suffix, written from the plan and
band stream of one render.

Each output is a function ``write(rendered, file)`` in the layer that makes it (``emit/``); it
is imported when first used, so that a render that saves only a PDF loads none of them.

    >>> sorted(EXPORTERS) == sorted(EXPORTERS)  # e.g. [".html", ".xlsx", ...]
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

import polars as pl

from polarreports.plan.model import ReportPlan
from polarreports.stream.collect import StreamData

__all__ = ["EXPORTERS", "Exporter", "Rendered"]


@dataclass(frozen=True)
class Rendered:
    """What the outputs other than Typst's are written from: the plan and the band stream of one
    render (computed once, whatever the number of outputs saved)."""

    plan: ReportPlan
    stream: StreamData
    dtypes: dict[str, pl.DataType] = field(default_factory=dict)
    """The Polars dtype of each cell's value, by the cell's ``where`` (``Scopes.dtypes``)."""
    rows: pl.LazyFrame | None = None
    """The rows the report shows (the input's rows that passed its filter, its columns, in the
    input's order), lazily: read again only for an output that holds them (a PDF's data attachment)."""
    definition_yaml: Callable[[], str] | None = None
    """The report definition as YAML, made only when an output attaches it (a PDF's
    ``definition`` attachment): the plan keeps no definition, and no output reads one."""
    check: Callable[[], None] = lambda: None
    """Called between the batches an output is written in: raises ``Cancelled`` once the render
    is cancelled or past its time limit (``Document`` sets its ``RenderControl.check``)."""


Exporter = Callable[[Rendered, BinaryIO], None]
"""Writes one output of a render to an open binary file (see ``output.document.written``)."""


def _html() -> Exporter:
    from polarreports.emit.html import write_html

    def write(rendered: Rendered, file: BinaryIO) -> None:
        write_html(rendered.plan, rendered.stream, rendered.dtypes, file, check=rendered.check)

    return write


EXPORTERS: dict[str, Callable[[], Exporter]] = {".html": _html}
"""Per suffix (``".html"``, ...): a function returning the output's writer, imported lazily."""


def _data_export(suffix: str) -> Callable[[], Exporter]:
    """The writer of a data export (``emit.data_exports``), imported when first used."""

    def load() -> Exporter:
        from polarreports.emit.bandframe import BandFrames
        from polarreports.emit.data_exports import DATA_WRITERS

        def write(rendered: Rendered, file: BinaryIO) -> None:
            frames = BandFrames(rendered.plan, rendered.stream, rendered.dtypes, check=rendered.check)
            DATA_WRITERS[suffix](frames, file)

        return write

    return load


EXPORTERS.update({suffix: _data_export(suffix) for suffix in (".parquet", ".csv", ".json")})


def _xlsx() -> Exporter:
    from polarreports.emit.bandframe import BandFrames
    from polarreports.emit.xlsx import write_xlsx

    def write(rendered: Rendered, file: BinaryIO) -> None:
        frames = BandFrames(rendered.plan, rendered.stream, rendered.dtypes, crosstabs=True, check=rendered.check)
        write_xlsx(frames, file)

    return write


EXPORTERS[".xlsx"] = _xlsx
