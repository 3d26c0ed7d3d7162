"""Blocks: many keys' documents from one render, split into one PDF per key.

A one-page statement costs about 100 ms of CPU when rendered alone (planning, some 50 small
Polars queries, two Typst passes), but 2 to 4 ms when rendered with a hundred others: the
plan, the queries and the Typst passes are paid once per block. So where it gives the same
figures, a batch renders a block of keys as one report, in which the key is the outermost
group (each key on fresh pages, its page numbers and totals its own), and splits the PDF at
the first page of each key (found from the block's bookmarks, one per key).

It gives the same figures when nothing in the report spans keys: :func:`block_report` says
whether that holds, and makes the block's definition. It holds when the report's first group
is the key, with a header (which carries the key's bookmark) on every key and not printed
again on continued pages, and the report has
no title, summary, last-page footer, outline, contents, subreport, percent of the
report's total or page of auto height; its page bands show only labels, lines, boxes, images
from files, page numbers and per-page values, without conditions; nothing is computed over a
window (``OVER``). What differs between one key alone and in a block is then made the same:
variables reset for the report reset for the key, page numbers count the key's pages, each
key starts a page. A report that does not qualify is rendered one key at a time, as before.
A tagged PDF is cut with its structure tree (``typeset/pdfparts.py``): each key's file keeps
the elements of its pages.

A key's PDF holds the fonts of its block (subsets of the glyphs the block uses), so its bytes
depend on the keys it shares its block with: blocks are fixed runs of ``KEYS_PER_BLOCK``
keys in key order, the same for every run over the same keys (a resumed run, the local pool
or a cluster), so a run gives the same bytes as any other over the same data.

    >>> import polarreports as pr
    >>> report = pr.load("examples/customer_statement.yaml")
    >>> block_report(report, ["customer_no"])[1] is None
    True
    >>> block_report(report, ["customer"])[1]
    "the report's first group is not the key 'customer'"
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any, TypeGuard

import polars as pl
from pydantic_core import PydanticSerializationError

from polarreports.definition.elements import Aggregate, Box, Image, Label, Line, PageNumber, Subreport
from polarreports.definition.report import Band, Report
from polarreports.typeset.pdfparts import count_pages_in_metadata, tagged_parts
from polarreports.typeset.typeset import pdf_of_pages

__all__ = ["KEYS_PER_BLOCK", "block_report", "group_order", "split_pdf"]

KEYS_PER_BLOCK = 64
"""Keys rendered together: a block of one-page statements takes about a third of a second,
few enough that the work spreads over the workers and a killed run loses little."""

_PAGE_BANDS = ("page_header", "page_footer", "column_header", "column_footer", "background")
_SPANNING_BANDS = ("title", "summary", "last_page_footer")
_PER_PAGE = ("page", "brought_forward", "carried_forward")
_WINDOW = re.compile(r"\bover\s*\(", re.IGNORECASE)


def _page_band_problem(name: str, band: Band) -> str | None:
    """Why ``band`` (a page band) may show something that spans keys, or None."""
    if band.print_when is not None or band.conditional_styles:
        return f"its {name} band has a condition"
    for element in band.elements:
        if element.print_when is not None or element.conditional_styles:
            return f"an element of its {name} band has a condition"
        if isinstance(element, Image) and element.column is not None:
            return f"its {name} band shows an image from a column"
        if isinstance(element, Aggregate) and element.show not in _PER_PAGE:
            return f"its {name} band shows a report total ({element.variable!r})"
        if not isinstance(element, Label | Line | Box | Image | PageNumber | Aggregate):
            return f"its {name} band shows a {element.type}"
    return None


def _problem(report: Report, by: Sequence[str]) -> str | None:
    """Why ``report``'s documents per key ``by`` cannot come from blocks, or None."""
    if len(by) != 1:
        return "the key is several columns"
    first = report.groups[0] if report.groups else None
    key = None if first is None else first.name if first.key is None else first.key
    if not isinstance(key, str) or key != by[0]:  # (a key given as a Polars expression: not known)
        return f"the report's first group is not the key {by[0]!r}"
    header = report.groups[0].header
    if header is None or header.print_when is not None:
        return "the first group has no header shown for every key (it carries each key's bookmark)"
    if report.groups[0].reprint_header:
        return "the first group's header is printed again on continued pages (more bookmarks than keys)"
    if by[0] in report.columns:
        return f"the report computes the key column {by[0]!r} again"
    if report.outline or report.table_of_contents:
        return "the report has an outline or a contents page"
    for name in _SPANNING_BANDS:
        if getattr(report.bands, name) is not None:
            return f"the report has a {name.replace('_', ' ')} band"
    for name in _PAGE_BANDS:
        band = getattr(report.bands, name)
        problem = _page_band_problem(name, band) if band is not None else None
        if problem is not None:
            return problem
    bands = [getattr(report.bands, name) for name in type(report.bands).model_fields]
    bands += [band for group in report.groups for band in (group.header, group.footer)]
    if any(isinstance(e, Subreport) for band in bands if band is not None for e in band.elements):
        return "the report has a subreport"
    outer = [band for band in (report.groups[0].header, report.groups[0].footer) if band is not None]
    percents = [e for band in bands if band is not None for e in band.elements if _is_percent(e)]
    if any(e.of == "report" for e in percents) or any(
        _is_percent(e) and e.of is None for b in outer for e in b.elements
    ):
        return "the report shows a percent of the report's total"
    if report.page.auto_height:
        return "the page height is auto"
    try:
        written = report.model_dump_json()
    except PydanticSerializationError:  # a Polars expression: what it computes over is not read here
        return "the report holds Polars expressions"
    if _WINDOW.search(written):
        return "the report may compute over a window (OVER)"
    return None


