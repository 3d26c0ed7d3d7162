"""Plans kept for the next render of the same report: a report rendered again in one process
(a notebook cell run twice, a preview, a server's small reports) skips planning, the type
checks of its values and the writing of its Typst code.

What a plan, its values' types and its Typst code depend on is the key: the definition (its
JSON, the Polars expressions of one built in Python included), the data's schema (names and
types), the parameter values and the folder file names are resolved against. A definition that
names a file (an image's ``path``, the theme's ``logo``, ``font_dirs``, a subreport's
definition file: what a render reads besides the definition and the data) is never kept, as
the file may change between two renders; nor one that cannot be written as JSON (an image
given as bytes), nor one longer than ``LARGEST_DEFINITION``.

At most ``MAX_PLANS`` are kept per process, the least recently used dropped first; one lock
guards them, so renders on several threads share them. What is kept is only read once made
(the plan is frozen; its users copy the Typst source before they add to it).

    >>> import polars as pl
    >>> import polarreports as pr
    >>> report = pr.Report(name="r", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="x")])))
    >>> key = plan_key(report, pl.Schema({"x": pl.Int64()}), {}, Path("/tmp"))
    >>> key == plan_key(report, pl.Schema({"x": pl.Int64()}), {}, Path("/tmp"))
    True
    >>> key == plan_key(report, pl.Schema({"x": pl.Float64()}), {}, Path("/tmp"))
    False
    >>> plan_key(pr.Report(name="r", font_dirs=["fonts"]), pl.Schema({"x": pl.Int64()}), {}, Path("/tmp")) is None
    True
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from polarreports.definition.elements import FINGERPRINT
from polarreports.definition.report import Report
from polarreports.plan.model import ReportPlan

__all__ = ["MAX_PLANS", "PLANS", "PlanStore", "Planned", "plan_key"]

MAX_PLANS = 32
"""Plans kept per process (a plan of a small report takes tens of kilobytes)."""
LARGEST_DEFINITION = 256 * 1024
"""A definition longer than this (as JSON: megabytes of label text) is not kept: 32 of them
would hold too much."""

_NAMES_FILES = ('"path":', '"logo":', '"font_dirs":', '"report":"')
"""JSON keys of a definition's options that name files the plan reads (a subreport's
definition file included; a label's text cannot hold one: its quotes are escaped)."""


def plan_key(report: Report, schema: pl.Schema, parameters: Mapping[str, Any], base_dir: Path) -> Hashable | None:
    """What a plan of ``report`` over data of ``schema`` depends on, or None when the plan may
    not be kept (the definition names a file, or cannot be written as JSON)."""
    try:
        definition = report.model_dump_json(context=FINGERPRINT, exclude_defaults=True)
    except Exception:  # an image given as bytes, an expression Polars cannot write: not kept
        return None
    if len(definition) > LARGEST_DEFINITION or any(name in definition for name in _NAMES_FILES):
        return None
    values = tuple((name, type(value).__qualname__, repr(value)) for name, value in sorted(parameters.items()))
    columns = tuple((name, repr(dtype)) for name, dtype in schema.items())
    digest = hashlib.sha256(definition.encode()).hexdigest()
    return digest, columns, values, str(base_dir)


@dataclass
class Planned:
    """A plan, the type of each value it shows (``Scopes.dtypes``), and, once written, its
    Typst source (``emit.typst_source.TypstSource``; copied by whoever adds to it)."""

    plan: ReportPlan
    dtypes: dict[str, pl.DataType]
    source: Any = None


class PlanStore:
    """Plans by :func:`plan_key`, the least recently used dropped past ``max_plans``."""

    def __init__(self, max_plans: int = MAX_PLANS) -> None:
        self._plans: OrderedDict[Hashable, Planned] = OrderedDict()
        self._max = max_plans
        self._lock = threading.Lock()

    def get(self, key: Hashable | None) -> Planned | None:
        if key is None:
            return None
        with self._lock:
            found = self._plans.get(key)
            if found is not None:
                self._plans.move_to_end(key)
            return found

    def put(self, key: Hashable | None, planned: Planned) -> None:
        if key is None:
            return
        with self._lock:
            self._plans[key] = planned
            self._plans.move_to_end(key)
            while len(self._plans) > self._max:
                self._plans.popitem(last=False)

    def __len__(self) -> int:
        return len(self._plans)

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()


PLANS = PlanStore()
"""The plans of this process's renders."""
