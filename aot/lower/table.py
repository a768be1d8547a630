"""Lower tables and references: table.get/set/size/grow/fill/copy/init, elem.drop, ref.null/is_null/func.

A table is a `waft_table` (elements are `const waft_func *` or `void *`);
get and set check the index against the current size inline and trap with
TABLE_OUT_OF_BOUNDS; the bulk operations call the runtime, which checks
and traps the same way.  Element segments were evaluated into the instance
at initialize (`ModuleContext.elem_storage`); a dropped one is passed as
empty.
"""

from __future__ import annotations

from typing import Callable

from llvmlite import ir

from aot import abi
from aot.lower import bulk
from aot.lower.context import I32, PTR, FuncContext
from aot.wasm.module import Instr

Handler = Callable[[FuncContext, Instr], None]


def _desc(fctx: FuncContext, index: int) -> ir.Value:
    return bulk.desc(fctx, "table", index)


def _member(fctx: FuncContext, index: int, member: str) -> ir.Value:
    """Pointer to a field of table `index`'s descriptor (computed once per function)."""
    return bulk.member(fctx, "table", index, member)


def element_slot(fctx: FuncContext, table_index: int, index: ir.Value, trap: str) -> ir.Value:
    """Pointer (i8**) to entry `index`, after trapping with `trap` if index >= size."""
    mctx, builder = fctx.mctx, fctx.builder
    size = mctx.tbaa(builder.load(_member(fctx, table_index, "size"), name="table.size"), "descriptor")
    fctx.trap_if(builder.icmp_unsigned(">=", index, size, name="table.oob"), abi.TRAP_CODES[trap], name="table")
    elems = mctx.tbaa(builder.load(_member(fctx, table_index, "elems"), name="table.elems"), "descriptor")
    elems = builder.bitcast(elems, PTR.as_pointer())
    return builder.gep(elems, [builder.zext(index, mctx.intptr)], name="table.slot")


def table_get(fctx: FuncContext, instr: Instr) -> None:
    slot = element_slot(fctx, instr.imm, fctx.pop(), "TABLE_OUT_OF_BOUNDS")
    fctx.push(fctx.mctx.tbaa(fctx.builder.load(slot, name="table.elem"), "table"))


def table_set(fctx: FuncContext, instr: Instr) -> None:
    index, value = fctx.pop_n(2)
    slot = element_slot(fctx, instr.imm, index, "TABLE_OUT_OF_BOUNDS")
    fctx.mctx.tbaa(fctx.builder.store(value, slot), "table")


def table_size(fctx: FuncContext, instr: Instr) -> None:
    mctx, builder = fctx.mctx, fctx.builder
    size = builder.load(_member(fctx, instr.imm, "size"), name="table.size")
    fctx.push(mctx.tbaa(size, "descriptor"))


def table_grow(fctx: FuncContext, instr: Instr) -> None:
    init, delta = fctx.pop_n(2)
    grow = fctx.mctx.runtime_function("waft_table_grow")
    fctx.push(fctx.builder.call(grow, [_desc(fctx, instr.imm), delta, init], name="table.grow"))


def table_fill(fctx: FuncContext, instr: Instr) -> None:
    bulk.fill(fctx, "table", instr.imm)


def table_copy(fctx: FuncContext, instr: Instr) -> None:
    dst_table, src_table = instr.imm
    bulk.copy(fctx, "table", dst_table, src_table)


def table_init(fctx: FuncContext, instr: Instr) -> None:
    elem_index, table_index = instr.imm
    mctx = fctx.mctx
    storage = mctx.elem_storage(fctx.builder, fctx.instance, elem_index)
    bulk.init(fctx, "table", "elem", elem_index, table_index, storage, len(mctx.module.elems[elem_index].init))


def elem_drop(fctx: FuncContext, instr: Instr) -> None:
    bulk.segment_drop(fctx, "elem", instr.imm)


def ref_null(fctx: FuncContext, instr: Instr) -> None:
    fctx.push(ir.Constant(PTR, None))


def ref_is_null(fctx: FuncContext, instr: Instr) -> None:
    builder = fctx.builder
    is_null = builder.icmp_unsigned("==", fctx.pop(), ir.Constant(PTR, None), name="is_null")
    fctx.push(builder.zext(is_null, I32))


def ref_func(fctx: FuncContext, instr: Instr) -> None:
    fctx.push(fctx.hoist(("func", instr.imm), lambda b: fctx.mctx.func_ref(b, fctx.instance, instr.imm)))


HANDLERS: dict[str, Handler] = {
    "table.get": table_get,
    "table.set": table_set,
    "table.size": table_size,
    "table.grow": table_grow,
    "table.fill": table_fill,
    "table.copy": table_copy,
    "table.init": table_init,
    "elem.drop": elem_drop,
    "ref.null": ref_null,
    "ref.is_null": ref_is_null,
    "ref.func": ref_func,
}
