"""The report's look as CSS: the page, the theme's and the definition's styles (fonts, sizes,
bold, italic, colours, fills, borders, padding), one rule per band and element, and one class
per look a switch can choose (zebra stripes, conditional styles), so that a row names its look
with a class instead of carrying styles.

Lengths become points through ``units.to_points`` and colours pass ``escape.color``, so nothing
of the definition reaches the stylesheet but numbers, hex colours and shipped font names.

    >>> from polarreports.plan.styles import Look
    >>> declarations(Look(bold=True, size=9, color="#b00020", border=(("bottom", "0.5pt #888"),)))
    'font-weight:700;font-size:9pt;color:#b00020;border-bottom:0.5pt solid #888'
"""

from __future__ import annotations

from polarreports.definition.styles import SHIPPED_FONTS, parse_stroke
from polarreports.emit.html.escape import color
from polarreports.plan.styles import Look
from polarreports.units import to_points

__all__ = ["FONT_STACK", "declarations", "length", "padding", "stroke"]

FONT_STACK = '"Inter", "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif'
"""The report's font (Inter) where the reader has it, then look-alikes; DejaVu Sans (the
report's fallback) for the characters they lack."""
DEFAULT_RULE = "#6e6e6e"
"""A stroke without a colour: Typst's ``luma(110)``."""


def length(value: str | None, *, whole: float = 0.0, font_size: float = 10.0) -> str:
    """A definition length in CSS points (``whole`` for ``%`` and ``fr``)."""
    return f"{to_points(value, whole=whole, font_size=font_size):.2f}pt"


def stroke(value: str) -> str:
    """A definition stroke (``"0.5pt #888"``) as a CSS border."""
    width, colour = parse_stroke(value)
    return f"{width:g}pt solid {color(colour) or DEFAULT_RULE}"


def padding(look: Look, font_size: float, default: str) -> str:
    return length(look.padding or default, font_size=font_size)


def declarations(look: Look, *, font_size: float = 10.0, text_only: bool = False) -> str:
    """CSS declarations of a look (its box settings too, unless ``text_only``)."""
    found = []
    if look.font is not None and look.font in SHIPPED_FONTS:
        found.append(f'font-family:"{look.font}", var(--fonts)')
    if look.bold is not None:
        found.append(f"font-weight:{700 if look.bold else 400}")
    if look.italic is not None:
        found.append(f"font-style:{'italic' if look.italic else 'normal'}")
    if look.size is not None:
        found.append(f"font-size:{float(look.size):g}pt")
    if color(look.color):
        found.append(f"color:{look.color}")
    if not text_only:
        if color(look.fill):
            found.append(f"background-color:{look.fill}")
        found.extend(f"border-{side}:{stroke(value)}" for side, value in look.border if side in _SIDES)
    return ";".join(found)


_SIDES = ("top", "bottom", "left", "right")
