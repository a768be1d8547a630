"""The compile driver: results, atomic file output, errors, caps, and the header agreeing with the object."""

from __future__ import annotations

import re

import pytest
from wasm_host import run_c, wat_to_wasm

from aot.compiler import CompileResult, compile_file, compile_module
from aot.emit import target_machine
from aot.errors import (
    AotError,
    DecodeError,
    LinkError,
    UnsupportedError,
    ValidationError,
)
from aot.lower.module import TABLE_CAP_LIMIT, lower_module, memory_cap, table_cap
from aot.targets import load_target
from aot.wasm.module import (
    Function,
    FuncType,
    Import,
    Instr,
    Limits,
    MemoryType,
    Module,
    TableType,
)

ADD = '(module (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))'


def test_compile_module_result(tmp_path):
    data = wat_to_wasm(ADD, tmp_path)
    result = compile_module(data, load_target("host"), prefix="calc")
    assert isinstance(result, CompileResult)
    assert result.object.startswith(b"\x7fELF")
    assert result.prefix == "calc"
    assert "int32_t calc_add(calc__instance *inst, int32_t p0, int32_t p1);" in result.header
    assert result.instance_size > 0 and result.instance_align >= 1
    assert re.search(r'@"?calc_add"? = alias ', result.llvm_ir)  # the export is the function itself
    assert [e.name for e in result.module.exports] == ["add"]


def test_instance_size_matches_the_header_and_c(tmp_path):
    wat = r"""
    (module (memory 1 2) (table 3 funcref) (global (mut i64) (i64.const 1))
      (data "abc") (elem func 0)
      (func (export "f") (result i32) (i32.const 7)))
    """
    program = run_c(tmp_path, {"m": wat}, r"""
        printf("%zu %zu\n", sizeof(m__instance), _Alignof(m__instance));
        m__instance *inst = aligned_alloc(_Alignof(m__instance), sizeof(m__instance));
        memset(inst, 0xa5, sizeof *inst);  /* initialize must not rely on zeroed storage */
        m__imports imports;
        printf("%d %d\n", (int)m__instantiate(inst, &imports), m_f(inst));
    """)
    result = program.results[0]
    size, align = (int(x) for x in program.stdout.splitlines()[0].split())
    assert align == result.instance_align == 16
    assert size == result.instance_size
    assert size >= 2 * 65536  # memory laid out at its declared max
    assert program.stdout.splitlines()[1] == "0 7"


def test_compile_file_writes_object_and_header(tmp_path):
    src = tmp_path / "my-module.wasm"
    src.write_bytes(wat_to_wasm(ADD, tmp_path))
    out = tmp_path / "out" / "thing.o"
    compile_file(src, out, load_target("host"), emit_llvm=True)
    assert out.read_bytes().startswith(b"\x7fELF")
    header = (tmp_path / "out" / "thing.h").read_text()
    assert "my_module_add" in header  # default prefix from the input's stem
    assert (tmp_path / "out" / "thing.ll").read_text().startswith("; ModuleID")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["thing.h", "thing.ll", "thing.o"]


@pytest.mark.parametrize(
    "content, error",
    [
        (b"\0asm\x01\0\0\0\x01", DecodeError),
        (None, ValidationError),
    ],
)
def test_failures_leave_no_output(tmp_path, content, error):
    if content is None:
        # Valid binary, invalid module: i32.add on an empty stack.
        content = wat_to_wasm('(module (func (result i32) (i32.const 1)))', tmp_path)
        content = content.replace(b"\x41\x01\x0b", b"\x6a\x01\x0b")  # i32.const 1 -> i32.add, nop-ish
    src = tmp_path / "bad.wasm"
    src.write_bytes(content)
    out = tmp_path / "out.o"
    out.write_bytes(b"old")  # an old output survives untouched
    with pytest.raises(error):
        compile_file(src, out, load_target("host"), prefix="bad")
    assert out.read_bytes() == b"old"
    assert not (tmp_path / "out.h").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_bad_prefix_and_opt(tmp_path):
    data = wat_to_wasm(ADD, tmp_path)
    with pytest.raises(ValueError):
        compile_module(data, load_target("host"), prefix="waft")
    with pytest.raises(AotError, match="optimisation level"):
        compile_module(data, load_target("host"), prefix="m", opt="9")


