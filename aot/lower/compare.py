"""Lower the comparison opcodes (eq/ne/lt/gt/le/ge, signed, unsigned, float) to LLVM IR.

Every comparison yields the i32 0 or 1 Wasm uses for booleans.  Float
comparisons follow IEEE: all are *ordered* (false when either operand is NaN)
except `ne`, which is *unordered not-equal* (true when either is NaN), and
-0 == +0.  `eqz` is with the other unary integer ops in `numeric.py`.
"""

from __future__ import annotations

from aot.lower.context import FuncContext
from aot.lower.numeric import Handler, bool_to_i32
from aot.wasm.module import Instr


def _int_compare(op: str, signed: bool) -> Handler:
    def lower(fctx: FuncContext, instr: Instr) -> None:
        lhs, rhs = fctx.pop_n(2)
        builder = fctx.builder
        compare = builder.icmp_signed if signed else builder.icmp_unsigned
        fctx.push(bool_to_i32(fctx, compare(op, lhs, rhs, name=instr.op.split(".")[1])))

    return lower


def _float_compare(op: str) -> Handler:
    def lower(fctx: FuncContext, instr: Instr) -> None:
        lhs, rhs = fctx.pop_n(2)
        builder = fctx.builder
        name = instr.op.split(".")[1]
        if op == "!=":
            cond = builder.fcmp_unordered("!=", lhs, rhs, name=name)  # une: NaN != anything
        else:
            cond = builder.fcmp_ordered(op, lhs, rhs, name=name)  # oeq/olt/...: NaN -> false
        fctx.push(bool_to_i32(fctx, cond))

    return lower


def _build() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for itype in ("i32", "i64"):
        table[f"{itype}.eq"] = _int_compare("==", signed=False)
        table[f"{itype}.ne"] = _int_compare("!=", signed=False)
        for op, sym in (("lt", "<"), ("gt", ">"), ("le", "<="), ("ge", ">=")):
            table[f"{itype}.{op}_s"] = _int_compare(sym, signed=True)
            table[f"{itype}.{op}_u"] = _int_compare(sym, signed=False)
    for ftype in ("f32", "f64"):
        for op, sym in (("eq", "=="), ("ne", "!="), ("lt", "<"), ("gt", ">"),
                        ("le", "<="), ("ge", ">=")):
            table[f"{ftype}.{op}"] = _float_compare(sym)
    return table


HANDLERS: dict[str, Handler] = _build()
