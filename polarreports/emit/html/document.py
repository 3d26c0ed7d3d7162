"""Write a report as one self-contained HTML page, streamed band batch by band batch.

The page: the page header once, the title, the detail rows in a ``<table>`` (its ``<thead>``
the column header, a ``<tbody>`` per group, group headers and footers as rows), the summary
in a table of the same columns, the (last) page footer once. Styles are inline CSS, charts
inline SVG, images ``data:`` URIs; a Content-Security-Policy forbids scripts and any network
access, so the file reads the same offline. The band stream is read a batch at a time and each
batch written at once: a million rows never sit in memory as one page.

    >>> import io, polarreports as pr
    >>> from polarreports.api import plan_report
    >>> from polarreports.emit.typst_source import band_indices
    >>> from polarreports.stream.collect import collect_stream
    >>> plan, scopes = plan_report(pr.load("examples/sales_by_region.yaml"), pr.sample.sales_data(20))
    >>> out = io.BytesIO()
    >>> write_html(plan, collect_stream(plan, scopes, band_indices(plan)), scopes.dtypes, out)
    >>> page = out.getvalue().decode()
    >>> page.startswith("<!DOCTYPE html>"), page.count("<thead>"), "<script" in page
    (True, 1, False)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import BinaryIO

import polars as pl

from polarreports.emit.html import css
from polarreports.emit.html.cells import Assets, data_uri
from polarreports.emit.html.crosstab import CROSSTAB_CSS
from polarreports.emit.html.escape import text
from polarreports.emit.html.layout import BandLayout, band_css, band_layouts, table_columns
from polarreports.emit.typst_source import stream_kinds
from polarreports.plan.model import BandKind, ReportPlan
from polarreports.plan.translations import text_direction
from polarreports.stream.collect import StreamData

__all__ = ["BATCH_BANDS", "write_html"]

BATCH_BANDS = 20_000
"""Band instances read from the stream and written to the file at a time."""
_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""No script, no request: images only from the page itself, styles only inline."""
_BASE_CSS = """\
html{background:#e9ecef}
body{margin:0;padding:16px 0;color:#111}
.page{box-sizing:border-box;margin:0 auto;background:#fff;box-shadow:0 1px 6px rgba(0,0,0,.18);\
line-height:1.25;font-variant-numeric:tabular-nums}
.band{display:flex;flex-wrap:wrap;align-items:baseline}
.band>div{box-sizing:border-box;padding:0 2pt;white-space:pre-line;overflow-wrap:anywhere;min-width:0}
.band>div:empty::after{content:"\\200b"}
h1{font:inherit;margin:0}
table.report{width:100%;border-collapse:collapse;table-layout:fixed}
thead th{position:sticky;top:0;z-index:1}
.wide{overflow-x:auto}
thead tr>*{background-color:#fff}
table.report th,table.report td{font-weight:inherit;text-align:left;vertical-align:baseline;\
white-space:pre-line;overflow-wrap:anywhere;overflow:hidden}
tr.whole>td{padding:0}
.chart svg{display:block;width:100%;height:auto}
.barcode svg{display:block;width:100%;height:auto}
.barcode-text{text-align:center;font-family:monospace;font-size:0.85em;letter-spacing:0.05em}
.chart text{font-family:var(--fonts)}
.caption{font-size:.9em;font-style:italic}
table.subreport{width:100%;border-collapse:collapse}
table.subreport th,table.subreport td{padding:0 2pt;vertical-align:top;position:static}
table.subreport th,table.subreport tfoot td{font-weight:bold}
table.subreport .r{text-align:right}
table.subreport .c{text-align:center}
img{max-width:100%;vertical-align:bottom}
.missing{display:inline-block;padding:2pt 4pt;background:#f4f4f4;border:.5pt solid #b4b4b4;color:#646464;\
font-size:.75em}
.logo{display:flex;align-items:center;margin-left:auto;padding-left:6pt}
.band.logoed{align-items:center}
.logo img{height:11mm}
a{color:inherit}
.page-footer{margin-top:14pt}
.page{position:relative;z-index:0}
.background{position:fixed;inset:0;z-index:-1;display:flex;align-items:center;justify-content:center;\
pointer-events:none}
.background>.band{transform:rotate(-35deg)}
@media print{html,body{background:none;padding:0}.page{box-shadow:none;width:auto!important;padding:0!important}\
thead{display:table-header-group}tr{break-inside:avoid}}
"""


