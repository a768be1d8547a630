"""`waft bench --metrics --group components`: every figure is measured, and a wrong answer is an error.

A smoke test of the machinery, not of the figures' values: on stm32f4 under
QEMU (instruction counts, so deterministic) the group reports the three call
rows with samples on both sides and the flash rows (path (a) equal to the
original, path (b) bigger); on the host the program runs and prints samples
for every side; a guest whose canonical export answers wrongly
(-DBENCH_GUEST_SKEW=1) fails the program's self-check, so a broken crossing
gives an error, never a number.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aot.targets import load_target
from bench.metrics import components, programs
from bench.metrics.common import MetricError, RunContext

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / "build" / "bench-tests" / "components"


def need(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    try:
        components.wasm_tools()
    except MetricError as exc:
        pytest.skip(str(exc))


@pytest.mark.qemu
def test_components_group_reports_every_figure_on_a_board(tmp_path):
    need("clang", "arm-none-eabi-gcc", "qemu-system-arm")
    result = subprocess.run([sys.executable, "-m", "waftkit", "bench", "--metrics", "--group", "components",
                             "--target", "stm32f4", "--repetitions", "500", "--results", str(tmp_path)],
                            capture_output=True, text=True, cwd=REPO, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    group = json.loads((tmp_path / "metrics_stm32f4.json").read_text())["groups"]["components"]
    rows = {row["key"]: row for row in group["rows"]}
    assert {"call.core", "call.canonical", "crossing", "flash.calls.a"} <= set(rows)
    for key in ("call.core", "call.canonical", "crossing"):
        for side in ("native", "waft"):
            stat = rows[key][side]
            assert stat["count"] == 5 and 0 < stat["min"] <= stat["mean"] <= stat["max"], (key, side, stat)
    # Lowering a string and lifting a record costs more than a core call doing the same work.
    assert rows["crossing"]["waft"]["mean"] > rows["crossing"]["native"]["mean"]
    assert rows["flash.calls.a"]["ratio"] == 1.0  # path (a) gives the core module back
    if "flash.hello.b" in rows:
        assert rows["flash.hello.a"]["ratio"] == 1.0 and rows["flash.hello.b"]["ratio"] > 1.0
    assert (tmp_path / "metrics_stm32f4_components.png").is_file()


def test_the_program_measures_every_side_on_the_host():
    need("clang", "cc")
    host = load_target("host")
    out = programs.run(host, components.build(host, WORK / "good", samples=2), RunContext(work=WORK))
    values = programs.samples(out)
    assert set(values) == {"native.count", "core.count", "canon.count"}
    assert all(len(v) == 2 for v in values.values())


def test_a_canonical_export_that_answers_wrongly_fails_the_group():
    need("clang", "cc")
    host = load_target("host")
    command = components.build(host, WORK / "broken", samples=2, guest_flags=("-DBENCH_GUEST_SKEW=1u",))
    with pytest.raises(MetricError, match=r"failed its self-check.*problem canon\.count answered \{31, 7, 4101306235\}, "
                                          r"expected \{31, 7, 4101306234\}"):
        programs.run(host, command, RunContext(work=WORK))
