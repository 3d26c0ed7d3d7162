"""Measure band heights: one small Typst pass gives each band kind's height (from samples: its
first instance and its longest), and where a kind's height varies, its instances are measured one
by one (``ReportData.measured_each``); the page breaks are then predicted from these heights.

    >>> measured = Measured([12.0, 20.0], [2.0, 0.0], body=700.0, body_top=50.0, top=0.0, summary=0.0, own={3: 35.0})
    >>> measured.height(2, 1), measured.height(3, 1)  # band 3 was measured on its own
    (20.0, 35.0)
    >>> measured.needed_after(0, [1, 1, 0], sticky=[False, True])  # two group headers and a row
    52.0
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, replace

from polarreports.typeset import chunks
from polarreports.typeset.compile import MEASURE, CompileJob
from polarreports.typeset.paginate import EPSILON
from polarreports.typeset.run import TypesetRun, run_in_parallel, usable_cores, worker_memory_mb

__all__ = ["MEASURED_EACH_PER_JOB", "MEASURED_EACH_SHARE", "Measured", "measure"]


@dataclass(frozen=True)
class Measured:
    """The measured heights (pt) of a report's band kinds, of the room around them on a page, and
    of the band instances measured one by one."""

    heights: list[float]
    spacing: list[float]
    body: float
    body_top: float
    top: float
    summary: float
    exact: bool = True
    """False if some band's longest text wraps: then its height varies, and so do the breaks."""
    own: dict[int, float] = field(default_factory=dict)
    """The heights of band instances measured one by one (by their index in the stream), where
    their kind's height varies (``ReportData.measured_each``)."""

    def height(self, band: int, kind: int) -> float:
        """The height of band instance ``band`` of kind ``kind``."""
        return self.own.get(band, self.heights[kind])

    def needed_after(self, first: int, kinds: list[int], sticky: list[bool]) -> float:
        """Room the bands from ``first`` need to start on a page: a run of group headers (sticky)
        plus the band they stick to."""
        needed = 0.0
        for band in range(first, len(kinds)):
            needed += self.height(band, kinds[band])
            if not sticky[kinds[band]]:
                break
            needed += self.spacing[kinds[band]]
        return needed


def measure(run: TypesetRun) -> Measured:
    """Heights (pt) of each band kind; not ``exact`` if some band's height varies (its longest
    texts wrap onto more lines than its shortest, or a conditional style changes it)."""
    data = run.data
    probe = data.json(0, 0, measure=True)
    probe = probe[:-2] + json.dumps(data.samples, ensure_ascii=False).encode()[1:-1] + b"]}"
    ((found,),) = run.compile(CompileJob(run.source, probe, selectors=(MEASURE,))).values
    heights = [0.0] * len(data.sticky)
    spacing = [0.0] * len(data.sticky)
    varying: set[int] = set()
    for i in range(0, len(data.samples), 2):
        kind = data.samples[i]["k"]
        first, longest = found["samples"][i], found["samples"][i + 1]
        probed = kind < len(data.probed) and data.probed[kind]  # its instances are probed, each
        if not probed and abs(longest - first) > EPSILON:
            varying.add(kind)
        heights[kind] = first
        spacing[kind] = found["pairs"][i] - 2 * first
    measured = Measured(heights, spacing, found["body"], found["body-top"], found["top"], found["summary"])
    each = data.measured_each
    crosstabs = {k for k, probed in enumerate(data.probed) if probed and k < len(each) and each[k]}
    if data.bands.height < chunks.MIN_BANDS_FOR_CHUNKS and data.pages is None:
        crosstabs = set()  # typeset in one piece: its crosstabs' heights predict nothing
    if not varying and not crosstabs:
        return measured
    own = _measure_each(run, varying | crosstabs)
    if own is None and varying:
        return replace(measured, exact=False)
    return replace(measured, own=own or {})


_BATCH = 50_000
MEASURED_EACH_SHARE = 0.1
"""At most this share of a report's bands is measured one by one: measuring an instance costs
about as much as typesetting it, so past it the report is typeset in one piece (measured: with
every instance of a 6,000-row report measured, its chunks took twice one piece's time)."""
MEASURED_EACH_PER_JOB = 2_000
"""Band instances measured one by one are measured in parallel passes of at least this many."""


def _measure_each(run: TypesetRun, kinds: set[int]) -> dict[int, float] | None:
    """The height of each instance of the band ``kinds`` whose height varies, measured one by
    one (in parallel passes, one per worker, for many), by its index in the stream; None where
    some kind cannot be measured so (its instances may break across pages), or where they are
    more than ``MEASURED_EACH_SHARE`` of the bands."""
    data = run.data
    each = data.measured_each
    if not all(kind < len(each) and each[kind] for kind in kinds):
        return None
    bands = data.bands.kinds.is_in(sorted(kinds)).arg_true()
    if not bands.len() or bands.len() > MEASURED_EACH_SHARE * data.bands.height:
        return None
    texts: list[str] = []
    for start in range(0, data.bands.height, _BATCH):  # a batch of the stream at a time (it may be spilled)
        within = bands.filter(bands.is_between(start, start + _BATCH, closed="left")) - start
        if within.len():
            texts += data.bands.texts(start, _BATCH).gather(within).to_list()
    head = data.json(0, 0, measure=True, singles=True)[:-2]
    workers = max(1, min(run.control.workers or usable_cores(), len(texts) // MEASURED_EACH_PER_JOB))
    size = -(-len(texts) // workers)
    probes = [head + ",".join(texts[at : at + size]).encode() + b"]}" for at in range(0, len(texts), size)]
    if len(probes) == 1:
        ((found,),) = run.compile(CompileJob(run.source, probes[0], selectors=(MEASURE,))).values
        heights = found["samples"]
    else:
        memory = worker_memory_mb(run.control, len(probes))
        jobs = [
            functools.partial(
                run.compiler.compile,
                CompileJob(run.source, probe, selectors=(MEASURE,), one_off=True),
                memory_mb=memory,
            )
            for probe in probes
        ]
        heights = [
            height
            for result in run_in_parallel(jobs, len(jobs), run.control)
            for height in result.values[0][0]["samples"]
        ]
    return dict(zip(bands.to_list(), heights, strict=True))
