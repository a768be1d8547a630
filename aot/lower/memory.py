"""Lower linear-memory access: loads, stores, memory.size/grow/fill/copy/init and data.drop.

Every load and store is bounds-checked in software (docs/abi.md): it traps
with MEMORY_OUT_OF_BOUNDS unless `addr + offset + size <= memory size`.
The sum never wraps: on 64-bit targets it is computed in i64 (a 32-bit
address plus a 32-bit offset plus 8 cannot overflow it); on 32-bit targets
`addr + (offset + size)` uses `llvm.uadd.with.overflow` and an overflow
traps too.  One compare (or compare-and-or) and one branch to the function's
shared trap block per access; in a memory whose size is loaded (one that can
grow), one per group of straight-line loads from one address, and none for an
access an earlier check of its address covers (aot/lower/check_groups.py).
In a counted loop whose entry proved the access in bounds, the check is
`oob and not ok` (aot/lower/loop_ranges.py: versioned loops at -O0 to -O3).  A
module compiled with `bounds_checks=False` (measurement only, never the
default) skips the check entirely.

Accesses use alignment 1: a Wasm alignment hint is only a hint, and
misaligned addresses must work (Armv7-M and the host do unaligned word
accesses).  Where word accesses must be aligned (Armv6-M, RV32:
`Target.strict_alignment`), alignment 1 would mean byte accesses every time,
so an access whose hint promises natural alignment tests the address and
takes the word access when it is aligned, bytes only when it is not.  Float loads and stores move the
integer image and bitcast, so no FPU instruction can touch a NaN's payload.

An own memory's base is its storage inside the instance (no load), and a
memory that cannot grow (cap == min) has a constant size, so LLVM folds and
merges its checks.  An own *shared* memory is reached through the instance's
memory pointer, like an imported one, so that a thread's instance can point
at another instance's memory (docs/abi.md, "Shared memories").

Bulk operations call the runtime (`waft_memory_fill/copy/init`), which does
the spec's bounds checks and traps.

A module granted shared-memory regions (aot/shm.py, docs/shared-memory.md)
sees each region in a window of memory 0 above its linear memory: its loads,
stores and atomics try the linear memory and each window in turn, one compare
each, ordered by what the address's static part says (`_windowed`).  A
module granted nothing compiles exactly as before.
"""

from __future__ import annotations

from typing import Callable

from llvmlite import ir

from aot import abi
from aot.lower import bulk, check_groups, guarded_index, loop_ranges
from aot.lower.context import F32, F64, I1, I8, I32, I64, FuncContext
from aot.shm import Window
from aot.wasm.module import Instr, MemArg

Handler = Callable[[FuncContext, Instr], None]

_INT = {8: I8, 16: ir.IntType(16), 32: I32, 64: I64}
_VALUE = {"i32": I32, "i64": I64, "f32": F32, "f64": F64}


def fixed_size(fctx: FuncContext, index: int) -> int | None:
    """The byte size of memory `index` when it can never change, else None.

    An own memory whose cap equals its minimum cannot grow (waft_memory_grow
    never passes max_pages), so its bound is a constant LLVM can fold.
    """
    info = fctx.mctx.memories[index]
    lim = info.type.limits
    if info.imported or info.cap_pages != lim.min:
        return None
    return lim.min << lim.page_size_log2


def memory_size_bytes(fctx: FuncContext, index: int) -> ir.Value:
    """The current size in bytes (an intptr), a constant when the memory cannot grow."""
    mctx = fctx.mctx
    fixed = fixed_size(fctx, index)
    if fixed is not None:
        return ir.Constant(mctx.intptr, fixed)
    return mctx.tbaa(fctx.builder.load(_member(fctx, index, "size"), name="mem.size"), "descriptor")


def memory_base(fctx: FuncContext, index: int) -> ir.Value:
    """Byte 0 of memory `index`: an own memory's storage is at a fixed place in the instance."""
    from aot.lower.module import memory_storage

    mctx = fctx.mctx
    info = mctx.memories[index]
    if not info.through_pointer:
        return fctx.hoist(("memory", index, "storage"),
                          lambda b: memory_storage(mctx, b, fctx.instance, info.own_index))
    return mctx.tbaa(fctx.builder.load(_member(fctx, index, "base"), name="mem.base"), "descriptor")


def effective_address(fctx: FuncContext, memarg: MemArg, size: int) -> ir.Value:
    """Pop an address; check `addr + offset + size <= size of memory`; return an i8* into memory."""
    return checked_address(fctx, memarg, size)[0]


