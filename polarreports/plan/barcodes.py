"""Barcodes and QR codes: one SVG per distinct value, drawn by barcode libraries.

1D codes (Code 128, Code 39, EAN-13, EAN-8, UPC-A, ITF) are encoded by ``python-barcode`` (its
modules, bars and spaces, written as an SVG path here: its own SVG writer is 60 times slower),
QR codes by ``segno`` (its own SVG): both pure Python and well kept; PDF417, Data Matrix and
Aztec codes by ``zxing-cpp`` (its writer, zint inside; text is encoded with an ECI naming its character set,
so any language reads back), whose module grid is written as an SVG path here like the 1D bars. SVG
is vector graphics, crisp at any zoom and in print. ``python-barcode`` quietly "repairs" some
values (it replaces a wrong EAN check digit, cuts a value that is too long, upper-cases Code
39), so each value is checked here first: what the code would encode must be the value itself
(or, for the EAN/UPC family, the value with its check digit appended), else it is invalid.

A band's barcode cells (role ``barcode``) carry the value as text; the data phase replaces each
distinct value by ``{"a": <our asset name>, "t": <human-readable text>, "v": <the value>}``
(JSON; ``encoded_text`` reads what it encodes back, for the spreadsheet and data outputs),
drawing each distinct value once per render (and at most once per process for the last thousand: an LRU
cache), so a column of 100,000 rows with 500 products draws 500 codes.

    >>> svg, text = draw("ean13", "400638133393", quiet_zone=None, error_correction="M")
    >>> svg.startswith(b"<svg") and text
    '4006381333931'
    >>> draw("ean13", "4006381333932", quiet_zone=None, error_correction="M")
    Traceback (most recent call last):
    ...
    ValueError: its check digit should be 1, not 2
"""

from __future__ import annotations

import functools
import io
import itertools
import json
import re
from typing import Any

import polars as pl

from polarreports.definition.elements import Barcode
from polarreports.exceptions import DataError
from polarreports.plan.images import ImageAssets, image_asset, replace_distinct
from polarreports.plan.model import BandPlan, Cell

__all__ = [
    "MATRIX",
    "MAX_VALUE",
    "TWO_D",
    "bars_svg",
    "check_value",
    "column_issue",
    "draw",
    "encoded_series",
    "encoded_text",
    "matrix_svg",
    "resolve_barcodes",
]

MAX_VALUE = 2_000
"""The longest value (characters) a barcode cell takes; a QR code holds at most about 2,900
bytes at level L, a 1D code far fewer."""
_GS1_DIGITS = {"ean13": 13, "ean8": 8, "upca": 12}
MATRIX = {"pdf417": "PDF417", "datamatrix": "DataMatrix", "aztec": "Aztec"}
"""The 2D symbologies zxing-cpp draws: ours -> its ``BarcodeFormat``."""
TWO_D = frozenset({"qr", *MATRIX})
"""Codes kept in proportion within the cell, without a human-readable text."""
_DEFAULT_QUIET = {"qr": 4.0, "pdf417": 2.0, "datamatrix": 2.0, "aztec": 2.0}
"""Quiet zones in modules: the specifications ask for 4 (QR), 2 (PDF417), 1 (Data Matrix), 0 (Aztec)."""
_MODULE_MM = 0.33
"""The width of a 1D module in the SVG, in mm (the drawing is scaled to the cell anyway)."""
_BAR_HEIGHT = 40
"""The height of the bars in the SVG, in modules (stretched to the element's height)."""


def _gs1_check_digit(digits: str) -> int:
    """The GS1 (EAN/UPC) check digit of ``digits`` (without it).

    >>> _gs1_check_digit("400638133393")
    1
    """
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def check_value(symbology: str, value: str) -> str:
    """``value`` with its check digit (EAN/UPC family), or ``ValueError`` saying why the
    symbology cannot encode it. (The library checks the characters; this checks what it would
    quietly change.)

    >>> check_value("ean8", "9638507")
    '96385074'
    >>> check_value("itf", "123")
    Traceback (most recent call last):
    ...
    ValueError: ITF encodes an even number of digits, not '123'
    """
    if not value:
        msg = "it is empty"
        raise ValueError(msg)
    if len(value) > MAX_VALUE:
        msg = f"it has {len(value):,} characters, more than the {MAX_VALUE:,} a barcode takes"
        raise ValueError(msg)
    if symbology in _GS1_DIGITS:
        length = _GS1_DIGITS[symbology]
        if not (value.isascii() and value.isdigit()):
            msg = "it may hold only digits"
            raise ValueError(msg)
        if len(value) not in (length - 1, length):
            msg = f"it must have {length - 1} digits (the check digit is added) or {length}, not {len(value)}"
            raise ValueError(msg)
        expected = _gs1_check_digit(value[: length - 1])
        if len(value) == length and int(value[-1]) != expected:
            msg = f"its check digit should be {expected}, not {value[-1]}"
            raise ValueError(msg)
        return value[: length - 1] + str(expected)
    if symbology == "itf" and not (value.isascii() and value.isdigit() and len(value) % 2 == 0):
        msg = f"ITF encodes an even number of digits, not {value!r}"
        raise ValueError(msg)
    if symbology == "code39" and value != value.upper():
        msg = "Code 39 has no lower-case letters"
        raise ValueError(msg)
    return value


