"""Conversions (aot/lower/convert.py): trapping and saturating truncations, int/float
conversions, demote/promote, reinterpret and sign extension, bit-exact.

Compiled by Waft, linked with the runtime, run on the host; conversions.wast is
re-run with constant operands (LLVM folds them).
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from lower_harness import (
    Call,
    Func,
    f32_bits,
    f64_bits,
    is_arithmetic_nan,
    is_canonical_nan,
    op_func,
    run_calls,
    run_spec_folded,
    spec_available,
    spec_functions,
)

from aot.abi import TRAP_CODES
from aot.compiler import compile_module
from aot.lower import convert
from aot.targets import load_target

OVERFLOW = TRAP_CODES["INTEGER_OVERFLOW"]
INVALID = TRAP_CODES["INVALID_CONVERSION"]


# The two ways a trapping truncation is range-checked: float compares where the
# FPU computes the type (the host), integer compares on the float's bits where
# it does not (soft float; f64 on a single-precision FPU), here forced on the host.
HOST = load_target("host")
CHECKED_ON = {"fpu": HOST, "bits": dataclasses.replace(HOST, float_abi="soft")}


def _run(tmp_path, table, opt="2", target=None):
    """table: [(op, param type, result type, arg bits)] -> [(trap code, bits)]."""
    funcs, calls, names = [], [], {}
    for op, param, result, arg in table:
        if op not in names:
            names[op] = f"v{len(names)}"
            funcs.append(op_func(names[op], op, (param,), result))
        calls.append(Call(names[op], (arg,)))
    return run_calls(tmp_path, funcs, calls, opt=opt, target=target)


# Each row: op, input as a Python float, expected (trap code, result) with result as a signed int.
TRUNC_EDGES = [
    ("i32.trunc_f32_s", "f32", -2147483648.0, (0, -(1 << 31))),
    ("i32.trunc_f32_s", "f32", -2147483904.0, (OVERFLOW, 0)),  # next f32 below -2^31
    ("i32.trunc_f32_s", "f32", 2147483520.0, (0, 2147483520)),  # largest f32 below 2^31
    ("i32.trunc_f32_s", "f32", 2147483648.0, (OVERFLOW, 0)),
    ("i32.trunc_f32_s", "f32", -0.9, (0, 0)),
    ("i32.trunc_f32_u", "f32", -0.99999994, (0, 0)),
    ("i32.trunc_f32_u", "f32", -1.0, (OVERFLOW, 0)),
    ("i32.trunc_f32_u", "f32", 4294967040.0, (0, 4294967040)),
    ("i32.trunc_f32_u", "f32", 4294967296.0, (OVERFLOW, 0)),
    ("i32.trunc_f64_s", "f64", -2147483648.9, (0, -(1 << 31))),
    ("i32.trunc_f64_s", "f64", -2147483649.0, (OVERFLOW, 0)),
    ("i32.trunc_f64_s", "f64", 2147483647.9, (0, 2147483647)),
    ("i32.trunc_f64_s", "f64", 2147483648.0, (OVERFLOW, 0)),
    ("i32.trunc_f64_u", "f64", 4294967295.9, (0, 4294967295)),
    ("i32.trunc_f64_u", "f64", 4294967296.0, (OVERFLOW, 0)),
    ("i32.trunc_f64_u", "f64", -0.9999999999, (0, 0)),
    ("i64.trunc_f32_s", "f32", -9223372036854775808.0, (0, -(1 << 63))),
    ("i64.trunc_f32_s", "f32", 9223372036854775808.0, (OVERFLOW, 0)),
    ("i64.trunc_f32_u", "f32", 18446742974197923840.0, (0, 18446742974197923840)),
    ("i64.trunc_f32_u", "f32", 18446744073709551616.0, (OVERFLOW, 0)),
    ("i64.trunc_f64_s", "f64", -9223372036854775808.0, (0, -(1 << 63))),
    ("i64.trunc_f64_s", "f64", 9223372036854774784.0, (0, 9223372036854774784)),
    ("i64.trunc_f64_s", "f64", 9223372036854775808.0, (OVERFLOW, 0)),
    ("i64.trunc_f64_u", "f64", 18446744073709549568.0, (0, 18446744073709549568)),
    ("i64.trunc_f64_u", "f64", 18446744073709551616.0, (OVERFLOW, 0)),
    ("i64.trunc_f64_u", "f64", float("-inf"), (OVERFLOW, 0)),
    ("i32.trunc_f32_s", "f32", float("inf"), (OVERFLOW, 0)),
]


@pytest.mark.parametrize("checked_on", sorted(CHECKED_ON))
@pytest.mark.parametrize("opt", ["0", "2"])
def test_trapping_truncations_at_their_exact_bounds(tmp_path, opt, checked_on):
    table = []
    for op, ftype, x, _ in TRUNC_EDGES:
        itype = op[:3]
        table.append((op, ftype, itype, f32_bits(x) if ftype == "f32" else f64_bits(x)))
    results = _run(tmp_path, table, opt, CHECKED_ON[checked_on])
    for (op, ftype, x, (code, value)), got in zip(TRUNC_EDGES, results):
        width = 32 if op.startswith("i32") else 64
        assert got == (code, value & ((1 << width) - 1)), f"{op}({x!r})"


@pytest.mark.parametrize("checked_on", sorted(CHECKED_ON))
@pytest.mark.parametrize("opt", ["0", "2"])
def test_nan_truncation_is_an_invalid_conversion(tmp_path, opt, checked_on):
    table = [(f"i{w}.trunc_f{f}_{s}", f"f{f}", f"i{w}", 0x7FC00000 if f == "32" else 0xFFF0000000000001)
             for w in ("32", "64") for f in ("32", "64") for s in ("s", "u")]
    assert _run(tmp_path, table, opt, CHECKED_ON[checked_on]) == [(INVALID, 0)] * len(table)


def test_saturating_truncations(tmp_path):
    inf, nan = float("inf"), float("nan")
    rows = [
        ("i32.trunc_sat_f32_s", "f32", nan, 0), ("i32.trunc_sat_f32_s", "f32", -inf, -(1 << 31)),
        ("i32.trunc_sat_f32_s", "f32", 3e9, (1 << 31) - 1), ("i32.trunc_sat_f32_u", "f32", -5.0, 0),
        ("i32.trunc_sat_f32_u", "f32", 5e9, (1 << 32) - 1), ("i32.trunc_sat_f64_s", "f64", -2147483648.9, -(1 << 31)),
        ("i32.trunc_sat_f64_u", "f64", 4294967295.5, (1 << 32) - 1), ("i32.trunc_sat_f64_u", "f64", nan, 0),
        ("i64.trunc_sat_f32_s", "f32", inf, (1 << 63) - 1), ("i64.trunc_sat_f32_u", "f32", -0.5, 0),
        ("i64.trunc_sat_f64_s", "f64", -1e300, -(1 << 63)), ("i64.trunc_sat_f64_u", "f64", 1e300, (1 << 64) - 1),
        ("i64.trunc_sat_f64_s", "f64", -123.9, -123), ("i64.trunc_sat_f64_u", "f64", nan, 0),
    ]
    table = [(op, f, op[:3], f32_bits(x) if f == "f32" else f64_bits(x)) for op, f, x, _ in rows]
    got = _run(tmp_path, table)
    for (op, _, x, want), (code, bits) in zip(rows, got):
        width = 32 if op.startswith("i32") else 64
        assert (code, bits) == (0, want & ((1 << width) - 1)), f"{op}({x!r})"


def test_integer_to_float_rounds_correctly(tmp_path):
    rows = [
        # 2^53 + 2^29 + 1: rounding through f64 first would tie and round down to 2^53.
        ("f32.convert_i64_u", "i64", 0x0020000020000001, 0x5A000001),
        ("f32.convert_i64_u", "i64", 0xFFFFFFFFFFFFFFFF, f32_bits(18446744073709551616.0)),
        ("f32.convert_i64_u", "i64", 0x8000008000000001, 0x5F000001),
        ("f32.convert_i64_s", "i64", 0x8000000000000000, f32_bits(-9223372036854775808.0)),
        ("f32.convert_i64_s", "i64", 0x7FFFFF4000000001, 0x5EFFFFFF),
        ("f64.convert_i64_u", "i64", 0xFFFFFFFFFFFFFBFF, f64_bits(18446744073709549568.0)),
        ("f64.convert_i64_u", "i64", 0x8000000000000401, 0x43E0000000000001),
        ("f64.convert_i64_s", "i64", 0xFFFFFFFFFFFFFFFF, f64_bits(-1.0)),
        ("f32.convert_i32_u", "i32", 0xFFFFFFFF, f32_bits(4294967296.0)),
        ("f32.convert_i32_s", "i32", 0x80000000, f32_bits(-2147483648.0)),
        ("f32.convert_i32_s", "i32", 16777217, f32_bits(16777216.0)),
        ("f64.convert_i32_u", "i32", 0x80000000, f64_bits(2147483648.0)),
        ("f64.convert_i32_s", "i32", 0x80000000, f64_bits(-2147483648.0)),
    ]
    table = [(op, t, op[:3], arg) for op, t, arg, _ in rows]
    got = _run(tmp_path, table)
    assert got == [(0, want) for *_, want in rows]


@pytest.mark.parametrize("opt", ["0", "2"])
def test_promote_and_demote_give_arithmetic_nans(tmp_path, opt):
    table = [
        ("f64.promote_f32", "f32", "f64", 0x7FA00001),  # signalling
        ("f64.promote_f32", "f32", "f64", 0xFFC00000),  # canonical
        ("f32.demote_f64", "f64", "f32", 0x7FF0000000000001),  # signalling, payload below f32's
        ("f32.demote_f64", "f64", "f32", 0x7FF8000000000000),  # canonical
        ("f32.demote_f64", "f64", "f32", f64_bits(3.4028235677973366e38)),  # rounds to +inf
        ("f32.demote_f64", "f64", "f32", f64_bits(1e-46)),  # underflows to +0
        ("f64.promote_f32", "f32", "f64", f32_bits(-0.0)),
    ]
    (c0, b0), (c1, b1), (c2, b2), (c3, b3), *rest = _run(tmp_path, table, opt)
    assert is_arithmetic_nan("f64", b0) and is_canonical_nan("f64", b1)
    assert is_arithmetic_nan("f32", b2) and is_canonical_nan("f32", b3)
    assert [bits for _, bits in rest] == [0x7F800000, 0, 1 << 63]


@pytest.mark.parametrize("opt", ["0", "2", "s"])
def test_demote_of_promote_still_quiets(tmp_path, opt):
    """LLVM folds fptrunc(fpext x) to x; float_exprs.wast's no_fold_promote_demote forbids it."""
    funcs = [Func("pd", ["f32"], "f32", "(f32.demote_f64 (f64.promote_f32 (local.get 0)))")]
    calls = [Call("pd", (0x7FA00000,)), Call("pd", (0xFF800001,)), Call("pd", (f32_bits(1.5),))]
    (_, a), (_, b), (_, c) = run_calls(tmp_path, funcs, calls, opt=opt)
    assert is_arithmetic_nan("f32", a) and is_arithmetic_nan("f32", b) and c == f32_bits(1.5)


