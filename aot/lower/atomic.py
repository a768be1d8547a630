"""Lower the threads proposal's 0xFE instructions: atomic loads, stores, read-modify-writes,
compare-exchanges, memory.atomic.wait32/64 and notify, and atomic.fence.

Every access is an LLVM atomic with sequentially consistent ordering, as the
proposal requires of all of them.  The checks come in the spec's order: the
bounds check first (the same one plain loads get, `memory.checked_address`),
then the effective address `addr + offset` must be a multiple of the access
size, else the access traps with UNALIGNED_ATOMIC.  Because of that test the
LLVM access always carries its natural alignment, on strict-alignment targets
too.  The test is on the Wasm address: linear memory's base is at least
8-byte aligned (docs/abi.md), so an aligned Wasm address is an aligned host
address.

What LLVM makes of the atomics depends on the core: inline instructions where
it has them (x86-64, AArch64, LDREX/STREX on Armv7-M/Armv8-M, AMOs and LR/SC on
rv32a), else calls to `__atomic_*` library functions, which the runtime's port
supplies as interrupt-masking critical sections (runtime_c/port/cortex-m/atomic.c:
every atomic on Armv6-M, 64-bit ones on Armv7-M; runtime_c/port/riscv/atomic.c:
64-bit ones on rv32).

Narrow forms (`rmw8.add_u`...) operate on the narrow type and zero-extend the
old value; the operands are wrapped to the access width first (cmpxchg's
expected value too, so it compares the bytes in memory with the low bytes).

wait and notify call the runtime (waft_atomic_wait32/64, waft_atomic_notify)
after the same checks.  On an unshared memory, notify returns 0 (no thread can
wait on it) and wait traps with EXPECTED_SHARED_MEMORY, as the proposal says:
whether a memory is shared is part of its type, so both are decided here.
"""

from __future__ import annotations

from typing import Callable

from llvmlite import ir

from aot import abi
from aot.lower.context import I8, I32, I64, FuncContext
from aot.lower.memory import checked_address
from aot.wasm import opcodes
from aot.wasm.module import Instr, MemArg

Handler = Callable[[FuncContext, Instr], None]

ORDERING = "seq_cst"
_INT = {8: I8, 16: ir.IntType(16), 32: I32, 64: I64}
_VALUE = {"i32": I32, "i64": I64}
_RMW_OPS = ("add", "sub", "and", "or", "xor", "xchg")


def atomic_address(fctx: FuncContext, memarg: MemArg, nbytes: int, writes: bool = False) -> ir.Value:
    """Pop an address, check bounds then alignment, return an i8* to the naturally aligned cell.

    `writes`: the access stores (a read-only shared-memory region then traps, docs/shared-memory.md).
    """
    ptr, ea = checked_address(fctx, memarg, nbytes, writes)
    if nbytes > 1:
        builder = fctx.builder
        low = builder.and_(ea, ir.Constant(ea.type, nbytes - 1), name="ea.low")
        misaligned = builder.icmp_unsigned("!=", low, ir.Constant(ea.type, 0), name="unaligned")
        fctx.trap_if(misaligned, abi.TRAP_CODES["UNALIGNED_ATOMIC"], name="atomic.align")
    return ptr


def _shared(fctx: FuncContext, memarg: MemArg) -> bool:
    return fctx.mctx.memories[memarg.memory].type.limits.shared


def _widths(op: str) -> tuple[ir.IntType, ir.IntType]:
    """(value type, memory type) of an atomic access op."""
    bits = 8 << opcodes.ATOMIC_ALIGN[op]
    return _VALUE[op[:3]], _INT[bits]


def _narrow(fctx: FuncContext, value: ir.Value, mem_type: ir.IntType) -> ir.Value:
    return fctx.builder.trunc(value, mem_type) if value.type.width > mem_type.width else value


def _widen(fctx: FuncContext, value: ir.Value, value_type: ir.IntType) -> ir.Value:
    return fctx.builder.zext(value, value_type) if value_type.width > value.type.width else value


def _typed(fctx: FuncContext, ptr: ir.Value, mem_type: ir.IntType) -> ir.Value:
    return fctx.builder.bitcast(ptr, mem_type.as_pointer())


