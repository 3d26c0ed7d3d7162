"""What a report's Typst source reads: the report-scope strings, the band stream, and per band
kind what places it on pages (breaks, group headers kept with what follows, room asked for).

    >>> import polarreports as pr
    >>> doc = pr.load("examples/sales_by_region.yaml").render(pr.sample.sales_data(20))
    >>> doc._data.json(0, 2).startswith(b'{"static": {')
    True
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from polarreports.compute.pages import PageRows
from polarreports.stream.bandstream import BandStream

__all__ = ["ReportData"]


@dataclass(frozen=True)
class ReportData:
    """What the Typst source reads: the report-scope strings and the band stream."""

    static: dict[str, list[str]]
    bands: BandStream
    """Every band instance in reading order: its kind and its JSON text."""
    samples: list[dict[str, Any]]
    sticky: list[bool]
    """Per band kind (index ``k``): whether it is a group header (kept with what follows)."""
    breaks: list[bool]
    """Per band kind: whether a new page starts before it."""
    pages: PageRows | None = None
    """What the values per page are computed from, if the report shows any."""
    breaks_after: list[bool] = field(default_factory=list)
    """Per band kind: whether a new page starts after it."""
    title_page: bool = False
    """Whether the title has a page of its own."""
    summary_page: bool = False
    """Whether the summary starts a page of its own."""
    header_levels: list[int] = field(default_factory=list)
    """Per band kind: the group level of a group header, else 0."""
    keep: dict[int, tuple[bool, float]] = field(default_factory=dict)
    """Per group level that asks for room: (keep together, minimum space in points)."""
    room_breaks: tuple[int, ...] = ()
    """Bands that start a new page because the room their group needs is not left there
    (keep-together, minimum space): decided ahead of Typst, from the measured heights."""
    settings: dict[str, Any] = field(default_factory=dict)
    """Settings for every data file (a wide listing's panel)."""
    reprint: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Per group level whose header is printed again on continuation pages: the band kinds
    of its header and footer."""
    probed: list[bool] = field(default_factory=list)
    """Per band kind: whether each of its instances is laid out by Typst ahead of the chunks to
    find where it ends (a crosstab, whose height varies and which may break across pages)."""
    measured_each: list[bool] = field(default_factory=list)
    """Per band kind: whether, when its samples differ in height, each of its instances may be
    measured on its own (a band holding a subreport: a box, which never breaks across pages;
    a crosstab's band, measured each always: see ``kept_whole``)."""
    kept_whole: list[bool] = field(default_factory=list)
    """Per band kind of ``probed`` crosstabs: whether the band keeps together (``keep_together``):
    an instance no taller than a page then goes whole on the next page, never split, so it
    needs no probe. (Any other instance that fits where it begins needs none either.)"""
    outline_levels: list[int] = field(default_factory=list)
    """Per band kind: the level of the PDF bookmark each of its instances adds (0: none)."""
    one_piece: str | None = None
    """Why the report must be typeset in one piece (e.g. a table of contents), or None."""
    unpredictable: str | None = None
    """Why no page break can be predicted ahead of Typst (a page whose height is ``auto``, which
    grows with its content), or None: such a report is typeset in one piece, never measured."""

    def open_groups(self, band: int) -> dict[str, list[str]]:
        """The cells of each reprinted group header still open where band ``band`` starts."""
        open_headers = {}
        kinds = self.bands.kinds.slice(0, band)
        for level, (header, footer) in self.reprint.items():
            headers, footers = (kinds == header).arg_true(), (kinds == footer).arg_true()
            last_header = int(headers[-1]) if headers.len() else -1
            if last_header >= 0 and (not footers.len() or int(footers[-1]) < last_header):
                open_headers[str(level)] = json.loads(self.bands.text(last_header))["c"]
        return open_headers

    def json(
        self, start: int = 0, count: int | None = None, *, marks: Sequence[int] | bool = (), **extra: Any
    ) -> bytes:
        """The data file for bands ``start`` .. ``start + count``, with ``extra`` settings.

        Bands whose index is in ``marks`` (or every band, with ``marks=True``) report the page
        they land on (``<polarreports-mark>``)."""
        texts = self.bands.texts(start, count)
        index = pl.col("__i")
        extras: list[pl.Expr] = []  # named arguments of the band's function, for some bands
        if marks is True or (marks is not False and len(marks)):
            marked = pl.lit(True) if marks is True else index.is_in(list(marks))
            extras.append(pl.when(marked).then(pl.concat_str(pl.lit('"m":'), index.cast(pl.String))))
        frame = texts.to_frame("json").with_row_index("__i", offset=start)
        if self.room_breaks:
            breaking = index.is_in(list(self.room_breaks))
            extras.append(pl.when(breaking).then(pl.lit('"b":true')))
        if extras:
            named = pl.concat_str(extras, separator=",", ignore_nulls=True)
            tagged = pl.concat_str(pl.lit('{"x":{'), named, pl.lit("},"), pl.col("json").str.slice(1))
            texts = frame.select(
                pl.when(named.fill_null("") != "").then(tagged).otherwise(pl.col("json")).alias("json")
            )["json"]
        rows = texts.str.join(",").item() if self.bands.height else ""
        head = json.dumps({"static": self.static, **self.settings, **extra}, ensure_ascii=False)
        return (head[:-1] + ',"rows":[' + (rows or "") + "]}").encode()
