"""The Cortex-M test-image glue under QEMU: console and exit status through semihosting, faults reported.

Builds tiny C programs with the same link as every test image (waftkit.firmware.link:
targets/<name>/link.ld, targets/common/cortex-m/startup.c + semihost.c) and
boots them with waftkit.runners.qemu.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aot.targets import load_target
from waftkit.firmware.link import link_command
from waftkit.runners.qemu import run_elf

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"),
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed"),
]

HELLO = r"""
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    volatile double x = 1.5;           /* the FPU must be on for hard-float targets */
    char *p = calloc(1, 1000);         /* the heap comes from the linker script */
    printf("hello %d %s\n", (int)(x * 4), p ? "heap" : "noheap");
    return 7;
}
"""

FAULT = r"""
#include <stdint.h>
int main(void) {
    /* The STM32F407's CCM: QEMU's netduinoplus2 does not map it, so this bus-faults. */
    return (int)*(volatile uint32_t *)0x10000000u;
}
"""


FLOATS = r"""
#include <stdio.h>
int main(void) {
    volatile double x = 3.14159;
    printf("[%.2f] [%d]\n", x, 42);
    return 0;
}
"""


def _build(tmp_path: Path, target_name: str, source: str, **link_options) -> Path:
    target = load_target(target_name)
    c = tmp_path / "main.c"
    c.write_text(source)
    elf = tmp_path / "main.elf"
    subprocess.run(link_command(target, [c], elf, **link_options), check=True, capture_output=True)
    return elf


def _symbols(elf: Path) -> set[str]:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


@pytest.mark.parametrize("printf_float", [True, False])
def test_float_printf_only_when_asked(tmp_path: Path, printf_float: bool) -> None:
    """C firmware that prints floats asks for newlib-nano's float printf (printf_float=True,
    the generic link's default); without it %f prints nothing and the 12 KB stay out."""
    elf = _build(tmp_path, "stm32f4", FLOATS, printf_float=printf_float)
    result = run_elf(load_target("stm32f4"), elf, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("[3.14] [42]\n" if printf_float else "[] [42]\n")
    assert ("_printf_float" in _symbols(elf)) == printf_float


@pytest.mark.parametrize("target", ["stm32f4", "cortex-m0plus", "mps2-an386", "mps2-an500", "mps2-an505"])
def test_stdout_and_exit_status_reach_the_host(tmp_path: Path, target: str) -> None:
    result = run_elf(load_target(target), _build(tmp_path, target, HELLO), timeout=120)
    assert result.stdout == "hello 6 heap\n", result.stderr
    assert result.returncode == 7


def test_a_fault_is_reported_and_exits_non_zero(tmp_path: Path) -> None:
    result = run_elf(load_target("stm32f4"), _build(tmp_path, "stm32f4", FAULT), timeout=120)
    assert result.returncode == 3
    assert "@fault exception 0x00000003" in result.stdout  # HardFault (escalated bus fault)
    assert "bfar 0x10000000" in result.stdout
