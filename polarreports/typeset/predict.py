"""Predict every page break ahead of Typst, from the measured band heights and the report's
options (``paginate``). Keep-together and minimum space are decided here too: the room each
group needs follows from the heights, and a page break goes where it is not left
(``with_needs``). Around bands taller than a page the breaks come from probes (``probe``). A
report whose band heights vary (a long text wraps) has no prediction.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from polarreports.typeset.measure import Measured, measure
from polarreports.typeset.paginate import EPSILON, Pagination, paginate
from polarreports.typeset.probe import TooManyToProbe, pagination_around_tall
from polarreports.typeset.run import TypesetRun

__all__ = ["Prediction", "predict_pages", "with_needs"]

Prediction = tuple[Measured, list[int], Pagination]
"""The measured heights, the kind of every band, and the predicted pages."""


def predict_pages(run: TypesetRun, measured: Measured | None = None) -> Prediction | None:
    """Measure the band kinds and predict every page break, or None if some band may wrap (or
    too many bands break across pages to probe them all)."""
    measured = measured or measure(run)
    if not measured.exact:
        return None
    kinds: list[int] = run.data.bands.kinds.to_list()
    probed, whole = run.data.probed, run.data.kept_whole
    tall = [
        i
        for i, kind in enumerate(kinds)
        if measured.height(i, kind) > measured.body + EPSILON
        or (kind < len(probed) and probed[kind] and not (kind < len(whole) and whole[kind] and i in measured.own))
    ]
    try:
        pagination = pagination_around_tall(run, measured, kinds, tall) if tall else None
    except TooManyToProbe:
        return None
    if pagination is None and any(probed[kinds[band]] for band in tall):
        return None  # a crosstab's height varies: without probes, nothing can be predicted
    return measured, kinds, pagination or _pagination(run, measured, kinds)


def _pagination(
    run: TypesetRun, measured: Measured, kinds: list[int], needs: dict[int, float] | None = None
) -> Pagination:
    """The page breaks of the band stream, from the measured heights and the report's options."""
    data = run.data
    return paginate(
        kinds,
        heights=measured.heights,
        own_heights=measured.own,
        spacing=measured.spacing,
        sticky=data.sticky,
        body=measured.body,
        first_page_used=measured.top,
        summary=measured.summary,
        breaks_before=data.breaks,
        breaks_after=data.breaks_after,
        needs=needs,
        breaks_at=data.room_breaks,
        title_page=data.title_page,
        summary_page=data.summary_page,
        columns=run.source.columns,
    )


def with_needs(run: TypesetRun) -> tuple[TypesetRun, Measured | None]:
    """``run`` with the page breaks that keep-together and minimum space ask for: the room
    each group header needs follows from the measured band heights, and the paginator finds
    where it is not left. (Typst could check the room itself, but each check moves what
    follows, and many of them do not settle within Typst's few layout passes.)"""
    data = run.data
    if not data.keep or not data.bands.height or data.unpredictable:
        return run, None
    measured = measure(run)
    kinds = data.bands.kinds
    height = kinds.replace_strict(dict(enumerate(measured.heights)), return_dtype=pl.Float64)
    if measured.own:  # instances measured one by one
        height = height.scatter(list(measured.own), list(measured.own.values()))
    space = kinds.replace_strict(dict(enumerate(measured.spacing)), return_dtype=pl.Float64)
    ends = (height + space).cum_sum()
    count = kinds.len()
    frames = []
    for level, (keep_together, min_space) in data.keep.items():
        headers = kinds.is_in([k for k, lv in enumerate(data.header_levels) if lv == level]).arg_true()
        bounds = kinds.is_in([k for k, lv in enumerate(data.header_levels) if 0 < lv <= level]).arg_true()
        bounds = pl.concat([bounds, pl.Series([count], dtype=bounds.dtype)])
        last = bounds.gather(bounds.search_sorted(headers, side="right")) - 1  # the group's last band
        before = pl.Series([0.0]).append(ends).gather(headers)
        group_height = ends.gather(last) - space.gather(last) - before
        fits = pl.lit(keep_together) & (pl.col("h") <= measured.body)
        frames.append(
            pl.DataFrame({"__i": headers.cast(pl.UInt32), "h": group_height}).select(
                "__i", pl.max_horizontal(pl.when(fits).then("h").otherwise(0.0), pl.lit(min_space)).alias("n")
            )
        )
    needs = pl.concat(frames).group_by("__i").agg(pl.col("n").max()).filter(pl.col("n") > 0)
    pages = _pagination(run, measured, kinds.to_list(), dict(needs.iter_rows()))
    return replace(run, data=replace(data, room_breaks=pages.room_breaks)), measured
