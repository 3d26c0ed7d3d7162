"""The Typst code of a crosstab: tables built from the JSON of its cell (``compute.crosstabs``).

The data stays data: the labels and figures come from ``json(bytes(c.at(i)))`` and are shown
with ``text(...)``; only the definition's own words (dimension names, measure labels) are in the
source, through ``emit.escape``. Column headers repeat on each page a table runs over; columns
that do not fit the page's width go to the next panel, which repeats the row headers.

    >>> from polarreports.definition.elements import Crosstab
    >>> xtab = Crosstab(rows=["region"], columns=["quarter"], measures={"n": "count(*)"})
    >>> panel_columns(xtab, body=500.0, font_size=10)
    7
    >>> "json(bytes(c.at(3)))" in crosstab_code(xtab, 3, body=500.0, font_size=10)
    True
"""

from __future__ import annotations

import math

from polarreports.definition.elements import Crosstab
from polarreports.emit.escape import typst_string
from polarreports.units import to_points

__all__ = ["crosstab_code", "crosstab_width", "panel_columns"]


def panel_columns(crosstab: Crosstab, *, body: float, font_size: float) -> int:
    """How many of the crosstab's columns (each as wide as its measures) fit beside its row
    headers in ``body`` points; at least one."""
    header = to_points(crosstab.row_header_width, whole=body, font_size=font_size) * len(crosstab.rows)
    column = to_points(crosstab.column_width, whole=body, font_size=font_size) * len(crosstab.measures)
    return max(1, math.floor((body - header + 1e-6) / max(column, 1e-6)))


def _fill(color: str | None) -> str:
    return "none" if color is None else f"rgb({typst_string(color)})"


def crosstab_width(crosstab: Crosstab, *, body: float, font_size: float) -> float:
    """The crosstab's width in points: its element's ``width`` (of the body's ``body`` points),
    or the whole body's.

    >>> from polarreports.definition.elements import Crosstab
    >>> half = Crosstab(rows=["r"], columns=["c"], measures={"n": "count(*)"}, width="50%")
    >>> crosstab_width(half, body=500.0, font_size=10)
    250.0
    """
    if crosstab.width is None:
        return body
    return min(body, to_points(crosstab.width, whole=body, font_size=font_size))


def crosstab_code(crosstab: Crosstab, index: int, *, body: float, font_size: float) -> str:
    """A block with the crosstab of cell ``index``, one table per panel of columns, as wide as
    its element (``crosstab_width`` of the band's ``body`` points): the columns that do not fit
    that width continue in the next panel."""
    nr, m = len(crosstab.rows), len(crosstab.measures)
    names = [typst_string(d.label or d.column) for d in crosstab.rows]
    labels = [typst_string(measure.label or name) for name, measure in crosstab.measures.items()]
    header_rows = len(crosstab.columns) + (1 if m > 1 else 0)
    header_cells: list[str] = []
    across = "center" if m > 1 else "right"
    for level in range(len(crosstab.columns)):
        last = level == header_rows - 1
        header_cells.append(f"..({', '.join(f'strong({n})' for n in names)},)" if last else f"..(([],) * {nr})")
        header_cells.append(
            f"..sel.map(j => table.cell(colspan: {m}, align: {across}, strong(text(x.cols.at(j).at({level})))))"
        )
    if m > 1:
        header_cells.append(f"..({', '.join(f'strong({n})' for n in names)},)")
        header_cells.append(f"..sel.map(j => ({', '.join(f'strong({label})' for label in labels)},)).flatten()")
    rh = crosstab.row_header_width
    cw = crosstab.column_width
    size = f"size: {crosstab.size}pt, " if crosstab.size else ""
    color = f"fill: rgb({typst_string(crosstab.color)}), " if crosstab.color else ""
    width = crosstab_width(crosstab, body=body, font_size=font_size)
    per = panel_columns(crosstab, body=width, font_size=font_size)
    return (
        f"block(width: {width:g}pt, above: 0.6em, below: 0.9em, {{ set text({size}{color}); "
        f"let x = json(bytes(c.at({index}))); "
        f"if x.rows != none and x.rows.len() > 0 {{ "
        f"let n = x.cols.len(); "
        f"for start in range(0, n, step: {per}) {{ "
        f"let sel = range(start, calc.min(start + {per}, n)); "
        f"let total(j) = x.col_totals.at(j); "
        f"if start > 0 {{ v(0.8em) }}; "
        f"table(columns: ({rh},) * {nr} + ({cw},) * (sel.len() * {m}), "
        f"stroke: {crosstab.stroke}pt + luma(170), inset: 3pt, "
        f"align: (col, row) => if col < {nr} {{ left }} else {{ right }}, "
        f"fill: (col, row) => if row < {header_rows} {{ {_fill(crosstab.header_fill)} }} "
        f"else if x.row_totals.at(row - {header_rows}) "
        f"or (col >= {nr} and total(sel.at(calc.quo(col - {nr}, {m})))) "
        f"{{ {_fill(crosstab.total_fill)} }} else {{ none }}, "
        f"table.header(repeat: true, {', '.join(header_cells)}), "
        f"..x.rows.enumerate().map(((i, r)) => {{ "
        f"let strong-row = x.row_totals.at(i); "
        f"let heads = r.slice(0, {nr}).map(s => if strong-row {{ strong(text(s)) }} else {{ text(s) }}); "
        f"let figures = sel.map(j => r.slice({nr} + j * {m}, {nr} + (j + 1) * {m})"
        f".map(s => if strong-row or total(j) {{ strong(text(s)) }} else {{ text(s) }})).flatten(); "
        f"heads + figures }}).flatten()) }} }} }})"
    )
