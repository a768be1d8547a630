"""The fuzzer's own parts: NaN and trap rules, classification, seeds, plans, minimising, saving, commands.

Everything runs for real: modules go through Waft and wasmtime, minimising
through wasm-tools shrink; the hand-made engine answers below are data for
the comparison rules, which are pure functions.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fuzz_support import needs_tools
from waftkit.testing.fuzz import accept, compare, generate, oracle, reduce, regressions, tools
from waftkit.testing.fuzz.plan import (
    ModuleRun,
    Outcome,
    Plan,
    action_from_json,
    action_to_json,
    outcome_from_json,
    outcome_to_json,
)
from waftkit.testing.fuzz.predicate import accept_shows
from waftkit.testing.spectest.values import ANY_FUNC, Value
from waftkit.testing.spectest.wast import Action

# --- the comparison rules ---------------------------------------------------------------------


def test_nans_compare_as_the_spec_allows() -> None:
    agrees = compare.value_agrees
    canonical, minus_canonical = Value("f32", 0x7FC00000), Value("f32", 0xFFC00000)
    assert agrees(canonical, minus_canonical)  # the sign of a NaN result is not specified
    assert not agrees(canonical, Value("f32", 0x7FC00001))  # but a canonical one has no payload
    payload = Value("f64", 0x7FF8000000012345)
    assert agrees(payload, Value("f64", 0xFFF8000000000001))  # any arithmetic NaN
    assert agrees(payload, Value("f64", 0x7FF0000000012345))  # the signalling one the bindings quietened
    assert not agrees(payload, Value("f64", 0x7FF0000000000001))  # another signalling NaN
    assert not agrees(payload, Value("f64", 0x7FF0000000000000))  # infinity is not a NaN
    assert not agrees(Value("f32", 0), Value("f32", 0x80000000))  # zeros keep their sign
    assert not agrees(Value("i32", 0x7FC00000), Value("i32", 0xFFC00000))  # integers are exact
    assert agrees(Value("funcref", ANY_FUNC), Value("funcref", ANY_FUNC))
    assert not agrees(Value("externref", 3), Value("externref", None))


def _run(*outcomes: Outcome, **fields) -> ModuleRun:
    return ModuleRun(instantiate=Outcome("ok"), outcomes=list(outcomes), **fields)


PLAN = Plan([Action("invoke", None, "f", ()), Action("invoke", None, "g", ()), Action("get", None, "x")])
ONE = Outcome("ok", (Value("i32", 1),))
TWO = Outcome("ok", (Value("i32", 2),))
EXHAUSTED = Outcome("trap", trap="call stack exhausted")


def test_wrong_values_and_traps_are_bugs() -> None:
    verdict = compare.compare(PLAN, _run(ONE, ONE, ONE), _run(ONE, TWO, ONE))
    assert verdict.kind == "mismatch" and len(verdict.bugs) == 1 and verdict.compared == 4
    assert 'invoke "g" ()' in str(verdict.bugs[0]) and "i32:0x00000002" in str(verdict.bugs[0])
    spurious = compare.compare(PLAN, _run(ONE, ONE, ONE), _run(ONE, Outcome("trap", trap="unreachable"), ONE))
    assert spurious.kind == "mismatch"
    wrong_trap = compare.compare(PLAN, _run(Outcome("trap", trap="integer overflow"), ONE, ONE),
                                 _run(Outcome("trap", trap="integer divide by zero"), ONE, ONE))
    assert wrong_trap.kind == "mismatch"


def test_a_table_index_past_the_end_may_be_named_either_way() -> None:
    table = Outcome("trap", trap="out of bounds table access")
    verdict = compare.compare(PLAN, _run(table, ONE, ONE),
                              _run(Outcome("trap", trap="undefined element"), ONE, ONE))
    assert verdict.kind == "agree"


def test_stack_limits_and_what_follows_them_are_not_bugs() -> None:
    verdict = compare.compare(PLAN, _run(ONE, ONE, ONE), _run(EXHAUSTED, TWO, ONE))
    assert [f.kind for f in verdict.findings] == ["stack limit", "diverged"]
    assert verdict.bugs == [] and verdict.kind == "stack limit"


def test_resource_limits_are_classified() -> None:
    nomem = ModuleRun(instantiate=Outcome("nomem"))
    assert compare.compare(PLAN, _run(ONE, ONE, ONE), nomem).kind == "resource limit"
    capped = compare.compare(PLAN, _run(ONE, ONE, ONE), _run(ONE, TWO, ONE, capped=True))
    assert capped.kind == "resource limit" and not capped.bugs
    toobig = ModuleRun(error="needs 4 GiB", error_kind="toobig")
    assert compare.compare(PLAN, _run(ONE, ONE, ONE), toobig).kind == "resource limit"


def test_refusals_and_crashes() -> None:
    expected = _run(ONE, ONE, ONE)
    for kind, verdict_kind in (("invalid", "rejected"), ("malformed", "rejected"),
                               ("unsupported", "unsupported"), ("crash", "crash")):
        verdict = compare.compare(PLAN, expected, ModuleRun(error="why", error_kind=kind))
        assert verdict.kind == verdict_kind
    died = _run(ONE, error="the test program killed by signal 11", error_kind="crash")
    assert compare.compare(PLAN, expected, died).kind == "crash"
    assert compare.compare(PLAN, ModuleRun(error="x", error_kind="oracle"), expected).kind == "oracle refused"


# --- seeds and plans ------------------------------------------------------------------------------


@needs_tools
def test_seeds_make_the_same_inputs_every_time() -> None:
    profile = generate.HOST_PROFILE
    first = [generate.smith_module(s, profile) for s in range(5)]
    assert first == [generate.smith_module(s, profile) for s in range(5)]
    assert len(set(first)) == 5
    assert generate.corrupt(first[0], 9) == generate.corrupt(first[0], 9) != first[0]
    assert generate.arguments(3, 0, 1, ("i32", "f64", "externref")) == \
        generate.arguments(3, 0, 1, ("i32", "f64", "externref"))
    assert accept.make_input(11) == accept.make_input(11)


@needs_tools
def test_board_profiles_bound_memory_and_tables() -> None:
    from aot.targets import load_target

    profile = generate.Profile.for_target(load_target("stm32f4"))
    assert profile.max_memory_bytes <= 1 << 16
    for seed in range(10):
        data = generate.smith_module(seed, profile)
        if data is None:
            continue
        text = tools.to_text(data)
        assert "(import" not in text and "v128" not in text


def test_plans_and_outcomes_have_a_text_form() -> None:
    action = Action("invoke", None, "f", (Value("i32", 5), Value("f32", 0x7FC00000), Value("externref", 2),
                                         Value("funcref", None)))
    assert action_from_json(json.loads(json.dumps(action_to_json(action)))) == action
    for outcome in (Outcome("ok", (Value("i64", 1 << 63), Value("funcref", ANY_FUNC))),
                    Outcome("trap", trap="unreachable"), Outcome("nomem")):
        assert outcome_from_json(outcome_to_json(outcome)) == outcome


# --- real modules through both engines --------------------------------------------------------------

WAT = """
(module
  (memory 1 1)
  (global $calls (export "calls") (mut i32) (i32.const 0))
  (func $add (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.div_s (local.get 0) (local.get 1)))
  (func (export "quot") (param f32) (result f32) (f32.div (local.get 0) (f32.const 0)))
  (func (export "swap") (param i64 f64) (result f64 i64) (local.get 1) (local.get 0))
  (func (export "same") (param externref) (result externref) (local.get 0))
  (func (export "fn") (result funcref) (ref.func $add))
  (func (export "load") (param i32) (result i64) (i64.load (local.get 0)))
  (func $down (export "down") (param i32) (result i32)
    (if (result i32) (local.get 0) (then (call $down (i32.sub (local.get 0) (i32.const 1)))) (else (i32.const 0))))
  (func $forever (export "forever") (call $forever)))
