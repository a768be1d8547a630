"""Structured control flow compiles to code that behaves as the spec says (aot/lower/control.py)."""

from __future__ import annotations

import pytest
from wasm_host import run_wat

CONTROL = r"""
(module
  (type $pair (func (param i32 i32) (result i32 i32)))
  ;; block with a result, br out of nested blocks carrying a value
  (func (export "nested") (param i32) (result i32)
    (block $outer (result i32)
      (block $inner
        (br_if $inner (i32.eqz (local.get 0)))
        (br $outer (i32.const 10)))
      (i32.const 20)))
  ;; loop: sum 1..n
  (func (export "sum") (param i32) (result i32) (local i32)
    (block $done
      (loop $again
        (br_if $done (i32.eqz (local.get 0)))
        (local.set 1 (i32.add (local.get 1) (local.get 0)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $again)))
    (local.get 1))
  ;; br_table with repeated targets and a default
  (func (export "switch") (param i32) (result i32)
    (block $d (result i32)
      (block $c (result i32)
        (block $b (result i32)
          (block $a (result i32)
            (i32.const 100) (local.get 0)
            (br_table $a $b $a $c $d))
          (return (i32.add (i32.const 1))))
        (return (i32.add (i32.const 2))))
      (return (i32.add (i32.const 3))))
    (i32.add (i32.const 4)))
  ;; multi-value block with params, swapping its inputs
  (func (export "swap") (param i32 i32) (result i32)
    (local.get 0) (local.get 1)
    (block (type $pair) (param i32 i32) (result i32 i32)
      (local.set 0) (local.set 1) (local.get 0) (local.get 1))
    (i32.sub))
  ;; loop with params (multi-value): count down keeping an accumulator on the stack
  (func (export "loop_params") (param i32) (result i32)
    (i32.const 0) (local.get 0)
    (loop $l (param i32 i32) (result i32)
      (local.set 0)
      (i32.add (local.get 0))
      (local.get 0) (i32.const 1) (i32.sub)
      (local.tee 0)
      (br_if $l (local.get 0))
      (drop)))
  ;; if without else passing its parameter through
  (func (export "if_param") (param i32) (result i32)
    (i32.const 5)
    (if (param i32) (result i32) (local.get 0) (then (i32.const 2) (i32.mul))))
  ;; if/else with results
  (func (export "select_if") (param i32) (result i64)
    (if (result i64) (local.get 0) (then (i64.const 7)) (else (i64.const -7))))
  ;; dead code after br/return/unreachable, including nested blocks and a bad stack
  (func (export "dead") (param i32) (result i32)
    (block $b (result i32)
      (br $b (i32.const 3))
      (i32.add) (block (loop (if (i32.const 0) (then (unreachable)) (else (nop))))) (drop))
    (return)
    (i32.const 99) (br 0) (i32.add))
  ;; unreachable traps
  (func (export "trap") (param i32) (result i32)
    (if (local.get 0) (then (unreachable)))
    (i32.const 1))
  ;; multi-value return through a C out-pointer wrapper
  (func (export "divmod") (param i32 i32) (result i32 i32)
    (i32.div_u (local.get 0) (local.get 1)) (i32.rem_u (local.get 0) (local.get 1)))
  ;; a block whose end is never reached (every path returns)
  (func (export "all_return") (param i32) (result i32)
    (block (if (local.get 0) (then (return (i32.const 1))) (else (return (i32.const 2)))))
    (unreachable))
)
"""


@pytest.mark.parametrize("opt", ["0", "2"])
def test_control_flow(tmp_path, opt):
    lines = run_wat(tmp_path, CONTROL, r"""
        printf("%d %d\n", m_nested(inst, 0), m_nested(inst, 1));
        printf("%d\n", m_sum(inst, 100));
        for (int i = 0; i < 7; i++) printf("%d ", m_switch(inst, i));
        printf("\n%d\n", m_swap(inst, 10, 3));
        printf("%d\n", m_loop_params(inst, 4));
        printf("%d %d\n", m_if_param(inst, 0), m_if_param(inst, 1));
        printf("%lld %lld\n", (long long)m_select_if(inst, 1), (long long)m_select_if(inst, 0));
        printf("%d\n", m_dead(inst, 0));
        TRY(m_trap(inst, 0));
        TRY(m_trap(inst, 1));
        int32_t q, r; m_divmod(inst, 17, 5, &q, &r); printf("%d %d\n", q, r);
        printf("%d %d\n", m_all_return(inst, 1), m_all_return(inst, 0));
    """, opt=opt)
    assert lines == [
        "20 10",
        "5050",
        "101 102 101 103 104 104 104 ",
        "-7",
        "10",
        "5 10",
        "7 -7",
        "3",
        "ok",
        "trap 1",
        "3 2",
        "1 2",
    ]
