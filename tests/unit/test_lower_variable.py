"""Locals, globals (own, imported, exported, extended-const initialisers), drop and select (aot/lower/variable.py)."""

from __future__ import annotations

from wasm_host import run_c

GLOBALS = r"""
(module
  (import "env" "base" (global $base i32))
  (import "env" "counter" (global $counter (mut i64)))
  (global $derived (export "derived") i32 (i32.add (global.get $base) (i32.const 5)))
  (global $scaled i32 (i32.mul (i32.add (global.get $base) (i32.const 5)) (i32.const 3)))
  (global $f (export "f") (mut f32) (f32.const 1.5))
  (global $nan f64 (f64.const nan:0x4000000000001))
  (global $ref (mut funcref) (ref.func $get_scaled))
  (func $get_scaled (result i32) (global.get $scaled))
  (func (export "scaled") (result i32) (call $call_ref_free))
  (func $call_ref_free (result i32)
    (table.set $t (i32.const 0) (global.get $ref))
    (call_indirect $t (result i32) (i32.const 0)))
  (table $t 1 funcref)
  (func (export "bump") (param i64) (result i64)
    (global.set $counter (i64.add (global.get $counter) (local.get 0)))
    (global.get $counter))
  (func (export "set_f") (param f32) (global.set $f (local.get 0)))
  (func (export "nan_bits") (result i64) (i64.reinterpret_f64 (global.get $nan)))
  (func (export "locals") (param i32) (result i32) (local i64 f32 i32)
    (local.set 3 (local.tee 0 (i32.add (local.get 0) (i32.const 1))))
    (drop (local.get 1))
    (i32.add (local.get 3) (i32.trunc_f32_s (local.get 2))))
  (func (export "sel") (param i32) (result i32)
    (select (i32.const 10) (i32.const 20) (local.get 0)))
  (func (export "sel_typed") (param i32) (result i64)
    (select (result i64) (i64.const 10) (i64.const 20) (local.get 0)))
  (func (export "sel_ref") (param i32) (result i32)
    (ref.is_null (select (result funcref) (ref.null func) (ref.func $get_scaled) (local.get 0))))
)
"""


def test_globals_locals_select(tmp_path):
    program = run_c(tmp_path, {"m": GLOBALS}, r"""
        int32_t base = 10; int64_t counter = 100;
        m__imports imports = {.env__base = &base, .env__counter = &counter};
        m__instance *inst = calloc(1, sizeof *inst);
        printf("%d\n", (int)m__instantiate(inst, &imports));
        printf("%d %d\n", *m_derived(inst), m_scaled(inst));
        int64_t r = m_bump(inst, 5);
        printf("%lld %lld\n", (long long)r, (long long)counter);
        m_set_f(inst, 2.25f); printf("%.2f\n", *m_f(inst));
        printf("%016llx\n", (unsigned long long)m_nan_bits(inst));
        printf("%d\n", m_locals(inst, 4));
        printf("%d %d %lld %lld\n", m_sel(inst, 1), m_sel(inst, 0), (long long)m_sel_typed(inst, 1),
               (long long)m_sel_typed(inst, 0));
        printf("%d %d\n", m_sel_ref(inst, 1), m_sel_ref(inst, 0));
    """, features=("extended-const",))
    assert program.returncode == 0, program.stdout
    assert program.stdout.splitlines() == [
        "0",
        "15 45",
        "105 105",
        "2.25",
        "7ff4000000000001",
        "5",
        "10 20 10 20",
        "1 0",
    ]
