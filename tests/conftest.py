"""Shared fixtures: the sample data, the example report, and its rendered PDF's text; the two
test tiers (``make test``, and ``make test-fast``: ``-m "not typst"``) and the guard that keeps
the fast tier free of Typst. (The tests marked ``serial`` time things or count memory or
processes: the Makefile runs them alone, after the others ran on both cores.)"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import typst
from hypothesis import settings
from pypdf import PdfReader

import polarreports as pr
from polarreports.typeset import chunks
from polarreports.typeset.compile import WORKER as TYPST_WORKER
from polarreports.typeset.compile import WorkerCompiler, compile_document

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sales_by_region.yaml"

TYPST_HINT = "this test runs Typst: mark it @pytest.mark.typst"
TYPESETTING_ELSEWHERE = {
    # doctests that typeset (their nodeids)
    "polarreports/control.py::polarreports.control",
    "polarreports/output/document.py::polarreports.output.document",
    "polarreports/preview/server.py::polarreports.preview.server.running",
    "polarreports/preview/session.py::polarreports.preview.session",
    "polarreports/typeset/pdfjoin.py::polarreports.typeset.pdfjoin",
    "polarreports/typeset/pdfparts.py::polarreports.typeset.pdfparts",
    "polarreports/typeset/typeset.py::polarreports.typeset.typeset",
    # tests in a file written in another branch, until it carries its own marks
    *(
        f"tests/test_output_defects.py::{name}"
        for name in (
            "test_the_first_group_on_a_new_page_follows_the_title",
            "test_a_fallback_to_one_piece_is_logged_with_its_reason",
            "test_output_files_follow_the_umask",
            "test_every_file_the_cli_writes_follows_the_umask",
            "test_a_full_disk_is_an_output_error_and_leaves_the_old_file",
            "test_a_document_saved_after_the_timeout_is_not_cancelled",
            "test_sigterm_stops_the_cli_like_ctrl_c",
        )
    ),
}
"""Tests marked ``typst`` here, as they cannot carry the mark in their own source."""

settings.register_profile("fast", max_examples=10)


def examples(full: int) -> int:
    """How many examples a property test tries: ``full`` in ``make test``, at most 10 in the
    fast tier (which loads the "fast" hypothesis profile)."""
    return min(full, settings.default.max_examples)


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page, as a PDF reader (and so a user copying text) sees it, in the order
    it was written, each line without trailing spaces. (Read once per PDF and test process: the
    tests that read the example's PDF share one reading.)"""
    return list(_read_pages(bytes(pdf)))


@functools.lru_cache(maxsize=8)
def _read_pages(pdf: bytes) -> tuple[str, ...]:
    """With poppler's ``pdftotext -raw`` (content order): the text pypdf reads, 20 times faster
    (pypdf parsed content streams for 17 % of the suite's CPU); pypdf without poppler-utils."""
    if shutil.which("pdftotext") is None:
        pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    else:
        pages = _pdftotext(pdf, "-raw")
    return tuple("\n".join(line.rstrip() for line in page.strip().splitlines()) for page in pages)


