"""`waft bench --metrics --group startup`: start-up figures from QEMU's execution log, instantiation self-checked.

No timing is asserted beyond order: the counts from reset come from one
traced QEMU run per program, so reset -> main is before the first Wasm
function, and Waft's instantiation is a distribution of real runs.  An
instantiation checked for a marker the module does not hold fails the group
(the check is what makes a figure trustworthy).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aot.targets import load_target
from bench.metrics import startup
from bench.metrics.common import MetricError, RunContext

REPO = Path(__file__).resolve().parents[2]
TARGET = "stm32f4"
WORK = REPO / "build" / "bench-tests" / "startup"


def need(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


@pytest.mark.qemu
def test_startup_group_on_a_board(tmp_path):
    need("clang", "arm-none-eabi-gcc", "qemu-system-arm")
    result = subprocess.run([sys.executable, "-m", "waftkit", "bench", "--metrics", "--group", "startup",
                             "--target", TARGET, "--repetitions", "300", "--results", str(tmp_path)],
                            capture_output=True, text=True, cwd=REPO, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    group = json.loads((tmp_path / f"metrics_{TARGET}.json").read_text())["groups"]["startup"]
    rows = {row["key"]: row for row in group["rows"]}
    for name in ("small", "large"):
        main, code = rows[f"reset_main_{name}"], rows[f"reset_code_{name}"]
        assert 0 < main["native"]["mean"] == code["native"]["mean"]  # native code starts at main
        assert 0 < main["waft"]["mean"] < code["waft"]["mean"]  # Waft's main sets up WASI and instantiates first
        inst = rows[f"instantiate_{name}"]
        assert inst["native"] is None and inst["waft"]["count"] == 3 and inst["waft"]["min"] > 0
        # The firmware's Wasm starts after its instantiation: more than that many instructions from reset.
        assert code["waft"]["mean"] > inst["waft"]["min"]
        # The wasm2c peer: its own main and instantiation, the same module.
        assert 0 < main["peers"]["wasm2c"]["mean"] < code["peers"]["wasm2c"]["mean"]
        assert inst["peers"]["wasm2c"]["count"] == 3 and inst["peers"]["wasm2c"]["min"] > 0


def test_an_instantiation_without_its_data_fails_the_group():
    need("clang", "cc")
    host = load_target("host")
    wasm = startup.build_wasm("small", WORK)
    with pytest.raises(MetricError, match="problem the data segment's marker is not in linear memory"):
        startup.instantiate_samples(host, RunContext(work=WORK), "small", wasm, WORK, 2,
                                    cflags=('-DBENCH_MARKER="no-such-marker"',))
    values, instance = startup.instantiate_samples(host, RunContext(work=WORK), "small", wasm, WORK, 2)
    assert len(values) == 2 and instance > 65536


def test_a_wasm2c_instantiation_without_its_data_fails_the_peer():
    need("clang", "cc", "wasm2c")
    host = load_target("host")
    wasm = startup.build_wasm("small", WORK)
    with pytest.raises(MetricError, match="problem the data segment's marker is not in wasm2c's linear memory"):
        startup.wasm2c_instantiate(host, RunContext(work=WORK), "small", wasm, WORK / "broken_wasm2c", 2,
                                   cflags=('-DBENCH_MARKER="no-such-marker"',))
    assert len(startup.wasm2c_instantiate(host, RunContext(work=WORK), "small", wasm, WORK / "wasm2c", 2)) == 2


def test_wasm3_instantiation_checks_the_data_segment():
    need("clang")
    pytest.importorskip("wasm3", reason="pywasm3 is not installed (pip install -e .[test])")
    wasm = startup.build_wasm("small", WORK)
    with pytest.raises(MetricError, match="wasm3 loaded small.wasm without its data segment's marker"):
        startup.wasm3_instantiate(wasm, 2, marker=b"no-such-marker")
    timings = startup.wasm3_instantiate(wasm, 2)
    assert timings is not None and len(timings) == 2 and min(timings) > 0
