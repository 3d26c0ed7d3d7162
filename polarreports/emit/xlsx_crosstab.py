"""A crosstab as spreadsheet rows, from the JSON of its cell (``compute.crosstabs``): the
column header rows (the column labels, then the measures' labels when there are several), then
a row per crosstab row (its labels, then its figures), each total bold.

A figure is a number where the crosstab's JSON has one (``numbers``: a finite number of a
numeric measure), written with the Excel format of its measure's pattern; else the report's
display string (a missing combination's "", a ``null_text``, NaN).

    >>> from polarreports.definition.elements import Crosstab
    >>> xtab = Crosstab(rows=["r"], columns=["c"], measures={"n": "count(*)"})
    >>> cell = '{"cols": [["x"], ["Total"]], "rows": [["a", "1", "1"], ["Total", "1", "1"]], '
    >>> cell += '"col_totals": [false, true], "row_totals": [false, true], "numbers": [[1, 1], [1, 1]]}'
    >>> for row in crosstab_rows(xtab, cell):
    ...     print([(f.text, f.bold, f.number) for f in row])
    [('r', True, None), ('x', True, None), ('Total', True, None)]
    [('a', False, None), ('1', False, 1), ('1', True, 1)]
    [('Total', True, None), ('1', True, 1), ('1', True, 1)]
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from polarreports.definition.elements import Crosstab

__all__ = ["Figure", "crosstab_rows"]


class Figure(NamedTuple):
    """One cell of a crosstab's rows: its text, whether bold, and for a figure its number and
    the index of its measure."""

    text: str
    bold: bool
    number: float | None = None
    measure: int | None = None


Row = list[Figure]
"""A row's cells from the first column."""


def _header(crosstab: Crosstab, cols: list[list[Any]]) -> list[Row]:
    m, levels = len(crosstab.measures), len(crosstab.columns)
    names = [Figure(d.label or d.column, True) for d in crosstab.rows]
    blank = [Figure("", False)] * len(crosstab.rows)
    rows = []
    for level in range(levels):
        first = names if level == levels - 1 and m == 1 else blank
        labels: Row = []
        for col in cols:
            labels.append(Figure(str(col[level]) if level < len(col) else "", True))
            labels.extend([Figure("", False)] * (m - 1))
        rows.append(first + labels)
    if m > 1:
        measures = [Figure(measure.label or name, True) for name, measure in crosstab.measures.items()]
        rows.append(names + measures * len(cols))
    return rows


def crosstab_rows(crosstab: Crosstab, cell: str | None) -> list[Row]:
    """The rows of one crosstab instance (its JSON ``cell``); none without rows."""
    try:
        data = json.loads(cell or "")
        cols, rows = data["cols"] or [], data["rows"] or []
        row_totals, col_totals = data.get("row_totals") or [], data.get("col_totals") or []
        numbers = data.get("numbers") or []
    except (ValueError, KeyError, TypeError, AttributeError):
        return []
    if not rows:
        return []
    nr, m = len(crosstab.rows), len(crosstab.measures)
    found = _header(crosstab, cols)
    for i, row in enumerate(rows):
        total_row = i < len(row_totals) and bool(row_totals[i])
        cells: Row = [Figure(str(v), total_row) for v in row[:nr]]
        figures = numbers[i] if i < len(numbers) and isinstance(numbers[i], list) else []
        for j in range(len(cols)):
            total = total_row or (j < len(col_totals) and bool(col_totals[j]))
            for k, v in enumerate(row[nr + j * m : nr + (j + 1) * m]):
                at = j * m + k
                number = figures[at] if at < len(figures) else None
                if isinstance(number, bool) or not isinstance(number, int | float):
                    number = None
                cells.append(Figure(str(v), total, number, k))
        found.append(cells)
    return found
