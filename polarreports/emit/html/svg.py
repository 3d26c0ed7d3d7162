"""Charts as inline SVG, rebuilt from an allow-list: the SVG comes from vl-convert, but is
treated as untrusted. Only drawing elements and presentation attributes pass; no script, no
event handler, no ``foreignObject``, no reference outside the chart (``href`` and ``url()`` may
only name an ``#id`` of the same chart, and ids get a prefix of their own, so that the charts of
one page never collide). Every name and value is written out again through ``escape.text``.

    >>> clean('<svg xmlns="http://www.w3.org/2000/svg" onload="x()"><script>x()</script>'
    ...       '<rect id="a" fill="url(#a)"/><text>1 &lt; 2</text></svg>', "c1-")
    '<svg xmlns="http://www.w3.org/2000/svg"><rect id="c1-a" fill="url(#c1-a)"/><text>1 &lt; 2</text></svg>'
    >>> clean("<svg><image href='https://evil.example/x.png'/></svg>", "c2-") is None
    False
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from polarreports.emit.html.escape import text

__all__ = ["clean"]

_SVG = "{http://www.w3.org/2000/svg}"
_XLINK = "{http://www.w3.org/1999/xlink}"
_ELEMENTS = frozenset({
    "svg", "g", "path", "line", "rect", "circle", "ellipse", "polyline", "polygon", "text", "tspan", "title",
    "desc", "defs", "clipPath", "linearGradient", "radialGradient", "stop", "pattern", "mask", "use", "symbol",
    "marker",
})  # fmt: skip
_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.-]*(?::[a-zA-Z][a-zA-Z0-9_.-]*)?$")
_ID = re.compile(r"^[A-Za-z0-9_.:-]+$")
_URL_REF = re.compile(r"url\(\s*['\"]?#([A-Za-z0-9_.:-]+)['\"]?\s*\)")
_ANY_URL = re.compile(r"url\s*\(", re.IGNORECASE)
_FORBIDDEN_VALUE = re.compile(r"javascript:|expression\s*\(|@import|\\", re.IGNORECASE)
_MAX_DEPTH = 64


def clean(svg: str, prefix: str) -> str | None:
    """The SVG rebuilt from allowed parts only, its ids prefixed with ``prefix``; None if it is
    no SVG (not well-formed, a DOCTYPE or entity, another root)."""
    if "<!DOCTYPE" in svg.upper() or "<!ENTITY" in svg.upper():
        return None
    try:
        root = ET.fromstring(svg)  # no DOCTYPE, so no entity to expand
    except ET.ParseError:
        return None
    if _local(root.tag) != "svg":
        return None
    parts: list[str] = []
    _element(root, prefix, parts, 0)
    return "".join(parts)


def _local(tag: str) -> str | None:
    if tag.startswith(_SVG):
        return tag[len(_SVG) :]
    return None if tag.startswith("{") else tag


def _attribute(name: str, value: str, prefix: str) -> tuple[str, str] | None:
    if name.startswith(_XLINK):
        name = name[len(_XLINK) :]
    elif name.startswith("{"):
        return None
    if not _NAME.match(name) or name.lower().startswith("on") or name.lower() in ("src", "xmlns", "style"):
        return None
    if _FORBIDDEN_VALUE.search(value):
        return None
    if name == "href":
        return ("href", "#" + prefix + value[1:]) if value.startswith("#") else None
    if name == "id":
        return ("id", prefix + value) if _ID.match(value) else None
    if _ANY_URL.search(value):
        if len(_ANY_URL.findall(value)) != len(_URL_REF.findall(value)):
            return None  # a url() to something other than an #id of this chart
        value = _URL_REF.sub(lambda m: f"url(#{prefix}{m.group(1)})", value)
    return name, value


def _element(node: ET.Element, prefix: str, parts: list[str], depth: int) -> None:
    name = _local(node.tag) if isinstance(node.tag, str) else None
    if name not in _ELEMENTS or depth > _MAX_DEPTH:
        return
    attributes = [kept for key, value in node.attrib.items() if (kept := _attribute(key, value, prefix)) is not None]
    opening = "".join(f' {key}="{text(value)}"' for key, value in attributes)
    if depth == 0:
        opening = ' xmlns="http://www.w3.org/2000/svg"' + opening
    children: list[str] = []
    if node.text:
        children.append(text(node.text))
    for child in node:
        _element(child, prefix, children, depth + 1)
        if child.tail:
            children.append(text(child.tail))
    if children:
        parts.append(f"<{name}{opening}>{''.join(children)}</{name}>")
    else:
        parts.append(f"<{name}{opening}/>")
