"""Numeric opcodes (aot/lower/numeric.py) compute exactly what the spec says, on every target.

Compiled by Waft, linked with the runtime and run on the host; objects for the
Cortex-M and RISC-V targets are checked to need only helpers their C
libraries define.  The spec scripts themselves run through the spectest
runner (tests/spec); here they are re-run with constant operands, so LLVM's
constant folding is held to the spec as well.
"""

from __future__ import annotations

import shutil

import pytest
from lower_harness import (
    Call,
    Func,
    arm_library_symbols,
    f32_bits,
    f64_bits,
    is_arithmetic_nan,
    is_canonical_nan,
    op_func,
    run_calls,
    run_spec_opcodes_folded,
    spec_available,
    undefined_symbols,
)
from wasm_host import wat_to_wasm

from aot.abi import TRAP_CODES
from aot.compiler import compile_module
from aot.lower import compare, convert, numeric
from aot.targets import load_target
from aot.wasm.opcodes import SIGNATURES

DIV0 = TRAP_CODES["INTEGER_DIVIDE_BY_ZERO"]
OVERFLOW = TRAP_CODES["INTEGER_OVERFLOW"]
INT_MIN32, INT_MIN64 = 1 << 31, 1 << 63

NUMERIC_PREFIXES = ("i32.", "i64.", "f32.", "f64.")


def numeric_opcodes() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Every numeric opcode without immediates (constants, loads, stores and atomics excluded)."""
    return {op: sig for op, sig in SIGNATURES.items()
            if op.startswith(NUMERIC_PREFIXES) and not op.endswith(".const")
            and ".load" not in op and ".store" not in op and ".atomic." not in op}


def test_every_numeric_opcode_has_exactly_one_handler():
    families = {"numeric": numeric.HANDLERS, "compare": compare.HANDLERS, "convert": convert.HANDLERS}
    ops = set(numeric_opcodes()) | {"i32.const", "i64.const", "f32.const", "f64.const"}
    for op in ops:
        owners = [name for name, table in families.items() if op in table]
        assert len(owners) == 1, f"{op}: handled by {owners}"
    assert set().union(*families.values()) == ops


# --- one module with every opcode, for every target -----------------------------------------


def all_ops_wat() -> str:
    funcs = []
    for i, (op, (params, results)) in enumerate(sorted(numeric_opcodes().items())):
        funcs.append(op_func(f"op{i}", op, params, results[0]).wat())
    # Constants, including a signalling NaN, and an identity constant (the barrier).
    funcs.append('  (func (export "k") (param f64) (result f64) '
                 "(f64.mul (local.get 0) (f64.const 1)) (f64.add (f64.const nan:0x1)))")
    return "(module\n" + "\n".join(funcs) + "\n)\n"


CROSS_TARGETS = ["cortex-m0plus", "stm32f4", "mps2-an500", "mps2-an505", "riscv32-virt", "host"]
# What libgcc and newlib provide under their generic names (RISC-V has no toolchain here).
GENERIC_LIBM = {"ceil", "ceilf", "floor", "floorf", "trunc", "truncf", "rint", "rintf", "sqrt", "sqrtf"}


@pytest.mark.parametrize("target_name", CROSS_TARGETS)
def test_every_opcode_links_on_every_target(tmp_path, target_name):
    """Every helper call the numeric code makes exists in the target's libgcc/libm/libc."""
    target = load_target(target_name)
    data = wat_to_wasm(all_ops_wat(), tmp_path)
    result = compile_module(data, target, prefix="m")
    if target.is_arm:
        if shutil.which("arm-none-eabi-nm") is None:
            pytest.skip("arm-none-eabi-nm is not installed")
        needed = undefined_symbols(result.object, tmp_path, "arm-none-eabi-nm")
        provided = arm_library_symbols(target.cflags)
        missing = {s for s in needed - provided if not s.startswith("waft_")}
        assert not missing, f"{target_name}: no library defines {sorted(missing)}"
        if target.name == "cortex-m0plus":
            assert "__aeabi_idiv" in needed and "__aeabi_dadd" in needed  # soft float, no divide
        if target.name == "stm32f4":
            assert "__aeabi_dadd" in needed and "__aeabi_fadd" not in needed  # f32 in the FPU only
    else:
        needed = undefined_symbols(result.object, tmp_path, "nm")
        unknown = {s for s in needed if not (s.startswith(("waft_", "__")) or s in GENERIC_LIBM)}
        assert not unknown, f"{target_name}: unexpected external symbols {sorted(unknown)}"
    assert not any(s in needed for s in ("roundeven", "roundevenf", "fminimum", "fmaximum", "fminimumf",
                                         "fmaximumf"))


