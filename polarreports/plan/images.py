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
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from polarreports.definition.elements import Image
from polarreports.definition.report import Report
from polarreports.exceptions import AccessError, DataError
from polarreports.plan.model import BandPlan, Cell, ReportPlan
from polarreports.resources import IMAGE, read_confined

__all__ = [
    "MISSING",
    "ImageAssets",
    "allowed_dirs",
    "column_issue",
    "image_asset",
    "image_format",
    "logo_image",
    "read_named_file",
    "replace_distinct",
    "resolve_column_images",
    "static_asset",
    "static_issue",
    "svg_reference",
]

MISSING = "!missing"
"""Cell value of an image that could not be read (shown as a placeholder); never an asset name."""


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


_SVG_EXTERNAL = re.compile(
    rb"""(?:\b(?:href|src)\s*=\s*["']\s*(?!["'#]|data:)([^"']*))"""
    rb"""|(?:url\(\s*["']?\s*(?![#"')]|data:)([^)"']*))"""
    rb"|(@import\b[^;>]*)"
    rb"|(<!ENTITY[^>]*\b(?:SYSTEM|PUBLIC)\b[^>]*)",
    re.IGNORECASE,
)


def svg_reference(data: bytes) -> str | None:
    """The first reference of an SVG to another file or a URL (an ``href``, ``src``, CSS
    ``url()`` or ``@import`` that is not ``#id`` or ``data:``, an external entity), or None.

    >>> svg_reference(b'<svg><image href="/etc/passwd"/></svg>')
    '/etc/passwd'
    >>> svg_reference(b'<svg><use href="#a"/><rect fill="url(#g)"/></svg>') is None
    True
    """
    found = _SVG_EXTERNAL.search(data)
    if found is None:
        return None
    text = next(group for group in found.groups() if group is not None)
    return text.decode("utf-8", "replace").strip()[:80] or "(empty)"


def image_asset(data: bytes, where: str, text: str) -> tuple[str, bytes]:
    """Our asset name for an image's bytes (by their hash) and the bytes; a ``DataError`` if
    they are no PNG, JPEG, GIF or SVG image, an ``AccessError`` for an SVG that refers to
    another file or a URL."""
    kind = image_format(data)
    if kind is None:
        raise DataError(_missing(where, text))
    if kind == "svg":
        reference = svg_reference(data)
        if reference is not None:
            msg = (
                f"{where}: the SVG image {text!r} refers to another file or a URL ({reference!r}); "
                "an SVG image must be self-contained.\n"
                "Hint: embed what it refers to (a data: URL), or convert the image to PNG."
            )
            raise AccessError(msg)
    return f"assets/{hashlib.sha256(data).hexdigest()[:24]}.{kind}", data


def read_named_file(path: Path, text: str, where: str, dirs: list[Path]) -> tuple[str, bytes]:
    """An image named by a definition, read by the rule of every such file
    (:func:`polarreports.resources.read_confined`), that must be a PNG, JPEG, GIF or
    self-contained SVG image: our asset name and its bytes (``DataError`` for anything else)."""
    try:
        data = read_confined(path, text, where, dirs, IMAGE)
    except AccessError:
        raise
    except DataError:  # missing or unreadable: said as for every image, with on_missing's hint
        raise DataError(_missing(where, text)) from None
    return image_asset(data, where, text)


def _missing(where: str, text: str) -> str:
    return (
        f"{where}: the image {text!r} is missing, unreadable, or not a PNG, JPEG, GIF or SVG image.\n"
        "Hint: check the file, or give the element on_missing: placeholder to show a placeholder instead."
    )


def static_issue(element: Image, where: str, dirs: Sequence[Path], base_dir: Path) -> str | None:
    """The problem of an image given by ``path`` or ``data``, for the plan, or None."""
    try:
        static_asset(element, where, dirs, base_dir)
    except DataError as error:  # AccessError included: refused whatever on_missing says
        return str(error)
    return None


def static_asset(element: Image, where: str, dirs: Sequence[Path], base_dir: Path) -> tuple[str, bytes] | None:
    """The asset name and bytes of an image given by ``path`` or ``data`` (None: missing, and
    ``on_missing`` is placeholder); ``dirs``: the folders it may come from (``allowed_dirs``)."""
    try:
        if element.data is not None:
            return image_asset(element.data, where, f"<{len(element.data):,} bytes>")
        assert element.path is not None
        return read_named_file(base_dir / element.path, element.path, where, list(dirs))
    except AccessError:
        raise
    except DataError:
        if element.on_missing == "placeholder":
            return None
        raise


