"""Files: those that ship with polarreports, and the one rule for every file a definition names.

A definition names files of several kinds (:data:`KINDS`): images and the logo, fonts,
translation catalogs, subreport definitions and their data, the rows' data file, a database
file. Each is found by :func:`confined_path` (resolve, then check; nothing read) and, where
polarreports reads it itself, read by :func:`read_confined`: the name, made absolute, must
after resolving ``..`` and symlinks lie in one of the folders its kind may be read from, hold no
NUL, and be a regular file (no folder, device or FIFO) within its kind's size limit.

    >>> (FONTS_DIR / "Inter-Regular.otf").is_file()
    True
    >>> confined_path(FONTS_DIR / "Inter-Regular.otf", "Inter-Regular.otf", "font_dirs[0]", [FONTS_DIR], FONT).name
    'Inter-Regular.otf'
    >>> try:
    ...     confined_path(FONTS_DIR / ".." / "api.py", "../api.py", "theme.logo", [FONTS_DIR], IMAGE)
    ... except AccessError as error:
    ...     print(str(error).split(" (")[0], "...", str(error).splitlines()[-1])
    theme.logo: the image '../api.py' ... Hint: put it in one of them, or add its folder to the report's image_dirs.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from polarreports.exceptions import AccessError, DataError

__all__ = [
    "CATALOG",
    "DATABASE",
    "DATA_FILE",
    "FONT",
    "FONTS_DIR",
    "IMAGE",
    "KINDS",
    "MAX_FILE_BYTES",
    "MAX_FONT_BYTES",
    "SUBREPORT",
    "SUBREPORT_DATA",
    "FileKind",
    "confined_path",
    "read_confined",
]

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
"""The fonts every compile uses (and no others): see ``fonts/README.md``."""

MAX_FILE_BYTES = 20 * 2**20
"""The largest file a definition may name (an image, the logo, a catalog): 20 MB; a bigger one is refused."""
MAX_FONT_BYTES = 50 * 2**20
"""The largest font file read: 50 MB (a full CJK font is about 20 MB)."""


@dataclass(frozen=True)
class FileKind:
    """A kind of file a definition may name: how messages call it, and its size limit."""

    noun: str
    """What one is called: "image", "font", "data file"."""
    setting: str
    """The report's setting that lists the folders it may come from: "image_dirs"."""
    expected: str
    """What a valid one is, for a hint: "a PNG, JPEG, GIF or SVG"."""
    limit: int | None = MAX_FILE_BYTES
    """The most bytes one may have; None: no limit (data, read by Polars in pieces)."""


IMAGE = FileKind("image", "image_dirs", "a PNG, JPEG, GIF or SVG")
FONT = FileKind("font", "font_dirs", "a TrueType or OpenType font", MAX_FONT_BYTES)
CATALOG = FileKind("catalog", "translations.dirs", "a gettext .mo or .po")
SUBREPORT = FileKind("subreport definition", "image_dirs", "a .yaml, .yml or .json")
SUBREPORT_DATA = FileKind("subreport source", "image_dirs", "a Parquet, CSV, IPC or NDJSON", None)
DATA_FILE = FileKind("data file", "data_dirs", "a Parquet, CSV, IPC or NDJSON", None)
DATABASE = FileKind("database file", "data_dirs", "an SQLite or DuckDB database", None)
KINDS = (IMAGE, FONT, CATALOG, SUBREPORT, SUBREPORT_DATA, DATA_FILE, DATABASE)
"""Every kind of file a definition names."""


def _missing(where: str, text: str, kind: FileKind) -> DataError:
    return DataError(f"{where}: the {kind.noun} {text!r} is missing or unreadable.")


def _outside(where: str, text: str, path: Path, dirs: Sequence[Path], kind: FileKind) -> AccessError:
    folders = ", ".join(str(d) for d in dirs)
    return AccessError(
        f"{where}: the {kind.noun} {text!r} ({path}) is outside the folders {kind.noun}s may be read from "
        f"({folders}).\nHint: put it in one of them, or add its folder to the report's {kind.setting}."
    )


def _described(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _check_status(where: str, text: str, status: os.stat_result, kind: FileKind) -> None:
    if not stat.S_ISREG(status.st_mode):
        found = _described(status.st_mode)
        msg = f"{where}: the {kind.noun} {text!r} is {found}, not a file.\nHint: name {kind.expected} file."
        raise AccessError(msg)
    if kind.limit is not None and status.st_size > kind.limit:
        raise _too_big(where, text, status.st_size, kind, kind.limit)


def _too_big(where: str, text: str, size: int, kind: FileKind, limit: int) -> AccessError:
    return AccessError(
        f"{where}: the {kind.noun} {text!r} has {size:,} bytes, more than the {limit // 2**20} MB "
        f"a file named by a definition may have.\nHint: make the {kind.noun} smaller."
    )


def confined_path(path: Path, text: str, where: str, dirs: Sequence[Path], kind: FileKind) -> Path:
    """THE rule for a file named by a definition, without reading it: ``path`` (the name
    ``text`` made absolute) resolved (``..`` and symlinks), which must hold no NUL, lie in one of
    ``dirs``, and be a regular file within the kind's size limit.

    Raises ``AccessError`` when the file may not be read (``where`` and ``text`` name it), and
    a plain ``DataError`` when it is missing or unreadable.
    """
    if "\0" in str(path):
        msg = f"{where}: the {kind.noun} name {text!r} contains a NUL character, which no file name can."
        raise AccessError(msg)
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a name too long
        raise _missing(where, text, kind) from None
    if not any(resolved.is_relative_to(folder) for folder in dirs):
        raise _outside(where, text, resolved, dirs, kind)
    try:
        status = resolved.stat()
    except (OSError, ValueError):
        raise _missing(where, text, kind) from None
    _check_status(where, text, status, kind)
    return resolved


def read_confined(path: Path, text: str, where: str, dirs: Sequence[Path], kind: FileKind) -> bytes:
    """The bytes of a file named by a definition, found by :func:`confined_path` (the same
    errors) and opened without following a symlink swapped in since, nor blocking on a FIFO;
    checked again once open, and read up to the limit only."""
    resolved = confined_path(path, text, where, dirs, kind)
    limit = kind.limit
    try:
        # no symlink is left in ``resolved``: O_NOFOLLOW refuses one swapped in since; O_NONBLOCK
        # keeps a FIFO swapped in from blocking the open (and fstat then refuses it)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        descriptor = os.open(resolved, flags)
    except OSError:
        raise _missing(where, text, kind) from None
    with os.fdopen(descriptor, "rb") as file:
        _check_status(where, text, os.fstat(file.fileno()), kind)
        try:
            data = file.read(-1 if limit is None else limit + 1)
        except OSError:
            raise _missing(where, text, kind) from None
    if limit is not None and len(data) > limit:  # it grew since
        raise _too_big(where, text, len(data), kind, limit)
    return data
