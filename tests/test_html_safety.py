"""Data never becomes markup in the HTML output: hostile values in detail rows, group keys,
parameters, labels and links appear as text (read back by an HTML parser), never as tags,
attributes or scripts; a chart's SVG keeps only drawing elements. No Typst, no browser."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import polarreports as pr
from polarreports.emit.html.escape import text as escaped
from polarreports.emit.html.svg import clean
from tests.conftest import ROOT, examples
from tests.html_page import Page, read_page, saved_html
from tests.test_definition_injection import _string_leaves, _with

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</td></tr></table><h1>forged</h1>",
    "</style><script>alert(2)</script>",
    "<!-- comment --> &amp; &lt;b&gt; &#x3C;",
    "javascript:alert(3)",
    "a\x00b\x1bc\x7fd\ufffe",
    "<![CDATA[x]]> <?php echo 1 ?>",
    "😀 שלום مرحبا 日本語",
]
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "div", "header", "main", "footer", "section", "h1",
    "table", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td", "a", "img", "span",
}  # fmt: skip


def shown(value: str) -> str:
    """What a value reads as on the page: itself, with HTML's forbidden characters replaced."""
    return html.unescape(escaped(value))


def assert_inert(page: Page) -> None:
    """Only the page's own tags and attributes: no script, no handler, no foreign URL."""
    for tag, attributes in page.tags:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attributes.items():
            assert not name.startswith("on"), (tag, name)
            if name == "src":
                assert (value or "").startswith("data:image/"), value
            if name == "href":
                assert (value or "").startswith(("https://", "http://", "mailto:")), value


GROUPED = pr.Report(
    name="hostile",
    title="<b>title</b>",
    parameters=[pr.Parameter(name="who", type="string", default="x")],
    groups=[pr.Group(name="key", header=pr.Band(elements=[pr.Field(column="key")]))],
    bands=pr.Bands(
        title=pr.Band(elements=[pr.Label(text='<i>label</i> & "quotes"\''), pr.Field(column="who")]),
        column_header=pr.Band(elements=[pr.Label(text="<th>Value</th>"), pr.Label(text="Link")]),
        detail=pr.Band(elements=[pr.Field(column="value"), pr.Field(column="value", link="url")]),
    ),
)


def test_hostile_values_keys_parameters_and_labels_are_text(tmp_path: Path) -> None:
    data = pl.DataFrame({"key": HOSTILE, "value": HOSTILE, "url": HOSTILE})
    document = GROUPED.render(data, params={"who": '<script>alert("p")</script>'})
    page = read_page(saved_html(document, tmp_path))
    assert_inert(page)
    assert "<script" not in page.raw.lower()
    cells = [text for (tag, _), text in zip(page.tags, page.texts, strict=True) if tag in {"td", "th", "div"}]
    for value in HOSTILE:
        assert cells.count(shown(value)) == 3, value  # the group key, the value, the linked value
    for label in ('<i>label</i> & "quotes"\'', '<script>alert("p")</script>', "<th>Value</th>"):
        assert shown(label) in cells
    assert page.texts[[tag for tag, _ in page.tags].index("title")] == "<b>title</b>"
    assert not any(attributes.get("href") for _, attributes in page.tags)  # none of them is a link


def test_only_http_https_and_mailto_links_are_kept(tmp_path: Path) -> None:
    urls = ["https://example.com/?a=1&b=<2>", "mailto:x@example.com", "javascript:alert(1)", "data:text/html,x", ""]
    data = pl.DataFrame({"key": ["k"] * len(urls), "value": ["v"] * len(urls), "url": urls})
    page = read_page(saved_html(GROUPED.render(data, params={"who": "me"}), tmp_path))
    hrefs = [attributes["href"] for tag, attributes in page.tags if tag == "a"]
    assert hrefs == ["https://example.com/?a=1&b=%3C2%3E", "mailto:x@example.com"]


@settings(max_examples=examples(40), deadline=None)
@given(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=8))
def test_arbitrary_values_read_back_exactly(tmp_path_factory: pytest.TempPathFactory, values: list[str]) -> None:
    report = pr.Report(name="any", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="text")])))
    page = read_page(saved_html(report.render(pl.DataFrame({"text": values})), tmp_path_factory.mktemp("any")))
    assert_inert(page)
    cells = [text for (tag, _), text in zip(page.tags, page.texts, strict=True) if tag == "td"]
    assert cells == [shown(value) for value in values]


EXAMPLE = yaml.safe_load((ROOT / "examples" / "sales_by_region.yaml").read_text())
PAYLOAD = "</style><script>alert(1)</script><img src=x onerror=alert(1)>\"'><a href=javascript:x>"


