"""Spreadsheets as a reader sees them: Debian's LibreOffice (``libreoffice-calc-nogui``, which
``make system`` installs) converts a workbook to CSV holding each cell's text as shown.

    shown = shown_by_libreoffice(workbook, tmp_path)  # rows of cell texts

Without LibreOffice the calling test is skipped with the reason naming the Debian package.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice")
MISSING = "LibreOffice is not installed: install the Debian package libreoffice-calc-nogui (make system)"
_AS_SHOWN = "44,34,76,1,,0,false,true,true"  # comma, quote, UTF-8, ..., each cell's text as shown
_RECALCULATE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">'
    '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
    '<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item></oor:items>\n'
)  # recompute every formula on load (LibreOffice trusts an .xlsx file's cached values otherwise)


def shown_by_libreoffice(workbook: Path, folder: Path, *, recalculate: bool = False) -> list[list[str]]:
    """The cells of ``workbook``'s first sheet, row by row, as LibreOffice shows them (one
    conversion, with a fresh profile in ``folder``); ``recalculate``: every formula recomputed
    on load first."""
    if SOFFICE is None:
        pytest.skip(MISSING)
    profile = folder / "profile"
    if recalculate:
        (profile / "user").mkdir(parents=True, exist_ok=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_RECALCULATE)
    out = folder / "out"
    env = {**os.environ, "HOME": str(folder), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    command = [
        SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
        "--convert-to", f"csv:Text - txt - csv (StarCalc):{_AS_SHOWN}", "--outdir", str(out), str(workbook),
    ]  # fmt: skip
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=180)
    with (out / f"{workbook.stem}.csv").open(encoding="utf-8", newline="") as file:
        return list(csv.reader(file))
