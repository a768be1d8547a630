"""The kernel's scheduling rules on every supported core, by event trace (tests/kernel/c/preempt.c).

A high-priority thread made ready by a create, a notify, a timer and an
interrupt runs before the busy low-priority main thread's next event; raising
and lowering priorities take effect at once; equal priorities share the core
by yield and by the tick; wait/notify, join/exit and the thread pool answer as
kernel.h says.  The trace is identical on every core (golden file); the C
checks cover the latencies and return codes.
"""

from __future__ import annotations

import pytest

from kernel_harness import BOARDS, GOLDEN_DIR, build, checked, run, target_or_skip, trace


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_preemption_trace(board, tmp_path):
    target = target_or_skip(board)
    elf = build(target, ["preempt.c"], tmp_path, defines=["WAFT_MAX_THREADS=4"])
    output = checked(run(target, elf))
    expected = (GOLDEN_DIR / "preempt.txt").read_text().splitlines()
    assert trace(output) == expected
