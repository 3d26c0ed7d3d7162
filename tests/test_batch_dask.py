"""Batch exports on a real Dask cluster (a LocalCluster of 2 worker processes, one for the
module): each worker reads its own keys' rows from a Hive-partitioned Parquet data set (the
filter pushed down to the files), and writes the same bytes a local pool writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import polarreports as pr
from polarreports.batch import executors
from polarreports.batch.work import key_filter, read_source
from tests.test_batch import STATEMENT, files_in, statements

distributed = pytest.importorskip("distributed", reason="pip install 'polarreports[batch]' (dask[distributed])")

CUSTOMERS = [f"Client {i:02d}" for i in range(8)] + ["a/b", ".."]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(  # its HTTP server on a free port: dashboard_address=None still takes
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=50
    )  # 8787, and a cluster of another test process at the same time fails ("Port 8787 is already in use")
    with cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The statements as a folder of Parquet files, one folder per region (``region=EU/...``)."""
    folder = tmp_path_factory.mktemp("dataset")
    statements(CUSTOMERS).write_parquet(folder, partition_by="region")
    return folder


def test_a_worker_reads_only_the_files_of_its_keys(dataset: Path) -> None:
    plan = read_source(str(dataset)).filter(key_filter(["region", "customer"], [("EU", "Client 01")])).explain()
    scanned = plan.split("\n")[0]
    assert "region=EU" in scanned
    assert "region=US" not in scanned
    assert 'col("customer").is_in' in plan.split("SELECTION:")[1]  # pushed into the scan: row groups skipped


@pytest.mark.typst
def test_the_cluster_writes_what_the_local_pool_writes(client: Any, dataset: Path, tmp_path: Path) -> None:
    events: list[pr.BatchProgress] = []
    name = "{region}/{customer}.pdf"
    on_cluster = pr.batch(
        STATEMENT, dataset, by=["region", "customer"], name=name, out=tmp_path / "dask", cluster=client,
        progress=events.append,
    )  # fmt: skip
    assert on_cluster.ok, str(on_cluster)
    assert on_cluster.workers == 2
    local = pr.batch(STATEMENT, statements(CUSTOMERS), by=["region", "customer"], name=name, out=tmp_path / "local")
    written = files_in(tmp_path / "dask")
    assert len(written) == len(CUSTOMERS)
    assert written == files_in(tmp_path / "local")
    assert [e.sha256 for e in on_cluster.entries] == [e.sha256 for e in local.entries]
    assert events[-1].done == len(CUSTOMERS)
    again = pr.batch(STATEMENT, dataset, by=["region", "customer"], name=name, out=tmp_path / "dask", cluster=client)
    assert again.kept == len(CUSTOMERS)


def test_a_cluster_needs_a_path_the_workers_can_read(tmp_path: Path) -> None:
    with pytest.raises(pr.RenderOptionError, match="path of a Parquet file or folder"):
        pr.batch(STATEMENT, statements(["a"]), by="customer", out=tmp_path, cluster="tcp://127.0.0.1:9")


def test_an_unreachable_scheduler_is_one_clear_error(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(pr.RenderOptionError, match=r"cannot reach the Dask scheduler at 'tcp://127\.0\.0\.1:9'"):
        pr.batch(STATEMENT, dataset, by="customer", out=tmp_path, cluster="tcp://127.0.0.1:9")


@pytest.mark.typst
def test_blocks_on_the_cluster_write_what_the_local_pool_writes(client: Any, tmp_path: Path) -> None:
    """A report rendered by blocks: each worker reads a block's keys with one filtered read,
    and writes the bytes the local pool writes (the blocks are the same)."""
    from tests.test_batch_blocks import REPORT, alone, text
    from tests.test_batch_blocks import statements as many

    data = many(70)  # two blocks: 64 keys, then 11
    data.write_parquet(tmp_path / "data.parquet")
    on_cluster = pr.batch(REPORT, tmp_path / "data.parquet", by="customer_no", out=tmp_path / "dask", cluster=client)
    local = pr.batch(REPORT, data, by="customer_no", out=tmp_path / "local", workers=2)
    assert on_cluster.ok, str(on_cluster)
    assert len(on_cluster.entries) == 75
    assert [e.sha256 for e in on_cluster.entries] == [e.sha256 for e in local.entries]
    assert files_in(tmp_path / "dask") == files_in(tmp_path / "local")
    written, single = (tmp_path / "dask" / "C-20068.pdf").read_bytes(), alone(data, "C-20068")
    assert text(written) == text(single)
    assert written != single  # split from its block (whose fonts it holds), not rendered alone
