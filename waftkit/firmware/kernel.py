"""Build a native C program that runs on the built-in kernel (runtime_c/kernel) for a Cortex-M target.

A kernel program is the caller's C sources (and any module objects) linked
with the kernel (`sched.c`, `port_cortexm.c`), the board's SysTick clock that
drives it (`targets/common/cortex-m/systick.c`, the same file the WASI port
uses), the board's clock rate (`targets/<name>/board.c` or the weak defaults),
the runtime library (for `waft_stack_limit`, the trap-frame chain and traps)
and the board's startup code.  The kernel's own files are compiled with
`-Wall -Wextra -Werror`: every program built here proves it builds warning-free
for that core.  The sizing macros (`WAFT_MAX_THREADS`, `WAFT_OS_STACK_SIZE`...)
go to the kernel and the caller's sources alike, as `defines`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from aot.errors import TargetError
from aot.package_data import RUNTIME_DIR, TARGETS_DIR
from aot.targets import Target
from waftkit.firmware.link import CORTEX_M_GLUE, link
from waftkit.firmware.runtime import runtime_cflags, runtime_library

KERNEL_DIR = RUNTIME_DIR / "kernel"
KERNEL_SOURCES = (KERNEL_DIR / "sched.c", KERNEL_DIR / "port_cortexm.c")
# port_baremetal.h (the clock's interface) lives with the WASI port.
CLOCK_INCLUDE = RUNTIME_DIR / "wasi_p1"
STRICT_CFLAGS = ("-Wall", "-Wextra", "-Werror")


def kernel_include_flags() -> list[str]:
    """-I flags for code that includes kernel.h."""
    return [f"-I{KERNEL_DIR}", f"-I{CLOCK_INCLUDE}"]


def clock_sources(target: Target) -> list[Path]:
    """The board glue the kernel's time comes from: SysTick, and the core clock rate."""
    files = [CORTEX_M_GLUE / "systick.c", TARGETS_DIR / "common" / "board_default.c"]
    board = target.directory / "board.c"
    if board.is_file():
        files.append(board)
    return files


def compile_kernel(target: Target, out_dir: Path, defines: Sequence[str] = ()) -> list[Path]:
    """Compile the kernel and its clock into objects in `out_dir`, warnings as errors."""
    if target.kind != "cortex-m":
        raise TargetError(f"target '{target.name}': the built-in kernel runs on Cortex-M only (this is {target.kind})")
    out_dir.mkdir(parents=True, exist_ok=True)
    flags = [*runtime_cflags(target, defines), *kernel_include_flags()]
    objects = []
    for source in (*KERNEL_SOURCES, CORTEX_M_GLUE / "systick.c"):
        obj = out_dir / f"{source.stem}.o"
        proc = subprocess.run([target.cc, *flags, *STRICT_CFLAGS, "-c", str(source), "-o", str(obj)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise TargetError(f"compiling {source.name} for {target.name} failed:\n{proc.stderr.strip()}")
        objects.append(obj)
    return objects


def kernel_program(target: Target, inputs: Sequence[Path | str], output: Path, work_dir: Path, *,
                   defines: Sequence[str] = (), cflags: Sequence[str] = ()) -> Path:
    """Link `inputs` (C sources, module objects) with the kernel into the ELF `output`.

    `defines` (`NAME` or `NAME=VALUE`) size the kernel and reach every source;
    `cflags` go to the caller's sources only.  Returns `output`.
    """
    objects = compile_kernel(target, work_dir / "kernel", defines)
    library = runtime_library(target, work_dir / "runtime")
    board = [p for p in clock_sources(target) if p.name != "systick.c"]
    flags = [*(f"-D{d}" for d in defines), *kernel_include_flags(), *cflags]
    return link(target, [*inputs, *objects, *board, library], output, cflags=flags)
