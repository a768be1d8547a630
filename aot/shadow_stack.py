"""The C shadow stack of a module that its own interrupt handlers can interrupt.

C compiled to Wasm keeps its stack in linear memory, its pointer in a
mutable global (`__stack_pointer`, global 0 of wasm-ld's output).  A module
that imports `wasi-ext:signals` can have an *immediate* handler: on a
Cortex-M board the NVIC vector calls the compiled export in the middle of
whatever Wasm code was running, on the same instance, so the handler's
shadow frames go below the `__stack_pointer` it finds.  Two things make that
value too high, and the handler would overwrite live data of the code it
interrupted (docs/interrupts.md, "The shadow stack"):

- the red zone: clang gives a leaf function whose frame fits 128 bytes
  (`WebAssemblyFrameLowering::RedZoneSize`) a frame below the pointer
  without publishing it;
- the compiler's own optimiser: a store to the global is, to LLVM, a store
  to the instance that no load of linear memory reads, so a leaf that
  publishes `sp - 256` on entry and restores `sp` on exit loses the first
  store to dead-store elimination, and any store may move past the frame's
  accesses.

So for such modules this module names the pointer (`stack_pointer_global`),
the lowering keeps every store to it in place between two compiler fences
(aot/lower/variable.py), the header gives its offset in the instance
(aot/header.py), and the generated vector lowers it by the red zone around
the handler call — but only for handlers that touch the shadow stack at all
(`exports_using_stack`), so a handler written without one keeps the
shortest entry path.
"""

from __future__ import annotations

from aot.wasm.callgraph import exports_reaching
from aot.wasm.module import Module

# Modules importing this are interruptible by their own handlers (wasi_ext/signals).
INTERRUPTING_IMPORT_PREFIX = "wasi-ext:signals/"
# WebAssemblyFrameLowering::RedZoneSize: what a clang leaf may use below the pointer unpublished.
RED_ZONE_BYTES = 128
STACK_POINTER_NAME = "__stack_pointer"


def interruptible(module: Module) -> bool:
    """Whether the module can register handlers that interrupt its own code (it imports wasi-ext:signals)."""
    return any(imp.module.startswith(INTERRUPTING_IMPORT_PREFIX) for imp in module.imports)


def stack_pointer_global(module: Module) -> int | None:
    """The index of the module's own shadow-stack pointer global, or None when it has none.

    By name when the name section has one (wasm-ld writes `__stack_pointer`);
    else by clang's frame idiom, `global.get G; i32.const N; i32.sub;
    [local.tee L;] global.set G`, which a stripped module still has.  Only a
    mutable i32 global defined by the module qualifies: an imported one is
    the embedder's, and its storage is not in this instance.
    """
    own = range(module.num_imported_globals, len(module.all_globals()))

    def qualifies(index: int) -> bool:
        g = module.all_globals()[index]
        return index in own and g.mutable and g.valtype == "i32"

    for index, name in module.names.globals.items():
        if name == STACK_POINTER_NAME and qualifies(index):
            return index
    for function in module.functions:
        body = function.body
        for i in range(len(body) - 3):
            a, b, c = body[i], body[i + 1], body[i + 2]
            if a.op != "global.get" or b.op != "i32.const" or c.op != "i32.sub" or not qualifies(a.imm):
                continue
            after = body[i + 3]
            if after.op == "local.tee" and i + 4 < len(body):
                after = body[i + 4]
            if after.op == "global.set" and after.imm == a.imm:
                return a.imm
    return None


def ordered_stack_pointer(module: Module) -> int | None:
    """The global whose stores the lowering must keep in place: the stack pointer of an interruptible module."""
    return stack_pointer_global(module) if interruptible(module) else None


def exports_using_stack(module: Module, stack_pointer: int) -> dict[str, bool]:
    """For each exported function: may a call of it read `stack_pointer` (its own code or anything it calls)?

    Reading is what matters: a function that never reads the pointer never
    writes below it.  Imports are host functions, which do not touch the
    module's shadow stack; an indirect call may reach anything
    (aot/wasm/callgraph.py).
    """
    return exports_reaching(module, lambda instr: instr.op in ("global.get", "global.set")
                            and instr.imm == stack_pointer)
