"""The Typst of a subreport: a nested table drawn from its JSON text (``compute.subreports``).

The table's headers, rows, totals and column looks are all data, read with ``json(bytes(..))``
and shown as strings; the function calls itself for a subreport nested in a subreport's rows.
Each row is a line of boxes as wide as the columns (as a band's elements), which Typst lays out
faster than a ``table`` (``benchmarks/subreports.py``).

    >>> "json(bytes(s))" in SUBREPORT_PRELUDE
    True
"""

from __future__ import annotations

__all__ = ["INLINE", "SUBREPORT_PRELUDE", "breakable", "page_subreport_call", "subreport_call"]

INLINE = "subreport-inline"
"""The Typst function showing a subreport in a line of a band (a box: it cannot break); a band's
variant that breaks across pages calls ``subreport`` instead (see ``breakable``)."""

SUBREPORT_PRELUDE = """\
// A subreport: its table arrives as JSON text ("" where the master has no matching rows).
#let subreport-align(a) = if a == "right" { right } else if a == "center" { center } else { left }
// A cell's text in its look (l: font f, size z, bold b, italic i, colour c; none: as around it).
#let subreport-text(l, v, strong-text) = {
  let args = (:)
  if l.f != none { args.insert("font", l.f) }
  if l.z != none { args.insert("size", l.z * 1pt) }
  if l.b == true or (l.b == none and strong-text) { args.insert("weight", "bold") }
  if l.b == false { args.insert("weight", "regular") }
  if l.i != none { args.insert("style", if l.i { "italic" } else { "normal" }) }
  if l.c != none { args.insert("fill", rgb(l.c)) }
  text(..args, v)
}
#let subreport(s) = if s == "" { none } else {
  let sub = json(bytes(s))
  let n = sub.a.len()
  if n == 0 { return none }
  let widths = range(n).map(i => {
    let x = sub.wn.at(i)
    let u = sub.wu.at(i)
    if u == "fr" { x * 1fr } else if u == "%" { x * 1% } else { x * 1pt }
  })
  // its own looks: per kind of row, each column's look and the row's fill (none: plain)
  let looks = sub.at("L", default: ())
  let kinds-looks = (:)
  for entry in sub.at("lk", default: ()) { kinds-looks.insert(entry.k, entry) }
  let extra = sub.at("x", default: (z: none, stripe: none))
  let aligns = sub.a.map(subreport-align)
  // a cell: its content in its look (its row's box aligns and fills it)
  let cell(i, v, kind, strong-text: false) = {
    let own = kinds-looks.at(kind, default: none)
    if sub.s.at(i) and kind == "d" { subreport(v) } else if own == none {
      if strong-text { strong(v) } else { v }
    } else { subreport-text(looks.at(own.l.at(i)), v, strong-text) }
  }
  // a row's fill: the band's, a stripe, or per column where its elements have fills of their own
  let row-fill(kind, base) = {
    let own = kinds-looks.at(kind, default: none)
    let g = if base != none { base } else if own != none and own.g != none { rgb(own.g) } else { none }
    if own == none or own.l.all(l => looks.at(l).g == none) { g } else {
      own.l.map(l => { let c = looks.at(l).g; if c == none { g } else { rgb(c) } })
    }
  }
  // its rows: each a line of boxes as wide as the columns (as a band's elements; lighter to lay
  // out than a table), with its fill (a row's, a stripe's, or per column); "rule": a thin line
  let rows = ()
  let rule = 0.5pt + luma(90)
  if sub.h.len() > 0 {
    rows.push((sub.h.enumerate().map(((i, v)) => cell(i, v, "c", strong-text: true)), row-fill("c", none)))
    rows.push("rule")
  }
  // "d" a row of the subreport, "h1" and "f1" a group's header and footer (bold, never nested)
  let kinds = if sub.k == none { () } else { sub.k }
  let shown-rows = 0
  for (j, row) in sub.r.enumerate() {
    let kind = kinds.at(j, default: "d")
    let group-row = kind != "d"
    let striped = not group-row and extra.stripe != none and calc.odd(shown-rows)
    let fill = row-fill(kind, if striped { rgb(extra.stripe) } else { none })
    rows.push((row.enumerate().map(((i, v)) => cell(i, v, kind, strong-text: group-row)), fill))
    if not group-row { shown-rows += 1 }
  }
  if sub.t.len() > 0 {
    rows.push("rule")
    rows.push((sub.t.enumerate().map(((i, v)) => cell(i, v, "t", strong-text: true)), row-fill("t", none)))
  }
  let drawn = block(for item in rows {
    if item == "rule" { block(width: 100%, line(length: 100%, stroke: rule)) } else {
      let (row, fill) = item
      let each = type(fill) == array
      block(width: 100%, fill: if each { none } else { fill }, row.enumerate().map(((i, v)) => box(
        width: widths.at(i), inset: (x: 2pt, y: 1.5pt), fill: if each { fill.at(i) } else { none },
        align(aligns.at(i), v))).join())
    }
  })  // (one block: the box of a line sits on its first row's baseline, as a table did)
  if extra.z == none { drawn } else { text(size: extra.z * 1pt, drawn) }
}
// In a line of the band: its first row on the line's baseline (a box takes its content's first
// baseline), beside the band's other elements.
#let subreport-inline(s) = box(subreport(s))"""
"""Defines ``subreport(s)``: the table of one master row or group, from its JSON text."""


def subreport_call(width: str, index: int) -> str:
    """The box showing the subreport of cell ``index`` of the band's data.

    >>> subreport_call("1fr", 2)
    'box(width: 1fr, subreport-inline(c.at(2)))'
    """
    return f"box(width: {width}, {INLINE}(c.at({index})))"


def page_subreport_call(width: str, index: int, slot: int) -> str:
    """The box showing, in a page band, the subreport linked to each page's rows: the page's
    table (value per page ``slot``, see ``compute.pages``) over the room of the tallest one
    (cell ``index``, hidden), so the band is as tall on every page (its height is measured once,
    for the page's margin, before the pages are known).

    >>> "hide(subreport-inline(c.at(1)))" in page_subreport_call("1fr", 1, 0)
    True
    """
    page_table = (
        'context { let p = data.at("pages", default: none); '
        f'if p != none {{ {INLINE}(p.at(here().page() - 1, default: ()).at({slot}, default: "")) }} }}'
    )
    return f"box(width: {width}, {{ hide({INLINE}(c.at({index}))); place(top + left, {page_table}) }})"


def breakable(code: str) -> str:
    """An element's code for a band's variant that breaks across pages: a subreport there is
    the table itself, which can break, never the box of a line.

    >>> breakable("subreport-inline(c.at(2)))")
    'subreport(c.at(2)))'
    """
    return code.replace(f"{INLINE}(", "subreport(")
