"""Compile WAT with Waft for a board, link it with a C driver and the real runtime, run it under QEMU.

The board-side twin of wasm_host.run_c, for the tests that prove a lowering
on the code a Cortex-M really runs (bounds-check versioning, address
splitting, float rebasing): `run_on_board` compiles the module under prefix
`m`, writes `m.o`, `m.h` and the driver `main.c` into a folder, links them
with the target's runtime library, runs the ELF under QEMU and returns its
output lines.  A driver starts with PRELUDE, which gives it the instance
`inst` and `TRY(expr)`: run `expr` behind a trap frame and print its value,
or `trap <code>`, then a newline (`TRY_` prints no newline).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from aot.compiler import CompileResult, compile_module
from aot.targets import load_target

REPO = Path(__file__).resolve().parents[2]

PRELUDE = r"""#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "m.h"
static m__instance inst;
static waft_trap_frame frame;
#define TRY_(expr) do { waft_trap_push(&frame); \
    if (setjmp(frame.jmp)) printf("trap %d", (int) frame.code); \
    else { long v = (long) (expr); waft_trap_pop(&frame); printf("%ld", v); } } while (0)
#define TRY(expr) do { TRY_(expr); printf("\n"); } while (0)
"""

# The markers every board test carries: it needs the Arm cross compiler and QEMU.
MARKS = (
    pytest.mark.qemu,
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"),
)


def board_test(test):
    """Mark `test` as one that builds for a board and runs under QEMU (skipped without the tools)."""
    for mark in MARKS:
        test = mark(test)
    return test


@dataclass
class BoardRun:
    """What `run_on_board` built and what the program printed."""
    lines: list[str]
    elf: Path
    result: CompileResult


def run_on_board(folder: Path, wasm: bytes, main_c: str, *, board: str = "stm32f4", opt: str = "2",
                 timeout: float = 60) -> BoardRun:
    """Compile `wasm` as module `m` for `board`, link it with `main_c` and the runtime, run it under QEMU.

    Fails the test when the program does not exit 0 (a trap nobody caught,
    a fault, a timeout).
    """
    from waftkit.firmware.link import link
    from waftkit.firmware.runtime import runtime_library
    from waftkit.runners.qemu import run_elf

    target = load_target(board)
    folder.mkdir(parents=True, exist_ok=True)
    result = compile_module(wasm, target, prefix="m", opt=opt)
    (folder / "m.o").write_bytes(result.object)
    (folder / "m.h").write_text(result.header)
    (folder / "main.c").write_text(main_c)
    elf = link(target, [folder / "main.c", folder / "m.o", runtime_library(target, REPO / "build")],
               folder / "m.elf", cflags=[f"-I{folder}"])
    run = run_elf(target, elf, timeout=timeout)
    assert run.returncode == 0, run.stdout + run.stderr
    return BoardRun(run.stdout.splitlines(), elf, result)