"""


def _invoke(name: str, *args: Value) -> Action:
    return Action("invoke", None, name, args)


@needs_tools
def test_a_module_agrees_and_a_wrong_answer_is_caught(host_executor) -> None:
    data = tools.parse_wat(WAT)
    plan = Plan([
        _invoke("add", Value("i32", 0xFFFFFFFF), Value("i32", 2)),
        _invoke("div", Value("i32", 7), Value("i32", 0)),
        _invoke("div", Value("i32", 0x80000000), Value("i32", 0xFFFFFFFF)),
        _invoke("quot", Value("f32", 0)),
        _invoke("swap", Value("i64", 5), Value("f64", 0x7FF8000000000000)),
        _invoke("same", Value("externref", 7)),
        _invoke("same", Value("externref", None)),
        _invoke("fn"),
        _invoke("load", Value("i32", 65530)),
        _invoke("down", Value("i32", 1000)),
        _invoke("forever"),
        Action("get", None, "calls"),
    ])
    expected = oracle.run(data, plan)
    (actual,) = host_executor.run([(data, plan)])
    verdict = compare.compare(plan, expected, actual)
    assert verdict.kind == "agree" and verdict.compared == 13, verdict.findings
    assert [str(o) for o in expected.outcomes[1:3]] == ["trap (integer divide by zero)", "trap (integer overflow)"]
    assert expected.outcomes[8].trap == "out of bounds memory access"
    assert expected.outcomes[10].trap == "call stack exhausted"
    assert expected.outcomes[-1].values == (Value("i32", 2),)  # the trapped calls counted too
    # A wrong expectation is reported as a bug, naming the call.
    wrong = ModuleRun(instantiate=expected.instantiate, outcomes=list(expected.outcomes))
    wrong.outcomes[0] = Outcome("ok", (Value("i32", 2),))
    bad = compare.compare(plan, wrong, actual)
    assert bad.kind == "mismatch" and 'invoke "add"' in str(bad.bugs[0])


@needs_tools
def test_generated_plans_call_every_export(host_executor) -> None:
    data = tools.parse_wat(WAT)
    plan = oracle.make_plan(data, seed=4)
    invoked = [a.field for a in plan.actions if a.kind == "invoke"]
    assert sorted(set(invoked)) == ["add", "div", "down", "fn", "forever", "load", "quot", "same", "swap"]
    assert len(invoked) == 9 * generate.CALLS_PER_EXPORT and plan.actions[-1] == Action("get", None, "calls")
    (actual,) = host_executor.run([(data, plan)])
    assert compare.compare(plan, oracle.run(data, plan), actual).kind in ("agree", "stack limit")


# --- minimising and saving ----------------------------------------------------------------------------


def test_ddmin_keeps_what_is_interesting() -> None:
    data = b"\0asm\1\0\0\0" + bytes(range(40, 120))
    small = reduce.ddmin(data, lambda d: b"\x50\x51" in d and d[5] == 0 and b"\x70" in d)
    assert small == b"\0asm\1\0\0\0" + b"\x50\x51\x70"


SIMD_WAT = """
(module
  (func (export "a") (result i32) (i32.add (i32.const 1) (i32.const 2)))
  (func (export "b") (param i64) (result i64) (i64.mul (local.get 0) (local.get 0)))
  (func (export "v") (result i32) (i32x4.extract_lane 0 (v128.const i32x4 1 2 3 4))))
