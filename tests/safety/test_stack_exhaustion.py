"""Stack exhaustion traps before anything below the stack is written, on every target.

A microcontroller has no guard page: a frame that is pushed before the stack
check runs lands in the heap or another thread's stack.  The module below
recurses through a function whose frame is larger than WAFT_STACK_MARGIN
(several KiB of i64 locals loaded before the recursive call and used after
it, so LLVM must keep them all in the frame).  tests/safety/c/stack_canary.c
paints the memory just below the stack's end, recurses until the trap, and
checks the paint.  Without a check that accounts for the frame before it is
allocated, the canary is hit (this test failed that way before the frame
guards of aot/lower/frames.py existed).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aot.compiler import compile_file
from aot.targets import load_target
from waftkit.firmware.link import link
from waftkit.firmware.runtime import runtime_cflags, runtime_library
from waftkit.runners.base import get_runner

HARNESS = Path(__file__).resolve().parent / "c" / "stack_canary.c"

# i64 locals in the recursive function: their frame must exceed the target's
# max_unguarded_frame (512 bytes on boards, 16 KiB on the host) and, by far, the
# WAFT_STACK_MARGIN the program runs with: waft.h's 2 KiB on boards; on the
# host 8 KiB (MARGIN below) instead of the default 64 KiB, which would need a
# frame so big that compiling it takes minutes.
LOCALS = {"host": 2500, "stm32f4": 600, "cortex-m0plus": 600, "riscv32-virt": 600}
MARGIN = {"host": ["-DWAFT_STACK_MARGIN=8192u"]}
# Painted bytes below the stack: more than frame minus margin, so a breach shows.
CANARY_BYTES = {"host": 16384, "stm32f4": 6144, "cortex-m0plus": 6144, "riscv32-virt": 6144}
# Start offsets the harness tries (in 64-byte steps): at least one frame, so the
# trapping frame is tried at every position relative to the limit.
FRAME_BYTES = {"host": 24_000, "stm32f4": 6144, "cortex-m0plus": 6144, "riscv32-virt": 6144}


def big_frame_recursion(locals_count: int) -> str:
    """WAT for `deep(n)`: loads `locals_count` i64s, recurses, then folds them all together."""
    loads = [f"(local.set {i + 1} (i64.load offset={8 * i} (i32.and (local.get 0) (i32.const 255))))"
             for i in range(locals_count)]
    recurse = ("(if (i32.gt_u (local.get 0) (i32.const 0)) (then (i64.store (i32.const 0) "
               "(i64.extend_i32_u (call $deep (i32.sub (local.get 0) (i32.const 1)))))))")
    # Flat instructions, not folded S-expressions: wat2wasm's parser recurses on nesting.
    fold = "local.get 1 " + " ".join(f"i64.const 1 i64.rotl local.get {i} i64.add"
                                     for i in range(2, locals_count + 1))
    return (f'(module (memory {1 + (8 * locals_count + 255) // 65536})\n'
            f' (func $deep (export "deep") (param i32) (result i32) (local {" ".join(["i64"] * locals_count)})\n'
            f'  {" ".join(loads)}\n  {recurse}\n  {fold} i32.wrap_i64))\n')


def _tools_or_skip(target) -> None:
    for tool in ("wat2wasm", target.cc, *([] if target.is_host else [target.qemu_system])):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


@pytest.mark.qemu
@pytest.mark.parametrize("name", ["host", "stm32f4", "cortex-m0plus", "riscv32-virt"])
def test_big_frame_recursion_traps_before_writing_below_the_stack(name, tmp_path):
    target = load_target(name)
    _tools_or_skip(target)
    wat = tmp_path / "deep.wat"
    wat.write_text(big_frame_recursion(LOCALS[name]))
    subprocess.run(["wat2wasm", str(wat), "-o", str(tmp_path / "deep.wasm")], check=True)
    compile_file(tmp_path / "deep.wasm", tmp_path / "deep.o", target)
    library = runtime_library(target, tmp_path / "runtime")
    program = tmp_path / ("deep" if target.is_host else "deep.elf")
    cflags = [*runtime_cflags(target)[len(target.cflags):], f"-I{tmp_path}", f"-DCANARY_BYTES={CANARY_BYTES[name]}u",
              f"-DFRAME_BYTES={FRAME_BYTES[name]}u", *MARGIN.get(name, [])]
    extra = ["-pthread"] if target.is_host else []
    link(target, [HARNESS, tmp_path / "deep.o", library, *extra], program, cflags=cflags)
    result = get_runner(target, timeout=120).run(program)
    assert result.stdout.strip() == "trap call stack exhausted canary intact", result.summary() + result.stderr
    assert result.returncode == 0
