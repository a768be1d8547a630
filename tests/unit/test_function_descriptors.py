"""Only functions a funcref can name get a `waft_func` descriptor (aot/lower/module.py _emit_initialize).

A descriptor holds the function's code address, so filling one in for every
function kept a standalone copy of each function alive even where LLVM had
inlined it into all its callers (a classic hello's firmware lost 2 KB of flash
with this rule).  Descriptors of C.refs (element segments, global
initialisers, exports) are still filled in, on both of initialize's paths (the
straight line of small modules and the table-driven loop of big ones), and
call_indirect and a funcref global through them behave as before.
"""

from __future__ import annotations

import io

import pytest
from elftools.elf.elffile import ELFFile
from wasm_host import run_c

from aot.lower.init_bulk import STRAIGHT_LINE_LIMIT

SMALL, BIG = 4, STRAIGHT_LINE_LIMIT  # helpers; the big module takes initialize's loop path


def _module(helpers: int) -> str:
    """`helpers` unreferenced functions, each called once (LLVM inlines them), and three
    referenced ones: two in the table, one only in a global's initialiser."""
    lines = ['(module',
             '  (type $t (func (param i32) (result i32)))',
             '  (table $main 2 funcref)',
             '  (table $spare 1 funcref)',
             '  (elem (table $main) (i32.const 0) func $double $plus_one)',
             '  (global $g funcref (ref.func $minus_one))',
             '  (func $double (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))',
             '  (func $plus_one (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))',
             '  (func $minus_one (param i32) (result i32) (i32.sub (local.get 0) (i32.const 1)))']
    lines += [f'  (func $helper{k} (param i32) (result i32) (i32.xor (local.get 0) (i32.const {k + 1})))'
              for k in range(helpers)]
    chain = "(local.get 0)"
    for k in range(helpers):
        chain = f"(call $helper{k} {chain})"
    lines += [f'  (func (export "helpers") (param i32) (result i32) {chain})',
              '  (func (export "indirect") (param i32 i32) (result i32)',
              '    (call_indirect $main (type $t) (local.get 0) (local.get 1)))',
              '  (func (export "from_global") (param i32) (result i32)',
              '    (table.set $spare (i32.const 0) (global.get $g))',
              '    (call_indirect $spare (type $t) (local.get 0) (i32.const 0)))',
              ')']
    return "\n".join(lines)


DRIVER = r"""
    static m__instance instance;
    m__imports imports = {0};
    printf("instantiate %%d\n", (int)m__instantiate(&instance, &imports));
    printf("%%d %%d\n", (int)m_indirect(&instance, 20, 0), (int)m_indirect(&instance, 20, 1));
    printf("%%d\n", (int)m_from_global(&instance, 20));
    printf("%%d\n", (int)m_helpers(&instance, %d));
"""


def _expected_helpers(x: int, helpers: int) -> int:
    for k in range(helpers):
        x ^= k + 1
    return x


@pytest.mark.parametrize("helpers", [SMALL, BIG])
def test_referenced_descriptors_work_and_inlined_helpers_leave_no_body(tmp_path, helpers: int) -> None:
    program = run_c(tmp_path, {"m": _module(helpers)}, DRIVER % 1000)
    assert program.returncode == 0, program.stdout
    assert program.stdout.splitlines() == ["instantiate 0", "40 21", "19",
                                           str(_expected_helpers(1000, helpers))]
    result = program.results[0]
    # The big module really fills descriptors by its loop, the small one by straight-line stores.
    assert ('@"funcs.table"' in result.unoptimised_ir) == (helpers == BIG)
    symbols = {sym.name for section in ELFFile(io.BytesIO(result.object)).iter_sections()
               if section.header.sh_type == "SHT_SYMTAB" for sym in section.iter_symbols()}
    # Function k's body is `wasm.k` (or `wasm.k.<name>` with a name section): 0-2 are the
    # referenced ones, 3.. the helpers.
    def has_body(index: int) -> bool:
        return any(s == f"wasm.{index}" or s.startswith(f"wasm.{index}.") for s in symbols)

    kept = [k for k in range(3, 3 + helpers) if has_body(k)]
    assert kept == [], f"inlined helpers still have bodies (a descriptor keeps their address): {kept[:5]}"
    assert all(has_body(k) for k in range(3)), sorted(symbols)