# --- integer edge cases -----------------------------------------------------------------------


def _run_ops(tmp_path, table, opt="2"):
    """table: [(op, params, result, args)] -> [(trap code, bits)]."""
    funcs, calls, seen = [], [], {}
    for op, params, result, args in table:
        if op not in seen:
            seen[op] = f"f{len(seen)}"
            funcs.append(op_func(seen[op], op, params, result))
        calls.append(Call(seen[op], args))
    return run_calls(tmp_path, funcs, calls, opt=opt)


@pytest.mark.parametrize("opt", ["0", "2"])
def test_integer_division_traps_and_wraps(tmp_path, opt):
    i32, i64 = ("i32", "i32"), ("i64", "i64")
    table = [
        ("i32.div_s", i32, "i32", (7, 0)),
        ("i32.div_s", i32, "i32", (INT_MIN32, -1)),
        ("i32.div_s", i32, "i32", (-7, 2)),
        ("i32.div_u", i32, "i32", (7, 0)),
        ("i32.div_u", i32, "i32", (INT_MIN32, -1)),
        ("i32.rem_s", i32, "i32", (INT_MIN32, -1)),
        ("i32.rem_s", i32, "i32", (-7, 2)),
        ("i32.rem_s", i32, "i32", (7, 0)),
        ("i32.rem_u", i32, "i32", (-7, 2)),
        ("i32.rem_u", i32, "i32", (1, 0)),
        ("i64.div_s", i64, "i64", (INT_MIN64, -1)),
        ("i64.div_s", i64, "i64", (1, 0)),
        ("i64.div_s", i64, "i64", (-7, 2)),
        ("i64.div_u", i64, "i64", (-1, 3)),
        ("i64.rem_s", i64, "i64", (INT_MIN64, -1)),
        ("i64.rem_s", i64, "i64", (-7, -2)),
        ("i64.rem_u", i64, "i64", (-1, 0)),
    ]
    assert _run_ops(tmp_path, table, opt) == [
        (DIV0, 0), (OVERFLOW, 0), (0, 0xFFFFFFFD), (DIV0, 0), (0, 0),
        (0, 0), (0, 0xFFFFFFFF), (DIV0, 0), (0, 1), (DIV0, 0),
        (OVERFLOW, 0), (DIV0, 0), (0, (1 << 64) - 3), (0, 0x5555555555555555),
        (0, 0), (0, (1 << 64) - 1), (DIV0, 0),
    ]


def test_rem_s_of_int_min_by_minus_one_folded(tmp_path):
    """LLVM's srem is undefined there; the constant-folded path must still give 0."""
    funcs = [
        Func("a", [], "i32", "(i32.rem_s (i32.const 0x80000000) (i32.const -1))"),
        Func("b", [], "i64", "(i64.rem_s (i64.const 0x8000000000000000) (i64.const -1))"),
        Func("c", [], "i32", "(i32.div_s (i32.const 0x80000000) (i32.const -1))"),
    ]
    assert run_calls(tmp_path, funcs, [Call("a"), Call("b"), Call("c")]) == [(0, 0), (0, 0), (OVERFLOW, 0)]


