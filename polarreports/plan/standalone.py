"""Check a definition alone, without data: everything but its columns and their types.

The plan is built against the columns the definition itself reads (found by building it and
adding each column it says is unknown, until none is), so that the checks that do not depend on
the data still run: expressions parse, variables, groups, styles and parameters exist, formats
and lengths are valid. Whether those columns exist, and their types, needs the data.

    >>> from polarreports.definition import Band, Bands, Field, Report, Variable
    >>> report = Report(
    ...     name="r",
    ...     variables=[Variable(name="total", calculation="sum", expression="amount * 2")],
    ...     bands=Bands(detail=Band(elements=[Field(column="region")])),
    ... )
    >>> columns_read(report, {})
    ['amount', 'region']
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from polarreports.definition.report import Parameter, Report
from polarreports.exceptions import PlanError
from polarreports.plan.build import build_plan

__all__ = ["columns_read", "stand_in_parameters"]

_UNKNOWN_COLUMN = re.compile(r"unknown column '((?:[^']|'')*)'")
_STAND_INS: dict[str, Any] = {
    "string": "x",
    "integer": 0,
    "float": 0.0,
    "decimal": "0",
    "date": "2000-01-01",
    "datetime": "2000-01-01T00:00:00",
    "boolean": False,
}


def stand_in_parameters(declared: list[Parameter], given: Mapping[str, Any]) -> dict[str, Any]:
    """``given``, plus a value of the right type for each required parameter not given (the
    first allowed value, if the parameter has a list of them)."""
    values = dict(given)
    for parameter in declared:
        if parameter.required and parameter.default is None and parameter.name not in values:
            values[parameter.name] = parameter.allowed[0] if parameter.allowed else _STAND_INS[parameter.type]
    return values


def columns_read(report: Report, params: Mapping[str, Any], *, base_dir: Path | None = None) -> list[str]:
    """The data columns ``report`` reads, sorted; a ``PlanError`` lists every problem of the
    definition that does not depend on the data."""
    values = stand_in_parameters(report.parameters, params)
    columns: dict[str, pl.DataType] = {}
    while True:
        try:
            build_plan(report, pl.Schema(columns), values, base_dir=base_dir)
        except PlanError as error:
            found = {name.replace("''", "'") for issue in error.issues for name in _UNKNOWN_COLUMN.findall(issue)}
            new = found - set(columns)
            if not new:
                raise
            columns.update(dict.fromkeys(new, pl.String()))
            continue
        return sorted(columns)
