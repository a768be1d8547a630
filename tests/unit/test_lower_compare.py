"""Comparisons (aot/lower/compare.py): signed and unsigned integers, IEEE float ordering.

Compiled by Waft, linked with the runtime, run on the host; the spec scripts'
comparison assertions are re-run with constant operands (LLVM folds them).
"""

from __future__ import annotations

import pytest
from lower_harness import (
    Call,
    f32_bits,
    f64_bits,
    op_func,
    run_calls,
    run_spec_opcodes_folded,
    spec_available,
)

from aot.lower import compare

INT_MIN32, INT_MIN64 = 1 << 31, 1 << 63
F32_NAN, F32_SNAN = 0x7FC00000, 0xFFA00001
F64_NAN = 0xFFF8000000000001


def _table(ops: list[str], params: tuple[str, str], pairs: list[tuple[int, int]]):
    funcs = [op_func(f"c{i}", op, params, "i32") for i, op in enumerate(ops)]
    calls = [Call(f.name, pair) for f in funcs for pair in pairs]
    return funcs, calls


@pytest.mark.parametrize("opt", ["0", "2"])
def test_integer_comparisons_signed_and_unsigned(tmp_path, opt):
    ops = ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"]
    pairs32 = [(INT_MIN32, 1), (1, INT_MIN32), (-1, -1), (0, -1)]
    funcs, calls = _table([f"i32.{op}" for op in ops], ("i32", "i32"), pairs32)
    got = [bits for _, bits in run_calls(tmp_path, funcs, calls, opt=opt)]

    def expect(a: int, b: int, width: int) -> list[int]:
        ua, ub = a & ((1 << width) - 1), b & ((1 << width) - 1)
        sa = ua - (1 << width) if ua >> (width - 1) else ua
        sb = ub - (1 << width) if ub >> (width - 1) else ub
        return [int(x) for x in (ua == ub, ua != ub, sa < sb, ua < ub, sa > sb, ua > ub, sa <= sb, ua <= ub,
                                 sa >= sb, ua >= ub)]

    want = [expect(a, b, 32)[k] for k in range(len(ops)) for a, b in pairs32]
    assert got == want

    pairs64 = [(INT_MIN64, 1), (1, INT_MIN64), (1 << 32, 1), (-1, 0)]
    (tmp_path / "i64").mkdir()
    funcs, calls = _table([f"i64.{op}" for op in ops], ("i64", "i64"), pairs64)
    got = [bits for _, bits in run_calls(tmp_path / "i64", funcs, calls, opt=opt)]
    assert got == [expect(a, b, 64)[k] for k in range(len(ops)) for a, b in pairs64]


@pytest.mark.parametrize("opt", ["0", "2"])
def test_float_comparisons_with_nans_and_signed_zeros(tmp_path, opt):
    ops = ["eq", "ne", "lt", "gt", "le", "ge"]
    pairs = [(0x80000000, 0), (F32_NAN, F32_NAN), (F32_SNAN, f32_bits(1.0)), (f32_bits(1.0), f32_bits(2.0))]
    funcs, calls = _table([f"f32.{op}" for op in ops], ("f32", "f32"), pairs)
    got = [bits for _, bits in run_calls(tmp_path, funcs, calls, opt=opt)]
    #            -0 vs +0   nan, nan   snan, 1   1 vs 2
    assert got == [1, 0, 0, 0,   # eq
                   0, 1, 1, 1,   # ne: true for NaN operands
                   0, 0, 0, 1,   # lt
                   0, 0, 0, 0,   # gt
                   1, 0, 0, 1,   # le
                   1, 0, 0, 0]   # ge

    pairs64 = [(1 << 63, 0), (F64_NAN, f64_bits(0.0)), (f64_bits(-1.0), f64_bits(float("-inf")))]
    (tmp_path / "f64").mkdir()
    funcs, calls = _table([f"f64.{op}" for op in ops], ("f64", "f64"), pairs64)
    got = [bits for _, bits in run_calls(tmp_path / "f64", funcs, calls, opt=opt)]
    assert got == [1, 0, 0,  0, 1, 1,  0, 0, 0,  0, 0, 1,  1, 0, 0,  1, 0, 1]


SPEC_FILES = ["i32.wast", "i64.wast", "f32_cmp.wast", "f64_cmp.wast"]


@pytest.mark.skipif(not spec_available(), reason="spec suite or wast2json not available")
@pytest.mark.parametrize("wast", SPEC_FILES)
def test_spec_assertions_constant_folded(tmp_path, wast):
    functions, failures = run_spec_opcodes_folded(tmp_path, wast, compare.HANDLERS)
    assert functions, f"no single-opcode comparisons found in {wast}"
    assert not failures, "\n".join(failures[:20])
