"""Charts: Vega-Lite specifications over data aggregated by Polars, rendered to SVG by
vl-convert, and embedded in the page as vector graphics (their text stays text).

A chart never sees raw rows: ``compute.charts.aggregation`` groups the band's rows by the
chart's dimensions and computes its measures, so a chart over 10M rows sends Vega only its few
hundred points. This module is the seam to vl-convert: rendering is cached by the hash of the
specification and the data, and runs in worker processes (``drawer.py``), never in this one, so
that a chart that makes V8 run out of memory ends a worker, not the host.

    >>> from polarreports.definition.elements import Chart
    >>> chart = Chart(spec={"mark": "bar", "encoding": {"x": {"field": "n", "type": "quantitative"}}})
    >>> svgs, counts = render_charts([(chart, "title", [{"n": 1}], 100.0, 60.0, 9.0)])
    >>> svgs[0].startswith("<svg"), counts["charts"]
    (True, 1)
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from polarreports.charts.drawer import ChartDrawer, Died, default_drawer
from polarreports.definition.elements import Chart
from polarreports.exceptions import ChartError, ResourceError

__all__ = ["ChartLimits", "alt_text", "chart_config", "render_charts"]

MEASURE_FONT = "sans-serif"
"""The font vl-convert measures text with. A named font costs vl-convert ~30 ms more per chart
(measured: 42 ms against 10 ms for a small bar chart), so charts are laid out with the generic
sans-serif (DejaVu Sans, shipped and slightly wider than Inter, so labels keep their room) and
their text is then set in the report's font."""
CHART_FONT = "Inter"
PALETTE = ["#1f3b5c", "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"]
_CACHE: OrderedDict[str, str] = OrderedDict()
"""Drawn SVGs by the hash of their specification and data, least recently used first; shared by
the renders of every thread, so read and written under ``_CACHE_LOCK`` only."""
_CACHE_MAX = 2_048
_CACHE_LOCK = threading.Lock()


def chart_config(font_size: float) -> dict[str, Any]:
    """The report's look for charts: its fonts, sizes and colours."""
    small = max(font_size - 1, 6)
    return {
        "font": MEASURE_FONT,
        "background": None,
        "view": {"stroke": None},
        "axis": {
            "labelFontSize": small,
            "titleFontSize": small,
            "titleFontWeight": "normal",
            "labelColor": "#333333",
            "titleColor": "#333333",
            "gridColor": "#e4e7eb",
            "domainColor": "#8a8f98",
            "tickColor": "#8a8f98",
        },
        "legend": {"labelFontSize": small, "titleFontSize": small, "symbolSize": 60},
        "title": {"fontSize": font_size + 1, "fontWeight": "bold", "color": "#1f3b5c", "anchor": "start"},
        "range": {"category": PALETTE},
        "mark": {"color": PALETTE[0]},
        "bar": {"color": PALETTE[0]},
        "line": {"color": PALETTE[1], "strokeWidth": 1.5},
        "arc": {"stroke": "white"},
    }


def _full_spec(spec: dict[str, Any], values: list[dict[str, Any]], width: float, height: float) -> dict[str, Any]:
    full = dict(spec)
    full["data"] = {"values": values}
    full.setdefault("width", width)
    full.setdefault("height", height)
    full.setdefault("autosize", {"type": "fit", "contains": "padding"})
    return full


def alt_text(chart: Chart, values: list[dict[str, Any]]) -> str:
    """A description of a chart for readers who cannot see it: its title, what it shows and
    its extremes (computed from the aggregated data)."""
    if chart.alt:
        return chart.alt
    spec = chart.spec
    title = spec.get("title")
    title = title.get("text") if isinstance(title, dict) else title
    mark = spec.get("mark")
    mark = mark.get("type") if isinstance(mark, dict) else mark or "layered"
    parts = [f"{title}: " if title else "", f"{mark} chart"]
    dimensions = [d.column for d in chart.by]
    measures = list(chart.measures)
    if measures:
        parts.append(f" of {', '.join(measures)}")
    if dimensions:
        parts.append(f" by {', '.join(dimensions)}")
    parts.append(f", {len(values)} points")
    if measures and values and dimensions:
        measure, label = measures[0], dimensions[0]
        numeric = [v for v in values if isinstance(v.get(measure), int | float)]
        if numeric:
            high = max(numeric, key=lambda v: v[measure])
            low = min(numeric, key=lambda v: v[measure])
            parts.append(f"; highest {measure} {high[measure]:,.2f} at {high.get(label)}")
            parts.append(f", lowest {low[measure]:,.2f} at {low.get(label)}")
    return "".join(parts) + "."


def _vega_message(text: str) -> str:
    """Vega's own words from a vl-convert error: without its header line and JavaScript stack."""
    lines = [line.strip() for line in text.strip().splitlines()]
    useful = [line for line in lines if line and not line.startswith("at ") and not line.endswith("conversion failed:")]
    return "; ".join(useful)[:300]


def _placeholder(width: float, height: float, message: str) -> str:
    text = escape(f"Chart unavailable: {message}"[:160])
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="#f6f7f9" stroke="#c2c7cf" '
        'stroke-dasharray="4 3"/>'
        f'<text x="8" y="{height / 2}" font-family="Inter" font-size="8" fill="#5b6270">{text}</text></svg>'
    )


