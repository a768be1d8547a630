"""Build the kernel's C test programs (tests/kernel/c) for a board and run them under QEMU.

Every program runs instruction-counted (`-icount shift=0`: one instruction is
one nanosecond of the clock the kernel schedules by) with idle time jumping to
the next timer (`sleep=off`), so its timing is the same run after run and
independent of the machine's load.  A program prints `trace <event> <value>`
lines, `figure <name> <value>` lines and, last, `result N checks, M failed`;
its exit status is 0 only when no check failed.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from aot.targets import Target, load_target
from waftkit.firmware.kernel import kernel_program
from waftkit.runners.base import RunResult
from waftkit.runners.qemu import run_elf

C_DIR = Path(__file__).resolve().parent / "c"
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
# The cores the kernel supports, one board each where there is a choice: M4F, M0+ (Armv6-M), M4, M7, M33.
BOARDS = ["stm32f4", "cortex-m0plus", "mps2-an386", "mps2-an500", "mps2-an505"]
RESULT = re.compile(r"^result (\d+) checks, (\d+) failed$", re.M)


def target_or_skip(name: str) -> Target:
    target = load_target(name)
    for tool in (target.cc, target.qemu_system or "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    return target


def build(target: Target, sources: Sequence[Path | str], work: Path, defines: Sequence[str] = ()) -> Path:
    """Link `sources` (file names in tests/kernel/c, or paths) with the kernel."""
    inputs = [C_DIR / s if isinstance(s, str) else s for s in sources]
    return kernel_program(target, inputs, work / "program.elf", work, defines=defines,
                          cflags=["-Wall", "-Wextra", "-Werror", f"-I{C_DIR}", f"-I{work}"])


def run(target: Target, elf: Path, timeout: float = 120) -> RunResult:
    return run_elf(target, elf, timeout=timeout, instruction_count=True, idle_sleeps=False)


def checked(result: RunResult) -> str:
    """The program's output, once its result line says every check passed."""
    found = RESULT.search(result.stdout)
    assert found, f"no result line ({result.summary()}):\n{result.stdout}\n{result.stderr}"
    assert found.group(2) == "0" and result.returncode == 0, result.stdout
    assert int(found.group(1)) > 0
    return result.stdout


def trace(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("trace ")]


def figures(output: str) -> dict[str, int]:
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^figure (\S+) (-?\d+)$", output, re.M)}
