"""Character advance widths of the shipped fonts, read once from the font files.

Enough of an OpenType reader (``cmap`` formats 4 and 12, ``hmtx``, ``head``, ``OS/2``) to
know how wide a text is before Typst sets it, so that Polars can cut a text to fit its cell
(``overflow: ellipsis``) without a Typst ``measure`` per cell. Kerning is left out, which
makes the estimate a little wide (safe: a cut text always fits).

    >>> widths = font_widths("Inter-Regular.otf")
    >>> round(widths.advance["H"], 3), widths.advance["1"] == widths.advance["8"]
    (0.74, True)
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass

from polarreports.resources import FONTS_DIR

__all__ = ["FontWidths", "font_widths", "text_font"]

FALLBACKS = ("DejaVuSans.ttf", "DroidSansFallbackFull.ttf", "NanumGothic.ttf")
"""The fonts Typst falls back to, in order, for characters the report's font lacks."""
UNKNOWN_ADVANCE = 1.0
"""Em width assumed for a character no shipped font has (an emoji, say)."""


@dataclass(frozen=True)
class FontWidths:
    advance: dict[str, float]
    """Advance width in em of every character the font (or a fallback) has."""
    cap_height: float
    """Cap height in em: a line's height in Typst, whose text box runs from the cap height to
    the baseline."""


def _tables(data: bytes) -> dict[str, tuple[int, int]]:
    count = struct.unpack_from(">H", data, 4)[0]
    tables = {}
    for i in range(count):
        tag, _, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        tables[tag.decode("latin-1")] = (offset, length)
    return tables


def _cmap(data: bytes, offset: int) -> dict[int, int]:
    """Code point -> glyph id, from the best Unicode subtable (format 12, else 4)."""
    count = struct.unpack_from(">H", data, offset + 2)[0]
    subtables = {}
    for i in range(count):
        platform, encoding, sub = struct.unpack_from(">HHI", data, offset + 4 + 8 * i)
        fmt = struct.unpack_from(">H", data, offset + sub)[0]
        subtables[(fmt, platform, encoding)] = offset + sub
    mapping: dict[int, int] = {}
    twelve = [at for (fmt, platform, _), at in subtables.items() if fmt == 12 and platform in (0, 3)]
    four = [at for (fmt, platform, _), at in subtables.items() if fmt == 4 and platform in (0, 3)]
    if twelve:
        groups = struct.unpack_from(">I", data, twelve[0] + 12)[0]
        for g in range(groups):
            start, end, glyph = struct.unpack_from(">III", data, twelve[0] + 16 + 12 * g)
            for code in range(start, end + 1):
                mapping[code] = glyph + code - start
    elif four:
        at = four[0]
        segments = struct.unpack_from(">H", data, at + 6)[0] // 2
        ends = struct.unpack_from(f">{segments}H", data, at + 14)
        starts = struct.unpack_from(f">{segments}H", data, at + 16 + 2 * segments)
        deltas = struct.unpack_from(f">{segments}h", data, at + 16 + 4 * segments)
        range_at = at + 16 + 6 * segments
        offsets = struct.unpack_from(f">{segments}H", data, range_at)
        for s in range(segments):
            for code in range(starts[s], ends[s] + 1):
                if code == 0xFFFF:
                    continue
                if offsets[s] == 0:
                    glyph = (code + deltas[s]) & 0xFFFF
                else:
                    where = range_at + 2 * s + offsets[s] + 2 * (code - starts[s])
                    glyph = struct.unpack_from(">H", data, where)[0]
                    glyph = (glyph + deltas[s]) & 0xFFFF if glyph else 0
                if glyph:
                    mapping[code] = glyph
    return mapping


@functools.cache
def _read(name: str) -> tuple[dict[str, float], float]:
    """Advance widths (em) per character and the cap height (em) of one font file (read once:
    the fallback fonts' large tables, ≈45 ms to read, serve every style of the report font)."""
    data = (FONTS_DIR / name).read_bytes()
    tables = _tables(data)
    units = struct.unpack_from(">H", data, tables["head"][0] + 18)[0]
    metrics_count = struct.unpack_from(">H", data, tables["hhea"][0] + 34)[0]
    hmtx = tables["hmtx"][0]
    advances = struct.unpack_from(f">{2 * metrics_count}h", data, hmtx)[0::2]
    os2, os2_length = tables["OS/2"]
    cap = struct.unpack_from(">h", data, os2 + 88)[0] / units if os2_length >= 90 else 0.7
    widths = {}
    for code, glyph in _cmap(data, tables["cmap"][0]).items():
        advance = advances[min(glyph, metrics_count - 1)]
        widths[chr(code)] = advance / units
    return widths, cap


@functools.cache
def font_widths(name: str) -> FontWidths:
    """The widths of ``name`` (a file in polarreports/fonts), with the fallback fonts' widths
    for the characters it lacks. Figures are tabular in reports: every digit is as wide as
    the widest."""
    own, cap = _read(name)
    merged: dict[str, float] = {}
    for fallback in reversed(FALLBACKS):
        merged.update(_read(fallback)[0])
    merged.update(own)
    digits = [merged[d] for d in "0123456789" if d in merged]
    if digits:
        merged.update(dict.fromkeys("0123456789", max(digits)))
    merged["\u00a0"] = merged.get(" ", 0.25)
    return FontWidths(merged, cap)


def text_font(*, bold: bool, italic: bool) -> str:
    """The shipped file of the report font (Inter) in the given style."""
    if bold:
        return "Inter-BoldItalic.otf" if italic else "Inter-Bold.otf"
    return "Inter-Italic.otf" if italic else "Inter-Regular.otf"
