"""Predict the page breaks around bands taller than a page (``split: allow``), by probing: Typst
breaks such a band wherever its lines fill the page, which no arithmetic on band heights
predicts, so a small Typst pass (a probe) lays out the page where the tall band begins through
the tall band's end, says how many pages that took and where it ended, and the bands after it are
paginated on from there. A crosstab that may break across pages is probed so too. Past
``PROBE_PAGES`` probed pages (tall bands on most pages) the report is typeset in one piece.
"""

from __future__ import annotations

import bisect
from typing import Any

from polarreports.typeset.compile import END
from polarreports.typeset.measure import Measured
from polarreports.typeset.paginate import EPSILON, Pagination, paginate
from polarreports.typeset.run import TypesetRun

__all__ = ["PROBE_PAGES", "TooManyToProbe", "pagination_around_tall"]

PROBE_PAGES = 60
"""At most this many pages are typeset ahead to find where bands taller than a page end: past
it (tall bands on most pages), the report is typeset in one piece."""


class TooManyToProbe(Exception):
    """Finding where the tall bands end would take more than ``PROBE_PAGES`` pages."""


def _runs_into(first: int, kinds: list[int], sticky: list[bool], tall: set[int]) -> bool:
    """Whether band ``first`` is in ``tall``, or begins a run of group headers kept with one:
    where such bands begin (and so where the page before them ends) only Typst can tell.

    >>> _runs_into(0, [1, 1, 0], [False, True], {2}), _runs_into(0, [1, 0, 0], [False, True], {2})
    (True, False)
    """
    for band in range(first, len(kinds)):
        if band in tall:
            return True
        if not sticky[kinds[band]]:
            return False
    return False


def _anchor(band: int, start: int, kinds: list[int], sticky: list[bool]) -> int:
    """The first of the group headers right before ``band`` (from ``start`` on), which stay with
    it on its page; ``band`` itself without them.

    >>> _anchor(3, 0, [0, 1, 1, 0], [False, True])
    1
    """
    anchor = band
    while anchor > start and sticky[kinds[anchor - 1]]:
        anchor -= 1
    return anchor


def _fits_where_it_begins(band: int, measured: Measured, pages: list[int]) -> bool:
    """Whether a band that may break across pages (a crosstab) but was measured no taller than
    a page is predicted on the page of the band before it (``pages``: the predicted first band
    of each page): it fits there, so Typst lays it out whole there too, and it needs no probe."""
    own = measured.own.get(band)
    return own is not None and own <= measured.body + EPSILON and band not in pages


def pagination_around_tall(run: TypesetRun, measured: Measured, kinds: list[int], tall: list[int]) -> Pagination | None:
    """The page breaks of a report with bands taller than a page (``split: allow``): Typst
    breaks such a band wherever its lines fill the page, which no arithmetic on band heights
    predicts. The bands before a tall one are paginated as usual; then a small Typst pass (a
    probe) lays out the page where the tall band begins through the tall band's end, and says
    how many pages that took and where it ended; the bands after it go on from there. (A tall
    band that begins on the page where the last probe ended extends that probe.)
    None where this is not supported (columns, a title page, room asked for, values per page):
    the plain prediction then stands, and is checked as ever.

    The pages of a probe after its first are ``continued``: no chunk starts there (see
    ``Pagination.chunk_starts``)."""
    data = run.data
    if run.source.columns != 1 or data.title_page or data.keep or data.room_breaks or data.pages is not None:
        return None
    count = len(kinds)
    probing = set(tall)
    starts: list[int] = []
    continued: set[int] = set()
    start, used, resumed = 0, measured.top, False
    probe_from = (0, 0)  # the last probe's first band and first page
    probed = 0  # pages typeset in probes so far

    def runs_into_tall(first: int) -> bool:
        return _runs_into(first, kinds, data.sticky, probing)

    def breaks_before(band: int) -> bool:
        return data.breaks[kinds[band]] or bool(data.breaks_after and data.breaks_after[kinds[band - 1]])

    def segment(end: int, *, summary: float = 0.0, summary_page: bool = False) -> Pagination:
        return paginate(
            kinds[start:end],
            heights=measured.heights,
            own_heights={band - start: h for band, h in measured.own.items() if start <= band < end},
            spacing=measured.spacing,
            sticky=data.sticky,
            body=measured.body,
            first_page_used=used,
            summary=summary,
            breaks_before=data.breaks,
            breaks_after=data.breaks_after,
            summary_page=summary_page,
        )

    for band in tall:
        pages = [start + first for first in segment(band + 1).starts]
        if _fits_where_it_begins(band, measured, pages):
            continue
        anchor = _anchor(band, start, kinds, data.sticky)
        page = bisect.bisect_right(pages, max(start, anchor - 1)) - 1
        if resumed and page == 0:  # on the last probe's last page: probe again, from its start
            first_band, first_page = probe_from
            del starts[first_page:]
            continued = {p for p in continued if p < first_page}
        else:
            first_band, first_page = pages[page], len(starts) + page - int(resumed)
            starts += pages[int(resumed) : page]
        probe_from = (first_band, first_page)
        extra: dict[str, Any] = {"open": data.open_groups(first_band)} if data.reprint else {}
        probe = data.json(
            first_band,
            band + 1 - first_band,
            first_page=first_page + 1,
            total_pages=count,
            first=first_band == 0,
            last=False,
            **extra,
        )
        ((end,),) = run.compile(run.job(probe, format="pdf", selectors=(END,))).values
        probed += end["page"]
        if probed > PROBE_PAGES:
            raise TooManyToProbe
        # which band begins the probe's later pages is not known (only a report with values
        # per page marks where its bands land): no chunk starts on them
        continued.update(range(len(starts) + 1, len(starts) + end["page"]))
        starts += [first_band] + [band] * (end["page"] - 1)
        start, resumed = band + 1, True
        used = end["y"] - measured.body_top + measured.spacing[kinds[band]]
        if start < count:
            broken = breaks_before(start)
            room = measured.body - used
            fits = runs_into_tall(start) or room >= measured.needed_after(start, kinds, data.sticky) - EPSILON
            if broken or not fits:
                used, resumed = 0.0, False  # the next band starts a page
    if start < count:
        rest = segment(count, summary=measured.summary, summary_page=data.summary_page)
        starts += [start + first for first in rest.starts[int(resumed) :]]
    # no chunk starts on a page predicted to begin with a tall band that may have begun before
    continued.update(q for q in range(1, len(starts)) if runs_into_tall(starts[q]) and not breaks_before(starts[q]))
    if start == count:
        ends_page = data.summary_page or bool(data.breaks_after and data.breaks_after[kinds[-1]])
        own_page = bool(measured.summary) and (ends_page or used + measured.summary > measured.body + EPSILON)
        return Pagination(starts, len(starts) + int(own_page), own_page, continued=frozenset(continued))
    total = len(starts) + int(rest.summary_page)
    return Pagination(starts, total, rest.summary_page, continued=frozenset(continued))
