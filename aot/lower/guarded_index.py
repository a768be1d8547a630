"""A buffer and its length passed to a function: one check at entry for every `s[i]` the code guards with `i < n`.

A parser or tokenizer takes `(const char *s, uint32_t n)` and reads `s[i]`
only after testing `i < n`; `i` moves by data-dependent steps, so no loop
has a trip count to prove (aot/lower/loop_ranges.py), and every `s[i]` kept
its own check (json_tokenize: 21 % of its time).  But where `s + n` fits in
memory, every `s + i` with `i <u n` does, whatever `i` did to get there.

So a function whose body reads `s + i` (loads only) for locals `s` and `n`
that it never writes, and compares `i` with `n` unsigned somewhere (`plan`),
is lowered twice behind one test at its entry (aot/lower/module.py):

    entry:  g = (s + n - 1 + offset + size <= memory size)  (in 64 bits, each pair)
            br g, fast, checked
    fast:   the body; each such access checks `oob and i >=u n`
    checked: the body as without this module

`oob and i >=u n` is exactly `oob` in the fast copy (with g, an access whose
`i <u n` is in bounds), and LLVM folds `i >=u n` to false wherever the
program's own `i < n` dominates the access, so those checks disappear; an
access not so dominated keeps its check.  A memory never shrinks, so g stays
true through any memory.grow.  The fast copy costs the function's flash
again: only functions with `MIN_ACCESSES` guarded accesses or more, at most
`MAX_BODY` instructions, at the speed levels (-O1..-O3), are versioned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llvmlite import ir

from aot.lower.context import I1, I64, FuncContext
from aot.lower.check_groups import access_size
from aot.wasm.module import Function, FuncType

MIN_ACCESSES = 3
MAX_BODY = 4000
_UNSIGNED_COMPARES = ("i32.lt_u", "i32.ge_u", "i32.gt_u", "i32.le_u")


@dataclass
class Plan:
    """The guarded accesses of one function body."""

    # body index of the access -> (buffer local, index local, length local)
    accesses: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    # (buffer local, length local, memory) -> the largest offset + size of their accesses
    spans: dict[tuple[int, int, int], int] = field(default_factory=dict)


def plan(function: Function, functype: FuncType) -> Plan | None:
    """The guarded accesses of `function`, or None when too few to be worth a second copy."""
    body = function.body
    if len(body) > MAX_BODY:
        return None
    written = {instr.imm for instr in body if instr.op in ("local.set", "local.tee")}
    nlocals = len(functype.params) + len(function.locals)
    i32_locals = {k for k in range(nlocals) if _local_type(function, functype, k) == "i32"}
    fixed = i32_locals - written
    guarded: dict[int, set[int]] = {}  # index local -> length locals it is compared with, unsigned
    for at in range(2, len(body)):
        if body[at].op not in _UNSIGNED_COMPARES:
            continue
        left, right = body[at - 2], body[at - 1]
        # `i < n` or `n > i`; the index may be a tee of its new value (`(i = i + 1) < n`).
        pairs = []
        if left.op in ("local.get", "local.tee") and right.op == "local.get":
            pairs.append((left.imm, right.imm))
        if left.op == "local.get" and right.op in ("local.get", "local.tee"):
            pairs.append((right.imm, left.imm))
        for index, length in pairs:
            if length in fixed and index in i32_locals and index != length:
                guarded.setdefault(index, set()).add(length)
    if not guarded:
        return None
    found = Plan()
    for at in range(3, len(body)):
        instr = body[at]
        if ".load" not in instr.op or ".atomic" in instr.op:
            continue  # (a store's value, not its address, comes just before it)
        first, second, add = body[at - 3], body[at - 2], body[at - 1]
        if add.op != "i32.add" or first.op != "local.get" or second.op != "local.get":
            continue
        for buffer, index in ((first.imm, second.imm), (second.imm, first.imm)):
            if buffer in fixed and index in guarded:
                length = min(guarded[index] - {buffer}, default=None)
                if length is None:
                    continue
                memarg = instr.imm
                found.accesses[at] = (buffer, index, length)
                key = (buffer, length, memarg.memory)
                found.spans[key] = max(found.spans.get(key, 0), memarg.offset + access_size(instr.op))
                break
    return found if len(found.accesses) >= MIN_ACCESSES else None


def _local_type(function: Function, functype: FuncType, k: int) -> str:
    params = functype.params
    return params[k] if k < len(params) else function.locals[k - len(params)]


def entry_condition(fctx: FuncContext, found: Plan) -> ir.Value:
    """i1 at the function's entry: every pair's `s + n - 1 + span <= memory size`, computed in 64 bits."""
    from aot.lower.memory import memory_size_bytes

    builder = fctx.builder
    ok: ir.Value = ir.Constant(I1, 1)
    for (buffer, length, memory), span in sorted(found.spans.items()):
        s = builder.zext(builder.load(fctx.locals[buffer], name=f"guard.s{buffer}"), I64)
        n = builder.zext(builder.load(fctx.locals[length], name=f"guard.n{length}"), I64)
        end = builder.add(builder.add(s, n), ir.Constant(I64, span - 1), name="guard.end")
        size = memory_size_bytes(fctx, memory)
        if size.type != I64:
            size = builder.zext(size, I64)
        ok = builder.and_(ok, builder.icmp_unsigned("<=", end, size), name="guard.ok")
    return ok


def unguarded(fctx: FuncContext, addr: ir.Value) -> ir.Value | None:
    """In the fast copy, for the access being lowered: i1 `i >=u n` (outside the guarded range), else None."""
    found = fctx.guarded
    if found is None:
        return None
    access = found.accesses.get(fctx.instr_index)
    if access is None or not (isinstance(addr, ir.Instruction) and addr.opname == "add"):
        return None
    buffer, index, length = access
    left, right = addr.operands

    def local_of(value: ir.Value) -> int | None:
        return fctx.local_index(value.operands[0]) if isinstance(value, ir.LoadInstr) else None

    if local_of(left) == buffer and local_of(right) == index:
        index_value = right
    elif local_of(right) == buffer and local_of(left) == index:
        index_value = left
    else:
        return None
    builder = fctx.builder
    n = builder.load(fctx.locals[length], name=f"guard.n{length}")
    return builder.icmp_unsigned(">=", index_value, n, name="guard.outside")
