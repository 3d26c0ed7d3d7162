"""The Babel locale a format follows, found once per identifier.

>>> find_locale("de-DE").number_symbols["latn"]["decimal"]
','
"""

from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError

from polarreports.compute.formats.syntax import format_error

__all__ = ["find_locale", "locale_or_error"]


@lru_cache(maxsize=64)
def find_locale(identifier: str) -> Locale:
    """The Babel locale of ``identifier`` (``de_DE`` or ``de-DE``; cached).

    >>> str(find_locale("de-DE"))
    'de_DE'
    """
    return Locale.parse(identifier.replace("-", "_"))


def locale_or_error(identifier: str, where: str) -> Locale:
    """The Babel locale of ``identifier``, or a :class:`FormatError` naming ``where``."""
    try:
        return find_locale(identifier)
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise format_error(where, f"unknown locale {identifier!r}") from exc
