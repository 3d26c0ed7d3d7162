"""What the live preview shows: one report definition over one data file, rendered again when
the parameters or the files change, one render at a time (a new one cancels the one under way).

The state is a plain dict (:meth:`PreviewSession.state`) that the page receives as JSON over
server-sent events whenever it changes (``version``); the pages are PNG images typeset when
first asked for (``Document.page``).

    >>> import tempfile, polarreports as pr
    >>> folder = Path(tempfile.mkdtemp())
    >>> data = pr.sample.write_sales_data(folder / "sales.parquet", 200)
    >>> session = PreviewSession(Path("examples/sales_by_region.yaml"), data)
    >>> session.render_now().wait()["status"], session.state()["summary"][1]
    ('done', '200 orders')
    >>> session.close()
    >>> error_state(PlanError(["bands.detail.elements[0] (field 'x'): unknown column 'x'"]))["where"]
    "bands.detail.elements[0] (field 'x')"
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from polarreports.api import Report, load, render
from polarreports.control import CancelToken, Progress
from polarreports.exceptions import Cancelled, PlanError, PolarReportsError
from polarreports.output.document import SCREEN_PPI, Document
from polarreports.output.pages import PageImage

__all__ = ["MAX_VALUE_CHARS", "PreviewSession", "error_state"]

MAX_VALUE_CHARS = 1_000
"""The longest parameter value the page may send (a value is a date, a number, a name)."""
PHASES = ("planning", "data", "layout", "typesetting", "writing")
_PLACE = re.compile(r"(?:groups|bands|variables|parameters|columns|filter|sort|styles|page)\b[^:]*")
"""Where in a definition an issue of a PlanError is (its text before the first ': ')."""


def error_state(error: BaseException) -> dict[str, Any]:
    """An error as the page shows it: its kind, its one line (or its issues), and the part of
    the definition it names (an element or a band), if any. Text only: the page never reads it
    as markup."""
    where = getattr(error, "element", None) or getattr(error, "band", None)
    known = isinstance(error, PolarReportsError)
    message = str(error) if known else f"unexpected {type(error).__name__}: {error} (a bug in polarreports)"
    if where is None and isinstance(error, PlanError) and len(error.issues) == 1:
        # "[FILE, line N: ]groups[1] ('customer').header.elements[0] (field 'x'): ..."
        parts = error.issues[0].split(": ")
        for i, place in enumerate(parts[:-1]):
            if _PLACE.match(place):
                located = ": ".join(parts[:i])
                where, message = place, ": ".join(parts[i + 1 :]) + (f" ({located})" if located else "")
                break
    return {
        "kind": type(error).__name__,
        "message": message,
        "where": where,
        "issues": list(error.issues) if isinstance(error, PlanError) else [],
    }


def _parameter_state(report: Report) -> list[dict[str, Any]]:
    return [
        {
            "name": p.name,
            "type": p.type,
            "default": None if p.default is None else str(p.default),
            "required": p.required,
            "allowed": None if p.allowed is None else [str(v) for v in p.allowed],
            "description": p.description,
        }
        for p in report.parameters
    ]


class PreviewSession:
    """One definition file and one data file; :meth:`render_now` renders them (in a thread),
    :meth:`state` says what the page shows, :meth:`page` gives its images."""

    def __init__(
        self,
        definition: Path,
        data: Path,
        params: dict[str, Any] | None = None,
        sources: Mapping[str, Any] | None = None,
    ) -> None:
        self.definition = definition
        self.data = data
        self.params: dict[str, Any] = dict(params or {})
        """The parameter values set (from the command line, then the page's form)."""
        self.sources = dict(sources or {})
        """The subreports' sources by name (``--source NAME=PATH``), read again at each render."""
        self._lock = threading.Lock()
        self._pages_lock = threading.Lock()
        self._version = 0
        self._generation = 0
        self._token: CancelToken | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self.document: Document | None = None
        self._shown: dict[str, Any] = {"render": None, "pages": None, "summary": [], "rows": None, "title": ""}
        self._status: dict[str, Any] = {"status": "idle", "progress": None, "error": None, "seconds": None}
        self._parameters: list[dict[str, Any]] = []

    # -- state -------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What the page shows, as JSON-ready data (``version`` grows with every change)."""
        with self._lock:
            return {
                "version": self._version,
                "definition": self.definition.name,
                "data": self.data.name,
                "parameters": self._parameters,
                "values": {name: None if v is None else str(v) for name, v in self.params.items()},
                **self._shown,
                **self._status,
            }

    @property
    def version(self) -> int:
        return self._version

    def _changed_now(self, **status: Any) -> None:
        """Update the status (the lock held); the version tells the pages it changed."""
        self._status.update(status)
        self._version += 1

    def wait(self, timeout: float = 60.0) -> dict[str, Any]:
        """Wait for the render under way to end (for scripts and tests); the state then."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.state()

    # -- rendering ---------------------------------------------------------------------------

    def set_params(self, values: dict[str, Any]) -> None:
        """Set parameter values (None or empty: not given) and render again."""
        with self._lock:
            for name, value in values.items():
                if value is None or value == "":
                    self.params.pop(name, None)
                else:
                    self.params[name] = value
        self.render_now()

    def render_now(self) -> PreviewSession:
        """Render again (the files as they are now), cancelling the render under way."""
        with self._lock:
            if self._closed:
                return self
            if self._token is not None:
                self._token.cancel()
            self._generation += 1
            token = self._token = CancelToken()
            self._changed_now(status="rendering", progress=self._progress(Progress("planning")), error=None)
            thread = threading.Thread(
                target=self._render, args=(self._generation, token), daemon=True, name="polarreports-preview"
            )
            self._thread = thread
        thread.start()
        return self

    def cancel(self) -> None:
        """Stop the render under way; the pages shown stay."""
        with self._lock:
            if self._token is not None:
                self._token.cancel()

    def close(self) -> None:
        """Stop: cancel the render under way (the event streams end)."""
        with self._lock:
            self._closed = True
            if self._token is not None:
                self._token.cancel()
        thread = self._thread
        if thread is not None:
            thread.join(10)

    @property
    def closed(self) -> bool:
        return self._closed

    @staticmethod
    def _progress(event: Progress) -> dict[str, Any]:
        step = PHASES.index(event.phase) if event.phase in PHASES else 0
        within = min(event.done / event.total, 1.0) if event.total else 0.0
        return {
            "phase": event.phase,
            "done": event.done,
            "total": event.total,
            "unit": event.unit,
            "fraction": round((step + within) / len(PHASES), 4),
        }

    def _render(self, generation: int, token: CancelToken) -> None:
        start = time.perf_counter()

        def progress(event: Progress) -> None:
            with self._lock:
                if generation == self._generation:
                    self._changed_now(progress=self._progress(event))

        def ended(**status: Any) -> bool:
            with self._lock:
                if generation != self._generation:
                    return False
                self._token = None  # the document shown keeps typesetting pages with it
                self._changed_now(seconds=round(time.perf_counter() - start, 3), **status)
                return True

        try:
            report = load(self.definition)
            with self._lock:
                self._parameters = _parameter_state(report)
                declared = {p.name for p in report.parameters}
                values = {name: value for name, value in self.params.items() if name in declared}
            document = render(
                report, self.data, params=values, progress=progress, cancel=token, sources=self.sources or None
            )
            progress(Progress("typesetting", 0, 1, "pages"))
            with self._pages_lock:
                first = document.preview(2, ppi=SCREEN_PPI)  # typeset here, cancellable
        except Cancelled:
            ended(status="cancelled", progress=None)
            return
        except Exception as error:  # a polarreports error, or a bug: shown in place, one line
            ended(status="error", progress=None, error=error_state(error))
            return
        with self._lock:
            if generation != self._generation:
                return
            self.document = document
            self._shown = {
                "render": generation,
                "pages": first.total,
                "summary": document.summary_values,
                "rows": document.stats.rows,
                "title": report.title or report.name,
            }
        ended(status="done", progress=None, error=None)

    def page(self, render: int, number: int) -> PageImage | None:
        """Page ``number`` of render ``render`` as PNG; None if that render is no longer shown
        or has no such page."""
        with self._lock:
            document = self.document if self._shown["render"] == render else None
        if document is None or number < 1:
            return None
        with self._pages_lock:
            try:
                page = document.page(number, ppi=SCREEN_PPI)
            except (IndexError, PolarReportsError):
                return None
            total = document.preview(1, ppi=SCREEN_PPI).total  # kept: no typesetting
        with self._lock:
            if self._shown["render"] == render and total is not None and self._shown["pages"] != total:
                self._shown["pages"] = total
                self._changed_now()
        return page