def test_shift_counts_are_taken_modulo_the_width(tmp_path):
    i32, i64 = ("i32", "i32"), ("i64", "i64")
    table = [
        ("i32.shl", i32, "i32", (1, 33)),
        ("i32.shr_s", i32, "i32", (INT_MIN32, 63)),
        ("i32.shr_u", i32, "i32", (INT_MIN32, 32)),
        ("i32.rotl", i32, "i32", (0x80000001, 33)),
        ("i32.rotr", i32, "i32", (0x80000001, -1)),
        ("i64.shl", i64, "i64", (1, 65)),
        ("i64.shr_s", i64, "i64", (INT_MIN64, 127)),
        ("i64.shr_u", i64, "i64", (INT_MIN64, 64)),
        ("i64.rotl", i64, "i64", (0x8000000000000001, 65)),
        ("i64.rotr", i64, "i64", (1, 64 + 4)),
    ]
    assert [r for _, r in _run_ops(tmp_path, table)] == [
        2, 0xFFFFFFFF, INT_MIN32, 3, 3,
        2, (1 << 64) - 1, INT_MIN64, 3, 1 << 60,
    ]


def test_bit_counts_of_zero_are_the_width(tmp_path):
    table = [
        ("i32.clz", ("i32",), "i32", (0,)), ("i32.ctz", ("i32",), "i32", (0,)),
        ("i32.popcnt", ("i32",), "i32", (-1,)), ("i32.clz", ("i32",), "i32", (1,)),
        ("i64.clz", ("i64",), "i64", (0,)), ("i64.ctz", ("i64",), "i64", (0,)),
        ("i64.popcnt", ("i64",), "i64", (-1,)), ("i64.ctz", ("i64",), "i64", (INT_MIN64,)),
        ("i32.eqz", ("i32",), "i32", (0,)), ("i64.eqz", ("i64",), "i32", (1 << 32,)),
    ]
    assert [r for _, r in _run_ops(tmp_path, table)] == [32, 32, 32, 31, 64, 64, 64, 63, 1, 0]


# --- float edge cases -----------------------------------------------------------------------

F32_SNAN, F32_NEG_SNAN = 0x7FA00001, 0xFF800123
F64_SNAN, F64_NEG_SNAN = 0x7FF0000000000123, 0xFFF4000000000001


@pytest.mark.parametrize("opt", ["0", "2"])
def test_constants_keep_nan_payloads(tmp_path, opt):
    funcs = [
        Func("a", [], "i32", "(i32.reinterpret_f32 (f32.const nan:0x200001))"),
        Func("b", [], "i32", "(i32.reinterpret_f32 (f32.const -nan:0x1))"),
        Func("c", [], "i64", "(i64.reinterpret_f64 (f64.const nan:0x4000000000001))"),
        Func("d", [], "f32", "(f32.const -nan:0x123)"),
        Func("e", [], "f64", "(f64.const nan:0x1)"),
        Func("f", [], "f32", "(f32.const -0x0p+0)"),
    ]
    results = run_calls(tmp_path, funcs, [Call(f.name) for f in funcs], opt=opt)
    assert [r for _, r in results] == [0x7FA00001, 0xFF800001, 0x7FF4000000000001, 0xFF800123,
                                       0x7FF0000000000001, 0x80000000]


@pytest.mark.parametrize("opt", ["0", "2"])
def test_abs_neg_copysign_never_touch_the_payload(tmp_path, opt):
    table = [
        ("f32.neg", ("f32",), "f32", (F32_SNAN,)),
        ("f32.abs", ("f32",), "f32", (F32_NEG_SNAN,)),
        ("f32.copysign", ("f32", "f32"), "f32", (F32_SNAN, 0x80000000)),
        ("f32.copysign", ("f32", "f32"), "f32", (F32_NEG_SNAN, F32_SNAN)),
        ("f64.neg", ("f64",), "f64", (F64_SNAN,)),
        ("f64.abs", ("f64",), "f64", (F64_NEG_SNAN,)),
        ("f64.copysign", ("f64", "f64"), "f64", (F64_SNAN, F64_NEG_SNAN)),
        ("f64.neg", ("f64",), "f64", (0,)),
    ]
    assert [r for _, r in _run_ops(tmp_path, table, opt)] == [
        0xFFA00001, 0x7F800123, 0xFFA00001, 0x7F800123,
        0xFFF0000000000123, 0x7FF4000000000001, 0xFFF0000000000123, 1 << 63,
    ]