def _is_percent(element: object) -> TypeGuard[Aggregate]:
    return isinstance(element, Aggregate) and element.show == "percent"


def _numbered_by(band: Band | None, group: str) -> Band | None:
    """``band`` with its page numbers counting the pages of ``group`` (the key)."""
    if band is None or not any(isinstance(e, PageNumber) and e.group is None for e in band.elements):
        return band
    elements = [
        e.model_copy(update={"group": group}) if isinstance(e, PageNumber) and e.group is None else e
        for e in band.elements
    ]
    return band.model_copy(update={"elements": elements})


def block_report(report: Report, by: Sequence[str]) -> tuple[Report | None, str | None]:
    """The definition that renders a block of keys as one report giving, per key, the figures
    of ``report`` rendered for that key alone; or None, and why not."""
    problem = _problem(report, by)
    if problem is not None:
        return None, problem
    key = report.groups[0].name
    groups = [
        group.model_copy(
            update={
                "outline": i == 0,
                "new_page": group.new_page or i == 0,
                "header": _numbered_by(group.header, key),
                "footer": _numbered_by(group.footer, key),
            }
        )
        for i, group in enumerate(report.groups)
    ]
    variables = [v.model_copy(update={"reset": key}) if v.reset == "report" else v for v in report.variables]
    bands = report.bands.model_copy(
        update={name: _numbered_by(getattr(report.bands, name), key) for name in type(report.bands).model_fields}
    )
    update: dict[str, Any] = {"outline": True, "groups": groups, "variables": variables, "bands": bands}
    return report.model_copy(update=update), None


def group_order(rows: pl.DataFrame, by: Sequence[str], report: Report) -> list[tuple[Any, ...]]:
    """The keys of ``rows`` in the order the report shows its first group: sorted by the key
    column, in its own type (an Enum by its categories), as the report sorts, nulls last.

    >>> report = Report(name="r", groups=[{"name": "c", "descending": True}])
    >>> group_order(pl.DataFrame({"c": ["a", None, "b", "a"]}), ["c"], report)
    [('b',), ('a',), (None,)]
    >>> sizes = pl.DataFrame({"c": ["L", "S", "M"]}, schema={"c": pl.Enum(["S", "M", "L"])})
    >>> group_order(sizes, ["c"], Report(name="r", groups=[{"name": "c"}]))
    [('S',), ('M',), ('L',)]
    """
    keys = rows.select(by).unique(maintain_order=True)
    return keys.sort(list(by), descending=report.groups[0].descending, nulls_last=True, maintain_order=True).rows()


def split_pdf(content: bytes, count: int) -> list[tuple[bytes, int]]:
    """The PDF ``content`` split at its ``count`` top-level bookmarks (one per key, in order):
    each part's bytes and pages. ``ValueError`` if it has not exactly ``count`` of them."""
    import pikepdf  # imported when needed: it takes 15 MB

    with pikepdf.Pdf.open(io.BytesIO(content)) as whole:
        with whole.open_outline() as outline:
            destinations = [item.destination for item in outline.root]
        if len(destinations) != count or any(not isinstance(d, pikepdf.Array) for d in destinations):
            msg = f"the block has {len(destinations)} bookmarks for {count} keys"
            raise ValueError(msg)
        starts = [whole.pages.index(pikepdf.Page(d[0])) for d in destinations]  # type: ignore[index]
        if starts != sorted(set(starts)) or (starts and starts[0] != 0):
            msg = f"the block's keys start on pages {starts}"
            raise ValueError(msg)
        ends = [*starts[1:], len(whole.pages)]
        if "/StructTreeRoot" in whole.Root:  # a tagged PDF: each part keeps its share of the tree
            sizes = [end - start for start, end in zip(starts, ends, strict=True)]
            return list(zip(tagged_parts(content, starts), sizes, strict=True))
        parts = []
        for start, end in zip(starts, ends, strict=True):
            part = pdf_of_pages(whole.pages[start:end], whole)
            count_pages_in_metadata(part)
            buffer = io.BytesIO()
            part.save(buffer, deterministic_id=True, fix_metadata_version=False)
            parts.append((buffer.getvalue(), end - start))
        return parts
