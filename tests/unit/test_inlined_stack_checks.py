"""A function inlined into a checked caller leaves no second stack check (aot/lower/module.py
stack_pointer_and_limit).

Every function that is not an unchecked leaf checks `sp < waft_stack_limit` on entry.
Once LLVM inlines a callee, its check compares the same stack pointer (the caller's
frame) with the same limit again: the reads are made so that LLVM merges them and folds
the repeated branch.  Inlined wasi-libc code was paying one check per level (three in
`__stdio_seek`); coremark_libc and linked_alloc ran 7 % and 4 % faster without them on
stm32f4.  Exhaustion itself is still caught: tests/unit/test_leaf_stack_check.py and
tests/safety run recursions to the limit on the boards.
"""

from __future__ import annotations

import re

import pytest
from wasm_host import wat_to_wasm

from aot.compiler import compile_module
from aot.targets import load_target

# $middle and $inner are not leaves (they call the import), so each has its own entry
# check; both are small and called once, so LLVM inlines them into the export.
WAT = r"""
(module
  (import "env" "tick" (func $tick (param i32)))
  (memory 1)
  (func $inner (param i32) (result i32)
    (call $tick (local.get 0))
    (i32.load (local.get 0)))
  (func $middle (param i32) (result i32)
    (call $tick (i32.const 1))
    (i32.add (call $inner (local.get 0)) (i32.const 3)))
  (func $outer (export "outer") (param i32) (result i32)
    (call $tick (i32.const 2))
    (i32.store (i32.const 16) (local.get 0))
    (call $middle (local.get 0)))
)
"""
OUTER = 3  # function index: the import is 0


def _stack_checks(ir: str, index: int) -> int:
    """How many times `wasm.<index>` loads the stack limit (once per check left)."""
    for name, body in re.findall(r"^define [^@]*@\"?wasm\.(\d+)[^(]*\(.*?\n(.*?)^}", ir, re.DOTALL | re.MULTILINE):
        if int(name) == index:
            return len(re.findall(r"^\s*%\"?stack\.limit[\w.]*\"? = load ", body, re.M))
    raise AssertionError(f"wasm.{index} is not in the IR")


@pytest.mark.parametrize("target", ["stm32f4", "host", "riscv32-virt"])
def test_inlined_callees_do_not_check_again(tmp_path, target):
    result = compile_module(wat_to_wasm(WAT, tmp_path, "m"), load_target(target), prefix="m", opt="2")
    ir = result.optimised_ir()
    # The callees were inlined (else there is nothing to prove) ...
    assert not re.search(r"call [^\n]*@\"?wasm\.[12]\b", ir), "the callees were not inlined"
    # ... and the export's body loads the limit, and compares the stack pointer with it, once.
    assert _stack_checks(ir, OUTER) == 1, re.search(r"define [^\n]*wasm\.3.*?^}", ir, re.S | re.M).group(0)
