"""`waft run --region`: a WASI command (C, through clang) granted regions on the host and on stm32f4 under QEMU.

tests/shm/wasi/regions_cli.c writes through its `ring` window and reads
the bytes back through the `read` import, which copies from the region's
native address: the run passes only when the module's stores landed there.
A store into the read-only `rom`, and a load one byte past `ring`'s end,
end the program with the out-of-bounds trap.  Leaving `rom` out of the
grants stops the build with one line, before anything runs.  The same
program as SCons WASI firmware (WaftWasiFirmware with WAFT_SHM_REGIONS and
WAFT_SHM_GRANTS) passes too, and without the regions stops in one line.
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


# The same program as SCons WASI firmware: WaftWasiFirmware takes the regions and grants (prefix `prog`).
SCONSTRUCT = """
import os
env = Environment(tools=["default", "waft"], toolpath=[os.environ["WAFT_SCONS_TOOLS"]],
                  WAFT_TARGET=ARGUMENTS.get("TARGET", "host"), ENV={"PATH": os.environ["PATH"]})
SConsignFile("build/.sconsign")
SConscript("SConscript", exports="env", variant_dir="build/" + env["WAFT_TARGET"], duplicate=False)
"""
SCONSCRIPT = """
Import("env")
wasm = env.WasmProgram("regions_cli.wasm", ["regions_cli.c"])
fw = env.Clone(WAFT_SHM_REGIONS=ARGUMENTS.get("REGIONS", "ring:256 rom:64").split(),
               WAFT_SHM_GRANTS=["prog=ring", "prog=rom:ro"]) if ARGUMENTS.get("REGIONS") != "none" else env
fw.WaftWasiFirmware("regions_cli", wasm, expect_stdout="regions ok: zero copy\\n")
"""


@pytest.fixture(scope="module")
def wasi_project(tmp_path_factory) -> Path:
    project = tmp_path_factory.mktemp("wasi_scons")
    (project / "SConstruct").write_text(SCONSTRUCT)
    (project / "SConscript").write_text(SCONSCRIPT)
    shutil.copy(SOURCE, project / "regions_cli.c")
    return project


def scons(project: Path, *args: str) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1",
           "WAFT_SCONS_TOOLS": str(Path(__file__).resolve().parents[2] / "site_scons" / "site_tools")}
    return subprocess.run([str(Path(sys.executable).with_name("scons")), "-Q", *args], cwd=project,
                          capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.parametrize("target", TARGETS)
def test_wasi_firmware_takes_regions_from_scons(wasi_project, target):
    result = scons(wasi_project, f"TARGET={target}", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "regions ok: zero copy\nPASS regions_cli" in result.stdout


def test_wasi_firmware_without_declared_regions_is_one_line(wasi_project):
    result = scons(wasi_project, "TARGET=host", "REGIONS=none", "test")
    assert result.returncode != 0
    errors = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("waft: error:")]
    assert errors == ["waft: error: build/host/regions_cli.wasm: prog imports shared-memory region 'ring', which "
                      "is not granted to it (granted: none)"], result.stdout + result.stderr
