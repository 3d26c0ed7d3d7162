"""Predict where Typst will break pages, so that a long report can be typeset in parallel chunks.

Every band kind has one height while none of its cells wraps (Typst measures it once). With
those heights the page breaks follow by arithmetic: a band goes on the page if it fits below
the previous one (plus that band's space after), a group header (sticky in Typst) never ends a
page, and the title and column header take their room on page 1. The prediction is checked
against Typst afterwards (page counts and the room left where chunks join); when it is wrong,
the report is typeset in one piece instead.

    >>> pages = paginate([0, 0, 0, 0, 0], heights=[10.0], spacing=[0.0], sticky=[False], body=25.0)
    >>> pages.starts, pages.total
    ([0, 2, 4], 3)
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["EPSILON", "Pagination", "paginate"]

EPSILON = 0.01
"""Points of tolerance when comparing heights: Typst and Python add them in a different order."""


@dataclass(frozen=True)
class Pagination:
    starts: list[int]
    """Index of the first band of each page that holds bands."""
    total: int
    """Pages in the document, including a page of its own for the summary if it needs one."""
    summary_page: bool
    """Whether the summary starts a page of its own."""
    first_page: int = 0
    """Pages before the first band's page (1 where the title has a page of its own)."""
    room_breaks: tuple[int, ...] = ()
    """Bands that start a new page because the room they need was not left (``needs``)."""

    def chunk_starts(self, pages_per_chunk: int, sticky_before: Sequence[bool]) -> list[int]:
        """Page indices where chunks start: every ``pages_per_chunk`` pages, moved on past pages
        whose previous band is sticky (a chunk must not begin right after a group header)."""
        chunks = [0]
        page = pages_per_chunk
        while page < len(self.starts):
            while page < len(self.starts) and sticky_before[self.starts[page]]:
                page += 1
            if page < len(self.starts):
                chunks.append(page)
            page += pages_per_chunk
        return chunks


def paginate(
    kinds: Sequence[int],
    *,
    heights: Sequence[float],
    spacing: Sequence[float],
    sticky: Sequence[bool],
    body: float,
    first_page_used: float = 0.0,
    summary: float = 0.0,
    breaks_before: Sequence[bool] = (),
    breaks_after: Sequence[bool] = (),
    needs: Mapping[int, float] | None = None,
    breaks_at: Sequence[int] = (),
    title_page: bool = False,
    summary_page: bool = False,
) -> Pagination:
    """Page breaks for bands of the given ``kinds`` (indices into the per-kind lists); a band
    whose kind has ``breaks_before`` starts a new page, as does the band after one whose kind
    has ``breaks_after`` and every band in ``breaks_at``, and band ``i`` starts a new page
    unless ``needs[i]`` points are left.
    With ``title_page``, the title has page 1 to itself; with ``summary_page``, the summary
    starts a page of its own."""
    count = len(kinds)
    before = [bool(breaks_before[kind]) if kind < len(breaks_before) else False for kind in range(len(heights))]
    after = [bool(breaks_after[kind]) if kind < len(breaks_after) else False for kind in range(len(heights))]
    forced = sorted({i for i in range(1, count) if before[kinds[i]] or after[kinds[i - 1]]} | set(breaks_at))
    room_breaks = []
    needing = sorted((needs or {}).items())
    needing_at = [i for i, _ in needing]
    steps = [heights[k] + spacing[k] for k in kinds]
    ends = list(itertools.accumulate(steps))  # ends[i]: bottom of band i plus its space after
    widest_space = max(spacing, default=0.0)
    starts: list[int] = []
    first = 0
    available = body if title_page else body - first_page_used
    while first < count:
        starts.append(first)
        base = ends[first - 1] if first else 0.0
        last = bisect.bisect_right(ends, base + available + widest_space + EPSILON, lo=first) - 1
        while last > first and ends[last] - spacing[kinds[last]] - base > available + EPSILON:
            last -= 1
        last = max(last, first)
        next_forced = bisect.bisect_right(forced, first)
        if next_forced < len(forced) and forced[next_forced] <= last:
            last = forced[next_forced] - 1
        short_of_room = False
        for j in range(bisect.bisect_right(needing_at, first), len(needing)):
            band, need = needing[j]
            if band > last:
                break
            if available - (ends[band - 1] - base) < need - EPSILON:
                last, short_of_room = band - 1, True
                break
        while last > first and last + 1 < count and sticky[kinds[last]]:
            last -= 1
        if short_of_room and last + 1 < count:
            room_breaks.append(last + 1)
        first = last + 1
        if first < count:
            available = body
    used = 0.0
    if starts:
        base = ends[starts[-1] - 1] if starts[-1] else 0.0
        used = ends[-1] - base
    else:
        used = first_page_used
    forced_last = bool(count) and after[kinds[-1]]
    summary_page = bool(summary) and (summary_page or forced_last or used + summary > available + EPSILON)
    total = max(len(starts), 1) + int(summary_page) + int(title_page)
    return Pagination(
        starts=starts,
        total=total,
        summary_page=summary_page,
        first_page=int(title_page),
        room_breaks=tuple(room_breaks),
    )
