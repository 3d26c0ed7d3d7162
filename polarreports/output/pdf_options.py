"""What a saved PDF may be asked to be besides the report: archival (PDF/A), carrying its own
evidence (attached files), protected (encrypted, with permissions). Checked before any work.

    >>> PdfOptions.checked("a-3b", ["data", "definition"], None).attach
    ('data', 'definition')
    >>> PdfOptions.checked("a-2b", ["data"], None)
    Traceback (most recent call last):
    ...
    polarreports.OutputError: PDF/A-2b cannot carry attached files (PDF/A-3 can): give pdf_standard='a-3b'
    >>> Protection(user_password="s3cret")
    Protection(user_password=***, owner_password=None, allow=())
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from polarreports.exceptions import OutputError
from polarreports.suggest import closest

__all__ = ["ATTACHMENTS", "PDF_STANDARDS", "PERMISSIONS", "PdfOptions", "Protection"]

PDF_STANDARDS = ("a-2b", "a-2u", "a-3b", "a-3u")
"""The PDF/A levels a report can be saved to (the ``a`` levels need a tagged PDF: see README)."""
ATTACHMENTS = ("data", "definition", "parameters")
"""What can be attached: the report's rows (Parquet), its definition (YAML), its parameters (JSON)."""
PERMISSIONS = ("print", "copy", "edit")
"""What a protected PDF may allow a reader with the user password (nothing, by default)."""


MAX_PASSWORD_BYTES = 127
"""AES-256 PDFs (revision 6) use the first 127 bytes of a password's UTF-8; a longer one would
not open the file again, so it is refused."""


def _check_password(name: str, value: object) -> None:
    """``OutputError`` for a password that cannot protect a PDF; the message never holds it.

    >>> _check_password("user_password", "x" * 128)
    Traceback (most recent call last):
    ...
    polarreports.OutputError: Protection user_password is 128 bytes long (UTF-8): give at most 127
    """
    if value is None:
        return
    if not isinstance(value, str):
        msg = f"Protection {name} must be text (a str), not {type(value).__name__}"
        raise OutputError(msg)
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        msg = f"Protection {name} is not valid Unicode text (it holds a lone surrogate)"
        raise OutputError(msg) from None
    if "\0" in value:
        msg = f"Protection {name} holds a NUL character, which a PDF password cannot"
        raise OutputError(msg)
    if size > MAX_PASSWORD_BYTES:
        msg = f"Protection {name} is {size} bytes long (UTF-8): give at most {MAX_PASSWORD_BYTES}"
        raise OutputError(msg)


@dataclass(frozen=True)
class Protection:
    """Encrypt a saved PDF (AES-256) so that it opens only with ``user_password`` (``""``: it
    opens without one, its permissions still apply), and allow a reader only what ``allow``
    names (``"print"``, ``"copy"``, ``"edit"``); the ``owner_password`` lifts every restriction
    (None: a random one nobody knows, so the restrictions stay). The passwords never appear in
    a repr, a log line, an error or the render's stats.

    >>> Protection(user_password="open me", allow=("print",)).allow
    ('print',)
    """

    user_password: str = field(default="", repr=False)
    owner_password: str | None = field(default=None, repr=False)
    allow: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("user_password", "owner_password"):
            _check_password(name, getattr(self, name))
        if self.owner_password == "":
            msg = "Protection owner_password is empty: give one, or None for a random one nobody knows"
            raise OutputError(msg)
        allow = (self.allow,) if isinstance(self.allow, str) else tuple(self.allow)
        for permission in allow:
            if permission not in PERMISSIONS:
                hint = closest(str(permission), PERMISSIONS, n=1, cutoff=0.5)
                msg = f"Protection allow={permission!r} is not a permission: use {', '.join(PERMISSIONS)}{hint}"
                raise OutputError(msg)
        object.__setattr__(self, "allow", allow)

    def __repr__(self) -> str:
        user = "***" if self.user_password else "''"
        owner = None if self.owner_password is None else "***"
        return f"Protection(user_password={user}, owner_password={owner}, allow={self.allow!r})"


@dataclass(frozen=True)
class PdfOptions:
    """A PDF's standard, attachments and protection, checked together (``OutputError``)."""

    standard: str | None = None
    attach: tuple[str, ...] = ()
    protect: Protection | None = None

    @property
    def plain(self) -> bool:
        """Nothing asked: the PDF as Typst wrote it."""
        return self.standard is None and not self.attach and self.protect is None

    @classmethod
    def checked(cls, standard: str | None, attach: Iterable[str] | str, protect: Protection | None) -> PdfOptions:
        """The options, or an ``OutputError`` naming what is wrong and what would be valid."""
        if standard is not None:
            standard = str(standard).strip().lower().removeprefix("pdf/").removeprefix("pdfa-").replace("_", "-")
            if standard not in PDF_STANDARDS:
                hint = closest(standard, PDF_STANDARDS, n=1, cutoff=0.5)
                msg = f"pdf_standard={standard!r} is not supported: use {', '.join(PDF_STANDARDS)}{hint}"
                raise OutputError(msg)
        names = [attach] if isinstance(attach, str) else list(attach)
        for name in names:
            if name not in ATTACHMENTS:
                hint = closest(str(name), ATTACHMENTS, n=1, cutoff=0.5)
                msg = f"attach={name!r} is not something to attach: use {', '.join(ATTACHMENTS)}{hint}"
                raise OutputError(msg)
        if names and standard is not None and standard.startswith("a-2"):
            msg = (
                f"PDF/A-{standard[2:]} cannot carry attached files (PDF/A-3 can): give pdf_standard='a-3{standard[3:]}'"
            )
            raise OutputError(msg)
        if protect is not None and not isinstance(protect, Protection):
            msg = f"protect must be a polarreports.Protection, not {type(protect).__name__}"
            raise OutputError(msg)
        if protect is not None and standard is not None:
            msg = f"PDF/A-{standard[2:]} forbids encryption: give pdf_standard or protect, not both"
            raise OutputError(msg)
        return cls(standard, tuple(dict.fromkeys(names)), protect)
