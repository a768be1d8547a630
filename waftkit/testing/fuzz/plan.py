"""What a differential run does to one module, and what an engine made of it.

A `Plan` is engine-neutral: instantiate the module, then a list of actions
(spectest's `Action`: invoke an export with arguments, or get an exported
global's value).  Each engine answers with a `ModuleRun`: the outcome of the
instantiation and one `Outcome` per action, or, when the engine would not
take the module at all, why.  Values are spectest `Value`s (bit patterns),
so the oracle's and Waft's answers compare bit for bit, and plans and
outcomes have a text form for regression files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from waftkit.testing.spectest.values import BITS, Value, format_value
from waftkit.testing.spectest.wast import Action

# Outcome statuses.  Both engines: ok, trap.  Waft only: the instance did not fit the board's
# RAM (nomem), its instantiation failed earlier (noinst), the test program stopped before
# this step (missing).
STATUSES = ("ok", "trap", "nomem", "noinst", "missing")


@dataclass(frozen=True)
class Outcome:
    status: str
    values: tuple[Value, ...] = ()
    trap: str = ""  # the trap in the runtime's words (waft_strerror), e.g. "integer divide by zero"

    def __str__(self) -> str:
        if self.status == "ok":
            return "(" + ", ".join(format_value(v) for v in self.values) + ")"
        if self.status == "trap":
            return f"trap ({self.trap})"
        return self.status


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)


@dataclass
class ModuleRun:
    """An engine's answers for one module.  `error` says why it would not run the module, or
    why its run ended early; `error_kind` is "malformed", "invalid", "unsupported", "toobig"
    (it does not fit the board), "crash" (the compiler or the test program died) or
    "oracle" (wasmtime refused it)."""

    instantiate: Outcome | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    error: str | None = None
    error_kind: str = ""
    capped: bool = False  # Waft laid a memory out below its declared maximum


def describe_action(action: Action) -> str:
    """`invoke "f" (i32:0x00000001 (1), f32:...)` or `get "g"`."""
    if action.kind == "get":
        return f'get "{action.field}"'
    return f'invoke "{action.field}" (' + ", ".join(format_value(v) for v in action.args) + ")"


# --- text form (regression files) -------------------------------------------------------------


def value_to_text(value: Value) -> str:
    """`i32:0x0000002a`, `f64:0x7ff8000000000000`, `externref:3`, `funcref:null`, `funcref:func`."""
    if value.type in ("funcref", "externref"):
        return f"{value.type}:{'null' if value.bits is None else value.bits}"
    return f"{value.type}:0x{int(value.bits or 0):0{BITS[value.type] // 4}x}"


def value_from_text(text: str) -> Value:
    vtype, _, rest = text.partition(":")
    if vtype in ("funcref", "externref"):
        if rest == "null":
            return Value(vtype, None)
        return Value(vtype, rest if rest == "func" else int(rest))
    if vtype not in BITS:
        raise ValueError(f"unknown value type in {text!r}")
    return Value(vtype, int(rest, 16))


def action_to_json(action: Action) -> dict:
    out: dict = {"kind": action.kind, "export": action.field}
    if action.kind == "invoke":
        out["args"] = [value_to_text(v) for v in action.args]
    return out


def action_from_json(raw: dict) -> Action:
    return Action(raw["kind"], None, raw["export"], tuple(value_from_text(t) for t in raw.get("args", ())))


def outcome_to_json(outcome: Outcome) -> dict:
    if outcome.status == "trap":
        return {"trap": outcome.trap}
    if outcome.status == "ok":
        return {"results": [value_to_text(v) for v in outcome.values]}
    return {"status": outcome.status}


def outcome_from_json(raw: dict) -> Outcome:
    if "trap" in raw:
        return Outcome("trap", trap=raw["trap"])
    if "results" in raw:
        return Outcome("ok", tuple(value_from_text(t) for t in raw["results"]))
    return Outcome(raw["status"])
