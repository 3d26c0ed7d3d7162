"""The Typst side of rich text (``markup: markdown``): one fixed function, ``rich(nodes)``,
that turns the tree of ``compute.markup`` (JSON data) into content.

The tree is data: a label's comes into the source through ``typst_string`` (the one escaping
path), a field's or expression's in the JSON data file; ``rich`` shows every text node as a
Typst string (never parsed as markup), and builds bold, italic, links, line breaks and lists
from the node kinds it knows, ignoring any other.

    >>> rich_call("c.at(2)")
    '{ let tree = c.at(2); if tree.starts-with("[") { rich(json(bytes(tree))) } else { tree } }'
"""

from __future__ import annotations

from polarreports.compute.markup import markdown_json
from polarreports.emit.escape import typst_string

__all__ = ["RICH_PRELUDE", "rich_call", "rich_label"]

RICH_PRELUDE = """#let rich(nodes) = {
  for (k, n) in nodes.enumerate() {
    if type(n) == str { n } else if type(n) == array and n.len() > 0 {
      let kind = n.at(0)
      if kind == "p" { if k > 0 { parbreak() }; rich(n.at(1)) }
      else if kind == "b" { strong(rich(n.at(1))) }
      else if kind == "i" { emph(rich(n.at(1))) }
      else if kind == "a" { underline(link(n.at(1), rich(n.at(2)))) }
      else if kind == "br" { linebreak() }
      else if kind == "ul" { block(above: 0.45em, below: 0.45em, list(spacing: 0.45em, ..n.at(1).map(rich))) }
      else if kind == "ol" {
        block(above: 0.45em, below: 0.45em, enum(spacing: 0.45em, start: n.at(1), ..n.at(2).map(rich)))
      }
    }
  }
}"""
"""Defines ``rich(nodes)``; written once into a source that has rich text."""


def rich_call(cell: str) -> str:
    """The content of a cell whose display string is a tree's JSON (``cell`` is Typst code
    giving that string, such as ``c.at(2)``); a string that is no tree (the placeholder a
    reprinted group header is measured with) shows as it is."""
    return f'{{ let tree = {cell}; if tree.starts-with("[") {{ rich(json(bytes(tree))) }} else {{ tree }} }}'


def rich_label(text: str) -> str:
    """The content of a label's Markdown ``text``: its tree as an escaped string literal."""
    return rich_call(typst_string(markdown_json(text)))
