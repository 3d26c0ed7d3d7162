"""The values per page (page totals, carried forward, ...) for a given set of page breaks, and
the bands on either side of each break, whose pages are checked after typesetting.

    >>> import polars as pl
    >>> values = PageValues(pl.Series([0, 0, 1], dtype=pl.UInt32), strings=[[], []], marks=[1, 2])
    >>> values.agree([[1, 1], [2, 2]]), values.agree([[1, 1], [2, 1]])  # band 2 stayed on page 1
    (True, False)
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from polarreports.compute.pages import PageRows, band_pages
from polarreports.typeset.paginate import Pagination

__all__ = ["PageValues"]


@dataclass(frozen=True)
class PageValues:
    """The values per page for a given set of page breaks, and the bands to check them by."""

    band_page: pl.Series
    """Page (0-based) of every band instance."""
    strings: list[list[str]]
    """Per page, the display strings of its values."""
    marks: list[int]
    """The bands on either side of every page break: where they land is checked."""

    @classmethod
    def predicted(cls, rows: PageRows, pagination: Pagination, count: int) -> PageValues:
        """From the predicted page breaks (``pagination``) of ``count`` bands."""
        band_page = band_pages(pagination.starts, count, first_page=pagination.first_page)
        marks = sorted({band for start in pagination.starts[1:] for band in (start - 1, start)})
        return cls(band_page, rows.values(band_page, total=pagination.total), marks)

    @classmethod
    def found(cls, rows: PageRows, marks: list[list[int]], total: int) -> PageValues:
        """From a typesetting pass that marked every band: ``[band, page]`` pairs."""
        pairs = pl.DataFrame(marks, schema=["band", "page"], orient="row").sort("band")
        band_page = (pairs["page"] - 1).cast(pl.UInt32)
        return cls(band_page, rows.values(band_page, total=total), [])

    def agree(self, found: list[list[int]]) -> bool:
        """Whether every checked band landed on the page predicted for it (``found`` pages
        count from 1)."""
        return all(int(self.band_page[band]) + 1 == page for band, page in found)
