"""An unrolled loop still checks every access and traps at the first one out of bounds.

At -O2 LLVM unrolls small loops with a computable trip count (aot/emit.py:
two copies of the body, the loop's exit test in each).  Each access must
keep its own bounds check, and a loop that runs off the end of linear memory
must trap at exactly the first access past it: the stores before it happen
(Wasm traps are precise), none after it, whichever copy that access falls
in.  The test first proves the functions really are unrolled at -O2 (so the
shape under test is the optimised one), then runs them at -O2 and -O3 on the
Cortex-M4 under QEMU with the first bad access at every position of the
seven iterations, and addresses that wrap.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from board_run import PRELUDE, board_test, run_on_board  # noqa: E402  (tests/unit's helpers, shared)
from wasm_host import wat_to_wasm  # noqa: E402

from aot.compiler import compile_module  # noqa: E402
from aot.targets import load_target  # noqa: E402

WORDS = 16384  # one 64 KiB page of i32 words

# Seven iterations each: -O2 unrolls them into pairs, the loop's exit test in each copy (a trip
# count it can compute; aot/emit.py unroll_limits), so the first bad access falls in either copy.
TRIPS = 7
WAT = r"""
(module
  (memory (export "mem") 1 1)
  (func (export "fill") (param $i i32) (param $n i32) (local $k i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $k) (i32.const 7)))
      (i32.store (i32.shl (i32.add (local.get $i) (local.get $k)) (i32.const 2))
                 (i32.add (local.get $i) (local.get $k)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br 0))))
  (func (export "sum") (param $p i32) (param $n i32) (result i32) (local $s i32) (local $k i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $k) (i32.const 7)))
      (local.set $s (i32.add (local.get $s) (i32.load (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br 0)))
    (local.get $s)))
"""

# fill(start): words start .. start + 6; every position of the first word past the end, and none.
FILLS = [(start, 0) for start in range(WORDS - TRIPS - 1, WORDS + 1)] + [(0, 0)]
# sum(address): the last words, one byte past, and an address that wraps.
SUMS = [(65536 - 4 * TRIPS - 4 * k, 0) for k in range(-1, 2)] + \
       [(65536 - 4 * TRIPS + 4 * k + b, 0) for k in range(TRIPS) for b in (1, 4)] + [(0xFFFFFFF8, 0), (0, 0)]

MAIN = PRELUDE + r"""static const unsigned fills[][2] = {FILLS};
static const unsigned sums[][2] = {SUMS};
int main(void) {
    m__imports imports = {0};
    if (m__instantiate(&inst, &imports) != WAFT_TRAP_NONE) return 1;
    uint32_t *mem = (uint32_t *) m_mem(&inst)->base;
    for (unsigned k = 0; k < sizeof fills / sizeof fills[0]; k++) {
        memset(mem, 0, 65536);
        TRY_((m_fill(&inst, fills[k][0], 0), 0));
        /* Which of the last 8 words were written, and that the first stores happened. */
        printf(" |");
        for (unsigned w = 16376; w < 16384; w++) printf(" %lu", (unsigned long) mem[w]);
        printf(" | %lu\n", (unsigned long) mem[fills[k][0] < 16384 ? fills[k][0] : 0]);
    }
    for (unsigned w = 0; w < 16384; w++) mem[w] = w * 3u + 1u;
    for (unsigned k = 0; k < sizeof sums / sizeof sums[0]; k++) {
        TRY_(m_sum(&inst, sums[k][0], 0));
        printf("\n");
    }
    return 0;
}
"""


def _main_c() -> str:
    fills = ", ".join(f"{{{a}u, {b}u}}" for a, b in FILLS)
    sums = ", ".join(f"{{{a}u, {b}u}}" for a, b in SUMS)
    return MAIN.replace("{FILLS}", f"{{{fills}}}").replace("{SUMS}", f"{{{sums}}}")


def _expected() -> list[str]:
    """What a Wasm engine must print for MAIN."""
    oob = "trap 2"

    def signed(v: int) -> int:
        v &= 0xFFFFFFFF
        return v - (1 << 32) if v >= 1 << 31 else v

    lines = []
    for start, _ in FILLS:
        mem = [0] * WORDS
        outcome = "0"
        for i in range(start, start + TRIPS):
            if i >= WORDS:
                outcome = oob
                break
            mem[i] = i
        tail = " ".join(str(v) for v in mem[WORDS - 8:])
        lines.append(f"{outcome} | {tail} | {mem[start] if start < WORDS else mem[0]}")
    mem_bytes = b"".join(((w * 3 + 1) & 0xFFFFFFFF).to_bytes(4, "little") for w in range(WORDS))
    for address, _ in SUMS:
        total, outcome = 0, None
        for k in range(TRIPS):
            at = (address + 4 * k) & 0xFFFFFFFF
            if at + 4 > len(mem_bytes):
                outcome = oob
                break
            total += int.from_bytes(mem_bytes[at:at + 4], "little")
        lines.append(outcome or str(signed(total)))
    assert sum(line.startswith(oob) for line in lines) >= 8  # both outcomes, many positions
    return lines


def _function_ir(ir: str, export: str, wat_index: int) -> str:
    match = re.search(rf"define [^\n]*@wasm\.{wat_index}\(.*?\n}}\n", ir, re.DOTALL)
    assert match, f"{export} (wasm.{wat_index}) is not in the IR"
    return match.group(0)


def test_loops_under_test_are_unrolled_at_o2(tmp_path):
    """The shape the QEMU test runs: two copies of the body at -O2, one at -Os."""
    wasm = wat_to_wasm(WAT, tmp_path, "m")
    target = load_target("stm32f4")
    o2 = compile_module(wasm, target, prefix="m", opt="2").llvm_ir
    os_ = compile_module(wasm, target, prefix="m", opt="s").llvm_ir
    assert _function_ir(o2, "fill", 0).count("store i32") == 2
    assert _function_ir(os_, "fill", 0).count("store i32") == 1
    # sum's loads, plus the stack limit's.
    assert _function_ir(o2, "sum", 1).count("load i32") == 1 + 2
    assert _function_ir(os_, "sum", 1).count("load i32") == 1 + 1


@board_test
@pytest.mark.parametrize("opt", ["2", "3"])
def test_unrolled_loop_traps_at_the_first_access_out_of_bounds_on_cortex_m4(tmp_path, opt):
    assert run_on_board(tmp_path, wat_to_wasm(WAT, tmp_path, "m"), _main_c(), opt=opt).lines == _expected()