def checked_address(fctx: FuncContext, memarg: MemArg, size: int,
                    writes: bool = False) -> tuple[ir.Value, ir.Value]:
    """`effective_address`, and also the Wasm effective address `addr + offset` (an intptr).

    The effective address is what atomics test for alignment (aot/lower/atomic.py);
    on 32-bit targets it may have wrapped only where the bounds check traps first.
    In a module granted shared-memory regions the pointer may also be a
    region's (`_windowed`, joined by a phi); `writes` leaves the read-only
    regions out, so an atomic store or read-modify-write there traps.
    """
    mctx = fctx.mctx
    builder = fctx.builder
    addr = fctx.pop()
    if mctx.windows and memarg.memory == 0 and mctx.bounds_checks:
        ptr = _windowed(fctx, memarg, size, writes, lambda p: p, addr)
        if mctx.pointer_bits == 64:
            return ptr, builder.add(builder.zext(addr, I64), ir.Constant(I64, memarg.offset), name="ea")
        return ptr, builder.add(addr, ir.Constant(I32, memarg.offset & 0xFFFFFFFF), name="ea")
    memsize = memory_size_bytes(fctx, memarg.memory)
    base = memory_base(fctx, memarg.memory)
    oob = abi.TRAP_CODES["MEMORY_OUT_OF_BOUNDS"]
    if mctx.pointer_bits == 64:
        ea = builder.add(builder.zext(addr, I64), ir.Constant(I64, memarg.offset), name="ea")
    else:
        # Wraps only where the check below traps first (or, unchecked, like the hardware would).
        ea = builder.add(addr, ir.Constant(I32, memarg.offset & 0xFFFFFFFF), name="ea")
    if not mctx.bounds_checks:
        return access_pointer(fctx, base, addr, memarg.offset), ea  # measurement-only unsafe build: no check
    checked = check_groups.merged_size(fctx, memarg, size, fixed_size(fctx, memarg.memory) is not None)
    if checked is None:
        return access_pointer(fctx, base, addr, memarg.offset), ea  # an earlier check covered its end
    size = checked
    ok = loop_ranges.covered(fctx, addr, memarg.offset, size, memarg.memory)
    if mctx.pointer_bits == 64:
        end = builder.add(ea, ir.Constant(I64, size), name="ea.end")
        past = builder.icmp_unsigned(">", end, memsize, name="oob")
        fctx.trap_if(_unless(fctx, _outside_guard(fctx, past, addr), ok), oob, name="bounds")
        return access_pointer(fctx, base, addr, memarg.offset), ea
    span = memarg.offset + size
    if span > 0xFFFFFFFF:
        # No 32-bit address can make this access fit.
        fctx.trap_if(ir.Constant(I1, 1), oob, name="bounds")
        span = 0
    fixed = fixed_size(fctx, memarg.memory)
    if fixed is not None and span <= fixed:
        # A constant size: `addr + span` wraps or passes it exactly when addr > size - span.
        past = builder.icmp_unsigned(">", addr, ir.Constant(I32, fixed - span), name="oob")
        fctx.trap_if(_unless(fctx, _outside_guard(fctx, past, addr), ok), oob, name="bounds")
        return access_pointer(fctx, base, addr, memarg.offset), ea
    uadd = mctx.intrinsic("llvm.uadd.with.overflow.i32", ir.LiteralStructType([I32, I1]), [I32, I32])
    pair = builder.call(uadd, [addr, ir.Constant(I32, span)], name="ea.end")
    end = builder.extract_value(pair, 0)
    wrapped = builder.extract_value(pair, 1)
    past = builder.icmp_unsigned(">", end, memsize)
    fctx.trap_if(_unless(fctx, _outside_guard(fctx, builder.or_(wrapped, past, name="oob"), addr), ok), oob,
                 name="bounds")
    return access_pointer(fctx, base, addr, memarg.offset), ea


def _outside_guard(fctx: FuncContext, oob: ir.Value, addr: ir.Value) -> ir.Value:
    """`oob`, or in a guarded function's fast copy `oob and i >=u n` (aot/lower/guarded_index.py)."""
    outside = guarded_index.unguarded(fctx, addr)
    return oob if outside is None else fctx.builder.and_(oob, outside, name="oob.unguarded")


def _unless(fctx: FuncContext, oob: ir.Value, ok: ir.Value | None) -> ir.Value:
    """`oob`, or `oob and not ok` where the loop's entry proved the access in bounds.

    `ok` comes from aot/lower/loop_ranges.py (in the proven copy of a versioned loop), else None.
    """
    if ok is None:
        return oob
    return fctx.builder.and_(oob, fctx.builder.not_(ok), name="oob.unproven")


def _access(fctx: FuncContext, memarg: MemArg, size: int, store: bool,
            emit: Callable[[ir.Value], ir.Value | None]) -> ir.Value | None:
    """Pop an address, check it, and `emit(ptr)` the access; returns what `emit` returned.

    Without shared-memory windows (every module granted no region) this is
    `emit(effective_address(...))`, unchanged.  With windows, see `_windowed`.
    """
    mctx = fctx.mctx
    if not mctx.windows or memarg.memory != 0 or not mctx.bounds_checks:
        return emit(effective_address(fctx, memarg, size))
    return _windowed(fctx, memarg, size, store, emit)


