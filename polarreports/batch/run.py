"""Batch exports (bursting): one document per key, from one pass over the data.

>>> import tempfile, polarreports as pr
>>> result = pr.batch(
...     pr.load("examples/sales_by_region.yaml"), pr.sample.sales_data(200).filter(pl.col("region") != "APAC"),
...     by="region", out=tempfile.mkdtemp(), workers=1,
... )  # doctest: +SKIP
>>> print(result)  # doctest: +SKIP
3 documents: 3 written, 0 kept from an earlier run, 0 empty, 0 failed ...
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from polarreports.api import report_parameters, validate
from polarreports.batch.blocks import KEYS_PER_BLOCK, block_report
from polarreports.batch.executors import DaskCluster, Executor, Job, LocalPool
from polarreports.batch.manifest import MANIFEST_NAME, Entry, Journal, file_matches, read_manifest, write_manifest
from polarreports.batch.names import FileNames, check_collisions
from polarreports.batch.work import (
    Item,
    Task,
    key_json,
    lookup_key,
    partitions,
    read_source,
    render_rows,
    render_slice,
    run_digest,
)
from polarreports.compute.source import to_lazyframe
from polarreports.control import logger
from polarreports.definition.report import Report
from polarreports.exceptions import DataError, OutputError, RenderOptionError
from polarreports.output.document import check_writable
from polarreports.output.exports import EXPORTERS
from polarreports.output.progress import counted
from polarreports.suggest import closest

__all__ = ["BatchProgress", "BatchResult", "batch"]

KEYS_PER_TASK = 24
"""The most keys a task carries: enough to make a task's overhead small, few enough that the
work spreads evenly and a killed run loses little."""


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch stands: ``done`` of ``total`` keys (written, kept, empty or failed)."""

    done: int
    total: int
    failed: int
    empty: int
    kept: int
    """Documents an earlier run wrote, left as they are."""
    elapsed_s: float

    @property
    def rate(self) -> float:
        """Documents rendered per second so far (kept ones not counted)."""
        return (self.done - self.kept) / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class BatchResult:
    """What a batch did: every key's manifest entry, in key order."""

    out: Path
    entries: list[Entry]
    kept: int
    """How many documents an earlier run had written (and were left as they were)."""
    elapsed_s: float
    workers: int
    manifest: Path = field(init=False)

    def __post_init__(self) -> None:
        self.manifest = self.out / MANIFEST_NAME

    @property
    def failures(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.status == "failed"]

    @property
    def empty(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.status == "empty"]

    @property
    def ok(self) -> bool:
        """No key failed."""
        return not self.failures

    def __str__(self) -> str:
        written = sum(entry.status == "ok" for entry in self.entries) - self.kept
        rate = written / self.elapsed_s if self.elapsed_s > 0 else 0.0
        lines = [
            f"{counted(len(self.entries), 'documents')}: {written} written, {self.kept} kept from an earlier run, "
            f"{len(self.empty)} empty, {len(self.failures)} failed, in {self.elapsed_s:.1f} s "
            f"({rate:.1f}/s, {counted(self.workers, 'workers')}); manifest {self.manifest}"
        ]
        lines += [
            f"  failed {entry.key}: {entry.error.splitlines()[0] if entry.error else ''}"
            for entry in self.failures[:20]
        ]
        if len(self.failures) > 20:
            lines.append(f"  ... and {len(self.failures) - 20} more (see the manifest)")
        return "\n".join(lines)


def _columns(by: str | Sequence[str], schema: pl.Schema) -> list[str]:
    columns = [by] if isinstance(by, str) else list(by)
    if not columns:
        msg = "batch: give the key column(s) in by=, such as by='customer_id'"
        raise RenderOptionError(msg)
    for column in columns:
        if column not in schema:
            hint = closest(column, schema, n=1) or f"; the columns are {', '.join(schema)}"
            msg = f"batch: the key column {column!r} is not in the data{hint}"
            raise DataError(msg)
    return columns


def _source(data: Any, *, cluster: bool) -> pl.LazyFrame:
    """The data, lazily: a folder of Parquet files (or, for a cluster, any Parquet path) is
    scanned as the workers will scan it; anything else as a render reads it."""
    if not (cluster or (isinstance(data, str | Path) and Path(data).is_dir())):
        return to_lazyframe(data)
    try:
        source = read_source(str(data))
        source.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as error:
        msg = f"cannot read {data} as Parquet: {str(error).splitlines()[0]}"
        raise DataError(msg) from None
    return source


def _check_template(template: str) -> None:
    suffix = Path(template).suffix.lower()
    if suffix != ".pdf" and suffix not in EXPORTERS:
        known = ", ".join([".pdf", *sorted(EXPORTERS)])
        msg = (
            f"file name template {template!r}: a batch writes one file per key, as {known} "
            "(PNG and SVG give one file per page: render those one report at a time)"
        )
        raise OutputError(msg)


