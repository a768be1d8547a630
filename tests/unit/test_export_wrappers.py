"""Export wrappers stay thin calls (aot/lower/module.py `_emit_exports`): each body exists once in flash.

Every function's address is stored in the instance's function table, so its
internal copy always stays; if LLVM inlined the body into the export wrapper
as well, the object would carry it twice.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from wasm_host import run_wat, wat_to_wasm

from aot.compiler import compile_module
from aot.targets import load_target

WAT = """(module
  (memory 1 1)
  (func $step (export "step") (param i32) (result i32)
    (i32.store (i32.const 8) (i32.add (i32.load (i32.const 8)) (local.get 0)))
    (i32.mul (i32.load (i32.const 8)) (i32.const 3)))
  (func (export "twice") (param i32) (result i32)
    (i32.add (call $step (local.get 0)) (call $step (local.get 0)))))"""


def _define(llvm_ir: str, name: str) -> str:
    match = re.search(rf"define [^\n]*@{re.escape(name)}\(.*?\n}}\n", llvm_ir, re.S)
    assert match, llvm_ir
    return match.group(0)


@pytest.mark.parametrize("target", ["host", "stm32f4"])
def test_export_wrapper_only_calls_the_body(tmp_path: Path, target: str):
    result = compile_module(wat_to_wasm(WAT, tmp_path), load_target(target), prefix="m")
    wrapper = _define(result.llvm_ir, "m_step")
    instructions = [line.strip() for line in wrapper.splitlines()[1:-1] if line.strip() and not line.endswith(":")]
    assert len(instructions) == 2, wrapper  # the call and the ret
    assert re.search(r"call [^\n]*@wasm\.0\(", instructions[0]), wrapper
    assert "load" not in wrapper and "store" not in wrapper


def test_wrapped_exports_still_compute(tmp_path: Path):
    lines = run_wat(tmp_path, WAT, r"""
        printf("%d\n", m_step(inst, 2));
        printf("%d\n", m_twice(inst, 1));
    """)
    assert lines == ["6", "21"]
