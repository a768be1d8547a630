"""Execution fuzzing on the host: 300 wasm-smith modules from fixed seeds, Waft against wasmtime.

Each module (Wasm 2.0 without SIMD, plus tail calls, extended constants and
custom page sizes; no imports; every function exported) is instantiated and
each export called twice with arguments from the seed, then every exported
global read; results and traps must agree (waftkit/testing/fuzz/compare.py
says what agreeing means for NaNs, stack limits and resource limits).  The
seeds are fixed so CI is reproducible; `python -m waftkit.testing.fuzz` runs
random ones (docs/fuzzing.md).
"""

from __future__ import annotations

import pytest

from fuzz_support import check_chunk, needs_tools
from waftkit.testing.fuzz.differential import run_seeds

CHUNK = 50
CHUNKS = 6  # 300 modules, in pieces pytest-xdist can share out

pytestmark = needs_tools


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_smith_modules_agree_with_wasmtime_on_the_host(chunk: int, host_executor) -> None:
    seeds = range(chunk * CHUNK, (chunk + 1) * CHUNK)
    check_chunk(run_seeds(list(seeds), host_executor), seeds, "host")
