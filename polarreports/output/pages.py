"""Page images that show themselves: ``doc.preview(2)`` in a notebook shows the pages, in a
script it is a list of ``bytes`` as before.

A :class:`PageImage` is the image's bytes (``bytes``: write it, compare it, slice it), plus
``_repr_png_`` / ``_repr_svg_`` for Jupyter and a short ``repr``; :class:`Pages` is a list of
them that a notebook shows side by side, as PNG ``<img>`` elements (never the page's own SVG
or text as markup).

    >>> page = PageImage(b"\\x89PNG\\r\\n\\x1a\\n...", "png", 1)
    >>> page.startswith(b"\\x89PNG"), page
    (True, <page 1: PNG, 11 bytes>)
    >>> Pages([page], total=3)
    <pages 1 of 3: PNG>

:func:`paged_html` is a document's display where no widget shows (VS Code without a kernel,
nbviewer, a saved notebook): its first pages with a pager made of CSS alone (radio inputs in
labels), as scripts are stripped by many front-ends.
"""

from __future__ import annotations

import base64
import html
import secrets
from collections.abc import Iterable, Sequence

__all__ = ["HTML_BUDGET", "HTML_PAGES", "PageImage", "Pages", "page_html", "paged_html"]

HTML_PAGES = 4
"""The most pages a document's plain HTML embeds (its first ones)."""
HTML_BUDGET = 1_200_000
"""The most bytes of page images a document's plain HTML embeds (1.6 MB once in base64; a
dense A4 listing page is about 270 kB at screen resolution): pages past it are left out (the
first page is always in)."""

PAGE_STYLE = (
    "display:inline-block;vertical-align:top;margin:4px;border:1px solid #ccc;"
    "box-shadow:0 1px 4px rgba(0,0,0,.2);background:white;max-width:45%"
)


class PageImage(bytes):
    """One page as image bytes (PNG, SVG or PDF), with its format and page number (from 1)."""

    format: str
    number: int

    def __new__(cls, content: bytes, format: str, number: int) -> PageImage:
        page = super().__new__(cls, content)
        page.format = format
        page.number = number
        return page

    def __repr__(self) -> str:
        return f"<page {self.number}: {self.format.upper()}, {len(self):,} bytes>"

    __str__ = __repr__  # print(page) describes it, never dumps its bytes

    def _repr_png_(self) -> bytes | None:
        return bytes(self) if self.format == "png" else None

    def _repr_svg_(self) -> str | None:
        return bytes(self).decode() if self.format == "svg" else None


def page_html(page: PageImage, *, alt: str = "") -> str:
    """An ``<img>`` element showing ``page`` (PNG or SVG, as a data URI: its content is never
    markup of the page it sits in)."""
    mime = {"png": "image/png", "svg": "image/svg+xml"}.get(page.format)
    if mime is None:
        return f"<p>page {page.number}: {page.format.upper()}, {len(page):,} bytes</p>"
    data = base64.b64encode(page).decode("ascii")
    label = html.escape(alt or f"page {page.number}", quote=True)
    return f'<img src="data:{mime};base64,{data}" alt="{label}" title="{label}" style="{PAGE_STYLE}">'


class Pages(list[PageImage]):
    """The first pages of a document, in a notebook shown side by side with the page count."""

    def __init__(self, pages: Iterable[PageImage] = (), *, total: int | None = None) -> None:
        super().__init__(pages)
        self.total = total
        """The document's page count, if known."""

    def _count(self) -> str:
        return f"{len(self)} of {self.total}" if self.total is not None else f"{len(self)}"

    def __repr__(self) -> str:
        formats = sorted({page.format.upper() for page in self})
        return f"<pages {self._count()}: {', '.join(formats) or 'none'}>"

    def _repr_html_(self) -> str:
        return f"<div><p>pages {self._count()}</p>{''.join(page_html(page) for page in self)}</div>"


