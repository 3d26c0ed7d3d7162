"""A long tagged report (``tagged_pdf: true``) is typeset in chunks like any other, and the
joined PDF has one structure tree that reads as the one-piece render's: the same elements in
the same order with the same text, every marked content referred to once, parent-tree keys
unique and leading back to their page, table IDs unique."""

from __future__ import annotations

import io
import shutil
import subprocess
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest

import polarreports as pr
from polarreports.typeset import pdfjoin, pdfstructure
from tests.conftest import EXAMPLE, chunk_count, chunking_small, one_piece_pdf, qpdf_check
from tests.tagging import content, reading, structure_problems

ROWS = 320
REGIONS = pr.sample.sales_data(ROWS)["region"].n_unique()


URL = "https://example.com/(/ID(U1x0y0)/StructParent(5))/"
"""What a key or an ID looks like, inside a URL (a string the join must leave as it is)."""


def _tagged_report(**changes: object) -> pr.Report:
    """The example report, tagged, with bookmarks (headings in the tree) and a link per row
    (annotations with their own parent-tree keys)."""
    definition = pr.load(EXAMPLE).to_dict()
    definition["bands"]["detail"]["elements"][1]["link"] = f"concat('{URL}', order_id)"
    return pr.Report.from_dict({**definition, "tagged_pdf": True, "outline": True, **changes})


@pytest.fixture(scope="module", params=[True, False], ids=["headings", "one run"])
def rendered(request: pytest.FixtureRequest) -> tuple[pr.Document, bytes, bytes]:
    """The tagged report typeset in chunks, its joined PDF, and the same typeset in one piece:
    with bookmarks (a heading per group: a run of bands between two), and without (the whole
    report one run, going on through every chunk)."""
    with chunking_small():
        document = _tagged_report(outline=request.param).render(pr.sample.sales_data(ROWS))
        joined = document.pdf
    one_piece = one_piece_pdf(document)
    return document, joined, one_piece


@pytest.fixture(scope="module")
def inspected(rendered: tuple[pr.Document, bytes, bytes]) -> dict[str, tuple[list[tuple[str, str]], list[str]]]:
    """For the joined PDF and the one-piece one: how it reads (``tagging.reading``) and what
    is wrong with its structure tree."""
    found = {}
    for name, pdf_bytes in (("joined", rendered[1]), ("one piece", rendered[2])):
        with _open(pdf_bytes) as pdf:
            marked = content(pdf)
            found[name] = (reading(pdf, marked), structure_problems(pdf, marked))
    return found


def _open(pdf: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(pdf))


