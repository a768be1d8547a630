"""Lower the numeric opcodes (constants, integer and float arithmetic) to LLVM IR.

Covers `i32/i64/f32/f64.const`, integer add/sub/mul, div/rem (with the traps
the spec demands), bitwise ops, shifts and rotates, clz/ctz/popcnt, eqz, and
the float unary/binary operators.  Comparisons live in `compare.py`,
conversions in `convert.py`; both reuse the small helpers at the top of this
file (intrinsic declaration, trap codes, exact float constants, the constant
barrier).

The rules that make this exact on every target (host x86-64, Cortex-M with a
single-precision or no FPU, RV32 soft float):

* No fast-math flags anywhere.
* Float constants are built from their raw bits through an integer bitcast, so
  NaN payloads (signalling ones included) survive to the object file.
* abs/neg/copysign are pure bit operations on the integer image (the spec
  forbids them to touch a NaN's payload).
* min/max are compares and selects: `llvm.minimum`/`llvm.maximum` become
  calls to `fminimum`/`fmaximum` that newlib lacks on soft-float targets and
  crash LLVM's legaliser for f64 on a single-precision FPU (checked with
  LLVM 22).  A NaN result is the positive canonical NaN, which the spec
  allows for every arithmetic operator whatever its inputs.
* nearest is `llvm.rint` (ties-to-even in the default rounding mode Wasm code
  can never change): `llvm.roundeven` lowers to a `roundeven` libcall that
  arm-none-eabi newlib does not provide.  ceil/floor/trunc/sqrt lower to
  instructions or to `ceil`/`floor`/`trunc`/`sqrt`(`f`), all in newlib's libm;
  the rounding ops answer a NaN operand themselves (newlib's truncf does not
  quiet signalling NaNs).
* LLVM may treat signalling NaNs as quiet: it folds `x * 1.0`, `x / 1.0`,
  `x + -0.0`, `x - 0.0` to `x` and `-0.0 - x`, `x * -1.0` to `fneg x`, which
  would hand a signalling NaN back unquieted where Wasm requires an
  arithmetic (quiet) NaN.  Such identity constants are passed through an
  empty inline-asm "barrier" so LLVM cannot see their value; the arithmetic
  then really happens and quiets the NaN as the hardware or libgcc does.
  (Constants that only become visible after mem2reg or inlining are not
  covered; the spec tests write them inline.)
"""

from __future__ import annotations

import struct
from typing import Callable

from llvmlite import ir

from aot.abi import TRAP_CODES
from aot.lower.context import F32, F64, I1, I32, I64, FuncContext
from aot.wasm.module import Instr

Handler = Callable[[FuncContext, Instr], None]

INT_TYPES: dict[str, ir.IntType] = {"i32": I32, "i64": I64}
FLOAT_TYPES: dict[str, ir.Type] = {"f32": F32, "f64": F64}
# The integer type with the same width as each float type (for bit tricks).
FLOAT_BITS_TYPE: dict[str, ir.IntType] = {"f32": I32, "f64": I64}
SIGN_MASK: dict[str, int] = {"f32": 1 << 31, "f64": 1 << 63}
CANONICAL_NAN: dict[str, int] = {"f32": 0x7FC00000, "f64": 0x7FF8000000000000}
INFINITY_BITS: dict[str, int] = {"f32": 0x7F800000, "f64": 0x7FF0000000000000}


# --- helpers shared by numeric.py, compare.py and convert.py ------------------


def trap_code(name: str) -> int:
    """The runtime's number for a trap, by its waft.h name (e.g. "INTEGER_OVERFLOW")."""
    return TRAP_CODES[name]


def intrinsic(fctx: FuncContext, name: str, ret: ir.Type, args: list[ir.Type]) -> ir.Function:
    """Declare (once per module) and return an LLVM intrinsic or libcall.

    llvmlite's `declare_intrinsic` knows only a few overloads (and gives
    `llvm.fshl` the wrong arity), so the declaration is written out here.
    """
    module = fctx.function.module
    existing = module.globals.get(name)
    if existing is not None:
        return existing
    return ir.Function(module, ir.FunctionType(ret, args), name=name)