def _windowed(fctx: FuncContext, memarg: MemArg, size: int, store: bool,
              emit: Callable[[ir.Value], ir.Value | None], addr: ir.Value | None = None) -> ir.Value | None:
    """An access in a module granted shared-memory regions (aot/shm.py, docs/shared-memory.md).

    The address is tried against a list of *spaces* -- the linear memory and
    each region's window (stores: only the read-write regions', so a store
    into a read-only region traps) -- one compare each, in order; the first
    that holds does the access through its own pointer, and when none holds
    the access traps (MEMORY_OUT_OF_BOUNDS).  The access is emitted once per
    space (a phi joins loaded values), so the linear path keeps its usual
    form, hoisted base and scaled-index addressing included: an access that
    stays in linear memory pays nothing more than before, and only one that
    misses it pays the next compare.

    Specialised at compile time from the static part of the address:
    - a memarg offset (clang folds a constant pointer into it) that no linear
      access can reach drops the linear space, and one past a window's end
      drops that window (the effective address is at least the offset);
    - when the offset, plus constant addends of the address, lands in a
      window, or the address adds to a local that only ever holds a
      `region:NAME` import's result (`p = region_ring(); p[i]` in C), that
      window is tried first: a loop over a region costs one compare per
      access, as over linear memory, and LLVM often hoists even that.
    Fully constant addresses fold to no check at all (LLVM), as do accesses
    LLVM proves in range.
    """
    mctx = fctx.mctx
    builder = fctx.builder
    if addr is None:
        addr = fctx.pop()
    oob = abi.TRAP_CODES["MEMORY_OUT_OF_BOUNDS"]
    offset = memarg.offset
    windows = [w for w in mctx.windows if (w.grant.writable or not store)
               and w.grant.size >= size and offset <= w.end - size]
    spaces: list[Window | str] = list(windows)
    cap = mctx.memories[0].cap_bytes if not mctx.memories[0].imported else None
    if cap is None or offset + size <= cap:
        spaces.insert(0, "linear")
    hint = (offset + _constant_addend(addr)) & 0xFFFFFFFF
    first = next((w for w in windows if w.base <= hint < w.end), None) or _window_of_local(fctx, addr, windows)
    if first is not None:
        spaces.remove(first)
        spaces.insert(0, first)
    if not spaces:
        fctx.trap_if(ir.Constant(I1, 1), oob, name="bounds")
        spaces = windows[:1] or ["linear"]  # unreachable after the trap; keeps the IR well formed
    done = builder.append_basic_block(name="mem.done")
    results: list[tuple[ir.Value, ir.Block]] = []
    for i, space in enumerate(spaces):
        if isinstance(space, Window):
            fits = _fits_window(fctx, addr, offset, size, space)
        else:
            fits = _fits_linear(fctx, addr, offset, size)
        if i == len(spaces) - 1:
            fctx.trap_if(builder.not_(fits), oob, name="bounds")
            miss = None
        else:
            hit = builder.append_basic_block(name="mem.in")
            miss = builder.append_basic_block(name="mem.next")
            # The first space is the expected one; later ones are the cold path.
            builder.cbranch(fits, hit, miss).set_weights([2000, 1] if i == 0 else [1, 1])
            builder.position_at_end(hit)
        if isinstance(space, Window):
            ptr = access_pointer(fctx, _region_pointer(fctx, space), addr, offset - space.base)
        else:
            ptr = access_pointer(fctx, memory_base(fctx, 0), addr, offset)
        value = emit(ptr)
        if value is not None:
            results.append((value, builder.block))
        builder.branch(done)
        if miss is not None:
            builder.position_at_end(miss)
    builder.position_at_end(done)
    if not results:
        return None
    if len(results) == 1:
        return results[0][0]
    phi = builder.phi(results[0][0].type, name="loaded")
    for value, block in results:
        phi.add_incoming(value, block)
    return phi


def _window_of_local(fctx: FuncContext, addr: ir.Value, windows: list[Window]) -> Window | None:
    """The window whose base `addr` is built on through a region local (`_region_locals`), if any.

    Looks through the `add`s of the address (a few levels: `p + (i << 2)`,
    `(p + 8) + j`) for the load of such a local.
    """
    by_alloca = _region_locals(fctx)
    if not by_alloca:
        return None
    pending, seen = [addr], 0
    while pending and seen < 8:
        value = pending.pop()
        seen += 1
        if not isinstance(value, ir.Instruction):
            continue
        if value.opname == "load" and value.operands[0] in by_alloca:
            window = by_alloca[value.operands[0]]
            return window if window in windows else None
        if value.opname == "add":
            pending.extend(value.operands)
    return None


