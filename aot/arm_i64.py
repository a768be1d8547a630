"""64-bit doubling on 32-bit Arm: `x << 1` as `x + x`, after the optimiser, so it becomes `adds`/`adc`.

LLVM's optimiser writes `x + x` as `shl i64 x, 1` and `(x << 1) | (y >> 63)`
as `llvm.fshl.i64(x, y, 1)`; its 32-bit Arm code generator then splits the
shift into three instructions (`lsls`, `orr ... lsr #31`, `lsls`), the funnel
shift into four, where `add i64 x, x` is two (`adds`, `adc`: the carry moves
the bit across) and the funnel shift three with an `orr ... lsr #31` for y's
top bit.  GCC emits the add-with-carry form; shift-and-add loops of 64-bit
arithmetic on 32-bit cores (Montgomery multiplication, CRC-64, bit-serial
division, software floating point) are made of these.  No pass runs between
this rewrite and instruction selection that would turn the additions back
into shifts, and the two forms compute the same value (a shift by one is a
doubling; `nuw`/`nsw` mean the same on both).
"""

from __future__ import annotations

import re

_VALUE = r'(?:%[-\w.$]+|%"[^"]+"|-?\d+)'
_SHL_BY_ONE = re.compile(rf"^(\s+({_VALUE}) = )shl((?: nuw)?(?: nsw)?) i64 ({_VALUE}), 1$")
_DEFINITION = re.compile(r"^\s+(\S+) = (.*)$")
_BIT_ASSEMBLY = ("or ", "or disjoint ", "tail call i64 @llvm.fshl.i64(", "call i64 @llvm.fshl.i64(")
_OPERAND = re.compile(r'%[-\w.$]+|%"[^"]+"')
_FUNNEL_BY_ONE = re.compile(
    rf"^(\s+)({_VALUE}) = (?:tail )?call i64 @llvm\.fshl\.i64\(i64 ({_VALUE}), i64 ({_VALUE}), i64 1\)(?: #\d+)?$")
_ANY = re.compile(r"shl(?: nuw)?(?: nsw)? i64 [^\n,]+, 1\n|call i64 @llvm\.fshl\.i64\(")


def double_with_carry(ir_text: str) -> str:
    """`ir_text` with i64 shifts left by one written as additions (see the module docstring).

    A plain shift is rewritten only where every use assembles bits (`or`, or
    the funnel shift above): an `add`, `sub` or `and` of the shifted value
    folds the shift into its own shifted operand (`adds.w rD, rN, rM, lsl #1`
    and `adcs.w ... lsr #31`), which the addition form would lose (stm32f4's
    montmul64: +9 % when every shift was rewritten).  Returns `ir_text`
    itself when there is nothing to rewrite.
    """
    if not _ANY.search(ir_text):
        return ir_text
    lines = ir_text.splitlines()
    shifted = {m.group(2) for line in lines if (m := _SHL_BY_ONE.match(line))}
    for line in lines:
        m = _DEFINITION.match(line)
        if m is None or m.group(2).startswith(_BIT_ASSEMBLY):
            continue
        shifted.difference_update(_OPERAND.findall(m.group(2)))
    out: list[str] = []
    fresh = 0
    for line in lines:
        m = _SHL_BY_ONE.match(line)
        if m and m.group(2) in shifted:
            head, _, flags, x = m.groups()
            out.append(f"{head}add{flags} i64 {x}, {x}")
            continue
        m = _FUNNEL_BY_ONE.match(line)
        if m:
            indent, result, x, y = m.groups()
            doubled, top = f'%"waft.i64.double.{fresh}"', f'%"waft.i64.top.{fresh}"'
            fresh += 1
            out += [f"{indent}{doubled} = add i64 {x}, {x}", f"{indent}{top} = lshr i64 {y}, 63",
                    f"{indent}{result} = or disjoint i64 {doubled}, {top}"]
            continue
        out.append(line)
    return "\n".join(out) + "\n"
