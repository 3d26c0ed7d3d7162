"""File names for batch documents: a template over the key columns, each value made safe.

A template such as ``"{region}/{customer_id}.pdf"`` names one file per key, relative to the
output folder. Every value becomes exactly one path component: separators, ``..``, NUL and
other control characters, characters Windows refuses and reserved device names are replaced,
and a value that had to change, or was too long, gets a short hash of the original appended,
so two different keys never end up with the same name. What is left to collide is names that
differ only in case (``ACME`` and ``Acme``), which a case-insensitive file system would
merge: :func:`check_collisions` refuses those before anything is rendered.

>>> names = FileNames("{region}/{customer}.pdf", ["region", "customer"])
>>> names.path({"region": "EU", "customer": "Acme GmbH"})
'EU/Acme GmbH.pdf'
>>> names.path({"region": "..", "customer": "a/b"})
'_~5ec1f7e7/a_b~c14cddc0.pdf'
"""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from polarreports.exceptions import OutputError

__all__ = ["MAX_COMPONENT_BYTES", "FileNames", "check_collisions", "safe_component"]

MAX_COMPONENT_BYTES = 120
"""The longest a value's part of a file name may be, in UTF-8 bytes (file systems allow 255
per component; room is left for the suffix, the hash and the temporary-file prefix)."""
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def _tag(text: str) -> str:
    return "~" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def _clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, on a character boundary."""
    return text.encode("utf-8", "surrogatepass")[:limit].decode("utf-8", "ignore")


def safe_component(value: Any) -> str:
    """One file-name component for a key value; a value changed on the way gets a hash of the
    original, so different values give different components.

    >>> safe_component("Acme"), safe_component(42), safe_component(None)
    ('Acme', '42', '_null_~b003b417')
    >>> safe_component("../../etc/passwd")
    '_.._.._etc_passwd~3754d6cb'
    >>> len(safe_component("x" * 1000).encode())
    129
    """
    text = "_null_" if value is None else str(value)
    safe = unicodedata.normalize("NFC", text)
    safe = "".join(c if c.isprintable() else "_" for c in safe)  # control, format, unassigned, ...
    safe = _UNSAFE.sub("_", safe).strip(" ")
    safe = safe.rstrip(".")  # Windows drops trailing dots; "." and ".." become empty here
    if not safe:
        safe = "_"
    if safe.split(".")[0].upper() in _RESERVED:
        safe = "_" + safe
    if safe.startswith("."):  # no hidden files, and never the names of our temporary files
        safe = "_" + safe
    clipped = _clip(safe, MAX_COMPONENT_BYTES)
    if clipped != text or value is None:
        clipped = clipped + _tag(text)
    return clipped


class FileNames:
    """The file name of each key: a template whose fields are key columns (format specs
    allowed: ``{invoice_no:06d}``), relative to the output folder; ``/`` makes sub-folders.
    ``OutputError`` for a template that names another column, leaves the folder (absolute,
    ``..``), or has no field at all."""

    def __init__(self, template: str, columns: Sequence[str]) -> None:
        self.template = template
        self.columns = list(columns)
        fields = []
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError as error:
            msg = f"file name template {template!r} cannot be read: {error}"
            raise OutputError(msg) from None
        for _, field, spec, conversion in parsed:
            if field is None:
                continue
            if field not in self.columns or conversion:
                msg = (
                    f"file name template {template!r}: {{{field}}} is not a key column; "
                    f"use {', '.join('{' + c + '}' for c in self.columns)}"
                )
                raise OutputError(msg)
            if spec and "{" in spec:
                msg = f"file name template {template!r}: a nested field in {{{field}:{spec}}}"
                raise OutputError(msg)
            fields.append(field)
        literal = "".join(text for text, *_ in parsed).replace("/", "")
        if not fields or template.startswith("/") or re.match(r"^[A-Za-z]:", template):
            example = "{" + self.columns[0] + "}.pdf"
            msg = f"file name template {template!r} must be relative and name a key column, such as {example!r}"
            raise OutputError(msg)
        if any(part in {"", ".", ".."} for part in template.split("/")) or _UNSAFE.sub("", literal) != literal:
            msg = (
                f"file name template {template!r}: its folders must be plain names "
                "(no '..', '.' or empty parts, no backslashes or control characters)"
            )
            raise OutputError(msg)
        self.fields = fields
        self._parsed = parsed

    def path(self, key: Mapping[str, Any]) -> str:
        """The relative path (``/`` separated) of the document of ``key``."""
        out = []
        for text, field, spec, _ in self._parsed:
            out.append(text)
            if field is None:
                continue
            value = key[field]
            try:
                shown = format(value, spec) if spec and value is not None else value
            except (ValueError, TypeError) as error:
                msg = f"file name template {self.template!r}: cannot format {value!r} with {{{field}:{spec}}}: {error}"
                raise OutputError(msg) from None
            out.append(safe_component(shown))
        return "".join(out)


def check_collisions(paths: Iterable[str]) -> None:
    """``OutputError`` if two keys would get the same file, or files whose names differ only
    in case (one file on a case-insensitive file system, such as macOS's or Windows').

    >>> check_collisions(["EU/acme.pdf", "US/acme.pdf"])
    >>> check_collisions(["EU/Acme.pdf", "eu/acme.pdf"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    polarreports.OutputError: two keys would write the same file, 'EU/Acme.pdf' and 'eu/acme.pdf' (their ...
    Hint: add a column that tells them apart to the file name template.
    """
    seen: dict[str, str] = {}
    for path in paths:
        folded = unicodedata.normalize("NFC", path).casefold()
        if folded in seen:
            first = seen[folded]
            why = "" if first == path else " (their names differ only in case)"
            msg = (
                f"two keys would write the same file, {first!r} and {path!r}{why}\n"
                "Hint: add a column that tells them apart to the file name template."
            )
            raise OutputError(msg)
        seen[folded] = path
