"""Lower the conversion opcodes (wrap, extend, trunc, trunc_sat, convert, demote, promote,
reinterpret, and the sign-extension operators) to LLVM IR.

Trapping float-to-int truncations check the operand against the spec's exact
bounds: a NaN traps with INVALID_CONVERSION, and a value whose truncation
does not fit traps with INTEGER_OVERFLOW.  The bounds are exact float values
(e.g. i32.trunc_f32_s accepts exactly -2147483904 < x < 2147483648), compared
with float compares where the target's FPU computes the type and on the
float's integer image where it does not (soft float, f64 on a single-precision
FPU), so after the checks `fptosi`/`fptoui` are always defined.
Saturating truncations use `llvm.fpto[su]i.sat`, whose NaN -> 0 and clamping
match Wasm and which lower on every target (inline code or the libgcc
`__aeabi_*`/`__fix*` helpers, checked on thumbv6m, thumbv7em, thumbv8m, rv32).

demote/promote rely on the hardware or libgcc to quiet NaNs (every NaN
result must be arithmetic); LLVM would fold demote(promote x) back to x, so
that pair goes through the constant barrier of `numeric.py`.
"""

from __future__ import annotations

import struct

from llvmlite import ir

from aot.lower.context import I8, FuncContext
from aot.lower.numeric import (
    FLOAT_BITS_TYPE,
    FLOAT_TYPES,
    INFINITY_BITS,
    INT_TYPES,
    SIGN_MASK,
    Handler,
    float_const,
    intrinsic,
    opaque_float,
    trap_code,
)
from aot.wasm.module import Instr

I16 = ir.IntType(16)


def _exact_bits(ftype: str, value: int) -> int | None:
    """The IEEE bits of the integer `value` in `ftype`, or None if it is not exact."""
    fmt, ifmt = ("<f", "<I") if ftype == "f32" else ("<d", "<Q")
    try:
        packed = struct.pack(fmt, float(value))
    except OverflowError:
        return None
    if int(struct.unpack(fmt, packed)[0]) != value:
        return None
    return struct.unpack(ifmt, packed)[0]


def _trunc_bounds(ftype: str, width: int, signed: bool) -> tuple[str, int, int]:
    """(lower comparison, lower bound bits, exclusive upper bound bits) for a trapping trunc.

    The truncation of x fits iff x > MIN - 1 and x < MAX + 1.  MAX + 1 is a
    power of two (always exact).  MIN - 1 is -1 for unsigned; for signed it is
    exact only for f64 -> i32; otherwise the float just above it is MIN itself,
    so the test becomes x >= MIN.
    """
    if signed:
        upper = 1 << (width - 1)
        below = _exact_bits(ftype, -(1 << (width - 1)) - 1)
        if below is not None:
            return ">", below, _exact_bits(ftype, upper)  # type: ignore[return-value]
        return ">=", _exact_bits(ftype, -(1 << (width - 1))), _exact_bits(ftype, upper)  # type: ignore[return-value]
    return ">", _exact_bits(ftype, -1), _exact_bits(ftype, 1 << width)  # type: ignore[return-value]


def _trunc_trapping(itype: str, ftype: str, signed: bool) -> Handler:
    """Trapping truncation: float compares where the FPU computes `ftype`, else integer ones."""
    on_fpu = _trunc_checked_by_fpu(itype, ftype, signed)
    on_bits = _trunc_checked_on_bits(itype, ftype, signed)

    def lower(fctx: FuncContext, instr: Instr) -> None:
        if ftype in fctx.mctx.target.fpu_float_types:
            on_fpu(fctx, instr)
        else:
            on_bits(fctx, instr)

    return lower


