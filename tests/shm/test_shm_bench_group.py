"""`waft bench --metrics --group shared_memory`: the group runs end to end on stm32f4 and reports every figure.

A smoke test of the benchmark's machinery, not of the figures (no timing is
asserted): every row is there with a number on both sides (the program
itself checks that each variant summed the same words), and a target the
group cannot measure gets a note naming why instead of figures.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROWS = {"copy", "zero", "const", "pointer", "linear", "nogrant"}


def waft_bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waftkit", "bench", "--metrics", "--group", "shared_memory", *args],
                          capture_output=True, text=True, cwd=REPO, timeout=300, check=False)


@pytest.mark.qemu
def test_the_group_reports_every_figure_on_stm32f4(tmp_path):
    for tool in ("wat2wasm", "arm-none-eabi-gcc", "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    result = waft_bench("--target", "stm32f4", "--results", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    group = json.loads((tmp_path / "metrics_stm32f4.json").read_text())["groups"]["shared_memory"]
    assert group["unit"] == "instructions"
    rows = {row["key"]: row for row in group["rows"]}
    assert set(rows) == ROWS
    for row in rows.values():
        for side in ("native", "waft"):
            assert isinstance(row[side]["mean"], float) and row[side]["mean"] > 0, row
    assert "Zero copy saves" in group["notes"][0]


def test_the_host_has_no_figures_and_says_why(tmp_path):
    result = waft_bench("--target", "host", "--results", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr  # a run of every group on the host stays green
    group = json.loads((tmp_path / "metrics_host.json").read_text())["groups"]["shared_memory"]
    assert group["rows"] == []
    assert group["notes"][0].startswith("Not measured: host is not a Cortex-M board"), group
    assert "Not measured: host is not a Cortex-M board" in (tmp_path / "metrics_host.md").read_text()
