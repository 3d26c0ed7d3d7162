"""A hostile pass over the command line: about 200 runs with broken definitions, odd data files,
bad parameters, unknown options and unwritable outputs. Every run exits 0, or 2 with
``error: ...`` on its first line: never a traceback, never a hang, never status 1."""

from __future__ import annotations

import copy
import os
import random
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from polarreports.cli import app
from tests.conftest import EXAMPLE

runner = CliRunner()
MUTATIONS = 70
HOSTILE_VALUES: list[Any] = [
    *(float("inf"), float("nan"), 1e308, -1, 0, -1e308, 2**64, True, None, [], {}, [1, 2], {"a": 1}),
    *("", "x" * 10_000, "0" * 100_000, "yyyy" * 100_000, "\x00", "{{", "#", "-1mm", "1e308pt", "1e308mm"),
    *("999999999999999999999", "../../etc/passwd", "/dev/zero", "nan", "inf", "abc", "-5pt", "0pt", "100000%"),
]


class _Hung(Exception):
    """A run that gave no answer in time (a FIFO read, a runaway computation)."""


def _hung(signum: int, frame: FrameType | None) -> None:
    raise _Hung


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data files good and bad, and definitions good and bad."""
    w = tmp_path_factory.mktemp("hostile")
    assert runner.invoke(app, ["sample", "-o", str(w / "sales.parquet"), "--rows", "20"]).exit_code == 0
    good = (w / "sales.parquet").read_bytes()
    (w / "folder.parquet").mkdir()
    files = {
        "empty.parquet": b"",
        "empty.csv": b"",
        "empty.ndjson": b"",
        "empty.ipc": b"",
        "latin1.csv": "region,customer\nNörd,Zoë\n".encode("latin-1"),
        "ragged.csv": b"a,b\n1,2,3\n4\n",
        "truncated.parquet": good[: len(good) // 2],
        "truncated_tail.parquet": good[:-20],
        "garbage.ipc": b"ARROW1" + bytes(range(256)),
        "bad.ndjson": b'{"a": 1}\n{not json\n',
        "binary.csv": bytes(range(256)) * 2,
        "few.csv": b"order_id,region\n1,North\n",
        "corrupted.parquet": good[: len(good) // 3]
        + bytes(b ^ 0x55 for b in good[len(good) // 3 : len(good) // 2])
        + good[len(good) // 2 :],
        "names_latin1.csv": ("name,city\n" + "Zoë,Köln\n" * 3000).encode("latin-1"),
        "type_change.csv": ("name,city\n" + "1,2\n" * 200 + "x,y\n").encode(),
        "names.yaml": yaml.safe_dump(
            {"name": "r", "bands": {"detail": {"elements": [{"type": "field", "column": c} for c in ("name", "city")]}}}
        ).encode(),
        # definitions
        "empty.yaml": b"",
        "list.yaml": b"- 1\n- 2\n",
        "bad.yaml": b"name: [unclosed\n",
        "latin1.yaml": "name: Zoë\n".encode("latin-1"),
        "binary.yaml": bytes(range(128, 256)),
        "bad.json": b"{",
        "deep.json": b"[" * 5000 + b"]" * 5000,
        "nul.yaml": b"name: r\x00\n",
        "bom.yaml": b"\xef\xbb\xbfname: r\n",
        "bomb.yaml": b"a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b]\n",
        "params.yaml": yaml.safe_dump(
            {
                "name": "r",
                "parameters": [
                    {"name": "who", "type": "string"},
                    {"name": "day", "type": "date"},
                    {"name": "amount", "type": "decimal"},
                    {"name": "rate", "type": "float"},
                ],
                "bands": {
                    "title": {"elements": [{"type": "field", "column": c} for c in ("who", "day", "amount", "rate")]},
                    "detail": {"elements": [{"type": "field", "column": "region"}]},
                },
            }
        ).encode(),
    }
    for name, content in files.items():
        (w / name).write_bytes(content)
    os.mkfifo(w / "fifo.csv")
    os.mkfifo(w / "fifo.yaml")
    (w / "loop.csv").symlink_to(w / "loop.csv")
    for i, source in enumerate(
        ["regexp_like(region, '(')", "region ~ '['", "CAST(region AS INT)", "strptime(region, '%Q')", "quantity / 0"]
    ):
        definition = {
            "name": "r",
            "columns": {"x": source},
            "bands": {"detail": {"elements": [{"type": "field", "column": "x"}]}},
        }
        (w / f"expression{i}.yaml").write_text(yaml.safe_dump(definition))
    for i, pattern in enumerate(["0" * 100_000, "yyyy" * 100_000, "'" * 3, "0.0E+999", "@" * 40]):
        cells = [{"type": "field", "column": c, "format": pattern} for c in ("quantity", "order_date")]
        (w / f"format{i}.yaml").write_text(yaml.safe_dump({"name": "r", "bands": {"detail": {"elements": cells}}}))
    base = yaml.safe_load(EXAMPLE.read_text())
    rng = random.Random(12)
    for i in range(MUTATIONS):
        mutated = _mutate(copy.deepcopy(base), rng)
        (w / f"mutation{i}.yaml").write_text(yaml.safe_dump(mutated, allow_unicode=True))
    return w


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield from _paths(value, (*prefix, key))


def _mutate(definition: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """One or two values replaced by hostile ones, or keys dropped."""
    for _ in range(rng.choice([1, 1, 2])):
        path = rng.choice(list(_paths(definition)))
        node: Any = definition
        for key in path[:-1]:
            node = node[key]
        if rng.random() < 0.15 and isinstance(node, dict):
            del node[path[-1]]
        else:
            node[path[-1]] = rng.choice(HOSTILE_VALUES)
    return definition


def _runs() -> list[tuple[str, list[str]]]:
    """(name, arguments), with ``{w}`` for the folder of the fixture."""
    ex, data, out = str(EXAMPLE), "{w}/sales.parquet", "{w}/out.pdf"
    runs: list[tuple[str, list[str]]] = []
    for name in [
        *("folder.parquet", "empty.parquet", "empty.csv", "empty.ndjson", "empty.ipc", "latin1.csv", "ragged.csv"),
        *("truncated.parquet", "truncated_tail.parquet", "garbage.ipc", "bad.ndjson", "fifo.csv", "loop.csv"),
        *("binary.csv", "few.csv", "missing.parquet", "data.xlsx", "no_suffix", "nul\x00.csv", "corrupted.parquet"),
    ]:
        runs.append((f"render --data {name}", ["render", ex, "--data", f"{{w}}/{name}", "-o", out]))
        runs.append((f"validate --data {name}", ["validate", ex, "--data", f"{{w}}/{name}"]))
        runs.append((f"init {name}", ["init", f"{{w}}/{name}", "-o", "{w}/init.yaml"]))
    for value in [
        *("year=abc", "=", "year", "=5", "year=", "unknown=1", "year=99999999999999999999", "year=1e308"),
        *("year=\udc80", "year=-1", "min_quantity=nan", "year=2025\x00", "min_quantity=" + "9" * 5000),
    ]:
        runs.append((f"render -p {value[:30]!r}", ["render", ex, "--data", data, "-p", value, "-o", out]))
        runs.append((f"validate -p {value[:30]!r}", ["validate", ex, "--data", data, "-p", value]))
    for value in [
        *("who=\udc80", "who=\x00", "day=2025-13-01", "day=0000-01-01", "amount=1e999", "amount=nan", "amount=-inf"),
        *("amount=1e40", "rate=inf", "rate=1e999", 'who=#import "/etc/passwd"', "who=]]"),
    ]:
        runs.append(
            (f"render params -p {value!r}", ["render", "{w}/params.yaml", "--data", data, "-p", value, "-o", out])
        )
    for target in [
        *("/nonexistent/folder/x.pdf", "/proc/x.pdf", "{w}", "{w}/x.docx", "", "{w}/sales.parquet/x.pdf"),
        *("{w}/x\x00.pdf", "{w}/" + "a" * 300 + ".pdf", "/dev/full"),
    ]:
        runs.append((f"render -o {target[:40]!r}", ["render", ex, "--data", data, "-o", target]))
        runs.append((f"init -o {target[:40]!r}", ["init", data, "-o", target]))
        runs.append((f"sample -o {target[:40]!r}", ["sample", "-o", target, "--rows", "5"]))
    for extra in [
        *(["--typst", "{w}/x.json"], ["--typst", "/proc/x.typ"], ["--timeout", "-1"], ["--timeout", "nan"]),
        *(["--timeout", "abc"], ["--memory-mb", "-5"], ["--memory-mb", "nan"], ["--bogus"], ["-x"], ["--data"]),
    ]:
        runs.append((f"render {' '.join(extra)}", ["render", ex, "--data", data, "-o", out, *extra]))
    for args in [
        *(["--bogus"], ["render"], ["render", ex], ["validate"], ["schema", "x"], ["schema", "--bogus"], ["init"]),
        *(
            ["sample"],
            ["sample", "-o", "{w}/s.parquet", "--rows", "-1"],
            ["sample", "-o", "{w}/s.parquet", "--rows", "abc"],
        ),
        *(["sample", "-o", "{w}/s.xlsx", "--rows", "3"], ["nope"], ["--debug"], ["schema"], ["--help"]),
    ]:
        runs.append((" ".join(args), args))
    for name in [
        *("empty.yaml", "list.yaml", "bad.yaml", "latin1.yaml", "binary.yaml", "bad.json", "deep.json", "nul.yaml"),
        *("bom.yaml", "bomb.yaml", "fifo.yaml", "no_such.yaml", "folder.parquet"),
        *(f"expression{i}.yaml" for i in range(5)),
        *(f"format{i}.yaml" for i in range(5)),
    ]:
        command = "render" if name.startswith(("expression", "format")) else "validate"
        runs.append(
            (f"{command} {name}", [command, f"{{w}}/{name}", "--data", data, *(["-o", out] * (command == "render"))])
        )
    for i in range(MUTATIONS):
        if i % 3 == 0:
            runs.append((f"render mutation{i}", ["render", f"{{w}}/mutation{i}.yaml", "--data", data, "-o", out]))
        else:
            runs.append((f"validate mutation{i}", ["validate", f"{{w}}/mutation{i}.yaml", "--data", data]))
    return runs


RUNS = _runs()


def _invoke(argv: list[str]) -> Result:
    """Run the command line in this process; a run that hangs (a FIFO read, a runaway
    computation) is interrupted after 60 s and fails the test (20 s was passed by a
    mutated definition's render on a machine loaded 20 deep)."""
    previous = signal.signal(signal.SIGALRM, _hung)
    watchdog = threading.Timer(60, signal.pthread_kill, (threading.main_thread().ident, signal.SIGALRM))
    watchdog.start()
    try:
        return runner.invoke(app, argv)
    finally:
        watchdog.cancel()
        signal.signal(signal.SIGALRM, previous)


def test_there_are_about_200_runs() -> None:
    assert len(RUNS) >= 200


@pytest.mark.typst
@pytest.mark.parametrize("args", [args for _, args in RUNS], ids=[name for name, _ in RUNS])
def test_every_run_exits_0_or_2_with_one_error_line(folder: Path, args: list[str]) -> None:
    argv = [arg.replace("{w}", str(folder)) for arg in args]
    result = _invoke(argv)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2 and argv:
        assert result.output.startswith("error: "), result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["render", "{ex}", "--data", "{w}/sales.parquet", "-p", "year=99999999999999999999", "-o", "{w}/o.pdf"],
         "error: parameter 'year' must be an integer from -9223372036854775808 to 9223372036854775807, got "
         "'99999999999999999999'"),
        (["render", "{w}/params.yaml", "--data", "{w}/sales.parquet", "-p", "who=\udc80", "-o", "{w}/o.pdf"],
         "error: parameter 'who' must be text, without a lone surrogate"),
        (["render", "{w}/params.yaml", "--data", "{w}/sales.parquet", "-p", "amount=nan", "-o", "{w}/o.pdf"],
         "error: parameter 'amount' must be a decimal with at most 29 digits before the point, got 'nan'"),
        (["render", "{w}/params.yaml", "--data", "{w}/sales.parquet", "-p", "amount=1e999", "-o", "{w}/o.pdf"],
         "error: parameter 'amount' must be a decimal with at most 29 digits before the point, got '1e999'"),
        (["render", "{ex}", "--data", "{w}/sales.parquet", "-o", "{w}/" + "a" * 300 + ".pdf"], "file name too long"),
        (["validate", "{w}/latin1.yaml", "--data", "{w}/sales.parquet"], "not UTF-8 text (byte 0xeb at position 8)"),
        (["validate", "{w}/deep.json", "--data", "{w}/sales.parquet"], "nested too deeply"),
        (["validate", "{w}/fifo.yaml", "--data", "{w}/sales.parquet"], "fifo.yaml: it is not a file"),
        (["render", "{w}/expression0.yaml", "--data", "{w}/sales.parquet", "-o", "{w}/o.pdf"],
         "cannot compute: bad regular expression"),
        (["render", "{w}/expression2.yaml", "--data", "{w}/sales.parquet", "-o", "{w}/o.pdf"],
         "error: the report's data cannot be computed: conversion from `str` to `i32` failed"),
        (["render", "{w}/names.yaml", "--data", "{w}/names_latin1.csv", "-o", "{w}/o.pdf"],
         "error: the report's data cannot be read: invalid utf-8 sequence"),
        (["render", "{w}/names.yaml", "--data", "{w}/type_change.csv", "-o", "{w}/o.pdf"],
         "error: the report's data cannot be read: could not parse `x` as dtype `i64`"),
        (["render", "{ex}", "--data", "{w}/sales.parquet", "-o", "{w}/o.pdf", "--bogus"],
         "error: No such option: --bogus (see polarreports render --help)"),
    ],
    ids=["int64 range", "lone surrogate", "decimal nan", "decimal range", "name too long", "not UTF-8",
         "nested JSON", "FIFO definition", "bad regex", "failed cast", "CSV not UTF-8", "CSV type change",
         "unknown option"],
)  # fmt: skip
def test_what_escaped_before_is_a_clear_error(folder: Path, args: list[str], message: str) -> None:
    argv = [arg.replace("{w}", str(folder)).replace("{ex}", str(EXAMPLE)) for arg in args]
    result = _invoke(argv)
    assert result.exit_code == 2, result.output
    assert message in result.output.splitlines()[0]