def _region_locals(fctx: FuncContext) -> dict[ir.Value, Window]:
    """{alloca: window} of the function's locals whose every write is a `region:NAME` call's result.

    Such a local is the region's base pointer as C keeps it (`ring *r =
    (ring *)region_ring();`).  Worked out once per function from its body:
    a parameter, or a local also written from anything else, is not one.
    Only an ordering hint: every access is still checked against every space.
    """
    cached = getattr(fctx, "_shm_region_locals", None)
    if cached is not None:
        return cached
    mctx = fctx.mctx
    module = mctx.module
    body = module.functions[fctx.func_index - module.num_imported_funcs].body
    bases: dict[int, int] = {}
    excluded = set(range(len(fctx.functype.params) if fctx.functype else 0))
    previous = None
    for instr in body:
        if instr.op in ("local.set", "local.tee"):
            base = (mctx.region_import_base.get(previous.imm)
                    if previous is not None and previous.op == "call" else None)
            if base is None or bases.setdefault(instr.imm, base) != base:
                excluded.add(instr.imm)
        previous = instr
    by_base = {w.base: w for w in mctx.windows}
    found = {fctx.locals[index]: by_base[base] for index, base in bases.items()
             if index not in excluded and index < len(fctx.locals) and fctx.locals[index] is not None}
    fctx._shm_region_locals = found
    return found


def _constant_addend(addr: ir.Value) -> int:
    """The constant part of `addr`: itself when constant, the constants of an `add` chain, else 0."""
    if isinstance(addr, ir.Constant) and isinstance(addr.constant, int):
        return addr.constant
    total = 0
    while isinstance(addr, ir.Instruction) and addr.opname == "add":
        left, right = addr.operands
        if isinstance(right, ir.Constant) and isinstance(right.constant, int):
            total, addr = total + right.constant, left
        elif isinstance(left, ir.Constant) and isinstance(left.constant, int):
            total, addr = total + left.constant, right
        else:
            break
    return total


def _fits_linear(fctx: FuncContext, addr: ir.Value, offset: int, size: int) -> ir.Value:
    """i1: `addr + offset + size <= memory 0's size`, without wrapping (as checked_address tests it)."""
    return fits_memory(fctx, addr, ir.Constant(I32, offset + size))


def fits_memory(fctx: FuncContext, start: ir.Value, length: ir.Value) -> ir.Value:
    """i1: the i32 range `start`, `start + length` ends within memory 0, without wrapping."""
    mctx, builder = fctx.mctx, fctx.builder
    memsize = memory_size_bytes(fctx, 0)
    if mctx.pointer_bits == 64:
        end = builder.add(builder.zext(start, I64), builder.zext(length, I64), name="ea.end")
        return builder.icmp_unsigned("<=", end, memsize, name="in.linear")
    uadd = mctx.intrinsic("llvm.uadd.with.overflow.i32", ir.LiteralStructType([I32, I1]), [I32, I32])
    pair = builder.call(uadd, [start, length], name="ea.end")
    inside = builder.icmp_unsigned("<=", builder.extract_value(pair, 0), memsize)
    return builder.and_(inside, builder.not_(builder.extract_value(pair, 1)), name="in.linear")


def _fits_window(fctx: FuncContext, addr: ir.Value, offset: int, size: int, window: Window) -> ir.Value:
    """i1: `window.base <= addr + offset` and `addr + offset + size <= window.end` (no wrapping)."""
    mctx, builder = fctx.mctx, fctx.builder
    last = window.grant.size - size  # the highest offset into the region an access may start at
    if mctx.pointer_bits == 64:
        rel = builder.add(builder.zext(addr, I64), ir.Constant(I64, offset - window.base), name="ea.rel")
        return builder.icmp_unsigned("<=", rel, ir.Constant(I64, last), name="in.window")
    rel = builder.add(addr, ir.Constant(I32, (offset - window.base) & 0xFFFFFFFF), name="ea.rel")
    fits = builder.icmp_unsigned("<=", rel, ir.Constant(I32, last), name="in.window")
    if offset > window.base:
        # addr + offset may pass 2^32 and wrap into the window: Wasm says out of bounds.
        no_wrap = builder.icmp_unsigned("<=", addr, ir.Constant(I32, 0xFFFFFFFF - offset))
        fits = builder.and_(fits, no_wrap, name="in.window")
    return fits


def _region_pointer(fctx: FuncContext, window: Window) -> ir.Value:
    """The region's first byte: the firmware's symbol (declared with the region's exact size).

    With two grants or more the symbol goes through an empty inline asm: the
    firmware may place one region inside another (`tail:64@ring+192`), and
    LLVM takes two global symbols for two distinct objects, so it would
    reorder a store through one window and a load through the other.  The
    asm hides the symbol from alias analysis; it costs nothing at run time
    (hoisted to the function's entry, it emits no instruction).
    """
    mctx = fctx.mctx
    symbol = window.grant.symbol
    var = mctx.llmod.globals.get(symbol)
    if var is None:
        var = ir.GlobalVariable(mctx.llmod, ir.ArrayType(I8, window.grant.size), name=symbol)
        var.align = 4
    byte_ptr = I8.as_pointer()
    if len(mctx.windows) < 2:
        return fctx.hoist(("region", symbol), lambda b: b.bitcast(var, byte_ptr))
    opaque = ir.InlineAsm(ir.FunctionType(byte_ptr, [byte_ptr]), "", "=r,0")
    return fctx.hoist(("region", symbol),
                      lambda b: b.call(opaque, [b.bitcast(var, byte_ptr)], name=f"region.{window.grant.name}"))