"""


@needs_tools
def test_a_finding_is_minimised_and_saved_as_a_case(tmp_path, host_pool) -> None:
    """The campaign's path for a finding, run for real on a module Waft refuses for SIMD (a clean
    'unsupported' answer, not a bug: the path is the same for every class): wasm-tools shrink
    with the predicate command makes it smaller, and it is saved as a case that passes."""
    import io

    from waftkit.testing.fuzz.campaign import Campaign, Options

    data = tools.parse_wat(SIMD_WAT)
    verdict = accept.judge(data, host_pool.submit(data, "m0").result())
    assert verdict.kind == "unsupported"
    out = io.StringIO()
    campaign = Campaign(Options(save_to=tmp_path, shrink_attempts=5), out)
    campaign._accept_bug(host_pool, 0, accept.Input(data, "hand-written"), verdict)
    (case,) = regressions.load(tmp_path)
    assert len(case.wasm) < len(data) and accept_shows(case.wasm, host_pool, "unsupported")
    assert case.meta["expect"] == "refuse" and "--mode accept" in case.meta["found"]
    assert f"minimised {len(data)} -> {len(case.wasm)} bytes, saved {case.path}" in out.getvalue()
    waft = host_pool.submit(case.wasm, "m0").result()
    assert regressions.accept_problems(case, waft, regressions.rejudge(case, waft)) == []
    # The same input again is not saved twice.
    campaign._accept_bug(host_pool, 0, accept.Input(data, "hand-written"), verdict)
    assert len(regressions.load(tmp_path)) == 1


EXTERNAL_ID_WIT = """package a:b;

interface types {
  type t = u32;
  record r { x: u8, y: string }
}