def test_min_max_signed_zeros_and_nans(tmp_path):
    pz, nz = 0, 0x80000000
    table = [
        ("f32.min", ("f32", "f32"), "f32", (pz, nz)),
        ("f32.min", ("f32", "f32"), "f32", (nz, pz)),
        ("f32.max", ("f32", "f32"), "f32", (nz, pz)),
        ("f32.max", ("f32", "f32"), "f32", (pz, nz)),
        ("f32.min", ("f32", "f32"), "f32", (f32_bits(1.0), F32_SNAN)),
        ("f32.max", ("f32", "f32"), "f32", (0xFFC00000, f32_bits(1.0))),
        ("f32.min", ("f32", "f32"), "f32", (f32_bits(-1.0), f32_bits(2.0))),
        ("f64.min", ("f64", "f64"), "f64", (0, 1 << 63)),
        ("f64.max", ("f64", "f64"), "f64", (1 << 63, 0)),
        ("f64.max", ("f64", "f64"), "f64", (F64_SNAN, f64_bits(float("inf")))),
        ("f64.max", ("f64", "f64"), "f64", (f64_bits(-5.0), f64_bits(-7.0))),
    ]
    r = [bits for _, bits in _run_ops(tmp_path, table)]
    assert r[:4] == [nz, nz, pz, pz]
    assert is_canonical_nan("f32", r[4]) and is_canonical_nan("f32", r[5])
    assert r[6] == f32_bits(-1.0)
    assert r[7:9] == [1 << 63, 0]
    assert is_canonical_nan("f64", r[9])
    assert r[10] == f64_bits(-5.0)


def test_rounding(tmp_path):
    halfway = [0.5, 1.5, 2.5, -0.5, -2.5, 4503599627370497.0, -0.0]
    table = [("f64.nearest", ("f64",), "f64", (f64_bits(x),)) for x in halfway]
    table += [("f32.nearest", ("f32",), "f32", (f32_bits(x),)) for x in (0.5, 3.5, -1.5, 8388609.0)]
    table += [
        ("f32.ceil", ("f32",), "f32", (f32_bits(-0.5),)),
        ("f32.floor", ("f32",), "f32", (f32_bits(-0.5),)),
        ("f64.trunc", ("f64",), "f64", (f64_bits(-0.9),)),
        ("f64.floor", ("f64",), "f64", (f64_bits(0.25),)),
        ("f64.sqrt", ("f64",), "f64", (f64_bits(-0.0),)),
        ("f32.sqrt", ("f32",), "f32", (f32_bits(2.25),)),
    ]
    r = [bits for _, bits in _run_ops(tmp_path, table)]
    assert r[:7] == [f64_bits(x) for x in (0.0, 2.0, 2.0, -0.0, -2.0, 4503599627370497.0, -0.0)]
    assert r[7:11] == [f32_bits(x) for x in (0.0, 4.0, -2.0, 8388609.0)]
    assert r[11:] == [0x80000000, f32_bits(-1.0), 1 << 63, 0, 1 << 63, f32_bits(1.5)]


@pytest.mark.parametrize("opt", ["0", "2"])
def test_nan_results_are_arithmetic(tmp_path, opt):
    """Signalling NaNs come out quiet from every arithmetic op, canonical NaNs stay canonical."""
    unary = ["ceil", "floor", "trunc", "nearest", "sqrt"]
    binary = ["add", "sub", "mul", "div", "min", "max"]
    table = []
    for t, snan in (("f32", F32_SNAN), ("f64", F64_SNAN)):
        table += [(f"{t}.{op}", (t,), t, (snan,)) for op in unary]
        table += [(f"{t}.{op}", (t, t), t, (snan, snan)) for op in binary]
    results = _run_ops(tmp_path, table, opt)
    for (op, _, t, _), (code, bits) in zip(table, results):
        assert code == 0 and is_arithmetic_nan(t, bits), f"{op}: {bits:#x}"
    canon = [(f"f32.{op}", ("f32",), "f32", (0xFFC00000,)) for op in unary]
    canon.append(("f32.sqrt", ("f32",), "f32", (f32_bits(-1.0),)))
    canon.append(("f64.div", ("f64", "f64"), "f64", (0, 0)))
    (tmp_path / "canon").mkdir()
    for (op, _, t, _), (code, bits) in zip(canon, _run_ops(tmp_path / "canon", canon, opt)):
        assert is_canonical_nan(t, bits), f"{op}: {bits:#x}"