def _trunc_checked_by_fpu(itype: str, ftype: str, signed: bool) -> Handler:
    """Trapping truncation, range-checked with one float compare on the fast path.

    The fast path is the compare C compilers guard float-to-int casts with
    (clang for wasm32 turns `(int) x` into `fabs(x) < 2^31 ? trunc(x) : MIN`):
    `|x| < 2^(w-1)` signed, `-1 < x < 2^w` unsigned.  Written the same way,
    LLVM sees the module's own guard dominating ours and deletes ours, so a
    checked C cast costs what the C costs.  Ordered compares are false for NaN,
    so NaN and the few exact edge values (x = -2^31 for f32, x in (-2^31-1,
    -2^31] for f64) take the cold path, which tests the spec's exact bounds.
    """
    ity = INT_TYPES[itype]
    fty = FLOAT_TYPES[ftype]
    lower_op, lower_bits, upper_bits = _trunc_bounds(ftype, ity.width, signed)
    lower_bound = float_const(ftype, lower_bits)
    upper_bound = float_const(ftype, upper_bits)

    def within_bounds(builder: ir.IRBuilder, value: ir.Value) -> ir.Value:
        """The spec's exact test: lower_op(x, lower) and x < upper (false for NaN)."""
        above = builder.fcmp_ordered(lower_op, value, lower_bound, name="trunc.above")
        below = builder.fcmp_ordered("<", value, upper_bound, name="trunc.below")
        return builder.and_(above, below, name="trunc.fits")

    def lower(fctx: FuncContext, instr: Instr) -> None:
        builder = fctx.builder
        value = fctx.pop()
        if signed:
            fabs = intrinsic(fctx, f"llvm.fabs.{ftype}", fty, [fty])
            magnitude = builder.call(fabs, [value], name="trunc.mag")
            fits = builder.fcmp_ordered("<", magnitude, upper_bound, name="trunc.fits")
        else:
            fits = within_bounds(builder, value)  # unsigned: the fast test is the exact one
        convert_block = builder.append_basic_block(name="trunc.convert")
        edge_block = builder.append_basic_block(name="trunc.edge")
        builder.cbranch(fits, convert_block, edge_block).set_weights([2000, 1])
        builder.position_at_end(edge_block)
        fctx.trap_if(builder.fcmp_unordered("uno", value, value, name="trunc.nan"),
                     trap_code("INVALID_CONVERSION"), name="trunc.notnan")
        exact = within_bounds(builder, value) if signed else fits
        fctx.trap_if(builder.not_(exact), trap_code("INTEGER_OVERFLOW"), name="trunc.inrange")
        builder.branch(convert_block)
        builder.position_at_end(convert_block)
        convert = builder.fptosi if signed else builder.fptoui
        fctx.push(convert(value, ity, name="trunc"))

    return lower


def _trunc_checked_on_bits(itype: str, ftype: str, signed: bool) -> Handler:
    """Trapping truncation, range-checked on the float's integer image.

    For a non-NaN float, comparing magnitudes (the bits without the sign) as
    unsigned integers orders values exactly, so `lower < x < upper` with
    lower < 0 < upper is: magnitude < |lower| for negative x (and -0), and
    magnitude < upper for positive x.  NaNs have magnitudes above infinity's.
    Integer compares instead of float ones: no `__aeabi_fcmp*` calls where
    the type has no FPU, and one select and one compare.
    """
    ity = INT_TYPES[itype]
    bits_ty = FLOAT_BITS_TYPE[ftype]
    sign_bit = SIGN_MASK[ftype]
    lower_op, lower_bits, upper_bits = _trunc_bounds(ftype, ity.width, signed)
    # Magnitude limits, exclusive: x >= MIN becomes magnitude < |MIN| + 1 ulp.
    neg_limit = (lower_bits & (sign_bit - 1)) + (1 if lower_op == ">=" else 0)
    pos_limit = upper_bits

    def lower(fctx: FuncContext, instr: Instr) -> None:
        builder = fctx.builder
        value = fctx.pop()
        image = builder.bitcast(value, bits_ty)
        magnitude = builder.and_(image, ir.Constant(bits_ty, sign_bit - 1), name="trunc.mag")
        is_nan = builder.icmp_unsigned(">", magnitude, ir.Constant(bits_ty, INFINITY_BITS[ftype]),
                                       name="trunc.nan")
        fctx.trap_if(is_nan, trap_code("INVALID_CONVERSION"), name="trunc.notnan")
        negative = builder.icmp_signed("<", image, ir.Constant(bits_ty, 0), name="trunc.neg")
        limit = builder.select(negative, ir.Constant(bits_ty, neg_limit), ir.Constant(bits_ty, pos_limit))
        too_big = builder.icmp_unsigned(">=", magnitude, limit, name="trunc.overflow")
        fctx.trap_if(too_big, trap_code("INTEGER_OVERFLOW"), name="trunc.inrange")
        convert = builder.fptosi if signed else builder.fptoui
        fctx.push(convert(value, ity, name="trunc"))

    return lower