def _keys(frame: pl.DataFrame, by: list[str], extra: Any) -> list[tuple[Any, ...]]:
    """The keys in the data, sorted (so neighbouring keys share files and row groups), then
    those of ``extra`` (a DataFrame of key columns, or a list of values) that have no rows."""
    found = frame.select(by).unique().sort(by, nulls_last=True).rows()
    if extra is None:
        return found
    if isinstance(extra, pl.DataFrame):
        missing = [column for column in by if column not in extra.columns]
        if missing:
            msg = f"batch: keys= has no column {missing[0]!r}; give a DataFrame of the key columns {by}"
            raise RenderOptionError(msg)
        wanted = extra.select(by).rows()
    else:
        wanted = [key if isinstance(key, tuple) else (key,) for key in extra]
        if any(len(key) != len(by) for key in wanted):
            msg = f"batch: each of keys= must give a value per key column {by}; give tuples, or a DataFrame"
            raise RenderOptionError(msg)
    known = set(found)
    return found + list(dict.fromkeys(key for key in wanted if key not in known))


_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")
"""The name of a file ``write_atomically`` was writing (``.NAME.RANDOM.tmp``)."""


def _sweep(folder: Path, items: list[Item]) -> None:
    """Remove what a killed run left half written in the documents' folders (the temporary
    files of ``write_atomically``: never a document, which is only ever renamed into place)."""
    for sub in {folder, *((folder / item.file).parent for item in items)}:
        try:
            leftovers = [path for path in sub.iterdir() if _TEMPORARY.match(path.name) and path.is_file()]
        except OSError:  # not made yet
            continue
        for path in leftovers:
            path.unlink(missing_ok=True)


def _resume(folder: Path, items: list[Item], by: list[str]) -> list[Item]:
    """``items``, each with what an earlier run recorded for it if its file is still as that
    run wrote it (same name, size and SHA-256): the worker keeps it if the key's input (the
    definition, the parameters and its rows) is unchanged, and renders it again otherwise."""
    earlier = read_manifest(folder / MANIFEST_NAME)
    resumed = []
    for item in items:
        previous = earlier.get(key_json(by, item.key))
        if previous is not None and previous.file == item.file and file_matches(folder, previous):
            item = replace(item, previous=previous)
        resumed.append(item)
    return resumed


