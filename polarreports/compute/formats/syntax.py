"""The syntax of format patterns, before any locale or column: the shortcut names, the
sections of a number pattern, the fields of a date pattern, which family a pattern belongs
to, and the errors that say so.

>>> split_number_pattern("#,##0.00;(#,##0.00)")
[('', '#,##0.00', ''), ('(', '#,##0.00', ')')]
>>> tokenize_date("dd 'de' MMM")
[DateField(char='d', count=2), ' de ', DateField(char='M', count=3)]
>>> describe_foreign("yyyy-MM-dd")
'it is a date/time pattern'
"""

from __future__ import annotations

import re

import polars as pl

from polarreports.compute.formats.plans import DateField, DateToken
from polarreports.exceptions import FormatError

__all__ = [
    "DATE_FIELD_COUNTS",
    "DATE_SHORTCUTS",
    "NUMBER_SHORTCUTS",
    "STRING_TRANSFORMS",
    "TIME_FIELD_COUNTS",
    "ZONE_FIELD_COUNTS",
    "date_fields",
    "describe_foreign",
    "format_error",
    "mismatch_error",
    "split_number_pattern",
    "tokenize_date",
    "without_quoted",
]

NUMBER_SHORTCUTS = frozenset({"integer", "decimal", "percent", "currency", "accounting"})
"""The number shortcuts, which use the locale's standard patterns."""
DATE_SHORTCUTS = frozenset({"date", "time", "datetime"})
"""The date/time shortcuts, optionally with a width (``"date:short"``)."""
STRING_TRANSFORMS = frozenset({"upper", "lower", "title"})
"""The patterns a text column takes."""


def format_error(where: str, message: str) -> FormatError:
    """A :class:`FormatError` whose message starts with ``where`` (if any)."""
    return FormatError(f"{where}: {message}" if where else message)


def mismatch_error(pattern: str, dtype: pl.DataType, where: str, hint: str) -> FormatError:
    """The error of a pattern that does not fit the column's type, with a hint."""
    return format_error(where, f"pattern {pattern!r} does not fit a column of type {dtype}: {hint}")


def describe_foreign(pattern: str) -> str | None:
    """Name the family of a pattern meant for another type, if it is recognisable."""
    if pattern in NUMBER_SHORTCUTS:
        return "it is a number format"
    if pattern in STRING_TRANSFORMS:
        return "it is a text transform"
    if pattern.split(":", 1)[0] in DATE_SHORTCUTS:
        return "it is a date/time format"
    try:
        tokens = tokenize_date(pattern)
    except ValueError:
        tokens = []
    fields = [t for t in tokens if isinstance(t, DateField)]
    known = DATE_FIELD_COUNTS.keys() | TIME_FIELD_COUNTS.keys() | ZONE_FIELD_COUNTS.keys()
    if fields and all(f.char in known for f in fields):
        return "it is a date/time pattern"
    try:
        split_number_pattern(pattern)
    except ValueError:
        pass
    else:
        return "it is a number pattern"
    if pattern.count("/") == 1:
        return "it is a boolean 'true/false' pattern"
    return None


# ---------------------------------------------------------------------------- numbers

_AFFIX_RE = r"(?:[^'0-9@#.,]|'[^']*')*"
_NUMBER_RE = re.compile(rf"^(?P<prefix>{_AFFIX_RE})(?P<number>[0-9@#.,E+]*)(?P<suffix>.*)$", re.S)


def split_number_pattern(pattern: str) -> list[tuple[str, str, str]]:
    """Split into (prefix, number, suffix) per subpattern; raise ValueError if malformed."""
    if not pattern.strip():
        msg = "the pattern is empty"
        raise ValueError(msg)
    subpatterns = _split_unquoted(pattern, ";")
    if len(subpatterns) > 2:
        msg = "more than one ';' (only one negative subpattern is allowed)"
        raise ValueError(msg)
    parts = []
    for sub in subpatterns:
        match = _NUMBER_RE.match(sub)
        if match is None:  # pragma: no cover - the expression matches anything
            msg = "cannot read the pattern"
            raise ValueError(msg)
        prefix, number, suffix = match.group("prefix", "number", "suffix")
        _check_affix(prefix, "prefix")
        _check_affix(suffix, "suffix")
        _check_number_part(number)
        parts.append((prefix, number, suffix))
    return parts


