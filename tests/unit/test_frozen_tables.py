"""Frozen tables (aot/lower/frozen_tables.py): which tables qualify, and call_indirect through them.

A table nothing can change after instantiation is read from constant arrays:
the same traps in the same order as through the instance's table, and a
direct call where LLVM knows the index.  Every test compares with the same
module made unfrozen by exporting its table.
"""

from __future__ import annotations

import re

import pytest
from wasm_host import run_wat, wat_to_wasm

from aot.compiler import compile_module
from aot.lower.frozen_tables import frozen_slots
from aot.targets import load_target
from aot.wasm.decode import decode_module

# Slots: 0 $double, 1 $square (both i32 -> i32), 2 null, 3 $nothing (no params); a fifth slot
# past the table's end.  Two segments overlap at slot 1: the later one wins.
TABLE = r"""
(module
  (type $ii (func (param i32) (result i32)))
  (type $v (func))
  (table EXPORT 4 funcref)
  (elem (i32.const 0) $double $double)
  (elem (i32.const 1) $square)
  (elem (i32.const 3) $nothing)
  (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
  (func $square (type $ii) (i32.mul (local.get 0) (local.get 0)))
  (func $nothing (type $v))
  (func (export "call") (param i32 i32) (result i32)
    (call_indirect (type $ii) (local.get 1) (local.get 0)))
  (func (export "square_of") (param i32) (result i32)
    (call_indirect (type $ii) (local.get 0) (i32.const 1)))
)
"""


def _module(export: bool) -> str:
    return TABLE.replace("EXPORT", '(export "t")' if export else "")


def _decoded(tmp_path, wat: str):
    return decode_module(wat_to_wasm(wat, tmp_path, "m"))


def test_the_slots_are_what_the_segments_leave(tmp_path):
    assert frozen_slots(_decoded(tmp_path, _module(export=False))) == {0: [0, 1, None, 2]}


@pytest.mark.parametrize("change,why", [
    (lambda wat: wat.replace("EXPORT", '(export "t")'), "an exported table: the host may write it"),
    (lambda wat: wat.replace("EXPORT", "").replace(
        "(func $nothing (type $v))", "(func $nothing (type $v) (table.set 0 (i32.const 2) (ref.null func)))"),
     "a table.set in the module"),
    (lambda wat: wat.replace("EXPORT", "").replace("(elem (i32.const 3) $nothing)", "(elem (i32.const 4) $nothing)"),
     "a segment past the end: instantiation fails"),
    (lambda wat: wat.replace("EXPORT", "").replace("(elem (i32.const 3) $nothing)",
                                                    '(import "env" "at" (global $at i32)) (elem (global.get $at) $nothing)'),
     "an offset known only at instantiation"),
])
def test_tables_something_can_change_are_not_frozen(tmp_path, change, why):
    wat = change(TABLE)
    if "import" in wat:  # imports come first in the text format
        wat = wat.replace('(import "env" "at" (global $at i32)) ', "").replace(
            "(module\n", '(module\n  (import "env" "at" (global $at i32))\n')
    assert frozen_slots(_decoded(tmp_path, wat)) == {}, why


@pytest.mark.parametrize("export", [False, True], ids=["frozen", "instance_table"])
def test_call_indirect_traps_alike_through_a_frozen_table(tmp_path, export):
    lines = run_wat(tmp_path, _module(export), r"""
        int32_t r = 0;
        TRY(r = m_call(inst, 0, 21)); printf("%d\n", r);
        TRY(r = m_call(inst, 1, 9)); printf("%d\n", r);
        TRY(m_call(inst, 2, 1));
        TRY(m_call(inst, 3, 1));
        TRY(m_call(inst, 4, 1));
        TRY(m_call(inst, -1, 1));
        TRY(r = m_square_of(inst, 7)); printf("%d\n", r);
    """)
    # UNDEFINED_ELEMENT 7, UNINITIALIZED_ELEMENT 8, INDIRECT_CALL_TYPE_MISMATCH 6
    assert lines == ["ok", "42", "ok", "81", "trap 8", "trap 6", "trap 7", "trap 7", "ok", "49"]


@pytest.mark.parametrize("target_name", ["host", "stm32f4"])
def test_a_known_index_becomes_a_direct_call(tmp_path, target_name):
    """`square_of` calls slot 1: frozen, LLVM folds the slot's loads and calls (or inlines) $square."""
    def square_of(export: bool) -> str:
        result = compile_module(wat_to_wasm(_module(export), tmp_path, "m"), load_target(target_name), prefix="m")
        return re.search(r"define [^\n]*@wasm\.4\(.*?\n}\n", result.llvm_ir, re.DOTALL).group(0)  # square_of

    frozen, general = square_of(False), square_of(True)
    table_traps = [f"@waft_trap(i32 {code})" for code in (6, 7, 8)]
    assert "mul i32 %p0, %p0" in frozen  # $square, inlined
    assert "callee" not in frozen and not any(trap in frozen for trap in table_traps)
    # Through the instance's table: the entry's loads, its checks and an indirect call.
    assert "callee" in general and all(trap in general for trap in table_traps)
