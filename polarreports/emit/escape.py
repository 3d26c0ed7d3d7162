"""The one way text enters generated Typst code: as an escaped string literal, or a comment.

Every string from a definition (the report's name, labels, group names, colours, font names)
reaches the Typst source through :func:`typst_string` or :func:`comment`; data never does (it is
read from the JSON data file). Typst ends a line at ``\\n``, ``\\r``, U+0085, U+2028 and U+2029,
so those, every other control character and anything that is not a character (a lone
surrogate) are written as escapes, and a comment can never spill onto a line of code.

    >>> typst_string('say "hi" #x')
    '"say \\\\"hi\\\\" #x"'
    >>> typst_string("a\\u2028#panic()")
    '"a\\\\u{2028}#panic()"'
    >>> comment("region\\u2029#panic()")
    '// "region\\\\u{2029}#panic()"'
"""

from __future__ import annotations

import unicodedata

__all__ = ["comment", "typst_string"]

_ESCAPED = {"\\": "\\\\", '"': '\\"'}
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x85\u2028\u2029")


def _escape(char: str) -> str:
    if char in _ESCAPED:
        return _ESCAPED[char]
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:  # a lone surrogate (from surrogateescape): not a character
        return "\\u{fffd}"
    if char in _LINE_BREAKS or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
        return f"\\u{{{code:x}}}"
    return char


def typst_string(text: str) -> str:
    """A Typst string literal whose value is exactly ``text`` (a lone surrogate becomes U+FFFD)."""
    return '"' + "".join(_escape(char) for char in text) + '"'


def comment(text: str) -> str:
    """A Typst line comment showing ``text``, which can never end the line early."""
    return "// " + typst_string(text)
