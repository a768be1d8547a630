"""C's memcpy and memset compiled as what they are: one check of each range, then the target's own.

A C program compiled to Wasm carries its C library's memcpy and memset as
ordinary Wasm code (wasi-libc's are musl's word loops; Debian's clang emits
no `memory.copy` without -mbulk-memory), and Waft compiles them like any
loop: a bounds check per access, a call that costs more than the copy for
the short copies C code makes most.  The CoreMark-class workload spent a
quarter of its instructions in memcpy (bench/analysis.py), ten times what
the same program spends in newlib's.

So a defined function the module's name section calls `memcpy` or
`memset`, of C's type `(i32 i32 i32) -> i32`, is compiled from this body
instead of its own:

    if (n != 0) {
        trap MEMORY_OUT_OF_BOUNDS unless dst + n (and src + n) <= memory size;
        memcpy(base + dst, base + src, n);       (memset(base + dst, c, n))
    }
    return dst;

through LLVM's memcpy/memset intrinsics, which become the target C
library's tuned functions (or a few inline moves for a constant size).
memmove is left alone: musl's calls memcpy whenever the ranges do not
overlap, so it gets the same benefit.  The names are the C standard's: a
program that defines them with other meanings is outside C (C11 7.1.3), and
Rust's and other toolchains' `memcpy` are the same function.  What a
program can tell apart: an out-of-bounds copy traps before writing any byte
rather than after writing those below the bound (the bulk-memory proposal's
rule, visible only in memory after the trap), and overlapping ranges, for
which memcpy is undefined, come out as the C library's memcpy leaves them
(still within the checked ranges).  A stripped module (no name section)
keeps its code as it is.

The function keeps its entry stack check (it is never an unchecked leaf,
aot/lower/leaves.py): it calls C now.  Not done where the copy could reach
memory other than memory 0's linear memory (a module granted shared-memory
regions, windows beyond it: aot/shm.py) or where the module has no memory.
"""

from __future__ import annotations

from llvmlite import ir

from aot import abi
from aot.lower.context import I1, I8, I32, FuncContext
from aot.lower.memory import fits_memory, memory_base
from aot.wasm.module import FuncType, Module

C_TYPE = FuncType(("i32", "i32", "i32"), ("i32",))
NAMES = ("memcpy", "memset")


def recognised(module: Module) -> dict[int, str]:
    """{function index: C name} of the defined functions compiled from the builtin bodies."""
    if not module.all_memories():
        return {}
    nimp = module.num_imported_funcs
    return {index: name for index, name in module.names.functions.items()
            if name in NAMES and nimp <= index < nimp + len(module.functions) and module.func_type(index) == C_TYPE}


def lower_builtin(fctx: FuncContext, name: str) -> None:
    """The body of `name` (memcpy or memset) for the function `fctx` lowers, after its stack check."""
    mctx, builder = fctx.mctx, fctx.builder
    dst, second, n = fctx.function.args[1:4]
    done = fctx.function.append_basic_block("done")
    work = fctx.function.append_basic_block("copy")
    builder.cbranch(builder.icmp_unsigned("==", n, ir.Constant(I32, 0), name="empty"), done, work)
    builder.position_at_end(work)
    base = memory_base(fctx, 0)
    oob = abi.TRAP_CODES["MEMORY_OUT_OF_BOUNDS"]
    ranges = [dst, second] if name == "memcpy" else [dst]
    for start in ranges:
        if mctx.bounds_checks:
            fctx.trap_if(builder.not_(fits_memory(fctx, start, n), name="oob"), oob, name="bounds")
    pointers = [builder.gep(base, [_index(fctx, v)], name="ptr") for v in ranges]
    false = ir.Constant(I1, 0)
    if name == "memcpy":
        copy = mctx.intrinsic("llvm.memcpy.p0.p0.i32", ir.VoidType(), [pointers[0].type, pointers[1].type, I32, I1])
        builder.call(copy, [pointers[0], pointers[1], n, false])
    else:
        fill = mctx.intrinsic("llvm.memset.p0.i32", ir.VoidType(), [pointers[0].type, I8, I32, I1])
        builder.call(fill, [pointers[0], builder.trunc(second, I8, name="byte"), n, false])
    builder.branch(done)
    builder.position_at_end(done)
    builder.ret(dst)


def _index(fctx: FuncContext, value: ir.Value) -> ir.Value:
    """A Wasm address as the GEP index into memory (zero-extended where pointers are 64-bit)."""
    if fctx.mctx.pointer_bits == 64:
        return fctx.builder.zext(value, ir.IntType(64))
    return value

