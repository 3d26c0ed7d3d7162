"""No string of a definition can change the generated Typst code: each string field of the
gallery definitions, in turn, holds text that would end a comment or a string literal and run
code. The render must then succeed (the text shown as text) or stop with a definition or plan
error; Typst never runs the injected code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import polarreports as pr
from polarreports.api import plan_report
from polarreports.emit.escape import comment, typst_string
from polarreports.emit.typst_source import emit_typst
from tests.conftest import ROOT

PAYLOAD = 'x\u2028#panic("injected")\u2029"] #panic("injected") #["\u0085// \n#panic("injected")'
LINE_BREAKS = "\n\r\x0b\x0c\x85\u2028\u2029"


def _string_leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _string_leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _string_leaves(value, (*path, i))
    elif isinstance(node, str):
        yield path


def _with(node: Any, path: tuple[Any, ...], value: str) -> Any:
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)
    inner = node.get(path[0]) if isinstance(node, dict) else node[path[0]]
    copy[path[0]] = _with(inner, path[1:], value)  # type: ignore[index]
    return copy


EXAMPLE = yaml.safe_load((ROOT / "examples" / "sales_by_region.yaml").read_text())
STRING_FIELDS = list(_string_leaves(EXAMPLE))


@pytest.mark.typst
@pytest.mark.parametrize("path", STRING_FIELDS, ids=lambda path: ".".join(map(str, path)))
def test_a_hostile_string_in_any_field_never_runs(path: tuple[Any, ...]) -> None:
    try:
        report = pr.Report.from_dict(_with(EXAMPLE, path, PAYLOAD))
        doc = report.render(pr.sample.sales_data(40))
    except (pr.DefinitionError, pr.PlanError, pr.ParameterError, pr.FormatError):
        return  # refused as a bad definition: fine
    assert doc.pdf.startswith(b"%PDF")  # a RenderError here would be Typst running the payload


def test_every_string_field_was_tried() -> None:
    assert len(STRING_FIELDS) > 40


def test_names_in_comments_stay_in_their_comment() -> None:
    report = pr.Report.from_dict(_with(EXAMPLE, ("name",), "sales\u2028#panic()"))
    plan, scopes = plan_report(report, pr.sample.sales_data(10))
    for line in emit_typst(plan, scopes.dtypes).source.splitlines():
        assert not line.startswith("#panic"), line


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_an_escaped_string_is_one_line_and_reads_back(text: str) -> None:
    literal = typst_string(text)
    assert not any(char in literal for char in LINE_BREAKS)
    assert not any(char in comment(text) for char in LINE_BREAKS)
    # undo the escapes as Typst reads them
    decoded, i = [], 1
    while i < len(literal) - 1:
        if literal[i] == "\\":
            if literal[i + 1] == "u":
                end = literal.index("}", i)
                decoded.append(chr(int(literal[i + 3 : end], 16)))
                i = end + 1
                continue
            decoded.append(literal[i + 1])
            i += 2
            continue
        decoded.append(literal[i])
        i += 1
    assert "".join(decoded) == text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _with_markup(node: Any) -> Any:
    """``node`` with ``markup: markdown`` on every label, field and expression."""
    if isinstance(node, dict):
        found = {key: _with_markup(value) for key, value in node.items()}
        if found.get("type") in ("label", "field", "expression"):
            found["markup"] = "markdown"
        return found
    if isinstance(node, list):
        return [_with_markup(value) for value in node]
    return node


RICH = _with_markup(EXAMPLE)
LABEL_TEXTS = [path for path in _string_leaves(RICH) if path[-1] == "text"]
MARKDOWN_PAYLOAD = PAYLOAD + '\n- **#panic("b")**\n1. [#x](https://e.org/"]#panic())\n*`#panic()`*'


@pytest.mark.typst
@pytest.mark.parametrize("path", LABEL_TEXTS, ids=lambda path: ".".join(map(str, path)))
def test_a_hostile_label_with_markup_on_never_runs(path: tuple[Any, ...]) -> None:
    report = pr.Report.from_dict(_with(RICH, path, MARKDOWN_PAYLOAD))
    doc = report.render(pr.sample.sales_data(40))
    assert doc.pdf.startswith(b"%PDF")
    source = doc.to_typst()
    assert "rich(json(bytes(" in source
    for line in source.splitlines():
        assert not line.lstrip().startswith("#panic"), line


def test_every_label_was_tried_with_markup() -> None:
    assert len(LABEL_TEXTS) >= 5