# The float_exprs.wast "no_fold" functions: identities LLVM would fold to `x` or `fneg x`,
# returning a signalling NaN unquieted.
NO_FOLD = [
    "({t}.add (local.get 0) ({t}.const -0.0))",
    "({t}.add ({t}.const -0.0) (local.get 0))",
    "({t}.add (local.get 0) ({t}.const 0.0))",
    "({t}.sub (local.get 0) ({t}.const 0.0))",
    "({t}.sub (local.get 0) ({t}.const -0.0))",
    "({t}.sub ({t}.const -0.0) (local.get 0))",
    "({t}.sub ({t}.const 0.0) (local.get 0))",
    "({t}.mul (local.get 0) ({t}.const 1.0))",
    "({t}.mul ({t}.const 1.0) (local.get 0))",
    "({t}.mul (local.get 0) ({t}.const -1.0))",
    "({t}.div (local.get 0) ({t}.const 1.0))",
    "({t}.div (local.get 0) ({t}.const -1.0))",
]


@pytest.mark.parametrize("opt", ["0", "2", "s"])
def test_identity_operations_still_quiet_signalling_nans(tmp_path, opt):
    funcs, calls = [], []
    for t, snan in (("f32", F32_SNAN), ("f64", F64_SNAN)):
        for body in NO_FOLD:
            funcs.append(Func(f"n{len(funcs)}", [t], t, body.format(t=t)))
            calls.append(Call(funcs[-1].name, (snan,)))
    results = run_calls(tmp_path, funcs, calls, opt=opt)
    for func, (code, bits) in zip(funcs, results):
        assert code == 0 and is_arithmetic_nan(func.result, bits), f"{func.body}: {bits:#x}"


def test_identity_operations_keep_their_values(tmp_path):
    """The barrier must not change results: x + -0 keeps -0, 0 - x flips the sign, ..."""
    funcs = [Func(f"n{i}", ["f32"], "f32", body.format(t="f32")) for i, body in enumerate(NO_FOLD)]
    xs = [0x80000000, f32_bits(3.0)]
    calls = [Call(f.name, (x,)) for f in funcs for x in xs]
    got = [bits for _, bits in run_calls(tmp_path, funcs, calls)]
    expected = [f32_bits(_eval_identity(body, x)) for body in NO_FOLD for x in (-0.0, 3.0)]
    assert got == expected


def _eval_identity(body: str, x: float) -> float:
    op = body.split()[0][len("({t}."):]
    const = float(body.split("const ")[1].split(")")[0])
    const_first = body.index("const") < body.index("local.get")
    a, b = (const, x) if const_first else (x, const)
    ops = {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b, "div": lambda: a / b}
    return ops[op]()


# --- the spec scripts with constant operands ------------------------------------------------------

SPEC_FILES = ["i32.wast", "i64.wast", "f32.wast", "f64.wast", "f32_bitwise.wast", "f64_bitwise.wast",
              "float_misc.wast"]


@pytest.mark.skipif(not spec_available(), reason="spec suite or wast2json not available")
@pytest.mark.parametrize("wast", SPEC_FILES)
def test_spec_assertions_constant_folded(tmp_path, wast):
    functions, failures = run_spec_opcodes_folded(tmp_path, wast, numeric.HANDLERS)
    assert functions, f"no single-opcode numeric functions found in {wast}"
    assert not failures, "\n".join(failures[:20])
