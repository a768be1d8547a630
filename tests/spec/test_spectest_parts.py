"""The spectest runner's own parts: value matching and formatting, import renaming, import matching."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aot.wasm.decode import decode_module
from aot.wasm.module import FuncType, GlobalType, Limits, MemoryType, TableType
from waftkit.testing.spectest.linking import SPECTEST, match_import, rename_imports
from waftkit.testing.spectest.values import (
    ANY_FUNC,
    Value,
    format_value,
    matches,
    parse_value,
)


def test_floats_compare_as_bit_patterns() -> None:
    zero = parse_value({"type": "f32", "value": "0"})
    minus_zero = parse_value({"type": "f32", "value": str(0x80000000)})
    assert matches(zero, Value("f32", 0))
    assert not matches(zero, Value("f32", 0x80000000))
    assert not matches(minus_zero, Value("f32", 0))


def test_nan_patterns() -> None:
    canonical = parse_value({"type": "f32", "value": "nan:canonical"})
    arithmetic = parse_value({"type": "f64", "value": "nan:arithmetic"})
    assert matches(canonical, Value("f32", 0x7FC00000))
    assert matches(canonical, Value("f32", 0xFFC00000))
    assert not matches(canonical, Value("f32", 0x7FC00001))  # payload
    assert not matches(canonical, Value("f32", 0x7F800001))  # signalling
    assert matches(arithmetic, Value("f64", 0x7FF8000000000001))
    assert not matches(arithmetic, Value("f64", 0x7FF0000000000001))
    assert not matches(arithmetic, Value("f64", 0x3FF0000000000000))


def test_references() -> None:
    assert matches(parse_value({"type": "externref", "value": "null"}), Value("externref", None))
    assert matches(parse_value({"type": "externref", "value": "1"}), Value("externref", 1))
    assert not matches(parse_value({"type": "externref", "value": "1"}), Value("externref", None))
    any_func = parse_value({"type": "funcref"})
    assert matches(any_func, Value("funcref", ANY_FUNC))
    assert not matches(any_func, Value("funcref", None))


def test_values_print_as_hex_and_readable() -> None:
    assert format_value(Value("i32", 0xFFFFFFFE)) == "i32:0xfffffffe (-2)"
    assert format_value(Value("f32", 0x3F800000)) == "f32:0x3f800000 (1)"
    assert format_value(Value("f64", 0x7FF8000000000000)) == "f64:0x7ff8000000000000 (nan)"
    assert format_value(parse_value({"type": "f32", "value": "nan:canonical"})) == "f32:nan:canonical"


def test_import_matching_follows_the_spec() -> None:
    ft = FuncType(("i32",), ())
    assert match_import("func", ft, "func", ft) is None
    assert match_import("func", ft, "func", FuncType((), ())) is not None
    assert match_import("func", ft, "global", GlobalType("i32", False)) is not None
    # Limits subtyping: the export may be bigger and tighter, never smaller or looser.
    assert match_import("memory", MemoryType(Limits(1)), "memory", MemoryType(Limits(2, 3))) is None
    assert match_import("memory", MemoryType(Limits(1, 2)), "memory", MemoryType(Limits(1))) is not None
    assert match_import("memory", MemoryType(Limits(2)), "memory", MemoryType(Limits(1, 2))) is not None
    assert match_import("table", TableType("funcref", Limits(10, 30)), *SPECTEST["table"]) is None
    assert match_import("table", TableType("externref", Limits(10)), *SPECTEST["table"]) is not None
    assert match_import("global", GlobalType("i32", True), *SPECTEST["global_i32"]) is not None


@pytest.mark.skipif(shutil.which("wat2wasm") is None, reason="wat2wasm (wabt) not installed")
def test_rename_imports_keeps_the_module_valid(tmp_path: Path) -> None:
    wat = tmp_path / "m.wat"
    wat.write_text("""(module
      (import "spectest" "print_i32" (func (param i32)))
      (import "M" "mem" (memory 1 2))
      (import "spectest" "global_i32" (global i32))
      (import "M" "tab" (table 1 funcref))
      (func (export "f") (call 0 (i32.const 1))))""")
    subprocess.run(["wat2wasm", str(wat), "-o", str(tmp_path / "m.wasm")], check=True)
    renamed = rename_imports((tmp_path / "m.wasm").read_bytes(), 7)
    module = decode_module(renamed.data)
    assert [(i.module, i.name) for i in module.imports] == [
        ("i7_0", "print_i32"), ("i7_1", "mem"), ("i7_0", "global_i32"), ("i7_1", "tab")]
    assert renamed.names == {"i7_0": "spectest", "i7_1": "M"}
    assert module.imports[1].desc == MemoryType(Limits(1, 2))