@functools.lru_cache(maxsize=1024)
def draw(symbology: str, value: str, *, quiet_zone: float | None, error_correction: str) -> tuple[bytes, str]:
    """The SVG of ``value`` in ``symbology`` and its human-readable text; ``ValueError`` with
    the reason when it cannot be encoded. Cached: a value is drawn once per process."""
    encoded = check_value(symbology, value)
    if symbology == "qr":
        import segno
        from segno.encoder import DataOverflowError

        try:
            code = segno.make(value, error=error_correction.lower(), micro=False)
        except DataOverflowError:
            msg = f"it is too long for a QR code at error correction {error_correction}"
            raise ValueError(msg) from None
        buffer = io.BytesIO()
        border = _DEFAULT_QUIET["qr"] if quiet_zone is None else quiet_zone
        code.save(buffer, kind="svg", border=round(border), xmldecl=True, svgclass=None, lineclass=None)
        return buffer.getvalue(), ""
    if symbology in MATRIX:
        return _matrix_code(symbology, value, _DEFAULT_QUIET[symbology] if quiet_zone is None else quiet_zone), ""
    import barcode
    from barcode.errors import BarcodeError

    options = {"add_checksum": False} if symbology == "code39" else {}
    try:
        code = barcode.get(symbology, encoded[:-1] if symbology in _GS1_DIGITS else encoded, None, options)
        modules = "".join(code.build())
    except BarcodeError as error:
        raise ValueError(str(error).rstrip(".")) from None
    full = code.get_fullcode()
    if full != encoded:  # the library would draw something else than the value
        msg = f"it would be encoded as {full!r}"
        raise ValueError(msg)
    return bars_svg(modules, 10.0 if quiet_zone is None else quiet_zone), full


def bars_svg(modules: str, quiet_zone: float) -> bytes:
    """The SVG of a 1D code's modules as the library encoded them (``"1"`` a bar module, ``"0"``
    a space), one rectangle per bar, ``quiet_zone`` modules blank on each side. (python-barcode's
    own SVG writer builds a DOM: about 6 ms a code, against 0.1 ms for this.)

    >>> bars_svg("1101", 1).decode()  # doctest: +ELLIPSIS
    '<svg ... viewBox="0 0 6 40" ...><path d="M1 0h2v40h-2zM4 0h1v40h-1z" fill="#000"/></svg>'
    """
    width = len(modules) + 2 * quiet_zone
    bars = []
    for run in re.finditer("1+", modules):
        start, length = run.start() + quiet_zone, run.end() - run.start()
        bars.append(f"M{start:g} 0h{length}v{_BAR_HEIGHT}h-{length}z")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {_BAR_HEIGHT}" '
        f'width="{width * _MODULE_MM:g}mm" height="{_BAR_HEIGHT * _MODULE_MM:g}mm" preserveAspectRatio="none">'
        f'<rect width="{width:g}" height="{_BAR_HEIGHT}" fill="#fff"/>'
        f'<path d="{"".join(bars)}" fill="#000"/></svg>'
    ).encode()


def _matrix_code(symbology: str, value: str, quiet_zone: float) -> bytes:
    """The SVG of ``value`` as a PDF417, Data Matrix or Aztec code, made by zxing-cpp; a
    ``ValueError`` (its reason) where it cannot be encoded as it is."""
    import zxingcpp

    try:
        code = zxingcpp.create_barcode(value, getattr(zxingcpp.BarcodeFormat, MATRIX[symbology]))
    except ValueError as error:
        msg = re.sub(r"^Error \d+: ", "", str(error)).split(" (retval")[0]
        raise ValueError(msg[0].lower() + msg[1:] if msg else "zxing-cpp cannot encode it") from None
    if code.text != value and code.bytes != value.encode():  # it would read back as something else
        msg = f"it would be encoded as {code.text!r}"
        raise ValueError(msg)
    image: Any = zxingcpp.write_barcode_to_image(code, scale=1, add_quiet_zones=False)  # one pixel a module
    pixels = memoryview(image)  # (its stub does not say it is a buffer)
    assert pixels.shape is not None
    return matrix_svg(pixels.tobytes(), pixels.shape[1], quiet_zone)


