"""Frame guards (aot/lower/frames.py): big frames are checked before they are pushed.

The planning rules are checked directly; the generated guards are checked by
running them on the host, with a host target whose unguarded-frame limit is
lowered to 64 bytes so that ordinary test functions get guards.
tests/safety/test_stack_exhaustion.py proves on every target, with a canary,
that nothing below the stack is written.
"""

from __future__ import annotations

import dataclasses
import subprocess
import re

import pytest

from aot.compiler import compile_module
from aot.errors import AotError
from aot.lower.frames import GUARD_SLACK, largest_unguarded_frame, plan_frame_guards, source_function
from aot.targets import load_target

from wasm_host import run_wat, wat_to_wasm

DEFINED = frozenset({"wasm.0", "wasm.1.big", "wasm.1.big.frame", "m_run", "m__initialize"})


def test_small_frames_need_no_guards_and_keep_the_plan():
    guards: dict[str, int] = {}
    assert plan_frame_guards({"wasm.0": 40, "m_run": 8}, guards, 512, DEFINED) is guards


def test_a_big_frame_gets_a_guard_reserving_it_and_the_slack():
    planned = plan_frame_guards({"wasm.0": 40, "wasm.1.big": 4816}, {}, 512, DEFINED)
    assert planned == {"wasm.1.big": 4816 + GUARD_SLACK}


def test_a_body_within_its_reserve_settles_and_one_that_grew_raises_it():
    guards = {"wasm.1.big": 4880}
    assert plan_frame_guards({"wasm.1.big": 0, "wasm.1.big.frame": 4816}, guards, 512, DEFINED) is guards
    assert plan_frame_guards({"wasm.1.big.frame": 4900}, guards, 512, DEFINED) == {"wasm.1.big": 4900 + GUARD_SLACK}


def test_llvm_clones_count_as_the_function_they_came_from():
    assert source_function("wasm.1.big.frame.specialized.1", DEFINED) == "wasm.1.big.frame"
    assert source_function("wasm.0.argprom", DEFINED) == "wasm.0"
    assert plan_frame_guards({"wasm.0.specialized.2": 900}, {}, 512, DEFINED) == {"wasm.0": 900 + GUARD_SLACK}


def test_a_big_frame_that_cannot_be_guarded_is_an_error_not_a_silent_hole():
    with pytest.raises(AotError, match="cannot tell which function to guard"):
        plan_frame_guards({"OUTLINED_FUNCTION_0": 4000}, {}, 512, DEFINED)
    with pytest.raises(AotError, match="just to call its body"):
        plan_frame_guards({"wasm.1.big": 3000, "wasm.1.big.frame": 100}, {"wasm.1.big": 200}, 512, DEFINED)


def test_the_largest_unguarded_frame_leaves_the_bodies_out():
    sizes = {"wasm.0": 40, "wasm.1.big": 0, "wasm.1.big.frame": 4816, "m_run": 16}
    assert largest_unguarded_frame(sizes, {"wasm.1.big": 4880}, DEFINED) == 40
    assert largest_unguarded_frame({}, {}, DEFINED) == 0


# --- generated code, run on the host --------------------------------------------------

LOCALS = 40
LOADS = " ".join(f"(local.set {i + 1} (i64.load offset={8 * i} (i32.const 0)))" for i in range(LOCALS))
SUM = "local.get 1 " + " ".join(f"local.get {i + 1} i64.add" for i in range(1, LOCALS))
# Every function below loads LOCALS values, makes a call LLVM cannot see into (through the
# table, exported so that the host may change it), and uses the values after it: they must
# live in the frame, which therefore exceeds 64 bytes.
GUARDED = f"""
(module
  (memory 1)
  (type $t (func (param i64) (result i64)))
  (table (export "table") 2 funcref)
  (elem (i32.const 0) $loop $leaf)
  (func $leaf (type $t) (local.get 0))
  (func $loop (export "loop") (type $t) (local {" i64" * LOCALS})
    {LOADS}
    (drop (call_indirect (type $t) (i64.const 0) (i32.const 1)))
    (if (i64.eqz (local.get 0)) (then {SUM} return))
    (return_call $loop (i64.sub (local.get 0) (i64.const 1))))
  (func $recurse (export "recurse") (type $t) (local {" i64" * LOCALS})
    {LOADS}
    (drop (call_indirect (type $t) (i64.const 0) (i32.const 1)))
    (if (i64.eqz (local.get 0)) (then (return (i64.const 0))))
    ;; Not `call + add`, which LLVM turns into a loop: the call's result goes to memory.
    (i64.store (i32.const 1024) (call $recurse (i64.sub (local.get 0) (i64.const 1))))
    {SUM})
  (func (export "indirect") (param i64) (result i64)
    (call_indirect (type $t) (local.get 0) (i32.const 0)))
  (func (export "seed") (param i64)
    (i64.store (i32.const 0) (local.get 0)) (i64.store (i32.const 8) (local.get 0))))
"""


