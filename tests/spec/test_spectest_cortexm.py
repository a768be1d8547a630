"""The numeric and memory spec scripts, and the threads proposal's, on emulated Cortex-M cores under QEMU, no failures.

stm32f4 (Cortex-M4F, hard float, 128 KiB RAM, QEMU netduinoplus2) and
cortex-m0plus (Armv6-M, soft float, no divide, on QEMU mps2-an385): each
script is built into bare-metal images with the target's toolchain and run
with semihosting, exactly as `waft spectest FILE --target T` does.
Assertions that need more memory than the board has are skipped (with the
figures) by the runner, never passed.  The threads scripts prove both ways of
doing atomics: LDREX/STREX inline on the Cortex-M4, the runtime's PRIMASK
critical sections on Armv6-M (and for 64-bit atomics on both).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[2].parent / "shared" / "wasm-spec-testsuite"

SCRIPTS = """
i32 i64 f32 f32_bitwise f32_cmp f64 f64_bitwise f64_cmp conversions float_exprs float_misc
float_literals float_memory int_exprs int_literals memory memory_grow memory_size address align
endianness left-to-right load store traps call call_indirect br_table select stack fac names
""".split() + [f"proposals/threads/{name}" for name in ("atomic", "exports", "imports", "memory")]
TARGETS = ("stm32f4", "cortex-m0plus")

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(not SUITE.is_dir(), reason=f"spec suite not found at {SUITE}"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"),
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed"),
]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("script", SCRIPTS)
def test_spec_script_on_cortex_m(script: str, target: str, spec_run) -> None:
    spec_run(SUITE / f"{script}.wast", target)
