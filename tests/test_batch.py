"""Batch exports (``pr.batch``, ``polarreports batch``): one document per key, with hostile key
values kept inside the output folder, a manifest, failures isolated, and a run killed half way
resumed to exactly what an uninterrupted run writes."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import polarreports as pr
from polarreports.batch.executors import LocalPool
from polarreports.batch.manifest import MANIFEST_NAME, Entry, read_manifest
from polarreports.batch.names import MAX_COMPONENT_BYTES, FileNames, check_collisions, safe_component
from polarreports.batch.run import BatchResult
from polarreports.cli import app
from tests.conftest import ROOT, pdf_lines

HOSTILE = [
    "Acme GmbH",
    "..",
    ".",
    "../../escape",
    "/etc/passwd",
    "a/b",
    "a\\b",
    "nul\x00byte",
    "tab\tand\nnewline",
    "x" * 400,
    "Ünïcödé Ltd",
    "CON",
    ".hidden",
    "trailing dot.",
]

STATEMENT_SPEC = {
    "name": "statement",
    "sort": ["item"],
    "groups": [{"name": "customer", "header": {"elements": [{"type": "field", "column": "customer"}]}}],
    "variables": [{"name": "total", "calculation": "sum", "expression": "amount"}],
    "bands": {
        "detail": {
            "elements": [
                {"type": "field", "column": "item", "width": "50%"},
                {"type": "field", "column": "amount", "format": "0.00", "width": "50%"},
            ]
        },
        "summary": {
            "elements": [
                {"type": "label", "text": "Total due", "width": "50%"},
                {"type": "aggregate", "variable": "total", "format": "0.00", "width": "50%"},
            ]
        },
    },
}
STATEMENT = pr.Report.model_validate(STATEMENT_SPEC)


def statements(customers: list[str]) -> pl.DataFrame:
    """Three lines per customer, amounts differing per customer."""
    rows = [
        {
            "customer": name,
            "item": f"item {j}",
            "amount": Decimal(100 * i + 7 * j + 1) / 4,
            "region": "EU" if i % 2 else "US",
        }
        for i, name in enumerate(customers)
        for j in range(3)
    ]
    return pl.DataFrame(rows, schema_overrides={"amount": pl.Decimal(10, 2)})


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but the manifest, by relative path."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and path.name != MANIFEST_NAME
    }


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat_file.parent.name))
    return found


def manifest_rows(folder: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((folder / MANIFEST_NAME).read_text(encoding="utf-8"))))


# -- file names (no Typst) ------------------------------------------------------------------------


@given(st.text(max_size=300))
def test_any_value_becomes_one_safe_component(value: str) -> None:
    name = safe_component(value)
    assert name not in {"", ".", ".."}
    assert not name.startswith(".")
    assert not any(c in name for c in '/\\\x00:*?"<>|')
    assert name.isprintable()
    assert len(name.encode()) <= MAX_COMPONENT_BYTES + 9


@given(st.text(max_size=40), st.text(max_size=40))
def test_different_values_never_share_a_name(first: str, second: str) -> None:
    if first != second:
        assert safe_component(first) != safe_component(second)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_key_stays_inside_the_folder(tmp_path: Path, value: str) -> None:
    relative = FileNames("{region}/{customer}.pdf", ["region", "customer"]).path({"region": value, "customer": value})
    target = (tmp_path / relative).resolve()
    assert target.parent.parent == tmp_path.resolve()
    assert target.suffix == ".pdf"


def test_names_that_differ_only_in_case_are_refused_before_any_work(tmp_path: Path) -> None:
    data = statements(["ACME", "Acme", "Other"])
    with pytest.raises(pr.OutputError, match="differ only in case"):
        pr.batch(STATEMENT, data, by="customer", out=tmp_path, workers=1)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("template", "found"),
    [
        ("{client}.pdf", "not a key column"),
        ("/abs/{customer}.pdf", "must be relative"),
        ("../{customer}.pdf", "plain names"),
        ("a\\{customer}.pdf", "plain names"),
        ("static.pdf", "must be relative and name a key column"),
        ("{customer}.png", "one file per key"),
    ],
)
def test_a_bad_template_is_refused(tmp_path: Path, template: str, found: str) -> None:
    with pytest.raises(pr.OutputError, match=found):
        pr.batch(STATEMENT, statements(["a"]), by="customer", out=tmp_path, name=template, workers=1)


def test_a_wrong_key_column_says_which_were_meant(tmp_path: Path) -> None:
    with pytest.raises(pr.DataError, match="did you mean 'customer'"):
        pr.batch(STATEMENT, statements(["a"]), by="custmer", out=tmp_path)


@pytest.mark.parametrize(
    "keys", [pl.DataFrame({"client": ["a"]}), [("a", "b")]], ids=["frame without the column", "pair for one column"]
)
def test_expected_keys_must_match_the_key_columns(tmp_path: Path, keys: object) -> None:
    with pytest.raises(pr.RenderOptionError, match="keys="):
        pr.batch(STATEMENT, statements(["a"]), by="customer", out=tmp_path, keys=keys)  # type: ignore[arg-type]


def test_a_nan_key_gets_its_rows_and_a_rerun_keeps_it(tmp_path: Path) -> None:
    """NaN equals no float, not even NaN: its rows were looked up in vain ("no rows")."""
    data = statements(["a", "b", "c", "d"]).with_columns(
        customer=pl.Series([1.0, 1.0, 1.0, float("nan"), float("nan"), float("nan"), None, None, None, 2.0, 2.0, 2.0])
    )
    result = pr.batch(STATEMENT, data, by="customer", out=tmp_path, name="{customer}.html", workers=1)
    by_file = {entry.file: entry for entry in result.entries}
    assert by_file["nan.html"].status == "ok", by_file["nan.html"].error
    page = (tmp_path / "nan.html").read_text()
    assert all(f">item {j}<" in page for j in range(3))
    assert pr.batch(STATEMENT, data, by="customer", out=tmp_path, name="{customer}.html", workers=1).kept == 4


def test_two_keys_on_one_file_are_refused() -> None:
    with pytest.raises(pr.OutputError, match="same file"):
        check_collisions(["EU/a.pdf", "EU/a.pdf"])


def test_a_torn_last_manifest_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / MANIFEST_NAME
    header = "key,file,status,pages,bytes,sha256,input,duration_s,error\n"
    path.write_text(header + '"{""c"": 1}",1.pdf,ok,1,10,abc,def,0.1,\n"{""c"": 2}",2.pdf,o')
    assert list(read_manifest(path)) == ['{"c": 1}']


def test_a_folder_with_another_csv_named_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_NAME).write_text("a,b\n1,2\n")
    with pytest.raises(pr.OutputError, match="not a polarreports batch manifest"):
        pr.batch(STATEMENT, statements(["a"]), by="customer", out=tmp_path, workers=1)


def test_a_worker_process_that_dies_loses_only_its_task() -> None:
    pool = LocalPool(workers=1)
    jobs = [(os._exit, 3, ()), (list, ["still", "served"], ())]  # the second goes to a fresh process
    outcomes = list(pool.run(jobs))  # type: ignore[arg-type]
    assert isinstance(outcomes[0][1], pr.RenderError)
    assert "exit status 3" in str(outcomes[0][1])
    assert outcomes[1] == (["still", "served"], ["still", "served"])


# -- rendering (Typst) ----------------------------------------------------------------------------

CUSTOMERS = [f"Customer {i:02d}" for i in range(12)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted run over ``CUSTOMERS``, as Parquet data (the folder holds it too)."""
    folder = tmp_path_factory.mktemp("reference")
    statements(CUSTOMERS).write_parquet(folder.parent / "statements.parquet")
    result = pr.batch(STATEMENT, folder.parent / "statements.parquet", by="customer", out=folder, workers=2)
    assert result.ok
    assert len(result.entries) == len(CUSTOMERS)
    return folder