def write_html(
    plan: ReportPlan,
    stream: StreamData,
    dtypes: dict[str, pl.DataType],
    file: BinaryIO,
    *,
    check: Callable[[], None] = lambda: None,
) -> None:
    """Write the report of ``plan`` and its band ``stream`` to ``file`` as an HTML page;
    ``dtypes`` gives each data cell's type (numbers are right-aligned); ``check`` is called
    before each batch of bands (it raises ``Cancelled`` to stop the writing)."""
    _Page(plan, stream, dtypes, file, check).write()


class _Page:
    def __init__(
        self,
        plan: ReportPlan,
        stream: StreamData,
        dtypes: dict[str, pl.DataType],
        file: BinaryIO,
        check: Callable[[], None],
    ) -> None:
        self.plan = plan
        self.check = check
        self.stream = stream
        self.file = file
        self.assets = Assets(stream.assets)
        logo = next((b.styling.logo for b in plan.bands if b.styling and b.styling.logo), None)
        uri = data_uri(logo[1]) if logo else None
        self.layouts = band_layouts(plan, f'<div class="logo"><img src="{uri}" alt=""></div>' if uri else "")
        self.columns = table_columns(plan, self.layouts)
        self.dtypes = dtypes
        by_name = {layout.band.name: layout for layout in self.layouts}
        self.kinds = [by_name[band.name] for band in stream_kinds(plan)]

    def _out(self, html: str) -> None:
        self.file.write(html.encode())

    def _report_band(self, kind: str) -> BandLayout | None:
        band = self.plan.band(kind)
        if band is None or kind not in self.stream.static:
            return None
        layout = self.layouts[self.plan.bands.index(band)]
        return None if layout.page_only else layout

    def _static(self, kind: str, tag: str = "div") -> str:
        layout = self._report_band(kind)
        return "" if layout is None else layout.block(self.stream.static[kind], self.assets, tag)

    def write(self) -> None:
        plan = self.plan
        page = plan.page
        margins = [css.length(getattr(page.margins, side), font_size=page.font_size) for side in _SIDES]
        language = re.sub(r"[^A-Za-z0-9-]", "", plan.locale.replace("_", "-")) or "en"
        width_mm, height_mm = page.size_mm
        rules = [
            f"@page{{size:{width_mm:g}mm {height_mm:g}mm;margin:{' '.join(margins)}}}",
            f".page{{--fonts:{css.FONT_STACK};width:{width_mm:g}mm;max-width:100%;padding:{' '.join(margins)};"
            f"font-family:var(--fonts);font-size:{page.font_size:g}pt}}",
            *(rule for layout in self.layouts for rule in band_css(self.plan, layout, self.dtypes)),
        ]
        if self.plan.crosstabs:
            rules.append(CROSSTAB_CSS)
        if plan.hyphenate is True:  # the browser hyphenates in the page's lang, like Typst
            rules.append(".page{hyphens:auto}")
        self._out(
            f'<!DOCTYPE html>\n<html lang="{text(language)}" dir="{text_direction(plan.locale)}">\n'
            '<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="generator" content="polarreports">\n'
            f"<title>{text(plan.title)}</title>\n"
            f'<style>\n{_BASE_CSS}{chr(10).join(rules)}\n</style>\n</head>\n<body>\n<div class="page">\n'
        )
        background = self._static("background")
        if background:  # a watermark, behind the page's content
            self._out(f'<div class="background" aria-hidden="true">{background}</div>\n')
        self._out(f'<header class="page-header">{self._static("page_header")}</header>\n')
        title = self._title()
        self._out(f"<main>\n{title}")
        if self.stream.band_count == 0 and self.stream.row_count == 0 and self._report_band("no_data"):
            self._out(self._static("no_data") + "\n")  # instead of the rows and the summary, as in the PDF
        else:
            if self.columns is None:
                self._out(self._static("column_header") + "\n")
                self._blocks()
            else:
                self._table()
            self._out(self._summary())
        self._out("</main>\n")
        footer = "last_page_footer" if self._report_band("last_page_footer") else "page_footer"
        self._out(f'<footer class="page-footer">{self._static(footer)}</footer>\n</div>\n</body>\n</html>\n')

    def _title(self) -> str:
        """The title band, its first label the page's heading."""
        layout = self._report_band("title")
        return (
            ""
            if layout is None
            else layout.block(self.stream.static["title"], self.assets, "header", heading=True) + "\n"
        )

    def _wide(self) -> str:
        """A listing wider than the page scrolls sideways in its own box (the PDF continues it
        on more pages, or shrinks it)."""
        assert self.columns is not None
        return '<div class="wide">' if self.columns[-1] > 1.001 else ""

    def _table_width(self) -> str:
        assert self.columns is not None
        return f' style="width:{self.columns[-1] * 100:.2f}%"' if self._wide() else ""

    def _colgroup(self) -> str:
        assert self.columns is not None
        starts = [0.0, *self.columns[:-1]]
        total = self.columns[-1] or 1.0
        cols = "".join(
            f'<col style="width:{(end - start) / total * 100:.3f}%">'
            for start, end in zip(starts, self.columns, strict=True)
        )
        return f"<colgroup>{cols}</colgroup>"

    def _table(self) -> None:
        assert self.columns is not None
        n = len(self.columns)
        head = self._report_band("column_header")
        parts = [f'{self._wide()}<table{self._table_width()} class="report">{self._colgroup()}\n']
        if head is not None:
            parts.append(f"<thead>{head.row(self.stream.static['column_header'], self.assets, n)}</thead>\n")
        foot = self._report_band("column_footer")
        if foot is not None:
            parts.append(f"<tfoot>{foot.row(self.stream.static['column_footer'], self.assets, n)}</tfoot>\n")
        self._out("".join(parts))
        open_level: int | None = None
        kinds = self.kinds
        group_header, group_footer = BandKind.GROUP_HEADER, BandKind.GROUP_FOOTER
        bands = self.stream.bands
        for start in range(0, bands.height, BATCH_BANDS):
            self.check()
            parts = []
            for line in bands.texts(start, BATCH_BANDS).to_list():
                instance = json.loads(line)
                layout = kinds[instance["k"]]
                kind = layout.band.kind
                level = layout.band.level
                if kind == group_header or (kind == group_footer and (open_level is None or open_level > level)):
                    if open_level is not None:
                        parts.append("</tbody>\n")
                    parts.append(f'<tbody class="g{level}">\n')
                    open_level = level
                elif open_level is None:
                    parts.append("<tbody>\n")
                    open_level = 0
                parts.append(layout.row(instance["c"], self.assets, n))
                parts.append("\n")
            self._out("".join(parts))
        self._out(
            ("</tbody>\n" if open_level is not None else "") + "</table>\n" + ("</div>\n" if self._wide() else "")
        )

    def _blocks(self) -> None:
        bands = self.stream.bands
        kinds = self.kinds
        for start in range(0, bands.height, BATCH_BANDS):
            self.check()
            parts = []
            for line in bands.texts(start, BATCH_BANDS).to_list():
                instance = json.loads(line)
                parts.append(kinds[instance["k"]].block(instance["c"], self.assets))
                parts.append("\n")
            self._out("".join(parts))

    def _summary(self) -> str:
        layout = self._report_band("summary")
        if layout is None:
            return ""
        cells = self.stream.static["summary"]
        if self.columns is None or layout.spans is None:
            return f'<section class="summary">{layout.block(cells, self.assets)}</section>\n'
        row = layout.row(cells, self.assets, len(self.columns))
        return (
            f'<section class="summary"><table class="report">{self._colgroup()}<tbody>{row}</tbody></table></section>\n'
        )


_SIDES = ("top", "right", "bottom", "left")
