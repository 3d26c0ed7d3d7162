"""Notebook widgets (ipywidgets): a document's pager, and a report's interactive preview.

``doc`` at the end of a cell shows a :class:`DocumentView` (the first two pages, the page count,
and previous/next buttons that typeset further pages on demand); ``report.preview(data)`` shows
a :class:`ReportPreview`: a control per parameter of the report (a dropdown for allowed values,
number, date and text inputs, a checkbox), re-rendering on each change in a thread of its own,
with a progress bar, a cancel button, the summary's values as text, and the pager.

ipywidgets is optional (``pip install 'polarreports[notebook]'``); without it, a document
shows as plain HTML and ``report.preview`` says what to install. The widgets work in JupyterLab,
Jupyter Notebook 7 and VS Code, and can be driven from code (as the tests do):

    >>> import polarreports as pr
    >>> report = pr.load("examples/sales_by_region.yaml")
    >>> preview = report.preview(pr.sample.sales_data(300), min_quantity=2)  # doctest: +SKIP
    >>> preview.controls["year"].value = "2025"  # doctest: +SKIP
    >>> preview.wait().summary_values  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import html
import importlib.util
import sys
import threading
from collections.abc import Callable
from typing import Any

from polarreports.control import CancelToken, Progress
from polarreports.definition.report import Parameter
from polarreports.exceptions import Cancelled, PolarReportsError
from polarreports.output.document import SCREEN_PPI, SHOWN_PAGES, Document
from polarreports.output.progress import in_notebook

__all__ = [
    "DocumentView",
    "ReportPreview",
    "document_view",
    "error_html",
    "in_kernel",
    "need_widgets",
    "widgets_available",
]

INSTALL_HINT = "pip install 'polarreports[notebook]' (ipywidgets)"
PHASES = ("planning", "data", "layout", "typesetting", "writing")
"""The phases of a render, in order: the progress bar moves through them."""


def in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (JupyterLab, Notebook, VS Code; Colab's shell is a
    subclass of the kernel's), where widgets can show."""
    if in_notebook():
        return True
    shell: Any = sys.modules.get("IPython")
    ip = shell.get_ipython() if shell is not None else None
    return ip is not None and any(kind.__name__ == "ZMQInteractiveShell" for kind in type(ip).__mro__)


def widgets_available() -> bool:
    """Whether a document shows as a widget: in a Jupyter kernel, with ipywidgets installed."""
    return in_kernel() and importlib.util.find_spec("ipywidgets") is not None


def need_widgets() -> Any:
    """The ``ipywidgets`` module, or an ``ImportError`` that says what to install."""
    try:
        import ipywidgets
    except ImportError:
        msg = f"the notebook preview needs ipywidgets: {INSTALL_HINT}"
        raise ImportError(msg) from None
    return ipywidgets


def error_html(error: BaseException) -> str:
    """An error as HTML: its one line (escaped: data never becomes markup) and, when it names
    one, the element or band of the definition it comes from."""
    where = getattr(error, "element", None) or getattr(error, "band", None)
    place = f"<br><small>in <code>{html.escape(where)}</code></small>" if where else ""
    kind = type(error).__name__
    return (
        '<div style="color:#8a1c1c;background:#fdecec;border:1px solid #e3a5a5;padding:6px 10px">'
        f"<b>{html.escape(kind)}</b>: <span style='white-space:pre-wrap'>{html.escape(str(error))}</span>{place}</div>"
    )


