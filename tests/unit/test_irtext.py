"""The module text printed function by function (aot/lower/irtext.py) is the text llvmlite would print.

Retiring a function must not change what LLVM reads: the text with retired
functions equals `str(llmod)` taken before they were retired, and a data
segment escaped in chunks is the same constant as llvmlite's own printing.
"""

from __future__ import annotations

import llvmlite.binding as llvm
import pytest
from llvmlite import ir

from aot.emit import target_machine
from aot.lower import irtext
from aot.lower.irtext import ByteArrayConstant, FunctionTexts, escaped_bytes
from aot.targets import load_target

I32 = ir.IntType(32)

def _small_module() -> tuple[ir.Module, list[ir.Function]]:
    llmod = ir.Module(name="t")
    fnty = ir.FunctionType(I32, [I32])
    callee = ir.Function(llmod, fnty, name="callee")
    caller = ir.Function(llmod, fnty, name="caller")
    b = ir.IRBuilder(callee.append_basic_block("entry"))
    b.ret(b.add(callee.args[0], ir.Constant(I32, 1), name="plus"))
    b = ir.IRBuilder(caller.append_basic_block("entry"))
    then = caller.append_basic_block("then")
    b.cbranch(b.icmp_signed("<", caller.args[0], ir.Constant(I32, 0)), then, caller.append_basic_block("done"))
    b.position_at_end(then)
    b.ret(b.call(callee, [caller.args[0]]))
    b.position_at_end(caller.blocks[-1])
    b.ret(ir.Constant(I32, 0))
    node = llmod.add_metadata([ir.MetaDataString(llmod, "note")])
    caller.blocks[0].instructions[0].set_metadata("note", node)
    return llmod, [callee, caller]


def test_retired_functions_print_as_before() -> None:
    llmod, functions = _small_module()
    before = str(llmod)
    texts = FunctionTexts(llmod)
    for fn in functions:
        texts.retire(fn)
        assert fn.blocks == []  # the body's objects are gone
    assert texts.module_text() == before
    assert texts.module_text(trailer=["; end"]) == before + "\n; end"


def test_a_function_is_retired_once() -> None:
    llmod, functions = _small_module()
    texts = FunctionTexts(llmod)
    texts.retire(functions[0])
    with pytest.raises(ValueError, match="callee has no body"):
        texts.retire(functions[0])


@pytest.mark.parametrize("chunk", [1, 2, 7, irtext.ESCAPE_CHUNK])
def test_bytes_are_escaped_in_chunks(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(irtext, "ESCAPE_CHUNK", chunk)
    data = bytes(range(256)) + b'"\\end'
    assert escaped_bytes(data) == 'c"' + "".join(f"\\{b:02x}" for b in data) + '"'
    assert escaped_bytes(b"") == 'c""'


def test_a_byte_array_constant_is_the_constant_llvmlite_would_print() -> None:
    data = b'printable "quoted" \\ and \x00\x01\xff bytes' * 3

    def parsed(make) -> str:
        llmod = ir.Module(name="t")
        make(llmod)
        text = FunctionTexts(llmod).module_text()
        return str(llvm.parse_assembly(text))

    def ours(llmod: ir.Module) -> None:
        ByteArrayConstant(llmod, "data.0", data)

    def llvmlites(llmod: ir.Module) -> None:
        gv = ir.GlobalVariable(llmod, ir.ArrayType(ir.IntType(8), len(data)), name="data.0")
        gv.global_constant, gv.linkage, gv.unnamed_addr, gv.align = True, "private", True, 1
        gv.initializer = ir.Constant(gv.value_type, bytearray(data))

    target_machine(load_target("host"))  # initialises LLVM
    assert parsed(ours) == parsed(llvmlites)
    llmod = ir.Module(name="t")
    assert str(ByteArrayConstant(llmod, "data.1", b"A\n")) == \
        '@"data.1" = private unnamed_addr constant [2 x i8] c"\\41\\0a", align 1'
