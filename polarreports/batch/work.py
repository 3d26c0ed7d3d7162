"""What a batch worker does: render the documents of a few keys and write them, each on its own.

The same functions run in a local pool's processes and on Dask workers. A worker gets a
:class:`Task`: the report, its parameters, the output folder and, per key, the key's values
and file name; and either the key's rows (:func:`render_rows`, the local pool: the driver
partitioned the data in one pass) or nothing but the data set's path (:func:`render_slice`,
a cluster: the worker reads only its keys' rows, the filter pushed down to the Parquet files).
Every key ends as an :class:`~polarreports.batch.manifest.Entry`, ok, empty or failed: one
key's failure never stops the others. Each worker process keeps its warm Typst workers (the
``WorkerCompiler`` every render shares) from one document to the next.
"""

from __future__ import annotations

import array
import hashlib
import json
import math
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from polarreports.api import render
from polarreports.batch.blocks import group_order, split_pdf
from polarreports.batch.manifest import Entry, sha256_of
from polarreports.control import logger
from polarreports.definition.elements import FINGERPRINT
from polarreports.definition.report import Report
from polarreports.exceptions import OutputError, PolarReportsError
from polarreports.output.document import write_atomically

__all__ = [
    "Item",
    "Task",
    "fingerprint",
    "key_json",
    "lookup_key",
    "partitions",
    "read_source",
    "render_rows",
    "render_slice",
    "run_digest",
]


