"""A crosstab as an HTML table, from the JSON of its cell (``compute.crosstabs``).

Every label and figure passes ``escape.text``; the table is whole (a page has no width limit
to cut its columns at), its header in ``<thead>``, the total row and column in ``<th>``/bold.

    >>> from polarreports.definition.elements import Crosstab
    >>> xtab = Crosstab(rows=["r"], columns=["c"], measures={"n": "count(*)"})
    >>> cell = '{"cols": [["<x>"], ["Total"]], "rows": [["a", "1", "1"], ["Total", "1", "1"]], '
    >>> cell += '"col_totals": [false, true], "row_totals": [false, true]}'
    >>> print(crosstab_html(xtab, cell))  # doctest: +ELLIPSIS
    <table class="crosstab"><thead><tr><th scope="col" class="rows">r</th><th scope="col">&lt;x&gt;</th>...
"""

from __future__ import annotations

import json
from typing import Any

from polarreports.definition.elements import Crosstab
from polarreports.emit.html.escape import text

__all__ = ["CROSSTAB_CSS", "crosstab_html"]

CROSSTAB_CSS = (
    "table.crosstab{border-collapse:collapse;margin:0.4em 0}"
    "table.crosstab th,table.crosstab td{border:0.5pt solid #aaa;padding:2pt 4pt}"
    "table.crosstab td,table.crosstab thead th{text-align:right}"
    "table.crosstab tbody th,table.crosstab thead th.rows{text-align:left}"
    "table.crosstab thead th{background:#e8ecf1}table.crosstab .total{font-weight:700;background:#f4f6f8}"
)
"""The crosstab's rules of the page's stylesheet."""


def _header(crosstab: Crosstab, cols: list[list[Any]]) -> list[str]:
    m = len(crosstab.measures)
    levels = len(crosstab.columns)
    names = "".join(f'<th scope="col" class="rows">{text(d.label or d.column)}</th>' for d in crosstab.rows)
    blank = "<td></td>" * len(crosstab.rows)
    rows = []
    for level in range(levels):
        first = names if level == levels - 1 and m == 1 else blank
        span = f' colspan="{m}"' if m > 1 else ""
        rows.append(first + "".join(f'<th scope="col"{span}>{text(str(col[level]))}</th>' for col in cols))
    if m > 1:
        labels = "".join(
            f'<th scope="col">{text(measure.label or name)}</th>' for name, measure in crosstab.measures.items()
        )
        rows.append(names + labels * len(cols))
    return [f"<tr>{row}</tr>" for row in rows]


def crosstab_html(crosstab: Crosstab, cell: str) -> str:
    """The crosstab of one instance (its JSON ``cell``) as a ``<table>``; "" without rows."""
    try:
        data = json.loads(cell)
        cols, rows = data["cols"] or [], data["rows"] or []
        row_totals, col_totals = data.get("row_totals") or [], data.get("col_totals") or []
    except (ValueError, KeyError, TypeError):
        return ""
    if not rows:
        return ""
    nr, m = len(crosstab.rows), len(crosstab.measures)
    body = []
    for i, row in enumerate(rows):
        total_row = i < len(row_totals) and bool(row_totals[i])
        marked = ' class="total"' if total_row else ""
        heads = "".join(f'<th scope="row"{marked}>{text(str(v))}</th>' for v in row[:nr])
        figures: list[str] = []
        for j in range(len(cols)):
            total = total_row or (j < len(col_totals) and bool(col_totals[j]))
            tag = '<td class="total">' if total else "<td>"
            figures.extend(f"{tag}{text(str(v))}</td>" for v in row[nr + j * m : nr + (j + 1) * m])
        body.append(f"<tr>{heads}{''.join(figures)}</tr>")
    head = "".join(_header(crosstab, cols))
    return f'<table class="crosstab"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'
