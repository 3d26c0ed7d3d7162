"""Which engine a render's data queries run on: stoppable (background, in-memory) only when the
render has a limit; without one, Polars' streaming engine (faster over large shared scans)."""

from __future__ import annotations

import pytest

from polarreports import queries
from polarreports.control import CancelToken, RenderControl


def _guard_seen(control: RenderControl) -> bool:
    return control.run(lambda: getattr(queries._local, "guard", None) is not None)


@pytest.mark.parametrize(
    ("limits", "stoppable"),
    [
        ({}, False),
        ({"timeout": 30.0}, True),
        ({"cancel": CancelToken()}, True),
        ({"memory_budget_mb": 100_000.0}, True),
    ],
)
def test_queries_are_stoppable_only_under_a_limit(limits: dict[str, object], stoppable: bool) -> None:
    assert _guard_seen(RenderControl(**limits)) is stoppable  # type: ignore[arg-type]
