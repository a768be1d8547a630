"""Per-loop unrolling hints: at -O2, only loops that touch no memory are unrolled with a run-time count.

LLVM's runtime unrolling copies a loop whose trip count is known only at run
time and adds a remainder loop for the leftover iterations.  For a loop that
computes in registers, such as pid's control loop (one float step per
iteration, its count a parameter), that halves the loop overhead: -18 % of
its time on stm32f4.  For loops over memory it did not pay: the short
triangular loops of exact elimination (bareiss_int +5 %) and fft's butterfly
(+2 %) ran slower, since their set-up and remainder cost more on each entry
than the saved branches, and module flash grew by 13 % over the suite.  LLVM
has no option that tells the two apart, so every loop whose Wasm body has a
load, store, call or bulk-memory instruction carries
`llvm.loop.unroll.runtime.disable` on its back edges (aot/lower/control.py),
and `unroll-runtime` is on at -O2 (aot/emit.py `unroll_limits`).  -O3 keeps
LLVM's own choice everywhere; -Os and -Oz do not unroll.

A loop's metadata must be a distinct node whose first operand is itself.
llvmlite cannot build one, so `loop_id` makes an ordinary node that starts
with a marker string, and `finish_metadata` turns it into that shape when
the module is printed.
"""

from __future__ import annotations

import re

from llvmlite import ir

from aot.wasm.module import Instr

_MARKER = "waft.loop."
_MARKED = re.compile(r'^(!\d+) = !\{\s*!"' + re.escape(_MARKER) + r'\d+",\s*')
_TOUCHES_MEMORY = ("call", "call_indirect", "return_call", "return_call_indirect")


def touches_memory(body: list[Instr], start: int) -> bool:
    """Whether the loop opened at `body[start]` (nested loops included) loads, stores or calls."""
    depth = 0
    for instr in body[start + 1:]:
        op = instr.op
        if op in ("block", "loop", "if", "try", "try_table"):
            depth += 1
        elif op == "end":
            if depth == 0:
                return False
            depth -= 1
        elif ".load" in op or ".store" in op or op.startswith(("memory.", "table.")) or op in _TOUCHES_MEMORY \
                or ".atomic" in op:
            return True
    return False


def loop_id(mctx, body: list[Instr], start: int) -> ir.MDValue | None:
    """The `llvm.loop` node for the loop at `body[start]`: runtime unrolling off, at -O2 where it touches memory."""
    if mctx.opt != "2" or start < 0 or not touches_memory(body, start):
        return None
    mctx.loop_ids += 1
    disable = mctx.llmod.add_metadata([ir.MetaDataString(mctx.llmod, "llvm.loop.unroll.runtime.disable")])
    return mctx.llmod.add_metadata([ir.MetaDataString(mctx.llmod, f"{_MARKER}{mctx.loop_ids}"), disable])


def finish_metadata(lines: list[str]) -> list[str]:
    """The module's metadata lines with each loop node made distinct and self-referential."""
    return [_MARKED.sub(r"\1 = distinct !{\1, ", line) for line in lines]
