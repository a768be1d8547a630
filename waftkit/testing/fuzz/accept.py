"""Accept/reject fuzzing: Waft must take exactly the modules `wasm-tools validate` takes.

Inputs come from seeds (`make_input`): a smith module, either in Waft's
language or with every proposal smith knows (SIMD, threads, GC, exceptions,
memory64, multi-memory...), then changed by `wasm-tools mutate` (whose output
stays valid), by byte edits (`generate.corrupt`, which make malformed and
invalid modules), by both, or not at all.

Each input is compiled by Waft for the host (decode, validate, lower, emit,
in a forked child) and judged against two oracles: `validate` with exactly
Waft's features, and `validate` with its default, every phase-4 proposal.

| validate (Waft's features) | validate (all) | Waft must |
| --- | --- | --- |
| valid | valid | compile it (an UnsupportedError naming a limit is `limit`) |
| invalid | valid | refuse it cleanly: any AotError (`unsupported`) |
| invalid | invalid | reject it: DecodeError, ValidationError or UnsupportedError |

and every refusal is one line (an AotError's message, never a traceback).
"""

from __future__ import annotations

from dataclasses import dataclass

from waftkit.testing.fuzz import generate, tools
from waftkit.testing.fuzz.pool import CompilePool

BUGS = ("crash", "accepted invalid", "accepted unsupported", "rejected valid", "messy error")
KINDS = (*BUGS, "limit", "unsupported", "agree")

# Smith with everything it can generate: modules Waft must refuse cleanly, not crash on.
ALL_FEATURES_OPTIONS = (
    "--simd-enabled", "true", "--relaxed-simd-enabled", "true", "--threads-enabled", "true",
    "--memory64-enabled", "true", "--max-memories", "3", "--exceptions-enabled", "true",
    "--gc-enabled", "true", "--wide-arithmetic-enabled", "true", "--custom-page-sizes-enabled", "true",
    "--min-funcs", "1",
)


@dataclass(frozen=True)
class Input:
    data: bytes
    origin: str  # how it was made, to reproduce it: "smith(waft) + mutate" ...


@dataclass(frozen=True)
class AcceptVerdict:
    kind: str
    validate: str  # validate's verdict with Waft's features: "valid" or its error
    validate_all: str  # ... with every proposal
    waft: str  # "accepted", or "<kind>: <message>"

    @property
    def is_bug(self) -> bool:
        return self.kind in BUGS

    def __str__(self) -> str:
        return f"{self.kind}: validate says {self.validate}; with every proposal {self.validate_all}; " \
               f"Waft: {self.waft}"


def make_input(seed: int) -> Input | None:
    """The input for `seed`, or None when smith cannot build its module."""
    r = generate.rng("accept", seed)
    waft_language = r.random() < 0.7
    if waft_language:
        source = generate.smith_module(seed, generate.HOST_PROFILE)
        label = "smith(waft)"
    else:
        size = r.choice((512, 2048, 8192))
        source = tools.smith(generate.seed_bytes("smith-all", seed, size), ALL_FEATURES_OPTIONS)
        label = "smith(all)"
    if source is None:
        return None
    how = r.choice(("mutate", "corrupt", "mutate+corrupt", "as is") if not waft_language
                   else ("mutate", "corrupt", "mutate+corrupt"))
    data = source
    if "mutate" in how:
        # Up to three mutations in a row; each keeps the module valid.
        for step in range(r.randrange(1, 4)):
            data = tools.mutate(data, seed * 4 + step) or data
    if "corrupt" in how:
        data = generate.corrupt(data, seed)
    return Input(data, f"{label} + {how}" if how != "as is" else label)


def judge(data: bytes, waft: dict) -> AcceptVerdict:
    """Waft's answer (compile_job's) against the two validations of `data`."""
    strict = tools.validate(data, generate.WAFT_FEATURES)
    loose = tools.validate(data) if not strict.valid else strict
    v_text = "valid" if strict.valid else strict.message
    v_all = "valid" if loose.valid else loose.message
    if waft["status"] == "ok" or waft["status"] == "toobig":
        # toobig: only the test images' memory cap was in the way; the module compiled.
        kind = "agree" if strict.valid else "accepted unsupported" if loose.valid else "accepted invalid"
        return AcceptVerdict(kind, v_text, v_all, "accepted")
    waft_kind, message = waft["kind"], waft["message"]
    said = f"{waft_kind}: {message}"
    if waft_kind == "crash":
        return AcceptVerdict("crash", v_text, v_all, said)
    if "\n" in message or not message.strip():
        return AcceptVerdict("messy error", v_text, v_all, said)
    if strict.valid:
        kind = "limit" if waft_kind in ("unsupported", "simd") else "rejected valid"
    elif loose.valid:
        kind = "unsupported"
    else:
        kind = "agree"
    return AcceptVerdict(kind, v_text, v_all, said)


def check(pool: CompilePool, inputs: list[bytes]) -> list[AcceptVerdict]:
    """Judge every input (compiled in `pool`, a host CompilePool)."""
    futures = [pool.submit(data, f"m{i}") for i, data in enumerate(inputs)]
    return [judge(data, fut.result()) for data, fut in zip(inputs, futures)]
