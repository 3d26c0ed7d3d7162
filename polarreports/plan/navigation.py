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
What a URL may not hold as it is (spaces, quotes, non-ASCII letters, a ``%`` that starts no
escape) is percent-encoded; a URL that is valid already is left as it is.

    >>> import polars as pl
    >>> urls = pl.Series(["https://x.org/a?b=1", " mailto:a@b.org ", "javascript:alert(1)", "file:///etc", None])
    >>> pl.select(link_url(pl.lit(urls))).to_series().to_list()
    ['https://x.org/a?b=1', 'mailto:a@b.org', None, None, None]
    >>> urls = pl.Series(['https://x.org/a b/café?q="1"', "https://x.org/a%20b?p=100%", "https://x.org/é%C3%A9"])
    >>> pl.select(link_url(pl.lit(urls))).to_series().to_list()
    ['https://x.org/a%20b/caf%C3%A9?q=%221%22', 'https://x.org/a%20b?p=100%25', 'https://x.org/%C3%A9%C3%A9']
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from polarreports.definition.report import Group, Report
from polarreports.plan.model import BandPlan, ReportPlan

__all__ = ["contents_title", "heading_rank", "link_url", "outline_levels", "outlined"]

_URL = r"^(?i:https?://\S.*|mailto:\S.*)$"
_URL_CHARACTERS = r"A-Za-z0-9\-._~!#$&'()*+,/:;=?@\[\]"
"""What a URL holds as it is: RFC 3986's unreserved and reserved characters (as ``requests``
keeps them); anything else is percent-encoded, as its UTF-8 bytes."""


def outlined(report: Report, group: Group) -> bool:
    """Whether ``group``'s instances get a heading (a bookmark and/or a contents entry)."""
    return (report.outline or bool(report.table_of_contents)) and group.outline


def link_url(value: pl.Expr) -> pl.Expr:
    """The URL ``value`` gives, trimmed and percent-encoded where it must be, if it is an http,
    https or mailto URL without control characters; null otherwise (the element then shows
    without a link)."""
    url = value.cast(pl.String).str.strip_chars()
    valid = url.str.contains(f"^(?i:https?://|mailto:)(?:[{_URL_CHARACTERS}]|%[0-9A-Fa-f]{{2}})+$")
    to_encode = pl.when(~valid & url.str.contains(_URL) & ~url.str.contains(r"[\x00-\x1f\x7f]")).then(url)
    return pl.when(valid).then(url).otherwise(_percent_encoded(to_encode))


def _percent_encoded(url: pl.Expr) -> pl.Expr:
    """``url`` with every character a URL may not hold as it is written as ``%XX`` (its UTF-8
    bytes), and every ``%`` that does not start an escape as ``%25``; escapes stay as they are."""
    char = pl.element()
    escaped = char.str.encode("hex").str.to_uppercase().str.replace_all("(..)", "%$1")
    each = url.str.split("").list.eval(
        pl.when(char.str.contains(f"^[{_URL_CHARACTERS}%]$")).then(char).otherwise(escaped)
    )
    # (the URL holds no control character: a NUL marks the escapes while lone %s are encoded)
    marked = each.list.join("").str.replace_all("%([0-9A-Fa-f]{2})", "\x00$1")
    return marked.str.replace_all("%", "%25", literal=True).str.replace_all("\x00", "%", literal=True)


def heading_rank(report: Report, level: int) -> int:
    """The heading level of group level ``level``: its place among the outlined levels."""
    return sum(1 for group in report.groups[:level] if outlined(report, group))


def contents_title(report: Report) -> str | None:
    """The title of the report's contents page; None: it has none."""
    if not report.table_of_contents:
        return None
    return "Contents" if report.table_of_contents is True else str(report.table_of_contents)


def outline_levels(plan: ReportPlan, stream_bands: Sequence[BandPlan]) -> list[int]:
    """Per stream band kind, the bookmark level its instances add to the PDF outline (0: none)."""
    if not plan.outline:
        return [0] * len(stream_bands)
    return [
        plan.group(band.level).heading_rank if any(cell.role == "outline" for cell in band.cells) else 0
        for band in stream_bands
    ]
