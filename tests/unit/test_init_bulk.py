"""P__initialize for big modules (aot/lower/init_bulk.py): loops over constant tables and helper functions
set up exactly what the straight-line code does for small ones.

One module shape, generated at two sizes: below STRAIGHT_LINE_LIMIT (the
straight-line code every module had before) and above it (descriptor and
element loops, the globals' memcpy, the steps spread over P__initialize.partN
helpers).  The program checks every table entry (ref.func and ref.null,
through call_indirect), every global (constants, and values computed from an
imported global) and every data segment.  The big module runs on the host and,
with 32-bit pointers in its tables, on boards under QEMU.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from wasm_host import PRELUDE, run_c

from aot import abi
from aot.compiler import compile_file
from aot.lower.init_bulk import STRAIGHT_LINE_LIMIT
from aot.targets import load_target
from waftkit.firmware.link import link
from waftkit.firmware.runtime import runtime_cflags, runtime_library
from waftkit.runners.base import get_runner

BASE = 1000  # the imported global's value
SMALL, BIG = 40, 300  # 5n + 9 initialize items: 209 fit one block, 1509 do not


def _global(k: int) -> tuple[str, int]:
    """Global k's declaration and its value (as the i64 `sum` adds it)."""
    if k % 3 == 0:
        return f"(global $g{k} (mut i32) (i32.const {k * 7 + 3}))", k * 7 + 3
    if k % 3 == 1:
        return f"(global $g{k} i64 (i64.const {-k * 1_000_003}))", -k * 1_000_003
    return f"(global $g{k} i32 (global.get $base))", BASE


def _data(k: int) -> int:
    return k * 11 - 5


def _module(n: int) -> str:
    """n functions, n globals, 2n + 1 table entries (every other one null), n data segments."""
    lines = ['(module',
             '  (import "env" "base" (global $base i32))',
             '  (import "env" "seven" (func $seven (result i32)))',
             '  (type $t (func (result i32)))',
             f'  (table {2 * n + 1} funcref)',
             '  (memory 1)']
    lines += [f"  {_global(k)[0]}" for k in range(n)]
    lines += [f"  (func $f{k} (result i32) (i32.const {k * 3 + 1}))" for k in range(n)]
    # The last entry is the last function: every descriptor, first to last, is reached.
    entries = " ".join(f"(ref.func $f{k}) (ref.null func)" for k in range(n))
    lines.append(f"  (elem (i32.const 0) funcref {entries} (ref.func $last))")
    for k in range(n):
        data = "".join(f"\\{b:02x}" for b in struct.pack("<i", _data(k)))
        lines.append(f'  (data (i32.const {4 * k}) "{data}")')
    lines.append('  (func (export "call") (param i32) (result i32) (call_indirect (type $t) (local.get 0)))')
    lines.append('  (func (export "load") (param i32) (result i32) (i32.load (i32.mul (local.get 0) (i32.const 4))))')
    lines.append('  (func (export "sum") (result i64) (local $s i64)')
    for k in range(n):
        term = f"(global.get $g{k})" if k % 3 == 1 else f"(i64.extend_i32_s (global.get $g{k}))"
        lines.append(f"    (local.set $s (i64.add (local.get $s) {term}))")
    lines.append('    (local.get $s))')
    lines.append('  (func $last (result i32) (call $seven))')
    lines.append(')')
    return "\n".join(lines)


DRIVER = r"""
    static m__instance instance;  /* static: a board's heap is small */
    int32_t base = %d;
    m__imports imports = {.env = NULL, .env__base = &base};
    m__instance *inst = &instance;
    printf("instantiate %%d\n", (int)m__instantiate(inst, &imports));
    for (int k = 0; k < %d; k++) { int32_t r = -1; TRY(r = m_call(inst, k)); printf("%%d\n", r); }
    for (int k = 0; k < %d; k++) printf("%%d\n", m_load(inst, k));
    uint64_t sum = (uint64_t)m_sum(inst);  /* in two halves: newlib-nano's printf has no %%llx */
    printf("sum %%08lx%%08lx\n", (unsigned long)(sum >> 32), (unsigned long)(sum & 0xffffffffu));
"""
EXTRA_C = "int32_t env__seven(void *ctx) { (void)ctx; return 7; }\n"


def _expected(n: int) -> list[str]:
    lines = ["instantiate 0"]
    null = abi.TRAP_CODES["UNINITIALIZED_ELEMENT"]
    for k in range(2 * n):
        lines += ["ok", str((k // 2) * 3 + 1)] if k % 2 == 0 else [f"trap {null}", "-1"]
    lines += ["ok", "7"]  # $last, through the import
    lines += [str(_data(k)) for k in range(n)]
    lines.append(f"sum {sum(_global(k)[1] for k in range(n)) & (2**64 - 1):016x}")
    return lines


@pytest.mark.parametrize("n", [SMALL, BIG])
def test_initialize_sets_up_every_entry_global_and_segment(tmp_path, n: int) -> None:
    program = run_c(tmp_path, {"m": _module(n)}, DRIVER % (BASE, 2 * n + 1, n), extra_c=EXTRA_C)
    assert program.returncode == 0, program.stdout
    assert program.stdout.splitlines() == _expected(n)
    # The big module really takes the new paths, the small one the old straight line.
    ir = program.results[0].unoptimised_ir
    markers = ['@"funcs.table"', '@"elem.0.table"', '@"globals.initial"', '@"m__initialize.part0"']
    assert [marker in ir for marker in markers] == [n == BIG] * len(markers)
    assert (5 * n + 9 > STRAIGHT_LINE_LIMIT) == (n == BIG)


@pytest.mark.qemu
@pytest.mark.parametrize("name", ["stm32f4", "cortex-m0plus", "riscv32-virt"])
def test_big_initialize_on_a_board(name: str, tmp_path: Path) -> None:
    target = load_target(name)
    for tool in ("wat2wasm", target.cc, target.qemu_system):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    (tmp_path / "m.wat").write_text(_module(BIG))
    subprocess.run(["wat2wasm", str(tmp_path / "m.wat"), "-o", str(tmp_path / "m.wasm")], check=True)
    compile_file(tmp_path / "m.wasm", tmp_path / "m.o", target, prefix="m")
    driver = tmp_path / "main.c"
    driver.write_text(PRELUDE + '#include "m.h"\n' + EXTRA_C + "int main(void) {\n"
                      + DRIVER % (BASE, 2 * BIG + 1, BIG) + "return 0;\n}\n")
    program = tmp_path / "main.elf"
    link(target, [driver, tmp_path / "m.o", runtime_library(target, tmp_path / "runtime")], program,
         cflags=[*runtime_cflags(target)[len(target.cflags):], f"-I{tmp_path}"])
    result = get_runner(target, timeout=300).run(program)
    assert result.returncode == 0, result.summary() + result.stderr
    assert result.stdout.splitlines() == _expected(BIG)
