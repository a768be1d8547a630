"""Leaves that only checked Wasm code can call skip the entry stack check (aot/lower/leaves.py).

Three things are proven here: which functions lose the check (the lowered IR:
only call-free functions reached by direct calls alone; exported, start,
funcref'd and calling functions keep theirs); that it saves the six
instructions on a Cortex-M; and, on the boards under QEMU, that stack
exhaustion still traps before anything below the stack is written when every
level of a recursion calls such a leaf with a frame as big as an unguarded
frame may be (tests/safety/c/stack_canary.c paints below the stack's end).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from wasm_host import wat_to_wasm

from aot.compiler import compile_module
from aot.lower.leaves import unchecked_leaves
from aot.targets import load_target
from aot.wasm.decode import decode_module

REPO = Path(__file__).resolve().parents[2]
CANARY_HARNESS = REPO / "tests" / "safety" / "c" / "stack_canary.c"

WAT = r"""
(module
  (memory 1)
  (table 1 funcref)
  (elem (i32.const 0) $in_table)
  (elem declare func $referenced)
  (global $g (mut funcref) (ref.func $in_global))
  (func $leaf (param i32) (result i32) (i32.add (i32.load (local.get 0)) (i32.const 1)))
  (func $exported_leaf (export "exported_leaf") (param i32) (result i32) (i32.load (local.get 0)))
  (func $in_table (param i32) (result i32) (local.get 0))
  (func $in_global (param i32) (result i32) (local.get 0))
  (func $referenced (param i32) (result i32) (local.get 0))
  (func $grows (param i32) (result i32) (memory.grow (local.get 0)))
  (func $caller (export "caller") (param i32) (result i32)
    (drop (ref.func $referenced))
    (i32.add (call $leaf (local.get 0)) (call $leaf (i32.const 8))))
  (func $start (drop (i32.load (i32.const 0))))
  (start $start)
)
"""
# Function indices in WAT order.
LEAF, EXPORTED_LEAF, IN_TABLE, IN_GLOBAL, REFERENCED, GROWS, CALLER, START = range(8)


def _functions_with_stack_check(ir: str) -> set[int]:
    """Indices of the `wasm.N` functions whose definition loads waft_stack_limit."""
    found = set()
    for name, body in re.findall(r"^define [^@]*@\"?wasm\.(\d+)[^(]*\(.*?\n(.*?)^}", ir, re.DOTALL | re.MULTILINE):
        if "waft_stack_limit" in body:
            found.add(int(name))
    return found


def test_only_leaves_reached_by_direct_calls_lose_the_check(tmp_path):
    wasm = wat_to_wasm(WAT, tmp_path, "m")
    assert unchecked_leaves(decode_module(wasm)) == {LEAF}
    result = compile_module(wasm, load_target("stm32f4"), prefix="m", opt="0")
    checked = _functions_with_stack_check(result.unoptimised_ir)
    assert checked == {EXPORTED_LEAF, IN_TABLE, IN_GLOBAL, REFERENCED, GROWS, CALLER, START}, checked


@pytest.mark.skipif(shutil.which("arm-none-eabi-objdump") is None, reason="arm-none-eabi binutils not installed")
def test_the_leaf_has_no_stack_check_on_cortex_m(tmp_path):
    """At -O2 the leaf, kept out of line, is the load and add alone; its caller keeps its check."""
    wat = WAT.replace("(func $leaf (param i32) (result i32) (i32.add (i32.load (local.get 0)) (i32.const 1)))",
                      "(func $leaf (param i32) (result i32) (local i32) (local.set 1 (i32.const 0)) "
                      + "(block (loop (br_if 1 (i32.ge_u (local.get 1) (local.get 0))) "
                      + "(i32.store (i32.shl (local.get 1) (i32.const 2)) (i32.mul (local.get 1) (local.get 1))) "
                      + "(local.set 1 (i32.add (local.get 1) (i32.const 1))) (br 0))) (local.get 1))")
    # A function only called directly is not address-taken, so LLVM inlines a small one at every
    # call: these stores make the loop too big for that.
    wat = wat.replace("(i32.mul (local.get 1) (local.get 1))) ",
                      "(i32.mul (local.get 1) (local.get 1))) " + " ".join(
                          f"(i32.store offset={4 * k} (i32.shl (local.get 1) (i32.const 3)) (i32.xor (local.get 1) "
                          f"(i32.const {k})))" for k in range(1, 40)) + " ", 1)
    result = compile_module(wat_to_wasm(wat, tmp_path, "m"), load_target("stm32f4"), prefix="m")
    (tmp_path / "m.o").write_bytes(result.object)
    dump = subprocess.run(["arm-none-eabi-objdump", "-dr", "--no-show-raw-insn", str(tmp_path / "m.o")],
                          capture_output=True, text=True, check=True).stdout
    bodies = dict(re.findall(r"<([\w.]+)>:\n(.*?)(?:\n\n|\Z)", dump, re.DOTALL))
    assert f"wasm.{LEAF}" in bodies, "the leaf was inlined: the test needs it out of line"
    assert "waft_stack_limit" not in bodies[f"wasm.{LEAF}"], bodies[f"wasm.{LEAF}"]
    # The caller is exported: objdump names its code by the export, an alias of it.
    assert "waft_stack_limit" in bodies["m_caller"], bodies["m_caller"]


def leaf_recursion(leaf_locals: int) -> str:
    """WAT for `deep(n)`: a small-frame recursion that calls, at every level, a leaf whose
    frame holds `leaf_locals` i64s: all loaded, then stored back in reverse order to
    addresses the loads may alias, so every value is live at once and spills."""
    loads = " ".join(f"(local.set {i + 1} (i64.load offset={8 * i} (i32.and (local.get 0) (i32.const 8191))))"
                     for i in range(leaf_locals))
    stores = " ".join(f"(i64.store offset={8 * i} (i32.const 4096) (local.get {i + 1}))"
                      for i in reversed(range(leaf_locals)))
    return (f'(module (memory 1)\n'
            f' (func $leaf (param i32) (result i64) (local {" ".join(["i64"] * leaf_locals)})\n'
            f'  {loads}\n  {stores}\n  (i64.load (i32.const 4096)))\n'
            ' (func $deep (export "deep") (param i32) (result i32)\n'
            '  (i64.store (i32.const 0) (call $leaf (local.get 0)))\n'
            '  (if (i32.gt_u (local.get 0) (i32.const 0)) (then\n'
            '    (i64.store (i32.const 8) (call $leaf (i32.add (local.get 0) (i32.const 8))))\n'
            '    (drop (call $deep (i32.sub (local.get 0) (i32.const 1))))))\n'
            '  (i32.wrap_i64 (i64.load (i32.const 0)))))\n')


@pytest.mark.qemu
@pytest.mark.parametrize("name", ["stm32f4", "cortex-m0plus"])
def test_exhaustion_with_unchecked_leaves_traps_before_writing_below_the_stack(name, tmp_path):
    from aot.compiler import compile_file
    from waftkit.firmware.link import link
    from waftkit.firmware.runtime import runtime_cflags, runtime_library
    from waftkit.runners.base import get_runner

    target = load_target(name)
    for tool in ("wat2wasm", target.cc, target.qemu_system):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    wat = tmp_path / "deep.wat"
    wat.write_text(leaf_recursion(56))
    subprocess.run(["wat2wasm", str(wat), "-o", str(tmp_path / "deep.wasm")], check=True)
    result = compile_file(tmp_path / "deep.wasm", tmp_path / "deep.o", target)
    # The leaf really is unchecked, unguarded and as big as an unguarded frame gets.
    leaf_frame = result.frame_sizes.get("wasm.0", 0)
    assert "wasm.0" not in result.frame_guards
    assert target.max_unguarded_frame // 2 < leaf_frame <= target.max_unguarded_frame, result.frame_sizes
    assert 0 not in _functions_with_stack_check(result.unoptimised_ir)
    library = runtime_library(target, tmp_path / "runtime")
    program = tmp_path / "deep.elf"
    cflags = [*runtime_cflags(target)[len(target.cflags):], f"-I{tmp_path}", "-DCANARY_BYTES=6144u",
              "-DFRAME_BYTES=1024u"]
    link(target, [CANARY_HARNESS, tmp_path / "deep.o", library], program, cflags=cflags)
    run = get_runner(target, timeout=120).run(program)
    assert run.stdout.strip() == "trap call stack exhausted canary intact", run.summary() + run.stderr
