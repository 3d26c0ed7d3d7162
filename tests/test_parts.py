"""Rows sorted a part at a time (data/parts.py) give the same report as all rows sorted at once;
a large band stream kept in a file (data/bandstream.py) reads back as it was written."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import polarreports as pr
from polarreports.api import plan_report
from polarreports.compute import parts
from polarreports.compute.parts import split_level, split_rows
from polarreports.compute.reach import split_level_of
from polarreports.emit.typst_source import band_indices
from polarreports.stream import bandstream
from polarreports.stream.bandstream import BandStreamWriter
from polarreports.stream.collect import StreamData, collect_stream, raw_values
from tests.conftest import chunk_count, examples, page_layouts

ROOT = Path(__file__).resolve().parent.parent


def _stream(report: pr.Report, data: pl.DataFrame, rows_per_part: int, batch_rows: int) -> StreamData:
    plan, scopes = plan_report(report, data)
    return collect_stream(plan, scopes, band_indices(plan), rows_per_part=rows_per_part, batch_rows=batch_rows)


def _same_stream(report: pr.Report, data: pl.DataFrame, rows_per_part: int, batch_rows: int = 7) -> None:
    """The band stream in parts equals the one of a single sort (batches cut across the parts)."""
    whole = _stream(report, data, 10**9, batch_rows)
    split = _stream(report, data, rows_per_part, batch_rows)
    if whole.pages is not None:  # values per page: the rows they are computed from are the same
        assert split.pages is not None
        # (floats may differ in their last bits: the running sums are added in another order)
        assert_frame_equal(split.pages.rows, whole.pages.rows, check_exact=False, rel_tol=1e-12)
        assert split.pages.band_rows.equals(whole.pages.band_rows)
        assert split.pages.detail_bands.equals(whole.pages.detail_bands)
    assert split.bands.texts().to_list() == whole.bands.texts().to_list()
    assert split.bands.kinds.to_list() == whole.bands.kinds.to_list()
    assert (split.static, split.samples, split.row_count) == (whole.static, whole.samples, whole.row_count)


CALCULATIONS = ["sum", "count", "avg", "min", "max", "first", "last"]


def _every_calculation_report(*, descending: bool, sort: bool = True, pages: bool = False) -> pr.Report:
    """Two group levels; a variable of every continuable calculation at every reset, shown
    running in the detail rows and group footers, as totals in footers and the summary (and
    with ``pages``, per page: subtotals, brought and carried forward, page numbers in groups)."""
    variables = [pr.Variable(name=f"rows_{reset}", calculation="count", reset=reset) for reset in ("report", "a")]
    variables += [
        pr.Variable(name=f"{calc}_{reset}", calculation=calc, expression="v", reset=reset)
        for calc in CALCULATIONS
        for reset in ("report", "a", "b")
    ]
    running = [pr.Aggregate(variable=v.name, show="running") for v in variables]
    page_values: list[pr.PageNumber | pr.Aggregate] = []
    if pages:
        page_values = [
            pr.PageNumber(group="a"),
            pr.PageNumber(group="b"),
            *(pr.Aggregate(variable=name, show="page") for name in ("sum_report", "rows_a", "count_b")),
            *(pr.Aggregate(variable=name, show="brought_forward") for name in ("sum_report", "last_a", "max_b")),
            *(pr.Aggregate(variable=name, show="carried_forward") for name in ("count_report", "sum_a", "first_b")),
        ]
    totals = [pr.Aggregate(variable=v.name) for v in variables if v.reset != "b"]
    return pr.Report(
        name="every_calculation",
        sort=[pr.SortKey(column="s", descending=descending)] if sort else [],
        groups=[
            pr.Group(
                name="a",
                descending=descending,
                header=pr.Band(elements=[pr.Field(column="a"), pr.Field(column="s")]),
                footer=pr.Band(elements=[*totals, *running[:4]]),
            ),
            pr.Group(
                name="b",
                header=pr.Band(elements=[pr.Field(column="b"), pr.Field(column="v", null_text="none")]),
                footer=pr.Band(elements=[pr.Aggregate(variable="sum_a", show="percent", of="report"), *running]),
            ),
        ],
        variables=variables,
        bands=pr.Bands(
            detail=pr.Band(elements=[pr.Field(column="s"), pr.Field(column="v", null_text="-"), *running]),
            summary=pr.Band(elements=totals),
            page_footer=pr.Band(elements=page_values) if page_values else None,
        ),
    )


rows = st.lists(
    st.tuples(
        st.sampled_from(["x", "y", "z", None]),
        st.sampled_from([1, 2, 3]),
        st.one_of(st.none(), st.integers(-50, 50)),
        st.integers(0, 9),
    ),
    min_size=0,
    max_size=40,
)


@pytest.mark.slow
@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows, rows_per_part=st.integers(1, 12), descending=st.booleans(), sort=st.booleans(), pages=st.booleans())
def test_parts_give_the_stream_of_one_sort(
    rows: list[tuple[object, ...]], rows_per_part: int, descending: bool, sort: bool, pages: bool
) -> None:
    data = pl.DataFrame(rows, schema={"a": pl.String, "b": pl.Int64, "v": pl.Int64, "s": pl.Int64}, orient="row")
    report = _every_calculation_report(descending=descending, sort=sort, pages=pages)
    _same_stream(report, data, rows_per_part)


def _listing(*, sort: bool) -> pr.Report:
    """No groups: running values of every continuable calculation, in the rows and the summary."""
    variables = [pr.Variable(name="rows", calculation="count")]
    variables += [pr.Variable(name=calc, calculation=calc, expression="v") for calc in CALCULATIONS]
    return pr.Report(
        name="listing",
        sort=[pr.SortKey(column="s", descending=True), pr.SortKey(column="a")] if sort else [],
        variables=variables,
        bands=pr.Bands(
            detail=pr.Band(
                elements=[
                    pr.Field(column="a", null_text="-"),
                    pr.Field(column="v", null_text="-"),
                    *(pr.Aggregate(variable=v.name, show="running") for v in variables),
                ]
            ),
            summary=pr.Band(elements=[pr.Aggregate(variable=v.name) for v in variables]),
        ),
    )


@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows, rows_per_part=st.integers(1, 12), sort=st.booleans())
def test_a_listing_without_groups_in_parts(rows: list[tuple[object, ...]], rows_per_part: int, sort: bool) -> None:
    data = pl.DataFrame(rows, schema={"a": pl.String, "b": pl.Int64, "v": pl.Int64, "s": pl.Int64}, orient="row")
    _same_stream(_listing(sort=sort), data, rows_per_part)


@pytest.mark.parametrize("name", ["sales_by_region", "sales_styled", "sales_ledger", "customer_statement"])
def test_the_examples_come_out_the_same_in_parts(name: str) -> None:
    report = pr.load(ROOT / "examples" / f"{name}.yaml")
    data = pr.sample.statement_data() if name == "customer_statement" else pr.sample.sales_data(1_200)
    _same_stream(report, data, rows_per_part=40, batch_rows=250)


def test_a_report_is_split_where_its_values_allow() -> None:
    keys = ["region", "customer", "__split"]
    assert split_level_of(pl.col("amount").cast(pl.Float64).alias("x"), keys) == 3
    assert split_level_of(pl.sql_expr("discount >= 0.15"), keys) == 3
    assert split_level_of(pl.col("amount").cum_sum().over(keys[:2]), keys) == 2
    assert split_level_of(pl.col("amount") / pl.col("amount").sum().over("region"), keys) == 1
    assert split_level_of(pl.col("amount") / pl.col("amount").sum(), keys) is None
    assert split_level_of(pl.col("amount").shift(1), keys) is None
    assert split_level_of(pl.col("amount").sum().over("product"), keys) is None
    assert split_level_of(pl.col("amount").cum_sum().over(keys[:2], order_by="order_id"), keys) is None
    assert split_level_of(pl.col("amount").map_elements(abs, return_dtype=pl.Float64), keys) is None


def test_a_median_keeps_one_sort_and_values_per_page_do_not(example: pr.Report) -> None:
    data = pr.sample.sales_data(50)
    plan, _ = plan_report(example, data)
    detail_values = raw_values(plan.band("detail"))  # type: ignore[arg-type]
    assert split_level(plan, detail_values) == 3  # region, customer, order date
    median = example.model_copy(
        update={"variables": [*example.variables, pr.Variable(name="mid", calculation="median", expression="amount")]}
    )
    assert split_level(plan_report(median, data)[0], detail_values) is None
    ledger, _ = plan_report(pr.load(ROOT / "examples" / "sales_ledger.yaml"), data)
    assert split_level(ledger, raw_values(ledger.band("detail"))) == 2  # type: ignore[arg-type]


def test_a_percent_of_the_region_in_a_row_splits_by_region() -> None:
    report = pr.Report(
        name="share",
        groups=[
            pr.Group(name="region"),
            pr.Group(name="customer", footer=pr.Band(elements=[pr.Field(column="customer")])),
        ],
        variables=[pr.Variable(name="revenue", calculation="sum", expression="quantity")],
        bands=pr.Bands(detail=pr.Band(elements=[pr.Aggregate(variable="revenue", show="percent", of="region")])),
    )
    data = pr.sample.sales_data(500)
    plan, _ = plan_report(report, data)
    assert split_level(plan, raw_values(plan.band("detail"))) == 1  # type: ignore[arg-type]
    _same_stream(report, data, rows_per_part=50)


@pytest.mark.typst
@pytest.mark.parametrize("name", ["sales_by_region", "sales_ledger"])
@pytest.mark.usefixtures("small_chunks")
def test_a_long_report_in_parts_prints_the_same_pdf(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    report = pr.load(ROOT / "examples" / f"{name}.yaml")
    # decimal discounts, so that amounts and their sums are exact (a sum of floats can round
    # the other way at a half cent when it is added in another order)
    data = pr.sample.sales_data(800).with_columns(pl.col("discount").cast(pl.Decimal(4, 2)))
    whole = report.render(data)
    monkeypatch.setattr(parts, "PART_ROWS", 120)
    monkeypatch.setattr(bandstream, "SPILL_BYTES", 10_000)
    split = report.render(data)
    assert page_layouts(split.pdf) == page_layouts(whole.pdf)
    assert split._data.bands.spilled
    assert whole.stats["data_parts"] == 1
    assert split.stats["data_parts"] >= 6
    assert chunk_count(split) >= 3


def test_a_spilled_stream_reads_back_any_slice_and_is_removed_with_it() -> None:
    texts = [f'{{"k":{i % 3},"c":["row {i}","é\\n"]}}' for i in range(50)]
    writer = BandStreamWriter(spill_bytes=100)
    for start in range(0, 50, 8):
        batch = texts[start : start + 8]
        writer.add(pl.DataFrame({"k": [i % 3 for i in range(start, start + len(batch))], "json": batch}))
    stream = writer.finish()
    assert stream.spilled
    assert stream.height == 50
    assert stream.texts().to_list() == texts
    assert stream.texts(13, 9).to_list() == texts[13:22]
    assert stream.texts(45, 100).to_list() == texts[45:]
    assert stream.texts(50, 3).to_list() == []
    assert stream.text(7) == texts[7]
    assert stream.kinds.to_list() == [i % 3 for i in range(50)]
    path = stream._file.path  # type: ignore[union-attr]
    assert path.exists()
    del stream
    assert not path.exists()


def test_a_small_stream_stays_in_memory() -> None:
    writer = BandStreamWriter()
    writer.add(pl.DataFrame({"k": [0], "json": ['{"k":0,"c":[]}']}))
    stream = writer.finish()
    assert not stream.spilled
    assert stream.text(0) == '{"k":0,"c":[]}'


def test_a_stopped_collection_stops_between_parts_and_leaves_no_file(
    example: pr.Report, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(bandstream, "SPILL_BYTES", 1_000)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    plan, scopes = plan_report(example, pr.sample.sales_data(2_000))
    calls = []

    def check() -> None:
        calls.append(1)
        if len(calls) == 8:  # past the parts' totals, amid the detail rows
            msg = "cancelled"
            raise pr.Cancelled(msg)

    with pytest.raises(pr.Cancelled):
        collect_stream(plan, scopes, band_indices(plan), rows_per_part=300, batch_rows=100, check=check)
    assert len(calls) == 8
    assert list(tmp_path.iterdir()) == []


def test_parts_hold_whole_groups_and_cut_a_group_only_when_it_is_too_big(example: pr.Report) -> None:
    plan, scopes = plan_report(example, pr.sample.sales_data(3_000))
    assert scopes.base is not None
    by_customer = split_rows(plan, scopes.base, 3, rows_per_part=400)
    assert by_customer[0].keys.columns == ["region", "customer"]
    by_day = split_rows(plan, scopes.base, 3, rows_per_part=20)
    assert by_day[0].keys.columns == ["region", "customer", "__split"]
    for cut in (by_customer, by_day):
        assert [p.offset for p in cut] == [sum(q.rows for q in cut[:i]) for i in range(len(cut))]
        assert sum(p.rows for p in cut) == 3_000
    assert max(p.rows for p in by_day) < 40  # a customer's orders of one day are few


def test_the_rows_done_are_reported_after_each_batch(example: pr.Report) -> None:
    plan, scopes = plan_report(example, pr.sample.sales_data(2_000))
    seen: list[tuple[int, int]] = []
    collect_stream(
        plan, scopes, band_indices(plan), rows_per_part=700, batch_rows=300, progress=lambda *p: seen.append(p)
    )
    assert seen[-1] == (2_000, 2_000)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert len(seen) >= 7  # 2,000 rows in batches of at most 300


def test_a_striped_listing_is_split_and_keeps_its_stripes() -> None:
    striped = _listing(sort=True).model_copy(update={"theme": pr.Theme(name="corporate")})  # zebra rows
    data = pr.sample.sales_data(300).select(
        pl.col("customer").alias("a"), pl.col("quantity").cast(pl.Int64).alias("v"), pl.col("order_id").alias("s")
    )
    plan, _ = plan_report(striped, data)
    assert split_level(plan, raw_values(plan.band("detail"))) == 1  # type: ignore[arg-type]
    _same_stream(striped, data, rows_per_part=37, batch_rows=25)
    hidden = striped.model_copy(
        update={
            "bands": striped.bands.model_copy(
                update={"detail": striped.bands.detail.model_copy(update={"print_when": "v > 3"})}
            )
        }  # type: ignore[union-attr]
    )
    plan, _ = plan_report(hidden, data)
    assert split_level(plan, raw_values(plan.band("detail"))) is None  # type: ignore[arg-type]