@pytest.fixture(scope="module")
def small_limit_host():
    return dataclasses.replace(load_target("host"), max_unguarded_frame=64)


def test_functions_with_frames_over_the_limit_are_guarded_and_the_rest_are_not(tmp_path, small_limit_host):
    result = compile_module(wat_to_wasm(GUARDED, tmp_path, features=("tail-call",)), small_limit_host, prefix="m")
    assert set(result.frame_guards) == {"wasm.1", "wasm.2"}
    for name, reserve in result.frame_guards.items():
        assert result.frame_sizes[name + ".frame"] + GUARD_SLACK <= reserve
    unguarded = largest_unguarded_frame(result.frame_sizes, result.frame_guards, frozenset(result.frame_sizes))
    assert unguarded <= 64
    assert f"#define m__MAX_UNCHECKED_FRAME {unguarded}\n" in result.header


def test_guarded_functions_compute_the_same_and_tail_calls_through_them_do_not_grow_the_stack(
        tmp_path, small_limit_host):
    # The sum of the loaded values: 1 + 1 + 38 * 0 (memory beyond the two seeded words is zero).
    # Ten million tail calls through a guard would exhaust any stack if each one grew it.
    lines = run_wat(tmp_path, GUARDED, """
        TRY(m_seed(inst, 1));
        TRY(printf("%lld\\n", (long long)m_loop(inst, 0)));
        TRY(printf("%lld\\n", (long long)m_indirect(inst, 3)));
        TRY(printf("%lld\\n", (long long)m_loop(inst, 10000000)));
        TRY(printf("%lld\\n", (long long)m_recurse(inst, 3)));
        TRY(printf("%lld\\n", (long long)m_recurse(inst, 100000000)));
    """, target=small_limit_host, features=("tail-call",))
    assert lines == ["ok", "2", "ok", "2", "ok", "2", "ok", "2", "ok", "trap 10"]


def test_an_ordinary_module_compiles_once_without_guards(tmp_path):
    wat = '(module (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))'
    result = compile_module(wat_to_wasm(wat, tmp_path), load_target("stm32f4"), prefix="m")
    assert result.frame_guards == {}
    # LLVM reports only frames of at least a byte; a leaf adder on Thumb has none.
    assert all(size > 0 for size in result.frame_sizes.values())
    assert "#define m__MAX_UNCHECKED_FRAME 0\n" in result.header


def test_guards_go_into_the_optimised_ir_and_only_code_generation_runs_again(tmp_path, small_limit_host):
    """The module is lowered and optimised once: the IR as lowered has no guard, the IR compiled has them,
    each a new function of the guarded name that tail-calls the original code, renamed `.frame`."""
    result = compile_module(wat_to_wasm(GUARDED, tmp_path, features=("tail-call",)), small_limit_host, prefix="m")
    assert set(result.frame_guards) == {"wasm.1", "wasm.2"}
    assert ".frame" not in result.unoptimised_ir
    for name in result.frame_guards:
        assert re.search(rf"define internal [^\n]*@{re.escape(name)}\.frame\([^\n]*noinline", result.llvm_ir)
        assert re.search(rf"musttail call [^\n]*@{re.escape(name)}\.frame\(", result.llvm_ir), result.llvm_ir


def test_a_guard_in_a_partition_keeps_the_functions_hidden_linkage(tmp_path, small_limit_host, monkeypatch):
    """Split into partitions (aot/partition.py), a guarded function is called from other partitions: its guard
    takes its place with its `hidden` linkage, or the combined object is left with an undefined reference to
    it (seen: the host's big-frame test failed to link with `undefined reference to wasm.0`)."""
    monkeypatch.setenv("WAFT_PARTITION_BYTES", "64")
    result = compile_module(wat_to_wasm(GUARDED, tmp_path, features=("tail-call",)), small_limit_host, prefix="m")
    assert {"wasm.1", "wasm.2"} <= set(result.frame_guards)
    obj = tmp_path / "m.o"
    obj.write_bytes(result.object)
    symbols = subprocess.run(["nm", str(obj)], capture_output=True, text=True, check=True).stdout.splitlines()
    undefined = [line.split()[-1] for line in symbols if line.split()[0] == "U"]
    assert not [name for name in undefined if name.startswith("wasm.")], undefined
