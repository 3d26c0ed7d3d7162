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
    continued: frozenset[int] = frozenset()
    """Pages that a band taller than a page goes on to from the page before: their first band
    (in ``starts``) began on an earlier page."""

    def chunk_starts(self, pages_per_chunk: int, sticky_before: Sequence[bool]) -> list[int]:
        """Page indices where chunks start: every ``pages_per_chunk`` pages, moved on past pages
        whose previous band is sticky (a chunk must not begin right after a group header) and
        past pages that a band taller than a page goes on to (their first band began before)."""
        chunks = [0]
        page = pages_per_chunk
        while page < len(self.starts):
            while page < len(self.starts) and (sticky_before[self.starts[page]] or page in self.continued):
                page += 1
            if page < len(self.starts):
                chunks.append(page)
            page += pages_per_chunk
        return chunks


def _short_of_room(
    needing: list[tuple[int, float]], needing_at: list[int], first: int, last: int, limit: float, ends: list[float]
) -> int | None:
    """The first band in ``first + 1 .. last`` that needs more room than is left before it (the
    page's room ends at ``limit`` on the ``ends`` scale), or None."""
    for band, need in needing[bisect.bisect_right(needing_at, first) :]:
        if band > last:
            return None
        if limit - ends[band - 1] < need - EPSILON:
            return band
    return None


def _steps(
    kinds: Sequence[int], heights: Sequence[float], spacing: Sequence[float], own: Mapping[int, float]
) -> list[float]:
    """Each band's height plus its space after (its own height where it was measured alone).

    >>> _steps([0, 0, 1], [10.0, 5.0], [1.0, 0.0], {1: 30.0})
    [11.0, 31.0, 5.0]
    """
    steps = [heights[k] + spacing[k] for k in kinds]
    for band, height in own.items():
        steps[band] = height + spacing[kinds[band]]
    return steps


def paginate(
    kinds: Sequence[int],
    *,
    heights: Sequence[float],
    own_heights: Mapping[int, float] | None = None,
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
    columns: int = 1,
) -> Pagination:
    """Page breaks for bands of the given ``kinds`` (indices into the per-kind lists); a band
    in ``own_heights`` has its own height instead of its kind's.

    A band whose kind has ``breaks_before`` starts a new page, as do the band after one whose
    kind has ``breaks_after`` and every band in ``breaks_at``; but never the first band, which
    follows the title and column header on page 1 (nor does the Typst code break there: a page
    of them alone would be wasted). Band ``i`` starts a new page
    unless ``needs[i]`` points are left. With ``title_page``, the title has page 1 to itself;
    with ``summary_page``, the summary starts a page of its own. A page of ``columns`` columns
    holds that many slots of ``body`` height, filled in turn; ``first_page_used`` (the title,
    over all the columns) is taken from each slot of page 1.

    >>> paginate([0] * 7, heights=[10.0], spacing=[0.0], sticky=[False], body=20.0, columns=2).starts
    [0, 4]
    >>> paginate([1, 0, 1, 0], heights=[1.0, 1.0], spacing=[0.0, 0.0], sticky=[False, True], body=20.0,
    ...          first_page_used=5.0, breaks_before=[False, True]).starts  # a group on a new page each
    [0, 2]
    """
    count = len(kinds)
    before = [bool(breaks_before[kind]) if kind < len(breaks_before) else False for kind in range(len(heights))]
    after = [bool(breaks_after[kind]) if kind < len(breaks_after) else False for kind in range(len(heights))]
    forced = sorted({i for i in range(1, count) if before[kinds[i]] or after[kinds[i - 1]]} | set(breaks_at))
    needing = sorted((needs or {}).items())
    needing_at = [i for i, _ in needing]
    room_breaks: list[int] = []
    steps = _steps(kinds, heights, spacing, own_heights or {})
    ends = list(itertools.accumulate(steps))  # ends[i]: bottom of band i plus its space after
    widest_space = max(spacing, default=0.0)
    starts: list[int] = []
    first = 0
    slot = 0  # columns of all pages, in reading order
    title_used = 0.0 if title_page else first_page_used

    def room(slot: int) -> float:
        return body - title_used if slot < columns else body

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
        short = _short_of_room(needing, needing_at, first, last, base + available, ends)
        last = last if short is None else short - 1
        while last > first and last + 1 < count and sticky[kinds[last]]:
            last -= 1
            broken = False
        if short is not None and last + 1 < count:
            room_breaks.append(last + 1)
            broken = True
        first = last + 1
        if first < count:
            slot = (slot // columns + 1) * columns if broken else slot + 1
    used = ends[-1] - (ends[slot_first - 1] if slot_first else 0.0) if count else 0.0
    pages = slot // columns + 1
    own_page = False
    if summary:
        if summary_page or (count and after[kinds[-1]]):
            own_page = True
        elif used + summary > room(slot) + EPSILON:
            own_page = (slot + 1) % columns == 0  # the next slot is on a new page
    return Pagination(
        starts=starts,
        total=pages + int(own_page) + int(title_page),
        summary_page=own_page,
        first_page=int(title_page),
        room_breaks=tuple(room_breaks),
    )