def _cached(keys: Iterable[str]) -> dict[str, str]:
    """The SVGs of ``keys`` that are in the cache, taken at once (another thread may evict them
    right after), each marked as just used."""
    with _CACHE_LOCK:
        found = {key: _CACHE[key] for key in keys if key in _CACHE}
        for key in found:
            _CACHE.move_to_end(key)
    return found


def _remember(svgs: dict[str, str]) -> None:
    """Add ``svgs`` to the cache, evicting the least recently used beyond ``_CACHE_MAX``."""
    with _CACHE_LOCK:
        _CACHE.update(svgs)
        for key in svgs:
            _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_MAX:
            _CACHE.popitem(last=False)


def _svg(answer: dict[str, Any], chart: Chart, where: str, width: float, height: float) -> str:
    """A worker's answer for one chart as its SVG: the drawing, a placeholder, or a ``ChartError``."""
    if "svg" in answer:
        return str(answer["svg"]).replace(f'font-family="{MEASURE_FONT}"', f'font-family="{CHART_FONT}"')
    message = _vega_message(str(answer.get("error", ""))) or "Vega failed"
    if chart.on_error == "placeholder":
        return _placeholder(width, height, message)
    band = where.rsplit(".elements[", 1)[0]
    msg = f"Vega could not draw the chart {where}: {message}"
    raise ChartError(msg, band=band, element=where, vega_message=message)


def _never() -> str | None:
    return None


@dataclass(frozen=True)
class ChartLimits:
    """What bounds the drawing of a render's charts: ``stop`` (the render's
    ``RenderControl.stop_reason``: a reason to give up, or None) and ``memory_mb`` (its
    ``memory_budget_mb``; None: the chart worker's default)."""

    stop: Callable[[], str | None] = _never
    memory_mb: float | None = None


def _failure(died: Died, chart: Chart, where: str, limit: float, *, default: bool) -> Exception:
    """The error for a chart that ended its worker process: out of memory, or a crash."""
    band = where.rsplit(".elements[", 1)[0]
    if died.memory:
        budget = "the default limit of a chart worker" if default else "memory_budget_mb"
        msg = (
            f"{where}: drawing the chart took more than {limit:.0f} MB ({budget}) and was stopped; look for a "
            "data generator or a transform that multiplies rows (flatten, fold, density, impute, a sequence() in a "
            "calculate) in its spec, or raise memory_budget_mb"
        )
        return ResourceError(msg)
    msg = f"{where}: the chart worker process failed drawing the chart ({died.detail})"
    return ChartError(msg, band=band, element=where, vega_message=died.detail)


def render_charts(
    jobs: Sequence[tuple[Chart, str, list[dict[str, Any]], float, float, float]],
    *,
    stop: Callable[[], str | None] = _never,
    memory_mb: float | None = None,
    drawer: ChartDrawer | None = None,
) -> tuple[list[str], dict[str, int]]:
    """Render each ``(chart, where, values, width_pt, height_pt, font_size)`` to an SVG string,
    cached by specification and data; the charts not in the cache are drawn in one batch by a
    worker process (``drawer``, by default the process's :func:`default_drawer`), never in this
    one. ``stop`` is asked every few hundredths of a second whether to give up (it returns a
    reason: ``Cancelled``); ``memory_mb`` is what drawing the batch may use (None: the drawer's
    default), past it a ``ResourceError`` naming the chart. Returns the SVGs and counts of what
    was rendered and what came from the cache."""
    keyed = []
    for chart, where, values, width, height, font_size in jobs:
        spec = _full_spec(chart.spec, values, width, height)
        config = chart_config(font_size)
        key = hashlib.sha256(json.dumps([spec, config], sort_keys=True, default=str).encode()).hexdigest()
        keyed.append((key, spec, config, chart, where, width, height))
    found = _cached([key for key, *_ in keyed])
    missing: dict[str, tuple[Any, ...]] = {}
    for key, spec, config, chart, where, width, height in keyed:
        if key not in found:
            missing.setdefault(key, (spec, config, chart, where, width, height))
    rendered: dict[str, str] = {}
    todo = list(missing.items())
    drawer = drawer or default_drawer()
    limit = drawer.default_memory_mb if memory_mb is None else memory_mb
    while todo:
        try:
            answers = drawer.draw([(spec, config) for _, (spec, config, *_) in todo], stop=stop, memory_mb=memory_mb)
        except Died as died:  # a chart ended its worker: a placeholder, or the error naming it
            key, (_, _, chart, where, width, height) = todo[died.index]
            if chart.on_error != "placeholder":
                raise _failure(died, chart, where, limit, default=memory_mb is None) from None
            rendered[key] = _placeholder(width, height, "out of memory" if died.memory else "the renderer failed")
            todo = todo[: died.index] + todo[died.index + 1 :]
            continue
        for (key, (_, _, chart, where, width, height)), answer in zip(todo, answers, strict=False):
            rendered[key] = _svg(answer, chart, where, width, height)
        todo = todo[len(answers) :]
    _remember(rendered)
    svgs = [found[key] if key in found else rendered[key] for key, *_ in keyed]
    return svgs, {"charts": len(keyed), "charts_rendered": len(missing), "charts_cached": len(keyed) - len(missing)}
