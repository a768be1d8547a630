"""Judge Waft's answers against the oracle's: agreement, a bug, or a difference the spec allows.

Classes of finding, worst first:

- bugs: `crash` (the compiler or the test program died), `rejected` (Waft
  refused a module the oracle runs, as malformed or invalid), `mismatch` (a
  wrong value, a missing or spurious trap, or the wrong trap);
- differences that are not bugs: `stack limit` (either engine ran out of
  call stack where the other did not: each has its own stack size), and
  `diverged` (any later difference on that instance, whose state may have
  followed another path since); `resource limit` (the board's RAM or flash
  cannot hold the instance, or a memory laid out below its declared maximum
  made a `memory.grow` differ); `unsupported` (Waft refused a feature
  cleanly); `oracle refused` (wasmtime would not run the module).

Values compare bit for bit except NaNs, as the spec allows: where the oracle
gives a canonical NaN, any canonical NaN (either sign) agrees; where it gives
another NaN, any arithmetic (quiet) NaN agrees, and so does the same NaN
with its quiet bit clear (the oracle's bindings quieten signalling NaNs on
the way out, see oracle.py).  Smith's modules canonicalise every NaN a float
operation makes before it can reach memory or an integer, so those bits are
compared exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from waftkit.testing.fuzz.plan import ModuleRun, Outcome, Plan, describe_action
from waftkit.testing.spectest.values import Value

BUGS = ("crash", "rejected", "mismatch")
KINDS = (*BUGS, "stack limit", "diverged", "resource limit", "unsupported", "oracle refused")
STACK_EXHAUSTED = "call stack exhausted"

# Traps the spec names one way and Waft another: a call_indirect past the table's end is
# "undefined element" in Waft's words (and the spec interpreter's), a table access to wasmtime.
_SAME_TRAP = {("out of bounds table access", "undefined element")}

_NAN = {"f32": (0x7F800000, 0x00400000, 0x007FFFFF), "f64": (0x7FF0000000000000, 0x0008000000000000,
                                                             0x000FFFFFFFFFFFFF)}


@dataclass(frozen=True)
class Finding:
    kind: str
    where: str  # "instantiate" or the action (`invoke "f" (...)`)
    expected: str
    got: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.where}: expected {self.expected}, got {self.got}"


@dataclass
class Verdict:
    findings: list[Finding] = field(default_factory=list)
    compared: int = 0  # steps (instantiation included) whose answers were compared

    @property
    def bugs(self) -> list[Finding]:
        return [f for f in self.findings if f.kind in BUGS]

    @property
    def kind(self) -> str:
        """The worst class found, or "agree"."""
        for kind in KINDS:
            if any(f.kind == kind for f in self.findings):
                return kind
        return "agree"


def value_agrees(expected: Value, actual: Value) -> bool:
    if expected.type != actual.type:
        return False
    if expected.type in _NAN:
        exp_mask, quiet, mantissa = _NAN[expected.type]
        e, a = int(expected.bits or 0), int(actual.bits or 0)
        if e & exp_mask == exp_mask and e & mantissa:  # the oracle gave a NaN
            if a & exp_mask != exp_mask or not a & mantissa:
                return False
            if e & mantissa == quiet:
                return a & mantissa == quiet
            return bool(a & quiet) or a | quiet == e
    return expected.bits == actual.bits


def trap_agrees(expected: str, actual: str) -> bool:
    return expected == actual or (expected, actual) in _SAME_TRAP


def outcome_agrees(expected: Outcome, actual: Outcome) -> bool:
    if expected.status != actual.status:
        return False
    if expected.status == "trap":
        return trap_agrees(expected.trap, actual.trap)
    return len(expected.values) == len(actual.values) and \
        all(value_agrees(e, a) for e, a in zip(expected.values, actual.values))


def _difference(expected: Outcome, actual: Outcome, capped: bool) -> str:
    """The class of a difference between two outcomes."""
    if STACK_EXHAUSTED in (expected.trap, actual.trap):
        return "stack limit"
    if actual.status == "nomem" or capped:
        return "resource limit"
    return "mismatch"


def compare(plan: Plan, expected: ModuleRun, actual: ModuleRun) -> Verdict:
    """Waft's run (`actual`) against the oracle's (`expected`) for one module."""
    verdict = Verdict()
    if expected.error is not None:
        verdict.findings.append(Finding("oracle refused", "module", "a module wasmtime runs", expected.error))
        return verdict
    refusal = {"malformed": "rejected", "invalid": "rejected", "unsupported": "unsupported",
               "toobig": "resource limit"}
    if actual.instantiate is None:
        kind = refusal.get(actual.error_kind, "crash")
        verdict.findings.append(Finding(kind, "module", "the module compiled and run",
                                        f"{actual.error_kind}: {actual.error}"))
        return verdict
    assert expected.instantiate is not None
    verdict.compared += 1
    if not outcome_agrees(expected.instantiate, actual.instantiate):
        kind = _difference(expected.instantiate, actual.instantiate, actual.capped)
        verdict.findings.append(Finding(kind, "instantiate", str(expected.instantiate),
                                        str(actual.instantiate)))
        return verdict
    if expected.instantiate.status != "ok":
        return verdict
    diverged = False
    for i, action in enumerate(plan.actions):
        want = expected.outcomes[i]
        if i >= len(actual.outcomes):
            verdict.findings.append(Finding("crash", describe_action(action), str(want),
                                            actual.error or "no answer from the test program"))
            break
        got = actual.outcomes[i]
        verdict.compared += 1
        if outcome_agrees(want, got):
            continue
        kind = "diverged" if diverged else _difference(want, got, actual.capped)
        diverged = diverged or kind != "mismatch"
        verdict.findings.append(Finding(kind, describe_action(action), str(want), str(got)))
    return verdict
