"""A subreport in the HTML page: a nested ``<table>`` from its JSON text, every string
through :func:`~polarreports.emit.html.escape.text`.

    >>> cell = '{"h":[],"r":[["<b>1</b>"]],"t":[],"a":["right"],"s":[false],"wn":[1],"wu":["fr"]}'
    >>> subreport_html(cell)
    '<table class="subreport"><tbody><tr><td class="r">&lt;b&gt;1&lt;/b&gt;</td></tr></tbody></table>'
"""

from __future__ import annotations

import json
from typing import Any

from polarreports.emit.html.escape import text

__all__ = ["subreport_html"]

_ALIGN = {"right": ' class="r"', "center": ' class="c"'}


def _row(cells: list[Any], sub: dict[str, Any], tag: str, *, nested: bool) -> str:
    shown = []
    for i, value in enumerate(cells):
        align = _ALIGN.get(sub["a"][i] if i < len(sub["a"]) else "", "")
        inner = ""
        if isinstance(value, str):
            inner = subreport_html(value) if nested and i < len(sub["s"]) and sub["s"][i] else text(value)
        shown.append(f"<{tag}{align}>{inner}</{tag}>")
    return "<tr>" + "".join(shown) + "</tr>"


def subreport_html(cell: str) -> str:
    """The nested table of one master row or group ("" where it has no rows)."""
    if not cell:
        return ""
    try:
        sub = json.loads(cell)
    except ValueError:
        return ""
    parts = ['<table class="subreport">']
    if sub.get("h"):
        parts.append("<thead>" + _row(sub["h"], sub, "th", nested=False) + "</thead>")
    kinds = sub.get("k") or []
    body = []
    for j, row in enumerate(sub.get("r", [])):
        group_row = j < len(kinds) and kinds[j] != "d"  # a group's header or footer
        body.append(_row(row, sub, "th" if group_row else "td", nested=not group_row))
    parts.append("<tbody>" + "".join(body) + "</tbody>")
    if sub.get("t"):
        parts.append("<tfoot>" + _row(sub["t"], sub, "td", nested=False) + "</tfoot>")
    parts.append("</table>")
    return "".join(parts)