def logo_image(report: Report, base_dir: Path) -> tuple[str, bytes] | None:
    """The asset name and bytes of the theme's logo (None without one), read by the same rule
    as every image; a ``DataError`` (or ``AccessError``) naming ``theme.logo`` otherwise."""
    logo = report.theme.logo
    if logo is None:
        return None
    return read_named_file(base_dir / logo, logo, "theme.logo", allowed_dirs(report, base_dir))


def column_issue(cell: Cell, dtype: pl.DataType) -> str | None:
    """The problem of an image column's type, or None (it must hold paths or bytes)."""
    if dtype in (pl.String, pl.Binary, pl.Null):
        return None
    return f"{cell.where}: an image column must hold paths (String) or the images' bytes (Binary), not {dtype}"


def replace_distinct(
    raw: pl.DataFrame,
    cells: Sequence[Cell],
    role: str,
    assets: ImageAssets,
    replacement: Callable[[Cell, Any], str],
    *,
    as_text: bool = False,
) -> pl.DataFrame:
    """Replace the values of a band's data ``cells`` of ``role`` (columns ``__v0``, ...) by
    ``replacement(cell, value)``, called once per distinct value and cell in the whole render
    (remembered in ``assets.names``), not per row; "" where the value is null. ``as_text``:
    the values are read as text, and "" stays "" without a call.

    >>> cells = [Cell(Image(path="logo.png"), "bands.detail.elements[0]", pl.col("p"), role="image")]
    >>> raw = pl.DataFrame({"__v0": ["a.png", None, "a.png", "b.png"]})
    >>> seen = []
    >>> def replacement(cell, value):
    ...     seen.append(value)
    ...     return value.upper()
    >>> replace_distinct(raw, cells, "image", ImageAssets(), replacement)["__v0"].to_list()
    ['A.PNG', '', 'A.PNG', 'B.PNG']
    >>> seen
    ['a.png', 'b.png']
    """
    found = [(i, cell) for i, cell in enumerate(cells) if cell.role == role]
    if not found or raw.is_empty():
        return raw
    replaced = []
    for i, cell in found:
        column = pl.col(f"__v{i}").cast(pl.String) if as_text else pl.col(f"__v{i}")
        values = raw.select(column).to_series().drop_nulls().unique(maintain_order=True)
        if as_text:
            values = values.filter(values != "")
        if values.is_empty():
            replaced.append(pl.lit("", dtype=pl.String).alias(f"__v{i}"))
            continue
        names = []
        for value in values.to_list():
            key = (cell.where, value)
            if key not in assets.names:
                assets.names[key] = replacement(cell, value)
            names.append(assets.names[key])
        mapped = column.replace_strict(values, pl.Series(names, dtype=pl.String), default="")
        replaced.append(mapped.alias(f"__v{i}"))
    return raw.with_columns(replaced)


def resolve_column_images(plan: ReportPlan, band: BandPlan, raw: pl.DataFrame, assets: ImageAssets) -> pl.DataFrame:
    """Replace the paths or bytes of ``band``'s image cells (columns ``__v0``, ...) by our
    asset names (``MISSING`` for an image that cannot be read, "" where there is none), adding
    each distinct image to ``assets`` once (:func:`replace_distinct`)."""
    dirs = list(plan.image_dirs)

    def asset_name(cell: Cell, value: str | bytes) -> str:
        assert isinstance(cell.element, Image)
        return _asset_name(value, cell.element, cell.where, dirs, assets)

    return replace_distinct(raw, band.data_cells, "image", assets, asset_name)


def _asset_name(value: str | bytes, element: Image, where: str, dirs: list[Path], assets: ImageAssets) -> str:
    """The asset name of one distinct value of an image column (reading the file if it is a path)."""
    try:
        if isinstance(value, bytes):
            name, data = image_asset(value, where, f"<{len(value):,} bytes>")
        elif value.strip():
            name, data = read_named_file(dirs[0] / value, value, where, dirs)
        else:
            return ""
    except AccessError:
        raise
    except DataError:
        if element.on_missing == "raise":
            raise
        return MISSING
    assets.files.setdefault(name, data)
    return name
