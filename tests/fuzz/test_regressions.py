"""Every case the fuzzer saved in tests/fuzz/regressions/ runs, every time.

An exec case runs its module on its target with its saved calls and must
give the saved answers (no oracle needed; when wasmtime is here, it must
still agree with the file).  An accept case must be compiled, refused or
rejected as its file says, with one clean error line; a WIT case resolved or
refused with a WitError (and wasm-tools, when here, must still agree).  A case marked
`"xfail"` is a known Waft bug: it must still fail (strict), so fixing the
bug shows up as a case to unmark.
"""

from __future__ import annotations

import pytest

from aot.targets import load_target
from fuzz_support import REGRESSIONS, needs_board_toolchain, tools_missing
from waftkit.testing.fuzz import compare, oracle, regressions
from waftkit.testing.fuzz.execute import WaftExecutor

CASES = regressions.load(REGRESSIONS)


def _param(case: regressions.RegressionCase):
    marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
    if case.target != "host":
        marks += [pytest.mark.qemu, needs_board_toolchain]
    return pytest.param(case, id=case.name, marks=marks)


EXEC = [_param(c) for c in CASES if c.kind == "exec"]
ACCEPT = [_param(c) for c in CASES if c.kind == "accept"]
WIT = [_param(c) for c in CASES if c.kind == "wit"]


def test_the_regression_folder_is_read() -> None:
    assert REGRESSIONS.is_dir()
    assert len(CASES) == len(list(REGRESSIONS.glob("*.json")))
    assert all(c.path.with_suffix(".wasm").is_file() for c in CASES if c.kind != "wit")


@pytest.mark.parametrize("case", EXEC)
def test_exec_case(case: regressions.RegressionCase) -> None:
    with WaftExecutor(load_target(case.target)) as executor:
        (actual,) = executor.run([(case.wasm, case.plan())])
    problems = regressions.exec_problems(case, actual)
    assert not problems, f"{case.name} ({case.meta.get('what', '')}):\n" + "\n".join(problems)
    if tools_missing() is None:
        # The file's expectations are still the oracle's.
        verdict = compare.compare(case.plan(), oracle.run(case.wasm, case.plan()), case.expected())
        assert not verdict.findings, f"{case.name}: wasmtime disagrees with the file: {verdict.findings}"


@pytest.mark.parametrize("case", ACCEPT)
def test_accept_case(case: regressions.RegressionCase, host_pool) -> None:
    waft = host_pool.submit(case.wasm, "m0").result()
    verdict = regressions.rejudge(case, waft) if tools_missing() is None else None
    problems = regressions.accept_problems(case, waft, verdict)
    assert not problems, f"{case.name} ({case.meta.get('what', '')}):\n" + "\n".join(problems)


@pytest.mark.parametrize("case", WIT)
def test_wit_case(case: regressions.RegressionCase) -> None:
    problems = regressions.wit_problems(case, check_reference=tools_missing() is None)
    assert not problems, f"{case.name} ({case.meta.get('what', '')}):\n" + "\n".join(problems)
