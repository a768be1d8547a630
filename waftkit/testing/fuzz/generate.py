"""Test inputs from seeds: wasm-smith modules, the calls to make on them, corrupted binaries.

Everything here is a pure function of an integer seed, so a CI run is the
same run every time and an overnight find can be replayed from its seed
alone.  Randomness comes from SHAKE-256 over a labelled seed (for smith's
input bytes) and from `random.Random(int)` seeded the same way (for call
arguments and byte edits): both are stable across Python versions.

Smith is asked for modules Waft compiles and runs: Wasm 2.0 without SIMD
(multi-value, bulk memory, reference types, sign extension, saturating
conversions) plus tail calls, extended constant expressions and custom page
sizes; no imports; every function exported (`--export-everything`); NaNs
canonicalised after each float operation, so NaN bits that reach memory or
an integer are the same on every engine; and a fuel counter in the module
itself (`--ensure-termination`), so every call ends, the same way everywhere.
Memories and tables are bounded by the target's RAM and carry a declared
maximum, so growth past the board's build-time cap cannot differ.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from aot.targets import Target
from waftkit.testing.fuzz import tools
from waftkit.testing.spectest.values import Value

# Smith's switches for the proposals Waft compiles (on) and does not (off).
FEATURE_OPTIONS = (
    "--multi-value-enabled", "true", "--bulk-memory-enabled", "true",
    "--reference-types-enabled", "true", "--sign-extension-ops-enabled", "true",
    "--saturating-float-to-int-enabled", "true", "--tail-call-enabled", "true",
    "--extended-const-enabled", "true", "--custom-page-sizes-enabled", "true",
    "--simd-enabled", "false", "--relaxed-simd-enabled", "false", "--threads-enabled", "false",
    "--shared-everything-threads-enabled", "false", "--memory64-enabled", "false",
    "--exceptions-enabled", "false", "--gc-enabled", "false",
    "--custom-descriptors-enabled", "false", "--compact-imports-enabled", "false",
    "--wide-arithmetic-enabled", "false", "--max-memories", "1",
)

# `wasm-tools validate --features` for exactly what Waft accepts: Wasm 2.0 less SIMD, plus
# the proposals above and threads (which smith leaves out of Waft's language because the
# execution oracle, wasmtime, runs without it).  Anything valid beyond it must be refused cleanly.
WAFT_FEATURES = "wasm2,-simd,tail-call,extended-const,custom-page-sizes,threads"

# What a module run calls: each exported function this many times (state carries over).
CALLS_PER_EXPORT = 2


@dataclass(frozen=True)
class Profile:
    """Bounds that make generated modules fit a target."""

    max_memory_bytes: int
    max_table_elements: int
    fuel: int

    @classmethod
    def for_target(cls, target: Target) -> Profile:
        if target.is_host:
            return HOST_PROFILE
        # A board's linear memory is laid out at its build-time cap (default_memory_cap_pages):
        # keep every declared maximum within it, and tables small, so instances fit its RAM.
        cap = max(1, target.default_memory_cap_pages) << 16
        return cls(max_memory_bytes=min(cap, 1 << 16), max_table_elements=100, fuel=1000)

    def smith_options(self) -> list[str]:
        return [*FEATURE_OPTIONS,
                "--max-imports", "0", "--export-everything", "true", "--min-funcs", "3",
                "--canonicalize-nans", "true",
                "--ensure-termination", "--fuel", str(self.fuel),
                "--memory-max-size-required", "true", "--max-memory32-bytes", str(self.max_memory_bytes),
                "--table-max-size-required", "true", "--max-table-elements", str(self.max_table_elements)]


HOST_PROFILE = Profile(max_memory_bytes=1 << 20, max_table_elements=1000, fuel=1000)


def seed_bytes(stream: str, seed: int, size: int) -> bytes:
    """`size` bytes determined by (stream, seed)."""
    return hashlib.shake_256(f"waft-fuzz/{stream}/{seed}".encode()).digest(size)


def rng(stream: str, seed: int) -> random.Random:
    return random.Random(int.from_bytes(seed_bytes(stream, seed, 8), "little"))


def smith_module(seed: int, profile: Profile) -> bytes | None:
    """The module for `seed`, or None for the few seeds smith cannot turn into one.
    Seed sizes vary (smith builds bigger modules from longer inputs)."""
    size = rng("size", seed).choice((512, 1024, 2048, 4096, 8192, 16384))
    return tools.smith(seed_bytes("smith", seed, size), profile.smith_options())


# --- arguments ----------------------------------------------------------------------------

_I32 = (0, 1, 2, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFF, 0x10000, 0xFFFFFF80)
_I64 = (0, 1, 2, 0xFFFFFFFFFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFFFFFFF,
        0x100000000, 0xFFFFFFFF80000000)
# Zeros, one, infinities, the canonical NaNs and a quiet NaN with a payload, the smallest
# subnormal, the largest finite value, the integer conversion limits.
_F32 = (0, 0x80000000, 0x3F800000, 0xBFC00000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000,
        0x7FC12345, 0x00000001, 0x7F7FFFFF, 0x4F000000, 0xCF000000, 0x5F000000)
_F64 = (0, 0x8000000000000000, 0x3FF0000000000000, 0xBFF8000000000000, 0x7FF0000000000000,
        0xFFF0000000000000, 0x7FF8000000000000, 0xFFF8000000000000, 0x7FF8000000012345,
        0x0000000000000001, 0x7FEFFFFFFFFFFFFF, 0x41E0000000000000, 0xC1E0000000000000,
        0x43E0000000000000)
_QUIET = {"f32": (0x7F800000, 0x00400000), "f64": (0x7FF0000000000000, 0x0008000000000000)}


def _quiet(vtype: str, bits: int) -> int:
    """NaNs are passed quiet: a signalling NaN argument may be quietened by the oracle's
    float conversions before it reaches the module, and then both engines would not see
    the same bits."""
    exp, quiet = _QUIET[vtype]
    mantissa = (quiet << 1) - 1
    return bits | quiet if bits & exp == exp and bits & mantissa else bits


def argument(vtype: str, r: random.Random) -> Value:
    """One argument of type `vtype`: an edge value most of the time, else random bits."""
    if vtype == "funcref":
        return Value("funcref", None)  # a script cannot name a function of the module
    if vtype == "externref":
        return Value("externref", None if r.random() < 0.3 else r.randrange(16))
    width = 32 if vtype in ("i32", "f32") else 64
    table = {"i32": _I32, "i64": _I64, "f32": _F32, "f64": _F64}[vtype]
    bits = r.choice(table) if r.random() < 0.7 else r.getrandbits(width)
    if vtype in ("f32", "f64"):
        bits = _quiet(vtype, bits)
    return Value(vtype, bits)


def arguments(seed: int, export_index: int, call: int, params: tuple[str, ...]) -> tuple[Value, ...]:
    r = rng(f"args/{export_index}/{call}", seed)
    return tuple(argument(t, r) for t in params)


# --- corrupted binaries ----------------------------------------------------------------------

_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0x40, 0x60, 0x70, 0x6F, 0x0B, 0x41)


def corrupt(data: bytes, seed: int) -> bytes:
    """`data` with one to three byte-level edits from `seed`: a flipped bit, an overwritten
    byte, a deleted, inserted or duplicated run, or a truncation.  Unlike wasm-mutate,
    whose output stays valid, these make malformed and invalid modules."""
    r = rng("corrupt", seed)
    out = bytearray(data)
    for _ in range(r.choice((1, 1, 2, 3))):
        if not out:
            break
        # The header is left alone most of the time: past it is where decoders differ.
        lo = 8 if len(out) > 9 and r.random() < 0.95 else 0
        at = r.randrange(lo, len(out))
        op = r.randrange(6)
        if op == 0:
            out[at] ^= 1 << r.randrange(8)
        elif op == 1:
            out[at] = r.choice(_BYTES) if r.random() < 0.6 else r.randrange(256)
        elif op == 2:
            del out[at:at + r.randrange(1, 9)]
        elif op == 3:
            out[at:at] = bytes(r.choice(_BYTES) for _ in range(r.randrange(1, 5)))
        elif op == 4:
            n = r.randrange(1, 17)
            out[at:at] = out[at:at + n]
        else:
            del out[at:]
    return bytes(out)
