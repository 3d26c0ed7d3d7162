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


def _css(look: dict[str, Any] | None, *, fill: str | None = None) -> str:
    """The inline style of a cell in ``look`` (the values checked by the definition, and escaped)."""
    look = look or {}
    rules = []
    if look.get("f"):
        rules.append(f"font-family:'{look['f']}'")
    if isinstance(look.get("z"), int | float):
        rules.append(f"font-size:{float(look['z']):g}pt")
    if look.get("b") is not None:
        rules.append(f"font-weight:{'bold' if look['b'] else 'normal'}")
    if look.get("i") is not None:
        rules.append(f"font-style:{'italic' if look['i'] else 'normal'}")
    if look.get("c"):
        rules.append(f"color:{look['c']}")
    if look.get("g") or fill:
        rules.append(f"background:{look.get('g') or fill}")
    return f' style="{text(";".join(rules))}"' if rules else ""


def _row(cells: list[Any], sub: dict[str, Any], tag: str, kind: str, *, nested: bool, fill: str | None = None) -> str:
    looks = sub.get("L") or []
    own = next((entry for entry in sub.get("lk") or [] if entry.get("k") == kind), None)
    fill = fill or (own or {}).get("g")
    shown = []
    for i, value in enumerate(cells):
        align = _ALIGN.get(sub["a"][i] if i < len(sub["a"]) else "", "")
        look = looks[own["l"][i]] if own and i < len(own["l"]) and own["l"][i] < len(looks) else None
        inner = ""
        if isinstance(value, str):
            inner = subreport_html(value) if nested and i < len(sub["s"]) and sub["s"][i] else text(value)
        shown.append(f"<{tag}{align}{_css(look, fill=fill)}>{inner}</{tag}>")
    return "<tr>" + "".join(shown) + "</tr>"


def subreport_html(cell: str) -> str:
    """The nested table of one master row or group ("" where it has no rows), in the
    subreport's own looks (``L``, ``lk``, ``x``: see ``compute.subreports``)."""
    if not cell:
        return ""
    try:
        sub = json.loads(cell)
    except ValueError:
        return ""
    extra = sub.get("x") or {}
    size = extra.get("z")
    sized = f' style="font-size:{float(size):g}pt"' if isinstance(size, int | float) else ""
    parts = [f'<table class="subreport"{sized}>']
    if sub.get("h"):
        parts.append("<thead>" + _row(sub["h"], sub, "th", "c", nested=False) + "</thead>")
    kinds = sub.get("k") or []
    body = []
    plain = 0
    for j, row in enumerate(sub.get("r", [])):
        kind = kinds[j] if j < len(kinds) else "d"
        group_row = kind != "d"  # a group's header or footer
        stripe = extra.get("stripe") if not group_row and plain % 2 else None
        plain += not group_row
        body.append(_row(row, sub, "th" if group_row else "td", kind, nested=not group_row, fill=stripe))
    parts.append("<tbody>" + "".join(body) + "</tbody>")
    if sub.get("t"):
        parts.append("<tfoot>" + _row(sub["t"], sub, "td", "t", nested=False) + "</tfoot>")
    parts.append("</table>")
    return "".join(parts)
