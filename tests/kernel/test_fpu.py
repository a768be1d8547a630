"""Floating-point registers across context switches on cores with an FPU (tests/kernel/c/fpu.c).

Two threads hold all of s0-s31 and FPSCR through round-robin hand-overs, and a
third, higher-priority FP thread preempts them every millisecond; each finds
its own values afterwards.  An integer-only thread beside them never has FP
context (CONTROL.FPCA clear): the switch saves s16-s31 only for threads that
used the FPU.
"""

from __future__ import annotations

import pytest

from kernel_harness import build, checked, figures, run, target_or_skip, trace


@pytest.mark.qemu
@pytest.mark.parametrize("board", ["stm32f4", "mps2-an500", "mps2-an386", "mps2-an505"])
def test_fp_registers_survive_switches(board, tmp_path):
    target = target_or_skip(board)
    output = checked(run(target, build(target, ["fpu.c"], tmp_path, defines=["WAFT_MAX_THREADS=5"])))
    assert trace(output) == ["trace fp registers preserved 1", "trace integer thread without fp context 1"]
    got = figures(output)
    assert got["register_errors"] == 0 and got["high_wakes"] >= 10
