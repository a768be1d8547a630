"""Per-thread stack limits and trap frames, with compiled Wasm code (tests/kernel/c/stack_limit.c).

The module recurses through frames bigger than the compiler's unguarded-frame
limit (so each is checked before it is pushed) and yields at every level, so
two threads' recursions interleave switch by switch.  If a switch left the
other thread's waft_stack_limit in place, a recursion would trap at once or
run through the paint below its stack; if it left the other thread's
waft_trap_current, a trap would unwind into the wrong thread.
"""

from __future__ import annotations

import subprocess

import pytest

from aot.compiler import compile_file
from kernel_harness import build, checked, figures, run, target_or_skip, trace

LOCALS = 120  # i64 locals: a frame of about 1 KiB, above every board's 512-byte unguarded limit


def deep_module(locals_count: int) -> str:
    """WAT for `deep(n)`: note(n), loads its locals from get(i), recurses, folds them."""
    loads = " ".join(f"(local.set {i + 1} (call $get (i32.const {i})))" for i in range(locals_count))
    fold = "local.get 1 " + " ".join(f"i64.const 1 i64.rotl local.get {i} i64.add" for i in range(2, locals_count + 1))
    return ('(module\n'
            ' (import "env" "note" (func $note (param i32)))\n'
            ' (import "env" "get" (func $get (param i32) (result i64)))\n'
            f' (func $deep (export "deep") (param i32) (result i32) (local {" ".join(["i64"] * locals_count)})\n'
            '  (call $note (local.get 0))\n'
            f'  {loads}\n'
            '  (if (i32.gt_u (local.get 0) (i32.const 0)) (then (drop (call $deep (i32.sub (local.get 0) (i32.const 1))))))\n'
            f'  {fold} i32.wrap_i64))\n')


@pytest.mark.qemu
@pytest.mark.parametrize("board", ["stm32f4", "cortex-m0plus", "mps2-an386", "mps2-an505"])
def test_each_thread_is_checked_against_its_own_stack(board, tmp_path):
    target = target_or_skip(board)
    (tmp_path / "deep.wat").write_text(deep_module(LOCALS))
    subprocess.run(["wat2wasm", str(tmp_path / "deep.wat"), "-o", str(tmp_path / "deep.wasm")], check=True)
    compile_file(tmp_path / "deep.wasm", tmp_path / "deep.o", target)
    elf = build(target, ["stack_limit.c", tmp_path / "deep.o"], tmp_path)
    output = checked(run(target, elf))
    assert trace(output) == ["trace canary below thread 1 intact 1", "trace canary below thread 2 intact 1",
                             "trace every call trapped with call stack exhausted 1"]
    depth = figures(output)
    assert depth["depth_thread1"] == depth["depth_thread2"] >= 3
