"""`scons RUNNER=pyocd test` and `scons flash` in a temporary project, through the QEMU-backed probe.

The same firmware passes with RUNNER=qemu and RUNNER=pyocd; a firmware that
exits with the wrong status fails with that status through the pyOCD path;
`flash` programs the image with pyOCD (here into the emulated board).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCONS = Path(sys.executable).with_name("scons")

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"),
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed"),
]

SCONSTRUCT = f"""
import os
env = Environment(tools=["default", "waft"], toolpath=[{str(REPO / "site_scons" / "site_tools")!r}],
                  WAFT_TARGET=ARGUMENTS.get("TARGET", "host"),
                  WAFT_RUNNER=ARGUMENTS.get("RUNNER", "qemu"), WAFT_PROBE=ARGUMENTS.get("PROBE", ""),
                  ENV={{"PATH": os.environ["PATH"]}})
env.Prepend(CPPPATH=["."])
SConsignFile("build/.sconsign")
SConscript("SConscript", exports="env", variant_dir="build/" + env["WAFT_TARGET"], duplicate=False)
"""

SCONSCRIPT = """
Import("env")
env.WaftFirmware("good", ["good.c", "sq.wat"], expect_stdout="sq 49\\n")
env.WaftFirmware("bad", ["bad.c"], expect_exit=0)
"""

SQ_WAT = '(module (func (export "sq") (param i32) (result i32) (i32.mul (local.get 0) (local.get 0))))'

GOOD_C = """#include <stdio.h>
#include "sq.h"
static sq__instance inst;
int main(void) {
    sq__imports imports = {0};
    if (sq__instantiate(&inst, &imports) != WAFT_TRAP_NONE) return 2;
    printf("sq %d\\n", (int) sq_sq(&inst, 7));
    return 0;
}
"""

BAD_C = '#include <stdio.h>\nint main(void) { puts("giving up"); return 4; }\n'


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pyocd_project")
    for name, text in (("SConstruct", SCONSTRUCT), ("SConscript", SCONSCRIPT), ("sq.wat", SQ_WAT),
                       ("good.c", GOOD_C), ("bad.c", BAD_C)):
        (root / name).write_text(text)
    return root


def scons(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{SCONS.parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run([str(SCONS), "-Q", "TARGET=stm32f4", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("runner", ["qemu", "pyocd"])
def test_same_firmware_passes_with_either_runner(project: Path, runner: str):
    proc = scons(project, f"RUNNER={runner}", "test-good")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS good.elf" in proc.stdout and "sq 49" in proc.stdout, proc.stdout + proc.stderr


def test_failing_firmware_fails_through_pyocd(project: Path):
    proc = scons(project, "RUNNER=pyocd", "test-bad")
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, log
    assert "FAIL bad.elf: exit status 4, expected 0" in proc.stdout, log
    assert "giving up" in proc.stdout, log


def test_flash_programs_through_pyocd(project: Path):
    proc = scons(project, "PROBE=qemu:netduinoplus2", "flash-good")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "flashed build/stm32f4/good.elf through QEMU" in proc.stdout
