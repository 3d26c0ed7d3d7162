"""The text of a PDF object, cut into its literal strings and what lies between them, so that
what the join rewrites (references, parent-tree keys, IDs) is never looked for inside a string.

A literal string may hold balanced parentheses without escapes (Typst writes a link's URL
``(https://e.com/x(1 0 R))`` so): a regular expression cannot find where such a string ends,
so it is scanned here, parentheses counted and escapes skipped.

    >>> list(pieces(b"<</URI(a(1 0 R)b)/P 3 0 R>>"))
    [(False, b'<</URI'), (True, b'(a(1 0 R)b)'), (False, b'/P 3 0 R>>')]
    >>> outside_strings(b"/A 1 0 R(1 0 R)", lambda text: text.replace(b"1 0 R", b"9 0 R"))
    b'/A 9 0 R(1 0 R)'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

__all__ = ["between_strings", "outside_strings", "pieces"]

_OPEN, _CLOSE, _ESCAPE = ord("("), ord(")"), ord("\\")


def _string_end(data: bytes, start: int) -> int:
    """Where the literal string opening at ``start`` ends (just past its ``)``; the end of
    ``data`` if it never closes)."""
    depth, at, size = 0, start, len(data)
    while at < size:
        char = data[at]
        if char == _ESCAPE:
            at += 2
            continue
        if char == _OPEN:
            depth += 1
        elif char == _CLOSE:
            depth -= 1
            if depth == 0:
                return at + 1
        at += 1
    return size


def pieces(data: bytes) -> Iterator[tuple[bool, bytes]]:
    """``(is_string, text)`` for the literal strings of ``data`` and the text between them, in
    order (empty pieces left out). Hex strings (``<...>``) hold no parenthesis: they are part
    of the text between."""
    at = 0
    while at < len(data):
        start = data.find(b"(", at)
        if start < 0:
            yield False, data[at:]
            return
        if start > at:
            yield False, data[at:start]
        at = _string_end(data, start)
        yield True, data[start:at]


def outside_strings(data: bytes, change: Callable[[bytes], bytes]) -> bytes:
    """``data`` with ``change`` applied to the text between its literal strings."""
    if b"(" not in data:
        return change(data)
    return b"".join(text if is_string else change(text) for is_string, text in pieces(data))


def between_strings(data: bytes) -> Iterator[bytes]:
    """The text between the literal strings of ``data``."""
    if b"(" not in data:
        yield data
        return
    yield from (text for is_string, text in pieces(data) if not is_string)
