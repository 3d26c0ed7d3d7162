"""Wide listings printed on continuation pages (``page.wide: continue``).

A band whose elements are wider than the page is cut into panels: the first panel shows the
key columns (the first ``repeat_columns`` elements) and as many of the next ones as fit, the
second the key columns and the next ones, and so on. The columns are cut where the widest band
(usually the detail band, whose column header has the same widths) is cut; a band that fits
the page shows whole in every panel. Each panel is its own Typst source over the same data,
so the panels break pages alike and their pages interleave: page 1 of each panel, then page 2.

    >>> import polarreports as pr
    >>> from polarreports.plan import build_plan
    >>> wide = [pr.Field(column=c, width="55mm") for c in ("a", "b", "c", "d")]
    >>> report = pr.Report(name="r", page=pr.PageSetup(wide="continue"),
    ...     bands=pr.Bands(detail=pr.Band(elements=wide)))
    >>> import polars as pl
    >>> plan = build_plan(report, {c: pl.Int64 for c in "abcd"}, {})
    >>> [[c.element.column for c in p.bands[0].cells if not c.hidden] for p in panel_plans(plan)]
    [['a', 'b', 'c'], ['a', 'd']]
"""

from __future__ import annotations

import dataclasses
import itertools

from polarreports.plan.geometry import GUTTER_PT, is_placed
from polarreports.plan.model import BandPlan, ReportPlan

__all__ = ["panel_plans"]


def _starts_and_ends(band: BandPlan) -> list[tuple[float, float]]:
    """Where each shown element of ``band`` starts and ends (pt) across an unbounded line."""
    widths = band.widths
    spans = []
    x = 0.0
    for i, width in enumerate(widths):
        start = x + (GUTTER_PT if i else 0.0)
        spans.append((start, start + width))
        x = start + width
    return spans


def _too_wide(band: BandPlan, room: float) -> bool:
    spans = _starts_and_ends(band)
    return not is_placed(band.band) and bool(spans) and spans[-1][1] > room + 0.01


def _cuts(spans: list[tuple[float, float]], keys: int, whole: float) -> list[float]:
    """Where the panels after the first begin (x of their first column), given the widest
    band's columns: each panel holds the key columns and as many more as fit."""
    key_width = spans[keys - 1][1] + GUTTER_PT if keys else 0.0
    cuts: list[float] = []
    panel_start = spans[keys][0] if keys < len(spans) else 0.0
    for start, end in spans[keys:]:
        if key_width + end - panel_start > whole + 0.01 and start > panel_start:
            cuts.append(start)
            panel_start = start
    return cuts


def panel_plans(plan: ReportPlan) -> list[ReportPlan]:
    """One plan per panel, or none if the report does not continue wide bands on more pages
    (or has no band wider than the page)."""
    page = plan.page
    if page.wide != "continue":
        return []
    whole = plan.column_width
    room = whole - GUTTER_PT  # a band's content sits inside half a gutter on either side
    wide = [band for band in plan.bands if _too_wide(band, room)]
    if not wide:
        return []
    keys = page.repeat_columns
    widest = max(wide, key=lambda band: _starts_and_ends(band)[-1][1])
    cuts = _cuts(_starts_and_ends(widest), keys, room)
    plans = []
    for panel in range(len(cuts) + 1):
        bands = tuple(_panel_band(band, keys, cuts, panel) if band in wide else band for band in plan.bands)
        plans.append(dataclasses.replace(plan, bands=bands))
    return plans


def _panel_band(band: BandPlan, keys: int, cuts: list[float], panel: int) -> BandPlan:
    """``band`` with the elements of other panels switched off (their values stay in the data)."""
    spans = iter(_starts_and_ends(band))
    cells = []
    shown_index = itertools.count()
    for cell in band.cells:
        if cell.hidden:
            cells.append(cell)
            continue
        index = next(shown_index)
        start, _ = next(spans)
        cell_panel = sum(1 for cut in cuts if start >= cut - 0.01)
        keep = index < keys or cell_panel == panel
        cells.append(cell if keep else dataclasses.replace(cell, role="off"))
    return dataclasses.replace(band, cells=tuple(cells))