def access_pointer(fctx: FuncContext, base: ir.Value, addr: ir.Value, offset: int) -> ir.Value:
    """The host pointer `base + addr + offset`; for a scaled index, as `(base + constant) + index`.

    Why: C arrays in linear memory are `i32.load offset=TABLE (i << 2)` or
    `(i << 2) + TABLE`.  Written as `base + ((i << 2) + TABLE)`, LLVM keeps the
    sum inside the loop and Arm needs an add before each load; with the
    constant applied to the base first, `base + TABLE` is loop-invariant and
    the load is one `ldr rT, [rB, rI, lsl #2]`, as native code indexes a
    global array (bench crc32 on stm32f4: 1.38M -> 1.21M ticks).  Only an
    array index is split so (`_array_index`: a `shl` by a constant, or a value
    masked below 64 KiB, as a table-driven cipher's `T[(x >> 8) & 0xff]`
    becomes `(x >> 6) & 1020`): for a pointer plus a small field offset
    (`p->next`) the unsplit form is better, one add of `base + p` shared by
    every field, where a split would hold a hoisted `base + field` register
    per field (bench linked_alloc: 3% slower when everything was split).

    Both forms are the same address wherever the bounds check passes (the
    check itself still tests the Wasm address `addr + offset`, unchanged).  On
    32-bit targets the pointer sum wraps modulo 2^32 like Wasm's i32 address
    arithmetic, so constant addends of `addr` (an `i32.add` with a constant)
    may move to the base as well.  On 64-bit targets the i32 address is
    zero-extended, and an `i32.add` that wrapped in 32 bits would not wrap in
    the 64-bit pointer: there it stays `base + zext(addr + offset)`.
    """
    builder = fctx.builder
    if fctx.mctx.pointer_bits == 64:
        ea = builder.add(builder.zext(addr, I64), ir.Constant(I64, offset), name="ea.ptr")
        return builder.gep(base, [ea], name="addr")
    if _float_register_access(fctx) and (rebased := _rebased_float_pointer(fctx, base, addr, offset)) is not None:
        return rebased
    constant, variable = _constant_addends(addr, offset)
    table = None  # the rest of a `table + index` sum, for a table whose address is a value
    if not _array_index(variable):
        table, variable = _table_and_index(variable)
        if variable is None:
            ea = builder.add(addr, ir.Constant(I32, offset & 0xFFFFFFFF), name="ea.ptr") if offset else addr
            return builder.gep(base, [ea], name="addr")
    constant &= 0xFFFFFFFF
    if constant >= 1 << 31:
        constant -= 1 << 32  # the same address modulo 2^32, spelt as LLVM prints an i32
    moved = builder.gep(base, [ir.Constant(I32, constant)], name="addr.base") if constant else base
    if table is not None:
        moved = builder.gep(moved, [table], name="addr.table")
    return builder.gep(moved, [variable], name="addr")


def _constant_addends(addr: ir.Value, offset: int,
                      follow: Callable[[ir.Value], ir.Value] = lambda value: value) -> tuple[int, ir.Value]:
    """`(constant, variable)` with `addr + offset == variable + constant`: the constant operands of a
    chain of `add`s gathered (not yet reduced modulo 2^32); `follow` maps each value before it is looked at."""
    constant, variable = offset, follow(addr)
    while isinstance(variable, ir.Instruction) and variable.opname == "add":
        left, right = variable.operands
        if isinstance(right, ir.Constant):
            constant, variable = constant + right.constant, follow(left)
        elif isinstance(left, ir.Constant):
            constant, variable = constant + left.constant, follow(right)
        else:
            break
    return constant, variable


# VLDR/VSTR reach 255 words either side of their base register; a static array's accesses are
# rebased in steps of this many bytes (`_rebased_float_pointer`).
FLOAT_REBASE_STEP = 1024
_FLOAT_REBASE_LIMIT = 1 << 20  # above this an address is not a static array's
_LOOKBACK = 64  # instructions `_through_local` reads back for a local's last write


def _float_register_access(fctx: FuncContext) -> bool:
    """Whether the access being lowered moves a float between memory and an Arm FPU register (VLDR/VSTR)."""
    target = fctx.mctx.target
    op = fctx.instr.op if fctx.instr is not None else ""
    return target.is_arm and op[:3] in target.fpu_float_types and op[3:9] in (".load", ".store")


