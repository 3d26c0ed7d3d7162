"""Images: find them, check where they come from, and give each one an asset name of ours.

An image comes from a file (``Image.path``), from bytes (``Image.data``), or per row or
group from a column of paths (String) or bytes (Binary). Files are read only from the
report's ``image_dirs`` (default: the definition's folder, or the working directory for a
report built in Python); paths are resolved first (``..`` and symlinks included), so a path
that leads outside them is an error naming the element and the path, whatever ``on_missing``
says.

Each distinct image is read once, hashed (SHA-256 of its bytes) and written once into the
compile root as ``assets/<hash>.<format>``; a cell carries that name, never the user's string,
so Typst reads only files we put there. A missing or unreadable image stops the render, or
with ``on_missing: placeholder`` shows a visible placeholder (the cell carries ``MISSING``).

    >>> image_format(b"\\x89PNG\\r\\n\\x1a\\n...")
    'png'
    >>> image_format(b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>")
    'svg'
    >>> image_format(b"%PDF-1.7") is None
    True
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from polarreports.definition.elements import Image
from polarreports.definition.report import Report
from polarreports.exceptions import AccessError, DataError
from polarreports.plan.model import BandPlan, Cell, ReportPlan

__all__ = [
    "MISSING",
    "ImageAssets",
    "allowed_dirs",
    "column_issue",
    "image_format",
    "resolve_column_images",
    "static_asset",
    "static_issue",
]

MISSING = "!missing"
"""Cell value of an image that could not be read (shown as a placeholder); never an asset name."""
MAX_IMAGE_BYTES = 64 * 2**20
"""A bigger file is not read (treated as unreadable)."""


@dataclass
class ImageAssets:
    """The images of one render: asset name -> bytes, and each value already looked at."""

    files: dict[str, bytes] = field(default_factory=dict)
    names: dict[tuple[str, str | bytes], str] = field(default_factory=dict)
    """(cell ``where``, path or bytes) -> asset name (or ``MISSING``, or "")."""


def image_format(data: bytes) -> str | None:
    """The format of an image from its first bytes: png, jpg, gif or svg; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<svg") or (head.startswith((b"<?xml", b"<!--", b"<!DOCTYPE")) and b"<svg" in head):
        return "svg"
    return None


def allowed_dirs(report: Report, base_dir: Path) -> list[Path]:
    """The folders images may be read from, resolved (symlinks followed)."""
    return [(base_dir / folder).resolve() for folder in report.image_dirs] or [base_dir.resolve()]


def _asset(data: bytes) -> tuple[str, bytes] | None:
    """Our asset name for an image's bytes (by their hash), or None if they are no image."""
    kind = image_format(data)
    if kind is None:
        return None
    return f"assets/{hashlib.sha256(data).hexdigest()[:24]}.{kind}", data


def _outside(where: str, text: str, path: Path, dirs: list[Path]) -> str:
    folders = ", ".join(str(d) for d in dirs)
    return (
        f"{where}: the image {text!r} ({path}) is outside the folders images may be read from ({folders}).\n"
        "Hint: put it in one of them, or add its folder to the report's image_dirs."
    )


def _read(text: str, where: str, dirs: list[Path]) -> bytes | None:
    """The bytes of the image file ``text`` (relative to the first allowed folder), or None if
    it cannot be read; raises ``AccessError`` if it resolves outside the allowed folders."""
    if "\x00" in text:  # no file has such a name (and the operating system refuses to look)
        return None
    path = (dirs[0] / text).resolve()
    if not any(path.is_relative_to(folder) for folder in dirs):
        raise AccessError(_outside(where, text, path, dirs))
    try:
        if path.stat().st_size > MAX_IMAGE_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None


def _missing(where: str, text: str) -> str:
    return (
        f"{where}: the image {text!r} is missing, unreadable, or not a PNG, JPEG, GIF or SVG image.\n"
        "Hint: check the file, or give the element on_missing: placeholder to show a placeholder instead."
    )


def static_issue(element: Image, where: str, report: Report, base_dir: Path) -> str | None:
    """The problem of an image given by ``path`` or ``data``, for the plan, or None."""
    try:
        found = static_asset(element, where, report, base_dir)
    except AccessError as error:
        return str(error)
    if found is None and element.on_missing == "raise":
        return _missing(where, element.path or f"<{len(element.data or b''):,} bytes>")
    return None


def static_asset(element: Image, where: str, report: Report, base_dir: Path) -> tuple[str, bytes] | None:
    """The asset name and bytes of an image given by ``path`` or ``data`` (None: missing)."""
    if element.data is not None:
        return _asset(element.data)
    assert element.path is not None
    dirs = allowed_dirs(report, base_dir)
    path = (base_dir / element.path).resolve()
    data = _read(str(path), where, dirs)
    return None if data is None else _asset(data)


def column_issue(cell: Cell, dtype: pl.DataType) -> str | None:
    """The problem of an image column's type, or None (it must hold paths or bytes)."""
    if dtype in (pl.String, pl.Binary, pl.Null):
        return None
    return f"{cell.where}: an image column must hold paths (String) or the images' bytes (Binary), not {dtype}"


def resolve_column_images(plan: ReportPlan, band: BandPlan, raw: pl.DataFrame, assets: ImageAssets) -> pl.DataFrame:
    """Replace the paths or bytes of ``band``'s image cells (columns ``__v0``, ...) by our
    asset names (``MISSING`` for an image that cannot be read, "" where there is none), adding
    each distinct image to ``assets`` once. One look per distinct value, not per row."""
    cells = [(i, cell) for i, cell in enumerate(band.data_cells) if cell.role == "image"]
    if not cells or raw.is_empty():
        return raw
    dirs = allowed_dirs(plan.report, plan.base_dir)
    replaced = []
    for i, cell in cells:
        element = cell.element
        assert isinstance(element, Image)
        column = f"__v{i}"
        values = raw[column].drop_nulls().unique(maintain_order=True)
        if values.is_empty():
            replaced.append(pl.lit("", dtype=pl.String).alias(column))
            continue
        names = []
        for value in values.to_list():
            key = (cell.where, value)
            if key not in assets.names:
                assets.names[key] = _asset_name(value, element, cell.where, dirs, assets)
            names.append(assets.names[key])
        mapped = pl.col(column).replace_strict(values, pl.Series(names, dtype=pl.String), default="")
        replaced.append(mapped.alias(column))
    return raw.with_columns(replaced)


def _asset_name(value: str | bytes, element: Image, where: str, dirs: list[Path], assets: ImageAssets) -> str:
    """The asset name of one distinct value of an image column (reading the file if it is a path)."""
    if isinstance(value, bytes):
        found, text = _asset(value), f"<{len(value):,} bytes>"
    elif value.strip():
        data = _read(value, where, dirs)
        found, text = (None if data is None else _asset(data)), value
    else:
        return ""
    if found is None:
        if element.on_missing == "raise":
            raise DataError(_missing(where, text))
        return MISSING
    name, data = found
    assets.files.setdefault(name, data)
    return name
