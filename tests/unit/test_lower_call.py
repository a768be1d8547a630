"""Calls: direct, indirect (with every trap), imports with ctx, tail calls, stack exhaustion (aot/lower/call.py)."""

from __future__ import annotations

from wasm_host import run_c, run_wat

INDIRECT = r"""
(module
  (type $ii (func (param i32) (result i32)))
  (type $v (func))
  (table 4 funcref)
  (elem (i32.const 0) $double $square)
  (elem (i32.const 3) $nothing)
  (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
  (func $square (type $ii) (i32.mul (local.get 0) (local.get 0)))
  (func $nothing (type $v))
  (func (export "call") (param i32 i32) (result i32)
    (call_indirect (type $ii) (local.get 1) (local.get 0)))
  (func $pair (param i32) (result i32 i64) (local.get 0) (i64.extend_i32_s (local.get 0)))
  (func (export "pair_sum") (param i32) (result i64) (local $wide i64)
    (call $pair (local.get 0)) (local.set $wide) (i64.extend_i32_s) (local.get $wide) (i64.add))
)
"""


def test_call_indirect_and_traps(tmp_path):
    lines = run_wat(tmp_path, INDIRECT, r"""
        int32_t r = 0;
        TRY(r = m_call(inst, 0, 21)); printf("%d\n", r);
        TRY(r = m_call(inst, 1, 9)); printf("%d\n", r);
        TRY(m_call(inst, 2, 1));
        TRY(m_call(inst, 3, 1));
        TRY(m_call(inst, 4, 1));
        TRY(m_call(inst, -1, 1));
        printf("%lld\n", (long long)m_pair_sum(inst, -5));
    """)
    # UNDEFINED_ELEMENT 7, UNINITIALIZED_ELEMENT 8, INDIRECT_CALL_TYPE_MISMATCH 6
    assert lines == ["ok", "42", "ok", "81", "trap 8", "trap 6", "trap 7", "trap 7", "-10"]


IMPORTS = r"""
(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (import "env" "pair" (func $pair (param i32) (result i32 f64)))
  (import "host" "note" (func $note (param i64)))
  (table (export "table") 2 funcref)
  (elem (i32.const 0) $add $sum)
  (func $sum (param i32 i32) (result i32)
    (call $note (i64.const 7))
    (call $add (local.get 0) (local.get 1)))
  (func (export "via_table") (param i32 i32 i32) (result i32)
    (call_indirect (param i32 i32) (result i32) (local.get 0) (local.get 1) (local.get 2)))
  (func (export "pair") (param i32) (result f64) (local $f f64)
    (call $pair (local.get 0)) (local.set $f) (f64.convert_i32_s) (local.get $f) (f64.add))
  (export "add_export" (func $add))
)
"""

IMPORTS_C = r"""
typedef struct { int base; int notes; } env_ctx;
int32_t env__add(void *ctx, int32_t a, int32_t b) { return a + b + ((env_ctx *)ctx)->base; }
void env__pair(void *ctx, int32_t a, int32_t *r0, double *r1) { (void)ctx; *r0 = a * 10; *r1 = 0.5; }
void host__note(void *ctx, int64_t v) { ((env_ctx *)ctx)->notes += (int)v; }
"""


def test_imports_get_their_ctx_and_instances_are_independent(tmp_path):
    program = run_c(tmp_path, {"m": IMPORTS}, r"""
        env_ctx one = {100, 0}, two = {200, 0}, notes = {0, 0};
        m__instance *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
        m__imports ia = {.env = &one, .host = &notes}, ib = {.env = &two, .host = &notes};
        printf("%d %d\n", (int)m__instantiate(a, &ia), (int)m__instantiate(b, &ib));
        printf("%d %d\n", m_via_table(a, 1, 2, 0), m_via_table(b, 1, 2, 0));
        int32_t r = m_via_table(a, 1, 2, 1);
        printf("%d %d\n", r, notes.notes);
        printf("%d\n", m_add_export(b, 3, 4));
        printf("%.1f\n", m_pair(a, 4));
        printf("%d\n", m_table(a)->size);
    """, extra_c=IMPORTS_C)
    assert program.returncode == 0, program.stdout
    assert program.stdout.splitlines() == ["0 0", "103 203", "103 7", "207", "40.5", "2"]