class DocumentView:
    """A document's pages, ``SHOWN_PAGES`` at a time, with the page count and a pager; a page
    is typeset when first shown (``Document.page``). ``widget`` is what a notebook displays."""

    def __init__(self, document: Document | None = None, *, ppi: float = SCREEN_PPI) -> None:
        widgets = need_widgets()
        self.ppi = ppi
        self.document: Document | None = None
        self.first = 1
        """The number of the first page shown."""
        self.heading = widgets.HTML()
        self.images = [widgets.Image(format="png", layout=widgets.Layout(width="45%")) for _ in range(SHOWN_PAGES)]
        for image in self.images:
            image.layout.border = "1px solid #ccc"
            image.layout.margin = "4px"
        self.previous = widgets.Button(description="◀ Previous", disabled=True, tooltip="the pages before")
        self.next = widgets.Button(description="Next ▶", disabled=True, tooltip="the next pages (typeset now)")
        self.previous.on_click(lambda _: self.turn(-SHOWN_PAGES))
        self.next.on_click(lambda _: self.turn(SHOWN_PAGES))
        self.error = widgets.HTML()
        self.widget = widgets.VBox(
            [self.heading, widgets.HBox(self.images), widgets.HBox([self.previous, self.next]), self.error]
        )
        if document is not None:
            self.show(document)

    @property
    def total(self) -> int | None:
        """The document's page count, once known."""
        if self.document is None:
            return None
        kept = self.document.preview(SHOWN_PAGES, ppi=self.ppi)
        return kept.total

    def show(self, document: Document, first: int = 1) -> None:
        """Show ``document`` from page ``first`` (from its first page if it has fewer)."""
        self.document = document
        if not self._show_from(first):
            self._show_from(1)

    def turn(self, by: int) -> None:
        """Show the pages ``by`` pages on (or back), typesetting them if needed; past the end,
        the pages shown stay."""
        self._show_from(max(1, self.first + by))

    def _show_from(self, first: int) -> bool:
        """Show the pages from page ``first``; False if there is none (or it failed)."""
        if self.document is None:
            return False
        shown = []
        try:
            for number in range(first, first + SHOWN_PAGES):
                try:
                    shown.append(self.document.page(number, ppi=self.ppi))
                except IndexError:
                    break
        except PolarReportsError as error:
            self.error.value = error_html(error)
            return False
        if not shown:
            return False
        self.first = first
        self.error.value = ""
        for i, image in enumerate(self.images):
            image.value = bytes(shown[i]) if i < len(shown) else b""
            image.layout.visibility = "visible" if i < len(shown) else "hidden"
        total = self.total
        last = first + len(shown) - 1
        count = f"{total} page{'s' if total != 1 else ''}" if total is not None else "pages"
        self.heading.value = f"<b>polarreports document</b>: {count}, showing {first}–{last}"
        self.previous.disabled = first == 1
        self.next.disabled = total is not None and last >= total
        return True

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = self.widget._repr_mimebundle_(**kwargs)
        return bundle


def document_view(document: Document) -> DocumentView:
    """A :class:`DocumentView` of ``document`` (its first pages typeset now)."""
    return DocumentView(document)


