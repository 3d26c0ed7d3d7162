"""Where each part of a definition file was written: the file, and the line of a place in it.

A YAML definition is read once into nodes that keep their marks (line and column), then built
into plain data; the nodes answer "on which line is ``variables[2].calculation``?" for the
messages that name a place in the definition.

    >>> text = "name: x\\nvariables:\\n  - {name: a, calculation: summ}\\n"
    >>> data, where = read_yaml(text, "r.yaml")
    >>> data["variables"][0]["calculation"], where.line(("variables", 0, "calculation"))
    ('summ', 3)
    >>> where.prefix("variables[0].calculation: 'summ' is not a calculation")
    'r.yaml, line 3: '
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

__all__ = ["Locations", "locations_of", "read_yaml", "remember"]

_PART = re.compile(r"\[(\d+)\]|([^.\[\s(]+)")
_PLACE = re.compile(r"^([A-Za-z_][\w]*(?:\[\d+\])?(?: \([^)]*\))?(?:\.[\w]+(?:\[\d+\])?(?: \([^)]*\))?)*):")


@dataclass(frozen=True)
class Locations:
    """The file a definition came from and, for YAML, its node tree with line marks."""

    source: str
    root: yaml.Node | None = None

    def line(self, loc: Sequence[int | str]) -> int | None:
        """The 1-based line of the deepest node ``loc`` reaches; parts that are not in the data
        (a union member's name, such as ``field`` or ``str``) are passed over."""
        node, line = self.root, None
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                match = next((pair for pair in node.value if str(pair[0].value) == str(part)), None)
                if match is not None:
                    line, node = match[0].start_mark.line + 1, match[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
        return line

    def prefix(self, issue: str) -> str:
        """``"FILE, line N: "`` for a message that starts with a place (``bands.detail.elements[0]:``
        or ``groups[0] ('region').header``), or ``"FILE: "`` when no line is known."""
        line = self.line_of_place(issue)
        return f"{self.source}, line {line}: " if line is not None else f"{self.source}: "

    def line_of_place(self, issue: str) -> int | None:
        """The line of the place a message starts with (``listing.columns[2].totals: ...``)."""
        found = _PLACE.match(issue)
        if found is None or self.root is None:
            return None
        parts: list[int | str] = [
            int(index) if index else name for index, name in _PART.findall(re.sub(r" \([^)]*\)", "", found[1]))
        ]
        return self.line(parts)


def read_yaml(text: str, source: str) -> tuple[Any, Locations]:
    """The data of a YAML text and where each of its parts was written (``yaml.safe_load``'s
    result, read through its node tree once)."""
    try:
        return _read(text, source, _Loader)
    except yaml.YAMLError:  # PyYAML's own parser says what is wrong, and takes what it takes
        return _read(text, source, yaml.SafeLoader)


def _read(text: str, source: str, loader_type: Any) -> tuple[Any, Locations]:
    loader = loader_type(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, Locations(source, node)


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML has it (ten times faster), which keeps the same marks."""

_REMEMBERED: dict[int, Locations] = {}


def remember(report: object, where: Locations) -> None:
    """Keep where ``report`` was read from, for as long as it lives."""
    _REMEMBERED[id(report)] = where
    weakref.finalize(report, _REMEMBERED.pop, id(report), None)


def locations_of(report: object) -> Locations | None:
    """Where ``report`` was read from, if it was read from a file."""
    return _REMEMBERED.get(id(report))
