"""A report definition's structure as a readable tree: parameters, variables, and the bands in
reading order with the groups nested and each band's elements (``report.tree()``; in a notebook,
a report shows as this tree).

    >>> import polarreports as pr
    >>> print(pr.load("examples/sales_summary.yaml").tree())  # doctest: +ELLIPSIS
    report 'sales_summary'...
    ├── variables: ...
    ...
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from polarreports.definition.report import Band, Report

__all__ = ["Node", "report_tree"]

SHORT = 40
"""Characters of a label's text or an expression shown in the tree."""


def _short(text: Any) -> str:
    value = str(text)
    return value if len(value) <= SHORT else value[: SHORT - 1] + "…"


@dataclass
class Node:
    """One line of the tree and the lines under it."""

    text: str
    children: list[Node] = field(default_factory=list)

    def lines(self, prefix: str = "") -> list[str]:
        out = []
        for i, child in enumerate(self.children):
            last = i == len(self.children) - 1
            out.append(prefix + ("└── " if last else "├── ") + child.text)
            out.extend(child.lines(prefix + ("    " if last else "│   ")))
        return out

    def __str__(self) -> str:
        return "\n".join([self.text, *self.lines()])

    def __repr__(self) -> str:
        return str(self)

    def _html_items(self) -> str:
        items = "".join(f"<li>{child._html()}</li>" for child in self.children)
        return f"<ul style='margin:0;padding-left:1.4em'>{items}</ul>" if items else ""

    def _html(self) -> str:
        return html.escape(self.text) + self._html_items()

    def _repr_html_(self) -> str:
        """The tree as nested lists (every text escaped: a definition's strings stay text)."""
        return f"<div style='font-family:monospace'><b>{html.escape(self.text)}</b>{self._html_items()}</div>"


def element_text(element: Any) -> str:
    """One element in a few words: its kind and what it shows."""
    kind = element.type
    if kind == "field":
        shown = element.column
    elif kind == "label":
        shown = repr(_short(element.text))
    elif kind == "aggregate":
        shown = element.variable + ("" if element.show == "value" else f" ({element.show})")
    elif kind == "expression":
        shown = _short(element.expr)
    elif kind == "image":
        shown = element.column or _short(element.path)
    elif kind == "chart":
        shown = "by " + ", ".join(d.column for d in element.by) if element.by else ""
    else:
        shown = ""
    return f"{kind} {shown}".strip()


def _band(name: str, band: Band | None) -> Node | None:
    if band is None:
        return None
    elements = [element_text(e) for e in band.elements]
    return Node(f"{name}: {', '.join(elements) if elements else '(empty)'}")


def _variable(variable: Any) -> str:
    reset = f", reset by {variable.reset}" if variable.reset != "report" else ""
    argument = _short(variable.expression) if variable.expression is not None else ""
    return f"{variable.name} = {variable.calculation}({argument}){reset}"


def _parameter(parameter: Any) -> str:
    extra = f" = {parameter.default!r}" if parameter.default is not None else ""
    allowed = f" in {parameter.allowed!r}" if parameter.allowed else ""
    required = ", required" if parameter.required else ""
    return f"{parameter.name} ({parameter.type}{required}){extra}{allowed}"


def _groups(report: Report, level: int) -> list[Node]:
    """The group at ``level`` (0: outermost) with what it holds, or the detail band inside them all."""
    if level == len(report.groups):
        detail = _band("detail", report.bands.detail)
        return [detail] if detail is not None else []
    group = report.groups[level]
    key = f" (key {_short(group.key)})" if group.key is not None else ""
    inner = [
        node
        for node in (_band("header", group.header), *_groups(report, level + 1), _band("footer", group.footer))
        if node is not None
    ]
    return [Node(f"group {group.name}{key}", inner)]


def report_tree(report: Report) -> Node:
    """The tree of ``report``."""
    title = f": {_short(report.title)}" if report.title else ""
    page = report.page
    root = Node(f"report {report.name!r}{title} ({page.size} {page.orientation})")
    if report.parameters:
        root.children.append(Node("parameters", [Node(_parameter(p)) for p in report.parameters]))
    if report.filter is not None:
        root.children.append(Node(f"filter: {_short(report.filter)}"))
    if report.columns:
        columns = [Node(f"{name} = {_short(expr)}") for name, expr in report.columns.items()]
        root.children.append(Node("columns", columns))
    if report.variables:
        root.children.append(Node("variables: " + ", ".join(v.name for v in report.variables)))
        root.children[-1].children = [Node(_variable(v)) for v in report.variables]
    bands = report.bands
    reading = [
        _band("title", bands.title),
        _band("page_header", bands.page_header),
        _band("column_header", bands.column_header),
        *_groups(report, 0),
        _band("column_footer", bands.column_footer),
        _band("summary", bands.summary),
        _band("page_footer", bands.page_footer),
        _band("last_page_footer", bands.last_page_footer),
        _band("no_data", bands.no_data),
        _band("background", bands.background),
    ]
    root.children.append(Node("bands", [node for node in reading if node is not None]))
    return root
