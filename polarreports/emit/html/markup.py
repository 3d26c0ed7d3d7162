"""Rich text (``markup: markdown``) as HTML, built from the parsed tree of ``compute.markup``
(never from the Markdown text itself): every text node passes ``escape.text``, a link only an
``http``, ``https`` or ``mailto`` URL (``escape.url``), and any node kind it does not know
is dropped, so no value can become markup.

    >>> tree_html([["p", [["b", ["<Total>"]], " due"]], ["ul", [[["p", ["one"]]]]]])
    '<p><strong>&lt;Total&gt;</strong> due</p><ul><li>one</li></ul>'
    >>> markdown_html('[[\"p\",[[\"a\",\"javascript:x()\",[\"click\"]]]]]')
    'click'
    >>> markdown_html("plain <text>")  # a display string that is no tree: escaped text
    'plain &lt;text&gt;'
"""

from __future__ import annotations

import functools
import json
from typing import Any

from polarreports.compute.markup import MAX_DEPTH, markdown_tree
from polarreports.emit.html.escape import text, url

__all__ = ["label_html", "markdown_html", "tree_html"]


def _item(nodes: Any, depth: int, links: bool) -> str:
    """A list item: a lone paragraph shows without its ``<p>``."""
    if isinstance(nodes, list) and len(nodes) == 1 and isinstance(nodes[0], list) and nodes[0][:1] == ["p"]:
        return tree_html(nodes[0][1], depth + 1, links=links)
    return tree_html(nodes, depth + 1, links=links)


def tree_html(nodes: Any, depth: int = 0, *, links: bool = True) -> str:
    """The HTML of a tree's ``nodes`` (see ``compute.markup``); without ``links``, a link is its
    text (inside an element's own link: HTML has no link in a link)."""
    if not isinstance(nodes, list) or depth > 2 * MAX_DEPTH + 4:
        return ""
    parts = []
    for node in nodes:
        if isinstance(node, str):
            parts.append(text(node))
            continue
        if not isinstance(node, list) or not node or not isinstance(node[0], str):
            continue
        kind, rest = node[0], node[1:]
        if kind == "br":
            parts.append("<br>")
        elif kind in ("p", "b", "i") and rest:
            tag = {"p": "p", "b": "strong", "i": "em"}[kind]
            parts.append(f"<{tag}>{tree_html(rest[0], depth + 1, links=links)}</{tag}>")
        elif kind == "a" and len(rest) == 2 and isinstance(rest[0], str):
            inner, target = tree_html(rest[1], depth + 1, links=links), url(rest[0]) if links else ""
            parts.append(f'<a href="{target}" rel="noopener noreferrer">{inner}</a>' if target else inner)
        elif kind == "ul" and rest and isinstance(rest[0], list):
            parts.append("<ul>" + "".join(f"<li>{_item(item, depth, links)}</li>" for item in rest[0]) + "</ul>")
        elif kind == "ol" and len(rest) == 2 and isinstance(rest[1], list):
            start = rest[0] if isinstance(rest[0], int) and not isinstance(rest[0], bool) else 1
            items = "".join(f"<li>{_item(item, depth, links)}</li>" for item in rest[1])
            parts.append(f'<ol start="{start}">{items}</ol>')
    return "".join(parts)


def _cell_html(nodes: Any, links: bool = True) -> str:
    """A whole text: a lone paragraph without its ``<p>`` (inline content, as in a heading or a
    table cell, where a ``<p>`` may not go or would add margins)."""
    if isinstance(nodes, list) and len(nodes) == 1 and isinstance(nodes[0], list) and nodes[0][:1] == ["p"]:
        return tree_html(nodes[0][1] if len(nodes[0]) > 1 else [], links=links)
    return tree_html(nodes, links=links)


@functools.lru_cache(maxsize=4096)
def markdown_html(cell: str, *, links: bool = True) -> str:
    """A rich-text cell's display string (its tree's JSON) as HTML; a string that is no tree
    shows as escaped text. Without ``links``, its links are their text. Cached by value (a
    column of many rows holds few distinct texts).

    >>> markdown_html('[["p",[["a","https://a.org",["a"]]]]]', links=False)
    'a'
    """
    if not cell.startswith("["):
        return text(cell)
    try:
        return _cell_html(json.loads(cell), links)
    except ValueError:
        return text(cell)


def label_html(markdown: str) -> str:
    """A Markdown label's HTML.

    >>> label_html("**Total** due")
    '<strong>Total</strong> due'
    """
    return _cell_html(markdown_tree(markdown))
