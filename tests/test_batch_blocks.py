"""Batches by blocks (``batch/blocks.py``): many keys rendered as one report and split per key
give each key the figures a render of that key alone gives (multi-page keys, empty keys, a key
that fails alone), the same bytes in every run over the same data (a killed run resumed, a
re-run after files were lost), and reports where a block could differ are rendered one key at
a time."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pikepdf
import polars as pl
import pytest

import polarreports as pr
from polarreports.batch import work
from polarreports.batch.blocks import KEYS_PER_BLOCK, block_report
from polarreports.batch.manifest import MANIFEST_NAME, read_manifest
from polarreports.batch.work import Item, Task, render_rows, run_digest
from polarreports.typeset.pdfparts import TaggedSplitError, tagged_parts
from tests.conftest import EXAMPLE, ROOT, pdf_pages, qpdf_check
from tests.tagging import content, reading, structure_problems
from tests.test_batch import STATEMENT, children, files_in, manifest_rows

REPORT = pr.load(ROOT / "examples" / "customer_statement.yaml")
BY = ["customer_no"]


def statements(extra: int) -> pl.DataFrame:
    """The sample's 5 customers (18 to 142 transactions: one to four pages each), then ``extra``
    customers ``C-2xxxx`` of 1 to 3 transactions taken from them."""
    base = pr.sample.statement_data()
    small = [
        base.slice(7 * i % base.height, 1 + i % 3).with_columns(
            customer_no=pl.lit(f"C-2{i:04d}"), customer=pl.lit(f"Customer {i}")
        )
        for i in range(extra)
    ]
    return pl.concat([base, *small])


def text(pdf: bytes) -> list[str]:
    return [page.strip() for page in pdf_pages(pdf)]


def alone(data: pl.DataFrame, key: str, report: pr.Report = REPORT) -> bytes:
    return report.render(data.filter(pl.col("customer_no") == key)).pdf


def task(data: pl.DataFrame, out: Path, report: pr.Report = REPORT) -> Task:
    keys = data.select(BY).unique().sort(BY).rows()
    items = [Item(key, f"{key[0]}.pdf") for key in keys]
    return Task(report, BY, str(out), items, {}, False, run_digest(report, {}), block_report(report, BY)[0])


# -- which reports render by blocks (no Typst) ------------------------------------------------------


def test_a_report_renders_by_blocks_only_where_no_figure_spans_keys() -> None:
    assert block_report(REPORT, BY)[1] is None
    assert block_report(REPORT, ["customer_no", "customer"])[1] == "the key is several columns"
    assert block_report(STATEMENT, ["customer"])[1] == "the report has a summary band"
    cases = {
        "page_header": {"elements": [{"type": "field", "column": "customer"}]},
        "page_footer": {"elements": [{"type": "aggregate", "variable": "balance"}]},
        "title": {"elements": [{"type": "label", "text": "All customers"}]},
    }
    for band, spec in cases.items():
        changed = REPORT.model_copy(update={"bands": REPORT.bands.model_copy(update={band: pr.Band(**spec)})})
        assert block_report(changed, BY)[0] is None, band
    share = pr.Aggregate(variable="balance", show="percent")
    header = REPORT.groups[0].header.model_copy(update={"elements": [share]})  # type: ignore[union-attr]
    of_all = REPORT.model_copy(update={"groups": [REPORT.groups[0].model_copy(update={"header": header})]})
    assert block_report(of_all, BY)[1] == "the report shows a percent of the report's total"
    by_expression = REPORT.model_copy(update={"groups": [REPORT.groups[0].model_copy(update={"key": pl.col("x")})]})
    assert block_report(by_expression, BY)[1] == "the report's first group is not the key 'customer_no'"
    headless = REPORT.model_copy(update={"groups": [REPORT.groups[0].model_copy(update={"header": None})]})
    assert "no header" in str(block_report(headless, BY)[1])
    reprinted = REPORT.model_copy(update={"groups": [REPORT.groups[0].model_copy(update={"reprint_header": True})]})
    assert "printed again on continued pages" in str(block_report(reprinted, BY)[1])  # (each block fell back)
    in_python = REPORT.model_copy(update={"columns": {"share": pl.col("debit").sum().over("customer")}})
    assert block_report(in_python, BY)[1] == "the report holds Polars expressions"
    windowed = REPORT.model_copy(update={"columns": {"share": "debit / SUM(debit) OVER ()"}})
    assert block_report(windowed, BY)[1] == "the report may compute over a window (OVER)"


def test_the_block_counts_pages_and_resets_totals_per_key() -> None:
    numbered = pr.Band(elements=[pr.PageNumber(text="Page {page} of {pages}")])
    report = REPORT.model_copy(
        update={
            "variables": [*REPORT.variables, pr.Variable(name="all", calculation="count")],
            "bands": REPORT.bands.model_copy(update={"page_footer": numbered}),
        }
    )
    block, _ = block_report(report, BY)
    assert block is not None
    assert block.bands.page_footer is not None
    assert [e.group for e in block.bands.page_footer.elements] == ["customer_no"]  # type: ignore[union-attr]
    assert {v.name: v.reset for v in block.variables}["all"] == "customer_no"
    assert [(g.new_page, g.outline) for g in block.groups] == [(True, True), (False, False)]


# -- rendering (Typst) -------------------------------------------------------------------------------


@pytest.mark.typst
def test_each_key_of_a_block_reads_as_its_render_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = statements(3)
    keys = ["C-10533", "C-10578", "C-10517", "C-20000", "C-20002"]  # 142 rows (3 pages), 41, 18, 1, 3

    def not_alone(*args: object) -> object:
        msg = "rendered alone, not in its block"
        raise AssertionError(msg)

    monkeypatch.setattr(work, "_one", not_alone)
    entries = render_rows(task(data, tmp_path), data)
    assert [entry.status for entry in entries] == ["ok"] * 8
    pages = {entry.file: entry.pages for entry in entries}
    for key in keys:
        single = alone(data, key)
        assert text((tmp_path / f"{key}.pdf").read_bytes()) == text(single), key
        assert pages[f"{key}.pdf"] == len(pdf_pages(single)) == (3 if key == "C-10533" else 1)
        assert xmp_pages((tmp_path / f"{key}.pdf").read_bytes()) == pages[f"{key}.pdf"]  # not the block's
        with pikepdf.open(tmp_path / f"{key}.pdf") as part:
            assert page_objects(part) == len(part.pages)  # no other key's page is left in the file


def page_objects(pdf: pikepdf.Pdf) -> int:
    """How many page objects the file holds, in its page tree or not."""
    return sum(isinstance(o, pikepdf.Dictionary) and o.get("/Type") == "/Page" for o in pdf.objects)


def xmp_pages(pdf: bytes) -> int:
    """The page count the PDF's XMP metadata says."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        found = re.search(rb"<xmpTPg:NPages>(\d+)<", document.Root.Metadata.read_bytes())
        assert found is not None
        return int(found.group(1))


