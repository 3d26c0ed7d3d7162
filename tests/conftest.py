"""Shared fixtures: the sample data, the example report, and its rendered PDF's text."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
from pypdf import PdfReader

import polarreports as pr

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sales_by_region.yaml"


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page, as a PDF reader (and so a user copying text) sees it."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def pdf_lines(pdf: bytes) -> list[str]:
    return [line.strip() for page in pdf_pages(pdf) for line in page.splitlines() if line.strip()]


@pytest.fixture(scope="session")
def sales() -> pl.DataFrame:
    return pr.sample.sales_data(2_000)


@pytest.fixture(scope="session")
def example() -> pr.Report:
    return pr.load(EXAMPLE)


@pytest.fixture(scope="session")
def example_pdf(example: pr.Report, sales: pl.DataFrame) -> bytes:
    return example.render(sales).pdf


@pytest.fixture(scope="session")
def example_lines(example_pdf: bytes) -> list[str]:
    return pdf_lines(example_pdf)
