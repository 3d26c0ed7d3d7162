"""Every error polarreports raises, in one tree.

    PolarReportsError
    ├── DefinitionError      the report definition itself is malformed (bad YAML, unknown key)
    ├── PlanError            the definition does not fit the data (unknown column, wrong type);
    │                        carries every problem found in ``.issues``
    ├── ParameterError       a parameter value is missing, unknown or of the wrong type
    ├── RenderOptionError    a render option (timeout, workers, ...) is unknown or out of range
    ├── FormatError          a format pattern cannot be understood; names the element
    ├── DataError            the data cannot be read
    │   └── AccessError      a file the definition names lies outside the allowed folders
    ├── RenderError          Typst failed; names the band and element that caused it
    │   └── LayoutError      the bands cannot be laid out as declared (split: error, ...)
    ├── OutputError          the output cannot be written there: a suffix polarreports does not
    │   │                    write, a folder that cannot be written (checked before any work)
    │   └── WriteError       writing failed part way (a full disk); nothing was left behind
    ├── ChartError           Vega rejected a chart; names the band and chart
    ├── Cancelled            cancelled, or past its time limit (nothing was written)
    └── ResourceError        the render cannot fit in its memory budget

Example
-------
>>> from polarreports.exceptions import PlanError
>>> PlanError(["detail.elements[0]: unknown column 'amout'"]).issues
["detail.elements[0]: unknown column 'amout'"]
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AccessError",
    "Cancelled",
    "ChartError",
    "DataError",
    "DefinitionError",
    "FormatError",
    "LayoutError",
    "OutputError",
    "ParameterError",
    "PlanError",
    "PolarReportsError",
    "RenderError",
    "RenderOptionError",
    "ResourceError",
    "WriteError",
]


class PolarReportsError(Exception):
    """Base class of every polarreports error."""


class DefinitionError(PolarReportsError):
    """The report definition cannot be read or is malformed."""


class PlanError(PolarReportsError):
    """The definition does not fit the data; ``issues`` lists every problem found."""

    def __init__(self, issues: Sequence[str]) -> None:
        self.issues = list(issues)
        if len(self.issues) == 1:
            message = self.issues[0]
        else:
            message = f"{len(self.issues)} problems in the report definition:\n" + "\n".join(
                f"  - {issue}" for issue in self.issues
            )
        super().__init__(message)


class ParameterError(PolarReportsError):
    """A report parameter is missing, unknown, not allowed or of the wrong type."""


class RenderOptionError(PolarReportsError):
    """A render option (``timeout``, ``workers``, ...) is unknown or out of range."""


class FormatError(PolarReportsError):
    """A format pattern is invalid for the element that uses it."""


class DataError(PolarReportsError):
    """The report data cannot be read."""


class AccessError(DataError):
    """A file the definition names (an image, the logo) lies outside the folders it may be
    read from, or is not a regular file."""


class OutputError(PolarReportsError):
    """The output cannot be written where it was asked: the suffix is not one polarreports
    writes, the folder is not writable (checked before any work), or writing failed (a full
    disk)."""


class WriteError(OutputError):
    """Writing the output failed part way (a full disk, an I/O error); no partial file was left."""


class RenderError(PolarReportsError):
    """Typst could not typeset the document.

    ``band`` and ``element`` name the part of the definition that produced the failing
    Typst code, when it can be traced; ``typst_message`` is Typst's own message.
    """

    def __init__(
        self,
        message: str,
        *,
        band: str | None = None,
        element: str | None = None,
        typst_message: str = "",
    ) -> None:
        self.band = band
        self.element = element
        self.typst_message = typst_message
        super().__init__(message)


class LayoutError(RenderError):
    """The bands cannot be laid out as declared, e.g. a band with ``split: error`` is taller
    than the page, or a fixed band height does not fit on one."""


class ChartError(PolarReportsError):
    """A chart cannot be drawn (Vega rejected it, or it has too many points); ``band`` and
    ``element`` name it, ``vega_message`` is Vega's own message."""

    def __init__(
        self, message: str, *, band: str | None = None, element: str | None = None, vega_message: str = ""
    ) -> None:
        self.band = band
        self.element = element
        self.vega_message = vega_message
        super().__init__(message)


class Cancelled(PolarReportsError):
    """The render was cancelled or ran past its time limit; its worker processes were ended
    and no output file was written."""


class ResourceError(PolarReportsError):
    """The render cannot be done within the memory budget it was given."""
