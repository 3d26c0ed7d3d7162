"""polarreports: banded business reports on Polars LazyFrames, typeset with Typst.

>>> import polarreports as pr
>>> report = pr.load("examples/sales_by_region.yaml")
>>> doc = report.render(pr.sample.sales_data(500), year=2024)
>>> doc.save("out/sales_2024.pdf")  # doctest: +SKIP
"""

import contextlib

from polarreports import sample
from polarreports.api import Report, Validation, load, render, validate
from polarreports.batch import BatchProgress, BatchResult, batch
from polarreports.control import CancelToken, Progress
from polarreports.definition import (
    Aggregate,
    Band,
    Bands,
    Barcode,
    Box,
    Chart,
    ConditionalStyle,
    Crosstab,
    Dimension,
    Expression,
    Field,
    Group,
    Image,
    Label,
    Line,
    Listing,
    ListingColumn,
    ListingFooter,
    Margins,
    PageNumber,
    PageSetup,
    Parameter,
    SortKey,
    Source,
    Style,
    Subreport,
    Theme,
    Translations,
    Variable,
)
from polarreports.exceptions import (
    AccessError,
    Cancelled,
    ChartError,
    DataError,
    DefinitionError,
    FormatError,
    LayoutError,
    OutputError,
    ParameterError,
    PlanError,
    PolarReportsError,
    RenderError,
    RenderOptionError,
    ResourceError,
    WriteError,
)
from polarreports.output.document import Document
from polarreports.output.pdf_options import Protection
from polarreports.stats import RenderStats

__version__ = "0.1.0"

__all__ = [
    "AccessError",
    "Aggregate",
    "Band",
    "Bands",
    "Barcode",
    "BatchProgress",
    "BatchResult",
    "Box",
    "CancelToken",
    "Cancelled",
    "Chart",
    "ChartError",
    "ConditionalStyle",
    "Crosstab",
    "DataError",
    "DefinitionError",
    "Dimension",
    "Document",
    "Expression",
    "Field",
    "FormatError",
    "Group",
    "Image",
    "Label",
    "LayoutError",
    "Line",
    "Listing",
    "ListingColumn",
    "ListingFooter",
    "Margins",
    "OutputError",
    "PageNumber",
    "PageSetup",
    "Parameter",
    "ParameterError",
    "PlanError",
    "PolarReportsError",
    "Progress",
    "Protection",
    "RenderError",
    "RenderOptionError",
    "RenderStats",
    "Report",
    "ResourceError",
    "SortKey",
    "Source",
    "Style",
    "Subreport",
    "Theme",
    "Translations",
    "Validation",
    "Variable",
    "WriteError",
    "batch",
    "load",
    "render",
    "sample",
    "validate",
]

# Show public objects as ``polarreports.X`` in reprs and tracebacks, not where they live.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or callable(_obj):
        with contextlib.suppress(AttributeError, TypeError):
            _obj.__module__ = "polarreports"