def matrix_svg(pixels: bytes, width: int, quiet_zone: float) -> bytes:
    """The SVG of a 2D code's modules, ``pixels`` a grayscale image ``width`` modules wide (dark:
    below 128), one rectangle per run of dark modules (rows alike are one taller run: a PDF417
    row is three modules high), ``quiet_zone`` modules blank around it.

    >>> matrix_svg(bytes([0, 255, 0, 0, 255, 0]), 3, 1).decode()  # doctest: +ELLIPSIS
    '<svg ... viewBox="0 0 5 4" ...><path d="M1 1h1v2h-1zM3 1h1v2h-1z" fill="#000"/></svg>'
    """
    height = len(pixels) // width
    rows = [pixels[y * width : (y + 1) * width] for y in range(height)]
    parts = []
    top = 0
    for row, alike in itertools.groupby(rows):
        tall = len(list(alike))
        for run in re.finditer(rb"[\x00-\x7f]+", row):
            start, length = run.start() + quiet_zone, run.end() - run.start()
            parts.append(f"M{start:g} {top + quiet_zone:g}h{length}v{tall}h-{length}z")
        top += tall
    w, h = width + 2 * quiet_zone, height + 2 * quiet_zone
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:g} {h:g}" '
        f'width="{w * _MODULE_MM:g}mm" height="{h * _MODULE_MM:g}mm">'
        f'<rect width="{w:g}" height="{h:g}" fill="#fff"/>'
        f'<path d="{"".join(parts)}" fill="#000"/></svg>'
    ).encode()


def column_issue(where: str, dtype: pl.DataType) -> str | None:
    """The problem of a barcode value's type, or None (text, numbers, dates: anything with a
    text form but bytes and nested values)."""
    if dtype.is_nested() or dtype in (pl.Binary, pl.Object):
        return f"{where}: a barcode encodes text or numbers, not {dtype}"
    return None


def _cell_value(element: Barcode, where: str, value: str, assets: ImageAssets) -> str:
    """The JSON a barcode cell carries for one distinct value ("" for an invalid one with
    ``on_invalid: empty``); the SVG is added to ``assets`` under our asset name."""
    try:
        svg, text = draw(
            element.symbology, value, quiet_zone=element.quiet_zone, error_correction=element.error_correction
        )
    except ValueError as error:
        if element.on_invalid == "empty":
            return ""
        shown = value if len(value) <= 60 else value[:57] + "..."
        msg = (
            f"{where}: the value {shown!r} cannot be a {element.symbology} barcode: {error}.\n"
            "Hint: fix the data, or give the element on_invalid: empty to leave such cells empty."
        )
        raise DataError(msg) from None
    name, data = image_asset(svg, where, value)
    assets.files.setdefault(name, data)
    return json.dumps({"a": name, "t": text, "v": value}, ensure_ascii=False)


def resolve_barcodes(band: BandPlan, raw: pl.DataFrame, assets: ImageAssets) -> pl.DataFrame:
    """Replace the values of ``band``'s barcode cells (columns ``__v0``, ...) by the JSON of
    their drawn code (see the module's docstring), one drawing per distinct value; "" where
    the value is null or "" (or invalid, with ``on_invalid: empty``)."""

    def cell_value(cell: Cell, value: str) -> str:
        assert isinstance(cell.element, Barcode)
        return _cell_value(cell.element, cell.where, value, assets)

    return replace_distinct(raw, band.data_cells, "barcode", assets, cell_value, as_text=True)


def encoded_text(cell: str) -> str | None:
    """What a barcode cell encodes, as text: its human-readable text (an EAN with its check
    digit), else (a QR code) its value; None for an empty cell.

    >>> encoded_text('{"a": "assets/x.svg", "t": "", "v": "https://example.org"}')
    'https://example.org'
    >>> encoded_text("") is None
    True
    """
    try:
        code = json.loads(cell) if cell.startswith("{") else None
        return str(code.get("t") or code.get("v") or "") or None if isinstance(code, dict) else None
    except ValueError:
        return None


def encoded_series(cells: pl.Series) -> pl.Series:
    """``encoded_text`` of each cell, each distinct one once."""
    distinct = cells.drop_nulls().unique()
    texts = pl.Series([encoded_text(cell) for cell in distinct.to_list()], dtype=pl.String)
    return cells.replace_strict(distinct, texts, default=None, return_dtype=pl.String)
