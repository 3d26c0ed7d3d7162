"""What can be checked of a format pattern before the type of its column is known.

(The patterns themselves are compiled to Polars expressions in ``compute.formats``.)
"""

from __future__ import annotations

from polarreports.exceptions import FormatError

__all__ = ["MAX_PATTERN", "check_pattern_length"]

MAX_PATTERN = 256
"""The longest format pattern accepted: a longer one can only be a mistake or an attack (Polars
panics on patterns of 100,000 characters)."""


def check_pattern_length(pattern: str | None, *, where: str = "") -> None:
    """Raise :class:`FormatError` if ``pattern`` is longer than ``MAX_PATTERN`` characters: the
    one check that needs no column type.

    >>> try:
    ...     check_pattern_length("0" * 300, where="detail.elements[0]")
    ... except FormatError as exc:
    ...     print(exc)
    detail.elements[0]: the format pattern is 300 characters long; at most 256 are allowed
    """
    if pattern is not None and len(pattern) > MAX_PATTERN:
        problem = f"the format pattern is {len(pattern):,} characters long; at most {MAX_PATTERN} are allowed"
        raise FormatError(f"{where}: {problem}" if where else problem)
