"""Did-you-mean hints for error messages: the one place that picks the names nearest a wrong one.

Every "did you mean ...?" of polarreports (an unknown key, column, variable, parameter, render
option, paper size, output suffix) comes from :func:`close_matches`; :func:`closest` words the
usual hint.

    >>> closest("revenu", ["revenue", "region", "__row"])
    "; did you mean 'revenue'?"
    >>> closest("REGION", ["region"])  # a difference of case only
    "; did you mean 'region'?"
    >>> closest("xyz", ["revenue"])
    ''
    >>> close_matches("timout", ["timeout", "workers"], n=1, cutoff=0.75)
    ['timeout']
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["close_matches", "closest"]


def close_matches(name: str, candidates: Iterable[object], *, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The candidates nearest ``name`` (at most ``n``, best first; ``difflib``'s ratio at least
    ``cutoff``), or the one equal to it but for case; internal names (``__x``) are never offered."""
    visible = [text for text in map(str, candidates) if not text.startswith("__")]
    matches = difflib.get_close_matches(name, visible, n=n, cutoff=cutoff)
    if not matches:
        lowered = {text.lower(): text for text in visible}
        if name.lower() in lowered:
            matches = [lowered[name.lower()]]
    return matches


def closest(name: str, candidates: Iterable[object], *, n: int = 3, cutoff: float = 0.6) -> str:
    """A "; did you mean 'a' or 'b'?" hint naming :func:`close_matches`, or an empty string."""
    matches = close_matches(name, candidates, n=n, cutoff=cutoff)
    if not matches:
        return ""
    return "; did you mean " + " or ".join(repr(m) for m in matches) + "?"