def _split_unquoted(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == "'":
            quoted = not quoted
        if char == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def without_quoted(affix: str) -> str:
    """The affix without its quoted parts (where pattern symbols are literal)."""
    return re.sub(r"'[^']*'", "", affix)


def _check_affix(affix: str, what: str) -> None:
    if affix.count("'") % 2:
        msg = f"unterminated quote in the {what}"
        raise ValueError(msg)
    unquoted = without_quoted(affix)
    for char in unquoted:
        if char in "0123456789#@":
            msg = f"unexpected {char!r} after the number (quote literal text)"
            raise ValueError(msg)
        if char == ";":  # pragma: no cover - split before
            msg = "unexpected ';'"
            raise ValueError(msg)
    if "%" in unquoted and "‰" in unquoted:
        msg = "both '%' and '‰' in the pattern"
        raise ValueError(msg)


def _check_number_part(number: str) -> None:
    if "E" in number:
        msg = "scientific notation ('E') is not supported"
        raise ValueError(msg)
    if "@" in number:
        msg = "significant-digit patterns ('@') are not supported"
        raise ValueError(msg)
    if "+" in number:
        msg = "unexpected '+' in the number"
        raise ValueError(msg)
    if not any(c in "0#" for c in number):
        msg = "the pattern has no digit placeholders ('0' or '#')"
        raise ValueError(msg)
    if number.count(".") > 1:
        msg = "more than one decimal point"
        raise ValueError(msg)
    integer, _, fraction = number.partition(".")
    if any(c in "123456789" for c in number):
        msg = "rounding increments (digits 1-9) are not supported"
        raise ValueError(msg)
    if "," in fraction:
        msg = "grouping separator ',' in the fraction part"
        raise ValueError(msg)
    if not re.fullmatch(r"0*#*", fraction):
        msg = "the fraction part must be '0's followed by '#'s"
        raise ValueError(msg)
    if integer.startswith(",") or integer.endswith(",") or ",," in integer:
        msg = "misplaced grouping separator ','"
        raise ValueError(msg)
    if not re.fullmatch(r"[#,]*[0,]*", integer):
        msg = "'#' after '0' in the integer part"
        raise ValueError(msg)


# ------------------------------------------------------------------------ dates / times

DATE_FIELD_COUNTS: dict[str, tuple[int, ...] | None] = {
    "G": (1, 2, 3, 4, 5),
    "y": None,
    "Q": (1, 2, 3, 4, 5),
    "q": (1, 2, 3, 4, 5),
    "M": (1, 2, 3, 4, 5),
    "L": (1, 2, 3, 4, 5),
    "d": (1, 2),
    "D": (1, 2, 3),
    "F": (1,),
    "E": (1, 2, 3, 4, 5, 6),
    "e": (1, 2, 3, 4, 5, 6),
    "c": (1, 3, 4, 5, 6),
}
"""The date field letters and their allowed repeat counts (None: any count)."""
TIME_FIELD_COUNTS: dict[str, tuple[int, ...] | None] = {
    "a": (1, 2, 3, 4, 5),
    "h": (1, 2),
    "H": (1, 2),
    "K": (1, 2),
    "k": (1, 2),
    "m": (1, 2),
    "s": (1, 2),
    "S": tuple(range(1, 10)),
    "A": None,
}
"""The time field letters and their allowed repeat counts (None: any count)."""
ZONE_FIELD_COUNTS: dict[str, tuple[int, ...] | None] = {
    "z": (1, 2, 3, 4),
    "Z": (1, 2, 3, 4, 5),
    "O": (4,),
    "X": (1, 2, 3, 4, 5),
    "x": (1, 2, 3, 4, 5),
    "V": (2,),
}
"""The time zone field letters and their allowed repeat counts (None: any count)."""


def date_fields(
    text: str, pattern: str, dtype: pl.DataType, where: str, kind: str, needs: str
) -> tuple[list[DateToken], list[DateField]]:
    """The tokens and the fields of ``text``, the date-like pattern written ``pattern`` (a
    ``kind`` of pattern: ``"date"``, ``"duration"``); a ``FormatError`` where it cannot be read
    or holds no field (``needs``: what one would hold).

    >>> date_fields("dd.MM.", "dd.MM.", pl.Date(), "", "date", "")[1]
    [DateField(char='d', count=2), DateField(char='M', count=2)]
    """
    try:
        tokens = tokenize_date(text)
    except ValueError as exc:
        raise format_error(where, f"bad {kind} pattern {pattern!r}: {exc}") from exc
    fields = [t for t in tokens if isinstance(t, DateField)]
    if not fields:
        foreign = describe_foreign(pattern)
        hint = f"{foreign}; " if foreign else ""
        raise mismatch_error(pattern, dtype, where, f"{hint}{needs}")
    return tokens, fields


def tokenize_date(pattern: str) -> list[DateToken]:
    """Split a CLDR date pattern into literal strings and fields; ValueError if bad."""
    tokens: list[DateToken] = []
    literal: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "'":
            if i + 1 < n and pattern[i + 1] == "'":
                literal.append("'")
                i += 2
                continue
            j = i + 1
            while True:
                if j >= n:
                    msg = "unterminated quote"
                    raise ValueError(msg)
                if pattern[j] == "'":
                    if j + 1 < n and pattern[j + 1] == "'":
                        literal.append("'")
                        j += 2
                        continue
                    break
                literal.append(pattern[j])
                j += 1
            i = j + 1
        elif ("a" <= char <= "z") or ("A" <= char <= "Z"):
            j = i
            while j < n and pattern[j] == char:
                j += 1
            if literal:
                tokens.append("".join(literal))
                literal = []
            tokens.append(DateField(char, j - i))
            i = j
        else:
            literal.append(char)
            i += 1
    if literal:
        tokens.append("".join(literal))
    return tokens
