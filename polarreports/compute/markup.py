"""Rich text: a safe Markdown subset parsed into a small tree of data, never into Typst code.

``markup: markdown`` on a label, field or expression shows **bold**, *italic*, links
(``[text](https://...)``; only http, https and mailto URLs link), line breaks (each newline)
and bullet and numbered lists. Everything else (headings, code, HTML, images, tables) stays
the text it was. The text is parsed by markdown-it-py (CommonMark, its "zero" preset with just
those rules on) into a tree of JSON data, which a fixed Typst function (``emit.markup``) turns
into content: a text node is a Typst *string* shown as it is, so no value can become Typst
markup or code, whatever it holds.

A node is a string (text) or a list: ``["b", nodes]``, ``["i", nodes]``, ``["a", url, nodes]``,
``["br"]``, ``["p", nodes]``, ``["ul", [nodes, ...]]``, ``["ol", start, [nodes, ...]]``.

    >>> markdown_tree("**Total** due: *now*")
    [['p', [['b', ['Total']], ' due: ', ['i', ['now']]]]]
    >>> markdown_tree("[site](ftp://example.org) #panic()")
    [['p', ['site', ' #panic()']]]
    >>> markdown_tree("- one\\n- two")
    [['ul', [[['p', ['one']]], [['p', ['two']]]]]]

Outputs that hold plain text (spreadsheets, data exports) show the tree as text (``tree_text``):
no markers, a line per line break, list items on lines of their own:

    >>> plain_text(markdown_json("**Total** due: [now](https://x.org)\\n- one\\n- two"))
    'Total due: now (https://x.org)\\n• one\\n• two'
"""

from __future__ import annotations

import functools
import json
from typing import Any

import polars as pl

__all__ = [
    "MAX_DEPTH",
    "MAX_MARKUP_CHARS",
    "markdown_json",
    "markdown_series",
    "markdown_text",
    "markdown_tree",
    "plain_series",
    "plain_text",
    "tree_text",
]

MAX_DEPTH = 16
"""The deepest nesting kept (lists in lists, bold in italic, ...); deeper markup shows as text."""
MAX_MARKUP_CHARS = 100_000
"""Longer values are not parsed: they show as plain text (in one text node)."""
_SCHEMES = ("http://", "https://", "mailto:")


@functools.cache
def _parser() -> Any:
    from markdown_it import MarkdownIt

    parser = MarkdownIt("zero", {"breaks": True, "html": False, "linkify": False, "maxNesting": MAX_DEPTH})
    return parser.enable(["emphasis", "link", "newline", "list", "escape", "entity"])


def _linkable(url: str) -> bool:
    return url.strip().lower().startswith(_SCHEMES)


def _inline(tokens: list[Any]) -> list[Any]:
    """The nodes of an inline token's children."""
    root: list[Any] = []
    stack: list[list[Any]] = [root]
    for token in tokens:
        kind = token.type
        if kind in ("text", "html_inline"):
            if token.content:
                stack[-1].append(token.content)
        elif kind in {"softbreak", "hardbreak"}:
            stack[-1].append(["br"])
        elif kind in ("strong_open", "em_open"):
            node: list[Any] = []
            stack[-1].append(["b" if kind == "strong_open" else "i", node])
            stack.append(node)
        elif kind == "link_open":
            node = []
            href = str(token.attrGet("href") or "")
            stack[-1].append(["a", href, node] if _linkable(href) else ["span", node])
            stack.append(node)
        elif kind in ("strong_close", "em_close", "link_close") and len(stack) > 1:
            stack.pop()
        elif kind == "image":  # images are off; kept as their text, should a rule let one through
            stack[-1].append(token.content)
    return _unspan(root)


def _unspan(nodes: list[Any]) -> list[Any]:
    """A link that may not link is its text (``["span", nodes]`` flattened)."""
    out: list[Any] = []
    for node in nodes:
        if isinstance(node, list) and node[0] == "span":
            out.extend(_unspan(node[1]))
        elif isinstance(node, list) and node[0] in ("b", "i"):
            out.append([node[0], _unspan(node[1])])
        elif isinstance(node, list) and node[0] == "a":
            out.append(["a", node[1], _unspan(node[2])])
        else:
            out.append(node)
    return out


