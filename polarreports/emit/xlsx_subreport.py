"""A subreport as spreadsheet rows, from the JSON of its table (``compute.subreports``): its
column header, its rows (a group's header and footer bold), its totals (bold); a nested
subreport's rows below its row, from its own column. Every cell is the report's text; given the
raw values of its rows (``typed``: per row of its table, a mapping ``v<i>`` -> value of column
``i``, None for a group's rows), its rows' cells get their values too (numbers, dates as Excel
serial numbers, booleans), which the sheet writes with the columns' number formats.

    >>> cell = '{"h": ["Method", "Amount"], "r": [["card", "1.50"]], "k": null, "t": ["", "1.50"],'
    >>> cell += ' "a": ["left", "right"], "s": [false, false]}'
    >>> for row in subreport_rows(cell):
    ...     print(row.offset, row.texts, row.bold, row.aligns)
    0 ['Method', 'Amount'] True ['left', 'right']
    0 ['card', '1.50'] False ['left', 'right']
    0 ['', '1.50'] True ['left', 'right']
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

__all__ = ["SubRow", "subreport_rows"]

_DEPTH = 4
"""Nested tables are read this deep (as subreports nest, ``compute.subreports.MAX_DEPTH``)."""


class SubRow(NamedTuple):
    """One row of a subreport's table: the column it starts at (after its band's), its texts,
    whether bold, and each cell's alignment."""

    offset: int
    texts: list[str]
    bold: bool
    aligns: list[str]
    values: list[Any] | None = None
    """Each cell's raw value (None: its text only), for a row of the outer table's detail."""


def subreport_rows(
    cell: str | None, offset: int = 0, depth: int = 0, typed: list[dict[str, Any] | None] | None = None
) -> list[SubRow]:
    """The rows of one subreport instance (its JSON ``cell``; ``typed``: its rows' raw values);
    none without rows.

    >>> cell = '{"h": [], "r": [["card", "1.50"]], "k": null, "t": [], "a": ["left", "right"], "s": [false, false]}'
    >>> subreport_rows(cell, typed=[{"v1": 1.5}])[0].values
    [None, 1.5]
    """
    try:
        table: dict[str, Any] = json.loads(cell or "")
        aligns = [str(a) for a in table.get("a") or []]
        nested = [bool(s) for s in table.get("s") or []]
        rows, kinds = table.get("r") or [], table.get("k") or []
    except (ValueError, TypeError, AttributeError):
        return []
    if not isinstance(table, dict) or not rows:
        return []
    found = []
    if table.get("h"):
        found.append(SubRow(offset, [str(v) for v in table["h"]], True, aligns))
    for j, row in enumerate(rows):
        group_row = j < len(kinds) and kinds[j] != "d"
        inner = [i for i, _ in enumerate(row) if i < len(nested) and nested[i] and not group_row]
        texts = ["" if i in inner else str(v) for i, v in enumerate(row)]
        raw = typed[j] if typed is not None and j < len(typed) and not group_row else None
        values = [None if i in inner else raw.get(f"v{i}") for i in range(len(row))] if raw else None
        found.append(SubRow(offset, texts, group_row, aligns, values))
        for i in inner if depth < _DEPTH else []:
            found.extend(subreport_rows(row[i], offset + i, depth + 1))
    if table.get("t"):
        found.append(SubRow(offset, [str(v) for v in table["t"]], True, aligns))
    return found