def _load(op: str) -> Handler:
    value_type, mem_type = _widths(op)
    nbytes = mem_type.width // 8

    def lower(fctx: FuncContext, instr: Instr) -> None:
        ptr = _typed(fctx, atomic_address(fctx, instr.imm, nbytes), mem_type)
        loaded = fctx.builder.load_atomic(ptr, ORDERING, nbytes, name="atomic.load")
        fctx.push(_widen(fctx, fctx.mctx.tbaa(loaded, "memory"), value_type))

    return lower


def _store(op: str) -> Handler:
    _, mem_type = _widths(op)
    nbytes = mem_type.width // 8

    def lower(fctx: FuncContext, instr: Instr) -> None:
        value = _narrow(fctx, fctx.pop(), mem_type)
        ptr = _typed(fctx, atomic_address(fctx, instr.imm, nbytes, writes=True), mem_type)
        fctx.mctx.tbaa(fctx.builder.store_atomic(value, ptr, ORDERING, nbytes), "memory")

    return lower


def _rmw(op: str, kind: str) -> Handler:
    value_type, mem_type = _widths(op)
    nbytes = mem_type.width // 8

    def lower(fctx: FuncContext, instr: Instr) -> None:
        value = _narrow(fctx, fctx.pop(), mem_type)
        ptr = _typed(fctx, atomic_address(fctx, instr.imm, nbytes, writes=True), mem_type)
        old = fctx.builder.atomic_rmw(kind, ptr, value, ORDERING, name=f"atomic.{kind}")
        fctx.push(_widen(fctx, fctx.mctx.tbaa(old, "memory"), value_type))

    return lower


def _cmpxchg(op: str) -> Handler:
    value_type, mem_type = _widths(op)
    nbytes = mem_type.width // 8

    def lower(fctx: FuncContext, instr: Instr) -> None:
        replacement = _narrow(fctx, fctx.pop(), mem_type)
        expected = _narrow(fctx, fctx.pop(), mem_type)
        ptr = _typed(fctx, atomic_address(fctx, instr.imm, nbytes, writes=True), mem_type)
        builder = fctx.builder
        pair = builder.cmpxchg(ptr, expected, replacement, ORDERING, ORDERING, name="atomic.cmpxchg")
        fctx.mctx.tbaa(pair, "memory")
        fctx.push(_widen(fctx, builder.extract_value(pair, 0, name="atomic.old"), value_type))

    return lower


def memory_atomic_notify(fctx: FuncContext, instr: Instr) -> None:
    count = fctx.pop()
    ptr = atomic_address(fctx, instr.imm, 4)
    if not _shared(fctx, instr.imm):
        fctx.push(ir.Constant(I32, 0))  # nobody can wait on an unshared memory
        return
    notify = fctx.mctx.runtime_function("waft_atomic_notify")
    fctx.push(fctx.builder.call(notify, [ptr, count], name="atomic.notify"))


def _wait(bits: int) -> Handler:
    def lower(fctx: FuncContext, instr: Instr) -> None:
        timeout = fctx.pop()
        expected = fctx.pop()
        ptr = atomic_address(fctx, instr.imm, bits // 8)
        if not _shared(fctx, instr.imm):
            fctx.trap(abi.TRAP_CODES["EXPECTED_SHARED_MEMORY"])
            fctx.push(ir.Constant(I32, 0))  # in the unreachable block after the trap
            return
        wait = fctx.mctx.runtime_function(f"waft_atomic_wait{bits}")
        fctx.push(fctx.builder.call(wait, [ptr, expected, timeout], name="atomic.wait"))

    return lower


def atomic_fence(fctx: FuncContext, instr: Instr) -> None:
    fctx.builder.fence(ORDERING)


def _build() -> dict[str, Handler]:
    handlers: dict[str, Handler] = {
        "memory.atomic.notify": memory_atomic_notify,
        "memory.atomic.wait32": _wait(32),
        "memory.atomic.wait64": _wait(64),
        "atomic.fence": atomic_fence,
    }
    for op in opcodes.ATOMIC_ALIGN:
        if op.startswith("memory."):
            continue
        access = op.split(".")[2]  # load8_u, store16, rmw8, ...
        if access.startswith("load"):
            handlers[op] = _load(op)
        elif access.startswith("store"):
            handlers[op] = _store(op)
        else:
            kind = op.split(".")[3].removesuffix("_u")
            handlers[op] = _cmpxchg(op) if kind == "cmpxchg" else _rmw(op, kind)
    return handlers


HANDLERS: dict[str, Handler] = _build()
