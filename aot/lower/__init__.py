"""Wasm-to-LLVM lowering: the dispatch table from opcode to handler, and the body loop.

Every family module (`numeric`, `compare`, `convert`, `control`, `call`,
`memory`, `atomic`, `table`, `variable`) exports `HANDLERS: dict[str, handler]`; the
table is merged once, here, and a name claimed by two families is an error at
import time.  `lower_body` feeds a function's instructions to their handlers,
skipping dead code after br/return/unreachable (`control.skip_unreachable`).
The module driver lives in `aot/lower/module.py`.
"""

from __future__ import annotations

from typing import Callable

from aot.errors import UnsupportedError
from aot.lower import atomic, call, compare, control, convert, memory, numeric, table, variable
from aot.lower.context import FuncContext
from aot.wasm.module import Instr

Handler = Callable[[FuncContext, Instr], None]

_FAMILIES = (control, call, memory, atomic, table, variable, numeric, compare, convert)

_SIMD_PREFIXES = ("v128", "i8x16", "i16x8", "i32x4", "i64x2", "f32x4", "f64x2")


def _build_dispatch() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for family in _FAMILIES:
        for op, handler in family.HANDLERS.items():
            if op in table:
                raise RuntimeError(f"opcode {op} has two lowerings ({family.__name__} and another family)")
            table[op] = handler
    return table


DISPATCH: dict[str, Handler] = _build_dispatch()


def lower_body(fctx: FuncContext, body: list[Instr]) -> None:
    """Lower a function body (ending with its final `end`) into `fctx.function`."""
    fctx.body = body
    index = -1
    while index + 1 < len(body):
        index += 1
        if fctx.resume_at is not None:  # a versioned loop's second copy (aot/lower/control.py)
            index, fctx.resume_at = fctx.resume_at, None
        instr = body[index]
        fctx.instr = instr
        fctx.instr_index = index
        if not fctx.reachable and control.skip_unreachable(fctx, instr):
            continue
        handler = DISPATCH.get(instr.op)
        if handler is None:
            what = "SIMD instruction" if instr.op.startswith(_SIMD_PREFIXES) else "instruction"
            raise UnsupportedError(f'{what} "{instr.op}" has no lowering yet', section="code",
                                   func_index=fctx.func_index, offset=instr.offset)
        handler(fctx, instr)