def _rebased_float_pointer(fctx: FuncContext, base: ir.Value, addr: ir.Value, offset: int) -> ir.Value | None:
    """`base + addr + offset` for a float in a static array, from a base register near the array.

    Why: clang places a C program's static data from address 1024 up, so a
    float array's element is `base + i + C` with C in the thousands.  LLVM
    folds C into the instruction's immediate, but VLDR and VSTR reach only
    1020 bytes, so each access became an add and a load (matmul_float: 16
    adds in a 16-load inner loop), where native code loads `[rArray, #k]`
    from one register per array.  Here C's high part goes into a hoisted
    register, `base + (C & -FLOAT_REBASE_STEP)`, behind an empty inline asm
    so that LLVM cannot fold it back, and the rest, below 1024, stays an
    immediate.  The asm's result is masked to a multiple of 8: LLVM knows
    nothing else of it, and a float access it cannot prove 4-aligned would
    be an LDR and a VMOV (VLDR faults on an unaligned address).  Measured on
    stm32f4 (docs/performance.md): matmul_float -22 %, fir -16 %, biquad +2.6 %,
    lu_decomp +1.3 %; rebasing integer or i64 accesses as well lost more than
    it gained (pointer-chasing code pays an add per field).  The address is
    the same: on a 32-bit target pointer sums wrap modulo 2^32 like Wasm's
    i32 address arithmetic, and the bounds check tests the Wasm address.

    The constant is read through a local written just before in straight-line
    code (`_through_local`: clang stores `i + C` in a local for a load and a
    store of the same element), so both get the same base; otherwise a load
    and a store of one element would use two unrelated pointers, which LLVM
    must assume may differ.  None when the access is not of that shape.
    """
    if not (isinstance(base, ir.Instruction) and base.opname == "getelementptr"):
        return None  # an own memory's storage in the instance; an imported one's base may move
    constant, variable = _constant_addends(addr, offset, lambda value: _through_local(fctx, value))
    constant &= 0xFFFFFFFF
    if not FLOAT_REBASE_STEP <= constant < _FLOAT_REBASE_LIMIT:
        return None
    high = constant & -FLOAT_REBASE_STEP

    def rebase(b: ir.IRBuilder) -> ir.Value:
        opaque = ir.InlineAsm(ir.FunctionType(I32, [I32]), "", "=r,0", side_effect=False)
        offset_value = b.and_(b.call(opaque, [ir.Constant(I32, high)], name="rebase.opaque"), ir.Constant(I32, -8))
        return b.gep(base, [offset_value], name=f"memory.at{high}")

    rebased = fctx.hoist(("float rebase", id(base), high), rebase)
    builder = fctx.builder
    rest = constant - high
    index = builder.add(variable, ir.Constant(I32, rest), name="ea.rest") if rest else variable
    return builder.gep(rebased, [index], name="addr")


def _through_local(fctx: FuncContext, value: ir.Value) -> ir.Value:
    """The value a `local.get` read, when the local's last write is in the same straight-line code; else `value`.

    Straight-line: no control instruction that joins paths (`check_groups.MERGES`) between
    the write and the read, so the write dominates the read and no other write
    can reach it.  Needs aot/lower/variable.py's record of reads and writes
    (kept while aot/lower/loop_ranges.py is enabled).
    """
    read = fctx.local_reads.get(id(value))
    if read is None or not isinstance(value, ir.LoadInstr):
        return value
    local = fctx.local_index(value.operands[0])
    if local is None:
        return value
    for at in range(read - 1, max(read - 1 - _LOOKBACK, -1), -1):
        instr = fctx.body[at]
        if instr.op in check_groups.MERGES:
            return value
        if instr.op in ("local.set", "local.tee") and instr.imm == local:
            return fctx.local_writes.get((local, at), value)
    return value


def _table_and_index(value: ir.Value) -> tuple[ir.Value | None, ir.Value | None]:
    """`(table, index)` when `value` is `table + index` with `index` a masked table index
    (`_masked_index`) and `table` anything else but a constant, else `(None, None)`.

    Why: a table passed by pointer (`T->table[k][(x >> 8) & 0xff]`, AES's rounds) is
    `i32.load (T + ((x >> 6) & 1020))`; with `base + T` first, LLVM hoists it (and, once
    it inlines the call, folds the table's constant address into it, its bounds check
    gone) and the load indexes it by register, as native code does (Embench nettle-aes on
    stm32f4: 70.6k -> 62.7k ticks).  Only a masked index: where the bounds check stays,
    the split costs an instruction (the check's sum `T + index` no longer is the address),
    and an array walked by a loop counter (`a + (i << 2)`) keeps its check; split too, our
    quicksort ran 1.5 % and bareiss_int 2.6 % slower.
    """
    if not (isinstance(value, ir.Instruction) and value.opname == "add"):
        return None, None
    left, right = value.operands
    for table, index in ((left, right), (right, left)):
        if _masked_index(index) and not isinstance(table, ir.Constant):
            return table, index
    return None, None


def _array_index(value: ir.Value) -> bool:
    """Whether `value` is an array index: `x << k` with a constant k of 1..3 (an index times 2, 4
    or 8), or a table index (`_masked_index`)."""
    return _scaled_index(value) or _masked_index(value)


def _scaled_index(value: ir.Value) -> bool:
    """Whether `value` is `x << k` with a constant k of 1..3: an array index times 2, 4 or 8."""
    if not (isinstance(value, ir.Instruction) and value.opname == "shl"):
        return False
    amount = value.operands[1]
    return isinstance(amount, ir.Constant) and isinstance(amount.constant, int) and 1 <= amount.constant <= 3