def float_const(ftype: str, bits: int) -> ir.Constant:
    """An f32/f64 constant with exactly these IEEE bits (NaN payloads kept).

    `ir.Constant(FloatType(), python_float)` would round-trip through a
    Python double and lose signalling-NaN payloads; a bitcast of the integer
    image does not.  The bits are remembered on the object so the identity
    barrier below can recognise constants.
    """
    width = 32 if ftype == "f32" else 64
    bits &= (1 << width) - 1
    const = ir.Constant(FLOAT_BITS_TYPE[ftype], bits).bitcast(FLOAT_TYPES[ftype])
    const.waft_float_bits = bits  # type: ignore[attr-defined]
    return const


def _const_bits(ftype: str, value: ir.Value) -> int | None:
    """The bits of a float constant operand, or None when it is not a constant."""
    bits = getattr(value, "waft_float_bits", None)
    if bits is not None:
        return bits
    if isinstance(value, ir.Constant) and isinstance(value.constant, float):
        return _float_bits_of(ftype, value.constant)  # e.g. a zero from another family
    return None


def _float_bits_of(ftype: str, value: float) -> int:
    fmt, ifmt = ("<f", "<I") if ftype == "f32" else ("<d", "<Q")
    return struct.unpack(ifmt, struct.pack(fmt, value))[0]


def _opaque_i32(builder: ir.IRBuilder, value: ir.Value) -> ir.Value:
    """`value`, through an empty asm statement LLVM cannot look into."""
    asm = ir.InlineAsm(ir.FunctionType(I32, [I32]), "", "=r,0", side_effect=False)
    # readnone: without it LLVM assumes the asm touches memory, which would stop
    # loads and bounds checks from being hoisted or merged across it.
    return builder.call(asm, [value], name="opaque", attrs=("readnone", "nounwind"))


def opaque_float(fctx: FuncContext, ftype: str, value: ir.Value) -> ir.Value:
    """`value` (f32/f64) made invisible to LLVM's algebraic folds.

    Only the high 32 bits need hiding: no fold can match a constant whose
    sign and exponent are unknown.  Works on every backend (an "r" operand of
    type i32 exists everywhere).
    """
    builder = fctx.builder
    if ftype == "f32":
        bits = builder.bitcast(value, I32)
        return builder.bitcast(_opaque_i32(builder, bits), F32)
    bits = builder.bitcast(value, I64)
    low = builder.and_(bits, ir.Constant(I64, 0xFFFFFFFF))
    high = builder.trunc(builder.lshr(bits, ir.Constant(I64, 32)), I32)
    high = builder.zext(_opaque_i32(builder, high), I64)
    joined = builder.or_(builder.shl(high, ir.Constant(I64, 32)), low)
    return builder.bitcast(joined, F64)


# The constants that let LLVM fold an operation into `x` or `fneg x` (and so skip
# quieting a signalling NaN), by LLVM method and operand position.
_FOLDABLE: dict[tuple[str, int], tuple[float, ...]] = {
    ("fadd", 0): (0.0, -0.0), ("fadd", 1): (0.0, -0.0),  # x + -0 -> x; x + 0 -> x (x not -0)
    ("fsub", 0): (0.0, -0.0), ("fsub", 1): (0.0, -0.0),  # -0 - x -> fneg x; x - 0 -> x
    ("fmul", 0): (1.0, -1.0), ("fmul", 1): (1.0, -1.0),  # x * 1 -> x; x * -1 -> fneg x
    ("fdiv", 1): (1.0, -1.0),                            # x / 1 -> x; x / -1 -> fneg x
}


def _needs_barrier(method: str, position: int, ftype: str, value: ir.Value) -> bool:
    """Is `value` a constant that lets LLVM drop this operation's NaN quieting?"""
    bits = _const_bits(ftype, value)
    if bits is None:
        return False
    return bits in {_float_bits_of(ftype, v) for v in _FOLDABLE.get((method, position), ())}


def bool_to_i32(fctx: FuncContext, cond: ir.Value) -> ir.Value:
    """An i1 as the i32 0/1 Wasm uses for booleans."""
    return fctx.builder.zext(cond, I32)


# --- constants -----------------------------------------------------------------


def _int_const(itype: str) -> Handler:
    llty = INT_TYPES[itype]
    width = llty.width

    def lower(fctx: FuncContext, instr: Instr) -> None:
        value = int(instr.imm) & ((1 << width) - 1)
        fctx.push(ir.Constant(llty, value))

    return lower


