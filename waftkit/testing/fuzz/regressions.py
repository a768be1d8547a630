"""Regression cases: what the fuzzer found, saved as a module plus what was expected of it.

A case is `NAME.wasm` beside `NAME.json` (a WIT case is the JSON alone, the
package's files inside it).  The JSON says which check it is for and what
the right answer is, so a case runs without the oracle:

    {"kind": "exec", "target": "host",
     "found": "python -m waftkit.testing.fuzz exec --seed 17 ... (wasm-tools 1.262.0)",
     "what": "mismatch: invoke \\"f\\" (i32:...): expected (i32:...), got trap (...)",
     "instantiate": {"results": []},
     "actions": [{"kind": "invoke", "export": "f", "args": ["i32:0x00000001"],
                  "expect": {"results": ["i32:0x00000002"]}}]}

    {"kind": "accept", "expect": "accept" | "reject" | "refuse", "found": ..., "what": ...}

    {"kind": "wit", "expect": "accept" | "reject", "files": {"main.wit": "package a:b; ..."}, ...}

("refuse": a module valid only with a proposal Waft does not compile.)  An
optional `"xfail": "reason"` marks a known Waft bug that is not fixed yet:
the suite expects that case to fail, and says so when it starts passing.  A
WIT case may instead be `"deliberate": "reason"`: Waft differs from wasm-tools
on purpose, its `"expect"` is Waft's answer, and wasm-tools must still give the
other one (when it no longer does, the mark and its `DELIBERATE` entry can go).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from waftkit.testing.fuzz import compare, plan as planmod
from waftkit.testing.fuzz.accept import AcceptVerdict, judge
from waftkit.testing.fuzz.plan import ModuleRun, Plan
from waftkit.testing.fuzz.wit import WitInput, WitVerdict, reference, waft_answer

ACCEPT_EXPECTATIONS = ("accept", "reject", "refuse")
KINDS = ("exec", "accept", "wit")


class CaseError(ValueError):
    """A regression file that cannot be read (names the file)."""


@dataclass
class RegressionCase:
    name: str
    path: Path  # the .json
    wasm: bytes
    meta: dict

    @property
    def kind(self) -> str:
        return self.meta["kind"]

    @property
    def target(self) -> str:
        return self.meta.get("target", "host")

    @property
    def xfail(self) -> str | None:
        return self.meta.get("xfail")

    def wit_input(self) -> WitInput:
        return WitInput(dict(self.meta["files"]), self.meta.get("found", self.name))

    # --- exec cases

    def plan(self) -> Plan:
        return Plan([planmod.action_from_json(a) for a in self.meta["actions"]])

    def expected(self) -> ModuleRun:
        run = ModuleRun(instantiate=planmod.outcome_from_json(self.meta["instantiate"]))
        run.outcomes = [planmod.outcome_from_json(a["expect"]) for a in self.meta["actions"]]
        return run


def default_folder() -> Path:
    """tests/fuzz/regressions in a checkout; ./fuzz-regressions for an installed Waft."""
    checkout = Path(__file__).resolve().parents[3] / "tests" / "fuzz" / "regressions"
    return checkout if checkout.is_dir() else Path.cwd() / "fuzz-regressions"


def load(folder: Path) -> list[RegressionCase]:
    """Every case in `folder`, by name."""
    cases = []
    for meta_path in sorted(folder.glob("*.json")):
        try:
            meta = json.loads(meta_path.read_text())
            kind = meta.get("kind")
            wasm = b"" if kind == "wit" else meta_path.with_suffix(".wasm").read_bytes()
        except (OSError, json.JSONDecodeError) as exc:
            raise CaseError(f"{meta_path}: {exc}") from None
        if kind not in KINDS:
            raise CaseError(f"{meta_path}: \"kind\" must be one of {', '.join(KINDS)}")
        if kind == "accept" and meta.get("expect") not in ACCEPT_EXPECTATIONS:
            raise CaseError(f"{meta_path}: \"expect\" must be one of {', '.join(ACCEPT_EXPECTATIONS)}")
        if kind == "wit" and (meta.get("expect") not in ("accept", "reject") or
                              not isinstance(meta.get("files"), dict)):
            raise CaseError(f"{meta_path}: a wit case needs \"files\" and \"expect\": accept or reject")
        if meta["kind"] == "exec" and not {"instantiate", "actions"} <= meta.keys():
            raise CaseError(f"{meta_path}: an exec case needs \"instantiate\" and \"actions\"")
        cases.append(RegressionCase(meta_path.stem, meta_path, wasm, meta))
    return cases


def _name(kind: str, target: str, data: bytes) -> str:
    """`exec-host-1a2b3c4d5e6f`: the kind, the target and a hash of the input."""
    return f"{kind}-{target}-{hashlib.sha256(data).hexdigest()[:12]}"


def _write(folder: Path, name: str, data: bytes, meta: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.wasm").write_bytes(data)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    return path


def save_exec(folder: Path, target: str, data: bytes, plan: Plan, expected: ModuleRun,
              verdict: compare.Verdict, found: str) -> Path:
    """Save an execution case with the oracle's answers as the expectation."""
    assert expected.instantiate is not None
    meta = {
        "kind": "exec", "target": target, "found": found,
        "what": "; ".join(str(f) for f in verdict.bugs) or verdict.kind,
        "instantiate": planmod.outcome_to_json(expected.instantiate),
        "actions": [{**planmod.action_to_json(a), "expect": planmod.outcome_to_json(o)}
                    for a, o in zip(plan.actions, expected.outcomes)],
    }
    return _write(folder, _name("exec", target, data), data, meta)


