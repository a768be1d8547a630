"""64-bit doubling as add-with-carry on 32-bit Arm (aot/arm_i64.py).

The rewrite of optimised IR (which shifts become additions, which stay), then
a module made of the shapes it targets, compiled for the Cortex-M4 and run
under QEMU: a funnel shift by one and a bit-serial 64-bit division (the
`modul64` of Montgomery multiplication code), with operands whose top bits
are set, against a Python model.  The object must use the carry (`adcs`)
where LLVM's shifts would not, and execute fewer instructions than without
the rewrite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from board_run import board_test, run_on_board
from wasm_host import wat_to_wasm

from aot import arm_i64

REPO = Path(__file__).resolve().parents[2]

IR = """\
define i64 @f(i64 %x, i64 %y, i64 %z) {
  %bits = shl i64 %x, 1
  %low = or disjoint i64 %bits, 1
  %sum = shl nuw i64 %y, 1
  %next = add i64 %sum, %z
  %funnel = tail call i64 @llvm.fshl.i64(i64 %low, i64 %y, i64 1)
  %r = xor i64 %funnel, %next
  ret i64 %r
}
"""


def test_a_shift_assembling_bits_becomes_an_addition_and_one_feeding_arithmetic_stays():
    out = arm_i64.double_with_carry(IR)
    assert "%bits = add i64 %x, %x" in out  # its only use is an `or`
    assert "%sum = shl nuw i64 %y, 1" in out  # an `add` folds it into a shifted operand
    assert 'add i64 %low, %low' in out and 'lshr i64 %y, 63' in out
    assert "%funnel = or disjoint i64" in out and "llvm.fshl" not in out.split("ret")[0].split("%funnel")[1]


def test_ir_without_the_shapes_is_returned_as_it_is():
    text = "define i32 @g(i32 %a) {\n  %b = shl i32 %a, 1\n  ret i32 %b\n}\n"
    assert arm_i64.double_with_carry(text) is text


WAT = r"""
(module
  (memory 1)
  (func (export "funnel") (param $x i64) (param $y i64) (result i64)
    (i64.or (i64.shl (local.get $x) (i64.const 1)) (i64.shr_u (local.get $y) (i64.const 63))))
  ;; aha-mont64's modul64: (x, y) / z by shift and subtract; returns the quotient xor the remainder
  (func (export "modul") (param $x i64) (param $y i64) (param $z i64) (result i64)
    (local $i i32) (local $t i64)
    (loop $bits
      (local.set $t (i64.shr_s (local.get $x) (i64.const 63)))
      (local.set $x (i64.or (i64.shl (local.get $x) (i64.const 1)) (i64.shr_u (local.get $y) (i64.const 63))))
      (local.set $y (i64.shl (local.get $y) (i64.const 1)))
      (if (i64.ge_u (i64.or (local.get $x) (local.get $t)) (local.get $z))
        (then (local.set $x (i64.sub (local.get $x) (local.get $z)))
              (local.set $y (i64.or (local.get $y) (i64.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $bits (i32.lt_u (local.get $i) (i32.const 64))))
    (i64.xor (local.get $y) (local.get $x)))
)
"""

CASES = [(0x8000000000000001, 0xC000000000000003, 0xFFFFFFFFFFFFFFC5),
         (0x0123456789ABCDEF, 0xFEDCBA9876543210, 0x8000000000000000),
         (0x00000000FFFFFFFF, 0xFFFFFFFF00000000, 0x00000001FFFFFFFF),
         (0, 0xFFFFFFFFFFFFFFFF, 3)]
M64 = (1 << 64) - 1

MAIN = r"""#include <stdint.h>
#include <stdio.h>
#include "m.h"
static m__instance inst;
static const uint64_t cases[][3] = {CASES};
static void put(uint64_t v) { printf("%08lx%08lx\n", (unsigned long) (v >> 32), (unsigned long) v); }
int main(void) {
    m__imports imports = {0};
    if (m__instantiate(&inst, &imports) != WAFT_TRAP_NONE) return 1;
    for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        put(m_funnel(&inst, cases[k][0], cases[k][1]));
        for (int r = 1; r < REPEATS; r++) m_modul(&inst, cases[k][0], cases[k][1], cases[k][2]);
        put(m_modul(&inst, cases[k][0], cases[k][1], cases[k][2]));
    }
    return 0;
}
"""
REPEATS = 50  # so that modul dominates the profile


def _expected() -> list[str]:
    lines = []
    for x, y, z in CASES:
        lines.append(f"{((x << 1) | (y >> 63)) & M64:016x}")
        for _ in range(64):
            t = M64 if x >> 63 else 0
            x, y = ((x << 1) | (y >> 63)) & M64, (y << 1) & M64
            if (x | t) >= z:
                x, y = (x - z) & M64, y | 1
        lines.append(f"{y ^ x:016x}")
    return lines


@board_test
def test_doubled_i64_runs_like_wasm_and_uses_the_carry_on_cortex_m4(tmp_path, monkeypatch):
    sys.path.insert(0, str(REPO))
    from bench.analysis import functions_of, per_function, qemu_profile

    main = (MAIN.replace("{CASES}", "{" + ", ".join("{%#xull, %#xull, %#xull}" % c for c in CASES) + "}")
            .replace("REPEATS", str(REPEATS)))
    wasm = wat_to_wasm(WAT, tmp_path, "m")
    doubled = run_on_board(tmp_path / "doubled", wasm, main)
    monkeypatch.setattr(arm_i64, "double_with_carry", lambda text: text)
    shifted = run_on_board(tmp_path / "shifted", wasm, main)
    assert doubled.lines == shifted.lines == _expected()

    def disassembly(run) -> str:
        obj = run.elf.with_name("m.o")
        return subprocess.run(["arm-none-eabi-objdump", "-d", str(obj)], capture_output=True, text=True,
                              check=True).stdout

    assert "adcs" in disassembly(doubled) and "waft.i64.double" in doubled.result.llvm_ir

    def executed(elf: Path) -> int:
        return sum(n for name, n in per_function(qemu_profile(elf, "stm32f4"), functions_of(elf))
                   if name.startswith("wasm."))

    assert executed(doubled.elf) < 0.95 * executed(shifted.elf)
