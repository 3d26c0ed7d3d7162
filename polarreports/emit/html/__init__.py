"""The report as one self-contained HTML page (``doc.save("report.html")``), written from the
plan and the band stream of a render: see :mod:`polarreports.emit.html.document`."""

from polarreports.emit.html.document import write_html

__all__ = ["write_html"]