interface user {
  @external-id("hi")
  use types.{t};
  f: func(x: t) -> u32;
  g: func();
}

world w {
  import user;
  export g: func();
}
"""


@needs_tools
def test_a_wit_finding_is_minimised_and_saved_as_a_failing_case(tmp_path, monkeypatch) -> None:
    """A WIT disagreement goes the campaign's way: minimised line by line, saved, and the saved
    case fails while the bug is there.  The bug is planted (Waft made to refuse `@external-id`
    before a `use`, which wasm-tools takes and Waft once refused too), so the test outlives
    the fixes of real ones."""
    import io

    import aot.wit
    from aot.errors import WitError
    from waftkit.testing.fuzz import wit
    from waftkit.testing.fuzz.campaign import Campaign, Options

    real_load_wit = aot.wit.load_wit

    def planted(folder, **kw):
        if any(re.search(r'@external-id\("hi"\)\s*use', p.read_text()) for p in Path(folder).rglob("*.wit")):
            raise WitError("planted: @external-id before `use` refused")
        return real_load_wit(folder, **kw)

    monkeypatch.setattr(aot.wit, "load_wit", planted)
    item = wit.WitInput({"main.wit": EXTERNAL_ID_WIT}, "hand-written")
    verdict = wit.judge(item)
    assert verdict.kind == "rejected valid" and verdict.reference == "valid"
    campaign = Campaign(Options(save_to=tmp_path), io.StringIO())
    campaign._wit_bug(0, item, verdict)
    (case,) = regressions.load(tmp_path)
    text = case.meta["files"]["main.wit"]
    assert case.meta["expect"] == "accept" and '@external-id("hi")' in text and "record" not in text
    assert text.count("\n") < EXTERNAL_ID_WIT.count("\n")
    (problem,) = regressions.wit_problems(case, check_reference=True)
    assert problem == "expected the package to resolve, got: planted: @external-id before `use` refused"
    monkeypatch.undo()
    assert regressions.wit_problems(case, check_reference=True) == []


@needs_tools
def test_a_deliberate_difference_is_classed_so() -> None:
    """Waft leaves out a world's own type gated off, where wasm-tools refuses the package
    (DELIBERATE in wit.py, docs/fuzzing.md): classed `deliberate`, not a bug."""
    from waftkit.testing.fuzz import wit

    gated = "package a:b@1.0.0;\nworld w {\n  @unstable(feature = x)\n  type p = f64;\n}\n"
    verdict = wit.judge(wit.WitInput({"main.wit": gated}, "hand-written"))
    assert (verdict.kind, verdict.waft) == ("deliberate", "accepted") and not verdict.is_bug
    assert "excluded due to its feature not being activated" in verdict.reference


FACE_WIT = """package a:b@1.0.0;

interface files {
  resource file {
    constructor(name: string);
    read: func(n: u32) -> result<list<u8>, string>;
  }
  open: func(path: string, mode: option<u8>) -> result<file, string>;
}

world app {
  import files;
  import log: func(msg: string, level: u8);
  export run: func(args: list<string>) -> result<_, tuple<u32, string>>;
}
"""


@needs_tools
def test_core_faces_compare_with_wasm_tools(tmp_path) -> None:
    """The signature check of the WIT mode: Waft's dummy module for each world has the core
    imports and exports wasm-tools' has (names, types, order)."""
    from aot.wit import load_wit
    from aot.wit.dummy import dummy_module_bytes
    from waftkit.testing.fuzz import wit

    folder = wit.WitInput({"main.wit": FACE_WIT}, "hand-written").write(tmp_path / "wit")
    resolve, main = load_wit(folder)
    assert wit.world_specs(resolve, main) == ["app"]
    imports, exports = wit.core_face(dummy_module_bytes(resolve.select_world(main, "app")))
    assert ("a:b/files@1.0.0", "[constructor]file", "[i32 i32] -> [i32]") in imports
    assert ("log", "[i32 i32 i32] -> []") in [(n, t) for _, n, t in imports]
    assert ("run", "[i32 i32] -> [i32]") in exports
    assert wit.face_difference(folder) is None
    assert wit.judge(wit.WitInput({"main.wit": FACE_WIT}, "hand-written")).kind == "agree"