def save_wit(folder: Path, item: WitInput, verdict: WitVerdict, found: str, xfail: str | None = None) -> Path:
    """Save a WIT case: the package's files, and whether wasm-tools takes them."""
    meta = {"kind": "wit", "expect": "accept" if verdict.reference == "valid" else "reject",
            "found": found, "what": f"wasm-tools says {verdict.reference}; Waft: {verdict.waft}",
            "files": item.files}
    if xfail:
        meta["xfail"] = xfail
    digest = json.dumps(item.files, sort_keys=True).encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_name('wit', 'host', digest)}.json"
    path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    return path


def expectation(verdict: AcceptVerdict) -> str:
    """What Waft should do with the module, from validate's two answers."""
    if verdict.validate == "valid":
        return "accept"
    return "refuse" if verdict.validate_all == "valid" else "reject"


def save_accept(folder: Path, data: bytes, verdict: AcceptVerdict, found: str) -> Path:
    meta = {"kind": "accept", "expect": expectation(verdict), "found": found, "what": str(verdict)}
    return _write(folder, _name("accept", "host", data), data, meta)


# --- checking ------------------------------------------------------------------------------------


def exec_problems(case: RegressionCase, actual: ModuleRun) -> list[str]:
    """What is wrong with Waft's run of an exec case (empty: it passes)."""
    verdict = compare.compare(case.plan(), case.expected(), actual)
    return [str(f) for f in verdict.bugs]


def accept_problems(case: RegressionCase, waft: dict, verdict: AcceptVerdict | None = None) -> list[str]:
    """What is wrong with Waft's answer (compile_job's) for an accept case.  With `verdict`
    (the case judged again by validate) a disagreement with the saved expectation is reported too."""
    problems = []
    accepted = waft["status"] in ("ok", "toobig")
    want = case.meta["expect"]
    if want == "accept" and not accepted:
        problems.append(f"expected the module to compile, got {waft['kind']}: {waft['message']}")
    elif want != "accept":
        if accepted:
            problems.append(f"expected a refusal ({want}), the module compiled")
        elif waft["kind"] == "crash" or "\n" in waft["message"]:
            problems.append(f"expected one clean error line, got {waft['kind']}: {waft['message']}")
    if verdict is not None and expectation(verdict) != want:
        problems.append(f"the saved expectation ({want}) is not validate's ({expectation(verdict)}): {verdict}")
    return problems


def wit_problems(case: RegressionCase, check_reference: bool) -> list[str]:
    """What is wrong with Waft's answer for a WIT case; with `check_reference`, also whether
    wasm-tools still gives the saved expectation."""
    with tempfile.TemporaryDirectory(prefix="waft-wit.") as tmp:
        folder = case.wit_input().write(Path(tmp) / "wit")
        kind, text = waft_answer(folder)
        ref = reference(folder) if check_reference else None
    want = case.meta["expect"]
    problems = []
    if kind == "crash" or (kind == "error" and "\n" in text):
        problems.append(f"expected a clean WitError or none, got {text}")
    elif want == "accept" and kind != "accepted":
        problems.append(f"expected the package to resolve, got: {text}")
    elif want == "reject" and kind == "accepted":
        problems.append("expected a WitError, the package resolved")
    theirs = None if ref is None else "accept" if ref == "valid" else "reject"
    if case.meta.get("deliberate"):
        if theirs == want:
            problems.append(f"wasm-tools now agrees with Waft ({ref}): the \"deliberate\" mark and its "
                            "DELIBERATE entry in waftkit/testing/fuzz/wit.py can go")
    elif theirs is not None and theirs != want:
        problems.append(f"the saved expectation ({want}) is not wasm-tools' ({ref})")
    return problems


def rejudge(case: RegressionCase, waft: dict) -> AcceptVerdict:
    """The case judged by validate again (needs wasm-tools)."""
    return judge(case.wasm, waft)
