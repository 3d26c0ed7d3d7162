"""Fonts of a report's own: the TrueType/OpenType files in the folders ``font_dirs`` names.

Each font file is read like every file a definition names (``resources.read_confined``: it
must stay inside its folder once ``..`` and symlinks are resolved, be a regular file, at most
``MAX_FONT_BYTES``), must start like a font (``sfnt`` magic), and is read by fontTools for its
family name and the characters it has. It reaches Typst as ``fonts/<sha256>.<ext>`` in the
compile folder (never by the user's path), next to the fonts that ship with polarreports.

Styles may then name the families (``styles: {brand: {font: "Acme Sans"}}``). A character of
the report that such a font lacks is drawn by a shipped font instead, and one that no font has
shows as an empty box: both are reported by name (:func:`glyph_warnings`).

    >>> font_magic(b"\\x00\\x01\\x00\\x00...") and font_magic(b"OTTO...") and not font_magic(b"<svg")
    True
"""

from __future__ import annotations

import functools
import hashlib
import io
import struct
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from polarreports.definition.report import Report
from polarreports.definition.styles import SHIPPED_FONTS
from polarreports.exceptions import AccessError, DataError
from polarreports.resources import FONT, FONTS_DIR, MAX_FONT_BYTES, read_confined

__all__ = [
    "FONT_SUFFIXES",
    "MAX_FONT_BYTES",
    "MAX_FONT_FILES",
    "FontFile",
    "font_dirs",
    "font_magic",
    "glyph_warnings",
    "read_fonts",
]

FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
MAX_FONT_FILES = 64
"""The most font files all of a report's font folders may hold."""
_MAGIC = (b"\x00\x01\x00\x00", b"OTTO", b"true", b"ttcf")


@dataclass(frozen=True)
class FontFile:
    """A font of the report's own: our asset name, its bytes, family and characters."""

    name: str
    data: bytes
    family: str
    characters: frozenset[int]
    where: str


def font_magic(data: bytes) -> bool:
    """Whether ``data`` starts like a TrueType/OpenType font or collection."""
    return data[:4] in _MAGIC


def font_dirs(report: Report, base_dir: Path) -> list[Path]:
    """The report's font folders, resolved (relative to the definition's folder)."""
    return [(base_dir / folder).resolve() for folder in report.font_dirs]


def _described(data: bytes, where: str) -> tuple[str, frozenset[int]]:
    """The family name (as Typst reads it: the typographic family, else the family) and the
    characters of a font's first face; ``DataError`` for a file fontTools cannot read."""
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    try:
        if data[:4] == b"ttcf":
            font = TTCollection(io.BytesIO(data), lazy=True).fonts[0]
        else:
            font = TTFont(io.BytesIO(data), lazy=True)
        family = font["name"].getBestFamilyName()
        characters = frozenset(font.getBestCmap() or {})
    except (TTLibError, KeyError, ValueError, AssertionError, struct.error) as error:
        msg = f"{where}: is not a font fontTools can read ({type(error).__name__}).\nHint: remove it from the folder."
        raise DataError(msg) from None
    if not family:
        msg = f"{where}: the font has no family name.\nHint: remove it from the folder."
        raise DataError(msg)
    return str(family), characters


def read_fonts(report: Report, base_dir: Path) -> tuple[list[FontFile], list[str]]:
    """The fonts of the report's ``font_dirs`` (each folder's font files, by name), and the
    problems found (a folder that is missing or outside, a file that is no font)."""
    fonts: list[FontFile] = []
    issues: list[str] = []
    for i, (text, folder) in enumerate(zip(report.font_dirs, font_dirs(report, base_dir), strict=True)):
        where = f"font_dirs[{i}]"
        if not folder.is_dir():
            issues.append(f"{where}: {text!r} is not a folder.\nHint: name a folder that holds .ttf or .otf files.")
            continue
        try:
            entries = sorted(p for p in folder.iterdir() if p.suffix.lower() in FONT_SUFFIXES)
        except OSError as error:
            issues.append(f"{where}: cannot list {text!r} ({error.strerror or error}).")
            continue
        if not entries:
            issues.append(f"{where}: {text!r} holds no font file ({', '.join(FONT_SUFFIXES)}).")
        for entry in entries:
            if len(fonts) >= MAX_FONT_FILES:
                issues.append(f"{where}: more than {MAX_FONT_FILES} font files in the report's font folders.")
                return fonts, issues
            file_where = f"{where} ({entry.name!r})"
            try:
                data = read_confined(entry, entry.name, where, [folder], FONT)
                if not font_magic(data):
                    msg = f"{file_where}: is not a TrueType or OpenType font.\nHint: remove it from the folder."
                    raise DataError(msg)
                family, characters = _described(data, file_where)
            except (AccessError, DataError) as error:
                issues.append(str(error))
                continue
            suffix = entry.suffix.lower()
            name = f"fonts/{hashlib.sha256(data).hexdigest()[:24]}{suffix}"
            fonts.append(FontFile(name, data, family, characters, file_where))
    return fonts, issues


@functools.cache
def _shipped_characters() -> frozenset[int]:
    """Every character some shipped font has (read once per process)."""
    from fontTools.ttLib import TTFont

    found: set[int] = set()
    for path in FONTS_DIR.iterdir():
        if path.suffix.lower() in (".ttf", ".otf"):
            with TTFont(path, lazy=True) as font:
                found.update(font.getBestCmap() or {})
    return frozenset(found)


def _named(characters: Iterable[int], limit: int = 8) -> str:
    chosen = sorted(characters)
    shown = [f"{chr(c)!r} (U+{c:04X} {unicodedata.name(chr(c), 'unnamed')})" for c in chosen[:limit]]
    more = f" and {len(chosen) - limit} more" if len(chosen) > limit else ""
    return ", ".join(shown) + more


def glyph_warnings(fonts: Sequence[FontFile], used: dict[str, str], texts: Iterable[str]) -> list[str]:
    """Warnings naming the characters of ``texts`` that a font of the report's own used by a
    style lacks (``used``: family -> where a style names it), and those no font has at all."""
    if not used:
        return []
    seen: set[str] = set()
    for text in texts:
        seen.update(text)
    wanted = {ord(ch) for ch in seen if ch.isprintable() and not ch.isspace()}
    warnings = []
    covered = set(_shipped_characters())
    for family, where in used.items():
        characters: set[int] = set()
        for font in fonts:
            if font.family.casefold() == family.casefold():
                characters |= font.characters
        covered |= characters
        lacking = wanted - characters
        if lacking:
            warnings.append(
                f"{where}: the font {family!r} has no glyph for {_named(lacking)}; "
                f"a shipped font ({SHIPPED_FONTS[0]}, ...) draws them instead"
            )
    nowhere = wanted - covered
    if nowhere:
        warnings.append(f"no font has a glyph for {_named(nowhere)}: they show as empty boxes")
    return warnings