def key_json(columns: list[str], values: tuple[Any, ...]) -> str:
    """A key as the manifest records it: a JSON object of its values (dates as ISO text).

    >>> key_json(["region", "n"], ("EU", 7))
    '{"region": "EU", "n": 7}'
    """
    return json.dumps(dict(zip(columns, values, strict=True)), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class Item:
    """One key: its values (by column) and its document's path in the output folder."""

    key: tuple[Any, ...]
    file: str
    previous: Entry | None = None
    """What an earlier run wrote for this key, its file still as written: kept if the key's
    input is unchanged."""


@dataclass(frozen=True)
class Task:
    """A few keys for one worker, and what it needs to render them."""

    report: Report
    by: list[str]
    out: str
    items: list[Item]
    params: dict[str, Any] = field(default_factory=dict)
    render_empty: bool = False
    """Render a key without rows (with the report's no_data band) instead of skipping it."""
    digest: str = ""
    """What every key's input shares: the definition, the parameters, the polarreports version
    (see :func:`run_digest`)."""
    block: Report | None = None
    """The definition rendering the task's keys together (``blocks.block_report``), or None:
    one key at a time."""
    sources: dict[str, Any] = field(default_factory=dict)
    """The subreports' sources by name (file paths, or frames), as ``render(sources=...)``."""


def run_digest(report: Report, params: dict[str, Any], sources: dict[str, Any] | None = None) -> str:
    """The fingerprint of what a batch's documents share: the definition (as JSON), the
    parameters, the subreports' sources (a file's bytes, a frame's rows) and the polarreports
    version.

    >>> report = Report(name="r")
    >>> run_digest(report, {}) == run_digest(report, {}, {})
    True
    >>> one, two = pl.DataFrame({"a": [1]}), pl.DataFrame({"a": [2]})
    >>> run_digest(report, {}, {"lines": one}) == run_digest(report, {}, {"lines": two})
    False
    """
    from polarreports import __version__

    definition = report.model_dump_json(context=FINGERPRINT)  # Polars expressions included
    shared = [definition, json.dumps(params, sort_keys=True, default=str), __version__]
    shared += [f"{name}={_source_digest(source)}" for name, source in sorted((sources or {}).items())]
    return hashlib.sha256("\0".join(shared).encode()).hexdigest()


def _source_digest(source: Any) -> str:
    """A subreport source's content: a file's SHA-256, a frame's schema and row hashes."""
    if isinstance(source, str | Path):
        with Path(source).open("rb") as file:  # read in pieces: a source may be large
            return hashlib.file_digest(file, "sha256").hexdigest()
    frame = source.collect() if isinstance(source, pl.LazyFrame) else source
    return fingerprint("", frame)


def fingerprint(digest: str, rows: pl.DataFrame) -> str:
    """A key's input: ``digest`` and its rows (their types and values, in order).

    >>> frame = pl.DataFrame({"a": [1, 2]})
    >>> fingerprint("d", frame) == fingerprint("d", frame.clone())
    True
    >>> fingerprint("d", frame) == fingerprint("d", frame[::-1])
    False
    """
    content = hashlib.sha256(digest.encode())
    content.update(str(rows.schema).encode())
    content.update(array.array("Q", rows.hash_rows(seed=0).to_list()).tobytes())
    return content.hexdigest()[:32]


def _inside(out: Path, target: Path) -> None:
    """``OutputError`` unless ``target``'s folder is inside ``out`` once links are followed
    (a sub-folder replaced by a link to elsewhere is refused)."""
    root = out.resolve()
    folder = target.parent.resolve()
    if folder != root and root not in folder.parents:
        msg = f"refusing to write {str(target)!r}: its folder leads outside the output folder {str(out)!r}"
        raise OutputError(msg)


def _input(task: Task, rows: pl.DataFrame) -> str:
    """The key's input fingerprint, or "" for rows Polars cannot hash (never kept)."""
    try:
        return fingerprint(task.digest, rows)
    except (pl.exceptions.PolarsError, TypeError, ValueError):
        return ""


def _kept(item: Item, made_of: str) -> bool:
    """Whether the earlier run's file for ``item`` was made from the same input."""
    return item.previous is not None and bool(made_of) and item.previous.input == made_of


def _one(task: Task, item: Item, rows: pl.DataFrame) -> Entry:
    key = key_json(task.by, item.key)
    start = time.perf_counter()
    made_of = _input(task, rows)
    if _kept(item, made_of):
        assert item.previous is not None
        return item.previous  # the same input made that file: kept
    if rows.height == 0 and not task.render_empty:
        return Entry(key, item.file, "empty", input=made_of, duration_s=0.0, error="no rows for this key")
    try:
        out = Path(task.out)
        target = out / item.file
        _inside(out, target)  # before any folder is made: a link to elsewhere is not followed
        document = render(task.report, rows, params=task.params, sources=task.sources)
        if target.suffix.lower() == ".pdf":
            content = document.pdf
            write_atomically(target, content)
            pages: int | None = document.page_count
        else:
            document.save(target)
            content = target.read_bytes()
            pages = None
        return _ok(key, item, content, pages, made_of, time.perf_counter() - start)
    except PolarReportsError as error:
        message = str(error)
    except OSError as error:
        message = f"cannot write {item.file!r}: {error.strerror or error}"
    except Exception as error:  # a bug: recorded with where it happened, the other keys go on
        where = traceback.extract_tb(error.__traceback__)[-1]
        message = f"unexpected {type(error).__name__}: {error} ({Path(where.filename).name}:{where.lineno})"
    return Entry(
        key, item.file, "failed", input=made_of, duration_s=round(time.perf_counter() - start, 4), error=message
    )


def partitions(by: list[str], frame: pl.DataFrame) -> dict[tuple[Any, ...], pl.DataFrame]:
    """``frame``'s rows per key, looked up with :func:`lookup_key` (a NaN key included: NaN
    equals no other float, not even another NaN, so it stands for itself here).

    >>> parts = partitions(["x"], pl.DataFrame({"x": [1.0, float("nan")], "y": [1, 2]}))
    >>> parts[lookup_key((float("nan"),))]["y"].to_list()
    [2]
    """
    if not frame.height:
        return {}
    return {lookup_key(key): rows for key, rows in frame.partition_by(by, as_dict=True, maintain_order=True).items()}


_NAN = "\0NaN"


def lookup_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """``key`` with each NaN replaced by one marker, so that equal keys are equal in a dict."""
    return tuple(_NAN if isinstance(value, float) and math.isnan(value) else value for value in key)


def _written(task: Task, item: Item, content: bytes, pages: int, made_of: str, seconds: float) -> Entry:
    """Write ``item``'s document (split from its block) and say so."""
    key = key_json(task.by, item.key)
    try:
        out = Path(task.out)
        target = out / item.file
        _inside(out, target)
        write_atomically(target, content)
    except PolarReportsError as error:
        return Entry(key, item.file, "failed", input=made_of, duration_s=round(seconds, 4), error=str(error))
    except OSError as error:
        message = f"cannot write {item.file!r}: {error.strerror or error}"
        return Entry(key, item.file, "failed", input=made_of, duration_s=round(seconds, 4), error=message)
    return _ok(key, item, content, pages, made_of, seconds)


def _ok(key: str, item: Item, content: bytes, pages: int | None, made_of: str, seconds: float) -> Entry:
    """The manifest entry of ``item``'s document, written: its pages, size and SHA-256."""
    return Entry(
        key,
        item.file,
        "ok",
        pages=pages,
        bytes=len(content),
        sha256=sha256_of(content),
        input=made_of,
        duration_s=round(seconds, 4),
    )


def _render_block(task: Task, parts: dict[tuple[Any, ...], pl.DataFrame]) -> dict[tuple[Any, ...], Entry]:
    """The entries of the task's keys done as one block (see ``blocks``): every key with rows
    is rendered in one report (those an earlier run wrote too, so that the block, and the
    fonts its keys' PDFs share, is always the same), the PDF is split per key, and the keys
    not kept are written. Nothing if no key needs it, or if the block fails: then each key is
    rendered alone, and only a key that fails alone is recorded as failed."""
    assert task.block is not None
    shown = [item for item in task.items if lookup_key(item.key) in parts and item.file.lower().endswith(".pdf")]
    inputs = {item.key: _input(task, parts[lookup_key(item.key)]) for item in shown}
    todo = [item for item in shown if not _kept(item, inputs[item.key])]
    if not todo:
        return {}
    start = time.perf_counter()
    try:
        rows = pl.concat([parts[lookup_key(item.key)] for item in shown])
        order = group_order(rows, task.by, task.block)
        document = render(task.block, rows, params=task.params, sources=task.sources)
        split = dict(zip(order, split_pdf(document.pdf, len(order)), strict=True))
    except Exception as error:  # whatever it was, each key alone says it, or succeeds
        logger.info(
            "a block of %s keys is rendered one key at a time: %s",
            len(shown),
            (str(error).splitlines() or [type(error).__name__])[0],
        )
        return {}
    seconds = (time.perf_counter() - start) / len(todo)
    return {item.key: _written(task, item, *split[item.key], inputs[item.key], seconds) for item in todo}


def render_rows(task: Task, frame: pl.DataFrame) -> list[Entry]:
    """Render ``task``'s keys from ``frame``, the rows of those keys (a local pool's task)."""
    parts = partitions(task.by, frame)
    empty = frame.clear()
    done = _render_block(task, parts) if task.block is not None else {}
    return [done.get(item.key) or _one(task, item, parts.get(lookup_key(item.key), empty)) for item in task.items]


def read_source(path: str) -> pl.LazyFrame:
    """A lazy scan of a Parquet file, or of a folder of them (Hive partitions such as
    ``region=EU/part-0.parquet`` become columns, and filters on them skip whole files)."""
    if Path(path).is_dir():
        return pl.scan_parquet(Path(path) / "**" / "*.parquet", hive_partitioning=True)
    return pl.scan_parquet(path)


def key_filter(by: list[str], keys: list[tuple[Any, ...]]) -> pl.Expr:
    """A filter keeping (at least) the rows of ``keys`` that Polars pushes down to the Parquet
    reader: per column, the values in question, so whole files (Hive partitions) and row
    groups are skipped by their statistics. :func:`render_rows` then takes each key's rows
    exactly.

    >>> key_filter(["region"], [("EU",), (None,)]).meta.root_names()
    ['region', 'region']
    """
    conditions = []
    for i, column in enumerate(by):
        values = {key[i] for key in keys}
        condition = pl.col(column).is_in([value for value in values if value is not None])
        if None in values:
            condition = condition | pl.col(column).is_null()
        conditions.append(condition)
    return pl.all_horizontal(conditions)


def render_slice(task: Task, source: str) -> list[Entry]:
    """Render ``task``'s keys, reading their rows (and hardly any others) from the Parquet
    data set at ``source`` (a cluster's task: the driver sends keys, never rows)."""
    try:
        frame = read_source(source).filter(key_filter(task.by, [item.key for item in task.items])).collect()
    except (pl.exceptions.PolarsError, OSError) as error:
        message = f"cannot read {source}: {str(error).splitlines()[0]}"
        return [
            Entry(key_json(task.by, item.key), item.file, "failed", duration_s=0.0, error=message)
            for item in task.items
        ]
    return render_rows(task, frame)
