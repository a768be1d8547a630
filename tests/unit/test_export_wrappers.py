"""Exports cost nothing on top of the function (aot/lower/module.py `_emit_exports`).

An export whose C signature is the function's own (at most one result) is
a second name of the compiled function: an ELF alias, so a call from C
enters the body at once and the body exists once in flash.  Where the
conventions differ (several results go through out-pointers) the export is
a wrapper that only calls the body: never an inlined second copy, since
every function's address is in the instance's function table and its
internal copy always stays.
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
def test_an_export_is_an_alias_of_its_function(tmp_path: Path, target: str):
    result = compile_module(wat_to_wasm(WAT, tmp_path), load_target(target), prefix="m")
    assert re.search(r'@"?m_step"? = alias [^\n]*, ptr @"?wasm\.0"?\n', result.llvm_ir), result.llvm_ir
    assert not re.search(r"define [^\n]*@\"?m_step\b", result.llvm_ir)
    # In the object: the export's symbol and the body's are one address.
    symbols = _symbols(result.object)
    assert symbols["m_step"] == symbols["wasm.0"]


MULTI = """(module
  (func $pair (export "pair") (param i32) (result i32 i32) (local.get 0) (i32.add (local.get 0) (i32.const 1))))"""


@pytest.mark.parametrize("target", ["host", "stm32f4"])
def test_a_multi_result_export_is_a_wrapper_that_only_calls_the_body(tmp_path: Path, target: str):
    result = compile_module(wat_to_wasm(MULTI, tmp_path), load_target(target), prefix="m")
    wrapper = _define(result.llvm_ir, "m_pair")
    assert re.search(r"call [^\n]*@wasm\.0\(", wrapper), wrapper
    assert "load" not in wrapper  # the results are stored through the out-pointers, nothing else


def _symbols(obj: bytes) -> dict[str, int]:
    from io import BytesIO

    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    elf = ELFFile(BytesIO(obj))
    table = next(s for s in elf.iter_sections() if isinstance(s, SymbolTableSection))
    return {sym.name: sym["st_value"] for sym in table.iter_symbols() if sym.name}


def test_exports_still_compute(tmp_path: Path):
    lines = run_wat(tmp_path, WAT, r"""
        printf("%d\n", m_step(inst, 2));
        printf("%d\n", m_twice(inst, 1));
    """)
    assert lines == ["6", "21"]
