"""The Wasm binary writer: what it writes decodes back to the same module, and wabt agrees it is valid."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aot.wasm.decode import decode_module
from aot.wasm.encode import encode_module
from aot.wasm.module import (
    Export, Function, FuncType, Global, GlobalType, Import, Instr, Limits, MemoryType, Module, TableType,
)
from aot.wasm.validate import validate_module


def sample() -> Module:
    m = Module()
    m.types = [FuncType(("i32", "i64"), ("i32",)), FuncType((), ()), FuncType(("f32", "f64"), ())]
    m.imports = [Import("env", "f", "func", 0), Import("wasi:io/streams@0.2.0", "[method]s.w", "func", 1),
                 Import("env", "mem", "memory", MemoryType(Limits(1, 2)))]
    m.functions = [Function(0, ["i64", "i64", "f32"], [Instr("local.get", 0), Instr("end")]),
                   Function(1, [], [Instr("unreachable"), Instr("end")]),
                   Function(2, [], [Instr("i32.const", -129), Instr("drop"), Instr("i64.const", 1 << 40),
                                    Instr("drop"), Instr("call", 3), Instr("nop"), Instr("return"), Instr("end")])]
    m.tables = [TableType("funcref", Limits(0))]
    m.globals = [Global(GlobalType("i32", True), [Instr("i32.const", 7)])]
    m.exports = [Export("run", "func", 2), Export("g", "global", 0), Export("ünïcode#[dtor]r", "func", 3)]
    m.custom_sections = [("note", b"\x01\x02")]
    return m


def test_round_trip_through_the_decoder():
    m = sample()
    back = decode_module(encode_module(m))
    validate_module(back)
    assert back.types == m.types
    assert [(i.module, i.name, i.kind, i.desc) for i in back.imports] == [
        (i.module, i.name, i.kind, i.desc) for i in m.imports]
    assert [(f.type_index, f.locals, [(x.op, x.imm) for x in f.body]) for f in back.functions] == [
        (f.type_index, f.locals, [(x.op, x.imm) for x in f.body]) for f in m.functions]
    assert [(e.name, e.kind, e.index) for e in back.exports] == [(e.name, e.kind, e.index) for e in m.exports]
    assert back.globals[0].type == m.globals[0].type and back.tables == m.tables
    assert back.custom_sections == m.custom_sections


def test_memories_with_and_without_a_maximum_and_small_pages():
    m = Module(memories=[MemoryType(Limits(0))])
    assert decode_module(encode_module(m)).memories == m.memories
    m = Module(memories=[MemoryType(Limits(1, 1, page_size_log2=0))])
    assert decode_module(encode_module(m)).memories == m.memories
    m = Module(memories=[MemoryType(Limits(1, 2, shared=True))])  # threads: flags 0x03
    assert decode_module(encode_module(m)).memories == m.memories
    with pytest.raises(ValueError, match="shared memory must have a maximum"):
        encode_module(Module(memories=[MemoryType(Limits(1, shared=True))]))


def test_what_it_cannot_write_is_refused_by_name():
    m = Module(types=[FuncType((), ())], functions=[Function(0, [], [Instr("v128.any_true"), Instr("end")])])
    with pytest.raises(ValueError, match="v128.any_true"):
        encode_module(m)
    with pytest.raises(ValueError, match="'i128'"):
        encode_module(Module(types=[FuncType(("i128",), ())]))


@pytest.mark.skipif(shutil.which("wasm-validate") is None, reason="wabt's wasm-validate is not installed")
def test_wabt_validates_it(tmp_path: Path):
    wasm = tmp_path / "m.wasm"
    wasm.write_bytes(encode_module(sample()))
    result = subprocess.run(["wasm-validate", str(wasm)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