def _pdftotext(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (Debian package poppler-utils; `make system` installs it)")
    (tmp_path / "in.pdf").write_bytes(pdf)
    return subprocess.run(["pdftotext", str(tmp_path / "in.pdf"), "-"], capture_output=True, check=True).stdout.decode()


def _qpdf_check(pdf: bytes, tmp_path: Path) -> None:
    (tmp_path / "check.pdf").write_bytes(pdf)
    qpdf_check(tmp_path / "check.pdf")


def _top_level(pdf: pikepdf.Pdf) -> list[str]:
    """The types of the elements the document element holds."""
    top = pdf.Root.StructTreeRoot.K[0].K
    return [str(kid.S) for kid in (top if isinstance(top, pikepdf.Array) else [top])]


def _outlined(pdf_bytes: bytes) -> bool:
    with _open(pdf_bytes) as pdf:
        return "/Outlines" in pdf.Root


def _uris(pdf_bytes: bytes) -> list[str]:
    with _open(pdf_bytes) as pdf:
        return [str(link.A.URI) for page in pdf.pages for link in page.get("/Annots", [])]


@pytest.mark.typst
def test_a_long_tagged_report_is_typeset_in_chunks(rendered: tuple[pr.Document, bytes, bytes]) -> None:
    document, joined, one_piece = rendered
    assert chunk_count(document) >= 3
    assert document.stats["typeset"].endswith("worker processes")
    with _open(joined) as pdf:
        assert len(pdf.pages) == document.page_count
    uris = _uris(joined)
    assert len(uris) == ROWS  # a link per row, its URL as it was (strings are never rewritten)
    assert all(uri.startswith(URL) for uri in uris)
    assert uris == _uris(one_piece)


@pytest.mark.typst
def test_joined_text_is_the_one_piece_text(rendered: tuple[pr.Document, bytes, bytes], tmp_path: Path) -> None:
    _, joined, one_piece = rendered
    assert _pdftotext(joined, tmp_path) == _pdftotext(one_piece, tmp_path)


@pytest.mark.typst
def test_joined_structure_reads_as_the_one_piece(
    rendered: tuple[pr.Document, bytes, bytes], inspected: dict[str, tuple[list[tuple[str, str]], list[str]]]
) -> None:
    """Element for element, in reading order: the same types with the same marked text (the
    run of bands a chunk boundary cut is one element again)."""
    read = inspected["joined"][0]
    assert read == inspected["one piece"][0]
    kinds = [kind for kind, _ in read]
    assert kinds[0] == "/Document"
    assert kinds.count("/Document") == 1
    outlined = _outlined(rendered[1])
    assert kinds.count("/H1") == (REGIONS if outlined else 0)  # a heading per region
    assert kinds.count("/Link") == ROWS  # a link per row
    with _open(rendered[1]) as pdf, _open(rendered[2]) as whole:
        assert int(pdf.Root.StructTreeRoot.ParentTreeNextKey) == int(whole.Root.StructTreeRoot.ParentTreeNextKey)
        # the same top-level elements (the runs every chunk boundary cut are whole again)
        assert _top_level(pdf) == _top_level(whole)


@pytest.mark.typst
def test_joined_structure_tree_is_valid(
    rendered: tuple[pr.Document, bytes, bytes],
    inspected: dict[str, tuple[list[tuple[str, str]], list[str]]],
    tmp_path: Path,
) -> None:
    assert inspected["joined"][1] == []
    assert inspected["one piece"][1] == []  # (the checks hold for what Typst writes whole)
    with _open(rendered[1]) as pdf, _open(rendered[2]) as whole:
        assert pdf.Root.MarkInfo.Marked
        assert str(pdf.Root.Lang) == "en"
        assert dict(pdf.Root.StructTreeRoot.RoleMap.items()) == dict(whole.Root.StructTreeRoot.RoleMap.items())
        with pdf.open_outline() as outline:
            assert len(outline.root) == (REGIONS if _outlined(rendered[1]) else 0)  # the bookmarks kept as before
    _qpdf_check(rendered[1], tmp_path)


@pytest.fixture(scope="module")
def table_chunk() -> bytes:
    """A tagged PDF with tables whose header cells have IDs (the crosstab example)."""
    report = pr.load(EXAMPLE.parent / "sales_crosstab.yaml").model_copy(update={"tagged_pdf": True})
    document = report.render(pr.sample.sales_data(200))
    pdf = one_piece_pdf(document)
    return pdf


def _join(chunks: list[bytes], target: Path) -> bytes:
    with pdfjoin.PdfJoin(target) as joined:
        for chunk in chunks:
            joined.add(chunk)
    return target.read_bytes()


@pytest.mark.typst
def test_ids_stay_unique_when_chunks_number_their_tables_alike(table_chunk: bytes, tmp_path: Path) -> None:
    joined = _join([table_chunk] * 3, tmp_path / "tables.pdf")
    with _open(joined) as pdf, _open(table_chunk) as chunk:
        assert structure_problems(pdf) == []
        ids = [bytes(name) for name in list(pdf.Root.StructTreeRoot.IDTree.Names)[::2]]
        own = [bytes(name) for name in list(chunk.Root.StructTreeRoot.IDTree.Names)[::2]]
        assert own
        assert sorted(ids) == sorted(b"c%d-" % i + name for i in (1, 2, 3) for name in own)
        assert reading(pdf)[1:] == reading(chunk)[1:] * 3  # one document element holding all three
    _qpdf_check(joined, tmp_path)


def _keys_not_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    shift = pdfstructure.shifted
    monkeypatch.setattr(pdfjoin, "shifted", lambda head, _offset, prefix: shift(head, 0, prefix))


def _ids_not_prefixed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdfstructure.JoinedStructure, "prefix", lambda _self: b"")


@pytest.mark.typst
@pytest.mark.parametrize(
    ("fault", "found"),
    [(_keys_not_moved, "is not the element of MCID"), (_ids_not_prefixed, "IDTree's names are not unique")],
)
def test_the_checks_find_a_wrong_join(
    fault: Callable[[pytest.MonkeyPatch], None],
    found: str,
    table_chunk: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The structure checks above can fail: a join that does not move each chunk's keys, or
    does not prefix its IDs, is found wrong."""
    fault(monkeypatch)
    with _open(_join([table_chunk] * 2, tmp_path / "wrong.pdf")) as pdf:
        assert any(found in problem for problem in structure_problems(pdf))


def _join_peak(chunk: bytes, count: int, target: Path) -> int:
    """Python's peak allocation while joining ``count`` copies of ``chunk``."""
    tracemalloc.start()
    try:
        with pdfjoin.PdfJoin(target) as joined:
            for _ in range(count):
                joined.add(chunk)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.typst
def test_a_tagged_join_holds_one_chunk_not_the_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three times the chunks, about the same peak: the join holds a chunk at a time, an offset
    per object, numbers per top-level element and parent-tree key, and the run element's
    contents up to RUN_IN_MEMORY (here 8 KB; a report without headings is one run: past that,
    it is in a temporary file)."""
    monkeypatch.setattr(pdfjoin, "RUN_IN_MEMORY", 1 << 13)
    document = _tagged_report(outline=False).render(pr.sample.sales_data(30))
    chunk = one_piece_pdf(document)
    _join_peak(chunk, 2, tmp_path / "warm.pdf")  # (imports, compiled patterns)
    few, many = _join_peak(chunk, 4, tmp_path / "few.pdf"), _join_peak(chunk, 12, tmp_path / "many.pdf")
    size = (tmp_path / "many.pdf").stat().st_size
    assert (many - few) / 8 < len(chunk) / 10, (few, many, len(chunk))  # an offset per object, a few numbers
    assert many < size / 4, (many, size)
    with _open((tmp_path / "many.pdf").read_bytes()) as pdf:
        assert structure_problems(pdf) == []
