"""Tests of aot.wasm.validate: typing of bodies, module-level rules, error places, custom page sizes.

Modules come from WAT through `wat2wasm --no-check` (wabt's own validation
off, so invalid modules can be written), or byte by byte where wabt 1.0.32
lacks the syntax (custom page sizes).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aot.errors import ValidationError
from aot.wasm.decode import decode_module
from aot.wasm.module import Module
from aot.wasm.validate import validate_module

needs_wabt = pytest.mark.skipif(shutil.which("wat2wasm") is None, reason="wat2wasm (wabt) is not installed")

HEADER = b"\x00asm\x01\x00\x00\x00"


def wasm(text: str, tmp_path: Path, *flags: str) -> bytes:
    src = tmp_path / "m.wat"
    out = tmp_path / "m.wasm"
    src.write_text(text)
    subprocess.run(
        ["wat2wasm", "--no-check", "--enable-tail-call", "--enable-extended-const", *flags,
         str(src), "-o", str(out)],
        check=True, capture_output=True,
    )
    return out.read_bytes()


def valid(text: str, tmp_path: Path, *flags: str) -> Module:
    m = decode_module(wasm(text, tmp_path, *flags))
    validate_module(m)
    return m


def invalid(text: str, tmp_path: Path, match: str, *flags: str) -> ValidationError:
    data = wasm(text, tmp_path, *flags)
    m = decode_module(data)
    with pytest.raises(ValidationError, match=match) as exc:
        validate_module(m)
    return exc.value


# ---------------------------------------------------------------------------
# Function bodies
# ---------------------------------------------------------------------------
@needs_wabt
def test_type_mismatch_names_function_and_instruction(tmp_path: Path) -> None:
    text = """(module
      (import "env" "f" (func))
      (func (result i32) i32.const 1)
      (func (result i32) i32.const 1 f64.const 2 i32.add))"""
    data = wasm(text, tmp_path)
    m = decode_module(data)
    with pytest.raises(ValidationError, match="type mismatch: i32.add expected i32, got f64") as exc:
        validate_module(m)
    e = exc.value
    assert (e.section, e.func_index) == ("code", 2)
    add = next(i for i in m.functions[1].body if i.op == "i32.add")
    assert e.offset == add.offset and data[e.offset] == 0x6A
    assert "code section, function 2, offset 0x" in str(e)


@needs_wabt
@pytest.mark.parametrize(
    "body, match",
    [
        ("(result i32) f64.const 0", "type mismatch"),
        ("(result i32)", "type mismatch: end expected i32 but the stack is empty"),
        ("i32.const 1", "1 value\\(s\\) left on the stack"),
        ("local.get 0 drop", "unknown local 0"),
        ("global.get 3 drop", "unknown global 3"),
        ("call 9", "unknown function 9"),
        ("br 1", "unknown label 1"),
        ("block br 2 end", "unknown label 2"),
        ("i32.const 0 i32.load align=8 drop", "unknown memory 0"),
        ("i32.const 0 i32.const 0 if end", "type mismatch"),
        ("i32.const 0 if (result i32) i32.const 1 end drop", "type mismatch: if without else"),
        ("block (result i32) i32.const 1 i32.const 2 end drop", "left on the stack"),
        ("(result i32) i32.const 1 return i64.const 0", "type mismatch: end expected i32, got i64"),
        ("loop (result i32) i32.const 1 br_if 0 i32.const 2 drop end drop", "type mismatch"),
        ("i32.const 1 i64.const 2 i32.const 0 select drop", "select operands differ"),
        ("ref.null func ref.null func i32.const 0 select drop", "select without a type needs numeric"),
        ("i32.const 0 ref.is_null drop", "ref.is_null expected a reference"),
        ("i32.const 0 memory.size drop drop", "unknown memory 0"),
        ("i32.const 0 table.get 0 drop", "unknown table 0"),
        ("elem.drop 0", "unknown elem segment 0"),
    ],
)
def test_body_errors(body: str, match: str, tmp_path: Path) -> None:
    e = invalid(f"(module (func {body}))", tmp_path, match)
    assert e.section == "code" and e.func_index == 0 and e.offset is not None


@needs_wabt
@pytest.mark.parametrize(
    "body",
    [
        # The stack is polymorphic after unreachable / br / return / br_table.
        "(result i32) unreachable i32.add",
        "(result i32) unreachable select",
        "(result f64) block (result f64) block (result f32) unreachable br_table 0 1 1 end drop"
        " f64.const 0 end",
        "(result i32) i32.const 1 return drop",
        "(result i32) block (result i32) i32.const 1 br 0 end",
        "(result i32) i32.const 1 i32.const 2 i32.const 0 select",
        "(result funcref) ref.null func ref.null func i32.const 0 select (result funcref)",
        "(param i32) (result i32) local.get 0 local.tee 0 if (result i32) i32.const 1 else i32.const 2 end",
        "(param i32 i32) (result i32 i32) local.get 0 local.get 1 block (param i32 i32) (result i32 i32) end",
        "loop (result i32) i32.const 1 i32.const 0 br_if 0 end drop",
        "block block i32.const 0 br_table 0 1 0 end end",
    ],
)
def test_valid_bodies(body: str, tmp_path: Path) -> None:
    valid(f"(module (func {body}))", tmp_path)


@needs_wabt
def test_globals_in_bodies(tmp_path: Path) -> None:
    valid("(module (global (mut i64) (i64.const 0)) (func i64.const 1 global.set 0))", tmp_path)
    invalid("(module (global i64 (i64.const 0)) (func i64.const 1 global.set 0))", tmp_path,
            "global is immutable")


@needs_wabt
def test_ref_func_must_be_declared(tmp_path: Path) -> None:
    invalid("(module (func (result funcref) ref.func 0))", tmp_path, "undeclared function reference 0")
    valid("(module (elem declare func 0) (func (result funcref) ref.func 0))", tmp_path)
    valid("(module (export \"f\" (func 0)) (func (result funcref) ref.func 0))", tmp_path)
    valid("(module (global funcref (ref.func 0)) (func (result funcref) ref.func 0))", tmp_path)


def test_typed_select_arity() -> None:
    # `select (result i32 i32)`: wabt refuses to write it, so it is written by hand.
    body = b"\x00\x41\x01\x41\x02\x41\x00\x1c\x02\x7f\x7f\x0b"
    data = (HEADER + _sec(1, b"\x01\x60\x00\x01\x7f") + _sec(3, b"\x01\x00")
            + _sec(10, b"\x01" + _uleb(len(body)) + body))
    with pytest.raises(ValidationError, match="invalid result arity") as exc:
        validate_module(decode_module(data))
    assert data[exc.value.offset] == 0x1C


@needs_wabt
def test_alignment(tmp_path: Path) -> None:
    valid("(module (memory 1) (func i32.const 0 i64.load align=8 drop))", tmp_path)
    for access in ("i32.load align=8", "i64.load32_u align=8", "i32.load8_s align=2"):
        e = invalid(f"(module (memory 1) (func i32.const 0 {access} drop))", tmp_path,
                    "alignment must not be larger than natural")
        assert e.func_index == 0


def test_hand_built_module_errors() -> None:
    """The validator also guards IR built without the decoder."""
    from aot.wasm.module import Function, FuncType, Instr

    m = Module(types=[FuncType((), ())])
    m.functions.append(Function(0, [], [Instr("block", 5, 10), Instr("end", None, 12), Instr("end", None, 13)]))
    with pytest.raises(ValidationError, match="unknown type 5") as exc:
        validate_module(m)
    assert exc.value.offset == 10
    m.functions[0].body = [Instr("nop", None, 20)]
    with pytest.raises(ValidationError, match="does not end with"):
        validate_module(m)
    m.functions[0].body = [Instr("end", None, 1), Instr("nop", None, 2)]
    with pytest.raises(ValidationError, match="operators remaining after the end") as exc:
        validate_module(m)
    assert exc.value.offset == 2


@needs_wabt
def test_call_indirect_and_tables(tmp_path: Path) -> None:
    valid("(module (type (func)) (table 1 funcref) (func i32.const 0 call_indirect (type 0)))", tmp_path)
    invalid("(module (type (func)) (table 1 externref) (func i32.const 0 call_indirect (type 0)))",
            tmp_path, "needs a funcref table")
    invalid("(module (table 1 funcref) (table 1 externref) "
            "(func i32.const 0 i32.const 0 i32.const 0 table.copy 0 1))", tmp_path, "table.copy")
    invalid("(module (table 1 externref) (elem funcref) "
            "(func i32.const 0 i32.const 0 i32.const 0 table.init 0 0))", tmp_path, "table.init")
    valid("(module (table 1 externref) (func (param externref) i32.const 0 local.get 0 table.set 0 "
          "local.get 0 i32.const 2 table.grow 0 drop table.size 0 drop "
          "i32.const 0 local.get 0 i32.const 1 table.fill 0))", tmp_path)


@needs_wabt
def test_bulk_memory(tmp_path: Path) -> None:
    valid("(module (memory 1) (data \"x\") (func i32.const 0 i32.const 0 i32.const 1 memory.init 0 "
          "data.drop 0 i32.const 0 i32.const 0 i32.const 0 memory.copy "
          "i32.const 0 i32.const 0 i32.const 0 memory.fill))", tmp_path)
    invalid("(module (memory 1) (data \"x\") (func data.drop 1))", tmp_path, "unknown data segment 1")


@needs_wabt
def test_tail_calls(tmp_path: Path) -> None:
    valid("(module (func (result i32) return_call 1) (func (result i32) i32.const 1))", tmp_path)
    valid("(module (type (func (result i32))) (table 1 funcref) "
          "(func (result i32) i32.const 0 return_call_indirect (type 0) i64.const 9 drop))", tmp_path)
    e = invalid("(module (func (result i32) return_call 1) (func (result i64) i64.const 1))",
                tmp_path, "callee returns \\[i64\\] but the caller returns \\[i32\\]")
    assert e.func_index == 0
    invalid("(module (type (func (result i64))) (table 1 funcref) "
            "(func (result i32) i32.const 0 return_call_indirect (type 0)))", tmp_path, "type mismatch")


# ---------------------------------------------------------------------------
# Module-level rules
# ---------------------------------------------------------------------------
@needs_wabt
@pytest.mark.parametrize(
    "text, match, section",
    [
        ("(module (global i32 (i32.ctz (i32.const 0))))", "constant expression required", "global"),
        ("(module (global i32 (i64.const 0)))", "type mismatch", "global"),
        ("(module (global i32 (i32.const 0)) (global i32 (global.get 0)))", "unknown global 0", "global"),
        ("(module (global (import \"a\" \"b\") (mut i32)) (global i32 (global.get 0)))",
         "global 0 is mutable", "global"),
        ("(module (global i32 (i32.add (i32.const 1) (i64.const 2))))", "type mismatch", "global"),
        ("(module (memory 1) (global i32 (i32.const 0)) (data (global.get 0) \"a\"))",
         "unknown global 0", "data"),
        ("(module (data (i32.const 0) \"a\"))", "unknown memory 0", "data"),
        ("(module (table 1 funcref) (elem (i64.const 0) func))", "type mismatch", "element"),
        ("(module (elem (i32.const 0) func))", "unknown table 0", "element"),
        ("(module (table 1 externref) (elem (table 0) (i32.const 0) func))", "type mismatch", "element"),
        ("(module (func) (func) (export \"a\" (func 0)) (export \"a\" (func 1)))",
         "duplicate export name", "export"),
        ("(module (export \"a\" (func 3)))", "unknown function 3", "export"),
        ("(module (export \"a\" (memory 0)))", "unknown memory 0", "export"),
        ("(module (func (param i32)) (start 0))", "start function must have type", "start"),
        ("(module (start 1))", "unknown function 1", "start"),
        ("(module (memory 2 1))", "size minimum must not be greater than maximum", "memory"),
        ("(module (memory 65537))", "memory size must be at most 65536 pages", "memory"),
        ("(module (table 2 1 funcref))", "size minimum must not be greater than maximum", "table"),
        ("(module (import \"a\" \"b\" (memory 0 65537)))", "memory size must be at most", "import"),
        ("(module (func (type 3)))", "unknown type 3", "function"),
    ],
)
def test_module_errors(text: str, match: str, section: str, tmp_path: Path) -> None:
    e = invalid(text, tmp_path, match)
    assert e.section == section


@needs_wabt
def test_multiple_memories_are_invalid(tmp_path: Path) -> None:
    invalid("(module (memory 0) (memory 1))", tmp_path, "multiple memories", "--enable-multi-memory")
    invalid("(module (import \"a\" \"m\" (memory 0)) (memory 1))", tmp_path, "multiple memories",
            "--enable-multi-memory")


@needs_wabt
def test_constant_expressions(tmp_path: Path) -> None:
    valid("""(module
      (import "a" "g" (global i32))
      (global i32 (i32.add (i32.mul (global.get 0) (i32.const 2)) (i32.const 1)))
      (global i64 (i64.sub (i64.const 1) (i64.const 2)))
      (global funcref (ref.func 0))
      (global externref (ref.null extern))
      (global f64 (f64.const 1.5))
      (memory 1)
      (data (i32.sub (global.get 0) (i32.const 1)) "x")
      (func))""", tmp_path)


# ---------------------------------------------------------------------------
# custom-page-sizes, byte by byte (wabt 1.0.32 has no `(pagesize N)`)
# Rebuilds the modules of the proposal's custom-page-sizes.wast,
# custom-page-sizes-invalid.wast and memory_max.wast, which wast2json cannot read.
# ---------------------------------------------------------------------------
def _uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _sec(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + _uleb(len(payload)) + payload


def _memory(min_: int, max_: int | None, log2: int | None) -> bytes:
    flags = (1 if max_ is not None else 0) | (8 if log2 is not None else 0)
    out = bytes([flags]) + _uleb(min_)
    if max_ is not None:
        out += _uleb(max_)
    if log2 is not None:
        out += _uleb(log2)
    return out


def _defined(mem: bytes) -> bytes:
    return HEADER + _sec(5, b"\x01" + mem)


def _imported(mem: bytes) -> bytes:
    return HEADER + _sec(2, b"\x01" + b"\x01a" + b"\x01b" + b"\x02" + mem)


@pytest.mark.parametrize("wrap", [_defined, _imported], ids=["defined", "imported"])
@pytest.mark.parametrize(
    "min_, max_, log2",
    [
        (1, None, 0), (1, None, 16), (1, 2, 0), (1, 2, 16),  # custom-page-sizes.wast
        (0xFFFFFFFF, None, 0), (65536, None, 16),  # memory_max.wast
        (0, 0xFFFFFFFF, 0),
    ],
)
def test_custom_page_sizes_valid(wrap, min_: int, max_: int | None, log2: int) -> None:
    m = decode_module(wrap(_memory(min_, max_, log2)))
    validate_module(m)
    assert m.all_memories()[0].page_size == 1 << log2


@pytest.mark.parametrize("wrap", [_defined, _imported], ids=["defined", "imported"])
@pytest.mark.parametrize("log2", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 63])
def test_custom_page_sizes_invalid_size(wrap, log2: int) -> None:
    # custom-page-sizes-invalid.wast: every power of two but 1 and 64 KiB.
    with pytest.raises(ValidationError, match="invalid custom page size"):
        validate_module(decode_module(wrap(_memory(0, None, log2))))


def test_custom_page_sizes_memory_max() -> None:
    # memory_max.wast: one past the largest size, for each page size.
    with pytest.raises(ValidationError, match="memory size must be at most 65536 pages"):
        validate_module(decode_module(_defined(_memory(65537, None, 16))))
    # 0x1_0000_0000 1-byte pages does not even fit the u32 field: malformed there.
    from aot.errors import DecodeError

    with pytest.raises(DecodeError, match="integer too large"):
        decode_module(_defined(_memory(0x1_0000_0000, None, 0)))
    with pytest.raises(ValidationError, match="size minimum must not be greater than maximum"):
        validate_module(decode_module(_defined(_memory(3, 2, 0))))


def test_custom_page_sizes_two_memories_need_multi_memory() -> None:
    # The proposal's "copy between memories of different page sizes" module
    # uses two memories; without multi-memory that is invalid here.
    data = HEADER + _sec(5, b"\x02" + _memory(10, None, 0) + _memory(1, None, 16))
    with pytest.raises(ValidationError, match="multiple memories"):
        validate_module(decode_module(data))


@needs_wabt
def test_custom_page_size_memory_used_by_code(tmp_path: Path) -> None:
    # The proposal's first behaviour module: size/grow/load8_u/store8 on a
    # 1-byte-page memory.  Built with wabt on a classic memory, then the
    # memory's limits are swapped for `(memory 0 (pagesize 1))`.
    data = wasm("""(module (memory 0)
      (func (export "size") (result i32) memory.size)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
      (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))""", tmp_path)
    old = _sec(5, b"\x01\x00\x00")
    assert data.count(old) == 1
    m = decode_module(data.replace(old, _sec(5, b"\x01" + _memory(0, None, 0))))
    validate_module(m)
    assert m.memories[0].page_size == 1


# ---------------------------------------------------------------------------
# Real compiler output
# ---------------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("clang") is None, reason="clang is not installed")
def test_clang_wasi_program_validates(tmp_path: Path) -> None:
    src = tmp_path / "p.c"
    src.write_text(
        "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
        "int main(int argc, char **argv) {\n"
        "  char *b = malloc(64); snprintf(b, 64, \"%d %f\", argc, 1.5 * argc);\n"
        "  qsort(argv, argc, sizeof *argv, (int (*)(const void *, const void *))strcmp);\n"
        "  puts(b); free(b); return 0; }\n"
    )
    out = tmp_path / "p.wasm"
    result = subprocess.run(
        ["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", str(src), "-o", str(out)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"clang cannot build for wasm32-wasi here: {result.stderr[:200]}")
    m = decode_module(out.read_bytes())
    validate_module(m)
    assert any(e.name == "_start" for e in m.exports)
    assert len(m.functions) > 20