def _pdftotext(pdf: bytes, mode: str) -> list[str]:
    """Each page's text as poppler's ``pdftotext`` in ``mode`` (``-raw``, ``-layout``) reads it."""
    out = subprocess.run(["pdftotext", mode, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True)
    return out.stdout.decode().split("\f")[:-1]  # each page ends in a form feed


def qpdf_check(path: Path, *options: str) -> None:
    """``qpdf --check`` finds nothing wrong with the PDF at ``path`` (skipped without qpdf)."""
    if shutil.which("qpdf") is None:
        pytest.skip("qpdf is not installed (Debian package qpdf; `make system` installs it)")
    result = subprocess.run(["qpdf", "--check", *options, str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def pdf_lines(pdf: bytes) -> list[str]:
    return [line.strip() for page in pdf_pages(pdf) for line in page.splitlines() if line.strip()]


def page_layouts(pdf: bytes) -> list[str]:
    """Each page's text where it stands on the page (poppler's ``pdftotext -layout``: words,
    their order, and the spaces that place them), to compare two PDFs page for page: unlike
    ``pdf_pages`` it also sees a word that moved. (Without poppler-utils installed, ``pdf_pages``.)"""
    if shutil.which("pdftotext") is None:
        return pdf_pages(pdf)
    return _pdftotext(pdf, "-layout")


@pytest.fixture(scope="session")
def sales() -> pl.DataFrame:
    return pr.sample.sales_data(2_000)


@pytest.fixture(scope="session")
def example() -> pr.Report:
    return pr.load(EXAMPLE)


@pytest.fixture(scope="session")
def example_pdf(example: pr.Report, sales: pl.DataFrame) -> bytes:
    return example.render(sales).pdf


@pytest.fixture(scope="session")
def example_lines(example_pdf: bytes) -> list[str]:
    return pdf_lines(example_pdf)


@contextmanager
def chunking_small() -> Iterator[None]:
    """Long-report typesetting (worker processes, page-aligned chunks) from 300 bands on, in
    chunks of 2 or 3 pages: a few hundred rows then take the path thousands take by default,
    in as many chunks. (A document typesets when its pages are first asked for: ask inside.)"""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chunks, "MIN_BANDS_FOR_CHUNKS", 300)
        patch.setattr(chunks, "PAGES_PER_CHUNK", (2, 3))
        yield


@pytest.fixture
def small_chunks() -> Iterator[None]:
    """``chunking_small`` for the whole test."""
    with chunking_small():
        yield


@pytest.fixture
def temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The test's renders put their temporary files in a folder of their own, found empty
    after (``pytest.mark.usefixtures("temp_folder")`` for a whole module)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert [p.name for p in folder.iterdir() if p.name.startswith("polarreports-")] == []


@pytest.fixture(scope="module")
def gallery_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of examples/, so that the images the definitions name are found."""
    folder = tmp_path_factory.mktemp("gallery")
    shutil.copytree(ROOT / "examples", folder, dirs_exist_ok=True)
    return folder


def one_piece_pdf(document: pr.Document) -> bytes:
    """``document`` typeset in one piece, in one compile (to compare with its chunked PDF)."""
    (pdf,) = compile_document(document._source, document.data_json)
    return pdf


def chunk_count(document: pr.Document) -> int:
    """How many chunks a document was typeset in ("4 chunks in 2 workers ..."), 0 if in one piece."""
    words = document.stats["typeset"].split()
    return int(words[0]) if words[1:2] == ["chunks"] else 0


# -- the fast tier and its guard -----------------------------------------------------------------


def skips_typst(config: pytest.Config) -> bool:
    """Whether this run leaves out the tests marked ``typst`` (``-m "not typst"``)."""
    return re.search(r"\bnot\s+typst\b", config.option.markexpr or "") is not None


def guards_typst(config: pytest.Config) -> bool:
    """Whether a test not marked ``typst`` that runs Typst fails in this run: in a run that leaves
    the marked ones out, and where ``POLARREPORTS_TYPST_GUARD=1`` (``make test``'s run of both)."""
    return skips_typst(config) or os.environ.get("POLARREPORTS_TYPST_GUARD") == "1"


class TypstGuard:
    """While a test not marked ``typst`` runs, creating a ``typst.Compiler`` or starting the
    Typst worker script fails the test."""

    def __init__(self) -> None:
        self.allowed = False
        self.found: str | None = None

    def refuse(self, what: str) -> None:
        if not self.allowed:
            self.found = f"{TYPST_HINT} (it {what})"
            pytest.fail(self.found, pytrace=False)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[object]:
        self.allowed = item.get_closest_marker("typst") is not None
        try:
            return (yield)
        finally:
            self.allowed = True  # between tests (collection, session teardown)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[object]:
        self.found = None
        result = yield
        if self.found is not None:  # refused, but the failure was caught on its way out
            pytest.fail(self.found, pytrace=False)
        return result


def install_typst_guard(monkeypatch: pytest.MonkeyPatch, guard: TypstGuard) -> None:
    """Route ``typst.Compiler(...)``, the start of the Typst ``_worker.py`` and a compile in a
    warm worker (started by an earlier test) through ``guard`` (the chart drawer's
    worker is not Typst: chart tests belong to the fast tier)."""
    compiler = typst.Compiler
    popen = subprocess.Popen
    worker_compile = WorkerCompiler.compile

    def guarded_worker_compile(self: WorkerCompiler, *args: Any, **kwargs: Any) -> Any:
        if self.idle_pids():  # no worker start for GuardedPopen to see
            guard.refuse("typesets in a warm Typst worker")
        return worker_compile(self, *args, **kwargs)

    def guarded_compiler(*args: Any, **kwargs: Any) -> Any:
        guard.refuse("creates a typst.Compiler")
        return compiler(*args, **kwargs)

    class GuardedPopen(popen):  # type: ignore[misc]
        def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
            if isinstance(args, list | tuple) and any(str(a) == str(TYPST_WORKER) for a in args):
                guard.refuse("starts the Typst worker _worker.py")
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(typst, "Compiler", guarded_compiler)
    monkeypatch.setattr(subprocess, "Popen", GuardedPopen)
    monkeypatch.setattr(WorkerCompiler, "compile", guarded_worker_compile)


_undo = pytest.MonkeyPatch()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "typst: runs Typst (left out by make test-fast)")
    if guards_typst(config):
        if re.search(r"\bnot\s+slow\b", config.option.markexpr or ""):  # the fast tier, not make test's first half
            settings.load_profile("fast")
        guard = TypstGuard()
        config.pluginmanager.register(guard, "typst-guard")
        install_typst_guard(_undo, guard)


def pytest_unconfigure(config: pytest.Config) -> None:
    _undo.undo()


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.partition("[")[0] in TYPESETTING_ELSEWHERE:
            item.add_marker(pytest.mark.typst)
