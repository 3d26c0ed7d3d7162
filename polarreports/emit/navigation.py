"""Typst code for navigation: hidden headings (bookmarks, contents entries), links, the
contents page. Which groups and links take part is decided in ``plan.navigation``.

    >>> linked("x", 2).startswith("{ let url = c.at(2);")
    True
"""

from __future__ import annotations

from collections.abc import Callable

from polarreports.plan.model import BandPlan, ReportPlan

__all__ = ["TITLE_MAX", "TOC_END", "column_header_from", "heading", "linked", "table_of_contents"]

TOC_END = "polarreports-toc-end"
"""Label of a metadata element at the end of the contents pages."""
TITLE_MAX = 200
"""Characters of a group's key a bookmark or contents entry shows; a longer one ends in "…"."""


def heading(plan: ReportPlan, band: BandPlan, index: int) -> str:
    """Typst code placing ``band``'s hidden heading, whose text is cell ``index``."""
    flags = f"outlined: {'true' if plan.contents_title is not None else 'false'}, "
    flags += f"bookmarked: {'true' if plan.outline else 'false'}"
    # a long key is shortened (bytes are counted first: most keys are short, clusters cost)
    title = (
        f"{{ let t = c.at({index}); if t.len() <= {TITLE_MAX} {{ t }} else {{ let k = t.clusters(); "
        f'if k.len() <= {TITLE_MAX} {{ t }} else {{ k.slice(0, {TITLE_MAX - 1}).join() + "…" }} }} }}'
    )
    return f"heading(level: {plan.group(band.level).heading_rank}, {flags}, {title})"


def linked(body: str, index: int) -> str:
    """``body`` as a link to the URL in cell ``index`` ("" when the row has none)."""
    # The URL is data, but link() takes a string as a URL only (never a label, a location or
    # a file), and link_url() kept only http, https and mailto URLs.
    underlined = f"underline(stroke: 0.4pt, offset: 1.5pt, {body})"
    return f'{{ let url = c.at({index}); if url == "" {{ {body} }} else {{ link(url, {underlined}) }} }}'


def column_header_from(plan: ReportPlan) -> str:
    """Typst condition (needs context): whether the page header shows the column header."""
    if plan.contents_title is None:
        return "local-page() > 1"
    # not on the title and contents pages
    last_page = "t.first().location().page()"
    return f"local-page() > {{ let t = query(<{TOC_END}>); if t.len() == 0 {{ 1 }} else {{ {last_page} }} }}"


def table_of_contents(plan: ReportPlan, typst_string: Callable[[str], str]) -> str:
    """Typst code of the contents page(s): a title, the groups nested by level with dotted
    leaders and right-aligned page numbers (each entry links to its group), then a page break."""
    title = plan.contents_title
    if title is None:
        return "none"
    return (
        '{ block(below: 10pt, text(size: 1.4em, weight: "bold", ' + typst_string(title) + ")); "
        "{ set block(spacing: 0.55em); "
        "show outline.entry.where(level: 1): it => { v(0.35em); strong(it) }; "
        "outline(title: none, target: heading, indent: 1.2em) }; "
        f"[#metadata(none) <{TOC_END}>]; pagebreak(weak: true) }}"
    )
