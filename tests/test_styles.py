"""Named styles, themes, zebra rows and conditional styles: definitions, errors, and the colours
that end up on the page (sampled from rendered pixels, against an independent Polars computation)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

import polarreports as pr
from tests.conftest import chunk_count, one_piece_pdf, page_layouts, pdf_lines

DPI = 100
RED = "#d00000"
STRIPE = "#b0c4ff"


def styled_report() -> pr.Report:
    """Every new option at least once."""
    return pr.Report(
        name="styled",
        theme=pr.Theme(name="corporate", brand_color="#0b5394", logo="/tmp/logo.png", zebra="#f4f6f9"),
        styles={
            "base": pr.Style(font="DejaVu Sans", size=9, bold=True, italic=False, color="#222222", padding="2pt"),
            "negative": pr.Style(extends="base", color=RED, fill="#fff0f0", border="0.5pt #888888"),
            "ruled": pr.Style(border={"bottom": "0.25pt #cccccc", "top": "1pt"}),
        },
        groups=[pr.Group(name="region", header=pr.Band(style="ruled", elements=[pr.Field(column="region")]))],
        bands=pr.Bands(
            detail=pr.Band(
                zebra=True,
                conditional_styles=[pr.ConditionalStyle(when="quantity > 30", style="ruled")],
                elements=[
                    pr.Field(column="order_id", style="base", bold=False),
                    pr.Field(
                        column="quantity",
                        conditional_styles=[pr.ConditionalStyle(when="quantity < 5", style="negative")],
                    ),
                ],
            ),
            summary=pr.Band(zebra=False, style="base", elements=[pr.Label(text="end")]),
        ),
    )


def test_yaml_round_trip_keeps_every_style_option() -> None:
    report = styled_report()
    text = report.to_yaml()
    assert pr.Report.from_yaml(text) == report
    assert pr.Report.from_json(report.to_json()) == report
    for key in ("extends", "border", "conditional_styles", "zebra", "brand_color", "logo", "style: ruled"):
        assert key in text


def test_short_forms() -> None:
    report = pr.Report.from_yaml(
        "name: r\ntheme: ledger\nstyles: {boxed: {border: '1pt #000'}}\nbands: {detail: {zebra: '#eeeeee'}}"
    )
    assert report.theme == pr.Theme(name="ledger")
    assert report.styles["boxed"].border == dict.fromkeys(("top", "bottom", "left", "right"), "1pt #000")
    assert report.bands.detail is not None
    assert report.bands.detail.zebra == "#eeeeee"


def test_json_schema_describes_styles_and_themes() -> None:
    schema = pr.Report.json_schema()
    definitions = schema["$defs"]
    assert {"Style", "Theme", "ConditionalStyle"} <= set(definitions)
    assert {"styles", "theme"} <= set(schema["properties"])
    assert {"style", "zebra", "conditional_styles"} <= set(definitions["Band"]["properties"])
    assert {"style", "conditional_styles"} <= set(definitions["Field"]["properties"])
    assert set(definitions["Theme"]["properties"]["name"]["enum"]) == {"plain", "corporate", "ledger", "minimal"}


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"border": "thick"}, "is not a stroke"),
        ({"color": "red"}, "is not a hex colour"),
        ({"padding": 3}, None),  # a bare number is points: fine
    ],
)
def test_bad_style_values_are_definition_errors(definition: dict[str, object], message: str | None) -> None:
    data = {"name": "r", "styles": {"s": definition}}
    if message is None:
        pr.Report.from_dict(data)
        return
    with pytest.raises(pr.DefinitionError, match=message):
        pr.Report.from_dict(data)


def test_unknown_style_names_the_element_and_the_closest_styles(sales: pl.DataFrame) -> None:
    report = pr.Report(
        name="r",
        styles={"negative": pr.Style(color=RED), "highlight": pr.Style(bold=True)},
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="quantity", style="negativ")])),
    )
    with pytest.raises(pr.PlanError) as error:
        report.render(sales)
    assert (
        "bands.detail.elements[0] (field 'quantity').style: unknown style 'negativ'; did you mean 'negative'? "
        "(styles: negative, highlight)"
    ) in str(error.value)


def test_unknown_font_names_the_style_and_lists_the_shipped_fonts(sales: pl.DataFrame) -> None:
    report = pr.Report(
        name="r",
        styles={"body": pr.Style(font="Arial")},
        bands=pr.Bands(detail=pr.Band(style="body", elements=[pr.Field(column="quantity")])),
    )
    with pytest.raises(pr.PlanError, match=r"styles\.body\.font: unknown font 'Arial'.*Inter, DejaVu Sans"):
        report.render(sales)


def test_style_cycles_and_unknown_parents_are_plan_errors(sales: pl.DataFrame) -> None:
    report = pr.Report(
        name="r",
        styles={"a": pr.Style(extends="b"), "b": pr.Style(extends="a"), "c": pr.Style(extends="nothing")},
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="quantity")])),
    )
    with pytest.raises(pr.PlanError) as error:
        report.render(sales)
    assert "in a circle" in str(error.value)
    assert "styles.c.extends: unknown style 'nothing'" in str(error.value)


def test_conditions_must_be_true_or_false(sales: pl.DataFrame) -> None:
    report = pr.Report(
        name="r",
        styles={"s": pr.Style(bold=True)},
        bands=pr.Bands(
            detail=pr.Band(
                elements=[
                    pr.Field(
                        column="quantity", conditional_styles=[pr.ConditionalStyle(when="quantity * 2", style="s")]
                    )
                ]
            )
        ),
    )
    with pytest.raises(pr.PlanError) as error:
        report.render(sales)
    assert (
        "bands.detail.elements[0] (field 'quantity').conditional_styles[0].when: must be true or false, but gives Int32"
    ) in str(error.value)


def test_zebra_only_on_the_detail_band(sales: pl.DataFrame) -> None:
    report = pr.Report(name="r", bands=pr.Bands(summary=pr.Band(zebra=True, elements=[pr.Label(text="x")])))
    with pytest.raises(pr.PlanError, match=r"bands\.summary\.zebra: only the detail band can be striped"):
        report.render(sales)


def test_an_elements_own_fields_win_over_its_style(sales: pl.DataFrame) -> None:
    report = pr.Report(
        name="r",
        styles={"loud": pr.Style(bold=True, color=RED, size=12)},
        bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="quantity", style="loud", color="#0000ff")])),
    )
    source = report.render(sales.head(3)).to_typst()
    colour = re.search(r'#let (k-\d+) = rgb\("#0000ff"\)', source)  # bound once, before the band functions
    assert colour is not None
    assert f'text(weight: "bold", size: 12.0pt, fill: {colour.group(1)}, c.at(0))' in source


# -- what the page shows ---------------------------------------------------------------------


def ledger() -> pl.DataFrame:
    """Rows in two groups; some amounts negative, some rows hidden by print_when."""
    amounts = [5, -3, 8, -1, 4, 7, -2, 9, 6, -8, 3, 2, -5, 1]
    return pl.DataFrame(
        {
            "region": ["East"] * 6 + ["West"] * 8,
            "ref": [f"r{i:03d}" for i in range(len(amounts))],
            "amount": amounts,
            "hidden": [i in (2, 9) for i in range(len(amounts))],
        }
    )


def zebra_report() -> pr.Report:
    return pr.Report(
        name="zebra",
        styles={"negative": pr.Style(color=RED, bold=True)},
        groups=[pr.Group(name="region", header=pr.Band(elements=[pr.Field(column="region")]))],
        bands=pr.Bands(
            detail=pr.Band(
                print_when="NOT hidden",
                zebra=STRIPE,
                elements=[
                    pr.Field(column="ref", width="20%"),
                    pr.Field(
                        column="amount",
                        width="20%",
                        format="#,##0.00",
                        conditional_styles=[pr.ConditionalStyle(when="amount < 0", style="negative")],
                    ),
                ],
            )
        ),
    )


def _words(pdf: Path) -> dict[str, tuple[float, float, float, float]]:
    """Each word on page 1 and its box (points): what pdftotext sees."""
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    found = re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]+)<', html)
    return {text: (float(a), float(b), float(c), float(d)) for a, b, c, d, text in found}


def _pixels(pdf: Path, tmp_path: Path) -> Callable[[float, float], tuple[int, int, int]]:
    """The colour of page 1 at a point (in points from the top left), rendered by pdftoppm."""
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(DPI), "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True
    )
    from PIL import Image

    image = Image.open(next(tmp_path.glob("p*.png"))).convert("RGB")

    def at(x_pt: float, y_pt: float) -> tuple[int, int, int]:
        pixel = image.getpixel((round(x_pt * DPI / 72), round(y_pt * DPI / 72)))
        assert isinstance(pixel, tuple)
        return (int(pixel[0]), int(pixel[1]), int(pixel[2]))

    return at


def _hex(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


@pytest.mark.typst
def test_zebra_rows_and_conditional_colours_on_the_page(tmp_path: Path) -> None:
    data = ledger()
    pdf = tmp_path / "zebra.pdf"
    pdf.write_bytes(zebra_report().render(data).pdf)
    words = _words(pdf)
    at = _pixels(pdf, tmp_path)

    # independently: shown rows, their position within the region, and the sign of the amount
    shown = data.filter(~pl.col("hidden")).with_columns(pl.int_range(pl.len()).over("region").alias("n"))
    for ref, n, amount in shown.select("ref", "n", "amount").iter_rows():
        _, y0, x1, y1 = words[ref]
        background = at(x1 + 0.6 * 72, (y0 + y1) / 2)  # to the right of the cells: only the band's fill
        assert background == (_hex(STRIPE) if n % 2 else (255, 255, 255)), ref
        amount_text = f"{amount:,.2f}"
        ax0, ay0, ax1, ay1 = words[amount_text] if amount_text in words else words[f"-{abs(amount):,.2f}"]
        box = [
            at(x, y)
            for x in [ax0 + i * (ax1 - ax0) / 12 for i in range(13)]
            for y in [ay0 + (0.3 + i / 15) * (ay1 - ay0) for i in range(7)]  # the digits, not the next row
        ]
        red = sum(1 for r, g, b in box if r > 150 and g < 90 and b < 90)
        assert (red > 0) == (amount < 0), (ref, amount)
    assert {line.split(" ")[0] for line in pdf_lines(pdf.read_bytes())} >= set(shown["ref"])


@pytest.mark.typst
def test_corporate_header_bar_has_the_brand_colour(sales: pl.DataFrame, tmp_path: Path) -> None:
    report = pr.Report(
        name="corp",
        theme=pr.Theme(name="corporate", brand_color="#0b5394"),
        bands=pr.Bands(
            column_header=pr.Band(elements=[pr.Label(text="Quantity")]),
            detail=pr.Band(elements=[pr.Field(column="quantity")]),
        ),
    )
    pdf = tmp_path / "corp.pdf"
    pdf.write_bytes(report.render(sales.head(20)).pdf)
    _, y0, x1, y1 = _words(pdf)["Quantity"]
    at = _pixels(pdf, tmp_path)
    assert at(x1 + 40, (y0 + y1) / 2) == _hex("#0b5394")


@pytest.mark.typst
def test_the_logo_path_is_relative_to_the_definition(tmp_path: Path, sales: pl.DataFrame) -> None:
    (tmp_path / "brand").mkdir()
    logo = Path(__file__).resolve().parent.parent / "examples" / "logo.svg"
    (tmp_path / "brand" / "logo.svg").write_bytes(logo.read_bytes())
    definition = tmp_path / "r.yaml"
    definition.write_text(
        "name: r\ntheme: {name: minimal, logo: brand/logo.svg}\n"
        "bands: {title: {elements: [{type: label, text: Title}]},\n"
        "        detail: {elements: [{type: field, column: quantity}]}}"
    )
    document = pr.load(definition).render(sales.head(5))
    assert (tmp_path / "brand" / "logo.svg").read_bytes() in document._source.assets.values()  # read at plan time
    assert pdf_lines(document.pdf)[0].startswith("Title")  # the logo's own text follows
    missing = pr.Report(name="r", theme=pr.Theme(logo=str(tmp_path / "none.png")))
    with pytest.raises(pr.PlanError, match=r"theme\.logo"):
        missing.render(sales.head(5))


@pytest.mark.typst
@pytest.mark.parametrize("theme", ["plain", "corporate", "ledger", "minimal"])
def test_every_theme_renders_the_same_text(example: pr.Report, sales: pl.DataFrame, theme: str) -> None:
    themed = example.model_copy(update={"theme": pr.Theme(name=theme)})
    lines = pdf_lines(themed.render(sales.head(200)).pdf)
    assert pdf_lines(example.render(sales.head(200)).pdf)[:8] == lines[:8]


# -- pagination stays honest -------------------------------------------------------------------


@pytest.mark.typst
@pytest.mark.usefixtures("small_chunks")
def test_striped_long_report_is_chunked_and_equals_one_piece() -> None:
    report = pr.load("examples/sales_styled.yaml")
    document = report.render(pr.sample.sales_data(1_500))
    _ = document.pdf
    assert chunk_count(document) >= 3
    assert page_layouts(document.pdf) == page_layouts(one_piece_pdf(document))


@pytest.mark.typst
def test_a_conditional_style_that_changes_heights_falls_back_to_one_piece() -> None:
    report = pr.Report(
        name="tall",
        styles={"big": pr.Style(size=14)},
        bands=pr.Bands(
            detail=pr.Band(
                conditional_styles=[pr.ConditionalStyle(when="quantity > 38", style="big")],
                elements=[pr.Field(column="order_id", format="0"), pr.Field(column="quantity")],
            )
        ),
    )
    document = report.render(pr.sample.sales_data(5_000))
    _ = document.pdf
    assert document.stats["typeset"].startswith("one piece")