@pytest.mark.typst
def test_each_key_gets_its_document_with_its_own_figures(reference: Path) -> None:
    data = statements(CUSTOMERS)
    written = files_in(reference)
    assert sorted(written) == sorted(f"{name}.pdf" for name in CUSTOMERS)
    totals = data.group_by("customer").agg(pl.col("amount").sum()).rows()
    for name, total in totals[:4]:
        lines = pdf_lines(written[f"{name}.pdf"])
        assert name in lines
        assert f"Total due {total:.2f}" in lines
    rows = manifest_rows(reference)
    assert [row["file"] for row in rows] == sorted(f"{name}.pdf" for name in CUSTOMERS)
    for row in rows:
        assert row["status"] == "ok"
        assert row["pages"] == "1"
        assert row["error"] == ""
        content = written[row["file"]]
        assert int(row["bytes"]) == len(content)
        assert row["sha256"] == hashlib.sha256(content).hexdigest()


@pytest.mark.typst
def test_a_report_built_in_python_with_polars_expressions_renders_per_key(tmp_path: Path) -> None:
    """Its fingerprint serializes the expressions (it raised PydanticSerializationError)."""
    spec = {**STATEMENT_SPEC, "filter": pl.col("amount") > 1}
    variables = [{"name": "total", "calculation": "sum", "expression": pl.col("amount")}]
    report = pr.Report.model_validate({**spec, "variables": variables})
    data = statements(CUSTOMERS[:3])
    result = pr.batch(report, data, by="customer", out=tmp_path, workers=1)
    assert result.ok, [entry.error for entry in result.entries]
    written = files_in(tmp_path)
    for name, total in data.filter(pl.col("amount") > 1).group_by("customer").agg(pl.col("amount").sum()).rows():
        assert f"Total due {total:.2f}" in pdf_lines(written[f"{name}.pdf"])
    again = pr.batch(report, data, by="customer", out=tmp_path, workers=1)
    assert again.kept == 3  # the fingerprint is stable: nothing rendered again


