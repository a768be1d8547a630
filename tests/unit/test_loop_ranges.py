"""aot/lower/loop_ranges.py: which loops and accesses get an entry precondition, and its IR.

The precondition's soundness is run on the Cortex-M4 by
tests/safety/test_versionable_loop_bounds.py; here, the shapes: the scan
accepts a down-counter loop and finds its induction locals, and refuses
loops it cannot reason about; the lowering turns exactly the covered checks
into `oob and not ok` (opt 0 keeps the lowering's names in the IR), including accesses after an
update and through a local written earlier in the iteration, and not through one that carries a
value from the previous iteration.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aot.compiler import compile_module
from aot.lower import loop_ranges
from aot.targets import load_target
from aot.wasm.module import Instr
from wasm_host import wat_to_wasm

WAT = r"""
(module
  (memory 1 1)
  (func (export "butterfly") (param $p i32) (param $q i32) (param $stride i32) (param $c i32)
    (loop
      (i32.store16 offset=2 (local.get $p) (i32.load16_u (local.get $q)))
      (local.set $p (i32.add (local.get $p) (i32.const 2)))
      (local.set $q (i32.add (local.get $q) (local.get $stride)))
      (br_if 0 (local.tee $c (i32.add (local.get $c) (i32.const -1))))))
  (func (export "after") (param $p i32) (param $c i32)
    (loop
      (i32.store (local.get $p) (local.get $c))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (i32.store (local.get $p) (i32.const 7))
      (br_if 0 (local.tee $c (i32.add (local.get $c) (i32.const -1))))))
  (func (export "up") (param $p i32) (param $n i32) (local $i i32)
    (loop
      (i32.store (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))) (local.get $i))
      (br_if 0 (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))))
  ;; $a holds the previous iteration's p (the entry's value, unknown, in the first one); $b is
  ;; written this iteration before its read, at the top level.
  (func (export "carried") (param $p i32) (param $c i32) (param $a i32) (local $b i32)
    (loop
      (i32.store (local.get $a) (i32.const 1))
      (local.set $b (i32.add (local.get $p) (i32.const 8)))
      (i32.store (local.get $b) (i32.const 2))
      (local.set $a (local.get $p))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if 0 (local.tee $c (i32.add (local.get $c) (i32.const -1))))))
  ;; three covered accesses: enough for both copies (MIN_COVERED)
  (func (export "three") (param $p i32) (param $q i32) (param $c i32)
    (loop
      (i32.store (local.get $p) (i32.add (i32.load (local.get $q)) (i32.load offset=4 (local.get $q))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $q (i32.add (local.get $q) (i32.const 8)))
      (br_if 0 (local.tee $c (i32.add (local.get $c) (i32.const -1)))))))
