"""Smoke test of the hostile campaign (``benchmarks/hostile_campaign.py``), small: it runs, counts
its outcomes and finds nothing on the current code.

Not part of the main suite; run it with::

    python -m pytest benchmarks/test_hostile_campaign_smoke.py -q -p no:cacheprovider
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_a_small_campaign_runs_and_finds_nothing(tmp_path: Path) -> None:
    out = tmp_path / "campaign.json"
    command = [sys.executable, str(HERE / "hostile_campaign.py"), "--mutations", "40", "--strings", "150"]
    command += ["--pdf-every", "20", "--skip-limits", "--seed", "5", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ}, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    figures = json.loads(out.read_text())
    assert sum(figures["mutations"]["outcomes"].values()) == 40
    assert figures["mutations"]["outcomes"].get("polarreports error", 0) > 10  # the mutations do break definitions
    assert figures["strings"]["documents"] == 1
    assert figures["findings"] == []
    assert figures["network"]["connections_arrived"] == 0
