"""Which functions LLVM must not inline: big loop-heavy functions whose one call sits in a loop.

LLVM's inliner gives a function with a single call site a bonus big enough to
inline almost anything there ("last call to a local function"), and a module is
a closed world, so every such function qualifies.  That is right for small
helpers and for straight-line code, but a big function full of loops inlined
into its caller's loop only saves one call per outer iteration, while the
caller's values now live across all the callee's inner loops: the register
allocator spills more of them there.  Embench's huffbench showed it (its
`compdecomp`, 1,300 Wasm instructions and 19 loops, called once per
repetition): inlined, 357k ticks on stm32f4; kept out of line, as GCC keeps it,
fewer (docs/performance.md, "Held-out-style programs").

So a function is kept out of line (`noinline`) when all of these hold:
- it has exactly one direct call site (`call`/`return_call`) and nothing else
  can reach it (not exported, no `ref.func` of it): the functions LLVM's
  single-call bonus applies to;
- that call is inside a `loop` of its caller;
- its body has at least `BIG_FUNCTION` instructions and a loop of its own.

LLVM still propagates constant arguments into it (the call site is its only
one) and still inlines it where these do not hold.
"""

from __future__ import annotations

from aot.wasm.module import Module

# Wasm instructions from which a function counts as big: above LLVM's own inline threshold many
# times over, where a call's cost (a few instructions) is noise against the body's.
BIG_FUNCTION = 1000


def kept_out_of_loops(module: Module) -> frozenset[int]:
    """Function indices (defined functions only) to mark `noinline`: see the module docstring."""
    # Reached otherwise than by a direct call: C.refs (exports, and what a funcref can name: a
    # `ref.func` in a body must name one of these) and the start function.
    reachable = module.declared_refs() | ({module.start} if module.start is not None else set())
    sites: dict[int, list[bool]] = {}  # callee -> whether each direct call is inside a loop
    first = module.num_imported_funcs
    for function in module.functions:
        enclosing: list[bool] = []  # per open block/loop/if: is it a loop
        loops_open = 0
        for instr in function.body:
            op = instr.op
            if op in ("block", "loop", "if"):
                enclosing.append(op == "loop")
                loops_open += op == "loop"
            elif op == "end":
                if enclosing:  # the function's own final `end` has no construct
                    loops_open -= enclosing.pop()
            elif op in ("call", "return_call"):
                sites.setdefault(instr.imm, []).append(loops_open > 0)
    kept = set()
    for index, function in enumerate(module.functions, first):
        calls = sites.get(index, [])
        if index in reachable or calls != [True]:
            continue
        if len(function.body) >= BIG_FUNCTION and any(i.op == "loop" for i in function.body):
            kept.add(index)
    return frozenset(kept)