@pytest.mark.typst
def test_hostile_keys_failures_and_empty_keys(tmp_path: Path) -> None:
    """Hostile values become files inside the folder, with the umask's mode; a key whose data
    breaks the report fails alone; a key without rows is listed as empty; progress is reported."""
    detail = {"elements": [{"type": "field", "column": "n"}]}
    spec = {**STATEMENT_SPEC, "columns": {"n": "CAST(code AS INTEGER)"}}
    report = pr.Report.model_validate({**spec, "bands": {**spec["bands"], "detail": detail}})  # type: ignore[dict-item]
    data = statements(HOSTILE).with_columns(
        code=pl.when(pl.col("customer") == "a/b").then(pl.lit("x1")).otherwise(pl.lit("12"))
    )
    events: list[pr.BatchProgress] = []
    out = tmp_path / "out"
    previous = os.umask(0o027)
    try:
        result = pr.batch(
            report,
            data,
            by=["region", "customer"],
            name="{region}/{customer}.pdf",
            out=out,
            keys=pl.DataFrame({"region": ["EU"], "customer": ["nobody"]}),
            workers=2,
            progress=events.append,
        )
    finally:
        os.umask(previous)
    assert [entry.key for entry in result.failures] == ['{"region": "EU", "customer": "a/b"}']
    assert "conversion from `str` to `i32` failed" in result.failures[0].error
    assert [entry.file for entry in result.empty] == ["EU/nobody.pdf"]
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(written) == len(HOSTILE) - 1 + 1  # the failed key has no file; the manifest
    for path in written:
        assert out.resolve() in path.resolve().parents
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert events[-1].done == events[-1].total == len(HOSTILE) + 1
    assert events[-1].failed == 1
    assert [event.done for event in events] == sorted(event.done for event in events)
    assert "1 failed" in str(result)
    assert "a/b" in str(result)


@pytest.mark.typst
def test_an_expected_key_without_rows_gets_the_no_data_band_when_asked(tmp_path: Path) -> None:
    spec = {
        **STATEMENT_SPEC,
        "bands": {
            **STATEMENT_SPEC["bands"],
            "no_data": {"elements": [{"type": "label", "text": "No transactions this period"}]},
        },
    }  # type: ignore[dict-item]
    report = pr.Report.model_validate(spec)
    result = pr.batch(
        report,
        statements(["Acme"]),
        by="customer",
        keys=["Acme", "Quiet Ltd"],
        out=tmp_path,
        render_empty=True,
        workers=1,
    )
    assert [(e.file, e.status) for e in result.entries] == [("Acme.pdf", "ok"), ("Quiet Ltd.pdf", "ok")]
    assert "No transactions this period" in pdf_lines((tmp_path / "Quiet Ltd.pdf").read_bytes())
    assert "No transactions this period" not in pdf_lines((tmp_path / "Acme.pdf").read_bytes())


@pytest.mark.typst
def test_a_symlinked_sub_folder_is_not_followed_out(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "EU").symlink_to(outside)
    result = pr.batch(
        STATEMENT,
        statements(["Acme", "Beta"]),
        by=["region", "customer"],
        name="{region}/{customer}.pdf",
        out=tmp_path / "out",
        workers=1,
    )
    assert [e.status for e in result.entries if e.file.startswith("EU/")] == ["failed"]
    assert "leads outside the output folder" in result.failures[0].error
    assert list(outside.iterdir()) == []