# The masks `_masked_index` takes for a table's index: from a byte's 256 entries up to 64 KiB
# (a table-driven cipher's `(x >> 6) & 1020`, a byte `x & 255`, a hash bucket `h & (size - 1)`);
# a pointer is never masked so.  Smaller masks index rows and rings (`s[4 * ((c + r) & 3) + r]`,
# SHA-256's `W[(i - 2) & 15]`) in a frame or a struct: split, our aes128 ran 0.9 % slower.
_TABLE_MASKS = range(0xFF, 0x10000)


def _masked_index(value: ir.Value) -> bool:
    """Whether `value` is `x & m` with a constant m in `_TABLE_MASKS`, or that shifted left by 1..3."""
    if _scaled_index(value):
        value = value.operands[0]
    if not (isinstance(value, ir.Instruction) and value.opname == "and"):
        return False
    masks = [op.constant for op in value.operands if isinstance(op, ir.Constant) and isinstance(op.constant, int)]
    return bool(masks) and (masks[0] & 0xFFFFFFFF) in _TABLE_MASKS


def _by_alignment(fctx: FuncContext, ptr: ir.Value, memarg: MemArg, size: int,
                  access: Callable[[int], ir.Value | None],
                  bytewise: Callable[[], ir.Value | None]) -> ir.Value | None:
    """Emit a load or store at an address of unknown alignment; returns the loaded value (or None).

    `access(align)` emits the access with that alignment; `bytewise()` emits
    it as single-byte accesses.  Where the hardware copes with misaligned
    words, that is `access(1)`.  On strict-alignment targets, when the hint
    promises natural alignment, the address is tested: aligned takes
    `access(size)`, misaligned `bytewise()` (a cold call).
    """
    if size == 1 or not fctx.mctx.target.strict_alignment or (1 << memarg.align) < size:
        return access(1)
    mctx = fctx.mctx
    builder = fctx.builder
    low_bits = builder.and_(builder.ptrtoint(ptr, mctx.intptr), ir.Constant(mctx.intptr, size - 1))
    misaligned = builder.icmp_unsigned("!=", low_bits, ir.Constant(mctx.intptr, 0), name="misaligned")
    aligned_block = builder.append_basic_block(name="access.aligned")
    bytewise_block = builder.append_basic_block(name="access.bytewise")
    join_block = builder.append_basic_block(name="access.done")
    builder.cbranch(misaligned, bytewise_block, aligned_block).set_weights([1, 2000])
    results = []
    for block, emit in ((aligned_block, lambda: access(size)), (bytewise_block, bytewise)):
        builder.position_at_end(block)
        results.append((emit(), builder.block))
        builder.branch(join_block)
    builder.position_at_end(join_block)
    if results[0][0] is None:
        return None
    phi = builder.phi(results[0][0].type, name="loaded")
    for value, block in results:
        phi.add_incoming(value, block)
    return phi


def _bytewise_load(fctx: FuncContext, ptr: ir.Value, int_type: ir.IntType) -> ir.Value:
    """Call the module's out-of-line single-byte load (the rare misaligned path stays small)."""
    helper = _bytewise_helper(fctx, "load", int_type)
    return fctx.builder.call(helper, [fctx.builder.bitcast(ptr, I8.as_pointer())], name="loaded.bytes")


def _bytewise_store(fctx: FuncContext, ptr: ir.Value, value: ir.Value) -> None:
    helper = _bytewise_helper(fctx, "store", value.type)
    fctx.builder.call(helper, [fctx.builder.bitcast(ptr, I8.as_pointer()), value])


