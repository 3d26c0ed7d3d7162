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
from collections.abc import Sequence
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
    columns: int = 1,
) -> Pagination:
    """Page breaks for bands of the given ``kinds`` (indices into the per-kind lists); a band
    whose kind has ``breaks_before`` starts a new page. A page of ``columns`` columns holds
    that many slots of ``body`` height, filled in turn; ``first_page_used`` (the title, over
    all the columns) is taken from each slot of page 1.

    >>> paginate([0] * 7, heights=[10.0], spacing=[0.0], sticky=[False], body=20.0, columns=2).starts
    [0, 4]
    """
    count = len(kinds)
    forced = [i for i, kind in enumerate(kinds) if i and kind < len(breaks_before) and breaks_before[kind]]
    steps = [heights[k] + spacing[k] for k in kinds]
    ends = list(itertools.accumulate(steps))  # ends[i]: bottom of band i plus its space after
    widest_space = max(spacing, default=0.0)
    starts: list[int] = []
    first = 0
    slot = 0  # columns of all pages, in reading order

    def room(slot: int) -> float:
        return body - first_page_used if slot < columns else body

    slot_first = 0  # the first band of the current slot
    while first < count:
        slot_first = first
        if slot % columns == 0:
            starts.append(first)
        available = room(slot)
        base = ends[first - 1] if first else 0.0
        last = bisect.bisect_right(ends, base + available + widest_space + EPSILON, lo=first) - 1
        while last > first and ends[last] - spacing[kinds[last]] - base > available + EPSILON:
            last -= 1
        last = max(last, first)
        next_forced = bisect.bisect_right(forced, first)
        broken = next_forced < len(forced) and forced[next_forced] <= last + 1
        if next_forced < len(forced) and forced[next_forced] <= last:
            last = forced[next_forced] - 1
        while last > first and last + 1 < count and sticky[kinds[last]]:
            last -= 1
            broken = False
        first = last + 1
        if first < count:
            slot = (slot // columns + 1) * columns if broken else slot + 1
    used = ends[-1] - (ends[slot_first - 1] if slot_first else 0.0) if count else 0.0
    pages = slot // columns + 1
    summary_page = False
    if summary and used + summary > room(slot) + EPSILON:
        summary_page = (slot + 1) % columns == 0  # the next slot is on a new page
    return Pagination(starts=starts, total=pages + int(summary_page), summary_page=summary_page)
