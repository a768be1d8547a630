"""Real SCons builds in temporary projects that load Waft's tools by toolpath, as a user's would.

Each test writes a small project (a C main and a WAT module), runs the real
`scons` from the venv, and checks what a firmware engineer relies on: it
builds and runs, a second build does nothing, touching one file rebuilds only
what depends on it, changing a compiler option rebuilds the module, and a
firmware that does not fit the board fails with the figures.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCONS = Path(sys.executable).with_name("scons")

SCONSTRUCT = f"""
import os
env = Environment(tools=["default", "waft"], toolpath=[{str(REPO / "site_scons" / "site_tools")!r}],
                  WAFT_TARGET=ARGUMENTS.get("TARGET", "host"), WAFT_OPT=ARGUMENTS.get("OPT", "2"),
                  WAFT_MAX_PAGES=ARGUMENTS.get("MAX_PAGES", ""), ENV={{"PATH": os.environ["PATH"]}})
env.Prepend(CPPPATH=["."])
SConsignFile("build/.sconsign")
SConscript("SConscript", exports="env", variant_dir="build/" + env["WAFT_TARGET"], duplicate=False)
"""

SCONSCRIPT = """
Import("env")
env.WaftFirmware("app", ["main.c", "util.c", "counter.wat"], expect_stdout="count=3 twice=6\\n")
"""

COUNTER_WAT = """(module
  (memory 1)
  (global $n (mut i32) (i32.const 0))
  (func (export "bump") (result i32)
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (i32.store (i32.const 0) (global.get $n))
    (i32.load (i32.const 0))))
"""

MAIN_C = """#include <stdio.h>
#include "counter.h"
int twice(int x);
static counter__instance inst;
int main(void) {
    counter__imports imports = {0};
    if (counter__instantiate(&inst, &imports) != WAFT_TRAP_NONE) return 2;
    counter_bump(&inst); counter_bump(&inst);
    int n = counter_bump(&inst);
    printf("count=%d twice=%d\\n", n, twice(n));
    return 0;
}
"""

UTIL_C = "int twice(int x) { return 2 * x; }\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "SConstruct").write_text(SCONSTRUCT)
    (tmp_path / "SConscript").write_text(SCONSCRIPT)
    (tmp_path / "counter.wat").write_text(COUNTER_WAT)
    (tmp_path / "main.c").write_text(MAIN_C)
    (tmp_path / "util.c").write_text(UTIL_C)
    return tmp_path


def scons(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(SCONS), "-Q", *args], cwd=project, capture_output=True, text=True,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    if check and proc.returncode != 0:
        raise AssertionError(f"scons {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def commands(output: str) -> list[str]:
    """The build commands SCons ran (one per line of -Q output), minus reports."""
    return [line for line in output.splitlines()
            if line.split()[:1] and line.split()[0] in ("cc", "waft", "wat2wasm", "ar", "ranlib",
                                                        "arm-none-eabi-gcc")]


def test_builds_and_tests_on_host(project: Path):
    result = scons(project, "test")
    assert "PASS app" in result.stdout
    assert (project / "build/host/counter.h").is_file()
    assert (project / "build/host/app.map").is_file()


def test_noop_rebuild_runs_nothing(project: Path):
    scons(project)
    again = scons(project)
    assert commands(again.stdout) == []
    assert "up to date" in again.stdout


def test_touching_one_c_file_rebuilds_only_what_depends_on_it(project: Path):
    scons(project)
    time.sleep(1.1)  # a newer mtime; SCons decides on content anyway
    (project / "util.c").write_text(UTIL_C.replace("2 * x", "3 * x"))
    ran = commands(scons(project).stdout)
    assert any("util.c" in c for c in ran)
    assert not any("main.c" in c or "counter" in c.split()[0] for c in ran)
    assert not any(c.startswith("waft compile") for c in ran)
    assert any(" -o build/host/app " in c + " " for c in ran)  # relinked


def test_changing_an_aot_option_rebuilds_the_module(project: Path):
    scons(project)
    ran = commands(scons(project, "OPT=0").stdout)
    assert any(c.startswith("waft compile") for c in ran)
    assert not any("util.c" in c for c in ran)


@pytest.mark.qemu
def test_stm32f4_builds_runs_under_qemu_and_has_bin_and_hex(project: Path):
    result = scons(project, "TARGET=stm32f4", "test")
    assert "PASS app.elf" in result.stdout
    for suffix in (".elf", ".bin", ".hex", ".map"):
        assert (project / f"build/stm32f4/app{suffix}").is_file()
    assert "flash" in result.stdout and "of  1,048,576 bytes" in result.stdout


def test_too_big_for_the_board_fails_with_the_figures(project: Path):
    # 4 pages of linear memory (256 KiB) cannot fit the STM32F4's 128 KiB of RAM.
    (project / "counter.wat").write_text(COUNTER_WAT.replace("(memory 1)", "(memory 4)"))
    result = scons(project, "TARGET=stm32f4", check=False)
    assert result.returncode != 0
    assert "RAM" in result.stderr and "overflowed by" in result.stderr
    assert not (project / "build/stm32f4/app.elf").exists()


def test_nrf52840_is_build_only_but_builds(project: Path):
    result = scons(project, "TARGET=nrf52840")
    for suffix in (".elf", ".bin", ".hex", ".map"):
        assert (project / f"build/nrf52840/app{suffix}").is_file()
    assert "of    262,144 bytes" in result.stdout  # checked against the nRF52840's 256 KiB of RAM


def test_size_prints_the_report_of_each_firmware(project: Path):
    scons(project, "TARGET=stm32f4")
    result = scons(project, "TARGET=stm32f4", "size")
    assert "app.elf (stm32f4):" in result.stdout
    assert "flash" in result.stdout and "RAM" in result.stdout and "of    131,072 bytes" in result.stdout


def test_testing_a_board_without_an_emulator_is_one_line(project: Path):
    result = scons(project, "TARGET=nrf52840", "test", check=False)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("waft: error:")]
    assert errors == ["waft: error: app.elf: target nrf52840 has no QEMU machine to run on"], result.stderr


def test_a_module_depends_on_the_compiler_and_its_target_only(project: Path):
    """A changed runner, test tool or CLI never recompiles Wasm; a changed compiler or target.toml does."""
    scons(project)
    tree = scons(project, "--tree=prune", "build/host/counter.o").stdout
    children = {line.strip(" |+-[]") for line in tree.splitlines()}
    assert str(REPO / "aot" / "lower" / "memory.py") in children, tree
    assert str(REPO / "targets" / "host" / "target.toml") in children, tree
    assert not [c for c in children if "waftkit" in c or "/tests/" in c or "site_scons" in c], tree
