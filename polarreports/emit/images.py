"""The Typst code of image elements: a file or bytes given in the definition, or one image per
row or group from a column (whose cells hold OUR asset names, see ``data.images``).

Typst's ``image()`` only ever reads a path we chose: ``/assets/<hash>.<format>``, a file we
wrote into the compile root. A missing image with ``on_missing: placeholder`` is a light box
saying so.
"""

from __future__ import annotations

from pathlib import Path

from polarreports.definition.elements import Barcode, Image
from polarreports.plan.barcodes import TWO_D
from polarreports.plan.images import MISSING, static_asset
from polarreports.plan.model import ReportPlan

__all__ = ["IMAGE_PRELUDE", "PLACEHOLDER_TEXT", "barcode_image", "column_image", "static_image"]

PLACEHOLDER_TEXT = "image missing"
IMAGE_PRELUDE = (
    "#let missing-image(height) = box(width: 100%, height: height, fill: luma(244), "
    "stroke: 0.5pt + luma(180), inset: 1pt, clip: true, "
    f'place(center + horizon, text(size: 0.75em, fill: luma(100), "{PLACEHOLDER_TEXT}")))'
)
"""Defines ``missing-image(height)``, the placeholder (its text placed, so that it sits on the
line like an image: by its bottom edge)."""


def _placeholder_height(element: Image) -> str:
    return element.height or "3em"


def static_image(element: Image, where: str, plan: ReportPlan, assets: dict[str, Path | bytes]) -> str:
    """An image given by ``path`` or ``data``: copied into the root under our asset name."""
    found = static_asset(element, where, plan.image_dirs, plan.base_dir)
    if found is None:  # the plan allowed it: on_missing is placeholder
        return f"missing-image({_placeholder_height(element)})"
    name, data = found
    assets[name] = data
    height = f", height: {element.height}" if element.height else ""
    return f'image("/{name}", width: 100%{height})'


def column_image(element: Image, index: int) -> str:
    """The image of cell ``index``: an asset name of ours, ``MISSING``, or "" (no image)."""
    size = f'width: 100%, height: {element.height}, fit: "contain"' if element.height else "width: 100%"
    # The cell's value was put there by data.images (one of our asset names), never the data's own string.
    return (
        f'{{ let name = c.at({index}); if name == "{MISSING}" {{ missing-image({_placeholder_height(element)}) }} '
        f'else if name != "" {{ image("/" + name, {size}) }} }}'
    )


def barcode_image(element: Barcode, index: int) -> str:
    """The barcode of cell ``index``: the cell holds ``{"a": asset name, "t": text}`` as JSON
    (see ``plan.barcodes``), or "" (no code; so does any other string, such as the placeholder
    a reprinted group header is measured with). A 1D code is stretched to the cell's width (its
    bars keep their proportions), a 2D code (QR, PDF417, Data Matrix, Aztec) kept in proportion;
    the text, a string from the data, is shown as text (``text()`` of a string never reads it as markup)."""
    fit = '"contain"' if element.symbology in TWO_D else '"stretch"'
    text = ""
    if element.text and element.symbology not in TWO_D:
        text = ' if code.t != "" { v(1pt); align(center, text(size: 0.85em, code.t)) }'
    return (
        f'{{ let raw = c.at({index}); if raw.starts-with("{{") {{ let code = json(bytes(raw)); '
        f'block(width: 100%, {{ image("/" + code.a, width: 100%, height: {element.height}, fit: {fit});{text} }}) }} }}'
    )
