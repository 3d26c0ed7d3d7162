"""Typst code for the boxes of cells: placed at a position, or one line tall and clipped.

>>> one_line_box("20pt", "[x]").startswith("box(width: 20pt, height: ")
True
"""

from __future__ import annotations

from polarreports.compute.metrics import font_widths, text_font
from polarreports.definition.elements import Element

__all__ = ["one_line_box", "place"]


def place(element: Element, box: str) -> str:
    """An element's box at its declared position inside its band."""
    return f"place(top + left, dx: {element.x}, dy: {element.y}, {box})"


def one_line_box(width: str, body: str) -> str:
    """A cell of one line's height that clips its content at its edges (Typst)."""
    cap = font_widths(text_font(bold=False, italic=False)).cap_height
    return f"box(width: {width}, height: {cap:.8f}em, clip: true, outset: (y: 0.3em), {body})"
