"""Lower locals, globals, drop and select.

Locals are entry-block allocas (mem2reg turns them into SSA values); globals
live in the instance (own ones) or behind a pointer the embedder supplied
(imported ones), reached through `ModuleContext.global_ptr`.
"""

from __future__ import annotations

from typing import Callable

from llvmlite import ir

from aot.lower import loop_ranges
from aot.lower.context import I32, FuncContext
from aot.wasm.module import Instr

Handler = Callable[[FuncContext, Instr], None]


def local_get(fctx: FuncContext, instr: Instr) -> None:
    value = fctx.builder.load(fctx.locals[instr.imm], name=f"local{instr.imm}")
    if loop_ranges.ENABLED:
        fctx.local_reads[id(value)] = fctx.instr_index  # when it was read, for aot/lower/loop_ranges.py
    fctx.push(value)


def local_set(fctx: FuncContext, instr: Instr) -> None:
    value = fctx.pop()
    fctx.builder.store(value, fctx.locals[instr.imm])
    if loop_ranges.ENABLED:
        fctx.local_writes[(instr.imm, fctx.instr_index)] = value


def local_tee(fctx: FuncContext, instr: Instr) -> None:
    value = fctx.pop()
    fctx.builder.store(value, fctx.locals[instr.imm])
    if loop_ranges.ENABLED:
        fctx.local_writes[(instr.imm, fctx.instr_index)] = value
    fctx.push(value)


def _global_ptr(fctx: FuncContext, index: int) -> ir.Value:
    return fctx.hoist(("global", index), lambda b: fctx.mctx.global_ptr(b, fctx.instance, index))


def global_get(fctx: FuncContext, instr: Instr) -> None:
    ptr = _global_ptr(fctx, instr.imm)
    fctx.push(fctx.mctx.tbaa(fctx.builder.load(ptr, name=f"global{instr.imm}"), "global"))


def global_set(fctx: FuncContext, instr: Instr) -> None:
    value = fctx.pop()
    ptr = _global_ptr(fctx, instr.imm)
    ordered = instr.imm == fctx.mctx.ordered_global
    if ordered:
        # The shadow-stack pointer of a module its immediate handlers interrupt (aot/shadow_stack.py):
        # this store must happen, and exactly here relative to the frame's accesses in linear memory,
        # because a handler entered between any two instructions pushes its frames below the value
        # it finds.  A compiler-only fence on each side (no instruction on any target) keeps every
        # memory access on its side, and a store before a fence is never dead.
        fctx.builder.fence("seq_cst", "singlethread")
    fctx.mctx.tbaa(fctx.builder.store(value, ptr), "global")
    if ordered:
        fctx.builder.fence("seq_cst", "singlethread")


def drop(fctx: FuncContext, instr: Instr) -> None:
    fctx.pop()


def select(fctx: FuncContext, instr: Instr) -> None:
    """`select` and typed `select t`: the operand types are the same either way."""
    builder = fctx.builder
    cond = fctx.pop()
    a, b = fctx.pop_n(2)
    is_true = builder.icmp_unsigned("!=", cond, ir.Constant(I32, 0), name="select.cond")
    fctx.push(builder.select(is_true, a, b, name="select"))


HANDLERS: dict[str, Handler] = {
    "local.get": local_get,
    "local.set": local_set,
    "local.tee": local_tee,
    "global.get": global_get,
    "global.set": global_set,
    "drop": drop,
    "select": select,
}
