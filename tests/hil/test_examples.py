"""Hardware in the loop: build every example for --waft-target and run it on the board at --waft-probe.

    pytest tests/hil --waft-target=stm32f4 --waft-probe=<uid from `pyocd list`>
    pytest tests/hil --waft-target=stm32f4 --waft-probe=all -n 2   # one board per worker

Each example's expected output and exit status are the ones its SConscript
gives WaftFirmware, so `scons test` and this agree.  Without a probe there is
no board: every test is skipped and says why.  (`--waft-probe=qemu:netduinoplus2`
runs the same tests on the emulated board through pyOCD.)
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCONS = Path(sys.executable).with_name("scons")


def firmware_specs() -> list[tuple[str, str, dict]]:
    """(example, firmware, {"stdout": ..., "exit": ...}) for each WaftFirmware call in the examples."""
    specs = []
    for script in sorted(REPO.glob("examples/*/SConscript")):
        for node in ast.walk(ast.parse(script.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "WaftFirmware":
                name = ast.literal_eval(node.args[0])
                kw = {k.arg: k.value for k in node.keywords}
                spec = {"exit": ast.literal_eval(kw["expect_exit"]) if "expect_exit" in kw else 0}
                # As WaftFirmware reads it: expect_stdout=None (its default) checks no output.
                if "expect_stdout" in kw and ast.literal_eval(kw["expect_stdout"]) is not None:
                    spec["stdout"] = ast.literal_eval(kw["expect_stdout"])
                specs.append((script.parent.name, name, spec))
    return specs


@pytest.fixture(scope="module")
def built(pytestconfig, waft_target, waft_probe) -> Path:
    if waft_probe is None:
        pytest.skip("no board: give --waft-probe=<uid> (see `pyocd list`), or 'all'")
    if waft_target.is_host:
        pytest.skip("hardware-in-the-loop tests need a board target (--waft-target)")
    out = REPO / "build" / waft_target.name
    env = dict(os.environ, PATH=f"{SCONS.parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run([str(SCONS), "-Q", f"TARGET={waft_target.name}", str(out)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, f"building the examples failed:\n{proc.stdout}\n{proc.stderr}"
    return out


@pytest.mark.parametrize("example,firmware,spec", firmware_specs(), ids=lambda v: v if isinstance(v, str) else "")
def test_example_runs_on_the_board(built: Path, waft_device, example: str, firmware: str, spec: dict):
    result = waft_device.run(built / example / f"{Path(firmware).stem}.elf")
    assert result.returncode == spec["exit"], result.summary()
    if "stdout" in spec:
        assert result.stdout == spec["stdout"], result.summary()
