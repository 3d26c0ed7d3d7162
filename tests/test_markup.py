"""Rich text (``markup: markdown``): a safe Markdown subset, parsed once per distinct value into
data that a fixed Typst function shows; data never becomes Typst code."""

from __future__ import annotations

import io
from typing import Any

import polars as pl
import pytest
from pypdf import PdfReader

import polarreports as pr
from polarreports.compute import markup
from polarreports.compute.markup import markdown_tree
from tests.conftest import pdf_lines


def shown_text(nodes: list[Any]) -> str:
    """The text a tree shows, its line breaks as spaces."""
    out = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif node[0] == "br":
            out.append(" ")
        elif node[0] in ("b", "i", "p"):
            out.append(shown_text(node[1]))
        elif node[0] == "a":
            out.append(shown_text(node[2]))
        elif node[0] == "ul":
            out.extend(shown_text(item) for item in node[1])
        elif node[0] == "ol":
            out.extend(shown_text(item) for item in node[2])
    return "".join(out)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("plain", [["p", ["plain"]]]),
        ("**b** and *i* and __b__", [["p", [["b", ["b"]], " and ", ["i", ["i"]], " and ", ["b", ["b"]]]]]),
        ("one\ntwo", [["p", ["one", ["br"], "two"]]]),
        ("[Pay now](https://pay.example/1?a=b)", [["p", [["a", "https://pay.example/1?a=b", ["Pay now"]]]]]),
        ("[mail](mailto:a@b.org)", [["p", [["a", "mailto:a@b.org", ["mail"]]]]]),
        ("[x](file:///etc/passwd)", [["p", ["[x](file:///etc/passwd)"]]]),  # refused by the parser: text
        ("[x](ftp://host/f)", [["p", ["x"]]]),  # parsed, but only http(s) and mailto link
        ("- a\n- b", [["ul", [[["p", ["a"]]], [["p", ["b"]]]]]]),
        ("2. a\n3. b", [["ol", 2, [[["p", ["a"]]], [["p", ["b"]]]]]]),
        ("# Title", [["p", ["# Title"]]]),  # headings are off
        ("<script>x</script>", [["p", ["<script>x</script>"]]]),  # no HTML
        ("`#panic()`", [["p", ["`#panic()`"]]]),  # no code
        ("\\*not bold\\*", [["p", ["*not bold*"]]]),
    ],
)
def test_the_subset(text: str, tree: list[Any]) -> None:
    assert markdown_tree(text) == tree


def test_deep_nesting_and_huge_values_stay_bounded() -> None:
    deep = "".join("  " * i + "- x\n" for i in range(60))
    assert "x" in shown_text(markdown_tree(deep))
    huge = "*" * 200_000
    assert markdown_tree(huge) == [["p", [huge]]]


def test_distinct_values_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = markup.markdown_tree

    def counting(text: str) -> list[Any]:
        calls.append(text)
        return real(text)

    markup.markdown_json.cache_clear()
    monkeypatch.setattr(markup, "markdown_tree", counting)
    report = pr.Report(
        name="rich", bands={"detail": {"elements": [{"type": "field", "column": "t", "markup": "markdown"}]}}
    )
    doc = report.render(pl.DataFrame({"t": [f"**row** {i % 5}" for i in range(2_000)]}))
    assert sorted(calls) == sorted(f"**row** {i}" for i in range(5))
    assert b'[[\\"p\\",[[\\"b\\",[\\"row\\"]],\\" 3\\"]]]' in doc.data_json


@pytest.mark.typst
def test_rich_text_renders_bold_italic_links_and_lists() -> None:
    report = pr.Report(
        name="letter",
        bands={
            "title": {
                "elements": [
                    {
                        "type": "label",
                        "markup": "markdown",
                        "text": "Dear **Ms Ortiz**,\nyour *order*:\n\n- one\n- two\n\n[Pay](https://pay.example/9)",
                    }
                ]
            },
            "detail": {
                "elements": [
                    {"type": "field", "column": "note", "markup": "markdown"},
                    {"type": "expression", "expr": "'**' || note || '**'", "markup": "markdown"},
                ]
            },
        },
    )
    doc = report.render(pl.DataFrame({"note": ["1. first\n2. second"]}))
    pdf = doc.pdf
    lines = pdf_lines(pdf)
    assert lines[:6] == ["Dear Ms Ortiz,", "your order:", "• one", "• two", "Pay", "1. first"]
    assert "2. second" in lines[6]
    reader = PdfReader(io.BytesIO(pdf))
    uris = [a.get_object()["/A"]["/URI"] for a in reader.pages[0].get("/Annots", [])]
    assert uris == ["https://pay.example/9"]
    fonts = {str(f.get_object()["/BaseFont"]) for f in reader.pages[0]["/Resources"]["/Font"].values()}
    assert any("Bold" in name for name in fonts)
    assert any("Italic" in name for name in fonts)


@pytest.mark.typst
def test_a_reprinted_group_header_with_rich_text_and_a_barcode() -> None:
    report = pr.Report(
        name="reprinted",
        groups=[
            {
                "name": "region",
                "reprint_header": True,
                "header": {
                    "elements": [
                        {"type": "field", "column": "region", "markup": "markdown", "width": "40mm"},
                        {"type": "label", "text": "key"},
                        {"type": "barcode", "column": "region", "width": "30mm", "height": "8mm", "text": False},
                    ]
                },
            }
        ],
        bands={"detail": {"elements": [{"type": "field", "column": "n"}]}},
    )
    data = pl.DataFrame({"region": ["**North**"] * 150, "n": list(range(150))})
    lines = pdf_lines(report.render(data).pdf)
    assert lines.count("North key") + lines.count("North key (continued)") >= 2  # printed again on page 2
    assert "North key (continued)" in lines  # the text follows the first plain value
