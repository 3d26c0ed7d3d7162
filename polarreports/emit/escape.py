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

import re

__all__ = ["comment", "typst_string"]

_ESCAPED = {"\\": "\\\\", '"': '\\"'}
_NEEDS_ESCAPE = re.compile(
    '[\\\\"\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff'  # quotes, controls, line breaks, surrogates
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"  # bidirectional controls, byte order mark
)
"""The characters written as escapes; everything else stands as it is (one regular expression,
so a label of megabytes is escaped in milliseconds)."""


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _ESCAPED:
        return _ESCAPED[char]
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:  # a lone surrogate (from surrogateescape): not a character
        return "\\u{fffd}"
    return f"\\u{{{code:x}}}"


def typst_string(text: str) -> str:
    """A Typst string literal whose value is exactly ``text`` (a lone surrogate becomes U+FFFD)."""
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def comment(text: str) -> str:
    """A Typst line comment showing ``text``, which can never end the line early."""
    return "// " + typst_string(text)
