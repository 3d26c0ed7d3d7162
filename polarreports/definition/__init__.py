"""Definition: the pydantic models of a report, the contract users write in Python or YAML."""

from polarreports.definition.elements import (
    Aggregate,
    Box,
    Chart,
    Dimension,
    Element,
    Expression,
    Field,
    Image,
    Label,
    Line,
    PageNumber,
)
from polarreports.definition.listing import Listing, ListingColumn, ListingFooter
from polarreports.definition.report import (
    Band,
    Bands,
    Group,
    Margins,
    PageSetup,
    Parameter,
    Report,
    SortKey,
    Variable,
    load,
)
from polarreports.definition.styles import ConditionalStyle, Style, Theme

__all__ = [
    "Aggregate",
    "Band",
    "Bands",
    "Box",
    "Chart",
    "ConditionalStyle",
    "Dimension",
    "Element",
    "Expression",
    "Field",
    "Group",
    "Image",
    "Label",
    "Line",
    "Listing",
    "ListingColumn",
    "ListingFooter",
    "Margins",
    "PageNumber",
    "PageSetup",
    "Parameter",
    "Report",
    "SortKey",
    "Style",
    "Theme",
    "Variable",
    "load",
]
