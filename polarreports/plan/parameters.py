"""Check and convert the parameter values given at render time.

>>> from polarreports.definition.report import Parameter
>>> resolve_parameters([Parameter(name="year", type="integer", default=2024)], {"year": "2025"})
{'year': 2025}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl

from polarreports.definition.report import Parameter
from polarreports.exceptions import ParameterError
from polarreports.plan.expressions import closest

__all__ = ["POLARS_TYPES", "resolve_parameters"]

POLARS_TYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "integer": pl.Int64(),
    "float": pl.Float64(),
    "decimal": pl.Decimal(38, 9),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
    "boolean": pl.Boolean(),
}
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def _convert(parameter: Parameter, value: Any) -> Any:
    kind = parameter.type
    if kind == "string":
        if isinstance(value, str):
            value.encode("utf-8")  # a lone surrogate (from an undecodable argument) is no text
            return value
        raise TypeError
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise TypeError
    if kind == "integer":
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise TypeError
        number = int(value)
        if not -(2**63) <= number < 2**63:  # Int64, as Polars holds it
            raise ValueError
        return number
    if kind == "float":
        if isinstance(value, bool):
            raise TypeError
        return float(value)
    if kind == "decimal":
        if isinstance(value, bool | float):
            value = str(value)
        decimal = Decimal(value)
        if not decimal.is_finite() or abs(decimal) >= 10**29:  # Decimal(38, 9), as Polars holds it
            raise ValueError
        return decimal
    if kind == "date":
        if isinstance(value, dt.datetime):
            raise TypeError
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def resolve_parameters(declared: Sequence[Parameter], given: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``given`` against the declared parameters and return typed values."""
    names = [p.name for p in declared]
    for name in given:
        if name not in names:
            known = ", ".join(names) or "none"
            msg = f"unknown parameter {name!r}{closest(name, names)} (the report's parameters: {known})"
            raise ParameterError(msg)
    values: dict[str, Any] = {}
    for parameter in declared:
        raw = given.get(parameter.name, parameter.default)
        if raw is None:
            if parameter.required:
                msg = f"parameter {parameter.name!r} ({parameter.type}) is required"
                raise ParameterError(msg)
            values[parameter.name] = None
            continue
        try:
            value = _convert(parameter, raw)
        except (TypeError, ValueError, InvalidOperation):  # UnicodeEncodeError is a ValueError
            msg = f"parameter {parameter.name!r} must be a {parameter.type}, got {raw!r}"
            raise ParameterError(msg) from None
        if parameter.allowed is not None:
            allowed = [_convert(parameter, a) for a in parameter.allowed]
            if value not in allowed:
                msg = f"parameter {parameter.name!r} is {value!r}; allowed values: {parameter.allowed}"
                raise ParameterError(msg)
        values[parameter.name] = value
    return values
