"""Warm worker processes, shared by the typesetting and the chart drawing: the process start, the
watch on this process, the memory cap and the pipe (``process.py``, this side; ``_child.py``, the
worker's)."""

from polarreports.workers.process import CHILD, Gone, WarmWorker, WorkerPool

__all__ = ["CHILD", "Gone", "WarmWorker", "WorkerPool"]