"""


def _i(op: str, imm=None) -> Instr:
    return Instr(op, imm) if imm is not None else Instr(op)


def _loop(body: list[tuple]) -> list[Instr]:
    return [_i("loop", None)] + [_i(*item) for item in body] + [_i("end")]


COUNTER = [("local.get", 1), ("i32.const", -1), ("i32.add",), ("local.tee", 1), ("br_if", 0)]
STEP = [("local.get", 0), ("i32.const", 4), ("i32.add",), ("local.set", 0)]


def test_scan_finds_the_counter_and_the_induction_locals():
    facts = loop_ranges.scan(_loop(STEP + COUNTER), 0)
    assert facts is not None
    assert facts.close == loop_ranges.Close(1, -1, 0, "!=", False, ("const", 0))
    assert facts.steps == {0: ("const", 4), 1: ("const", -1)}
    assert facts.written == {0, 1}


@pytest.mark.parametrize("body", [
    # a `continue`: an iteration that skips the update
    [("block", None), ("local.get", 2), ("br_if", 1), ("end",)] + STEP + COUNTER,
    # no counter or compare at the end
    STEP + [("local.get", 0), ("br_if", 0)],
    # a compare with a local the loop writes
    STEP + [("local.get", 0), ("local.get", 0), ("i32.lt_u",), ("br_if", 0)],
    # a compare of the value before the update
    [("local.get", 0), ("local.get", 3), ("i32.lt_u",), ("local.get", 0), ("i32.const", 4), ("i32.add",),
     ("local.set", 0), ("br_if", 0)],
    # != with a step of 3 (not a power of two): no closed form for the first equal value
    [("local.get", 0), ("i32.const", 3), ("i32.add",), ("local.tee", 0), ("local.get", 3), ("i32.ne",),
     ("br_if", 0)],
    # < while stepping down
    [("local.get", 0), ("i32.const", -4), ("i32.add",), ("local.tee", 0), ("local.get", 3), ("i32.lt_s",),
     ("br_if", 0)],
    # the counter written twice
    STEP + [("i32.const", 5), ("local.set", 1)] + COUNTER,
    # a br_table that may go back to the loop
    [("local.get", 2), ("br_table", ((0,), 1))] + STEP + COUNTER,
])
def test_scan_refuses_loops_it_cannot_reason_about(body):
    assert loop_ranges.scan(_loop(body), 0) is None


@pytest.mark.parametrize("close,expected", [
    # clang's `for (i = 0; i < n; i++)`: the updated i against n
    ([("local.get", 0), ("i32.const", 4), ("i32.add",), ("local.tee", 0), ("local.get", 3), ("i32.lt_u",)],
     loop_ranges.Close(0, 4, 0, "<", False, ("local", 3))),
    # n > i, the bound first
    ([("local.get", 3), ("local.get", 0), ("i32.const", 4), ("i32.add",), ("local.tee", 0), ("i32.gt_s",)],
     loop_ranges.Close(0, 4, 0, "<", True, ("local", 3))),
    # quicksort's insertion sort: (j - 1) + 1 > 1
    ([("local.get", 0), ("i32.const", -1), ("i32.add",), ("local.tee", 0), ("i32.const", 1), ("i32.add",),
      ("i32.const", 1), ("i32.gt_s",)], loop_ranges.Close(0, -1, 1, ">", True, ("const", 1))),
    # the updated value read again after its update
    (STEP + [("local.get", 0), ("local.get", 3), ("i32.ne",)], loop_ranges.Close(0, 4, 0, "!=", False, ("local", 3))),
    ([("local.get", 0), ("i32.const", 1), ("i32.add",), ("local.set", 0), ("local.get", 0), ("i32.const", 100),
      ("i32.ne",)], loop_ranges.Close(0, 1, 0, "!=", False, ("const", 100))),
])
def test_scan_reads_the_closing_compare(close, expected):
    facts = loop_ranges.scan(_loop(close + [("br_if", 0)]), 0)
    assert (facts.close if facts else None) == expected


def test_a_second_write_makes_a_local_no_induction_local():
    facts = loop_ranges.scan(_loop(STEP + [("i32.const", 0), ("local.set", 0)] + COUNTER), 0)
    assert facts is not None and 0 not in facts.steps and 0 in facts.written


def _function_ir(ir: str, index: int) -> str:
    match = re.search(rf"define [^\n]*@wasm\.{index}\(.*?\n}}\n", ir, re.DOTALL)
    assert match, f"wasm.{index} is not in the IR"
    return match.group(0)


def _unproven(function_ir: str) -> int:
    """How many checks were made conditional on the precondition (definitions of `oob.unproven`)."""
    return len(re.findall(r"%oob\.unproven[.0-9]* = ", function_ir))


@pytest.fixture(scope="module")
def wasm(tmp_path_factory) -> bytes:
    return wat_to_wasm(WAT, tmp_path_factory.mktemp("loop_ranges"), "m")


@pytest.mark.parametrize("target_name", ["stm32f4", "host"])
def test_covered_checks_are_conditional_on_the_entry_precondition(wasm, monkeypatch, target_name):
    target = load_target(target_name)
    monkeypatch.setattr(loop_ranges, "ENABLED", True)
    monkeypatch.setattr(loop_ranges, "MIN_COVERED", 1)  # every covered loop, whatever pays
    ir = compile_module(wasm, target, prefix="m", opt="0").llvm_ir
    butterfly, after, up, carried, _ = (_function_ir(ir, i) for i in range(5))
    assert "loop.ok" in butterfly and _unproven(butterfly) == 2  # the load and the store
    assert _unproven(after) == 2  # the store after p's update too: at p0 + (k + 1) * 4
    assert _unproven(carried) == 1  # through $b, not through $a
    assert _unproven(up) == 1  # closed by i <u n
    monkeypatch.setattr(loop_ranges, "ENABLED", False)
    ir = compile_module(wasm, target, prefix="m", opt="0").llvm_ir
    assert "loop.ok" not in ir and "oob.unproven" not in ir


def _traps(function_ir: str) -> int:
    """Conditional branches in optimised IR (each check is one; the loop's own test another)."""
    return len(re.findall(r"\bbr i1 ", function_ir))


def test_versioning_at_speed_levels_only_and_where_it_pays(wasm, monkeypatch):
    """-O2 keeps a checked and a proven copy of a loop with >= MIN_COVERED covered accesses; fewer, or -Os:
    the loop as compiled without loop_ranges."""
    target = load_target("stm32f4")
    built = {}
    for enabled in (False, True):
        monkeypatch.setattr(loop_ranges, "ENABLED", enabled)
        for opt in ("2", "s"):
            built[enabled, opt] = compile_module(wasm, target, prefix="m", opt=opt).llvm_ir
    assert built[True, "s"] == built[False, "s"]
    three_on, three_off = _function_ir(built[True, "2"], 4), _function_ir(built[False, "2"], 4)
    assert "loop.ranges" not in three_off
    # Two copies of the loop's store, and no more branches to the trap than one copy has: the proven
    # copy has no check left.
    assert three_off.count("store i32") == 1 and three_on.count("store i32") == 2
    assert three_on.count("label %trap") == three_off.count("label %trap")
    for index in (0, 1, 3):  # two covered accesses or fewer: one copy, as without loop_ranges
        assert _traps(_function_ir(built[True, "2"], index)) == _traps(_function_ir(built[False, "2"], index))
