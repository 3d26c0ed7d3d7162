"""What a render did: a typed record of its figures (``doc.stats``).

Attributes are typed and documented; the record also reads as a mapping (``doc.stats["rows"]``,
``dict(doc.stats)`` for logs and JSON), and refuses names it does not know, so a misspelt key
is an error, not a silent ``None``.

    >>> stats = RenderStats(rows=300, bands=352)
    >>> stats.rows, stats["bands"], dict(stats)["typeset"]
    (300, 352, '')
    >>> stats["row"]
    Traceback (most recent call last):
    ...
    KeyError: "RenderStats has no 'row'; did you mean 'rows'?"
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field, fields
from typing import Any

from polarreports.suggest import closest

__all__ = ["RenderStats"]


@dataclass
class RenderStats(MutableMapping[str, Any]):
    """The figures of one render; the typesetting ones are filled when the document is typeset."""

    plan_s: float = 0.0
    """Seconds to check the definition against the data and build the plan."""
    data_s: float = 0.0
    """Seconds of the data phase (Polars: rows, groups, totals, formats, charts)."""
    layout_s: float = 0.0
    """Seconds to write the Typst source."""
    rows: int = 0
    """Detail rows after the filter."""
    bands: int = 0
    """Band instances in the band stream."""
    data_parts: int = 1
    """How many parts the rows were sorted in (1: all at once)."""
    charts: int = 0
    """Charts drawn, cached ones included."""
    charts_rendered: int = 0
    """Charts vl-convert drew in this render."""
    charts_cached: int = 0
    """Charts taken from the cache."""
    warnings: list[str] = field(default_factory=list)
    """Text cut on the page (clipped, cut to "…", taller than a fixed height), one line each."""
    typeset: str = ""
    """How the document was typeset, in words: "one piece", "12 chunks in 2 worker processes",
    "one piece (why)", ...; empty until it is typeset."""
    pages: int | None = None
    """Pages of the typeset document (None until known)."""
    pages_predicted: int | None = None
    """Pages predicted ahead of Typst for a chunked report (None if not predicted)."""
    worker_peak_mb: float | None = None
    """The largest Typst worker process's peak memory, in MB."""
    typst_pdf_s: float | None = None
    """Seconds the PDF took to typeset (None until it is)."""
    typst_png_s: float | None = None
    typst_svg_s: float | None = None
    pdf_bytes: int | None = None
    """Size of the PDF (None until it is typeset)."""
    png_bytes: int | None = None
    """Size of the PNG pages together."""
    svg_bytes: int | None = None
    pdf_standard: str | None = None
    """The PDF/A level of the last PDF saved with one (``"a-2b"``, ...), else None."""
    pdf_attachments: list[str] = field(default_factory=list)
    """The names of the files attached to the last PDF saved with attachments."""
    pdf_protected: bool = False
    """Whether a PDF was saved encrypted (its passwords are never kept here)."""

    def _name(self, key: str) -> str:
        if key not in _FIELDS:
            hint = closest(key, _FIELDS, n=1) or f"; it has {', '.join(_FIELDS)}"
            msg = f"RenderStats has no {key!r}{hint}"
            raise KeyError(msg)
        return key

    def __getitem__(self, key: str) -> Any:
        return getattr(self, self._name(key))

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, self._name(key), value)

    def __delitem__(self, key: str) -> None:
        msg = "the figures of a render cannot be deleted"
        raise TypeError(msg)

    def __iter__(self) -> Iterator[str]:
        return iter(_FIELDS)

    def __len__(self) -> int:
        return len(_FIELDS)


_FIELDS = tuple(f.name for f in fields(RenderStats))