def _blocks(tokens: list[Any], start: int, end: int) -> list[Any]:
    """The nodes of block tokens ``start`` .. ``end``."""
    nodes: list[Any] = []
    i = start
    while i < end:
        token = tokens[i]
        if token.type == "inline":
            nodes.append(["p", _inline(token.children or [])])
        elif token.type in ("bullet_list_open", "ordered_list_open", "list_item_open"):
            close = _closing(tokens, i)
            if token.type == "list_item_open":
                nodes.append(_blocks(tokens, i + 1, close))
            else:
                items = _blocks(tokens, i + 1, close)
                if token.type == "bullet_list_open":
                    nodes.append(["ul", items])
                else:
                    nodes.append(["ol", min(int(token.attrGet("start") or 1), 10**9), items])
            i = close
        i += 1
    return nodes


def _closing(tokens: list[Any], i: int) -> int:
    """The index of the token that closes ``tokens[i]``."""
    depth = 0
    for j in range(i, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j
    return len(tokens) - 1


def markdown_tree(text: str) -> list[Any]:
    """The tree of ``text`` (see the module's docstring)."""
    if len(text) > MAX_MARKUP_CHARS:
        return [["p", [text]]]
    tokens = _parser().parse(text)
    return _blocks(tokens, 0, len(tokens))


@functools.lru_cache(maxsize=4096)
def markdown_json(text: str) -> str:
    """``markdown_tree(text)`` as compact JSON (what a cell carries); cached by value."""
    return json.dumps(markdown_tree(text), ensure_ascii=False, separators=(",", ":"))


def markdown_series(values: pl.Series) -> pl.Series:
    """Each display string of ``values`` as its tree's JSON, parsing each distinct value once
    (a column of 100,000 rows with 300 distinct texts is parsed 300 times)."""
    distinct = values.drop_nulls().unique()
    trees = pl.Series([markdown_json(value) for value in distinct.to_list()], dtype=pl.String)
    return values.replace_strict(distinct, trees, default="[]", return_dtype=pl.String)


def _inline_text(nodes: Any, depth: int) -> str:
    if not isinstance(nodes, list) or depth > 2 * MAX_DEPTH + 4:
        return ""
    parts = []
    for node in nodes:
        if isinstance(node, str):
            parts.append(node)
        elif isinstance(node, list) and node and node[0] == "br":
            parts.append("\n")
        elif isinstance(node, list) and len(node) == 2 and node[0] in ("b", "i", "p"):
            parts.append(_inline_text(node[1], depth + 1))
        elif isinstance(node, list) and len(node) == 3 and node[0] == "a":
            shown = _inline_text(node[2], depth + 1)
            parts.append(shown if shown == str(node[1]) else f"{shown} ({node[1]})")
        elif isinstance(node, list) and node and node[0] in ("ul", "ol"):
            parts.append(tree_text([node], depth + 1))
    return "".join(parts)


def tree_text(nodes: Any, depth: int = 0) -> str:
    """A tree's ``nodes`` as plain text (paragraphs and list items on lines of their own)."""
    if not isinstance(nodes, list):
        return ""
    lines: list[str] = []
    for node in nodes:
        if isinstance(node, list) and node and node[0] == "ul" and len(node) == 2:
            lines.extend("\u2022 " + tree_text(item, depth + 1) for item in node[1])
        elif isinstance(node, list) and node and node[0] == "ol" and len(node) == 3:
            start = node[1] if isinstance(node[1], int) else 1
            lines.extend(f"{start + k}. " + tree_text(item, depth + 1) for k, item in enumerate(node[2]))
        else:
            lines.append(_inline_text([node], depth))
    return "\n".join(lines)


def plain_text(cell: str) -> str:
    """A rich-text cell's display string (its tree's JSON) as plain text; a string that is no
    tree (or a null's text) as it is."""
    if not cell.startswith("["):
        return cell
    try:
        return tree_text(json.loads(cell))
    except ValueError:
        return cell


def markdown_text(text: str) -> str:
    """Markdown ``text`` as the plain text it shows (a label's text in a spreadsheet)."""
    return tree_text(markdown_tree(text))


def plain_series(cells: pl.Series) -> pl.Series:
    """``plain_text`` of each cell, each distinct one once."""
    distinct = cells.drop_nulls().unique()
    texts = pl.Series([plain_text(cell) for cell in distinct.to_list()], dtype=pl.String)
    return cells.replace_strict(distinct, texts, default=None, return_dtype=pl.String)
