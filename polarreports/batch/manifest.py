"""The manifest of a batch: one CSV row per key (its file, pages, bytes, SHA-256, duration,
status and error), in the output folder.

CSV, not Parquet, because it is written as a journal: each document's row is appended (one
``write`` of a whole line, flushed) the moment the document is on disk, so a run killed at any
point has recorded every document it finished, at worst with a torn last line, which is
ignored. At the end of a run the journal is rewritten, atomically, as one row per key in key
order. A re-run reads it and keeps every document whose file still has the recorded size and
SHA-256 and whose input (definition, parameters, rows) is unchanged; the others (failed,
missing, changed, never reached) are rendered again.

>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "manifest.csv"
>>> with Journal(path) as journal:
...     journal.write(Entry('{"customer": "Acme"}', "Acme.pdf", "ok", pages=1, bytes=9, sha256="ab"))
>>> read_manifest(path)['{"customer": "Acme"}'].file
'Acme.pdf'
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from types import TracebackType
from typing import Literal

from polarreports.exceptions import OutputError
from polarreports.output.document import write_atomically

__all__ = [
    "MANIFEST_NAME",
    "Entry",
    "Journal",
    "Status",
    "file_matches",
    "read_manifest",
    "sha256_of",
    "write_manifest",
]

MANIFEST_NAME = "manifest.csv"
Status = Literal["ok", "failed", "empty"]
"""ok: the file is written; failed: its render failed (``error`` says why); empty: the key has
no rows, so no document (unless the report has a no_data band)."""


@dataclass(frozen=True)
class Entry:
    """What the manifest records for one key."""

    key: str
    """The key's values, as a JSON object: ``{"region": "EU", "customer_id": 17}``."""
    file: str
    """The document's path, relative to the output folder (``/`` separated)."""
    status: Status
    pages: int | None = None
    bytes: int | None = None
    sha256: str = ""
    input: str = ""
    """A fingerprint of what made the document: the definition, the parameters, the
    polarreports version and the key's rows (a re-run renders the key again when it changed)."""
    duration_s: float | None = None
    """The seconds its render, typesetting and writing took."""
    error: str = ""


_COLUMNS = [field.name for field in fields(Entry)]


def _row(entry: Entry) -> str:
    buffer = io.StringIO()
    values = asdict(entry)
    csv.writer(buffer, lineterminator="\n").writerow(["" if values[c] is None else values[c] for c in _COLUMNS])
    return buffer.getvalue()


def _entry(row: dict[str, str]) -> Entry | None:
    try:
        return Entry(
            key=row["key"],
            file=row["file"],
            status=row["status"],  # type: ignore[arg-type]
            pages=int(row["pages"]) if row["pages"] else None,
            bytes=int(row["bytes"]) if row["bytes"] else None,
            sha256=row["sha256"],
            input=row["input"],
            duration_s=float(row["duration_s"]) if row["duration_s"] else None,
            error=row["error"],
        )
    except (KeyError, ValueError, TypeError):  # a torn or foreign line
        return None


def read_manifest(path: Path) -> dict[str, Entry]:
    """The last row recorded for each key (a journal may list a key twice: a failure, then a
    success); nothing if there is no manifest. A last line without its line end (the run was
    killed while writing it) is ignored. ``OutputError`` for a file that is not a manifest."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return {}
    except OSError as error:
        msg = f"cannot read the manifest {str(path)!r}: {error.strerror or error}"
        raise OutputError(msg) from None
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    reader = csv.DictReader(io.StringIO(text))
    if text and reader.fieldnames != _COLUMNS:
        msg = (
            f"{str(path)!r} is not a polarreports batch manifest (its columns are {reader.fieldnames})\n"
            "Hint: give the batch an output folder of its own."
        )
        raise OutputError(msg)
    found = {}
    for row in reader:
        entry = _entry(row)
        if entry is not None and entry.status in {"ok", "failed", "empty"}:
            found[entry.key] = entry
    return found


def file_matches(folder: Path, entry: Entry) -> bool:
    """Whether ``entry`` is a written document whose file is still there, with the recorded
    size and SHA-256 (so a re-run can keep it)."""
    if entry.status != "ok" or not entry.sha256:
        return False
    path = folder / entry.file
    try:
        if not path.is_file() or path.stat().st_size != entry.bytes:
            return False
        return hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256
    except OSError:
        return False


class Journal:
    """The manifest, open for appending: each :meth:`write` adds one whole line, flushed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fresh = not path.exists() or path.stat().st_size == 0
            self._file = path.open("a", encoding="utf-8", newline="")
            if not fresh and not path.read_bytes().endswith(b"\n"):
                self._file.write("\n")  # after a torn last line: start a new one
            if fresh:
                self._file.write(",".join(_COLUMNS) + "\n")
            self._file.flush()
        except OSError as error:
            msg = f"cannot write the manifest {str(path)!r}: {error.strerror or error}"
            raise OutputError(msg) from None

    def write(self, entry: Entry) -> None:
        self._file.write(_row(entry))
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def write_manifest(path: Path, entries: Iterable[Entry]) -> None:
    """Replace the manifest (atomically) with ``entries``, one row each."""
    write_atomically(path, ",".join(_COLUMNS) + "\n" + "".join(_row(entry) for entry in entries))


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
