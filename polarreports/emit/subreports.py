"""The Typst of a subreport: a nested table drawn from its JSON text (``compute.subreports``).

The table's headers, rows, totals and column looks are all data, read with ``json(bytes(..))``
and shown as strings; the function calls itself for a subreport nested in a subreport's rows.

    >>> "json(bytes(s))" in SUBREPORT_PRELUDE
    True
"""

from __future__ import annotations

__all__ = ["INLINE", "SUBREPORT_PRELUDE", "breakable", "subreport_call"]

INLINE = "subreport-inline"
"""The Typst function showing a subreport in a line of a band (a box: it cannot break); a band's
variant that breaks across pages calls ``subreport`` instead (see ``breakable``)."""

SUBREPORT_PRELUDE = """\
// A subreport: its table arrives as JSON text ("" where the master has no matching rows).
#let subreport-align(a) = if a == "right" { right } else if a == "center" { center } else { left }
#let subreport(s) = if s == "" { none } else {
  let sub = json(bytes(s))
  let n = sub.a.len()
  if n == 0 { return none }
  let widths = range(n).map(i => {
    let x = sub.wn.at(i)
    let u = sub.wu.at(i)
    if u == "fr" { x * 1fr } else if u == "%" { x * 1% } else { x * 1pt }
  })
  let cell(i, v, strong-text: false) = align(subreport-align(sub.a.at(i)),
    if strong-text { strong(v) } else if sub.s.at(i) { subreport(v) } else { v })
  let cells = ()
  if sub.h.len() > 0 {
    cells += sub.h.enumerate().map(((i, v)) => cell(i, v, strong-text: true))
    cells.push(table.hline(stroke: 0.5pt + luma(90)))
  }
  // rows: "d" a row of the subreport, "h" and "f" a group's header and footer (bold, never nested)
  let kinds = if sub.k == none { () } else { sub.k }
  for (j, row) in sub.r.enumerate() {
    let group-row = kinds.at(j, default: "d") != "d"
    cells += row.enumerate().map(((i, v)) => cell(i, v, strong-text: group-row))
  }
  if sub.t.len() > 0 {
    cells.push(table.hline(stroke: 0.5pt + luma(90)))
    cells += sub.t.enumerate().map(((i, v)) => cell(i, v, strong-text: true))
  }
  table(columns: widths, stroke: none, inset: (x: 2pt, y: 1.5pt), ..cells)
}
// In a line of the band: its first row on the line's baseline, beside the band's other elements.
#let subreport-inline(s) = box(baseline: 100% - 1em, subreport(s))"""
"""Defines ``subreport(s)``: the table of one master row or group, from its JSON text."""


def subreport_call(width: str, index: int) -> str:
    """The box showing the subreport of cell ``index`` of the band's data.

    >>> subreport_call("1fr", 2)
    'box(width: 1fr, subreport-inline(c.at(2)))'
    """
    return f"box(width: {width}, {INLINE}(c.at({index})))"


def breakable(code: str) -> str:
    """An element's code for a band's variant that breaks across pages: a subreport there is
    the table itself, which can break, never the box of a line.

    >>> breakable("subreport-inline(c.at(2)))")
    'subreport(c.at(2)))'
    """
    return code.replace(f"{INLINE}(", "subreport(")