def test_mutated_lengths_that_fail_the_second_check_are_definition_errors(tmp_path: Path) -> None:
    """A length of -1 passed the first check of a definition and failed when image paths were
    made absolute (a pydantic ValidationError with its traceback)."""
    definition = yaml.safe_load(EXAMPLE.read_text())
    definition["bands"]["page_header"]["elements"][1]["width"] = -1
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(definition))
    result = runner.invoke(app, ["validate", str(path), "--data", str(tmp_path / "none.parquet")])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: {path}, line ")
    assert ": bands.page_header.elements[1].width: -1 is not a length" in result.output
    assert result.output.count("\n") == 1


def test_an_unexpected_failure_is_one_line_and_status_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A bug (here: a TypeError from inside the loader) is not bad input: status 1, one line,
    the traceback only with --debug."""

    def broken(path: object) -> object:
        msg = "something internal"
        raise TypeError(msg)

    monkeypatch.setattr("polarreports.cli.load", broken)
    args = ["validate", str(EXAMPLE), "--data", str(tmp_path / "x.parquet")]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.output == (
        "error: unexpected TypeError: something internal (a bug in polarreports; --debug shows the traceback)\n"
    )
    result = runner.invoke(app, ["--debug", *args])
    assert isinstance(result.exception, TypeError)
