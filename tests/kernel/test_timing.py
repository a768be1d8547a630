"""sleep_until and periodic release timing under -icount (tests/kernel/c/timing.c).

A 1 kHz periodic thread under saturating low-priority load takes every
release at the tick of its grid point; its jitter (max - min wake-up latency)
is at most 1% of the period, checked in C and reported here as figures.  An
overrun of 2.5 periods reports 2 missed releases and stays on the grid;
sleeps to deadlines between ticks wake at the first tick at or after them.
"""

from __future__ import annotations

import pytest

from kernel_harness import BOARDS, build, checked, figures, run, target_or_skip, trace


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_periodic_release_and_sleep_until(board, tmp_path):
    target = target_or_skip(board)
    output = checked(run(target, build(target, ["timing.c"], tmp_path)))
    assert trace(output) == ["trace overrun missed 2", "trace periodic missed 0", "trace sleeps done 20",
                             "trace anchor done 3"]
    got = figures(output)
    # One instruction is one ns: a wake-up costs a few hundred instructions, far below the 1 ms period.
    assert 0 < got["periodic_latency_min_ns"] <= got["periodic_latency_max_ns"] < 50_000
    assert got["periodic_jitter_ns"] <= 10_000
    assert 0 < got["sleep_latency_max_ns"] < 50_000
