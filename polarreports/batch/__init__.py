"""Batch exports (bursting): one document per key, rendered in parallel, resumable.

``batch(report, data, by="customer_id", out="statements/")`` renders one document per key
from one pass over the data, on a local pool of processes or a Dask cluster, and records each
in ``statements/manifest.csv`` (file, pages, bytes, SHA-256, duration, status, error), so that
a re-run renders only what is missing. See ``run.py``; file names in ``names.py``; the
manifest in ``manifest.py``; the worker side in ``work.py``; executors in ``executors.py``;
many keys rendered as one report and split per key, where that gives the same figures, in
``blocks.py``.
"""

from polarreports.batch.manifest import Entry
from polarreports.batch.run import BatchProgress, BatchResult, batch

__all__ = ["BatchProgress", "BatchResult", "Entry", "batch"]
