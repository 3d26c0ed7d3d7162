"""Files that ship with polarreports.

>>> (FONTS_DIR / "Inter-Regular.otf").is_file()
True
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["FONTS_DIR"]

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
"""The fonts every compile uses (and no others): see ``fonts/README.md``."""
