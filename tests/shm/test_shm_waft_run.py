"""`waft run --region`: a WASI command (C, through clang) granted regions on the host and on stm32f4 under QEMU.

tests/shm/wasi/regions_cli.c writes through its `ring` window and reads
the bytes back through the `read` import, which copies from the region's
native address: the run passes only when the module's stores landed there.
A store into the read-only `rom`, and a load one byte past `ring`'s end,
end the program with the out-of-bounds trap.  Leaving `rom` out of the
grants stops the build with one line, before anything runs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent / "wasi" / "regions_cli.c"
GRANTS = ["--region", "ring:256", "--region", "rom:64:ro"]
TRAP_STATUS = 70  # WAFT_TRAP_EXIT_STATUS


@pytest.fixture(scope="module")
def wasm(tmp_path_factory) -> Path:
    if shutil.which("clang") is None:
        pytest.skip("clang is not installed")
    out = tmp_path_factory.mktemp("regions") / "regions_cli.wasm"
    subprocess.run(["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wl,-z,stack-size=8192",
                    "-Wl,--initial-memory=65536", str(SOURCE), "-o", str(out)], check=True)
    return out


def waft_run(wasm: Path, target: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waftkit", "run", str(wasm), "-t", target, *args],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


TARGETS = ["host", pytest.param("stm32f4", marks=pytest.mark.qemu)]


@pytest.mark.parametrize("target", TARGETS)
def test_stores_through_the_window_are_what_the_runtime_reads_at_the_native_address(wasm, target):
    result = waft_run(wasm, target, *GRANTS)
    assert (result.returncode, result.stdout) == (0, "regions ok: zero copy\n"), result.stderr


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", ["store-rom", "past-end"])
def test_a_read_only_store_and_a_load_past_the_end_trap(wasm, target, case):
    result = waft_run(wasm, target, *GRANTS, "--", case)
    assert result.returncode == TRAP_STATUS, result.stdout + result.stderr
    assert "waft: trap: out of bounds memory access" in result.stderr


@pytest.mark.parametrize("target", TARGETS)
def test_a_region_not_granted_stops_the_build_in_one_line(wasm, target):
    result = waft_run(wasm, target, "--region", "ring:256")
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"waft: error: {wasm}: link error: regions_cli.wasm imports shared-memory region 'rom', "
        "which is not granted to it (granted: ring)"], result.stderr


def test_a_bad_region_option_is_one_line(wasm):
    result = waft_run(wasm, "host", "--region", "Ring:256")
    assert result.returncode == 2
    assert result.stderr.strip().endswith("--region: region grant 'Ring:256': region name 'Ring' must be 1 to 32 "
                                          "lowercase letters, digits or '-'"), result.stderr
