"""Which functions may skip the entry stack check: leaves that only checked Wasm code can enter.

Every function checks the stack at entry (`ModuleContext.stack_check`, six
instructions on a Cortex-M: the limit's address, its load, the stack pointer,
a compare and a branch).  A function that calls nothing and that nothing but a
direct `call` from this module can reach does not need it: its caller checked
`sp >= waft_stack_limit` after pushing its own frame, so the leaf's frame ends
at most its own size below the limit — the very position a checked function
that fails its check is in when it calls the trap (waft.h: the margin holds
the largest unchecked frame plus the trap path).  Frames bigger than the
target's `max_unguarded_frame` still get a frame guard (frames.py), leaf or
not, so "its own size" is at most that limit.

A function is such a leaf when
- its body has no call of any kind (call, call_indirect, the return_call
  forms), and no instruction that the lowering turns into a call to a runtime
  function with a frame of its own: bulk memory and table operations,
  `memory.grow`, atomics (wait/notify; RMWs are runtime calls on Armv6-M).
  Code generator helpers (soft-float, 64-bit division) and the trap path are
  small leaf C functions, inside the budget every unchecked frame has;
- its address never leaves the module's direct calls: not exported (the
  export wrapper is called from C at any depth), not the start function
  (P__initialize runs from C), and never a funcref (no `ref.func` of it in an
  element segment, a global initialiser or a body), because C can call a
  funcref's `waft_func.code` directly (runtime_c/signals/dispatch.c).
"""

from __future__ import annotations

from aot.wasm.module import ConstExpr, Module

# Instructions that call out of the function: other Wasm code, or runtime functions whose
# stack use is not the trap path's (aot/lower/bulk.py, memory.grow, atomic.py).
_CALLING_OPS = frozenset((
    "call", "call_indirect", "return_call", "return_call_indirect",
    "memory.grow", "memory.fill", "memory.copy", "memory.init",
    "table.grow", "table.fill", "table.copy", "table.init",
))


def _calls_out(op: str) -> bool:
    return op in _CALLING_OPS or "atomic" in op


def _referenced(expr: ConstExpr | None, into: set[int]) -> None:
    for instr in expr or ():
        if instr.op == "ref.func":
            into.add(instr.imm)


def unchecked_leaves(module: Module) -> frozenset[int]:
    """Function indices (defined functions only) whose entry stack check can be left out."""
    escaping: set[int] = {e.index for e in module.exports if e.kind == "func"}
    if module.start is not None:
        escaping.add(module.start)
    for seg in module.elems:
        for expr in seg.init:
            _referenced(expr, escaping)
    for g in module.globals:
        _referenced(g.init, escaping)
    leaves = set()
    first = module.num_imported_funcs
    for i, function in enumerate(module.functions, first):
        calls = False
        for instr in function.body:
            if instr.op == "ref.func":
                escaping.add(instr.imm)
            elif _calls_out(instr.op):
                calls = True
        if not calls:
            leaves.add(i)
    return frozenset(leaves - escaping)