def _chunks(items: list[Item], workers: int, *, blocks: bool) -> Iterator[list[Item]]:
    """The tasks' keys: blocks of ``KEYS_PER_BLOCK`` keys in key order when the report renders
    by blocks (the same blocks in every run over the same keys, whatever the workers: a key's
    PDF depends on its block), otherwise a few keys per worker."""
    size = KEYS_PER_BLOCK if blocks else max(1, min(KEYS_PER_TASK, len(items) // (4 * workers) or 1))
    for start in range(0, len(items), size):
        yield items[start : start + size]


def batch(
    report: Report,
    data: Any,
    /,
    *,
    by: str | Sequence[str],
    out: str | Path,
    name: str | None = None,
    keys: pl.DataFrame | Sequence[Any] | None = None,
    workers: int | None = None,
    cluster: Any = None,
    params: dict[str, Any] | None = None,
    progress: Callable[[BatchProgress], None] | None = None,
    render_empty: bool = False,
    sources: Mapping[str, Any] | None = None,
    **parameters: Any,
) -> BatchResult:
    """Render one document per value of ``by`` (a column, or several) into the folder ``out``,
    named by the template ``name`` (default ``"{by}.pdf"``; ``"{region}/{customer_id}.pdf"``
    makes a folder per region), and record each in ``out/manifest.csv``.

    The data is read and partitioned by the key in one pass. ``workers`` processes render
    (default: one per core); with ``cluster`` (a Dask scheduler's address or a
    ``distributed.Client``) the cluster's workers render instead, each reading its own keys'
    rows from ``data``, which must then be a Parquet file or a folder of them (Hive
    partitions welcome) on storage the workers share. A key that fails is recorded with its
    error, and the others go on; a re-run keeps every document whose file matches the
    manifest and renders the rest. ``keys`` lists keys to expect (a DataFrame of the key
    columns, or values): those without rows are listed as empty (or rendered, with the
    report's no_data band, when ``render_empty``). ``progress`` is called after each document.
    ``sources``: the subreports' sources by name (paths, or frames), as in ``render``; they are
    part of every document's fingerprint, so changing one renders again.
    """
    start = time.perf_counter()
    values = report_parameters(report, params, parameters)
    if cluster is not None and not isinstance(data, str | Path):
        msg = "batch on a cluster: give data as the path of a Parquet file or folder the workers can read"
        raise RenderOptionError(msg)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        msg = f"batch option workers={workers!r} is not valid: give a whole number >= 1, or None for one per core"
        raise RenderOptionError(msg)
    source = _source(data, cluster=cluster is not None)
    named = _sources(sources)
    validate(report, source, params=values, sources=named)  # the definition fits the data: checked once, here
    by_columns = _columns(by, source.collect_schema())
    template = name or "/".join("{" + column + "}" for column in by_columns) + ".pdf"
    _check_template(template)
    names = FileNames(template, by_columns)
    folder = Path(out)
    check_writable(folder / MANIFEST_NAME)
    frame, key_list = _read_keys(source, by_columns, keys, on_cluster=cluster is not None)
    items = [Item(key, names.path(dict(zip(by_columns, key, strict=True)))) for key in key_list]
    check_collisions([MANIFEST_NAME, *(item.file for item in items)])

    todo = _resume(folder, items, by_columns)
    _sweep(folder, todo)
    entries: dict[str, Entry] = {}

    executor: Executor = DaskCluster(cluster) if cluster is not None else LocalPool(workers)
    jobs = _jobs(report, by_columns, folder, todo, values, render_empty, executor.workers, frame, data, cluster, named)
    failed = empty = kept = 0
    with Journal(folder / MANIFEST_NAME) as journal:
        for task, outcome in executor.run(jobs):
            if isinstance(outcome, BaseException):
                reason = f"its task failed: {type(outcome).__name__}: {outcome}"
                outcome = [Entry(key_json(by_columns, i.key), i.file, "failed", error=reason) for i in task.items]
            for item, entry in zip(task.items, outcome, strict=True):
                if entry == item.previous:
                    kept += 1
                else:
                    journal.write(entry)
                entries[entry.key] = entry
                failed += entry.status == "failed"
                empty += entry.status == "empty"
            if progress is not None:
                progress(BatchProgress(len(entries), len(items), failed, empty, kept, time.perf_counter() - start))
    ordered = [entries[key_json(by_columns, item.key)] for item in items]
    write_manifest(folder / MANIFEST_NAME, ordered)
    return BatchResult(folder, ordered, kept, time.perf_counter() - start, executor.workers)


def _jobs(
    report: Report,
    by: list[str],
    folder: Path,
    todo: list[Item],
    values: dict[str, Any],
    render_empty: bool,
    workers: int,
    frame: pl.DataFrame,
    data: Any,
    cluster: Any,
    sources: dict[str, Any],
) -> Iterator[Job]:
    """The tasks, made as the executor takes them: a local one carries its keys' rows (taken
    from the one partitioning of the data), a cluster's one only its keys."""
    parts = partitions(by, frame) if cluster is None else {}
    digest = run_digest(report, values, sources)
    empty = frame.clear()
    block, why_not = block_report(report, by)
    if block is None:
        logger.info("%s: rendering one key at a time, not in blocks: %s", report.name, why_not)
    for chunk in _chunks(todo, workers, blocks=block is not None):
        task = Task(report, by, str(folder), chunk, values, render_empty, digest, block, sources)
        if cluster is not None:
            yield render_slice, task, (str(data),)
        else:
            rows = [parts[lookup_key(item.key)] for item in chunk if lookup_key(item.key) in parts]
            yield render_rows, task, (pl.concat(rows) if rows else empty,)


def _sources(sources: Mapping[str, Any] | None) -> dict[str, Any]:
    """The subreports' sources as the workers get them: a path stays a path (each worker reads
    the file), a LazyFrame is read once here, a DataFrame is sent as it is."""
    named: dict[str, Any] = {}
    for name, value in (sources or {}).items():
        if isinstance(value, str | Path):
            named[name] = str(Path(value).resolve())
        elif isinstance(value, pl.LazyFrame):
            try:
                named[name] = value.collect()
            except pl.exceptions.PolarsError as error:
                msg = f"sources[{name!r}]: cannot read it: {str(error).splitlines()[0]}"
                raise DataError(msg) from None
        else:
            named[name] = value
    return named


def _read_keys(
    source: pl.LazyFrame, by: list[str], keys: pl.DataFrame | Sequence[Any] | None, *, on_cluster: bool
) -> tuple[pl.DataFrame, list[tuple[Any, ...]]]:
    """The rows (read in one pass; none on a cluster, whose workers read their own) and the keys."""
    try:
        if not on_cluster:
            frame = source.collect()  # the one pass over the data
            return frame, _keys(frame, by, keys)
        return pl.DataFrame(), _keys(source.select(by).unique().collect(), by, keys)  # the key columns only
    except pl.exceptions.PolarsError as error:
        msg = f"cannot read the data: {str(error).splitlines()[0]}"
        raise DataError(msg) from None
