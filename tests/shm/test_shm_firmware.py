"""Shared-memory regions end to end, through SCons, on the host and on stm32f4 under QEMU.

tests/shm/project is a firmware whose module (probe.wat) is granted `ring`
(256 bytes, read-write, a static array), `rom` (64 bytes, read-only, in a
linker section of its own) and `tail` (ring's last 64 bytes, placed inside
it, under a read-only grant); its native main.c checks, from outside the
module, every rule docs/shared-memory.md states: the module's stores land at
the region's native address and native stores are what it loads (no copy);
every access past a region's end, before its start, wrapping past 2^32 or
between the windows traps; a store into the read-only region traps and
changes nothing; linear memory behaves as before; and the `regions` imports
(open/read/write/sync-*) answer as the WIT says.  It prints one line per
failed check, so a breach names itself.

At build time: a module importing a region that is not granted to it, or a
grant of a region the firmware does not declare, stops the build with one
line and leaves no object behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCONS = Path(sys.executable).with_name("scons")
REPO = Path(__file__).resolve().parents[2]
PROJECT = Path(__file__).resolve().parent / "project"


def scons(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "WAFT_SCONS_TOOLS": str(REPO / "site_scons" / "site_tools")}
    return subprocess.run([str(SCONS), "-Q", *args], cwd=project, capture_output=True, text=True, env=env,
                          timeout=600)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("shm") / "project"
    shutil.copytree(PROJECT, copy)
    return copy


def test_every_region_rule_holds_on_the_host(project):
    result = scons(project, "TARGET=host", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "74 checks passed\nPASS shm_probe\n" in result.stdout


@pytest.mark.qemu
def test_every_region_rule_holds_on_stm32f4(project):
    for tool in ("qemu-system-arm", "arm-none-eabi-gcc"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    result = scons(project, "TARGET=stm32f4", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "74 checks passed\nPASS shm_probe.elf\n" in result.stdout


@pytest.mark.parametrize("target", ["host", "stm32f4"])
def test_a_region_not_granted_stops_the_build_in_one_line(project, target):
    out = project.parent / f"refused-{target}"
    shutil.copytree(PROJECT, out)
    result = scons(out, f"TARGET={target}", "GRANTS=probe=ring probe=tail", "test")
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("waft: error:")]
    assert lines == [f"waft: error: build/{target}/probe.wasm: probe imports shared-memory region 'rom', "
                     "which is not granted to it (granted: ring, tail)"], result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (out / "build" / target / "probe.o").exists()


def test_a_grant_of_an_undeclared_region_stops_the_build_in_one_line(project):
    out = project.parent / "undeclared"
    shutil.copytree(PROJECT, out)
    result = scons(out, "GRANTS=probe=ring probe=rom:ro probe=tail:ro probe=dma", "test")
    assert result.returncode != 0
    # Whichever step meets it first (the module's compile or the regions' C) says it, in one line.
    lines = [line for line in result.stderr.splitlines() if line.startswith("waft: error:")]
    assert len(lines) == 1 and lines[0].endswith(
        ": region grant 'dma': the firmware declares no region 'dma' (declared: ring, rom, tail)"), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
