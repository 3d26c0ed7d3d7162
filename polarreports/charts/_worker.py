"""The chart worker's handler: draws Vega-Lite charts to SVG with vl-convert, one batch after
another, with vl-convert (its V8 engine) and the fonts loaded once. Loaded by the warm worker
process (``polarreports/workers/_child.py``, watching its parent from a forked guard process:
vl-convert holds the GIL while it draws), never imported by the package's users: it uses only
the standard library and vl_convert.

At its start it draws one small chart, so that V8 has reserved its address space (about 34 GB
of it, most never used; 66 GB at the peak of its start): the worker's cap is set on top of what
is then mapped (``over_mapped``), so that what a batch may newly map is bounded.

Each job is ``{"charts": [[spec, config], ...]}``. The handler answers one JSON line per chart,
in order: ``{"svg": ...}`` or ``{"error": Vega's message}``. A chart that makes Vega build a huge
dataset ends the process (V8's "Fatal JavaScript out of memory", SIGTRAP), and the parent,
which counted the answers, knows which chart it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import vl_convert as vlc

WARM_UP = {"mark": "bar", "data": {"values": [{"a": 1}]}, "encoding": {"x": {"field": "a", "type": "quantitative"}}}


def _draw(spec: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    try:
        # allowed_base_urls=[]: vl-convert fetches nothing, even from a spec the plan failed to clean
        return {"svg": str(vlc.vegalite_to_svg(spec, config=config, allowed_base_urls=[]))}
    except (ValueError, RuntimeError) as error:  # Vega's own message
        return {"error": str(error)[:4000]}


def setup(args: list[str]) -> Callable[..., None]:
    """The job handler, given the shipped fonts' folder; V8 started."""
    (fonts_dir,) = args
    vlc.register_font_directory(fonts_dir)
    vlc.vegalite_to_svg(WARM_UP, allowed_base_urls=[])

    def handle(request: dict[str, Any], answer: Callable[[dict[str, Any]], None], *, forked: bool) -> None:
        for spec, config in request["charts"]:
            answer(_draw(spec, config))

    return handle