def _trunc_saturating(itype: str, ftype: str, signed: bool) -> Handler:
    ity = INT_TYPES[itype]
    fty = FLOAT_TYPES[ftype]
    name = f"llvm.fpto{'s' if signed else 'u'}i.sat.{itype}.{ftype}"

    def lower(fctx: FuncContext, instr: Instr) -> None:
        fn = intrinsic(fctx, name, ity, [fty])
        fctx.push(fctx.builder.call(fn, [fctx.pop()], name="trunc_sat"))

    return lower


def _convert(ftype: str, signed: bool) -> Handler:
    """f32/f64.convert_i32/i64_s/u: correctly rounded (LLVM or libgcc __aeabi_l2f...)."""
    fty = FLOAT_TYPES[ftype]

    def lower(fctx: FuncContext, instr: Instr) -> None:
        convert = fctx.builder.sitofp if signed else fctx.builder.uitofp
        fctx.push(convert(fctx.pop(), fty, name="convert"))

    return lower


def _demote(fctx: FuncContext, instr: Instr) -> None:
    value = fctx.pop()
    if isinstance(value, ir.CastInstr) and value.opname == "fpext":
        # fptrunc(fpext x) folds to x, skipping the NaN quieting Wasm requires.
        value = opaque_float(fctx, "f64", value)
    fctx.push(fctx.builder.fptrunc(value, FLOAT_TYPES["f32"], name="demote"))


def _promote(fctx: FuncContext, instr: Instr) -> None:
    fctx.push(fctx.builder.fpext(fctx.pop(), FLOAT_TYPES["f64"], name="promote"))


def _reinterpret(to_type: ir.Type) -> Handler:
    def lower(fctx: FuncContext, instr: Instr) -> None:
        fctx.push(fctx.builder.bitcast(fctx.pop(), to_type, name="reinterpret"))

    return lower


def _wrap(fctx: FuncContext, instr: Instr) -> None:
    fctx.push(fctx.builder.trunc(fctx.pop(), INT_TYPES["i32"], name="wrap"))


def _extend_i32(signed: bool) -> Handler:
    def lower(fctx: FuncContext, instr: Instr) -> None:
        extend = fctx.builder.sext if signed else fctx.builder.zext
        fctx.push(extend(fctx.pop(), INT_TYPES["i64"], name="extend"))

    return lower


def _sign_extend(itype: str, narrow: ir.IntType) -> Handler:
    """i32.extend8_s etc.: sign-extend the low bits of a value of the same type."""
    ity = INT_TYPES[itype]

    def lower(fctx: FuncContext, instr: Instr) -> None:
        low = fctx.builder.trunc(fctx.pop(), narrow)
        fctx.push(fctx.builder.sext(low, ity, name=instr.op.split(".")[1]))

    return lower


def _build() -> dict[str, Handler]:
    table: dict[str, Handler] = {
        "i32.wrap_i64": _wrap,
        "i64.extend_i32_s": _extend_i32(signed=True),
        "i64.extend_i32_u": _extend_i32(signed=False),
        "f32.demote_f64": _demote,
        "f64.promote_f32": _promote,
        "i32.reinterpret_f32": _reinterpret(FLOAT_BITS_TYPE["f32"]),
        "i64.reinterpret_f64": _reinterpret(FLOAT_BITS_TYPE["f64"]),
        "f32.reinterpret_i32": _reinterpret(FLOAT_TYPES["f32"]),
        "f64.reinterpret_i64": _reinterpret(FLOAT_TYPES["f64"]),
        "i32.extend8_s": _sign_extend("i32", I8),
        "i32.extend16_s": _sign_extend("i32", I16),
        "i64.extend8_s": _sign_extend("i64", I8),
        "i64.extend16_s": _sign_extend("i64", I16),
        "i64.extend32_s": _sign_extend("i64", INT_TYPES["i32"]),
    }
    for itype in ("i32", "i64"):
        for ftype in ("f32", "f64"):
            for sign, signed in (("s", True), ("u", False)):
                table[f"{itype}.trunc_{ftype}_{sign}"] = _trunc_trapping(itype, ftype, signed)
                table[f"{itype}.trunc_sat_{ftype}_{sign}"] = _trunc_saturating(itype, ftype, signed)
    for ftype in ("f32", "f64"):
        for itype in ("i32", "i64"):
            for sign, signed in (("s", True), ("u", False)):
                table[f"{ftype}.convert_{itype}_{sign}"] = _convert(ftype, signed)
    return table


HANDLERS: dict[str, Handler] = _build()
