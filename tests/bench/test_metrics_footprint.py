"""`waft bench --metrics --group footprint`: runtime flash, static RAM and a painted stack per feature set.

No size is asserted against a budget; what is checked is that every feature
set the board has is measured (runtime flash > 0, a stack high-water mark
inside the board's stack), that the richer WASI image needs more runtime
than the minimal one, and that a program that fails its own check fails
the group instead of giving a number.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aot.targets import load_target
from bench.metrics import footprint, programs
from bench.metrics.common import MetricError, RunContext

REPO = Path(__file__).resolve().parents[2]
TARGET = "stm32f4"
WORK = REPO / "build" / "bench-tests" / "footprint"
FEATURES = ("core", "wasi_min", "wasi_full", "threads", "interrupts")


def need(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


@pytest.mark.qemu
def test_footprint_group_on_a_board(tmp_path):
    need("clang", "wat2wasm", "arm-none-eabi-gcc", "qemu-system-arm")
    result = subprocess.run([sys.executable, "-m", "waftkit", "bench", "--metrics", "--group", "footprint",
                             "--target", TARGET, "--results", str(tmp_path)],
                            capture_output=True, text=True, cwd=REPO, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    group = json.loads((tmp_path / f"metrics_{TARGET}.json").read_text())["groups"]["footprint"]
    rows = {row["key"]: row for row in group["rows"]}
    assert set(rows) == {f"{kind}_{f}" for kind in ("flash", "ram", "stack") for f in FEATURES}
    stack_size = group["raw"]["baseline"]["stack"]
    for feature in FEATURES:
        assert rows[f"flash_{feature}"]["waft"]["mean"] > 0
        assert 0 < rows[f"stack_{feature}"]["waft"]["mean"] < 16 * 1024
        assert rows[f"stack_{feature}"]["native"]["mean"] == stack_size
    assert rows["flash_wasi_full"]["waft"]["mean"] > rows["flash_wasi_min"]["waft"]["mean"]
    assert any("wasi-ext:sockets" in note for note in group["notes"])


@pytest.mark.qemu
def test_a_core_program_that_fails_its_check_fails_the_group():
    need("wat2wasm", "arm-none-eabi-gcc", "qemu-system-arm")
    target = load_target(TARGET)
    broken = (footprint.SOURCES / "core.wat").read_text().replace("(i32.add (local.get 0) (local.get 1))",
                                                                   "(i32.sub (local.get 0) (local.get 1))")
    wasm = programs.wat(broken, WORK / "broken" / "core.wasm")
    image = footprint.core_image(target, wasm.read_bytes(), WORK / "broken" / "core", paint=True)
    with pytest.raises(MetricError, match="failed its self-check or run: problem the core module did not add"):
        footprint.high_water(target, image.elf, RunContext(work=WORK))
