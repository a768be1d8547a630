"""`waft bench --metrics`: the threads group runs end to end on one board and reports every figure as a number.

A smoke test of the benchmark's machinery, not of the figures: a few
hundred repetitions and twenty releases keep it to seconds, and no timing is
asserted.  What is checked is what a reader of bench/results/metrics_*.md
relies on: every row is there, each side that measured it gave a number
(min <= mean <= max for a distribution), a figure missing on one side comes
with a note saying why, and bad options are one-line errors.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TARGET = "mps2-an386"  # Cortex-M4: the row with the switch goal

# Rows both native C and Waft must fill on a Cortex-M board.
BOTH = ["yield_alone", "spawn_join", "notify_round_trip", "notify_wake", "release_latency",
        "period_jitter", "missed", "clock_read"]
DISTRIBUTIONS = ["notify_wake", "release_latency", "isr_wake"]


def waft_bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waftkit", "bench", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=300, check=False)


def numeric(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@pytest.mark.qemu
def test_threads_group_reports_every_figure(tmp_path):
    for tool in ("wat2wasm", "arm-none-eabi-gcc", "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    result = waft_bench("--metrics", "--group", "threads", "--target", TARGET,
                        "--repetitions", "200", "--periods", "20", "--results", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((tmp_path / f"metrics_{TARGET}.json").read_text())
    group = data["groups"]["threads"]
    assert group["unit"] == "instructions"
    rows = {row["key"]: row for row in group["rows"]}
    assert set(BOTH) | {"context_switch", "isr_wake", "fp_context_switch"} <= set(rows)
    for key, row in rows.items():
        sides = ["native", "waft"] if key in BOTH else ["native"]
        for side in sides:
            stat = row[side]
            assert stat is not None and numeric(stat["mean"]), (key, side, stat)
            if key in DISTRIBUTIONS:
                assert stat["min"] <= stat["mean"] <= stat["max"], (key, side, stat)
                assert stat["count"] > 0
        if row["native"] and row["waft"]:
            assert numeric(row["difference"])
    # The switch is the headline figure: Waft's is either measured or explained.
    switch = rows["context_switch"]
    assert switch["goal"] and switch["met"]["native"] in (True, False)
    if switch["waft"] is None:
        assert any("sched_yield" in note for note in group["notes"]), group["notes"]
    report = (tmp_path / f"metrics_{TARGET}.md").read_text()
    assert "| figure | native C | Waft |" in report
    assert report.count("\n| ") >= len(rows) + 1


def test_bad_options_are_one_line_errors():
    unknown = waft_bench("--metrics", "--group", "nope", "--target", TARGET)
    assert unknown.returncode == 2
    # The registry names every group (more join as they land).
    from bench.metrics import GROUPS

    assert unknown.stderr.strip() == f"waft: error: unknown metric group 'nope' (groups: {', '.join(GROUPS)})"
    without = waft_bench("--group", "threads", "--target", TARGET)
    assert without.returncode == 2 and len(without.stderr.strip().splitlines()) == 1
    assert "--metrics" in without.stderr
