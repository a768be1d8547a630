"""`waft bench --metrics --group calls`: every call figure is measured on a board, and a wrong result is an error.

A smoke test of the machinery, not of the figures (no timing is asserted):
the group runs under QEMU with a few samples and reports all six rows with
a distribution on both sides and in the wasm2c peer's column; the same
programs built with an import that answers wrongly (-DBENCH_F0_RESULT=8)
fail their self-check, so a broken call path gives an error, never a number.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aot.targets import load_target
from bench.metrics import calls, programs
from bench.metrics.common import MetricError, RunContext

REPO = Path(__file__).resolve().parents[2]
TARGET = "mps2-an386"
WORK = REPO / "build" / "bench-tests" / "calls"


def waft_bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waftkit", "bench", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=300, check=False)


def need(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


@pytest.mark.qemu
def test_calls_group_reports_every_figure_on_a_board(tmp_path):
    need("wat2wasm", "arm-none-eabi-gcc", "qemu-system-arm")
    result = waft_bench("--metrics", "--group", "calls", "--target", TARGET, "--repetitions", "500",
                        "--results", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    group = json.loads((tmp_path / f"metrics_{TARGET}.json").read_text())["groups"]["calls"]
    assert group["unit"] == "instructions"
    rows = {row["key"]: row for row in group["rows"]}
    assert set(rows) == {f"{kind}{n}" for kind in ("export", "import") for n in (0, 4, 16)}
    for key, row in rows.items():
        for side in ("native", "waft"):
            stat = row[side]
            assert stat["count"] == 5, (key, side, stat)
            assert 0 < stat["min"] <= stat["mean"] <= stat["p99"] <= stat["max"], (key, side, stat)
        peer = row["peers"]["wasm2c"]
        assert peer["count"] == 5 and 0 < peer["min"] <= peer["max"], (key, peer)
    # More arguments cost more on both sides (a stack-passed argument is at least a store).
    assert rows["export16"]["waft"]["mean"] > rows["export0"]["waft"]["mean"]
    assert (tmp_path / f"metrics_{TARGET}_calls.png").is_file()


def test_an_import_that_answers_wrongly_fails_the_group():
    need("wat2wasm", "cc")
    host = load_target("host")
    command = calls.build(host, WORK / "broken", samples=2, cflags=("-DBENCH_F0_RESULT=8",))
    with pytest.raises(MetricError, match=r"failed its self-check.*problem waft\.import0 returned a sum of 800, "
                                          r"expected 700"):
        programs.run(host, command, RunContext(work=WORK))


def test_a_wasm2c_import_that_answers_wrongly_fails_the_peer():
    need("wat2wasm", "cc", "wasm2c")
    host = load_target("host")
    command = calls.build_wasm2c(host, WORK / "broken_wasm2c", samples=2, cflags=("-DBENCH_F0_RESULT=8",))
    with pytest.raises(MetricError, match=r"failed its self-check.*problem wasm2c\.import0 returned a sum of 800, "
                                          r"expected 700"):
        programs.run(host, command, RunContext(work=WORK))
    good = programs.run(host, calls.build_wasm2c(host, WORK / "good_wasm2c", samples=2), RunContext(work=WORK))
    assert {name for name in programs.samples(good)} == {f"wasm2c.{k}{n}" for k in ("export", "import")
                                                        for n in (0, 4, 16)}


def test_the_unbroken_program_passes_on_the_host():
    need("wat2wasm", "cc")
    host = load_target("host")
    out = programs.run(host, calls.build(host, WORK / "good", samples=2), RunContext(work=WORK))
    values = programs.samples(out)
    assert {name.split(".")[1] for name in values} == {f"{k}{n}" for k in ("export", "import") for n in (0, 4, 16)}


def test_wasm3_calls_check_their_sums():
    need("wat2wasm")
    pytest.importorskip("wasm3", reason="pywasm3 is not installed (pip install -e .[test])")
    wasm = programs.wat((calls.SOURCES / "calls.wat").read_text(), WORK / "wasm3" / "calls.wasm")
    with pytest.raises(MetricError, match=r"wasm3 \(pywasm3\) wasm3\.import0 returned a sum of 800, expected 700"):
        calls.wasm3_samples(wasm, 2, f0_result=8)
    values = calls.wasm3_samples(wasm, 2)
    assert set(values) == {"python.call0"} | {f"wasm3.{k}{n}" for k in ("export", "import") for n in (0, 4, 16)}
    assert all(len(v) == 2 and min(v) > 0 for v in values.values())
