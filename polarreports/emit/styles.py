"""Typst code for looks: text settings, band blocks, and the tables of looks that a band or
element chooses from per instance (zebra stripes, conditional styles).

A switch's choice arrives as a hidden cell of the band instance ("0", "1", ..., computed by
Polars); the band reads ``looks.at(c.at(n))`` from a dictionary written once, so a striped or
conditionally styled row costs Typst one dictionary lookup, not a computation.

    >>> from polarreports.plan.styles import Look
    >>> text_options(Look(bold=True, size=9, color="#b00020"))
    ['weight: "bold"', 'size: 9pt', 'fill: rgb("#b00020")']
"""

from __future__ import annotations

from collections.abc import Sequence

from polarreports.definition.styles import SHIPPED_FONTS, parse_stroke
from polarreports.emit.escape import typst_string
from polarreports.plan.model import BandPlan
from polarreports.plan.styles import Look, Switch

__all__ = [
    "DEFAULT_PADDING",
    "LOGO_HEIGHT",
    "band_options",
    "box_options",
    "logo_asset",
    "looks_table",
    "text_call",
    "text_options",
    "text_varies",
    "typst_dict",
]

DEFAULT_PADDING = "1.5pt"
"""A band's padding when neither it nor its style gives one."""
LOGO_HEIGHT = "11mm"
_SIDES = ("top", "bottom", "left", "right")


def text_options(look: Look) -> list[str]:
    """The ``text()`` arguments of a look's text settings (none for an empty look)."""
    options = []
    if look.font is not None:
        # the chosen family first, the shipped ones after it for characters it lacks
        fonts = [look.font, *(f for f in SHIPPED_FONTS if f != look.font)]
        options.append(f"font: ({', '.join(typst_string(f) for f in fonts)})")
    if look.bold is not None:
        options.append('weight: "bold"' if look.bold else 'weight: "regular"')
    if look.italic is not None:
        options.append('style: "italic"' if look.italic else 'style: "normal"')
    if look.size is not None:
        options.append(f"size: {look.size}pt")
    if look.color is not None:
        options.append(f"fill: rgb({typst_string(look.color)})")
    return options


def _stroke(text: str) -> str:
    width, color = parse_stroke(text)
    return f"{width:g}pt + {'rgb(' + typst_string(color) + ')' if color else 'luma(110)'}"


def _strokes(look: Look) -> str | None:
    border = dict(look.border)
    sides = [f"{side}: {_stroke(border[side])}" for side in _SIDES if side in border]
    return f"({', '.join(sides)})" if sides else None


def band_options(band: BandPlan, look: Look, gutter: str) -> list[str]:
    """The ``block()`` arguments of a band with ``look``."""
    definition = band.band
    options = ["width: 100%", f"inset: (x: {gutter} / 2, y: {look.padding or DEFAULT_PADDING})"]
    if band.kind == "group_header":
        options.append("sticky: true")
    if definition.space_after != "0pt":
        options.append(f"below: {definition.space_after}")
    if look.fill:
        options.append(f"fill: rgb({typst_string(look.fill)})")
    strokes = _strokes(look)
    if strokes:
        options.append(f"stroke: {strokes}")
    return options


def box_options(look: Look, padding: str, gutter: str) -> str:
    """Extra ``box()`` arguments of an element whose style fills or frames its cell (the frame
    reaches out to the cell's edges without changing the layout)."""
    options = []
    if look.fill:
        options.append(f"fill: rgb({typst_string(look.fill)})")
    strokes = _strokes(look)
    if strokes:
        options.append(f"stroke: {strokes}")
    if options:
        options.append(f"outset: (x: {gutter} / 2, y: {padding})")
    return "".join(f", {o}" for o in options)


def typst_dict(options: Sequence[str]) -> str:
    """A Typst dictionary of named arguments (``(:)`` when there are none)."""
    return "(" + ", ".join(options) + ")" if options else "(:)"


def looks_table(values: Sequence[str]) -> str:
    """A Typst dictionary from look index ("0", "1", ...) to ``values[i]``."""
    return "(" + ", ".join(f'"{i}": {value}' for i, value in enumerate(values)) + ")"


def text_varies(switch: Switch | None) -> bool:
    return switch is not None and len({look.text for look in switch.looks}) > 1


def text_call(look: Look, body: str) -> str:
    options = text_options(look)
    return f"text({', '.join(options)}, {body})" if options else body


def logo_asset(name: str) -> str:
    """The Typst code that shows the theme's logo, stored under ``name``: our asset name (from
    the hash of its bytes, read at plan time), never a path the definition gave."""
    return f"image({typst_string('/' + name)}, height: {LOGO_HEIGHT})"
