"""Linking a compiled module with the runtime and board glue, and measuring it against the board."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from aot.compiler import compile_module
from aot.errors import TargetError
from aot.targets import load_target
from waftkit.firmware.link import link
from waftkit.firmware.runtime import runtime_library
from waftkit.firmware.size import SizeReport, measure
from waftkit.runners.qemu import run_elf

REPO = Path(__file__).resolve().parents[2]

ADD_WAT = """(module
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))"""

MAIN_C = """#include <stdio.h>
#include "add.h"
static add__instance inst;
int main(void) {
    add__imports imports = {0};
    if (add__instantiate(&inst, &imports) != WAFT_TRAP_NONE) return 1;
    printf("2 + 3 = %d\\n", (int)add_add(&inst, 2, 3));
    return add_add(&inst, 40, 2) == 42 ? 0 : 3;
}
"""


def build_add(tmp_path: Path, target_name: str) -> Path:
    target = load_target(target_name)
    wat = tmp_path / "add.wat"
    wat.write_text(ADD_WAT)
    subprocess.run(["wat2wasm", str(wat), "-o", str(tmp_path / "add.wasm")], check=True)
    result = compile_module((tmp_path / "add.wasm").read_bytes(), target, prefix="add")
    (tmp_path / "add.o").write_bytes(result.object)
    (tmp_path / "add.h").write_text(result.header)
    (tmp_path / "main.c").write_text(MAIN_C)
    lib = runtime_library(target, REPO / "build")
    out = tmp_path / ("add" if target.is_host else "add.elf")
    return link(target, [tmp_path / "main.c", tmp_path / "add.o", lib], out,
                map_file=tmp_path / "add.map", cflags=[f"-I{tmp_path}"])


def test_host_program_runs(tmp_path: Path):
    exe = build_add(tmp_path, "host")
    proc = subprocess.run([str(exe)], capture_output=True, text=True)
    assert (proc.returncode, proc.stdout) == (0, "2 + 3 = 5\n")
    assert (tmp_path / "add.map").exists()


@pytest.mark.parametrize("target_name", ["stm32f4", "cortex-m0plus"])
def test_cortex_m_program_runs_under_qemu_and_fits(tmp_path: Path, target_name: str):
    target = load_target(target_name)
    elf = build_add(tmp_path, target_name)
    result = run_elf(target, elf, timeout=60)
    assert (result.returncode, result.stdout) == (0, "2 + 3 = 5\n")
    report = measure(elf, target)
    assert 0 < report.flash_used < 64 * 1024  # runtime + newlib-nano printf + module
    assert report.stack > 0
    report.check(target, elf)  # fits: no exception
    assert report.lines()[0].startswith("flash")


def test_report_that_does_not_fit_names_the_figures(tmp_path: Path):
    target = load_target("stm32f4")
    too_big = SizeReport(flash_used=2 << 20, ram_used=200 << 10, stack=16 << 10,
                         flash=target.flash, ram=target.ram)
    with pytest.raises(TargetError, match=r"flash needs 2,097,152 bytes, the board has 1,048,576"):
        too_big.check(target, tmp_path / "x.elf")


def test_link_failure_is_a_target_error(tmp_path: Path):
    target = load_target("host")
    bad = tmp_path / "bad.c"
    bad.write_text("int main(void) { return missing_function(); }\n")
    with pytest.raises(TargetError, match="missing_function"):
        link(target, [bad], tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
