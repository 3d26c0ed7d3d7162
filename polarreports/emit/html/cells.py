"""One band instance's cells as HTML: each shown element of the band, in order, from the
instance's display strings ``c`` (the band stream's cells: the data cells' texts, then the
hidden choices of its style switches).

Every text goes through ``escape.text``; a link only through ``escape.url``; an image only as a
``data:`` URI of bytes polarreports read itself; a chart or a barcode only as SVG rebuilt by
``svg.clean`` (a barcode with its human-readable text under it); rich text (``markup:
markdown``) only as the tags ``markup.tree_html`` builds from its parsed tree.

    >>> from polarreports.definition.elements import Label
    >>> from polarreports.plan.model import Cell
    >>> label = Label(text="<b>Total</b>")
    >>> CellLayout(Cell(label, "x"), None, None, None, None, static_content(label, None)).content([], Assets({}))
    '&lt;b&gt;Total&lt;/b&gt;'
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from polarreports.definition.elements import Barcode, Box, Chart, Crosstab, Image, Label, Line, PageNumber, Subreport
from polarreports.emit.html import svg
from polarreports.emit.html.crosstab import crosstab_html
from polarreports.emit.html.escape import text, url
from polarreports.emit.html.markup import label_html, markdown_html
from polarreports.emit.html.subreports import subreport_html
from polarreports.plan.images import MISSING, image_format
from polarreports.plan.model import Cell

__all__ = ["Assets", "CellLayout", "data_uri"]

_MIME = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "svg": "image/svg+xml"}
_SIZED = re.compile(r'<svg([^>]*?) width="(\d+(?:\.\d+)?)" height="(\d+(?:\.\d+)?)"')
PLACEHOLDER = '<span class="missing">image missing</span>'


def data_uri(data: bytes) -> str | None:
    """An image's bytes as a ``data:`` URI (PNG, JPEG, GIF or SVG; None for anything else)."""
    kind = image_format(data)
    if kind is None:
        return None
    return f"data:{_MIME[kind]};base64,{base64.b64encode(data).decode('ascii')}"


@dataclass
class Assets:
    """The images of image columns by asset name, each turned into a ``data:`` URI once."""

    files: dict[str, bytes]
    uris: dict[str, str | None] = field(default_factory=dict)
    charts: itertools.count[int] = field(default_factory=itertools.count)
    """Numbers the charts of the page, for their ids' prefixes."""
    codes: dict[str, str | None] = field(default_factory=dict)
    """Each barcode's cleaned SVG by asset name (drawn once per distinct value, shown per row)."""

    def uri(self, name: str) -> str | None:
        if name not in self.uris:
            data = self.files.get(name)
            self.uris[name] = None if data is None else data_uri(data)
        return self.uris[name]


@dataclass(frozen=True)
class CellLayout:
    """How one shown element of a band is written: where its texts are in ``c``."""

    cell: Cell
    value: int | None
    """Index of its display string in ``c`` (None: a label, a line, a static image ...)."""
    link: int | None
    """Index of its link's URL in ``c``."""
    when: int | None
    """Index of its ``print_when`` ("1": shown) in ``c``."""
    switch: int | None
    """Index of its conditional style's choice in ``c``."""
    static: str
    """Its content when it does not depend on the instance (a label, a static image)."""

    plain: bool = field(init=False)
    """Whether the element shows its display string as it is (no link, condition, look of its
    own per instance, chart or image): the common case, written the fast way."""

    def __post_init__(self) -> None:
        plain = self.value is not None and self.link is None and self.when is None and self.switch is None
        special = isinstance(self.element, Chart | Crosstab | Image | Barcode | Subreport) or _rich(self.element)
        object.__setattr__(self, "plain", plain and not special)

    @property
    def element(self) -> Any:
        return self.cell.element

    def content(self, c: list[str], assets: Assets) -> str:
        """The element's HTML for one instance."""
        if self.when is not None and c[self.when] != "1":
            return ""
        element = self.element
        if self.value is None:
            body = self.static
        elif isinstance(element, Chart):
            body = _chart(element, c[self.value], assets)
        elif isinstance(element, Crosstab):
            body = crosstab_html(element, c[self.value])
        elif isinstance(element, Subreport):
            body = subreport_html(c[self.value])
        elif isinstance(element, Barcode):
            body = _barcode(element, c[self.value], assets)
        elif _rich(element):
            body = markdown_html(c[self.value], links=self.link is None)
        elif isinstance(element, Image):
            name = c[self.value]
            found = assets.uri(name) if name and name != MISSING else None
            body = f'<img src="{found}" alt="">' if found else PLACEHOLDER if name else ""
        else:
            body = text(c[self.value])
        if self.link is not None and body:
            target = url(c[self.link])
            if target:
                body = f'<a href="{target}" rel="noopener noreferrer">{body}</a>'
        return body


def static_content(element: object, image: bytes | None) -> str:
    """The content of an element that is the same in every instance."""
    if isinstance(element, Label):
        return label_html(element.text) if _rich(element) else text(element.text)
    if isinstance(element, Image):
        found = data_uri(image) if image is not None else None
        return f'<img src="{found}" alt="">' if found else PLACEHOLDER
    if isinstance(element, Line | Box):
        return '<span class="shape"></span>'
    if isinstance(element, PageNumber):
        return ""  # one page: no page numbers
    return ""


def _rich(element: object) -> bool:
    """Whether ``element`` shows rich text (``markup: markdown``)."""
    return getattr(element, "markup", "none") == "markdown"


def _barcode(barcode: Barcode, cell: str, assets: Assets) -> str:
    """A barcode cell (``{"a": asset, "t": text}``, see ``plan.barcodes``) as its SVG, rebuilt
    by ``svg.clean``, with its human-readable text (1D codes, unless ``text: false``); "" for
    an empty cell."""
    if not cell:
        return ""
    try:
        drawn = json.loads(cell)
        name, shown = str(drawn["a"]), str(drawn.get("t") or "")
    except (ValueError, KeyError, TypeError):
        return ""
    if name not in assets.codes:
        data = assets.files.get(name)
        source = re.sub(r"^\s*<\?xml[^>]*\?>", "", data.decode("utf-8", "replace")) if data is not None else ""
        if "viewBox" not in source:  # segno's QR codes: sized in modules; a viewBox lets CSS scale them
            source = _SIZED.sub(r'<svg\1 viewBox="0 0 \2 \3" width="\2" height="\3"', source, count=1)
        assets.codes[name] = svg.clean(source, f"b{len(assets.codes)}-") if source else None
    found = assets.codes[name]
    label = shown or barcode.symbology.upper()
    body = f'<div class="barcode" role="img" aria-label="{text(label)}">{found}</div>' if found else PLACEHOLDER
    return body + (f'<div class="barcode-text">{text(shown)}</div>' if shown and barcode.text else "")


def _chart(chart: Chart, cell: str, assets: Assets) -> str:
    try:
        drawn = json.loads(cell)
        found = svg.clean(str(drawn["svg"]), f"c{next(assets.charts)}-")
        alt = str(drawn.get("alt") or chart.alt or "")
    except (ValueError, KeyError, TypeError):
        found, alt = None, chart.alt or ""
    body = f'<div class="chart" role="img" aria-label="{text(alt)}">{found}</div>' if found else PLACEHOLDER
    if chart.caption:
        body += f'<div class="caption">{text(chart.caption)}</div>'
    return body