@pytest.mark.typst
def test_a_rerun_renders_only_what_is_missing_or_changed(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    data = reference.parent / "statements.parquet"
    shutil.copytree(reference, out)  # a finished run
    (out / "Customer 03.pdf").unlink()
    (out / "Customer 07.pdf").write_bytes(b"%PDF-1.7 changed")
    (out / ".Customer 09.pdf.0123abcd.tmp").write_bytes(b"half written")
    again = pr.batch(STATEMENT, data, by="customer", out=out, workers=1)
    assert again.kept == len(CUSTOMERS) - 2
    assert files_in(out) == files_in(reference)
    assert [(e.key, e.sha256) for e in again.entries] == [(r["key"], r["sha256"]) for r in manifest_rows(reference)]
    corrected = pl.read_parquet(data).with_columns(
        amount=pl.when(pl.col("customer") == "Customer 05")
        .then(pl.col("amount") + 1)
        .otherwise(pl.col("amount"))
        .cast(pl.Decimal(10, 2))  # the same type: only that key's rows differ
    )
    after = pr.batch(STATEMENT, corrected, by="customer", out=out, workers=1)  # new data: that key again
    assert after.kept == len(CUSTOMERS) - 1
    changed = {name for name, content in files_in(out).items() if content != files_in(reference)[name]}
    assert changed == {"Customer 05.pdf"}
    total = corrected.filter(pl.col("customer") == "Customer 05")["amount"].sum()
    assert f"Total due {total:.2f}" in pdf_lines((out / "Customer 05.pdf").read_bytes())


@pytest.mark.typst
def test_a_run_killed_half_way_resumes_to_exactly_the_full_set(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "polarreports.cli", "batch", str(tmp_path / "statement.json"),
        "--data", str(reference.parent / "statements.parquet"), "--by", "customer", "--out", str(out),
        "--workers", "1", "--no-progress",
    ]  # fmt: skip
    (tmp_path / "statement.json").write_text(STATEMENT.model_dump_json(exclude_defaults=True))
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and run.poll() is None:
        if (out / MANIFEST_NAME).exists() and len(read_manifest(out / MANIFEST_NAME)) >= 3:
            break
        time.sleep(0.05)
    workers = children(run.pid)
    for pid in [run.pid, *workers]:  # the driver and its workers at once, as a crash would
        os.kill(pid, signal.SIGKILL)
    run.wait()
    done_before = len(read_manifest(out / MANIFEST_NAME))
    assert 3 <= done_before < len(CUSTOMERS)
    resumed = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300, check=False)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{done_before} kept from an earlier run" in resumed.stdout
    assert files_in(out) == files_in(reference)  # byte for byte, and no half-written file left
    columns = ["key", "file", "status", "pages", "bytes", "sha256"]
    assert [[r[c] for c in columns] for r in manifest_rows(out)] == [
        [r[c] for c in columns] for r in manifest_rows(reference)
    ]


@pytest.mark.typst
def test_the_cli_lists_expected_keys_without_rows_and_exits_5_on_a_failure(tmp_path: Path) -> None:
    data = statements(["Acme", "Beta"]).with_columns(code=pl.Series(["1", "1", "1", "x", "x", "x"]))
    data.write_parquet(tmp_path / "data.parquet")
    pl.DataFrame({"customer": ["Acme", "Beta", "Gamma"]}).write_csv(tmp_path / "keys.csv")
    spec = {**STATEMENT_SPEC, "columns": {"n": "CAST(code AS INTEGER)"}}
    spec["bands"] = {**STATEMENT_SPEC["bands"], "detail": {"elements": [{"type": "field", "column": "n"}]}}  # type: ignore[dict-item]
    (tmp_path / "r.json").write_text(pr.Report.model_validate(spec).model_dump_json(exclude_defaults=True))
    arguments = ["batch", str(tmp_path / "r.json"), "--data", str(tmp_path / "data.parquet"), "--by", "customer"]
    result = CliRunner().invoke(
        app, [*arguments, "--out", str(tmp_path / "o"), "--keys", str(tmp_path / "keys.csv"), "--workers", "1"]
    )
    assert result.exit_code == 5, result.output
    assert "3 documents: 1 written, 0 kept from an earlier run, 1 empty, 1 failed" in result.output
    assert '  failed {"customer": "Beta"}: the report\'s data cannot be computed' in result.output
    assert [(r["file"], r["status"]) for r in manifest_rows(tmp_path / "o")] == [
        ("Acme.pdf", "ok"), ("Beta.pdf", "failed"), ("Gamma.pdf", "empty")
    ]  # fmt: skip


def test_the_cli_names_a_wrong_key_column(tmp_path: Path) -> None:
    statements(["a"]).write_parquet(tmp_path / "data.parquet")
    (tmp_path / "r.json").write_text(STATEMENT.model_dump_json(exclude_defaults=True))
    result = CliRunner().invoke(
        app,
        [
            "batch",
            str(tmp_path / "r.json"),
            "--data",
            str(tmp_path / "data.parquet"),
            "--by",
            "custmer",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2
    assert "the key column 'custmer' is not in the data; did you mean 'customer'?" in result.output


def test_the_summary_counts_one_document_and_one_worker_in_the_singular(tmp_path: Path) -> None:
    one = BatchResult(tmp_path, [Entry('{"customer_no": "C-1"}', "C-1.pdf", "ok")], 0, 0.5, 1)
    assert str(one).startswith("1 document: 1 written,")
    assert "(2.0/s, 1 worker);" in str(one)
