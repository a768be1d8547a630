"""Tables that nothing can change after instantiation, read from compile-time constants by `call_indirect`.

A C program's function pointers index the one table wasm-ld emits: its own
(not imported), not exported, filled by active element segments at constant
offsets with `ref.func`/`ref.null` entries, and never touched by `table.set`,
`table.grow`, `table.fill`, `table.copy` or `table.init` (clang emits none of
them for C).  After instantiation such a table holds, slot by slot, exactly
what its segments say, and its size is its declared minimum: nothing in the
module can write it, and no host can reach it.  So the slots are known when
the module is compiled.

`call_indirect` through such a table (aot/lower/call.py) then checks the
index against a constant and reads the slot's signature and code pointer
from two private constant arrays, instead of loading the table's size, its
storage and a descriptor from the instance (nine instructions fewer per call
on Cortex-M).  The checks are the same, in the same order: index < size
(UNDEFINED_ELEMENT), a non-null slot (UNINITIALIZED_ELEMENT), the expected
signature (INDIRECT_CALL_TYPE_MISMATCH); the callee's instance is the
caller's, as every slot names a function of this module (an import's is its
thunk).  Where LLVM knows the index (a comparator handed to a qsort it
inlined), the loads fold and the call becomes a direct one, which it may
inline in turn.

A segment that does not fit the table makes instantiation fail, so no call
ever sees a half-filled table: such a module, like one whose table is too
big for the arrays (`MAX_SLOTS`), keeps the general path.
"""

from __future__ import annotations

from llvmlite import ir

from aot.lower.context import PTR
from aot.lower.init_bulk import private_constant
from aot.wasm.module import Module

MAX_SLOTS = 1 << 16  # two constant arrays of pointers per table: bounded flash
_WRITERS = frozenset(("table.set", "table.grow", "table.fill", "table.copy", "table.init"))


def frozen_slots(module: Module) -> dict[int, list[int | None]]:
    """{table index: the function index in each slot (None: null)} for the module's frozen tables."""
    if any(instr.op in _WRITERS for function in module.functions for instr in function.body):
        return {}
    exported = {export.index for export in module.exports if export.kind == "table"}
    frozen: dict[int, list[int | None]] = {}
    first_own = module.num_imported_tables
    for index in range(first_own, first_own + len(module.tables)):
        table = module.tables[index - first_own]
        if index in exported or table.elem_type != "funcref" or table.limits.min > MAX_SLOTS:
            continue
        slots = _apply_segments(module, index, table.limits.min)
        if slots is not None:
            frozen[index] = slots
    return frozen


def _apply_segments(module: Module, table_index: int, size: int) -> list[int | None] | None:
    """The table's slots after its active segments, in order; None when one is not a constant that fits."""
    slots: list[int | None] = [None] * size
    for segment in module.elems:
        if segment.mode != "active" or segment.table != table_index:
            continue
        offset_expr = segment.offset_expr or []
        if len(offset_expr) != 1 or offset_expr[0].op != "i32.const":
            return None  # e.g. global.get of an imported global: known only at instantiation
        start = offset_expr[0].imm & 0xFFFFFFFF
        if start + len(segment.init) > size:
            return None  # instantiation traps
        for j, expr in enumerate(segment.init):
            if len(expr) == 1 and expr[0].op == "ref.func":
                slots[start + j] = expr[0].imm
            elif len(expr) == 1 and expr[0].op == "ref.null":
                slots[start + j] = None
            else:
                return None
    return slots


def slot_arrays(mctx, table_index: int) -> tuple[int, ir.GlobalVariable, ir.GlobalVariable] | None:
    """(size, signatures, code pointers) of a frozen table, as private constants; None when not frozen.

    Created on the first `call_indirect` through the table in this LLVM module.
    """
    cache = mctx.frozen_tables
    if "slots" not in cache:
        cache["slots"] = frozen_slots(mctx.module)
    slots = cache["slots"].get(table_index)
    if slots is None:
        return None
    arrays = cache.get(table_index)
    if arrays is None:
        kind = ir.ArrayType(PTR, len(slots))
        null = ir.Constant(PTR, None)
        signatures = [null if f is None else mctx.signature_ptr(mctx.module.func_type(f)) for f in slots]
        codes = [null if f is None else mctx.functions[f].bitcast(PTR) for f in slots]
        arrays = (len(slots),
                  private_constant(mctx, mctx.llmod.get_unique_name(f"table{table_index}.signatures"),
                                   ir.Constant(kind, signatures)),
                  private_constant(mctx, mctx.llmod.get_unique_name(f"table{table_index}.code"),
                                   ir.Constant(kind, codes)))
        cache[table_index] = arrays
    return arrays

