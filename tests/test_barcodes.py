"""Barcodes and QR codes: rendered, rasterised and decoded again (zxing-cpp), invalid values
refused by name, each distinct value drawn once."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

import polarreports as pr
from polarreports.plan import barcodes
from tests.conftest import chunk_count, chunking_small, pdf_pages

zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp (pip install zxing-cpp) decodes the rendered codes")
PILImage = pytest.importorskip("PIL.Image")

FORMATS = {
    "code128": "Code128",
    "code39": "Code39",
    "ean13": "EAN13",
    "ean8": "EAN8",
    "upca": "UPCA",
    "itf": "ITF",
    "qr": "QRCode",
    "pdf417": "PDF417",
    "datamatrix": "DataMatrix",
    "aztec": "Aztec",
}


def _report(symbology: str, **options: object) -> pr.Report:
    return pr.Report(
        name="codes",
        bands={
            "detail": {
                "elements": [
                    {"type": "field", "column": "name", "width": "40mm"},
                    {"type": "barcode", "column": "code", "symbology": symbology, "width": "60mm", **options},
                ],
                "height": "30mm",
            }
        },
    )


def _decoded(png: bytes) -> list[tuple[str, str]]:
    """What zxing-cpp reads on a page, top to bottom: (format, text)."""
    image = PILImage.open(io.BytesIO(png)).convert("L")
    found = zxingcpp.read_barcodes(image)
    found.sort(key=lambda b: b.position.top_left.y)
    return [(b.format.name, b.text) for b in found]


@pytest.mark.typst
@pytest.mark.parametrize(
    ("symbology", "values", "expected"),
    [
        ("code128", ["ORD-2025/0001", "hello world 42"], None),
        ("ean13", ["400638133393", "5901234123457"], ["4006381333931", "5901234123457"]),
        ("qr", ["https://example.com/o?id=1&x=ü", "Zürich 8001"], None),
        ("upca", ["03600029145"], ["0036000291452"]),  # zxing-cpp reads UPC-A as its EAN-13 form
        ("code39", ["PART-42"], None),
        # 2D codes by zxing-cpp: any text, read back exactly (UTF-8 with its ECI)
        ("pdf417", ["Grüße aus Zürich – 東京 €", "SHIP 00340123450000000018 ✓"], None),
        ("datamatrix", ["Łódź 90-001 · Ελλάδα", "ORD-2025/0001"], None),
        ("aztec", ["שלום עולם ١٢٣", "ticket:4711;seat=12A"], None),
    ],
)
def test_rendered_codes_decode_to_the_data(symbology: str, values: list[str], expected: list[str] | None) -> None:
    data = pl.DataFrame({"name": [f"item {i}" for i in range(len(values))], "code": values})
    doc = _report(symbology).render(data)
    found = _decoded(doc.png(ppi=300)[0])
    assert [text for _, text in found] == (expected or values)
    assert {kind for kind, _ in found} <= {FORMATS[symbology], "EAN13"}


@pytest.mark.typst
def test_integer_column_and_expression_and_human_readable_text() -> None:
    data = pl.DataFrame({"name": ["a", "b"], "sku": [400638133393, 590123412345]})
    report = pr.Report(
        name="codes",
        bands={
            "detail": {
                "elements": [
                    {"type": "barcode", "column": "sku", "symbology": "ean13", "width": "50mm", "height": "12mm"},
                    {"type": "barcode", "expr": "'SKU-' || CAST(sku AS VARCHAR)", "width": "60mm", "text": False},
                ],
            }
        },
    )
    doc = report.render(data)
    texts = sorted(text for _, text in _decoded(doc.png(ppi=300)[0]))
    assert texts == sorted(["4006381333931", "5901234123457", "SKU-400638133393", "SKU-590123412345"])
    words = " ".join(pdf_pages(doc.pdf))
    assert "4006381333931" in words  # the human-readable line (1D, text on)
    assert "5901234123457" in words
    assert "SKU-400638133393" not in words  # text: false


def test_distinct_values_are_drawn_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = barcodes.draw

    def counting(symbology: str, value: str, **options: object) -> tuple[bytes, str]:
        calls.append(value)
        return real(symbology, value, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(barcodes, "draw", counting)
    data = pl.DataFrame({"name": ["x"] * 3000, "code": [f"P{i % 7}" for i in range(3000)]})
    doc = _report("code128").render(data)
    assert sorted(calls) == sorted(f"P{i}" for i in range(7))
    assert len([name for name in doc._source.assets if name.endswith(".svg")]) == 7


@pytest.mark.parametrize(
    ("symbology", "value", "reason"),
    [
        ("ean13", "4006381333932", "check digit should be 1, not 2"),
        ("ean13", "40063813339312", "must have 12 digits"),
        ("ean13", "40063A", "only digits"),
        ("ean8", "123", "must have 7 digits"),
        ("itf", "12345", "even number of digits"),
        ("code128", "naïve ☃", "not valid for Code 128"),
        ("code39", "lower", "no lower-case"),
        ("qr", "x" * 1999, "too long for a QR code"),
        ("datamatrix", "東" * 1000, "too long"),
        ("pdf417", "€" * 1500, "too long"),
        ("code128", "x" * 2001, "more than the 2,000"),
    ],
)
def test_invalid_values_are_named(symbology: str, value: str, reason: str) -> None:
    data = pl.DataFrame({"name": ["a", "b"], "code": ["", value]})
    report = _report(symbology, error_correction="H")
    with pytest.raises(pr.DataError) as caught:
        report.render(data)
    message = str(caught.value)
    assert "bands.detail.elements[1]" in message
    assert repr(value if len(value) <= 60 else value[:57] + "...") in message
    assert reason in message
    assert len(message.splitlines()) == 2  # the problem, then the hint


def test_on_invalid_empty_and_nulls_leave_the_cell_empty() -> None:
    data = pl.DataFrame({"name": ["a", "b", "c"], "code": ["4006381333932", None, "400638133393"]})
    doc = _report("ean13", on_invalid="empty").render(data)
    cells = [row["c"][1] for row in doc_rows(doc)]
    assert cells[:2] == ["", ""]
    assert '"t": "4006381333931"' in cells[2]


def doc_rows(doc: pr.Document) -> list[dict[str, list[str]]]:
    import json

    data = json.loads(doc.data_json)
    return [band for band in data["rows"] if len(band["c"]) == 2]


def test_definition_checks() -> None:
    with pytest.raises(pr.DefinitionError, match="exactly one of column or expr"):
        pr.Report(name="codes", bands={"detail": {"elements": [{"type": "barcode", "symbology": "qr"}]}})
    with pytest.raises(pr.DefinitionError, match="symbology"):
        pr.Report(
            name="codes", bands={"detail": {"elements": [{"type": "barcode", "column": "x", "symbology": "pdf417x"}]}}
        )
    with pytest.raises(pr.PlanError, match="unknown column 'cod'"):
        _report_column("cod").render(pl.DataFrame({"name": ["a"], "code": ["1"]}))
    with pytest.raises(pr.PlanError, match="a barcode encodes text or numbers, not List"):
        _report("qr").render(pl.DataFrame({"name": ["a"], "code": [[1, 2]]}))
    report = _report("qr", quiet_zone=2, error_correction="Q")
    assert pr.Report.model_validate_json(report.model_dump_json()) == report


def _report_column(column: str) -> pr.Report:
    return pr.Report(name="codes", bands={"detail": {"elements": [{"type": "barcode", "column": column}]}})


@pytest.mark.typst
def test_barcodes_in_a_report_typeset_in_chunks(tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is missing (Debian package poppler-utils; make system installs it)")
    data = pl.DataFrame({"name": [f"n{i}" for i in range(400)], "code": [f"C{i:04d}" for i in range(400)]})
    report = pr.Report(
        name="chunked",
        bands={
            "detail": {
                "elements": [
                    {"type": "field", "column": "name", "width": "30mm"},
                    {"type": "barcode", "column": "code", "width": "50mm", "height": "8mm"},
                ]
            }
        },
    )
    with chunking_small():
        doc = report.render(data)
        pdf = doc.pdf
    assert chunk_count(doc) > 1
    (tmp_path / "r.pdf").write_bytes(pdf)
    page = subprocess.run(
        ["pdftoppm", "-f", "5", "-l", "5", "-r", "300", "-png", str(tmp_path / "r.pdf")],
        capture_output=True,
        check=True,
    ).stdout
    texts = [text for _, text in _decoded(page)]
    first = int(texts[0][1:])
    assert len(texts) > 10
    assert texts == [f"C{i:04d}" for i in range(first, first + len(texts))]  # in order, none lost


@pytest.mark.parametrize("symbology", ["pdf417", "datamatrix", "aztec"])
def test_2d_codes_in_the_html_page_and_the_data_output(symbology: str, tmp_path: Path) -> None:
    """The HTML page shows each as its vector SVG (rebuilt by the page's SVG cleaner), without a
    human-readable text; the data output holds the value each encodes."""
    values = ["Grüße – 東京", "ORD-1"]
    doc = _report(symbology).render(pl.DataFrame({"name": ["a", "b"], "code": values}))
    doc.save(tmp_path / "codes.html")
    page = (tmp_path / "codes.html").read_text(encoding="utf-8")
    assert page.count('<div class="barcode"') == 2
    assert page.count('<path d="M') >= 2
    assert '<div class="barcode-text">' not in page
    doc.save(tmp_path / "codes.csv")
    assert pl.read_csv(tmp_path / "codes.csv")["code"].to_list() == values