def _float_const(ftype: str) -> Handler:
    def lower(fctx: FuncContext, instr: Instr) -> None:
        fctx.push(float_const(ftype, int(instr.imm)))

    return lower


# --- integer arithmetic ----------------------------------------------------------


def _int_binary(method: str) -> Handler:
    """add/sub/mul/and/or/xor: one IRBuilder method, wrapping semantics."""

    def lower(fctx: FuncContext, instr: Instr) -> None:
        lhs, rhs = fctx.pop_n(2)
        fctx.push(getattr(fctx.builder, method)(lhs, rhs, name=instr.op.split(".")[1]))

    return lower


def _int_shift(method: str, itype: str) -> Handler:
    """shl/shr_s/shr_u: Wasm takes the count modulo the width; LLVM would make poison."""
    llty = INT_TYPES[itype]
    mask = ir.Constant(llty, llty.width - 1)

    def lower(fctx: FuncContext, instr: Instr) -> None:
        value, count = fctx.pop_n(2)
        if isinstance(count, ir.Constant) and isinstance(count.constant, int):
            # A constant count stays a constant: the address lowering recognises `i << 2`
            # as a scaled index (memory.access_pointer).
            count = ir.Constant(llty, count.constant & (llty.width - 1))
        else:
            count = fctx.builder.and_(count, mask, name="shift.count")
        fctx.push(getattr(fctx.builder, method)(value, count, name=instr.op.split(".")[1]))

    return lower


def _int_rotate(funnel: str, itype: str) -> Handler:
    """rotl/rotr: a funnel shift of the value with itself (count taken modulo width)."""
    llty = INT_TYPES[itype]

    def lower(fctx: FuncContext, instr: Instr) -> None:
        value, count = fctx.pop_n(2)
        fn = intrinsic(fctx, f"llvm.{funnel}.{itype}", llty, [llty, llty, llty])
        fctx.push(fctx.builder.call(fn, [value, value, count], name=instr.op.split(".")[1]))

    return lower


def _int_count(kind: str, itype: str) -> Handler:
    """clz/ctz/popcnt: zero input is defined (is_zero_poison = false)."""
    llty = INT_TYPES[itype]

    def lower(fctx: FuncContext, instr: Instr) -> None:
        value = fctx.pop()
        if kind == "ctpop":
            fn = intrinsic(fctx, f"llvm.ctpop.{itype}", llty, [llty])
            result = fctx.builder.call(fn, [value], name="popcnt")
        else:
            fn = intrinsic(fctx, f"llvm.{kind}.{itype}", llty, [llty, I1])
            result = fctx.builder.call(fn, [value, ir.Constant(I1, 0)], name=kind)
        fctx.push(result)

    return lower


def _int_eqz(itype: str) -> Handler:
    zero = ir.Constant(INT_TYPES[itype], 0)

    def lower(fctx: FuncContext, instr: Instr) -> None:
        value = fctx.pop()
        fctx.push(bool_to_i32(fctx, fctx.builder.icmp_unsigned("==", value, zero, name="eqz")))

    return lower


def _int_divrem(kind: str, itype: str) -> Handler:
    """div_s/div_u/rem_s/rem_u with the spec's traps.

    All four trap on a zero divisor; div_s also traps on INT_MIN / -1 (the
    quotient does not fit).  rem_s of INT_MIN by -1 is 0, but LLVM's `srem`
    is undefined there (x86 `idiv` faults), so a -1 divisor is replaced by 1:
    any x % 1 == 0 == any x % -1.
    """
    llty = INT_TYPES[itype]
    width = llty.width
    zero = ir.Constant(llty, 0)
    minus_one = ir.Constant(llty, (1 << width) - 1)
    one = ir.Constant(llty, 1)
    int_min = ir.Constant(llty, 1 << (width - 1))

    def lower(fctx: FuncContext, instr: Instr) -> None:
        builder = fctx.builder
        lhs, rhs = fctx.pop_n(2)
        is_zero = builder.icmp_unsigned("==", rhs, zero, name="div.zero")
        fctx.trap_if(is_zero, trap_code("INTEGER_DIVIDE_BY_ZERO"), name="div.nonzero")
        if kind == "div_s":
            overflow = builder.and_(
                builder.icmp_unsigned("==", lhs, int_min),
                builder.icmp_unsigned("==", rhs, minus_one),
                name="div.overflow",
            )
            fctx.trap_if(overflow, trap_code("INTEGER_OVERFLOW"), name="div.fits")
            result = builder.sdiv(lhs, rhs, name="div_s")
        elif kind == "div_u":
            result = builder.udiv(lhs, rhs, name="div_u")
        elif kind == "rem_s":
            is_minus_one = builder.icmp_unsigned("==", rhs, minus_one)
            safe_rhs = builder.select(is_minus_one, one, rhs, name="rem.divisor")
            result = builder.srem(lhs, safe_rhs, name="rem_s")
        else:
            result = builder.urem(lhs, rhs, name="rem_u")
        fctx.push(result)

    return lower


