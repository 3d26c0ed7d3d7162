"""The base of every definition model: constructed in Python with a mistake, it raises a
``DefinitionError`` with one line per problem and a did-you-mean, as a definition file does,
rather than pydantic's own report.

    >>> import polarreports as pr
    >>> pr.Variable(name="total", calculation="summ", expression="amount")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    polarreports.DefinitionError: Variable: calculation: 'summ' is not ... did you mean 'sum'?
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Self

from pydantic import BaseModel, ValidationError

from polarreports.exceptions import DefinitionError

__all__ = ["DefinitionModel"]

_VALIDATING: ContextVar[int] = ContextVar("polarreports_validating", default=0)
"""How many definition models are being validated in this context, one inside the other: a
model built inside another's validation (a validator making a ``Margins``) leaves its error to
the outer one, which knows the place (``page.margins.top``) and the file's line."""


class DefinitionModel(BaseModel):
    """A pydantic model whose construction errors are ``DefinitionError``s (one line each)."""

    def __init__(self, /, **data: Any) -> None:
        token = _VALIDATING.set(_VALIDATING.get() + 1)
        try:
            super().__init__(**data)
        except ValidationError as error:
            if _VALIDATING.get() > 1:
                raise
            from polarreports.definition.locations import Locations
            from polarreports.definition.report import describe_validation_error

            where = Locations(type(self).__name__)
            raise DefinitionError(describe_validation_error(error, where, type(self))) from None
        finally:
            _VALIDATING.reset(token)

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> Self:
        token = _VALIDATING.set(_VALIDATING.get() + 1)
        try:
            return super().model_validate(obj, **options)
        finally:
            _VALIDATING.reset(token)
