"""Shared lowering for the bulk operations that memories and tables have in common.

memory.fill/copy/init and data.drop have the same shape as
table.fill/copy/init and elem.drop: each passes the descriptor(s) to a
`waft_<kind>_<op>` runtime helper (which bounds-checks and traps), and a
dropped segment is passed as an empty one.  Keeping one version here means
the two families cannot drift apart.
"""

from __future__ import annotations

from llvmlite import ir

from aot.lower.context import I8, I32, PTR, FuncContext


def desc(fctx: FuncContext, kind: str, index: int) -> ir.Value:
    """i8* to memory or table `index`'s descriptor (`kind` "memory"/"table"; computed once per function)."""
    get = fctx.mctx.memory_desc if kind == "memory" else fctx.mctx.table_desc
    return fctx.hoist((kind, index), lambda b: b.bitcast(get(b, fctx.instance, index), PTR))


def member(fctx: FuncContext, kind: str, index: int, name: str) -> ir.Value:
    """Pointer to field `name` of memory or table `index`'s descriptor (computed once per function)."""
    get = fctx.mctx.memory_member if kind == "memory" else fctx.mctx.table_member
    return fctx.hoist((kind, index, name), lambda b: get(b, fctx.instance, index, name))


def fill(fctx: FuncContext, kind: str, index: int) -> None:
    """`<kind>.fill`: pops dst, value, n and calls waft_<kind>_fill."""
    dst, value, n = fctx.pop_n(3)
    fctx.builder.call(fctx.mctx.runtime_function(f"waft_{kind}_fill"), [desc(fctx, kind, index), dst, value, n])


def copy(fctx: FuncContext, kind: str, dst_index: int, src_index: int) -> None:
    """`<kind>.copy`: pops dst, src, n and calls waft_<kind>_copy(dst desc, dst, src desc, src, n)."""
    dst, src, n = fctx.pop_n(3)
    fctx.builder.call(fctx.mctx.runtime_function(f"waft_{kind}_copy"),
                      [desc(fctx, kind, dst_index), dst, desc(fctx, kind, src_index), src, n])


def init(fctx: FuncContext, kind: str, segment: str, segment_index: int, target_index: int,
         storage: ir.Value, length: int) -> None:
    """`memory.init` / `table.init`: pops dst, src, n and calls
    waft_<kind>_init(desc, dst, storage, length (0 once dropped), src, n)."""
    dst, src, n = fctx.pop_n(3)
    seg_len = segment_length(fctx, segment, segment_index, length)
    fctx.builder.call(fctx.mctx.runtime_function(f"waft_{kind}_init"),
                      [desc(fctx, kind, target_index), dst, storage, seg_len, src, n])


def segment_length(fctx: FuncContext, segment: str, index: int, length: int) -> ir.Value:
    """i32 length of data or element segment `index` (`segment` "data"/"elem"): 0 once dropped.

    A dropped segment behaves as an empty one, so init of 0 entries still
    succeeds and any other length traps in the runtime's bounds check.
    """
    mctx, builder = fctx.mctx, fctx.builder
    flag = fctx.hoist((f"{segment}.dropped", index),
                      lambda b: mctx.dropped_flag(b, fctx.instance, segment, index))
    dropped = builder.load(flag, name=f"{segment}.dropped")
    is_dropped = builder.icmp_unsigned("!=", dropped, ir.Constant(I8, 0))
    return builder.select(is_dropped, ir.Constant(I32, 0), ir.Constant(I32, length), name=f"{segment}.len")


def segment_drop(fctx: FuncContext, segment: str, index: int) -> None:
    """`data.drop` / `elem.drop`: set the segment's dropped flag."""
    flag = fctx.mctx.dropped_flag(fctx.builder, fctx.instance, segment, index)
    fctx.builder.store(ir.Constant(I8, 1), flag)