def _bytewise_helper(fctx: FuncContext, kind: str, int_type: ir.IntType) -> ir.Function:
    """`waft.load.bytes.iN(p)` / `waft.store.bytes.iN(p, v)`: little-endian, one byte at a time.

    Spelled out byte by byte (not a load with align 1): LLVM would merge that
    with the aligned path's load of the same address, keeping the weaker
    alignment.  One internal, never-inlined copy per module and width.
    """
    mctx = fctx.mctx
    name = f"waft.{kind}.bytes.i{int_type.width}"
    helper = mctx.llmod.globals.get(name)
    if helper is not None:
        return helper
    byte_ptr = I8.as_pointer()
    if kind == "load":
        fnty = ir.FunctionType(int_type, [byte_ptr])
    else:
        fnty = ir.FunctionType(ir.VoidType(), [byte_ptr, int_type])
    helper = ir.Function(mctx.llmod, fnty, name=name)
    helper.linkage = "internal"
    for attr in ("nounwind", "noinline", "cold"):
        helper.attributes.add(attr)
    builder = ir.IRBuilder(helper.append_basic_block("entry"))
    first = helper.args[0]
    value = None if kind == "load" else helper.args[1]
    for i in range(int_type.width // 8):
        at = builder.gep(first, [ir.Constant(I32, i)])
        if kind == "load":
            part = builder.zext(mctx.tbaa(builder.load(at, align=1), "memory"), int_type)
            if i:
                part = builder.shl(part, ir.Constant(int_type, 8 * i))
            value = part if value is None else builder.or_(value, part)
        else:
            part = builder.lshr(value, ir.Constant(int_type, 8 * i)) if i else value
            mctx.tbaa(builder.store(builder.trunc(part, I8), at, align=1), "memory")
    if kind == "load":
        builder.ret(value)
    else:
        builder.ret_void()
    return helper


def _load(valtype: str, bits: int, signed: bool) -> Handler:
    value_type = _VALUE[valtype]
    mem_type = _INT[bits]

    def lower(fctx: FuncContext, instr: Instr) -> None:
        builder = fctx.builder

        def emit(ptr: ir.Value) -> ir.Value:
            typed = builder.bitcast(ptr, mem_type.as_pointer())

            def load(align: int) -> ir.Value:
                return fctx.mctx.tbaa(builder.load(typed, name="load", align=align), "memory")

            return _by_alignment(fctx, ptr, instr.imm, bits // 8, load, lambda: _bytewise_load(fctx, ptr, mem_type))

        raw = _access(fctx, instr.imm, bits // 8, False, emit)
        if valtype in ("f32", "f64"):
            value = builder.bitcast(raw, value_type)
        elif bits < value_type.width:
            value = (builder.sext if signed else builder.zext)(raw, value_type)
        else:
            value = raw
        fctx.push(value)

    return lower


def _store(valtype: str, bits: int) -> Handler:
    mem_type = _INT[bits]

    def lower(fctx: FuncContext, instr: Instr) -> None:
        builder = fctx.builder
        value = fctx.pop()
        if valtype in ("f32", "f64"):
            value = builder.bitcast(value, mem_type)
        elif bits < value.type.width:
            value = builder.trunc(value, mem_type)

        def emit(ptr: ir.Value) -> None:
            typed = builder.bitcast(ptr, mem_type.as_pointer())

            def store(align: int) -> None:
                fctx.mctx.tbaa(builder.store(value, typed, align=align), "memory")

            _by_alignment(fctx, ptr, instr.imm, bits // 8, store, lambda: _bytewise_store(fctx, ptr, value))

        _access(fctx, instr.imm, bits // 8, True, emit)

    return lower


def _member(fctx: FuncContext, index: int, member: str) -> ir.Value:
    """Pointer to a field of memory `index`'s descriptor (computed once per function)."""
    return bulk.member(fctx, "memory", index, member)


def _desc(fctx: FuncContext, index: int) -> ir.Value:
    return bulk.desc(fctx, "memory", index)


def memory_size(fctx: FuncContext, instr: Instr) -> None:
    mctx, builder = fctx.mctx, fctx.builder
    fixed = fixed_size(fctx, instr.imm)
    if fixed is not None:
        fctx.push(ir.Constant(I32, mctx.memories[instr.imm].type.limits.min))
        return
    pages = builder.load(_member(fctx, instr.imm, "pages"), name="mem.pages")
    fctx.push(mctx.tbaa(pages, "descriptor"))


def memory_grow(fctx: FuncContext, instr: Instr) -> None:
    delta = fctx.pop()
    grow = fctx.mctx.runtime_function("waft_memory_grow")
    fctx.push(fctx.builder.call(grow, [_desc(fctx, instr.imm), delta], name="mem.grow"))


def memory_fill(fctx: FuncContext, instr: Instr) -> None:
    bulk.fill(fctx, "memory", instr.imm)


def memory_copy(fctx: FuncContext, instr: Instr) -> None:
    dst_mem, src_mem = instr.imm
    bulk.copy(fctx, "memory", dst_mem, src_mem)


def memory_init(fctx: FuncContext, instr: Instr) -> None:
    data_index, mem_index = instr.imm
    mctx = fctx.mctx
    bulk.init(fctx, "memory", "data", data_index, mem_index, mctx.data_constant(data_index),
              len(mctx.module.datas[data_index].data))


def data_drop(fctx: FuncContext, instr: Instr) -> None:
    bulk.segment_drop(fctx, "data", instr.imm)


def _build() -> dict[str, Handler]:
    handlers: dict[str, Handler] = {
        "i32.load": _load("i32", 32, False),
        "i64.load": _load("i64", 64, False),
        "f32.load": _load("f32", 32, False),
        "f64.load": _load("f64", 64, False),
        "i32.store": _store("i32", 32),
        "i64.store": _store("i64", 64),
        "f32.store": _store("f32", 32),
        "f64.store": _store("f64", 64),
        "memory.size": memory_size,
        "memory.grow": memory_grow,
        "memory.fill": memory_fill,
        "memory.copy": memory_copy,
        "memory.init": memory_init,
        "data.drop": data_drop,
    }
    for valtype, widths in (("i32", (8, 16)), ("i64", (8, 16, 32))):
        for bits in widths:
            handlers[f"{valtype}.load{bits}_s"] = _load(valtype, bits, True)
            handlers[f"{valtype}.load{bits}_u"] = _load(valtype, bits, False)
            handlers[f"{valtype}.store{bits}"] = _store(valtype, bits)
    return handlers


HANDLERS: dict[str, Handler] = _build()
