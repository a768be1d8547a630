"""Which exported functions may reach an instruction: a walk up a module's direct-call graph.

The firmware generator asks it of handler exports (aot/shadow_stack.py: may
this handler use the C shadow stack?  waftkit/firmware/embedding.py: may it
change the interrupt mask?) to give each interrupt vector only the work its
handler needs.  The answer is conservative: direct calls are followed, and an
indirect call may reach any function (imports in a table included), so it
counts as reaching.
"""

from __future__ import annotations

from collections.abc import Callable

from aot.wasm.module import Instr, Module

DIRECT_CALLS = frozenset(("call", "return_call"))
INDIRECT_CALLS = frozenset(("call_indirect", "return_call_indirect", "call_ref", "return_call_ref"))


def exports_reaching(module: Module, reaches: Callable[[Instr], bool]) -> dict[str, bool]:
    """For each exported function: may a call of it execute an instruction `reaches` accepts?

    `reaches` sees every instruction of every defined body, direct calls of
    imports included (a call of a defined function is followed instead).
    """
    nimp = module.num_imported_funcs
    hit = [False] * len(module.functions)
    callers: list[set[int]] = [set() for _ in module.functions]
    for i, function in enumerate(module.functions):
        for instr in function.body:
            if instr.op in DIRECT_CALLS and instr.imm >= nimp:
                callers[instr.imm - nimp].add(i)
            elif instr.op in INDIRECT_CALLS or reaches(instr):
                hit[i] = True
    # Every caller of a function that reaches it reaches it too.
    work = [i for i, h in enumerate(hit) if h]
    while work:
        for caller in callers[work.pop()]:
            if not hit[caller]:
                hit[caller] = True
                work.append(caller)
    out = {}
    for e in module.exports:
        if e.kind == "func":
            # An exported import runs host code only.
            out[e.name] = e.index >= nimp and hit[e.index - nimp]
    return out