def _optional(value: Any) -> Any:
    """A control's value as a parameter value: an empty text is no value (the default)."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def parameter_control(parameter: Parameter, value: Any) -> Any:
    """The ipywidgets control of ``parameter``, holding ``value`` (given, or its default):
    a dropdown of its allowed values, a checkbox, a date or date-time picker, a number input
    where it has a default (so always a number), else a text box (empty: not given)."""
    widgets = need_widgets()
    common: dict[str, Any] = {
        "description": parameter.name,
        "tooltip": parameter.description or parameter.type,
        "style": {"description_width": "initial"},
    }
    if parameter.allowed:
        options: list[tuple[str, Any]] = [(str(v), v) for v in parameter.allowed]
        if not parameter.required:
            options.insert(0, ("(not set)", None))
        chosen = value if value in parameter.allowed else None
        return widgets.Dropdown(options=options, value=chosen if chosen is not None else options[0][1], **common)
    if parameter.type == "boolean":
        return widgets.Checkbox(value=str(value).lower() in {"true", "yes", "1", "on"}, indent=False, **common)
    if parameter.type == "date":
        day = value if isinstance(value, dt.date) else (dt.date.fromisoformat(value) if value else None)
        return widgets.DatePicker(value=day, **common)
    if parameter.type == "datetime":
        moment = value if isinstance(value, dt.datetime) else (dt.datetime.fromisoformat(value) if value else None)
        return widgets.NaiveDatetimePicker(value=moment, **common)
    always = parameter.default is not None and value is not None  # a number input cannot be left empty
    if parameter.type == "integer" and always:
        return widgets.IntText(value=int(value), continuous_update=False, **common)
    if parameter.type == "float" and always:
        return widgets.FloatText(value=float(value), continuous_update=False, **common)
    placeholder = f"({parameter.type}, not set)"
    text = "" if value is None else str(value)
    return widgets.Text(value=text, placeholder=placeholder, continuous_update=False, **common)


class ReportPreview:
    """A report's interactive preview: a control per parameter; every change renders the report
    again (in a thread, cancelling the render still running), with a progress bar and a cancel
    button; the summary's values as text; the pages with a pager.

    ``render`` is the report's own render (``report.render``), ``data`` what it reads.
    ``document`` is the last document rendered; :meth:`wait` waits for the render under way.
    """

    def __init__(self, render: Callable[..., Document], parameters: list[Parameter], data: Any, **given: Any) -> None:
        widgets = need_widgets()
        self._render, self._data = render, data
        self.controls: dict[str, Any] = {p.name: parameter_control(p, given.get(p.name, p.default)) for p in parameters}
        for control in self.controls.values():
            control.observe(lambda _: self.refresh(), names="value")
        self.progress = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, description="", bar_style="info")
        self.status = widgets.HTML()
        self.cancel_button = widgets.Button(description="Cancel", disabled=True, tooltip="stop the render under way")
        self.cancel_button.on_click(lambda _: self.cancel())
        self.summary = widgets.HTML()
        self.error = widgets.HTML()
        self.view = DocumentView()
        self.widget = widgets.VBox(
            [
                widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap")),
                widgets.HBox([self.progress, self.cancel_button, self.status]),
                self.error,
                self.summary,
                self.view.widget,
            ]
        )
        self.document: Document | None = None
        self._lock = threading.Lock()
        self._token: CancelToken | None = None
        self._thread: threading.Thread | None = None
        self._generation = 0
        self.refresh()

    def values(self) -> dict[str, Any]:
        """The parameter values the controls hold (empty ones left out: their defaults apply)."""
        values = {name: _optional(control.value) for name, control in self.controls.items()}
        return {name: value for name, value in values.items() if value is not None}

    def refresh(self) -> None:
        """Render again with the controls' values, cancelling the render under way."""
        with self._lock:
            if self._token is not None:
                self._token.cancel()
            self._generation += 1
            token = self._token = CancelToken()
            thread = threading.Thread(
                target=self._run,
                args=(self._generation, token, self.values()),
                daemon=True,
                name="polarreports-preview",
            )
            self._thread = thread
        self.cancel_button.disabled = False
        self.cancel_button.button_style = "warning"
        self.error.value = ""
        self._show_progress(Progress("planning"))
        thread.start()

    def cancel(self) -> None:
        """Stop the render under way (the pages shown stay)."""
        with self._lock:
            if self._token is not None:
                self._token.cancel()

    def wait(self, timeout: float = 60.0) -> ReportPreview:
        """Wait for the render under way to end (for scripts and tests); returns this preview."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self

    @property
    def summary_values(self) -> list[str]:
        """The summary's values of the document shown (empty before the first render)."""
        return self.document.summary_values if self.document is not None else []

    def _current(self, generation: int) -> bool:
        return generation == self._generation

    def _show_progress(self, event: Progress) -> None:
        step = PHASES.index(event.phase) if event.phase in PHASES else 0
        within = min(event.done / event.total, 1.0) if event.total else 0.0
        self.progress.value = (step + within) / len(PHASES)
        count = f" {event.done:,}/{event.total:,} {event.unit}" if event.total else ""
        self.status.value = f"<span>{html.escape(event.phase + count)}</span>"

    def _run(self, generation: int, token: CancelToken, values: dict[str, Any]) -> None:
        def progress(event: Progress) -> None:
            if self._current(generation):
                self._show_progress(event)

        try:
            document = self._render(self._data, params=values, progress=progress, cancel=token)
            progress(Progress("typesetting", 0, SHOWN_PAGES, "pages"))
            document.preview(SHOWN_PAGES)  # typeset here, on this thread, cancellable
        except Cancelled:
            if self._current(generation):
                self.status.value = "cancelled"
                self._finished(generation)
            return
        except Exception as error:  # a polarreports error (or a bug): shown in place, one line
            if self._current(generation):
                self.error.value = error_html(error)
                self.status.value = "failed"
                self._finished(generation)
            return
        if not self._current(generation):
            return
        self._finished(generation)
        self.document = document
        values_text = " · ".join(document.summary_values)
        self.summary.value = f"<b>Summary</b>: {html.escape(values_text)}" if values_text else ""
        self.view.show(document, self.view.first)  # on the pages the reader was on
        self.progress.value = 1.0
        self.status.value = html.escape(f"{document.stats.rows:,} rows in {document.stats.data_s:.2f} s")

    def _finished(self, generation: int) -> None:
        """The render ``generation`` ended: its token is no longer cancelled by the next one (the
        document shown keeps typesetting pages with it)."""
        with self._lock:
            if generation == self._generation:
                self._token = None
                self.cancel_button.disabled = True
                self.cancel_button.button_style = ""

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = self.widget._repr_mimebundle_(**kwargs)
        return bundle