@pytest.mark.typst
@pytest.mark.parametrize("extra", ["", "links", "crosstab"], ids=["text", "a link per row", "a table per key"])
def test_each_key_of_a_tagged_block_reads_as_its_render_alone(
    extra: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tagged report renders by blocks too: each key's PDF keeps its share of the block's
    structure tree (with a link per row: link elements, annotations with parent-tree keys, and
    URLs that look like keys and IDs; with a crosstab per key: tables whose header cells are
    named in the ID tree), and reads (element types and their marked text, in reading order)
    as the key's render alone; the tree is valid and qpdf finds nothing wrong."""
    data = statements(3)
    definition = REPORT.to_dict()
    links = extra == "links"
    if links:
        url = "concat('https://example.com/(/ID(U1x0y0)/StructParent(5))/', customer_no)"
        definition["bands"]["detail"]["elements"][0]["link"] = url
    if extra == "crosstab":
        crosstab = {
            "type": "crosstab",
            "rows": ["reference"],
            "columns": [{"column": "date", "bucket": "year", "format": "yyyy"}],
            "measures": {"debit": {"value": "sum(debit)", "format": "#,##0.00"}},
        }
        footer = definition["groups"][0].setdefault("footer", {"elements": []})
        footer["elements"].append(crosstab)
    report = pr.Report.from_dict({**definition, "tagged_pdf": True})
    assert block_report(report, BY)[1] is None

    def not_alone(*args: object) -> object:
        msg = "rendered alone, not in its block"
        raise AssertionError(msg)

    monkeypatch.setattr(work, "_one", not_alone)
    entries = render_rows(task(data, tmp_path, report), data)
    assert [entry.status for entry in entries] == ["ok"] * 8
    compared = {"C-10533", "C-10578", "C-20000"}  # three pages, one full page, one row: as rendered alone
    for entry in entries:
        pdf = (tmp_path / entry.file).read_bytes()
        key = entry.file.removesuffix(".pdf")
        with pikepdf.open(io.BytesIO(pdf)) as part:
            marked = content(part)
            assert structure_problems(part, marked) == [], entry.file
            assert len(part.pages) == entry.pages
            assert part.Root.MarkInfo.Marked
            assert "/Outlines" not in part.Root  # the block's bookmarks were only for the split
            assert xmp_pages(pdf) == len(part.pages)
            assert page_objects(part) == len(part.pages)  # no other key's page is left in the file
            if extra == "crosstab":
                assert "/IDTree" in part.Root.StructTreeRoot
            annotations = [a for page in part.pages for a in page.get("/Annots", [])]
            assert len(annotations) == (data.filter(pl.col("customer_no") == key).height if links else 0)
            if key in compared:
                single = alone(data, key, report)
                with pikepdf.open(io.BytesIO(single)) as whole:
                    assert reading(part, marked) == reading(whole), entry.file
                    assert len(part.pages) == len(whole.pages)
                assert text(pdf) == text(single)
    identifiers = set()
    for entry in entries:
        with pikepdf.open(tmp_path / entry.file) as part:
            identifiers.add(bytes(part.trailer.ID[0]))
    assert len(identifiers) == len(entries)  # each its own, not the block's
    qpdf_check(tmp_path / "C-10533.pdf")  # three pages


@pytest.mark.typst
def test_a_structure_element_across_two_parts_is_refused() -> None:
    """Where one element of the tree marks content on the pages of two parts, the tree cannot
    be cut there: the batch then renders that block's keys one at a time."""
    listing = pr.load(EXAMPLE).model_copy(update={"tagged_pdf": True})  # no headings: one run of bands
    document = listing.render(pr.sample.sales_data(100))
    assert document.page_count > 2
    with pytest.raises(TaggedSplitError, match="on the pages of 2 parts"):
        tagged_parts(document.pdf, [0, 1])


@pytest.mark.typst
def test_a_key_that_fails_fails_alone_and_an_empty_key_is_listed(tmp_path: Path) -> None:
    data = statements(3).with_columns(code=pl.when(pl.col("customer_no") == "C-20001").then(pl.lit("x")).otherwise(
        pl.lit("1")
    ))  # fmt: skip
    report = REPORT.model_copy(update={"filter": "CAST(code AS INTEGER) > 0"})
    assert block_report(report, BY)[0] is not None
    run = task(data, tmp_path, report)
    run = replace(run, items=[*run.items, Item(("C-99999",), "C-99999.pdf")])
    entries = {entry.file: entry for entry in render_rows(run, data)}
    assert entries["C-20001.pdf"].status == "failed"
    assert "conversion from `str` to `i32` failed" in entries["C-20001.pdf"].error
    assert entries["C-99999.pdf"].status == "empty"
    assert sorted(e.file for e in entries.values() if e.status == "ok") == sorted(
        f"{key}.pdf" for key in ["C-10482", "C-10517", "C-10533", "C-10561", "C-10578", "C-20000", "C-20002"]
    )
    assert text((tmp_path / "C-20002.pdf").read_bytes()) == text(alone(data, "C-20002", report))


@pytest.fixture(scope="module")
def blocks_reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted run over 2 blocks and a bit, from Parquet data beside the folder."""
    folder = tmp_path_factory.mktemp("blocks") / "reference"
    data = folder.parent / "statements.parquet"
    statements(2 * KEYS_PER_BLOCK).write_parquet(data)
    result = pr.batch(REPORT, data, by="customer_no", out=folder, workers=2)
    assert result.ok, str(result)
    return folder


@pytest.mark.typst
def test_a_killed_run_by_blocks_resumes_to_the_same_bytes(blocks_reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "polarreports.cli", "batch", str(ROOT / "examples" / "customer_statement.yaml"),
        "--data", str(blocks_reference.parent / "statements.parquet"), "--by", "customer_no", "--out", str(out),
        "--workers", "1", "--no-progress",
    ]  # fmt: skip
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and run.poll() is None:
        if (out / MANIFEST_NAME).exists() and len(read_manifest(out / MANIFEST_NAME)) >= KEYS_PER_BLOCK:
            break
        time.sleep(0.02)
    for pid in [run.pid, *children(run.pid)]:
        os.kill(pid, signal.SIGKILL)
    run.wait()
    done_before = len(read_manifest(out / MANIFEST_NAME))
    assert KEYS_PER_BLOCK <= done_before < 2 * KEYS_PER_BLOCK + 5
    resumed = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300, check=False)
    assert resumed.returncode == 0, resumed.stderr
    assert files_in(out) == files_in(blocks_reference)
    # files lost from a block (its other keys kept): rendered with the same block, the same bytes
    for name in ["C-10533.pdf", "C-20010.pdf", "C-20120.pdf"]:
        (out / name).unlink()
    again = pr.batch(REPORT, blocks_reference.parent / "statements.parquet", by="customer_no", out=out, workers=2)
    assert again.kept == len(again.entries) - 3
    assert files_in(out) == files_in(blocks_reference)
    assert [r["sha256"] for r in manifest_rows(out)] == [r["sha256"] for r in manifest_rows(blocks_reference)]


@pytest.mark.typst
def test_keys_in_an_order_of_their_own_get_their_own_pages(tmp_path: Path) -> None:
    """An Enum key sorts by its categories, not alphabetically: each key still gets its pages."""
    data = statements(2)
    categories = sorted(data["customer_no"].unique().to_list(), reverse=True)
    data = data.with_columns(pl.col("customer_no").cast(pl.Enum(categories)))
    entries = render_rows(task(data, tmp_path), data)
    assert [entry.status for entry in entries] == ["ok"] * 7
    for key in ["C-20001", "C-10533", "C-10482"]:
        assert text((tmp_path / f"{key}.pdf").read_bytes()) == text(alone(data, key)), key
