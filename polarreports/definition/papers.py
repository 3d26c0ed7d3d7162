"""Paper sizes by name: Typst's own list (the ``paper`` names of ``page()``), in millimetres,
as the installed Typst measures them, plus custom sizes written ``"WIDTH x HEIGHT"``.

    >>> PAPER_MM["a4"], PAPER_MM["us-letter"]
    ((210, 297), (215.9, 279.4))
    >>> parse_size("80mm x auto")
    (80.0, None)
    >>> parse_size("4in × 6in")
    (101.6, 152.4)
    >>> parse_size("a44")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: 'a44' is no paper size: use a name from Typst's list (did you mean 'a4'?) or ...
"""

from __future__ import annotations

import re

from polarreports.suggest import close_matches

__all__ = ["AUTO_HEIGHT_MM", "PAPER_MM", "parse_size"]

AUTO_HEIGHT_MM = 5_080.0
"""The height the layout arithmetic assumes for a page whose height is ``auto`` (it grows
with its content): 200 inches, the largest page a PDF viewer must show."""
_MM = {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72}
_CUSTOM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mm|cm|in|pt)\s*[x×*]\s*(?:(\d+(?:\.\d+)?)\s*(mm|cm|in|pt)|(auto))\s*$")
_SMALLEST_MM, _LARGEST_MM = 10.0, 5_080.0

PAPER_MM: dict[str, tuple[float, float]] = {
    "a0": (841, 1189),
    "a1": (594, 841),
    "a2": (420, 594),
    "a3": (297, 420),
    "a4": (210, 297),
    "a5": (148, 210),
    "a6": (105, 148),
    "a7": (74, 105),
    "a8": (52, 74),
    "a9": (37, 52),
    "a10": (26, 37),
    "a11": (18, 26),
    "iso-b1": (707, 1000),
    "iso-b2": (500, 707),
    "iso-b3": (353, 500),
    "iso-b4": (250, 353),
    "iso-b5": (176, 250),
    "iso-b6": (125, 176),
    "iso-b7": (88, 125),
    "iso-b8": (62, 88),
    "iso-c3": (324, 458),
    "iso-c4": (229, 324),
    "iso-c5": (162, 229),
    "iso-c6": (114, 162),
    "iso-c7": (81, 114),
    "iso-c8": (57, 81),
    "din-d3": (272, 385),
    "din-d4": (192, 272),
    "din-d5": (136, 192),
    "din-d6": (96, 136),
    "din-d7": (68, 96),
    "din-d8": (48, 68),
    "sis-g5": (169, 239),
    "sis-e5": (115, 220),
    "ansi-a": (216, 279),
    "ansi-b": (279, 432),
    "ansi-c": (432, 559),
    "ansi-d": (559, 864),
    "ansi-e": (864, 1118),
    "arch-a": (229, 305),
    "arch-b": (305, 457),
    "arch-c": (457, 610),
    "arch-d": (610, 914),
    "arch-e1": (762, 1067),
    "arch-e": (914, 1219),
    "jis-b0": (1030, 1456),
    "jis-b1": (728, 1030),
    "jis-b2": (515, 728),
    "jis-b3": (364, 515),
    "jis-b4": (257, 364),
    "jis-b5": (182, 257),
    "jis-b6": (128, 182),
    "jis-b7": (91, 128),
    "jis-b8": (64, 91),
    "jis-b9": (45, 64),
    "jis-b10": (32, 45),
    "jis-b11": (22, 32),
    "sac-d0": (764, 1064),
    "sac-d1": (532, 760),
    "sac-d2": (380, 528),
    "sac-d3": (264, 376),
    "sac-d4": (188, 260),
    "sac-d5": (130, 184),
    "sac-d6": (92, 126),
    "iso-id-1": (85.6, 53.98),
    "iso-id-2": (74, 105),
    "iso-id-3": (88, 125),
    "asia-f4": (210, 330),
    "jp-shiroku-ban-4": (264, 379),
    "jp-shiroku-ban-5": (189, 262),
    "jp-shiroku-ban-6": (127, 188),
    "jp-kiku-4": (227, 306),
    "jp-kiku-5": (151, 227),
    "jp-business-card": (91, 55),
    "cn-business-card": (90, 54),
    "eu-business-card": (85, 55),
    "fr-tellière": (340, 440),
    "fr-couronne-écriture": (360, 460),
    "fr-couronne-édition": (370, 470),
    "fr-raisin": (500, 650),
    "fr-carré": (450, 560),
    "fr-jésus": (560, 760),
    "uk-brief": (406.4, 342.9),
    "uk-draft": (254, 406.4),
    "uk-foolscap": (203.2, 330.2),
    "uk-quarto": (203.2, 254),
    "uk-crown": (508, 381),
    "uk-book-a": (111, 178),
    "uk-book-b": (129, 198),
    "us-letter": (215.9, 279.4),
    "us-legal": (215.9, 355.6),
    "us-tabloid": (279.4, 431.8),
    "us-executive": (184.15, 266.7),
    "us-foolscap-folio": (215.9, 342.9),
    "us-statement": (139.7, 215.9),
    "us-ledger": (431.8, 279.4),
    "us-oficio": (215.9, 340.36),
    "us-gov-letter": (203.2, 266.7),
    "us-gov-legal": (215.9, 330.2),
    "us-business-card": (88.9, 50.8),
    "us-digest": (139.7, 215.9),
    "us-trade": (152.4, 228.6),
    "newspaper-compact": (280, 430),
    "newspaper-berliner": (315, 470),
    "newspaper-broadsheet": (381, 578),
    "presentation-16-9": (297, 167.062),
    "presentation-4-3": (280, 210),
}
"""Width and height (mm, portrait as Typst defines them) of every paper name Typst knows."""


def parse_size(size: str) -> tuple[float, float | None]:
    """Width and height in mm of a paper name or of ``"WIDTH x HEIGHT"`` (mm, cm, in, pt;
    ``x``, ``×`` or ``*``); the height is None for ``auto`` (from the content: a receipt).
    ``ValueError`` says what would do."""
    name = size.strip().lower()
    if name in PAPER_MM:
        return PAPER_MM[name]
    found = _CUSTOM.match(size)
    if found is None:
        near = close_matches(name, PAPER_MM, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        shown = size if len(size) <= 40 else size[:37] + "..."
        msg = (
            f"{shown!r} is no paper size: use a name from Typst's list{hint} or 'WIDTH x HEIGHT' such as '80mm x auto'"
        )
        raise ValueError(msg)
    width = round(float(found[1]) * _MM[found[2]], 4)
    height = None if found[5] else round(float(found[3]) * _MM[found[4]], 4)
    for what, value in (("width", width), ("height", height)):
        if value is not None and not _SMALLEST_MM <= value <= _LARGEST_MM:
            msg = f"the page {what} {value:g}mm is out of range: from {_SMALLEST_MM:g}mm to {_LARGEST_MM:g}mm (200in)"
            raise ValueError(msg)
    return width, height