TAIL = r"""
(module
  (func $count (export "count") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 0))
      (else (return_call $count (i64.sub (local.get 0) (i64.const 1))))))
  (func $even (export "even") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 44))
      (else (return_call $odd (i64.sub (local.get 0) (i64.const 1))))))
  (func $odd (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 99))
      (else (return_call $even (i64.sub (local.get 0) (i64.const 1))))))
  (type $t (func (param i64) (result i64)))
  (table funcref (elem $indirect))
  (func $indirect (type $t)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 5))
      (else (return_call_indirect (type $t) (i64.sub (local.get 0) (i64.const 1)) (i32.const 0)))))
  (func (export "indirect") (param i64) (result i64) (call $indirect (local.get 0)))
  (func $deep (export "deep") (param i32) (result i32)
    (i32.add (i32.const 1) (call $deep (local.get 0))))
)
"""


def test_tail_calls_run_in_constant_stack_and_recursion_traps(tmp_path):
    # opt 0: no LLVM pass may rescue the tail calls; musttail must do it.
    for opt in ("0", "2"):
        lines = run_wat(tmp_path, TAIL, r"""
            int64_t r = 0; int32_t e = 0;
            TRY(r = m_count(inst, 1000000)); printf("%lld\n", (long long)r);
            TRY(e = m_even(inst, 1000001)); printf("%d\n", e);
            TRY(r = m_indirect(inst, 1000000)); printf("%lld\n", (long long)r);
            TRY(m_deep(inst, 0));
            TRY(m_deep(inst, 0));
        """, opt=opt, features=("tail-call",))
        # CALL_STACK_EXHAUSTED is 10
        assert lines == ["ok", "0", "ok", "99", "ok", "5", "trap 10", "trap 10"], opt


def test_signature_strings_from_elsewhere_compare_by_text(tmp_path):
    # A waft_func made in C carries its own copy of the signature string (another
    # address), as a function from a separately linked object would: call_indirect
    # falls back to comparing the text.
    wat = r"""
    (module
      (table (export "tab") 2 funcref)
      (func (export "call") (param i32 i32) (result i32)
        (call_indirect (param i32) (result i32) (local.get 1) (local.get 0))))
    """
    lines = run_wat(tmp_path, wat, r"""
        static char same[] = "i:i", other[] = "i:I";
        static waft_func good = {same, (void (*)(void))triple, NULL}, bad = {other, (void (*)(void))triple, NULL};
        m_tab(inst)->elems[0] = &good;
        m_tab(inst)->elems[1] = &bad;
        int32_t r = 0;
        TRY(r = m_call(inst, 0, 5)); printf("%d\n", r);
        TRY(m_call(inst, 1, 5));
    """, extra_c="static int32_t triple(void *inst, int32_t x) { (void)inst; return 3 * x; }\n")
    assert lines == ["ok", "15", "trap 6"]


def test_one_import_name_at_two_types(tmp_path):
    # Wasm may import env.f twice at different types; C has one env__f, called as each
    # (here an int32_t function called as i64 -> i64: x86-64 and AArch64 zero the upper half).
    wat = r"""
    (module
      (import "env" "f" (func $f32 (param i32) (result i32)))
      (import "env" "f" (func $f64 (param i64) (result i64)))
      (func (export "narrow") (param i32) (result i32) (call $f32 (local.get 0)))
      (func (export "wide") (param i64) (result i64) (call $f64 (local.get 0))))
    """
    program = run_c(tmp_path, {"m": wat}, r"""
        m__instance *inst = calloc(1, sizeof *inst); m__imports imports = {.env = NULL};
        m__instantiate(inst, &imports);
        printf("%d %lld\n", m_narrow(inst, 20), (long long)m_wide(inst, 5));
    """, extra_c="int32_t env__f(void *ctx, int32_t x) { (void)ctx; return x + 1; }\n")
    assert program.stdout.splitlines() == ["21 6"]
