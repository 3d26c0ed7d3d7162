"""The live preview: ``polarreports preview DEFINITION --data PATH`` serves a page on this
machine (127.0.0.1) that shows the report's pages with a pager, a form made from its
parameters, a progress bar and a cancel button while it renders, and errors in place with the
element they name; saving the definition or the data file renders it again, and the page
follows by itself.

Layers: ``session`` (what is shown, rendered in a thread), ``app`` (Starlette: the page, the
state as server-sent events, the images), ``server`` (uvicorn and the file watcher). Needs the
``preview`` extra: ``pip install 'polarreports[preview]'``.
"""

from polarreports.preview.session import PreviewSession

__all__ = ["PreviewSession"]
