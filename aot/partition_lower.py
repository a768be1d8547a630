"""Lower one partition of a module (aot/partition.py) to LLVM IR text of its own.

The steps are aot/lower/module.py's `lower_module`, in the same order and with
the same helpers, so a function's IR is what the whole-module lowering makes
of it; what differs is which functions get bodies and their linkage:

- the partition's own functions are defined `hidden` instead of `internal`:
  other partitions call them, and the combined object makes them local again
  (aot/parallel.py: `--localize-hidden`).  Every function's address is in the
  instance's function table anyway, so `internal` let LLVM drop none of them;
- its `copies` (small callees of other partitions) are defined
  `available_externally`: LLVM may inline them, and never emits them;
- every other function is a `hidden` declaration;
- the import thunks are defined in the module partition and copied
  (`available_externally`) into the others that call them;
- P__initialize, the export wrappers and the accessors are the module
  partition's; an export that is an alias of its function goes with the
  function, since an alias needs its target's definition in the same module;
- declarations and data segments no code of the partition uses are left out
  (`_drop_unused`).
"""

from __future__ import annotations

import re

import llvmlite.binding as llvm
from llvmlite import ir

from aot import abi
from aot.lower.irtext import ByteArrayConstant
from aot.lower.module import (  # the whole-module driver's steps, shared so the IR is the same
    LoweredModule,
    ModuleContext,
    _declare_imports,
    _define_instance_layout,
    _emit_exports,
    _emit_initialize,
    _lower_function,
    define_import_thunks,
    function_name,
    prepared_context,
)
from aot.partition import Partition
from aot.shm import RegionGrant
from aot.targets import Target
from aot.wasm.module import Module

_REFERENCE = re.compile(r'@"([^"]+)"|@([-a-zA-Z$._0-9]+)')  # llvmlite quotes most names, not all


def instance_layout(module: Module, target: Target, prefix: str, target_data: llvm.TargetData, *,
                    memory_cap_pages: int | None = None, table_cap: int | None = None,
                    regions: tuple[RegionGrant, ...] = ()) -> tuple[int, int, int | None]:
    """(size, alignment, stack-pointer offset) of the module's instance, without lowering any code."""
    mctx = ModuleContext(module, target, prefix, target_data, memory_cap_pages=memory_cap_pages,
                         table_cap=table_cap, regions=regions)
    _declare_imports(mctx)
    _define_instance_layout(mctx)
    return mctx.instance_size, mctx.instance_align, mctx.stack_pointer_offset


def lower_partition(module: Module, part: Partition, target: Target, prefix: str, target_data: llvm.TargetData,
                    *, opt: str = "2", memory_cap_pages: int | None = None, table_cap: int | None = None,
                    bounds_checks: bool = True, frame_guards: dict[str, int] | None = None,
                    regions: tuple[RegionGrant, ...] = ()) -> LoweredModule:
    """`part` of `module` as LLVM IR (see the module docstring); `frame_guards` are the partition's own."""
    mctx = prepared_context(module, target, prefix, target_data, opt=opt, memory_cap_pages=memory_cap_pages,
                            table_cap=table_cap, bounds_checks=bounds_checks, frame_guards=frame_guards,
                            regions=regions, import_thunks=part.module_level,
                            # Declarations of what other partitions define: `hidden`.
                            declare_on_use=None if part.module_level else "hidden")
    nimp = module.num_imported_funcs
    if part.module_level:
        for fn in mctx.functions[:nimp]:
            fn.linkage = "hidden"
            mctx.retire(fn)
    owned, copies = set(part.functions), set(part.copies)
    mine = sorted(owned | copies)
    for index in mine:  # declared first, in module order: the definitions keep it
        mctx.functions[index].linkage = "hidden" if index in owned else "available_externally"
    for index in mine:
        _lower_function(mctx, index)
        mctx.retire(mctx.functions[index])
    if part.module_level:
        for index in range(nimp, len(mctx.functions)):
            if index not in owned:
                mctx.functions[index].linkage = "hidden"  # a declaration: defined by another partition
        _emit_initialize(mctx)
        _emit_exports(mctx)
    else:
        _copy_import_thunks(mctx)
    # Aliases go with their target's definition (the thunks' with the module partition).
    defining = {mctx.functions[i].name for i in owned} | (
        {mctx.functions[i].name for i in range(nimp)} if part.module_level else set())
    mctx.aliases = [line for line in mctx.aliases if _alias_target(line) in defining]
    if not part.module_level:
        mctx.aliases += _owned_aliases(mctx, module, owned)
    _drop_unused(mctx)
    lowered = LoweredModule(mctx.ir_text(), mctx.instance_size, mctx.instance_align,
                            frozenset(mctx.defined_functions), mctx.stack_pointer_offset,
                            tuple(function_name(mctx, i) for i in range(len(mctx.functions))))
    return lowered


def _copy_import_thunks(mctx: ModuleContext) -> None:
    """Define, `available_externally`, the import thunks the partition's code refers to (the module
    partition defines them all); the others are never declared here.

    Decided from the printed bodies rather than by walking the Wasm: whatever refers to a thunk (a
    multi-value call, a tail call), the text names it.  A wasi-libc partition refers to none or a few of
    its 46 imports' thunks: defining all of them was part of every partition's lowering and LLVM time.
    """
    nimp = mctx.module.num_imported_funcs
    text = "".join(mctx.texts._bodies.values())
    used = {quoted or bare for quoted, bare in _REFERENCE.findall(text)}
    wanted = [i for i in range(nimp) if function_name(mctx, i) in used]
    define_import_thunks(mctx, wanted)
    for index in wanted:
        fn = mctx.functions[index]
        fn.linkage = "available_externally"
        mctx.retire(fn)


def _drop_unused(mctx: ModuleContext) -> None:
    """Leave out the declarations and data segments nothing in the partition uses.

    A partition defines a few dozen functions but declares all of the module's:
    printing and parsing a thousand unused declarations cost more than lowering
    the partition's code.  Data segments: at -O0 nothing else would drop them.
    """
    bodies = mctx.texts._bodies
    # Other globals' initialisers (the function-descriptor table of P__initialize) and the functions not
    # retired (P__initialize and its helpers) reference functions too.
    initialisers = [str(value) for value in mctx.llmod.globals.values()
                    if not isinstance(value, (ir.Function, ByteArrayConstant)) or
                    (isinstance(value, ir.Function) and value.blocks)]
    text = "".join(bodies.values()) + "\n".join(mctx.aliases + initialisers)
    used = {quoted or bare for quoted, bare in _REFERENCE.findall(text)}
    for name, value in list(mctx.llmod.globals.items()):
        if name in used or name in bodies:
            continue
        if isinstance(value, ByteArrayConstant) or (isinstance(value, ir.Function) and not value.blocks):
            del mctx.llmod.globals[name]


def _alias_target(line: str) -> str:
    return line.rsplit("@", 1)[1].strip().strip('"')


def _owned_aliases(mctx: ModuleContext, module: Module, owned: set[int]) -> list[str]:
    """The alias lines `_emit_exports` writes for exported functions of `owned` (the same rule: ELF, and the
    C signature is the internal one)."""
    lines = []
    for export in module.exports:
        if export.kind != "func" or export.index not in owned:
            continue
        body = mctx.functions[export.index]
        c_type = mctx.c_type(module.func_type(export.index))
        if mctx.target_is_elf() and str(body.function_type) == str(c_type):
            symbol = abi.export_symbol(mctx.prefix, export.name)
            lines.append(f'@"{symbol}" = alias {c_type}, ptr {body.get_reference()}')
    return lines
