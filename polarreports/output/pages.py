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
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable

__all__ = ["PageImage", "Pages", "page_html"]

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
