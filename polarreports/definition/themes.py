"""The built-in themes: a default style for every band kind, and the zebra colour.

``plain`` gives no style at all, so a report without a theme looks as it always did.

    >>> from polarreports.definition.styles import Theme
    >>> theme_styles(Theme(name="corporate", brand_color="#0b5394"))["column_header"].fill
    '#0b5394'
    >>> theme_styles(Theme())
    {}
"""

from __future__ import annotations

from polarreports.definition.styles import Style, Theme

__all__ = ["BAND_SLOTS", "theme_styles", "tint", "zebra_color", "zebra_default"]

BAND_SLOTS = (
    "title",
    "page_header",
    "column_header",
    "group_header_1",
    "group_header_2",
    "group_footer",
    "detail",
    "column_footer",
    "page_footer",
    "summary",
)
"""The band kinds a theme styles; group headers deeper than level 2 use ``group_header_2``."""

_BRAND = {"plain": "#1f3b5c", "corporate": "#1f4e79", "ledger": "#222222", "minimal": "#1f2937"}
_ZEBRA = {"plain": "#f2f2f2", "ledger": "#f6f5ef", "minimal": "#f7f7f7"}


def tint(color: str, share: float) -> str:
    """``color`` mixed with white, ``share`` of the way to white.

    >>> tint("#000000", 0.5)
    '#808080'
    """
    hex_digits = color.lstrip("#")
    if len(hex_digits) in (3, 4):
        hex_digits = "".join(d * 2 for d in hex_digits)
    channels = [int(hex_digits[i : i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(f"{round(c + (255 - c) * share):02x}" for c in channels)


def zebra_color(theme: Theme) -> str:
    """The colour of striped rows: the theme's ``zebra``, or one that suits the theme."""
    if theme.zebra is not None:
        return theme.zebra
    if theme.name == "corporate":
        return tint(theme.brand_color or _BRAND["corporate"], 0.93)
    return _ZEBRA[theme.name]


def zebra_default(theme: Theme) -> bool:
    """Whether detail rows are striped when the detail band does not say."""
    return theme.name == "corporate"


def theme_styles(theme: Theme) -> dict[str, Style]:
    """The theme's style for each band kind it styles (keys from ``BAND_SLOTS``)."""
    brand = theme.brand_color or _BRAND[theme.name]
    if theme.name == "corporate":
        rule = tint(brand, 0.75)
        return {
            "title": Style(size=16, bold=True, color=brand, padding="6pt"),
            "page_header": Style(color="#5f6b7a", border={"bottom": f"0.5pt {rule}"}),
            "column_header": Style(bold=True, color="#ffffff", fill=brand, padding="3.5pt"),
            "group_header_1": Style(bold=True, size=10, color=brand, fill=tint(brand, 0.85), padding="3.5pt"),
            "group_header_2": Style(bold=True, color="#1f2933", padding="2.5pt", border={"bottom": f"0.5pt {rule}"}),
            "group_footer": Style(bold=True, padding="2.5pt", border={"top": "0.5pt #9aa5b1"}),
            "detail": Style(padding="1.8pt"),
            "page_footer": Style(color="#5f6b7a", border={"top": f"0.5pt {rule}"}),
            "summary": Style(bold=True, color=brand, padding="5pt", border={"top": f"1pt {brand}"}),
        }
    if theme.name == "ledger":
        ink = theme.brand_color or "#222222"
        return {
            "title": Style(size=14, bold=True, color=ink, padding="6pt", border={"bottom": f"1pt {ink}"}),
            "page_header": Style(color="#555555"),
            "column_header": Style(
                bold=True, color=ink, padding="3pt", border={"top": f"1pt {ink}", "bottom": f"0.5pt {ink}"}
            ),
            "group_header_1": Style(bold=True, color=ink, padding="3pt", border={"bottom": f"0.5pt {ink}"}),
            "group_header_2": Style(bold=True, italic=True, color=ink, padding="2.5pt"),
            "group_footer": Style(bold=True, padding="2.5pt", border={"top": f"0.5pt {ink}"}),
            "detail": Style(font="DejaVu Sans", size=7.5, padding="1.8pt", border={"bottom": "0.25pt #c8c8c8"}),
            "page_footer": Style(color="#555555", border={"top": f"0.5pt {ink}"}),
            "summary": Style(bold=True, color=ink, padding="4pt", border={"top": f"1pt {ink}", "bottom": f"2pt {ink}"}),
        }
    if theme.name == "minimal":
        return {
            "title": Style(size=18, bold=True, color=brand, padding="8pt"),
            "page_header": Style(color="#9ca3af"),
            "column_header": Style(color="#6b7280", padding="3pt", border={"bottom": "0.5pt #d1d5db"}),
            "group_header_1": Style(bold=True, size=10, color=brand, padding="5pt"),
            "group_header_2": Style(bold=True, color="#374151", padding="2.5pt"),
            "group_footer": Style(color="#374151", padding="2.5pt", border={"top": "0.25pt #d1d5db"}),
            "detail": Style(padding="2pt"),
            "page_footer": Style(color="#9ca3af"),
            "summary": Style(bold=True, color=brand, padding="6pt", border={"top": "0.5pt #9ca3af"}),
        }
    return {}