# --- float arithmetic ------------------------------------------------------------


def _float_binary(method: str, ftype: str) -> Handler:
    """add/sub/mul/div: plain IEEE ops; identity constants go through the barrier."""

    def lower(fctx: FuncContext, instr: Instr) -> None:
        lhs, rhs = fctx.pop_n(2)
        if _needs_barrier(method, 0, ftype, lhs):
            lhs = opaque_float(fctx, ftype, lhs)
        if _needs_barrier(method, 1, ftype, rhs):
            rhs = opaque_float(fctx, ftype, rhs)
        fctx.push(getattr(fctx.builder, method)(lhs, rhs, name=instr.op.split(".")[1]))

    return lower


def _float_sign_op(kind: str, ftype: str) -> Handler:
    """abs/neg/copysign on the integer image: never touches a NaN's payload."""
    ity = FLOAT_BITS_TYPE[ftype]
    fty = FLOAT_TYPES[ftype]
    sign = ir.Constant(ity, SIGN_MASK[ftype])
    magnitude = ir.Constant(ity, SIGN_MASK[ftype] - 1)

    def lower(fctx: FuncContext, instr: Instr) -> None:
        builder = fctx.builder
        if kind == "copysign":
            lhs, rhs = fctx.pop_n(2)
            mag = builder.and_(builder.bitcast(lhs, ity), magnitude)
            sgn = builder.and_(builder.bitcast(rhs, ity), sign)
            bits = builder.or_(mag, sgn, name="copysign.bits")
        else:
            bits = builder.bitcast(fctx.pop(), ity)
            if kind == "abs":
                bits = builder.and_(bits, magnitude, name="abs.bits")
            else:
                bits = builder.xor(bits, sign, name="neg.bits")
        fctx.push(builder.bitcast(bits, fty, name=kind))

    return lower


def is_nan_bits(fctx: FuncContext, ftype: str, value: ir.Value) -> ir.Value:
    """i1: `value` is a NaN, tested on its integer image (no float compare libcall)."""
    builder = fctx.builder
    ity = FLOAT_BITS_TYPE[ftype]
    magnitude = builder.and_(builder.bitcast(value, ity), ir.Constant(ity, SIGN_MASK[ftype] - 1))
    infinity = INFINITY_BITS[ftype]
    return builder.icmp_unsigned(">", magnitude, ir.Constant(ity, infinity), name="isnan")


def _float_unary_intrinsic(name: str, ftype: str, quiet_nan: bool) -> Handler:
    """ceil/floor/trunc/nearest/sqrt through an LLVM intrinsic (instruction or libm call).

    With `quiet_nan`, a NaN operand gives the canonical NaN without asking
    the library: arm-none-eabi newlib's `truncf` returns a signalling NaN
    unchanged (seen on cortex-m0plus), where Wasm needs an arithmetic NaN.
    """
    fty = FLOAT_TYPES[ftype]

    def lower(fctx: FuncContext, instr: Instr) -> None:
        value = fctx.pop()
        fn = intrinsic(fctx, f"llvm.{name}.{ftype}", fty, [fty])
        result = fctx.builder.call(fn, [value], name=instr.op.split(".")[1])
        if quiet_nan:
            nan = float_const(ftype, CANONICAL_NAN[ftype])
            result = fctx.builder.select(is_nan_bits(fctx, ftype, value), nan, result)
        fctx.push(result)

    return lower


