"""`--runner pyocd` on `waft spectest` and `waft run`: the same results as QEMU, through pyOCD.

With no probe given, pyOCD drives the target's emulated board through the
QEMU-backed probe plugin, so this is the pyOCD path end to end.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "wasm-spec-testsuite"

pytestmark = pytest.mark.qemu


def waft(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waftkit", *args], capture_output=True, text=True,
                          timeout=900)


@pytest.mark.skipif(not SPEC.is_dir(), reason=f"spec suite not found at {SPEC}")
def test_spectest_through_pyocd_matches_qemu():
    files = [str(SPEC / "fac.wast"), str(SPEC / "unreachable.wast")]
    via_pyocd = waft("spectest", *files, "-t", "stm32f4", "--runner", "pyocd", "-j", "1")
    via_qemu = waft("spectest", *files, "-t", "stm32f4", "-j", "1")
    assert via_pyocd.returncode == 0, via_pyocd.stdout + via_pyocd.stderr
    assert via_pyocd.stdout.splitlines()[-1] == via_qemu.stdout.splitlines()[-1] == "72 passed, 0 failed"


def test_run_through_pyocd(tmp_path: Path):
    source = tmp_path / "hi.c"
    source.write_text('#include <stdio.h>\nint main(int c, char **v) { printf("hi %s\\n", v[1]); return 4; }\n')
    wasm = tmp_path / "hi.wasm"
    subprocess.run(["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wl,-z,stack-size=8192",
                    "-Wl,--initial-memory=65536", str(source), "-o", str(wasm)], check=True)
    result = waft("run", str(wasm), "-t", "stm32f4", "--runner", "pyocd", "--", "probe")
    assert (result.returncode, result.stdout) == (4, "hi probe\n"), result.stderr
