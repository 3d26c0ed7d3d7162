"""How many rows Vega may build from a chart's points, bounded before anything is drawn.

The points a chart sends are capped (``max_points``), but some Vega-Lite transforms make rows of
their own: ``flatten`` (one per array item, and ``sequence()`` in an expression makes arrays of
any length), ``fold`` (one per folded field), ``density`` and ``quantile`` (samples per group),
``impute`` (every key for every group). :func:`check_growth` follows each view's transforms
from the number of points and refuses, with a ``ChartError``, a spec whose rows could pass
``ROWS_PER_POINT`` times ``max_points``, or that calls ``sequence()`` over more than
``max_points`` values (or over values that are not plain numbers, which cannot be bounded).
``split(text, separator, limit)`` makes at most ``limit`` items (at most ``max_points``);
without a plain-number limit its arrays are as long as the text allows, so a spec that also
flattens is refused (``split()`` alone, in a filter or a calculation, makes no rows).

    >>> spec = {"transform": [{"calculate": "sequence(0, 1e7)", "as": "s"}, {"flatten": ["s"]}], "mark": "point"}
    >>> try:
    ...     check_growth(spec, points=10, max_points=5_000, where="summary.elements[0] (chart)")
    ... except ChartError as error:
    ...     print(str(error)[:100])
    summary.elements[0] (chart): sequence(0, 1e7) at spec.transform[0].calculate makes 10,000,000 values
    >>> check_growth({"transform": [{"fold": ["a", "b"]}]}, points=100, max_points=5_000, where="w")  # 200 rows: fine
    >>> split = {"transform": [{"calculate": "split(datum.tags, ',')", "as": "t"}, {"flatten": ["t"]}]}
    >>> try:
    ...     check_growth(split, points=10, max_points=5_000, where="summary.elements[0] (chart)")
    ... except ChartError as error:
    ...     print(str(error)[29:124])
    a flatten at spec.transform[1] of the arrays split(datum.tags, ',') at spec.transform[0].calcul
"""

from __future__ import annotations

import math
import re
from typing import Any

from polarreports.exceptions import ChartError

__all__ = ["DEFAULT_DENSITY_STEPS", "MAX_SPEC_TEXT", "ROWS_PER_POINT", "check_growth"]

