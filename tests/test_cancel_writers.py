"""A cancel or the time limit stops the writing of the outputs other than Typst's (HTML, XLSX,
Parquet, CSV, JSON) between their batches, within a second, and leaves no file behind."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import polarreports as pr
from polarreports.emit.bandframe import BandFrames

ROWS = 300_000
BIG = pr.Report(
    name="big",
    bands=pr.Bands(
        detail=pr.Band(
            elements=[pr.Field(column="x", width="30%"), pr.Field(column="y", width="40%"), pr.Field(column="z")]
        )
    ),
)
pytestmark = pytest.mark.usefixtures("temp_folder")  # its temporary files found removed after each test
DATA = pl.DataFrame({"x": range(ROWS), "y": [f"text {i}" for i in range(ROWS)], "z": [i / 7 for i in range(ROWS)]})


def cancelled_while_saving(target: Path, after: float) -> float:
    """Save ``target`` and cancel from another thread ``after`` seconds into the save: the seconds
    from the cancel to ``Cancelled``."""
    token = pr.CancelToken()
    document = BIG.render(DATA, cancel=token)
    cancelled_at: list[float] = []

    def cancel() -> None:
        time.sleep(after)
        cancelled_at.append(time.monotonic())
        token.cancel()

    threading.Thread(target=cancel).start()
    with pytest.raises(pr.Cancelled, match="cancelled"):
        document.save(target)
    return time.monotonic() - cancelled_at[0]


@pytest.mark.serial
@pytest.mark.parametrize("suffix", [".html", ".xlsx"])
def test_a_cancel_stops_a_large_save_within_a_second_and_leaves_no_file(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"out{suffix}"
    assert cancelled_while_saving(target, after=0.3) < 1.0
    assert list(tmp_path.iterdir()) == [tmp_path / "tmp"]  # no output
    assert list((tmp_path / "tmp").iterdir()) == []  # no temporary file (xlsxwriter's neither)


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet", ".xlsx"])
def test_a_cancel_between_batches_stops_the_writing_and_leaves_no_file(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = pr.CancelToken()
    document = BIG.render(DATA.head(60_000), cancel=token)  # three batches of detail rows
    finished = BandFrames._finished

    def cancel_after_the_first(frames: BandFrames, *args: Any) -> pl.DataFrame:
        token.cancel()
        return finished(frames, *args)

    monkeypatch.setattr(BandFrames, "_finished", cancel_after_the_first)
    with pytest.raises(pr.Cancelled, match="cancelled"):
        document.save(tmp_path / f"out{suffix}")
    assert list(tmp_path.iterdir()) == [tmp_path / "tmp"]
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.serial
def test_a_cancel_while_the_workbook_is_zipped_stops_it_and_leaves_no_temporary_file(
    tmp_path: Path, temp_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xlsxwriter  # type: ignore[import-untyped]

    token = pr.CancelToken()
    document = BIG.render(DATA.head(1_000), cancel=token)
    close = xlsxwriter.Workbook.close
    cancelled_at: list[float] = []

    def slow_close(workbook: object) -> None:  # the cancel comes as the workbook is zipped
        cancelled_at.append(time.monotonic())
        token.cancel()
        time.sleep(1.5)  # longer than the second the cancel has
        close(workbook)

    monkeypatch.setattr(xlsxwriter.Workbook, "close", slow_close)
    with pytest.raises(pr.Cancelled, match="cancelled"):
        document.save(tmp_path / "out.xlsx")
    assert time.monotonic() - cancelled_at[0] < 1.0
    assert list(tmp_path.iterdir()) == [temp_folder]
    while any(thread.name == "polarreports-xlsx" for thread in threading.enumerate()):
        time.sleep(0.05)  # the abandoned zipping ends (into the removed file) ...
    assert list(temp_folder.iterdir()) == []  # ... and removes xlsxwriter's temporary files