@pytest.mark.parametrize("opt", ["0", "2"])
def test_reinterpret_keeps_every_bit(tmp_path, opt):
    funcs = [
        Func("a", ["i32"], "i32", "(i32.reinterpret_f32 (f32.reinterpret_i32 (local.get 0)))"),
        Func("b", ["i64"], "i64", "(i64.reinterpret_f64 (f64.reinterpret_i64 (local.get 0)))"),
        op_func("c", "f32.reinterpret_i32", ["i32"], "f32"),
        op_func("d", "i64.reinterpret_f64", ["f64"], "i64"),
    ]
    calls = [Call("a", (0x7F800001,)), Call("a", (0xFFBFFFFF,)), Call("b", (0x7FF0000000000001,)),
             Call("c", (0xFF800123,)), Call("d", (0xFFF4000000000000,))]
    assert run_calls(tmp_path, funcs, calls, opt=opt) == [
        (0, 0x7F800001), (0, 0xFFBFFFFF), (0, 0x7FF0000000000001), (0, 0xFF800123), (0, 0xFFF4000000000000)]


def test_wrap_extend_and_sign_extension(tmp_path):
    table = [
        ("i32.wrap_i64", "i64", "i32", 0x123456789ABCDEF0),
        ("i64.extend_i32_s", "i32", "i64", 0x80000000),
        ("i64.extend_i32_u", "i32", "i64", 0x80000000),
        ("i32.extend8_s", "i32", "i32", 0x12345680),
        ("i32.extend8_s", "i32", "i32", 0x1234567F),
        ("i32.extend16_s", "i32", "i32", 0x00018000),
        ("i64.extend8_s", "i64", "i64", 0xFF),
        ("i64.extend16_s", "i64", "i64", 0x12347FFF),
        ("i64.extend32_s", "i64", "i64", 0x0000000180000000),
    ]
    assert [bits for _, bits in _run(tmp_path, table)] == [
        0x9ABCDEF0, 0xFFFFFFFF80000000, 0x80000000, 0xFFFFFF80, 0x7F, 0xFFFF8000,
        0xFFFFFFFFFFFFFFFF, 0x7FFF, 0xFFFFFFFF80000000,
    ]


