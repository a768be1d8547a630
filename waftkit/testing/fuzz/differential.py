"""Differential execution: modules from seeds, run on the oracle and on Waft, judged.

`run_seeds` is the loop the pytest suite and the overnight command share:
for each seed, smith's module (bounded for the target), a plan from the
seed, the oracle's answers; then all modules on Waft in as few test
programs as possible; then one `Verdict` per module.  `run_modules` does the
same for given modules (a minimised candidate, a regression case).
"""

from __future__ import annotations

from dataclasses import dataclass

from waftkit.testing.fuzz import compare, generate, oracle
from waftkit.testing.fuzz.execute import WaftExecutor
from waftkit.testing.fuzz.plan import ModuleRun, Plan


@dataclass
class Case:
    seed: int
    data: bytes
    plan: Plan
    expected: ModuleRun  # the oracle's
    actual: ModuleRun | None = None  # Waft's
    verdict: compare.Verdict | None = None


def prepare(seed: int, data: bytes) -> Case | None:
    """The plan and the oracle's answers for a module (None when wasmtime cannot compile it)."""
    plan = oracle.make_plan(data, seed)
    if plan is None:
        return None
    return Case(seed, data, plan, oracle.run(data, plan))


def judge_all(cases: list[Case], executor: WaftExecutor) -> list[Case]:
    """Run the cases on Waft and fill in their verdicts."""
    runs = executor.run([(c.data, c.plan) for c in cases])
    for case, run in zip(cases, runs):
        case.actual = run
        case.verdict = compare.compare(case.plan, case.expected, run)
    return cases


def run_seeds(seeds: list[int], executor: WaftExecutor) -> list[Case]:
    """Generate, run on both engines and judge a module per seed (seeds smith cannot use
    are left out)."""
    profile = generate.Profile.for_target(executor.target)
    cases = []
    for seed in seeds:
        data = generate.smith_module(seed, profile)
        case = prepare(seed, data) if data is not None else None
        if case is not None:
            cases.append(case)
    return judge_all(cases, executor)


def run_modules(modules: list[tuple[int, bytes]], executor: WaftExecutor) -> list[Case]:
    """The same for given (seed, module) pairs; the seed picks the call arguments."""
    cases = [c for c in (prepare(seed, data) for seed, data in modules) if c is not None]
    return judge_all(cases, executor)