PAGER_STYLE = """
.{box} input {{display:none}}
.{box} label {{cursor:pointer;border:1px solid #bbb;border-radius:3px;padding:0 8px;background:#f4f4f4}}
.{box} .off {{color:#bbb;border:1px solid #ddd;border-radius:3px;padding:0 8px}}
@supports selector(:has(a)) {{
.{box} label, .{box} .off {{display:inline !important}}
.{box} .view {{display:none}}
{shown} {{display:block}}
.{box}:not(:has(input:checked)) .v1 {{display:block}}
}}
"""
"""The pager's CSS, scoped to one display (``box``): a view shows while a radio input of its
class is checked. The browsers without ``:has`` and the front-ends that strip ``<style>`` (an
untrusted notebook in JupyterLab, GitHub) show every view, one after another, without the
◀ ▶ (hidden by their own ``style``, shown by this one)."""


def embedded(pages: Sequence[PageImage], budget: int = HTML_BUDGET) -> list[PageImage]:
    """The first of ``pages`` whose bytes fit ``budget`` together (at least the first page)."""
    kept: list[PageImage] = []
    used = 0
    for page in pages:
        used += len(page)
        if kept and used > budget:
            break
        kept.append(page)
    return kept


def _span(first: int, last: int) -> str:
    return f"page {first}" if first == last else f"pages {first}–{last}"


def paged_html(pages: Sequence[PageImage], total: int | None = None, *, per_view: int = 2) -> str:
    """The first ``pages`` of a document (``total`` pages in all) as HTML without script:
    ``per_view`` pages side by side, "pages k–l of N", and ◀ ▶ that show the other views (a
    radio input in a label each; CSS shows the view whose input is checked). At most
    :data:`HTML_PAGES` pages and :data:`HTML_BUDGET` bytes of images are embedded; the last
    view says which pages are not. Every text is escaped; the images are data URIs.

    >>> page = PageImage(b"\\x89PNG...", "png", 1)
    >>> shown = paged_html([page], total=3)
    >>> "page 1 of 3" in shown, "<script" in shown
    (True, False)
    """
    kept = embedded(pages[:HTML_PAGES])
    count = total if total is not None else len(pages)
    box = f"prp-{secrets.token_hex(4)}"  # unique among the displays of one notebook
    views = [kept[i : i + per_view] for i in range(0, len(kept), per_view)]

    def go(view: int, text: str, hint: str) -> str:
        """A label that shows ``view`` (from 1), or a dimmed one where there is none."""
        if not 1 <= view <= len(views):
            return f'<span class="off" style="display:none">{text}</span>'
        return (
            f'<label title="{html.escape(hint, quote=True)}" style="display:none"><input type="radio" name="{box}"'
            f' class="to{view}" style="display:none">{text}</label>'
        )

    parts = []
    for number, shown in enumerate(views, 1):
        first, last = shown[0].number, shown[-1].number
        caption = f"{_span(first, last)} of {count}"
        images = "".join(page_html(page, alt=f"page {page.number} of {count}") for page in shown)
        left = ""
        if number == len(views) and last < count:
            rest = f"{_span(last + 1, count)} of {count} not shown here: doc.page({last + 1}), or save the PDF"
            left = f' <small style="color:#666">({html.escape(rest)})</small>'
        before, after = go(number - 1, "◀", "the pages before"), go(number + 1, "▶", "the next pages")
        nav = f'<div style="margin:2px 4px">{before} {html.escape(caption)} {after}{left}</div>'
        parts.append(f'<div class="view v{number}"><div>{images}</div>{nav}</div>')
    shown_rules = ", ".join(f".{box}:has(.to{n}:checked) .v{n}" for n in range(1, len(views) + 1))
    style = PAGER_STYLE.format(box=box, shown=shown_rules)
    heading = f"<b>polarreports document</b>: {count} page{'s' if count != 1 else ''}"
    return f'<div class="{box}"><style>{style}</style><p>{heading}</p>{"".join(parts)}</div>'
