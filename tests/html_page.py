"""Reading an HTML page back as a browser's parser does (``html.parser``): its tags, attributes
and text, for the HTML tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import polarreports as pr


@dataclass
class Page:
    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    """The text of each element (in the order of ``tags``), its children's included."""
    raw: str = ""


class _Reader(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.tags.append((tag, dict(attrs)))
        self.page.texts.append("")
        if tag not in _VOID:
            self.open.append(len(self.page.texts) - 1)

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            at = self.open.pop()
            if self.page.tags[at][0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for at in self.open:  # an element's text includes its children's
            self.page.texts[at] += data


_VOID = {"meta", "col", "img", "br", "hr", "link", "input"}


def read_page(html: str) -> Page:
    page = Page(raw=html)
    _Reader(page).feed(html)
    return page


def saved_html(document: pr.Document, folder: object) -> str:
    from pathlib import Path

    path = Path(str(folder)) / "report.html"
    document.save(path)
    return path.read_bytes().decode()  # as written: no newline translation
