"""Loop strength reduction chosen per function on 32-bit Arm (aot/strength_reduction.py).

Which functions are tried (loops without a bounds check, found in optimised
IR), how their loops are measured (instructions between a label and the last
branch back to it, in the generated assembly), and the whole path on a real
program: bench/workloads/fir.c, whose loops run over static arrays, built
with clang, compiled for the Cortex-M4 with the choice and without it, run
under QEMU.  With it, fir's loops take LSR's pointer induction variables: the
same results, fewer instructions executed, and no symbol the single-object
build keeps local leaks out of the combined object.
"""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pytest
from board_run import PRELUDE, board_test, run_on_board
from elftools.elf.elffile import ELFFile

from aot import combine, strength_reduction

REPO = Path(__file__).resolve().parents[2]

IR = r"""
define internal i32 @plain_loop(ptr %m, i32 %n) {
entry:
  br label %loop
loop:
  %i = phi i32 [ 0, %entry ], [ %next, %loop ]
  %next = add i32 %i, 1
  %done = icmp eq i32 %next, %n
  br i1 %done, label %exit, label %loop
exit:
  ret i32 %i
}

define internal i32 @checked_loop(ptr %m, i32 %n) {
entry:
  br label %"loop.header"
"loop.header":
  %i = phi i32 [ 0, %entry ], [ %next, %"bounds.ok" ]
  %oob = icmp ugt i32 %i, 65532
  br i1 %oob, label %trap.2, label %"bounds.ok"
"bounds.ok":
  %next = add i32 %i, 4
  %done = icmp eq i32 %next, %n
  switch i1 %done, label %"loop.header" [
    i1 true, label %exit
  ]
trap.2:
  unreachable
exit:
  ret i32 %i
}

define i32 @check_before_loop(i32 %n) {
entry:
  %oob = icmp ugt i32 %n, 65532
  br i1 %oob, label %trap.2, label %loop
loop:
  %i = phi i32 [ 0, %entry ], [ %next, %loop ]
  %next = add i32 %i, 1
  %done = icmp eq i32 %next, %n
  br i1 %done, label %exit, label %loop
trap.2:
  unreachable
exit:
  ret i32 %i
}

define i32 @no_loop(i32 %n) {
  %x = add i32 %n, 1
  ret i32 %x
}
"""


def test_functions_with_loops_and_no_check_in_them_are_tried():
    # The switch's labels count as edges (a loop closed by a switch is a loop); a trap branch before
    # the loop does not make the loop checked; a function without a loop has nothing to gain.
    assert strength_reduction.unchecked_loop_functions(IR) == {"plain_loop", "check_before_loop"}


ASSEMBLY = """\
\t.type\tnested,%function
nested:
\tpush\t{r4, lr}
.LBB0_1:
\tmovs\tr2, #0
.LBB0_2:
\tadds\tr2, #1
\tcmp\tr2, r1
\tbne\t.LBB0_2
\tsubs\tr0, #1
\tbne.w\t.LBB0_1
\tpop\t{r4, pc}
.Lfunc_end0:
\t.type\tstraight,%function
straight:
\tcbz\tr0, .LBB1_2
\tadds\tr0, #1
.LBB1_2:
\tbx\tlr
"""


def test_loop_instructions_count_once_per_loop_around_them():
    # The outer loop is movs .. bne.w (6 instructions), the inner adds .. bne (3) counts again.
    assert strength_reduction.loop_instruction_counts(ASSEMBLY) == {"nested": 6 + 3, "straight": 0}


def _fir_wasm(tmp_path: Path) -> bytes:
    sys.path.insert(0, str(REPO / "bench"))
    import variants

    return variants.wasm_module("fir", tmp_path).read_bytes()


MAIN = PRELUDE + r"""int main(void) {
    m__imports imports = {0};
    if (m__instantiate(&inst, &imports) != WAFT_TRAP_NONE) return 1;
    TRY(m_bench_verify(&inst));
    TRY(m_bench_run(&inst, 40));
    return 0;
}
"""


def _global_symbols(obj: bytes) -> set[str]:
    table = ELFFile(io.BytesIO(obj)).get_section_by_name(".symtab")
    return {s.name for s in table.iter_symbols()
            if s["st_info"]["bind"] == "STB_GLOBAL" and s["st_shndx"] != "SHN_UNDEF"}


@board_test
@pytest.mark.skipif(shutil.which("clang") is None, reason="clang (wasm32) not installed")
@pytest.mark.skipif(not combine.can_combine(), reason="ld.lld and llvm-objcopy not installed")
def test_fir_takes_lsr_runs_the_same_and_executes_fewer_instructions_on_cortex_m4(tmp_path, monkeypatch):
    sys.path.insert(0, str(REPO))
    from bench.analysis import functions_of, per_function, qemu_profile

    wasm = _fir_wasm(tmp_path)
    chosen = run_on_board(tmp_path / "chosen", wasm, MAIN)
    monkeypatch.setattr(strength_reduction, "MIN_SAVING", 1.0)  # LSR never saves enough: every loop without it
    without = run_on_board(tmp_path / "without", wasm, MAIN)

    assert chosen.lines == without.lines and chosen.lines[0] == "1", chosen.lines
    assert chosen.result.object != without.result.object
    assert _global_symbols(chosen.result.object) == _global_symbols(without.result.object)

    def executed(elf: Path) -> int:
        return sum(n for _, n in per_function(qemu_profile(elf, "stm32f4"), functions_of(elf)))

    assert executed(chosen.elf) < 0.95 * executed(without.elf)
