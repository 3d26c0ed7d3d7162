"""Check and convert the parameter values given at render time.

>>> from polarreports.definition.report import Parameter
>>> resolve_parameters([Parameter(name="year", type="integer", default=2024)], {"year": "2025"})
{'year': 2025}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

import polars as pl

from polarreports.definition.report import Parameter
from polarreports.exceptions import ParameterError
from polarreports.suggest import closest

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
_INT64 = (-(2**63), 2**63 - 1)
_DECIMAL_DIGITS = 29
"""Digits before the point of a decimal parameter (``Decimal(38, 9)``)."""


class _UnfitError(ValueError):
    """A value of the parameter's kind that its Polars type cannot hold; says what it can."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _convert(parameter: Parameter, value: Any) -> Any:
    kind = parameter.type
    if kind == "string":
        if isinstance(value, str):
            if any("\ud800" <= c <= "\udfff" for c in value):
                msg = "text, without a lone surrogate"
                raise _UnfitError(msg)
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
        if not _INT64[0] <= number <= _INT64[1]:
            msg = f"an integer from {_INT64[0]} to {_INT64[1]}"
            raise _UnfitError(msg)
        return number
    if kind == "float":
        if isinstance(value, bool):
            raise TypeError
        return float(value)
    if kind == "decimal":
        if isinstance(value, bool | float):
            value = str(value)
        exact = Decimal(value)
        fits = f"a decimal with at most {_DECIMAL_DIGITS} digits before the point"
        if not exact.is_finite() or exact.adjusted() >= _DECIMAL_DIGITS:
            raise _UnfitError(fits)
        with localcontext() as context:
            context.prec = _DECIMAL_DIGITS + 20
            exact = exact.quantize(Decimal(1).scaleb(-9))  # as Polars keeps it: 9 digits after the point
            if abs(exact) >= Decimal(10) ** _DECIMAL_DIGITS:
                raise _UnfitError(fits)
        return exact
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
        except _UnfitError as error:
            msg = f"parameter {parameter.name!r} must be {error}, got {_shown(raw)}"
            raise ParameterError(msg) from None
        except (TypeError, ValueError, InvalidOperation, OverflowError):
            msg = f"parameter {parameter.name!r} must be {_article(parameter.type)}, got {_shown(raw)}"
            raise ParameterError(msg) from None
        if parameter.allowed is not None:
            try:
                allowed = [_convert(parameter, a) for a in parameter.allowed]
            except (TypeError, ValueError, InvalidOperation, OverflowError):
                kind = parameter.type
                msg = f"parameter {parameter.name!r} allows values that are not all {kind}s: {parameter.allowed}"
                raise ParameterError(msg) from None
            if value not in allowed:
                msg = f"parameter {parameter.name!r} is {value!r}; allowed values: {parameter.allowed}"
                raise ParameterError(msg)
        values[parameter.name] = value
    return values


def _article(noun: str) -> str:
    """``noun`` with its indefinite article: "an integer", "a date"."""
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"
