"""Spec-test values: parse wast2json's encoding, compare with results, print them.

Numbers are kept as bit patterns (wast2json writes floats as the decimal
value of their bits), so NaN payloads and the sign of zero compare exactly.
Expected results may instead be a pattern: `nan:canonical` (quiet NaN with
the payload's top bit only) or `nan:arithmetic` (any quiet NaN).
References: `ref.null` is None, `ref.extern N` is N, a `ref.func` without an
index matches any non-null function reference.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

BITS = {"i32": 32, "i64": 64, "f32": 32, "f64": 64}
REF_TYPES = ("funcref", "externref")

# Float layout: (exponent mask, quiet bit, mantissa mask)
_FLOAT = {
    "f32": (0x7F800000, 0x00400000, 0x007FFFFF),
    "f64": (0x7FF0000000000000, 0x0008000000000000, 0x000FFFFFFFFFFFFF),
}

ANY_FUNC = "func"  # a non-null funcref whose identity the script does not name


@dataclass(frozen=True)
class Value:
    type: str  # i32 i64 f32 f64 v128 funcref externref
    bits: int | str | None = None  # number bits; ref: None (null), int (extern N), ANY_FUNC
    nan: str | None = None  # expected only: "canonical" | "arithmetic"

    def __str__(self) -> str:
        return format_value(self)


def parse_value(raw: dict) -> Value:
    """One wast2json value ({"type": "f32", "value": "1065353216"})."""
    vtype = raw["type"]
    text = raw.get("value")
    if vtype in REF_TYPES:
        if text == "null":
            return Value(vtype, None)
        if text is None:
            return Value(vtype, ANY_FUNC if vtype == "funcref" else ANY_FUNC)
        return Value(vtype, int(text))
    if vtype == "v128":
        return Value(vtype, tuple(raw.get("value", ())))  # type: ignore[arg-type]
    if text is None:  # assert_trap/assert_exhaustion list result types without values
        return Value(vtype, None)
    if isinstance(text, str) and text.startswith("nan:"):
        return Value(vtype, None, nan=text[4:])
    return Value(vtype, int(text) & ((1 << BITS[vtype]) - 1))


def matches(expected: Value, actual: Value) -> bool:
    """Whether a result satisfies an expected value (bit-exact, or the NaN pattern)."""
    if expected.type != actual.type:
        return False
    if expected.nan is not None:
        exp_mask, quiet, mant = _FLOAT[expected.type]
        bits = int(actual.bits or 0)
        if bits & exp_mask != exp_mask or bits & quiet == 0:
            return False
        if expected.nan == "canonical":
            return bits & mant == quiet
        return True
    if expected.type in REF_TYPES:
        if expected.bits == ANY_FUNC:
            return actual.bits is not None
        return expected.bits == actual.bits
    return expected.bits == actual.bits


def _signed(bits: int, width: int) -> int:
    return bits - (1 << width) if bits >> (width - 1) else bits


def _float(bits: int, vtype: str) -> str:
    exp_mask, quiet, mant = _FLOAT[vtype]
    if bits & exp_mask == exp_mask and bits & mant:
        sign = "-" if bits >> (BITS[vtype] - 1) else ""
        payload = bits & mant
        return f"{sign}nan" if payload == quiet else f"{sign}nan:0x{payload:x}"
    value = struct.unpack("<f" if vtype == "f32" else "<d",
                          bits.to_bytes(BITS[vtype] // 8, "little"))[0]
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value) if vtype == "f64" else f"{value:.9g}"


def format_value(value: Value) -> str:
    """`i32:0xfffffffe (-2)`, `f32:0x3f800000 (1.0)`, `f64:nan:canonical`, `externref:null`."""
    if value.nan is not None:
        return f"{value.type}:nan:{value.nan}"
    if value.type in REF_TYPES:
        if value.bits is None:
            return f"{value.type}:null"
        if value.bits == ANY_FUNC:
            return f"{value.type}:ref.func"
        return f"{value.type}:{value.bits}"
    if value.type == "v128":
        return f"v128:{value.bits}"
    bits = int(value.bits or 0)
    width = BITS[value.type]
    hexed = f"0x{bits:0{width // 4}x}"
    if value.type in ("i32", "i64"):
        return f"{value.type}:{hexed} ({_signed(bits, width)})"
    return f"{value.type}:{hexed} ({_float(bits, value.type)})"


def format_values(values: tuple[Value, ...] | list[Value]) -> str:
    return "(" + ", ".join(format_value(v) for v in values) + ")" if values else "()"
