"""What the measuring pass typesets: for each band kind, samples of its instances.

A sample pair per band kind (its shortest texts, then its longest) tells the measuring pass
whether every instance is as tall; bands whose look varies per instance add their first
instance in each look.
"""

from __future__ import annotations

import copy
from typing import Any

from polarreports.plan.model import ReportPlan

__all__ = ["look_samples"]


def look_samples(plan: ReportPlan, band_index: dict[str, int], samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The measuring samples, plus for every band whose look varies per instance a pair of its
    first instance in each look, both ways round: if any look changes the band's height (a
    size, padding or font), the measuring pass sees a sample differ from its partner and the
    report is typeset in one piece, so predicted page breaks never rely on a wrong height."""
    extra: list[dict[str, Any]] = []
    for band in plan.bands:
        switches = band.styling.switches if band.styling else ()
        if band.name not in band_index or not switches:
            continue
        k = band_index[band.name]
        first = next((s for s in samples if s["k"] == k), None)
        if first is None:
            continue
        at = len(band.data_cells)
        for choice in range(max(len(s.looks) for s in switches)):
            varied = copy.deepcopy(first)
            for j, switch in enumerate(switches):
                varied["c"][at + j] = str(min(choice, len(switch.looks) - 1))
            if varied != first:
                extra.extend([first, varied, varied, first])
    return samples + extra
