"""Lengths of a definition ('30mm', '12pt', '25%', '1fr', '1.2em') in points.

>>> to_points("25.4mm", whole=0, font_size=10)
72.0
>>> to_points("50%", whole=200, font_size=10), to_points("1.5em", whole=0, font_size=10)
(100.0, 15.0)
"""

from __future__ import annotations

__all__ = ["to_points"]

_UNITS = {"pt": 1.0, "mm": 72 / 25.4, "cm": 720 / 25.4, "in": 72.0}


def to_points(length: str | None, *, whole: float, font_size: float) -> float:
    """A definition length in points; ``%`` and ``fr`` (and no length) are of ``whole``, ``em``
    of the font size."""
    if length is None or length.endswith("fr"):
        return whole
    if length.endswith("%"):
        return whole * float(length[:-1]) / 100
    if length.endswith("em"):
        return float(length[:-2]) * font_size
    return float(length[:-2]) * _UNITS[length[-2:]]
