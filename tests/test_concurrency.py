"""Many reports rendered at once from one process (threads), as a batch export does."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

import polarreports as pr
from tests.conftest import pdf_pages

pytestmark = pytest.mark.typst


def test_concurrent_renders_give_the_same_pages_as_one_at_a_time(example: pr.Report) -> None:
    datasets = [pr.sample.sales_data(60, seed=seed) for seed in range(12)]
    one_at_a_time = [pdf_pages(example.render(data).pdf) for data in datasets]
    with ThreadPoolExecutor(max_workers=6) as pool:  # each thread renders twice
        at_once = list(pool.map(lambda data: pdf_pages(example.render(data).pdf), datasets))
    assert at_once == one_at_a_time
