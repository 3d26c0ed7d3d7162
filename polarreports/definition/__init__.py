"""Definition: the pydantic models of a report, the contract users write in Python or YAML."""

from polarreports.definition.elements import Aggregate, Box, Element, Expression, Field, Image, Label, Line, PageNumber
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

__all__ = [
    "Aggregate",
    "Band",
    "Bands",
    "Box",
    "Element",
    "Expression",
    "Field",
    "Group",
    "Image",
    "Label",
    "Line",
    "Margins",
    "PageNumber",
    "PageSetup",
    "Parameter",
    "Report",
    "SortKey",
    "Variable",
    "load",
]
