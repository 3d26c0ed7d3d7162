"""The one way text enters generated HTML: :func:`text` (element content and attribute values
alike), plus the checks that let a URL, a colour or a length of the definition into an attribute.

Every string from the data or the definition (values, group keys, labels, parameters, the
title, alt texts) goes through :func:`text`: ``html.escape`` with quotes, and every character
that HTML forbids or that is no character (controls, noncharacters, lone surrogates) becomes
U+FFFD, so no value can open a tag, end an attribute or hide in the source.

    >>> text('<script>alert("x")</script>')
    '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'
    >>> text("a\\x00b\\x1bc")
    'a\\ufffdb\\ufffdc'
    >>> url("javascript:alert(1)"), url("https://example.com/?a=1&b=2")
    ('', 'https://example.com/?a=1&amp;b=2')
"""

from __future__ import annotations

import html
import re

__all__ = ["color", "text", "url"]

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
"""Controls (but tab, line feed and carriage return), lone surrogates and noncharacters."""
_SPECIAL = re.compile(_FORBIDDEN.pattern[:-1] + "&<>\"']")
"""Any character that ``text`` changes (most values have none: they are returned as they are)."""
_URL = re.compile(r"(?i)^(?:https?://|mailto:)[^\s\x00-\x1f\x7f]*$")
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


def text(value: str) -> str:
    """``value`` as HTML text, safe in element content and in a quoted attribute value."""
    if _SPECIAL.search(value) is None:
        return value
    return html.escape(_FORBIDDEN.sub("\ufffd", value), quote=True)


def url(value: str) -> str:
    """An ``http``, ``https`` or ``mailto`` URL, escaped for an ``href``; "" for anything else
    (the stream keeps only those, see ``plan.navigation.link_url``: this checks again)."""
    value = value.strip()
    return text(value) if _URL.match(value) else ""


def color(value: str | None) -> str | None:
    """A hex colour of the definition (checked there; checked again here), else None.

    >>> color("#1f4e79"), color("red;background:url(x)")
    ('#1f4e79', None)
    """
    return value if value is not None and _COLOR.match(value) else None
