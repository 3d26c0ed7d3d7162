"""Named styles, conditional styles and the report's theme: how bands and elements look.

A ``Style`` is a bundle of text and box settings that bands and elements refer to by name;
a ``Theme`` gives every band kind a default look (``plain``, the default, changes nothing).

    >>> from polarreports.definition.styles import Style, Theme
    >>> Style(color="#b00020", border={"bottom": "0.5pt #888888"}).border
    {'bottom': '0.5pt #888888'}
    >>> from polarreports import Report
    >>> Report.model_validate({"name": "r", "theme": "ledger"}).theme == Theme(name="ledger")
    True
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, field_validator

from polarreports.definition.base import DefinitionModel
from polarreports.definition.elements import (
    _COLOR,
    MAX_THICKNESS,
    ConditionalStyle,
    FilePath,
    FontSize,
    Length,
    _check_length,
    check_color,
)

__all__ = [
    "SHIPPED_FONTS",
    "THEMES",
    "ConditionalStyle",
    "Side",
    "Style",
    "Theme",
    "ThemeOption",
    "check_zebra",
    "parse_stroke",
]

THEMES = ("plain", "corporate", "ledger", "minimal")
SHIPPED_FONTS = (
    "Inter",
    "DejaVu Sans",
    "Noto Sans Devanagari",
    "Droid Sans Fallback",
    "NanumGothic",
    "Noto Color Emoji",
)
"""The font families that ship with polarreports (``polarreports/fonts``); no system font is used."""
Side = Literal["top", "bottom", "left", "right"]
_STROKE = re.compile(r"^\s*(?P<width>\d+(\.\d+)?|\.\d+)\s*pt\s*(?P<color>#[0-9a-fA-F]{3,8})?\s*$")


def parse_stroke(text: str) -> tuple[float, str | None]:
    """The width (pt) and colour of a stroke such as ``"0.5pt #888888"``.

    >>> parse_stroke("0.5pt #888")
    (0.5, '#888')
    """
    found = _STROKE.match(text)
    if (
        found is None
        or (found["color"] and not _COLOR.fullmatch(found["color"]))
        or float(found["width"]) > MAX_THICKNESS
    ):
        msg = (
            f"{text!r} is not a stroke: write a width in points (at most {MAX_THICKNESS:g}) and an optional hex "
            "colour, such as '0.5pt #888888'"
        )
        raise ValueError(msg)
    return float(found["width"]), found["color"]


def _check_color(value: str | None) -> str | None:
    return check_color(value)


def _border(value: Any) -> Any:
    """``"0.5pt #888"`` is the same stroke on all four sides."""
    if isinstance(value, str):
        return dict.fromkeys(("top", "bottom", "left", "right"), value)
    return value


def check_zebra(value: Any) -> Any:
    """A band's ``zebra``: true, false, or a hex colour."""
    if isinstance(value, str):
        _check_color(value)
    return value


class _Model(DefinitionModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class Style(_Model):
    """Text and box settings, referred to by name from bands and elements (``style: name``).

    On a band, the text settings apply to all its elements and the box settings to the band;
    on an element, the box settings (fill, border) frame its cell. An element's own fields
    (bold, size, color, ...) win over its style, its style over the band's.
    """

    extends: str | None = None
    """Another style whose settings this one starts from."""
    font: str | None = None
    """A shipped font family: Inter (the default), DejaVu Sans, Droid Sans Fallback, NanumGothic."""
    size: FontSize | None = None
    """Font size in points."""
    bold: bool | None = None
    italic: bool | None = None
    color: str | None = None
    """Text colour, such as '#b00020'."""
    fill: str | None = None
    """Background colour."""
    border: (
        Annotated[dict[Side, str], BeforeValidator(_border, json_schema_input_type=str | dict[Side, str])] | None
    ) = None
    """A stroke on all sides (``"0.5pt #888888"``), or per side (``{bottom: "0.5pt #888888"}``)."""
    padding: Length | None = None
    """Space above and below a band's content (bands only)."""

    @field_validator("color", "fill")
    @classmethod
    def _color(cls, value: str | None) -> str | None:
        return _check_color(value)

    @field_validator("border")
    @classmethod
    def _strokes(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for stroke in (value or {}).values():
            parse_stroke(stroke)
        return value

    @field_validator("padding", mode="before")
    @classmethod
    def _padding(cls, value: Any) -> Any:
        return None if value is None else _check_length(value)


def _theme(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


class Theme(_Model):
    """The report's look: default styles for every band kind, and the zebra colour.

    ``plain`` (the default) is the look without a theme; ``corporate`` puts the brand colour in
    the title and header bars and stripes the detail rows; ``ledger`` rules every row;
    ``minimal`` keeps to whitespace and a few hairlines.
    """

    name: Literal["plain", "corporate", "ledger", "minimal"] = "plain"
    brand_color: str | None = None
    """The brand's colour, used by the title and header bars (corporate, minimal, ledger)."""
    logo: FilePath | None = None
    """An image file shown at the right of the title (or of the page header without a title),
    relative to the definition file."""
    zebra: str | None = None
    """The colour of striped detail rows (``bands.detail.zebra: true``); the theme's own when not given."""

    @field_validator("brand_color", "zebra")
    @classmethod
    def _color(cls, value: str | None) -> str | None:
        return _check_color(value)


ThemeOption = Annotated[Theme, BeforeValidator(_theme, json_schema_input_type=Theme | str)]
"""A theme, or just its name (``theme: corporate``)."""
