"""Navigation: PDF bookmarks (the outline), the table of contents, and links.

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

from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from polarreports.definition.report import Group, Report
from polarreports.plan.model import BandPlan

__all__ = [
    "TOC_END",
    "column_header_from",
    "heading",
    "link_url",
    "linked",
    "outline_entries",
    "outline_levels",
    "outlined",
    "table_of_contents",
]

TOC_END = "polarreports-toc-end"
"""Label of a metadata element at the end of the contents pages."""
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


def _rank(report: Report, level: int) -> int:
    """The heading level of group level ``level``: its place among the outlined levels."""
    return sum(1 for group in report.groups[:level] if outlined(report, group))


def heading(report: Report, band: BandPlan, index: int) -> str:
    """Typst code placing ``band``'s hidden heading, whose text is cell ``index``."""
    flags = f"outlined: {'true' if report.table_of_contents else 'false'}, "
    flags += f"bookmarked: {'true' if report.outline else 'false'}"
    return f"heading(level: {_rank(report, band.level)}, {flags}, c.at({index}))"


def linked(body: str, index: int) -> str:
    """``body`` as a link to the URL in cell ``index`` ("" when the row has none)."""
    # The URL is data, but link() takes a string as a URL only (never a label, a location or
    # a file), and link_url() kept only http, https and mailto URLs.
    underlined = f"underline(stroke: 0.4pt, offset: 1.5pt, {body})"
    return f'{{ let url = c.at({index}); if url == "" {{ {body} }} else {{ link(url, {underlined}) }} }}'


def outline_levels(report: Report, stream_bands: Sequence[BandPlan]) -> list[int]:
    """Per stream band kind, the bookmark level its instances add to the PDF outline (0: none)."""
    if not report.outline:
        return [0] * len(stream_bands)
    return [
        _rank(report, band.level) if any(cell.role == "outline" for cell in band.cells) else 0 for band in stream_bands
    ]


def column_header_from(report: Report) -> str:
    """Typst condition (needs context): whether the page header shows the column header."""
    if not report.table_of_contents:
        return "local-page() > 1"
    # not on the title and contents pages
    last_page = "t.first().location().page()"
    return f"local-page() > {{ let t = query(<{TOC_END}>); if t.len() == 0 {{ 1 }} else {{ {last_page} }} }}"


def table_of_contents(report: Report, typst_string: Callable[[str], str]) -> str:
    """Typst code of the contents page(s): a title, the groups nested by level with dotted
    leaders and right-aligned page numbers (each entry links to its group), then a page break."""
    if not report.table_of_contents:
        return "none"
    title = "Contents" if report.table_of_contents is True else str(report.table_of_contents)
    return (
        '{ block(below: 10pt, text(size: 1.4em, weight: "bold", ' + typst_string(title) + ")); "
        "{ set block(spacing: 0.55em); "
        "show outline.entry.where(level: 1): it => { v(0.35em); strong(it) }; "
        "outline(title: none, target: heading, indent: 1.2em) }; "
        f"[#metadata(none) <{TOC_END}>]; pagebreak(weak: true) }}"
    )


def outline_entries(items: Any, depth: int = 1) -> list[tuple[int, Any]]:
    """A chunk outline's items (pikepdf ``OutlineItem``) in document order, with their depth."""
    found = []
    for item in items:
        found.append((depth, item))
        found.extend(outline_entries(item.children, depth + 1))
    return found
