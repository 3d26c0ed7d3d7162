"""A crosstab as spreadsheet rows, from the JSON of its cell (``compute.crosstabs``): the
column header rows (the column labels, then the measures' labels when there are several), then
a row per crosstab row (its labels, then its figures), each total bold.

The figures are the report's display strings (text, as the PDF prints them: the JSON holds no
raw numbers, and reading a formatted number back depends on its locale and pattern).

    >>> from polarreports.definition.elements import Crosstab
    >>> xtab = Crosstab(rows=["r"], columns=["c"], measures={"n": "count(*)"})
    >>> cell = '{"cols": [["x"], ["Total"]], "rows": [["a", "1", "1"], ["Total", "1", "1"]], '
    >>> cell += '"col_totals": [false, true], "row_totals": [false, true]}'
    >>> for row in crosstab_rows(xtab, cell):
    ...     print(row)
    [('r', True), ('x', True), ('Total', True)]
    [('a', False), ('1', False), ('1', True)]
    [('Total', True), ('1', True), ('1', True)]
"""

from __future__ import annotations

import json
from typing import Any

from polarreports.definition.elements import Crosstab

__all__ = ["crosstab_rows"]

Row = list[tuple[str, bool]]
"""A row's cells from the first column: (text, bold)."""


def _header(crosstab: Crosstab, cols: list[list[Any]]) -> list[Row]:
    m, levels = len(crosstab.measures), len(crosstab.columns)
    names = [(str(d.column), True) for d in crosstab.rows]
    blank = [("", False)] * len(crosstab.rows)
    rows = []
    for level in range(levels):
        first = names if level == levels - 1 and m == 1 else blank
        labels: Row = []
        for col in cols:
            labels.append((str(col[level]) if level < len(col) else "", True))
            labels.extend([("", False)] * (m - 1))
        rows.append(first + labels)
    if m > 1:
        measures = [(measure.label or name, True) for name, measure in crosstab.measures.items()]
        rows.append(names + measures * len(cols))
    return rows


def crosstab_rows(crosstab: Crosstab, cell: str | None) -> list[Row]:
    """The rows of one crosstab instance (its JSON ``cell``); none without rows."""
    try:
        data = json.loads(cell or "")
        cols, rows = data["cols"] or [], data["rows"] or []
        row_totals, col_totals = data.get("row_totals") or [], data.get("col_totals") or []
    except (ValueError, KeyError, TypeError):
        return []
    if not rows:
        return []
    nr, m = len(crosstab.rows), len(crosstab.measures)
    found = _header(crosstab, cols)
    for i, row in enumerate(rows):
        total_row = i < len(row_totals) and bool(row_totals[i])
        cells: Row = [(str(v), total_row) for v in row[:nr]]
        for j in range(len(cols)):
            total = total_row or (j < len(col_totals) and bool(col_totals[j]))
            cells.extend((str(v), total) for v in row[nr + j * m : nr + (j + 1) * m])
        found.append(cells)
    return found