ROWS_PER_POINT = 100
"""The rows Vega may build, at most, per point the chart may send (``max_points``)."""
MAX_SPEC_TEXT = 2_000
"""The longest text a spec may hold (a title, a label, an expression): Vega lays text out in a
time that grows faster than its length (a title of 30,000 characters takes about 10 s, one of
100,000 over 20 s), so a longer one is refused before anything is drawn."""
DEFAULT_DENSITY_STEPS = 200
"""Vega's samples per group of a ``density`` without ``steps`` (its ``maxsteps``)."""
_EXPRESSION_KEYS = ("calculate", "filter", "expr", "test")
"""Where a Vega-Lite spec holds expression strings."""
_SEQUENCE = re.compile(r"\bsequence\s*\(([^()]*)\)")
_SPLIT = re.compile(r"(?<![\w.$])split\s*\(")
"""A call of Vega's ``split()`` (not a field ``datum.split``)."""
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _call_arguments(expression: str, start: int) -> tuple[list[str], int] | None:
    """The top-level arguments of the call whose ``(`` is at ``start`` (quotes and brackets
    skipped), and the index after its ``)``; None if it is not closed."""
    arguments, depth, quote, begin = [], 0, "", start + 1
    i = start
    while i < len(expression):
        char = expression[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                arguments.append(expression[begin:i].strip())
                return arguments, i + 1
        elif char == "," and depth == 1:
            arguments.append(expression[begin:i].strip())
            begin = i + 1
        i += 1
    return None


def _sequence_length(arguments: str) -> int | None:
    """The values of ``sequence(arguments)`` (Vega: ``start, stop, step``; ``stop`` alone), or
    None when they are not plain numbers."""
    parts = [part.strip() for part in arguments.split(",")]
    if not 1 <= len(parts) <= 3 or not all(_NUMBER.fullmatch(part) for part in parts):
        return None
    numbers = [float(part) for part in parts]
    if len(numbers) == 1:
        numbers = [0.0, *numbers]
    start, stop, step = (*numbers[:2], numbers[2] if len(numbers) == 3 else 1.0)
    if step == 0 or not all(math.isfinite(n) for n in (start, stop, step)):
        return None
    return max(0, math.ceil((stop - start) / step))


class _Growth:
    def __init__(self, max_points: int, where: str) -> None:
        self.max_points = max_points
        self.where = where
        self.longest_array = 1
        """The longest array an expression may make (``sequence``, ``split``), for a ``flatten``."""
        self.unbounded_split: str | None = None
        """A ``split()`` without a plain-number limit, and where it is: a ``flatten`` of it cannot be bounded."""

    def refuse(self, message: str) -> ChartError:
        return ChartError(f"{self.where}: {message}", band=self.where.rsplit(".elements[", 1)[0], element=self.where)

    def expressions(self, spec: dict[str, Any]) -> None:
        """Check every ``sequence()`` of the spec's expressions; note the longest."""
        todo: list[tuple[str, Any]] = [("spec", spec)]
        while todo:  # (not recursive: a hostile spec may nest deeply)
            path, node = todo.pop()
            if isinstance(node, list):
                todo.extend((f"{path}[{i}]", item) for i, item in enumerate(node))
                for i, item in enumerate(node):
                    if isinstance(item, str) and len(item) > MAX_SPEC_TEXT:
                        msg = f"the text at {path}[{i}] has {len(item):,} characters, more than {MAX_SPEC_TEXT:,}"
                        raise self.refuse(msg + " (Vega would take minutes to lay it out); shorten it")
            elif isinstance(node, dict):
                for key, value in node.items():
                    if isinstance(value, str) and len(value) > MAX_SPEC_TEXT:
                        msg = f"the text at {path}.{key} has {len(value):,} characters, more than {MAX_SPEC_TEXT:,}"
                        raise self.refuse(msg + " (Vega would take minutes to lay it out); shorten it")
                    if key in _EXPRESSION_KEYS and isinstance(value, str):
                        self._sequences(value, f"{path}.{key}")
                        if "split" in value:
                            self._splits(value, f"{path}.{key}")
                    todo.append((f"{path}.{key}", value))

    def _splits(self, expression: str, path: str) -> None:
        for call in _SPLIT.finditer(expression):
            found = _call_arguments(expression, call.end() - 1)
            arguments, end = found if found is not None else ([], len(expression))
            text = expression[call.start() : end] if len(expression[call.start() : end]) <= 80 else "split(...)"
            limit = arguments[2] if len(arguments) >= 3 else None
            if limit is None or not _NUMBER.fullmatch(limit) or not math.isfinite(float(limit)) or float(limit) < 0:
                self.unbounded_split = self.unbounded_split or f"{text} at {path}"
                continue
            if float(limit) > self.max_points:
                msg = f"{text} at {path} has a limit of {float(limit):,.0f} items, more than its max_points"
                raise self.refuse(msg + f" of {self.max_points:,}; lower the limit or raise max_points")
            self.longest_array = max(self.longest_array, math.ceil(float(limit)))

    def _sequences(self, expression: str, path: str) -> None:
        if "sequence" in expression and not _SEQUENCE.search(expression) and re.search(r"\bsequence\b", expression):
            msg = f"a sequence() at {path} whose range cannot be read; give it plain numbers"
            raise self.refuse(msg)
        for call in _SEQUENCE.finditer(expression):
            length = _sequence_length(call.group(1))
            if length is None:
                msg = f"{call.group(0)} at {path} has a range that is not plain numbers, so its size cannot be bounded"
                raise self.refuse(msg + "; give it numbers")
            if length > self.max_points:
                msg = f"{call.group(0)} at {path} makes {length:,} values, more than its max_points"
                msg += f" of {self.max_points:,}"
                raise self.refuse(msg + "; shorten the range or raise max_points")
            self.longest_array = max(self.longest_array, length)

    def rows(self, transforms: list[Any], rows: int, path: str) -> int:
        """The most rows ``transforms`` can leave from ``rows``."""
        for i, transform in enumerate(transforms):
            if not isinstance(transform, dict):
                continue
            grouped = rows if transform.get("groupby") else 1
            if "flatten" in transform:
                if self.unbounded_split is not None:
                    msg = (
                        f"a flatten at {path}[{i}] of the arrays {self.unbounded_split} makes: a split() without a "
                        "limit makes as many items as its text has separators, so the rows cannot be bounded; give "
                        f"it a limit, split(text, separator, n) with n at most its max_points of {self.max_points:,}"
                    )
                    raise self.refuse(msg)
                rows *= self.longest_array
            elif "fold" in transform:
                rows *= max(1, len(transform["fold"]) if isinstance(transform["fold"], list) else 1)
            elif "density" in transform:
                rows = grouped * self._count(transform, ("steps", "maxsteps"), DEFAULT_DENSITY_STEPS, f"{path}[{i}]")
            elif "quantile" in transform:
                probs = transform.get("probs")
                step = transform.get("step", 0.01)
                if isinstance(probs, list):
                    samples = len(probs)
                elif isinstance(step, (int, float)) and step > 0:
                    samples = math.ceil(1 / step)
                else:
                    samples = self.max_points + 1
                rows = grouped * self._bounded(samples, "quantile samples", f"{path}[{i}]")
            elif "impute" in transform:
                keys = transform.get("keyvals")
                count = len(keys) if isinstance(keys, list) else rows
                if isinstance(keys, dict):  # {start, stop, step}: a sequence
                    length = _sequence_length(
                        ",".join(str(keys.get(k, d)) for k, d in (("start", 0), ("stop", 0), ("step", 1)))
                    )
                    count = self._bounded(
                        self.max_points + 1 if length is None else length, "impute keys", f"{path}[{i}]"
                    )
                rows = grouped * max(count, rows) if transform.get("groupby") else rows + count
        return rows

    def _count(self, transform: dict[str, Any], keys: tuple[str, ...], default: int, path: str) -> int:
        value = next((transform[key] for key in keys if key in transform), default)
        number = value if isinstance(value, (int, float)) and math.isfinite(value) else self.max_points + 1
        return self._bounded(math.ceil(number), f"{keys[0]} ({value})", path)

    def _bounded(self, count: int, what: str, path: str) -> int:
        if count > self.max_points:
            msg = f"{what} at {path} make more than its max_points of {self.max_points:,}; lower it"
            raise self.refuse(msg)
        return count


def check_growth(spec: dict[str, Any], *, points: int, max_points: int, where: str) -> None:
    """``ChartError`` if Vega could build more than ``ROWS_PER_POINT * max_points`` rows from the
    chart's ``points`` (see the module's docstring), or a ``sequence()`` is out of bounds."""
    growth = _Growth(max_points, where)
    growth.expressions(spec)
    limit = ROWS_PER_POINT * max_points
    todo: list[tuple[str, Any, int]] = [("spec", spec, max(points, 1))]
    while todo:
        path, view, rows = todo.pop()
        if isinstance(view, list):
            todo.extend((f"{path}[{i}]", item, rows) for i, item in enumerate(view))
            continue
        if not isinstance(view, dict):
            continue
        transforms = view.get("transform")
        if isinstance(transforms, list):
            rows = growth.rows(transforms, rows, f"{path}.transform")
            if rows > limit:
                msg = (
                    f"its transforms at {path}.transform could make Vega build {rows:,} rows from {points:,} points, "
                    f"more than {ROWS_PER_POINT} x its max_points ({limit:,}); aggregate before a flatten, fold, "
                    "density, quantile or impute, or raise max_points"
                )
                raise growth.refuse(msg)
        for key in ("layer", "hconcat", "vconcat", "concat", "spec"):
            if key in view:
                todo.append((f"{path}.{key}", view[key], rows))
