"""The riscv32-virt board (rv32imac, picolibc, semihosting) runs spec scripts under QEMU.

fac.wast, i32.wast and the threads proposal's atomic.wast (A-extension
atomics inline, 64-bit ones through the port's critical sections) are built
into bare-metal images exactly as `waft spectest FILE --target riscv32-virt`
does and must pass with no
failures; a runtime trap with no trap frame must reach QEMU's exit status
(70) with its message, which proves the port's console and exit path.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[2].parent / "shared" / "wasm-spec-testsuite"
TARGET = "riscv32-virt"

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(shutil.which("qemu-system-riscv32") is None,
                       reason="qemu-system-riscv32 not installed (Debian: qemu-system-misc)"),
    pytest.mark.skipif(shutil.which("riscv64-unknown-elf-gcc") is None,
                       reason="riscv64-unknown-elf-gcc not installed (Debian: gcc-riscv64-unknown-elf "
                              "and picolibc-riscv64-unknown-elf)"),
]


@pytest.mark.skipif(not SUITE.is_dir(), reason=f"spec suite not found at {SUITE}")
@pytest.mark.parametrize("script", ["fac", "i32", "proposals/threads/atomic"])
def test_spec_script_on_riscv32_virt(script: str) -> None:
    from waftkit.testing.spectest import run_spectest

    out = io.StringIO()
    status = run_spectest([SUITE / f"{script}.wast"], TARGET, jobs=1, opt="2", out=out)
    text = out.getvalue()
    totals = [m for ln in text.splitlines() if (m := re.fullmatch(r"(\d+) passed, (\d+) failed.*", ln))]
    assert totals, text
    passed, failed = int(totals[-1].group(1)), int(totals[-1].group(2))
    assert status == 0 and failed == 0 and passed > 0, text


def test_trap_without_frame_exits_with_status_70(tmp_path: Path) -> None:
    from aot.targets import load_target
    from waftkit.firmware.link import link
    from waftkit.firmware.runtime import runtime_library
    from waftkit.runners.qemu import run_elf

    target = load_target(TARGET)
    main = tmp_path / "main.c"
    main.write_text('#include "waft.h"\nint main(void) { waft_stack_init(); waft_trap(WAFT_TRAP_UNREACHABLE); }\n')
    elf = link(target, [main, runtime_library(target, tmp_path)], tmp_path / "trap.elf")
    result = run_elf(target, elf, timeout=120)
    assert result.returncode == 70, (result.stdout, result.stderr)
    assert "unreachable" in result.stdout + result.stderr
