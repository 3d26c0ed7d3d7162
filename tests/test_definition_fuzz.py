"""The gallery's definitions, mutated about 2,000 times (seeded, shared among the examples):
every outcome is a definition that validates against its sample data, or a polarreports error
whose every problem is one line naming the file (and maybe "Hint: ..." lines), never another exception, a
traceback or an internal name.

Mutations: a key or an item deleted, a value of the wrong type, a reference misspelled (a column,
variable, group, style), an enum value misspelled, a length that is not one. No Typst: loading
and validating (``pr.load`` and ``pr.validate``, which builds the plan and its lazy frames).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

import polarreports as pr
from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # 2,000 mutations: make test runs them, make test-fast does not

EXAMPLES = sorted(path.stem for path in (ROOT / "examples").glob("*.yaml"))
MUTATIONS_PER_EXAMPLE = max(100, 2_000 // len(EXAMPLES))
"""About 2,000 in all however many examples the gallery holds (the hostile campaign in
benchmarks/ runs more, against every output)."""
SAMPLES: dict[str, Callable[[], pl.DataFrame]] = {
    "invoice": pr.sample.invoice_data,
    "customer_statement": pr.sample.statement_data,
}
"""Sample data by example name; every other example reads the sales data."""
LENGTH_KEYS = {"width", "height", "padding", "x", "y", "space_before", "space_after", "min_space", "column_gap"}
BAD_LENGTHS: list[Any] = [10, 2.5, "10", "10px", "-3mm", "abc", "10 %%", "1e9mm", "%", "", "mm", "12 pt", True, None]
WRONG_TYPES: list[Any] = [None, True, 0, -1, 1e308, [], {}, [1, "a"], {"x": 1}, "", "x", "#"]
INTERNAL_WORDS = ("__p__", "__row", "Traceback", "pydantic", "Input should be", "<unicode string>", "errors.pydantic")


def _nodes(tree: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every node below the root of a YAML tree, with its path."""
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else ()
    for key, value in items:
        yield (*path, key), value
        yield from _nodes(value, (*path, key))


def _parent(tree: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        tree = tree[part]
    return tree


def _typo(text: str, rng: random.Random) -> str:
    """``text`` with one letter dropped, doubled, swapped with the next, or a letter added."""
    if not text:
        return "x"
    i = rng.randrange(len(text))
    kind = rng.choice(["drop", "double", "swap", "add"])
    if kind == "drop" and len(text) > 1:
        return text[:i] + text[i + 1 :]
    if kind == "swap" and i + 1 < len(text) and text[i] != text[i + 1]:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == "double":
        return text[: i + 1] + text[i:]
    return text[:i] + rng.choice("aeiouxz") + text[i:]


def mutate(tree: Any, rng: random.Random) -> str:
    """Change ``tree`` in place, once; return what was done."""
    nodes = list(_nodes(tree))
    strings = [(p, v) for p, v in nodes if isinstance(v, str) and isinstance(p[-1], str)]
    lengths = [(p, v) for p, v in nodes if p[-1] in LENGTH_KEYS]
    kind = rng.choice(["delete", "wrong type", "typo", "typo", "length"])
    if kind == "length" and lengths:
        path, _ = rng.choice(lengths)
        value = rng.choice(BAD_LENGTHS)
        _parent(tree, path)[path[-1]] = value
        return f"{path} = {value!r}"
    if kind == "typo" and strings:  # an enum value, a reference to a column, variable, group or style
        path, value = rng.choice(strings)
        _parent(tree, path)[path[-1]] = changed = _typo(value, rng)
        return f"{path}: {value!r} -> {changed!r}"
    path, value = rng.choice(nodes)
    if kind == "delete":
        del _parent(tree, path)[path[-1]]
        return f"delete {path}"
    wrong = rng.choice([v for v in WRONG_TYPES if type(v) is not type(value)])
    _parent(tree, path)[path[-1]] = wrong
    return f"{path} = {wrong!r}"


def problems(error: BaseException | None, path: Path) -> list[str]:
    """What is wrong with an outcome: not a polarreports error, or a message that is not one
    line per problem naming the file, or that shows internals."""
    if error is None:
        return []
    if not isinstance(error, pr.PolarReportsError):
        return [f"{type(error).__name__}: {error}"]
    message = str(error)
    found = [f"shows {word!r}: {message}" for word in INTERNAL_WORDS if word in message]
    if isinstance(error, pr.PlanError):
        lines = error.issues
    elif isinstance(error, pr.DefinitionError) and "\n" in message:
        header, *lines = message.splitlines()
        found += [] if header == f"{path} is not a valid report definition:" else [f"header: {header}"]
        lines = [f"{path}, {line.strip()}" for line in lines if not line.strip().startswith("...")]
    else:
        lines = [message]
    for line in lines:
        first, *more = line.splitlines() or [""]
        if not first.strip() or any(not hint.startswith("Hint: ") for hint in more):
            found.append(f"not one line: {line!r}")
        if isinstance(error, pr.DefinitionError | pr.PlanError) and str(path) not in line:
            found.append(f"does not name the file: {line}")
    return found


@pytest.mark.parametrize("name", EXAMPLES)
def test_mutated_gallery_definitions_validate_or_fail_in_one_clear_line(name: str, gallery_copy: Path) -> None:
    original = yaml.safe_load((ROOT / "examples" / f"{name}.yaml").read_text(encoding="utf-8"))
    data = SAMPLES.get(name, lambda: pr.sample.sales_data(50))().lazy()
    rng = random.Random(f"{name}-15")
    path = gallery_copy / f"mutated_{name}.yaml"
    failures, outcomes = [], {"valid": 0, "error": 0}
    for _ in range(MUTATIONS_PER_EXAMPLE):
        tree = copy.deepcopy(original)
        what = mutate(tree, rng)
        path.write_text(json.dumps(tree, indent=1, ensure_ascii=False), encoding="utf-8")  # YAML too, and fast
        error: BaseException | None = None
        try:
            pr.validate(pr.load(path), data)
        except BaseException as caught:  # a Rust panic is a BaseException
            error = caught
        outcomes["valid" if error is None else "error"] += 1
        failures += [f"{what}: {problem}" for problem in problems(error, path)]
    assert not failures, "\n".join(failures[:10])
    assert outcomes["error"] > MUTATIONS_PER_EXAMPLE // 4  # the mutations do break definitions
