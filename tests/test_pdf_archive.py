"""PDF for archives and protection: PDF/A (Typst's own), attached evidence (the rows as Parquet,
the definition, the parameters), encryption and permissions (pikepdf); and one render saved
many times reads its data once."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
import polars as pl
import pytest
from polars.io.plugins import register_io_source

import polarreports as pr
from polarreports.exceptions import OutputError
from polarreports.output.document import Document
from polarreports.output.pdf_options import PdfOptions, Protection
from polarreports.typeset.compile import END, MARKS, FakeCompiler
from tests.conftest import EXAMPLE, pdf_lines, qpdf_check

PASSWORD = "correct horse battery staple"
OWNER = "owner-Secret-42"


def _rows(count: int = 50) -> pl.DataFrame:
    return pr.sample.sales_data(count)


def _faked(report: pr.Report, data: Any, **params: Any) -> Document:
    """A rendered document whose typesetting is faked (blank pages, no Typst)."""
    document = report.render(data, **params)
    document._compiler = FakeCompiler()
    return document


def _tagged_example() -> pr.Report:
    return pr.Report.from_dict({**pr.load(EXAMPLE).to_dict(), "tagged_pdf": True})


def _attachments(pdf: pikepdf.Pdf) -> dict[str, bytes]:
    return {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}


# -- options, checked before any work -----------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"pdf_standard": "a2b"}, "did you mean 'a-2b'"),
        ({"pdf_standard": "a-2b", "attach": ["data"]}, "give pdf_standard='a-3b'"),
        ({"attach": ["defintion"]}, "did you mean 'definition'"),
        ({"pdf_standard": "a-3b", "protect": Protection(PASSWORD)}, "PDF/A-3b forbids encryption"),
        ({"protect": "secret"}, "must be a polarreports.Protection"),
    ],
)
def test_wrong_pdf_options_are_refused_before_any_work(options: dict[str, Any], message: str, tmp_path: Path) -> None:
    document = _faked(pr.load(EXAMPLE), _rows())
    with pytest.raises(OutputError, match=message):
        document.save(tmp_path / "report.pdf", **options)
    assert document._compiler.jobs == []  # type: ignore[union-attr]
    assert not list(tmp_path.iterdir())


def test_pdf_options_on_another_output_are_an_error(tmp_path: Path) -> None:
    document = _faked(pr.load(EXAMPLE), _rows())
    with pytest.raises(OutputError, match=r"apply to a \.pdf only"):
        document.save(tmp_path / "report.png", pdf_standard="a-2b")


def test_protection_refuses_unknown_permissions_and_hides_its_passwords() -> None:
    with pytest.raises(OutputError, match="did you mean 'print'"):
        Protection(PASSWORD, allow=("prnt",))
    with pytest.raises(OutputError, match="owner_password is empty"):
        Protection(PASSWORD, owner_password="")
    for wrong, message in (("a\0b", "NUL"), ("\ud800", "lone surrogate"), ("ä" * 64, "128 bytes long")):
        with pytest.raises(OutputError, match=message) as refused:
            Protection(wrong)
        assert wrong not in str(refused.value)
    Protection("ä" * 63)  # 126 bytes: fine
    shown = repr(Protection(PASSWORD, OWNER, allow=("print",))) + str(PdfOptions(None, (), Protection(PASSWORD)))
    assert PASSWORD not in shown
    assert OWNER not in shown


# -- encryption ---------------------------------------------------------------------------------


def test_a_protected_pdf_opens_with_its_password_only_and_keeps_its_permissions(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    document = _faked(pr.load(EXAMPLE), _rows())
    target = tmp_path / "report.pdf"
    with caplog.at_level(logging.DEBUG):
        document.save(target, protect=Protection(PASSWORD, OWNER, allow=("print",)))
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(target)
    with pikepdf.open(target, password=PASSWORD) as pdf:
        assert pdf.is_encrypted
        assert pdf.encryption.R == 6  # AES-256
        assert pdf.encryption.stream_method.name == "aesv3"
        assert pdf.encryption.bits == 256
        allowed = pdf.allow
        assert (allowed.print_highres, allowed.print_lowres, allowed.accessibility) == (True, True, True)
        assert (allowed.extract, allowed.modify_other, allowed.modify_annotation, allowed.modify_form) == (
            False,
            False,
            False,
            False,
        )
        assert not pdf.owner_password_matched
    with pikepdf.open(target, password=OWNER) as pdf:
        assert pdf.owner_password_matched
    seen = target.read_bytes() + caplog.text.encode() + repr(dict(document.stats)).encode()
    assert PASSWORD.encode() not in seen
    assert OWNER.encode() not in seen
    assert document.stats["pdf_protected"] is True


def test_without_an_owner_password_nobody_can_lift_the_restrictions(tmp_path: Path) -> None:
    document = _faked(pr.load(EXAMPLE), _rows())
    document.save(tmp_path / "report.pdf", protect=Protection(PASSWORD))
    with pikepdf.open(tmp_path / "report.pdf", password=PASSWORD) as pdf:
        assert not pdf.owner_password_matched
        assert (pdf.allow.print_highres, pdf.allow.extract, pdf.allow.modify_other) == (False, False, False)


# -- attachments --------------------------------------------------------------------------------


def test_the_attached_data_are_the_rows_the_report_shows(tmp_path: Path) -> None:
    report = pr.load(EXAMPLE)
    sales = _rows(300)
    document = _faked(report, sales, min_quantity=6)
    target = tmp_path / "report.pdf"
    document.save(target, attach=["data", "definition", "parameters"])
    with pikepdf.open(target) as pdf:
        files = _attachments(pdf)
        relationships = {str(spec.F): str(spec.AFRelationship) for spec in pdf.Root.AF}
        subtypes = {name: str(spec.get_file().mime_type) for name, spec in pdf.attachments.items()}
    attached = pl.read_parquet(io.BytesIO(files["sales_by_region-data.parquet"]))
    expected = sales.filter(pl.col("quantity") >= 6)
    assert attached.columns == sales.columns
    assert attached.height == expected.height == document.stats["rows"]
    assert attached.equals(expected)  # the same rows, exactly, in the input's order
    assert pr.Report.from_yaml(files["sales_by_region.yaml"].decode()) == report
    assert json.loads(files["sales_by_region-parameters.json"]) == {"year": None, "min_quantity": 6}
    assert relationships == {
        "sales_by_region-data.parquet": "/Data",
        "sales_by_region.yaml": "/Source",
        "sales_by_region-parameters.json": "/Source",
    }
    assert subtypes["sales_by_region-data.parquet"] == "application/vnd.apache.parquet"


# -- one render, many outputs -------------------------------------------------------------------


def _counted_source(frame: pl.DataFrame, reads: list[int]) -> pl.LazyFrame:
    """``frame`` as a lazy source that counts how often it is read."""

    def read(
        columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, batch_size: int | None
    ) -> Iterator[pl.DataFrame]:
        reads.append(1)
        out = frame.select(columns) if columns else frame
        if predicate is not None:
            out = out.filter(predicate)
        yield out.head(n_rows) if n_rows is not None else out

    return register_io_source(read, schema=frame.schema)


def test_saving_one_document_many_times_never_reads_its_data_again(tmp_path: Path) -> None:
    reads: list[int] = []
    document = _faked(pr.load(EXAMPLE), _counted_source(_rows(), reads))
    after_render = len(reads)
    assert after_render > 0
    from polarreports.output.exports import EXPORTERS

    others = [f"a{suffix}" for suffix in EXPORTERS]  # .html, .xlsx, .parquet ... as they land
    for name in ("a.pdf", "a.png", "b.pdf", "a.svg", *others, "c.png"):
        document.save(tmp_path / name)
    document.save(tmp_path / "c.pdf", attach=["definition", "parameters"], pdf_standard="a-3b")
    document.save(tmp_path / "d.pdf", protect=Protection(PASSWORD))
    assert len(reads) == after_render  # outputs come from the one band stream
    formats = [job.format for job in document._compiler.jobs]  # type: ignore[union-attr]
    assert formats.count("pdf") == 2  # the PDF, and the PDF/A: each typeset once
    document.save(tmp_path / "e.pdf", attach=["data"])  # the data attachment does read the rows again
    assert len(reads) > after_render


# -- typesetting in one piece -------------------------------------------------------------------


def test_long_tagged_and_pdfa_reports_are_typeset_in_chunks() -> None:
    long = pr.Report(name="long", bands=pr.Bands(detail=pr.Band(elements=[pr.Field(column="x")])))
    data = pl.DataFrame({"x": range(4_500)})

    def chunk_jobs(document: Document) -> int:
        return sum(job.selectors == (END, MARKS) for job in document._compiler.jobs)  # type: ignore[union-attr]

    plain = _faked(long, data)
    plain.pdf  # noqa: B018
    assert chunk_jobs(plain) > 1  # (blank fake pages: then found mispredicted, and typeset whole)
    archival = _faked(long, data)
    archival._pdf_source("a-2b")
    assert chunk_jobs(archival) > 1  # its chunks join into a PDF/A (see test_pdfa_chunks_join_into_a_pdfa)
    tagged = _faked(pr.Report(**{**long.model_dump(), "tagged_pdf": True}), data)
    tagged.pdf  # noqa: B018
    assert chunk_jobs(tagged) > 1  # the joiner keeps one structure tree (tests/test_tagged_chunks.py)


# -- with Typst ---------------------------------------------------------------------------------


XMP_EXTENSION_ALARMS = {
    "XMP namespace xmpTPg=http://ns.adobe.com/xap/1.0/t/pg/ is not permitted",
    "XMP namespace pdfaExtension=http://www.aiim.org/pdfa/ns/extension/ is not permitted",
    "XMP namespace pdfaSchema=http://www.aiim.org/pdfa/ns/schema# is not permitted",
    "XMP namespace pdfaProperty=http://www.aiim.org/pdfa/ns/property# is not permitted",
    "XMP property pdfaExtension:schemas is not permitted",
    "XMP property xmpTPg:NPages is not permitted",
}
"""What pikepdf's allowlist validator (pikepdf 10.18) denies in every PDF/A Typst writes: the XMP
extension schemas (ISO 19005-2 6.6.2.3.2, the standard's own way to declare properties) and the
predefined Paged-Text schema. False alarms by its own account ("a denial may be a false
alarm"); any other violation fails the test."""


def _pdfa_violations(path: Path, flavour: str) -> list[str]:
    """What pikepdf's offline PDF/A validator finds wrong in ``path``, less its known false alarms."""
    from pikepdf import pdfa

    report = pdfa.validate_written(path, flavour)
    return [f"{v.rule} {v.where}: {v.message}" for v in report.violations if v.message not in XMP_EXTENSION_ALARMS]


@pytest.mark.typst
def test_pdfa3b_with_its_evidence_is_tagged_and_well_formed(tmp_path: Path) -> None:
    sales = _rows()
    document = _tagged_example().render(sales)
    plain = document.pdf
    target = tmp_path / "archive.pdf"
    document.save(target, pdf_standard="a-3b", attach=["data", "definition", "parameters"])
    assert _pdfa_violations(target, "3b") == []
    qpdf_check(target)
    with pikepdf.open(target) as pdf:
        assert pdf.open_metadata().pdfa_status == "3B"
        assert "/StructTreeRoot" in pdf.Root
        assert pdf.Root.MarkInfo.Marked
        assert str(pdf.Root.OutputIntents[0].S) == "/GTS_PDFA1"
        assert len(pdf.Root.AF) == 3
        data = pl.read_parquet(io.BytesIO(_attachments(pdf)["sales_by_region-data.parquet"]))
    assert data.sort(sales.columns).equals(sales.sort(sales.columns))
    assert pdf_lines(target.read_bytes()) == pdf_lines(plain)  # the same report, page for page
    assert document.stats["pdf_standard"] == "a-3b"


@pytest.mark.typst
def test_pdfa2b_and_a_protected_tagged_pdf(tmp_path: Path) -> None:
    document = _tagged_example().render(_rows())
    document.save(tmp_path / "a2b.pdf", pdf_standard="a-2b")
    assert _pdfa_violations(tmp_path / "a2b.pdf", "2b") == []
    qpdf_check(tmp_path / "a2b.pdf")
    with pikepdf.open(tmp_path / "a2b.pdf") as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"
        assert "/StructTreeRoot" in pdf.Root
        assert not pdf.attachments
    document.save(tmp_path / "locked.pdf", protect=Protection(PASSWORD))
    qpdf_check(tmp_path / "locked.pdf", f"--password={PASSWORD}")
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(tmp_path / "locked.pdf")
    with pikepdf.open(tmp_path / "locked.pdf", password=PASSWORD) as pdf:
        assert "/StructTreeRoot" in pdf.Root  # the tags survive the encryption
        assert len(pdf.pages) == document.page_count
    assert len(document.save(tmp_path / "page.png")) == document.page_count  # images still offered


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the band streams computed (``collect_stream`` calls) by the renders of a test."""
    from polarreports import api

    calls: list[int] = []
    real = api.collect_stream

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "collect_stream", counted)
    return calls


@pytest.fixture
def sales_file(tmp_path: Path) -> Path:
    path = tmp_path / "sales.parquet"
    _rows().write_parquet(path)
    return path


def _cli(*args: str, env: dict[str, str] | None = None) -> Any:
    from typer.testing import CliRunner

    from polarreports.cli import app

    return CliRunner().invoke(app, ["render", str(EXAMPLE), *args], env=env)


def test_the_cli_checks_every_output_and_option_before_any_work(
    sales_file: Path, tmp_path: Path, renders: list[int]
) -> None:
    good = str(tmp_path / "ok.pdf")
    wrong = {
        "cannot save .*: the suffix .docx": ["-o", good, "-o", str(tmp_path / "bad.docx")],
        "is given twice": ["-o", good, "-o", good],
        "is a file, not a folder": ["-o", good, "-o", str(sales_file / "x.png")],
        "apply to PDF outputs": ["-o", str(tmp_path / "a.png"), "--pdf-standard", "a-2b"],
        "did you mean 'definition'": ["-o", good, "--attach", "data,defintion"],
        "the environment variable PR_NOT_SET is not set": ["-o", good, "--password-env", "PR_NOT_SET"],
        "give --password-env": ["-o", good, "--allow", "print"],
    }
    for message, args in wrong.items():
        result = _cli("--data", str(sales_file), *args)
        assert result.exit_code == 2, (args, result.output)
        assert re.search(message, result.output), (message, result.output)
    assert renders == []
    assert sorted(path.name for path in tmp_path.iterdir()) == ["sales.parquet"]


def test_a_password_is_never_taken_from_the_command_line(sales_file: Path, tmp_path: Path) -> None:
    result = _cli("--data", str(sales_file), "-o", str(tmp_path / "a.pdf"), "--password", PASSWORD)
    assert result.exit_code == 2
    assert "No such option" in result.output


@pytest.mark.typst
def test_the_cli_renders_once_for_many_outputs(sales_file: Path, tmp_path: Path, renders: list[int]) -> None:
    outputs = ["a.pdf", "a.png", "b.pdf"]
    args = [part for name in outputs for part in ("-o", str(tmp_path / name))]
    result = _cli("--data", str(sales_file), *args, "--pdf-standard", "a-3b", "--attach", "data,definition")
    assert result.exit_code == 0, result.output
    assert renders == [1]
    pages = len(list(tmp_path.glob("a-*.png")))
    assert result.output.splitlines() == [
        f"wrote {tmp_path / 'a.pdf'}: {pages} pages",
        f"wrote {tmp_path / 'a-1.png'} (+{pages - 1} more): {pages} pages",
        f"wrote {tmp_path / 'b.pdf'}: {pages} pages",
    ]
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()  # typeset once
    with pikepdf.open(tmp_path / "a.pdf") as pdf:
        assert pdf.open_metadata().pdfa_status == "3B"
        assert sorted(pdf.attachments) == ["sales_by_region-data.parquet", "sales_by_region.yaml"]

    environment = {"REPORT_PASSWORD": PASSWORD}
    locked = tmp_path / "locked.pdf"
    result = _cli("--data", str(sales_file), "-o", str(locked), "--password-env", "REPORT_PASSWORD", env=environment)
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(locked)
    with pikepdf.open(locked, password=PASSWORD) as pdf:
        assert len(pdf.pages) == pages
        assert not pdf.allow.print_highres


@pytest.mark.typst
@pytest.mark.parametrize("tagged", [False, True])
def test_pdfa_chunks_join_into_a_pdfa(tagged: bool, tmp_path: Path) -> None:
    from dataclasses import replace

    from polarreports.typeset.compile import compile_document
    from polarreports.typeset.pdfjoin import PdfJoin
    from tests.tagging import reading, structure_problems

    document = (_tagged_example() if tagged else pr.load(EXAMPLE)).render(_rows())
    (chunk,) = compile_document(replace(document._source, pdf_standards=("a-2b",), timestamp=0), document.data_json)
    target = tmp_path / "joined.pdf"
    with PdfJoin(target) as joined:
        joined.add(chunk)
        joined.add(chunk)
    assert _pdfa_violations(target, "2b") == []
    qpdf_check(target)
    with pikepdf.open(target) as pdf:
        pages = len(pdf.pages)
        assert pdf.open_metadata().pdfa_status == "2B"
        assert str(pdf.Root.OutputIntents[0].S) == "/GTS_PDFA1"
        xmp = pdf.Root.Metadata.read_bytes()
        assert ("/StructTreeRoot" in pdf.Root) is tagged
        if tagged:  # one structure tree reading both chunks (tests/test_tagged_chunks.py)
            assert structure_problems(pdf) == []
            joined_text = "".join(text for _, text in reading(pdf))
    if tagged:
        with pikepdf.open(io.BytesIO(chunk)) as alone:
            assert joined_text == 2 * "".join(text for _, text in reading(alone))
    assert pages == 2 * document.page_count
    assert f"<xmpTPg:NPages>{pages}</xmpTPg:NPages>".encode() in xmp  # the joined count, not a chunk's


@pytest.mark.typst
def test_a_wide_listings_panels_joined_stay_pdfa(tmp_path: Path) -> None:
    from tests.test_wide import wide_report

    document = wide_report().render(_rows())
    document.save(tmp_path / "wide.pdf", pdf_standard="a-2b")
    assert document.stats["typeset"].startswith("2 panels")
    assert _pdfa_violations(tmp_path / "wide.pdf", "2b") == []
    with pikepdf.open(tmp_path / "wide.pdf") as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"
        assert len(pdf.pages) == document.page_count