def _float_minmax(kind: str, ftype: str) -> Handler:
    """min/max: NaN if either is NaN, and -0 < +0 (explicit; see module docstring).

    Only the ordering test is a float compare; NaN and equality are decided
    on the integer images (equal images, or both zeros), which costs a few
    integer instructions on an FPU and saves two compare calls on soft-float
    cores.  Equal operands are merged bitwise: OR of the images gives -0 for
    min(+0, -0), AND gives +0 for max; any other equal pair has one image.
    """
    ity = FLOAT_BITS_TYPE[ftype]
    fty = FLOAT_TYPES[ftype]
    magnitude_mask = ir.Constant(ity, SIGN_MASK[ftype] - 1)

    def lower(fctx: FuncContext, instr: Instr) -> None:
        builder = fctx.builder
        lhs, rhs = fctx.pop_n(2)
        lbits, rbits = builder.bitcast(lhs, ity), builder.bitcast(rhs, ity)
        either_nan = builder.or_(is_nan_bits(fctx, ftype, lhs), is_nan_bits(fctx, ftype, rhs),
                                 name=f"{kind}.nan")
        both_zero = builder.icmp_unsigned("==", builder.and_(builder.or_(lbits, rbits), magnitude_mask),
                                          ir.Constant(ity, 0))
        equal = builder.or_(builder.icmp_unsigned("==", lbits, rbits), both_zero, name=f"{kind}.eq")
        merged = builder.or_(lbits, rbits) if kind == "min" else builder.and_(lbits, rbits)
        first = builder.fcmp_ordered("<" if kind == "min" else ">", lhs, rhs, name=f"{kind}.lhs")
        picked = builder.select(first, lhs, rhs)
        picked = builder.select(equal, builder.bitcast(merged, fty), picked)
        nan = float_const(ftype, CANONICAL_NAN[ftype])
        fctx.push(builder.select(either_nan, nan, picked, name=kind))

    return lower


# --- the table -----------------------------------------------------------------------


def _build() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for itype in ("i32", "i64"):
        table[f"{itype}.const"] = _int_const(itype)
        for op, method in (("add", "add"), ("sub", "sub"), ("mul", "mul"),
                           ("and", "and_"), ("or", "or_"), ("xor", "xor")):
            table[f"{itype}.{op}"] = _int_binary(method)
        for op, method in (("shl", "shl"), ("shr_s", "ashr"), ("shr_u", "lshr")):
            table[f"{itype}.{op}"] = _int_shift(method, itype)
        table[f"{itype}.rotl"] = _int_rotate("fshl", itype)
        table[f"{itype}.rotr"] = _int_rotate("fshr", itype)
        table[f"{itype}.clz"] = _int_count("ctlz", itype)
        table[f"{itype}.ctz"] = _int_count("cttz", itype)
        table[f"{itype}.popcnt"] = _int_count("ctpop", itype)
        table[f"{itype}.eqz"] = _int_eqz(itype)
        for op in ("div_s", "div_u", "rem_s", "rem_u"):
            table[f"{itype}.{op}"] = _int_divrem(op, itype)
    for ftype in ("f32", "f64"):
        table[f"{ftype}.const"] = _float_const(ftype)
        for op, method in (("add", "fadd"), ("sub", "fsub"), ("mul", "fmul"), ("div", "fdiv")):
            table[f"{ftype}.{op}"] = _float_binary(method, ftype)
        for op in ("abs", "neg", "copysign"):
            table[f"{ftype}.{op}"] = _float_sign_op(op, ftype)
        for op, name in (("ceil", "ceil"), ("floor", "floor"), ("trunc", "trunc"), ("nearest", "rint")):
            table[f"{ftype}.{op}"] = _float_unary_intrinsic(name, ftype, quiet_nan=True)
        # sqrt is an instruction or newlib's sqrt(f), which quiet NaNs (checked on cortex-m0plus).
        table[f"{ftype}.sqrt"] = _float_unary_intrinsic("sqrt", ftype, quiet_nan=False)
        table[f"{ftype}.min"] = _float_minmax("min", ftype)
        table[f"{ftype}.max"] = _float_minmax("max", ftype)
    return table


HANDLERS: dict[str, Handler] = _build()