def test_unknown_opcode_names_function_and_offset(tmp_path):
    wat = '(module (func (param v128) (result i32) (i32.const 0)) (func (export "g") (result i32) (i32.const 1)))'
    data = wat_to_wasm(wat, tmp_path)
    with pytest.raises(UnsupportedError, match="SIMD"):
        compile_module(data, load_target("host"), prefix="m")
    # An opcode with no lowering (the decoder knows more than the lowering does).
    module = Module(types=[FuncType((), ())], imports=[Import("env", "f", "func", 0)],
                    functions=[Function(0, [], [Instr("nop", None, 0x20), Instr("bogus.op", None, 0x21), Instr("end")])])
    host = load_target("host")
    with pytest.raises(UnsupportedError) as info:
        lower_module(module, host, "m", target_machine(host).target_data)
    assert info.value.func_index == 1 and info.value.offset == 0x21
    assert '"bogus.op"' in str(info.value) and "function 1, offset 0x21" in str(info.value)


def test_memory_caps():
    host, m4 = load_target("host"), load_target("stm32f4")
    classic = MemoryType(Limits(1))
    assert memory_cap(classic, host, None) == host.default_memory_cap_pages
    assert memory_cap(classic, m4, None) == m4.default_memory_cap_pages
    assert memory_cap(MemoryType(Limits(1, 4)), host, None) == 4
    assert memory_cap(MemoryType(Limits(1, 4)), host, 2) == 2
    assert memory_cap(MemoryType(Limits(3, 4)), host, 2) == 3  # never below min
    assert memory_cap(MemoryType(Limits(1, 4)), host, 100) == 4  # never above max
    tiny = MemoryType(Limits(10, None, page_size_log2=0))
    assert memory_cap(tiny, m4, 1) == 65536  # the option counts 64 KiB units
    assert memory_cap(MemoryType(Limits(1)), load_target("cortex-m0plus"), 1 << 16) == 1 << 15  # 2 GiB on 32-bit


def test_table_caps():
    host, m4 = load_target("host"), load_target("stm32f4")
    assert table_cap(TableType("funcref", Limits(2)), host, None) == 2 + 1024
    assert table_cap(TableType("funcref", Limits(2)), m4, None) == 2 + 1024
    assert table_cap(TableType("funcref", Limits(2, 0x10000)), host, None) == 0x10000
    assert table_cap(TableType("funcref", Limits(2, 0xFFFFFFFF)), host, None) == TABLE_CAP_LIMIT
    assert table_cap(TableType("funcref", Limits(2, 50)), host, 10) == 10
    assert table_cap(TableType("funcref", Limits(20, 50)), host, 10) == 20


def test_two_modules_link_into_one_program(tmp_path):
    # Same-typed functions in two objects share one signature string (linkonce/comdat).
    a = '(module (func (export "f") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))'
    b = '(module (func (export "f") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2))))'
    program = run_c(tmp_path, {"a": a, "b": b}, r"""
        a__instance *x = calloc(1, sizeof *x); b__instance *y = calloc(1, sizeof *y);
        a__imports ia; b__imports ib;
        a__instantiate(x, &ia); b__instantiate(y, &ib);
        printf("%d %d\n", a_f(x, 10), b_f(y, 10));
    """)
    assert program.stdout.splitlines() == ["11 20"]


def test_symbol_clash_is_a_clear_error(tmp_path):
    # Import "m"."initialize" would be the C symbol m__initialize, which is P__initialize for prefix m.
    data = wat_to_wasm('(module (import "m" "initialize" (func)))', tmp_path)
    with pytest.raises(LinkError, match="m__initialize"):
        compile_module(data, load_target("host"), prefix="m")
    assert compile_module(data, load_target("host"), prefix="other").object