@pytest.mark.slow
def test_a_hostile_string_in_any_field_of_a_definition_stays_text(tmp_path: Path) -> None:
    data = pr.sample.sales_data(30)
    for path in _string_leaves(EXAMPLE):
        try:
            document = pr.Report.from_dict(_with(EXAMPLE, path, PAYLOAD)).render(data)
        except (pr.DefinitionError, pr.PlanError, pr.ParameterError, pr.FormatError):
            continue  # refused as a bad definition: fine
        page = read_page(saved_html(document, tmp_path))
        assert_inert(page)
        assert "<script" not in page.raw.lower(), path


HOSTILE_SVG: list[tuple[str, Any]] = [
    ('<svg><script>alert(1)</script><rect width="1"/></svg>', "<script"),
    ('<svg onload="alert(1)"><rect/></svg>', "onload"),
    ('<svg><foreignObject><body xmlns="http://www.w3.org/1999/xhtml"><img /></body></foreignObject></svg>', "img"),
    ('<svg><a href="javascript:alert(1)"><text>x</text></a></svg>', "javascript"),
    ('<svg><image href="https://evil.example/x.png"/></svg>', "evil"),
    ('<svg><rect fill="url(https://evil.example/#x)"/></svg>', "evil"),
    ('<svg><rect style="background:url(https://evil.example/)"/></svg>', "evil"),
    ("<svg><style>@import url(https://evil.example/x.css);</style></svg>", "evil"),
    ('<svg><use href="https://evil.example/s.svg#x"/></svg>', "evil"),
    ('<svg><set attributeName="onmouseover" to="alert(1)"/></svg>', "alert"),
    ('<svg><animate attributeName="href" values="javascript:alert(1)"/></svg>', "javascript"),
]


@pytest.mark.parametrize(("svg", "gone"), HOSTILE_SVG)
def test_chart_svg_keeps_only_drawing(svg: str, gone: str) -> None:
    kept = clean(svg, "c0-")
    assert kept is None or gone not in kept


def test_chart_svg_with_an_entity_is_refused() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">]><svg><text>&a;</text></svg>'
    assert clean(bomb, "c0-") is None
    assert clean("<svg><text>unclosed</svg>", "c0-") is None
    assert clean("<html><body/></html>", "c0-") is None


def test_chart_ids_get_their_chart_prefix() -> None:
    kept = clean('<svg><defs><clipPath id="c"><rect/></clipPath></defs><g clip-path="url(#c)"/></svg>', "c7-")
    assert kept is not None
    assert 'id="c7-c"' in kept
    assert 'clip-path="url(#c7-c)"' in kept


_TAGS = st.sampled_from(["svg", "g", "rect", "text", "script", "foreignObject", "a", "image", "use", "style", "iframe"])
_ATTRIBUTES = st.sampled_from(["onload", "onclick", "href", "xlink:href", "style", "fill", "id", "src", "clip-path"])
_VALUES = st.sampled_from(
    ["#a", "url(#a)", "url(https://evil.example/)", "javascript:alert(1)", "red", "a\\62 c", "expression(x)", "data:x"]
)


@st.composite
def _svg(draw: st.DrawFn, depth: int = 0) -> str:
    tag = "svg" if depth == 0 else draw(_TAGS)
    attributes = "".join(
        f' {name}="{value}"'
        for name, value in draw(st.lists(st.tuples(_ATTRIBUTES, _VALUES), max_size=3, unique_by=lambda p: p[0]))
    )
    inner = "".join(draw(st.lists(_svg(depth + 1), max_size=3))) if depth < 3 else draw(st.text(max_size=5))
    xlink = ' xmlns:xlink="http://www.w3.org/1999/xlink"' if depth == 0 else ""
    return f"<{tag}{xlink}{attributes}>{inner}</{tag}>"


@settings(max_examples=examples(200), deadline=None)
@given(_svg())
def test_any_svg_comes_out_with_only_drawing(svg: str) -> None:
    kept = clean(svg, "c0-")
    if kept is None:
        return
    page = read_page(kept)
    for tag, attributes in page.tags:
        assert tag in {"svg", "g", "rect", "text", "use"}, tag
        for name, value in attributes.items():
            assert not name.startswith("on")
            assert name not in {"src", "style"}
            assert "javascript" not in (value or "").lower()
            if name == "href":
                assert (value or "").startswith("#c0-")
            if "url(" in (value or ""):
                assert (value or "").startswith("url(#c0-")