@needs_tools
def test_the_predicate_command_answers_with_its_exit_status(tmp_path) -> None:
    wasm = tmp_path / "simd.wasm"
    wasm.write_bytes(tools.parse_wat(SIMD_WAT))
    command = [sys.executable, "-m", "waftkit.testing.fuzz.predicate", "accept", str(wasm)]
    assert subprocess.run([*command, "--want", "unsupported"]).returncode == 0
    assert subprocess.run([*command, "--want", "crash"]).returncode == 1


@needs_tools
def test_saved_cases_load_and_run(tmp_path, host_executor, host_pool) -> None:
    data = tools.parse_wat(WAT)
    plan = Plan([_invoke("add", Value("i32", 40), Value("i32", 2)), _invoke("div", Value("i32", 1), Value("i32", 0))])
    expected = oracle.run(data, plan)
    verdict = compare.Verdict()
    path = regressions.save_exec(tmp_path, "host", data, plan, expected, verdict, "a test")
    simd = tools.parse_wat(SIMD_WAT)
    regressions.save_accept(tmp_path, simd, accept.judge(simd, host_pool.submit(simd, "m0").result()), "a test")
    cases = {c.kind: c for c in regressions.load(tmp_path)}
    assert cases["accept"].meta["expect"] == "refuse"
    assert json.loads(path.read_text())["actions"][1]["expect"] == {"trap": "integer divide by zero"}
    (actual,) = host_executor.run([(cases["exec"].wasm, cases["exec"].plan())])
    assert regressions.exec_problems(cases["exec"], actual) == []
    waft = host_pool.submit(simd, "m0").result()
    assert regressions.accept_problems(cases["accept"], waft, regressions.rejudge(cases["accept"], waft)) == []
    # A file whose expectation Waft does not meet fails, naming the call.
    meta = json.loads(path.read_text())
    meta["actions"][0]["expect"] = {"results": ["i32:0x0000002b"]}
    path.write_text(json.dumps(meta))
    tampered = {c.kind: c for c in regressions.load(tmp_path)}["exec"]
    problems = regressions.exec_problems(tampered, actual)
    assert len(problems) == 1 and 'invoke "add"' in problems[0]


def test_a_broken_case_file_is_one_error_naming_it(tmp_path) -> None:
    (tmp_path / "x.json").write_text('{"kind": "exec"}')
    (tmp_path / "x.wasm").write_bytes(b"\0asm\1\0\0\0")
    with pytest.raises(regressions.CaseError, match=r"x\.json: an exec case needs"):
        regressions.load(tmp_path)


@needs_tools
def test_the_waft_command_refuses_fuzzed_binaries_in_one_line(tmp_path, host_pool) -> None:
    """What a user sees: `waft compile` on inputs Waft refuses prints one `waft: error:` line."""
    refused = []
    for seed in range(40):
        item = accept.make_input(seed)
        if item is not None and host_pool.submit(item.data, "m0").result()["status"] == "error":
            refused.append(item.data)
        if len(refused) == 3:
            break
    assert len(refused) == 3
    for i, data in enumerate(refused):
        wasm = tmp_path / f"in{i}.wasm"
        wasm.write_bytes(data)
        proc = subprocess.run([sys.executable, "-m", "waftkit", "compile", str(wasm), "-o", str(tmp_path / f"o{i}.o")],
                              capture_output=True, text=True)
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.startswith("waft: error: ") and proc.stderr.count("\n") == 1, proc.stderr
        assert not (tmp_path / f"o{i}.o").exists()


# --- the overnight command ----------------------------------------------------------------------------


@needs_tools
def test_the_fuzz_command_runs_and_sums_up(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-m", "waftkit.testing.fuzz", "--count", "3", "--seed", "7",
                           "--save-to", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == f"fuzzing all on host (-O2) from seed 7, 3 seeds; cases go to {tmp_path}"
    assert lines[1].startswith("[exec host] seeds 7..9: ") and lines[2].startswith("[accept host] seeds 7..9: ")
    assert lines[3].startswith("[wit] seeds 7..9: ")
    assert lines[-1].startswith("exec: 3 modules, ") and lines[-1].endswith("; 0 bugs")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args,message", [
    (["--count", "0"], "Invalid value for '--count'"),
    (["--time", "soon"], "is not a duration"),
    (["--target", "nope"], "unknown target 'nope'"),
])
def test_bad_usage_is_one_error_line(args: list[str], message: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "waftkit.testing.fuzz", *args], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("waft-fuzz: error: ") and message in proc.stderr
