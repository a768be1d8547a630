"""Execution fuzzing on a Cortex-M core under QEMU: 40 wasm-smith modules, Waft against wasmtime.

cortex-m0plus (Armv6-M on QEMU mps2-an385): soft float and no divide
instruction, so every float and 64-bit operation goes through the
compiler-rt/libgcc helpers, the likeliest place for a wrong answer.  The
modules are bounded for the board (64 KiB of linear memory at most, small
tables) and share two test images, booted once each.  Differences in
stack depth (the board's stack is far smaller than wasmtime's) are
classified as "stack limit", not failures.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aot.targets import load_target
from fuzz_support import check_chunk, needs_board_toolchain, needs_tools
from waftkit.testing.fuzz.differential import run_seeds
from waftkit.testing.fuzz.execute import WaftExecutor

TARGET = "cortex-m0plus"
CHUNK = 20
CHUNKS = 2
FIRST_SEED = 100_000  # other seeds than the host's: other modules

pytestmark = [pytest.mark.qemu, needs_tools, needs_board_toolchain]


@pytest.fixture(scope="module")
def board_executor() -> Iterator[WaftExecutor]:
    with WaftExecutor(load_target(TARGET)) as executor:
        yield executor


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_smith_modules_agree_with_wasmtime_on_a_cortex_m0plus(chunk: int, board_executor) -> None:
    seeds = range(FIRST_SEED + chunk * CHUNK, FIRST_SEED + (chunk + 1) * CHUNK)
    check_chunk(run_seeds(list(seeds), board_executor), seeds, TARGET)
