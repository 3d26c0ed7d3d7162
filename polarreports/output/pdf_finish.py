"""Finish a typeset PDF with pikepdf: attach the files that are its evidence (PDF/A-3's
associated files: each with its MIME type, dates, description and ``AFRelationship``, listed in
the catalog's ``/AF``), and encrypt it (AES-256) with its permissions. Everything else Typst
wrote (the PDF/A metadata, the tags, the outline) is kept as it is.

    >>> import io, pikepdf
    >>> from polarreports.typeset.compile import tiny_pdf
    >>> out = io.BytesIO()
    >>> note = Attachment("note.json", b"{}", "application/json", "Data", "a note")
    >>> finish_pdf(tiny_pdf(), out, attachments=[note], protect=None, date=0)
    >>> with pikepdf.open(io.BytesIO(out.getvalue())) as pdf:
    ...     sorted(pdf.attachments)
    ['note.json']
"""

from __future__ import annotations

import io
import json
import re
import secrets
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl

from polarreports.control import temp_prefix
from polarreports.exceptions import DataError, OutputError
from polarreports.output.exports import Rendered
from polarreports.output.pdf_options import Protection

__all__ = ["Attachment", "evidence", "finish_pdf", "pdf_date"]


@dataclass(frozen=True)
class Attachment:
    """A file to attach: its name, content, MIME type, relationship to the document (PDF/A-3's
    ``AFRelationship``: ``Data``, ``Source``, ``Supplement`` ...) and description."""

    name: str
    content: bytes
    mime_type: str
    relationship: str
    description: str


def pdf_date(seconds: float) -> str:
    """A PDF date string (UTC).

    >>> pdf_date(1_704_067_200)
    'D:20240101000000Z'
    """
    return time.strftime("D:%Y%m%d%H%M%SZ", time.gmtime(seconds))


def _file_stem(name: str) -> str:
    """A report name made safe as a file name."""
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "report"


def _parquet(rows: pl.LazyFrame, check: Callable[[], None]) -> bytes:
    """The rows written as Parquet through Polars' streaming engine (never held as a frame)."""
    check()
    with tempfile.TemporaryDirectory(prefix=temp_prefix()) as folder:
        path = Path(folder) / "data.parquet"
        try:
            rows.sink_parquet(path, compression="zstd")
        except pl.exceptions.PolarsError as error:
            msg = f"cannot write the report's rows to attach them: {str(error).splitlines()[0]}"
            raise DataError(msg) from None
        check()
        return path.read_bytes()


def _json_value(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def evidence(rendered: Rendered, names: Sequence[str], check: Callable[[], None]) -> list[Attachment]:
    """The attachments ``names`` asks for (``"data"``, ``"definition"``, ``"parameters"``) of a render.

    ``data``: the rows the report shows (the input's rows that passed its filter, its columns,
    in the input's order), as Parquet; ``definition``: the report definition, as YAML;
    ``parameters``: the value of every parameter, given or default, as JSON.
    """
    report_name = rendered.plan.name
    stem = _file_stem(report_name)
    found = []
    for name in names:
        if name == "data":
            if rendered.rows is None:
                msg = "cannot attach the data: this document was made without its rows; render it again"
                raise OutputError(msg)
            content = _parquet(rendered.rows, check)
            found.append(
                Attachment(
                    f"{stem}-data.parquet",
                    content,
                    "application/vnd.apache.parquet",
                    "Data",
                    f"The rows of report {report_name!r} (after its filter, in the input's order), as Parquet",
                )
            )
        elif name == "definition":
            if rendered.definition_yaml is None:
                msg = "cannot attach the definition: this document was made without it; render it again"
                raise OutputError(msg)
            found.append(
                Attachment(
                    f"{stem}.yaml",
                    rendered.definition_yaml().encode(),
                    "application/yaml",
                    "Source",
                    f"The definition of report {report_name!r} (polarreports YAML)",
                )
            )
        elif name == "parameters":
            text = json.dumps(rendered.plan.parameters, default=_json_value, ensure_ascii=False, indent=2)
            found.append(
                Attachment(
                    f"{stem}-parameters.json",
                    text.encode(),
                    "application/json",
                    "Source",
                    f"The parameter values report {report_name!r} was rendered with, as JSON",
                )
            )
    return found


def _encryption(protect: Protection) -> Any:
    import pikepdf

    allowed = set(protect.allow)
    permissions = pikepdf.Permissions(
        accessibility=True,  # screen readers always (a tagged PDF stays readable)
        extract="copy" in allowed,
        modify_annotation="edit" in allowed,
        modify_assembly="edit" in allowed,
        modify_form="edit" in allowed,
        modify_other="edit" in allowed,
        print_lowres="print" in allowed,
        print_highres="print" in allowed,
    )
    owner = protect.owner_password if protect.owner_password is not None else secrets.token_urlsafe(24)
    return pikepdf.Encryption(owner=owner, user=protect.user_password, R=6, aes=True, allow=permissions)


def finish_pdf(
    pdf: bytes | Path,
    file: BinaryIO,
    *,
    attachments: Sequence[Attachment],
    protect: Protection | None,
    date: float,
) -> None:
    """Write ``pdf`` to ``file`` with ``attachments`` (dated ``date``, Unix seconds) and, with
    ``protect``, encrypted. A failure is an ``OutputError`` that never holds a password."""
    import pikepdf

    stamp = pdf_date(date)
    try:
        with pikepdf.open(pdf if isinstance(pdf, Path) else io.BytesIO(pdf)) as document:
            specs = []
            for attachment in attachments:
                document.attachments[attachment.name] = pikepdf.AttachedFileSpec(
                    document,
                    attachment.content,
                    description=attachment.description,
                    filename=attachment.name,
                    mime_type=attachment.mime_type,
                    creation_date=stamp,
                    mod_date=stamp,
                    relationship=pikepdf.Name("/" + attachment.relationship),
                )
                specs.append(document.attachments[attachment.name].obj)
            if specs:  # PDF/A-3: every attached file is associated with the document
                document.Root.AF = pikepdf.Array(specs)
            if protect is None:
                document.save(file, deterministic_id=True)
            else:
                document.save(file, encryption=_encryption(protect))
    except pikepdf.PdfError as error:  # (its messages name objects and offsets, never a password)
        msg = f"cannot finish the PDF: {str(error).splitlines()[0]}"
        raise OutputError(msg) from None
    except (ValueError, RuntimeError) as error:  # told by its kind only: its text might quote a value
        msg = f"cannot finish the PDF: pikepdf refused it ({type(error).__name__})"
        raise OutputError(msg) from None
