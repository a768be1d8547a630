"""Big loop-heavy functions called once from a loop stay out of line (aot/lower/inlining.py).

LLVM inlines a function with a single call site almost whatever its size; for a big
function full of loops, called from its caller's loop, that costs more in register
pressure than the call it saves (Embench huffbench on stm32f4: 357k -> 320k ticks kept
out of line).  These tests pin the rule: which functions it picks from a module, and that
the optimised code keeps the call for them and inlines the rest as before.
"""

from __future__ import annotations

import re

from wasm_host import wat_to_wasm

from aot.compiler import compile_module
from aot.lower.inlining import BIG_FUNCTION, kept_out_of_loops
from aot.targets import load_target
from aot.wasm.decode import decode_module


def _big_body(statements: int) -> str:
    """A loop of `statements` six-instruction updates of $a: 6 * statements instructions and a few more."""
    step = "(local.set $a (i32.add (i32.mul (local.get $a) (i32.const {k})) (local.get $i)))"
    body = "\n".join(step.format(k=2 * k + 3) for k in range(statements))
    return f"""
      (block (loop
        (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
        {body}
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br 0)))
      (local.get $a)"""


def _module(statements: int) -> str:
    big = _big_body(statements)
    return f"""
(module
  (memory (export "mem") 1 1)
  (func $big (param $n i32) (result i32) (local $i i32) (local $a i32) {big})
  (func $big_straight (param $n i32) (result i32) (local $i i32) (local $a i32) {big})
  (func $big_twice (param $n i32) (result i32) (local $i i32) (local $a i32) {big})
  (func $big_exported (export "big_exported") (param $n i32) (result i32) (local $i i32) (local $a i32) {big})
  (func $small (param $n i32) (result i32) (i32.mul (local.get $n) (i32.const 3)))
  (func (export "in_loop") (param $n i32) (result i32) (local $j i32) (local $s i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $j) (local.get $n)))
      (local.set $s (i32.add (local.get $s) (call $big (local.get $j))))
      (local.set $s (i32.add (local.get $s) (call $small (local.get $j))))
      (local.set $s (i32.add (local.get $s) (call $big_exported (local.get $j))))
      (local.set $s (i32.add (local.get $s) (call $big_twice (local.get $j))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br 0)))
    (i32.add (local.get $s) (call $big_twice (local.get $n))))
  (func (export "straight") (param $n i32) (result i32)
    (call $big_straight (local.get $n)))
)
"""


def test_rule_picks_only_the_big_function_called_once_in_a_loop(tmp_path):
    module = decode_module(wat_to_wasm(_module(BIG_FUNCTION // 6 + 10), tmp_path, "m"))
    assert kept_out_of_loops(module) == {0}  # $big; not the straight-line call, the twice-called,
    # the exported one or the small one
    small = decode_module(wat_to_wasm(_module(BIG_FUNCTION // 6 - 20), tmp_path, "s"))
    assert len(small.functions[0].body) < BIG_FUNCTION
    assert kept_out_of_loops(small) == frozenset()


def test_optimised_code_keeps_the_call_in_the_loop_and_inlines_the_rest(tmp_path):
    result = compile_module(wat_to_wasm(_module(BIG_FUNCTION // 6 + 10), tmp_path, "m"),
                            load_target("stm32f4"), prefix="m")
    ir = result.llvm_ir
    calls = re.findall(r"call [^\n]*@(wasm\.\d+)[.\w]*\(", ir)
    assert "wasm.0" in calls, ir[:4000]  # $big: still called, from the loop
    assert "wasm.1" not in calls  # $big_straight: its one call is not in a loop, so LLVM inlined it
    assert "wasm.4" not in calls  # $small: inlined
