"""Navigation: which groups get bookmarks and contents entries, and which links are kept.

The Typst side (the hidden headings, links, the contents page) is ``emit.navigation``.

Bookmarks and the contents page come from Typst headings that show nothing: each group header
band holds ``heading(level: n, c.at(i))``, whose text is a hidden cell of the band (the
group's key, formatted in Polars as the header shows it), and ``show heading: none`` keeps it
invisible. Typst puts such a heading in the PDF outline (``bookmarked``) and in ``outline()``
(``outlined``), at the page where the band is. A long report typeset in chunks gets one
outline per chunk; the join (``output.pdfjoin``) rebuilds one nested outline for the PDF, with
the levels from the band stream (a chunk may begin inside a group, so its own nesting cannot
be trusted).

Links: an element's ``link`` is an expression whose value (a hidden cell) is passed to
Typst's ``link()`` as a string, which Typst always treats as a URL. Only http, https and
mailto URLs are kept (:func:`link_url`, in Polars); anything else shows the text unlinked.

    >>> import polars as pl
    >>> urls = pl.Series(["https://x.org/a?b=1", " mailto:a@b.org ", "javascript:alert(1)", "file:///etc", None])
    >>> pl.select(link_url(pl.lit(urls))).to_series().to_list()
    ['https://x.org/a?b=1', 'mailto:a@b.org', None, None, None]
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from polarreports.definition.report import Group, Report
from polarreports.plan.model import BandPlan

__all__ = ["heading_rank", "link_url", "outline_levels", "outlined"]

_URL = r"^(?i:https?://[^\s]+|mailto:[^\s]+)$"


def outlined(report: Report, group: Group) -> bool:
    """Whether ``group``'s instances get a heading (a bookmark and/or a contents entry)."""
    return (report.outline or bool(report.table_of_contents)) and group.outline


def link_url(value: pl.Expr) -> pl.Expr:
    """The URL ``value`` gives, trimmed, if it is an http, https or mailto URL without spaces or
    control characters; null otherwise (the element then shows without a link)."""
    url = value.cast(pl.String).str.strip_chars()
    return pl.when(url.str.contains(_URL) & ~url.str.contains(r"[\x00-\x1f\x7f]")).then(url)


def heading_rank(report: Report, level: int) -> int:
    """The heading level of group level ``level``: its place among the outlined levels."""
    return sum(1 for group in report.groups[:level] if outlined(report, group))


def outline_levels(report: Report, stream_bands: Sequence[BandPlan]) -> list[int]:
    """Per stream band kind, the bookmark level its instances add to the PDF outline (0: none)."""
    if not report.outline:
        return [0] * len(stream_bands)
    return [
        heading_rank(report, band.level) if any(cell.role == "outline" for cell in band.cells) else 0
        for band in stream_bands
    ]
