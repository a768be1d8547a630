"""Tables and references: get/set/size/grow/fill/copy/init, elem.drop, ref.* (aot/lower/table.py)."""

from __future__ import annotations

from wasm_host import run_c, run_wat

TABLES = r"""
(module
  (type $ii (func (param i32) (result i32)))
  (table $t (export "t") 2 4 funcref)
  (table $ext 1 externref)
  (elem $seg func $inc $dec)
  (elem declare func $inc)
  (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (func $dec (type $ii) (i32.sub (local.get 0) (i32.const 1)))
  (func (export "size") (result i32) (table.size $t))
  (func (export "grow") (param i32) (result i32) (table.grow $t (ref.func $inc) (local.get 0)))
  (func (export "is_null") (param i32) (result i32) (ref.is_null (table.get $t (local.get 0))))
  (func (export "set_dec") (param i32) (table.set $t (local.get 0) (ref.func $dec)))
  (func (export "clear") (param i32) (table.set $t (local.get 0) (ref.null func)))
  (func (export "call") (param i32 i32) (result i32) (call_indirect $t (type $ii) (local.get 1) (local.get 0)))
  (func (export "fill") (param i32 i32) (table.fill $t (local.get 0) (ref.func $dec) (local.get 1)))
  (func (export "copy") (param i32 i32 i32) (table.copy $t $t (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i32 i32 i32) (table.init $t $seg (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop") (elem.drop $seg))
  (func (export "ext_roundtrip") (param externref) (result externref)
    (table.set $ext (i32.const 0) (local.get 0)) (table.get $ext (i32.const 0)))
  (func (export "ext_is_null") (param externref) (result i32) (ref.is_null (local.get 0)))
)
"""


def test_table_operations(tmp_path):
    lines = run_wat(tmp_path, TABLES, r"""
        int a = m_size(inst), b = m_is_null(inst, 0);
        printf("%d %d\n", a, b);
        TRY(m_is_null(inst, 2));
        TRY(m_init(inst, 0, 0, 2));
        a = m_call(inst, 0, 10); b = m_call(inst, 1, 10);
        printf("%d %d\n", a, b);
        a = m_grow(inst, 1); b = m_grow(inst, 2); int c = m_size(inst);
        printf("%d %d %d\n", a, b, c);
        printf("%d\n", m_call(inst, 2, 10));
        m_set_dec(inst, 0); printf("%d\n", m_call(inst, 0, 10));
        m_clear(inst, 0); TRY(m_call(inst, 0, 10));
        TRY(m_fill(inst, 1, 2)); printf("%d %d\n", m_call(inst, 1, 0), m_size(inst));
        TRY(m_fill(inst, 2, 2));
        TRY(m_copy(inst, 0, 1, 2)); printf("%d\n", m_call(inst, 0, 0));
        TRY(m_copy(inst, 2, 0, 2));
        TRY(m_init(inst, 1, 1, 2));
        m_drop(inst);
        TRY(m_init(inst, 0, 0, 1));
        TRY(m_init(inst, 0, 0, 0));
        int x;
        printf("%d %d %d\n", m_ext_roundtrip(inst, &x) == &x, m_ext_is_null(inst, NULL), m_ext_is_null(inst, &x));
        printf("%d\n", (int)m_t(inst)->max);
    """)
    # TABLE_OUT_OF_BOUNDS is 9, UNINITIALIZED_ELEMENT 8
    assert lines == [
        "2 1",
        "trap 9",
        "ok",
        "11 9",
        "2 -1 3",
        "11",
        "9",
        "trap 8",
        "ok", "-1 3",
        "trap 9",
        "ok", "-1",
        "trap 9",
        "trap 9",
        "trap 9",
        "ok",
        "1 1 0",
        "4",
    ]


def test_shared_table_and_funcrefs_across_modules(tmp_path):
    # Module a exports a table holding its own function; module b imports the table
    # and calls through it: the funcref carries a's instance, so a's global is read.
    a = r"""
    (module
      (global $g (mut i32) (i32.const 0))
      (table (export "tab") 2 funcref)
      (elem (i32.const 0) $get)
      (func $get (result i32) (global.get $g))
      (func (export "set") (param i32) (global.set $g (local.get 0))))
    """
    b = r"""
    (module
      (import "a" "tab" (table 2 funcref))
      (elem (i32.const 1) $seven)
      (func $seven (result i32) (i32.const 7))
      (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0))))
    """
    program = run_c(tmp_path, {"a": a, "b": b}, r"""
        a__instance *ia = calloc(1, sizeof *ia); b__instance *ib = calloc(1, sizeof *ib);
        a__imports none; b__imports imports = {.a__tab = 0};
        printf("%d\n", (int)a__instantiate(ia, &none));
        imports.a__tab = a_tab(ia);
        printf("%d\n", (int)b__instantiate(ib, &imports));
        a_set(ia, 42);
        int x = b_call(ib, 0), y = b_call(ib, 1);
        printf("%d %d\n", x, y);
    """)
    assert program.returncode == 0, program.stdout
    assert program.stdout.splitlines() == ["0", "0", "42 7"]


# $helper is called directly, with a constant; $in_table and $exported can be named by a funcref.
NAMED_AND_UNNAMED = r"""
(module
  (table 1 funcref)
  (elem (i32.const 0) $in_table)
  (func $helper (param i32 i32) (result i32)
    (i32.add (i32.mul (local.get 0) (local.get 1)) (i32.const 7)))
  (func $in_table (param i32) (result i32) (call $helper (local.get 0) (i32.const 3)))
  (func $exported (export "run") (param i32) (result i32)
    (i32.add (call $helper (local.get 0) (i32.const 3))
             (call_indirect (param i32) (result i32) (local.get 0) (i32.const 0)))))
"""


def test_only_functions_a_funcref_can_name_get_a_descriptor(tmp_path):
    """A function no element segment, global or export names never has its address taken, so
    LLVM inlines it and deletes it; the table's and the export's functions keep theirs, and the
    indirect call through the table still works."""
    from aot.compiler import compile_module
    from aot.lower.module import referenced_functions
    from aot.targets import load_target
    from aot.wasm.decode import decode_module
    from wasm_host import wat_to_wasm

    wasm = wat_to_wasm(NAMED_AND_UNNAMED, tmp_path, "named")
    assert referenced_functions(decode_module(wasm)) == [1, 2]
    llvm_ir = compile_module(wasm, load_target("stm32f4"), prefix="m").llvm_ir
    assert "@wasm.0" not in llvm_ir  # $helper: inlined into both callers, then gone
    assert "@wasm.1" in llvm_ir and "@wasm.2" in llvm_ir
    lines = run_wat(tmp_path, NAMED_AND_UNNAMED, r"""
        printf("%d\n", (int) m_run(inst, 5));
    """)
    assert lines == [str((5 * 3 + 7) * 2)]