@pytest.mark.skipif(not spec_available(), reason="spec suite or wast2json not available")
def test_spec_assertions_constant_folded(tmp_path):
    functions = [f for f in spec_functions("conversions.wast") if f.op in convert.HANDLERS]
    assert len(functions) >= 30
    failures = run_spec_folded(tmp_path, functions)
    assert not failures, "\n".join(failures[:20])


# clang for wasm32 guards C's `(int) x` with `fabs(x) < 2^31 ? i32.trunc_f32_s(x) : INT_MIN`.
GUARDED_CAST = """(module
  (func (export "cast") (param f32) (result i32)
    (if (result i32) (f32.lt (f32.abs (local.get 0)) (f32.const 0x1p31))
      (then (i32.trunc_f32_s (local.get 0)))
      (else (i32.const 0x80000000)))))
"""


@pytest.mark.parametrize("target_name", ["host", "stm32f4"])
def test_guarded_c_cast_needs_no_trap_check(tmp_path, target_name):
    """On an FPU our range check is the guard's own compare, so LLVM deletes it: no trap left."""
    from wasm_host import wat_to_wasm

    result = compile_module(wat_to_wasm(GUARDED_CAST, tmp_path, "m", ()), load_target(target_name), prefix="m")
    cast = result.llvm_ir[result.llvm_ir.index("@wasm.0"):]
    cast = cast[:cast.index("\n}\n")]
    assert "fptosi" in cast and "fcmp uno" not in cast, cast
    trap_codes = {int(code) for code in re.findall(r"waft_trap\(i32 (\d+)\)|\[ (\d+), %", cast) for code in code if code}
    assert trap_codes <= {TRAP_CODES["CALL_STACK_EXHAUSTED"]}, cast
