"""Prove a counted loop's address ranges once at its entry, and run a copy of the loop without those checks.

Issue 17, docs/performance.md "Bounds checks in loops": at -O0..-O3 (never
at -Os/-Oz, where the second copy's flash is what counts) an innermost loop
of the shape below is lowered twice, behind one branch at its entry on the
precondition `ok`: a proven copy without the checks `ok` covers, and the
checked copy, the loop as lowered without this module.  A loop with fewer
than `MIN_COVERED` covered accesses keeps only its checked copy.

The loops covered are the shape clang gives a counted loop (fft_fixed's
butterfly): closed by a down-counter, `local.get c; i32.const -1; i32.add;
local.tee c; br_if 0` just before the loop's `end`, with induction locals each
written exactly once, at the top level of the body, as `local.get x;
(i32.const s | local.get inv); i32.add; local.set/tee x`, and no other branch
back to the loop.  With the counter `c0` at entry, iteration k (0 <= k <
c0, for 0 < c0) sees `x = x0 + k * s` (mod 2^32) before x's update.

An access inside the loop (not inside a loop nested in it) whose address is
`constant + sum(coefficient * local)` over locals the loop never writes and
induction locals loaded before their update is then at `f(k) mod 2^32`, with
`f` affine in k, computed in i64 from the locals' values at entry.  When
`0 <= f(k)` and `f(k) + offset + size <= memory size` at k = 0 and at k =
c0 - 1, they hold for every k in between, so the access is in bounds in every
iteration: `f(k)` is then below 2^32 and equals the i32 address.  A memory's
size never shrinks, so a size read at entry stays a valid bound through any
memory.grow in the loop.  The terms stay far from i64 overflow: coefficients
of at most 8, steps below 2^31 and c0 capped at 2^20 (else the precondition
fails and the checked loop runs).

The precondition `ok` is built up as the proven copy is lowered: a
placeholder `and i1 true, true` in a block of its own before the loop, into
which each covered access's condition is `and`ed.  Each covered check there
becomes `oob and not ok`, which LLVM folds to nothing, since that copy runs
only when `ok` holds; it is exactly as strict as the check whenever `ok`
holds only when the access is in bounds.  Then aot/lower/control.py lowers
the loop again from its start, as the checked copy (`fctx.resume_at`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llvmlite import ir

from aot.lower.context import I1, I32, I64, FuncContext
from aot.wasm.module import Instr

ENABLED = True
MAX_TRIPS = 1 << 20
MIN_COVERED = 3  # measured over the stm32f4 suite, docs/performance.md
MIN_TRIPS = 1  # no lower limit: measured, short runs gain too (docs/performance.md, "Status of aot/lower/loop_ranges.py")
_MAX_COEFFICIENT = 8
_MAX_TERMS = 6
_OPENERS = ("block", "loop", "if", "try", "try_table")


@dataclass(frozen=True)
class Close:
    """The loop goes on while `x_new + d REL bound` (i32 arithmetic, `signed` or not), x stepping by `step`."""

    local: int
    step: int
    d: int
    rel: str  # "<", "<=", ">", ">=" or "!="
    signed: bool
    bound: tuple[str, int]  # ("const", value) or ("local", invariant local)


@dataclass
class LoopRanges:
    """What the scan proved about one loop, and the precondition being built at its entry."""

    start: int  # index of the `loop` instruction in the body
    written: set[int]  # locals written anywhere in the loop
    writes: dict[int, list[int]]  # local -> indices of its writes, for locals written only at the top level
    steps: dict[int, tuple[str, int]]  # induction local -> ("const", step) or ("local", invariant local)
    updates: dict[int, int]  # induction local -> index of its one write
    close: Close
    accesses: int  # loads and stores in the loop
    ok: ir.Instruction | None = None  # the placeholder `and`
    entry: dict[object, ir.Value] = field(default_factory=dict)  # values computed at entry
    last: ir.Value | None = None  # the counter at entry minus one (i64): the last iteration's k
    checked_entry: ir.Block | None = None  # where the checked copy of the loop starts
    params: list[ir.Value] = field(default_factory=list)  # the loop's parameters at entry, for both copies
    covered: int = 0  # accesses whose check the proven copy left out
    choice: ir.Instruction | None = None  # the branch on `ok` into the proven or the checked copy


def worth_versioning(facts: LoopRanges) -> bool:
    """Whether a loop whose proven copy leaves out `facts.covered` checks per iteration keeps both copies.

    A loop with fewer covered accesses runs only its checked copy (the branch
    into the proven one is made never taken, and LLVM deletes that copy): the
    precondition and the second copy's flash cost more than one or two
    compares per iteration save (measured: docs/performance.md).
    """
    return facts.covered >= MIN_COVERED


def scan(body: list[Instr], start: int) -> LoopRanges | None:
    """The facts above for the loop opened at `body[start]`, or None when it is not of the shape."""
    depth = 0
    writes: dict[int, list[tuple[int, int]]] = {}
    back_edges: list[int] = []
    end = None
    accesses = 0
    for index in range(start + 1, len(body)):
        instr = body[index]
        op = instr.op
        if op in _OPENERS:
            if op == "loop":
                return None  # innermost loops only: a nested loop would be lowered twice, and its own copies too
            depth += 1
        elif op in ("end", "delegate"):
            if depth == 0:
                end = index
                break
            depth -= 1
        elif op in ("local.set", "local.tee"):
            writes.setdefault(instr.imm, []).append((index, depth))
        elif ".load" in op or ".store" in op:
            accesses += 1
        elif op in ("br", "br_if"):
            if instr.imm == depth:
                back_edges.append(index)
        elif op == "br_table":
            labels, default = instr.imm
            if depth in labels or default == depth:
                return None
        elif op.startswith("br_on") or op in ("rethrow",):
            return None  # branches the scan does not follow
    if end is None or back_edges != [end - 1] or body[end - 1].op != "br_if":
        return None
    steps: dict[int, tuple[str, int]] = {}
    updates: dict[int, int] = {}
    for local, places in writes.items():
        if len(places) != 1 or places[0][1] != 0:
            continue
        at = places[0][0]
        if at - 3 <= start:
            continue
        get, step, add = body[at - 3], body[at - 2], body[at - 1]
        if get.op != "local.get" or get.imm != local or add.op != "i32.add":
            continue
        if step.op == "i32.const":
            value = step.imm & 0xFFFFFFFF
            steps[local] = ("const", value - (1 << 32) if value >= 1 << 31 else value)
        elif step.op == "local.get" and step.imm not in writes:
            steps[local] = ("local", step.imm)
        else:
            continue
        updates[local] = at
    close = _closing(body, start, end, writes, steps, updates)
    if close is None:
        return None
    top_level = {local: [at for at, _ in places] for local, places in writes.items()
                 if all(depth == 0 for _, depth in places)}
    return LoopRanges(start, set(writes), top_level, steps, updates, close, accesses)


# The closing compare, as `continue while x_new + d REL bound`, from the instruction and operand order.
_RELATIONS = {"i32.lt_s": ("<", True), "i32.lt_u": ("<", False), "i32.le_s": ("<=", True),
              "i32.le_u": ("<=", False), "i32.gt_s": (">", True), "i32.gt_u": (">", False),
              "i32.ge_s": (">=", True), "i32.ge_u": (">=", False), "i32.ne": ("!=", False)}
_SWAPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "!=": "!="}


def _closing(body: list[Instr], start: int, end: int, writes: dict, steps: dict[int, tuple[str, int]],
             updates: dict[int, int]) -> Close | None:
    """How the loop's final `br_if 0` decides, when it compares an induction local with an invariant.

    Accepted: `local.tee c` of a down- or up-counter alone (`c_new != 0`), or
    a compare of `x_new [+ d]` with `i32.const n` or an invariant `local.get
    n`, either way round, where x_new is x's updated value: its update's
    `local.tee`, or a `local.get x` after the update (the one write, at the top
    level, runs before it in every iteration).
    """
    def induction_value(at: int) -> tuple[int, int, int] | None:  # (local, d, operand's first index)
        d = 0
        if at - 2 > start and body[at].op == "i32.add" and body[at - 1].op == "i32.const":
            value = body[at - 1].imm & 0xFFFFFFFF
            d = value - (1 << 32) if value >= 1 << 31 else value
            at -= 2
        instr = body[at]
        if instr.op not in ("local.tee", "local.get") or steps.get(instr.imm, ("local",))[0] != "const":
            return None
        if instr.op == "local.tee" and updates[instr.imm] != at:
            return None
        if instr.op == "local.get" and updates[instr.imm] >= at:
            return None
        # The operand's first instruction: a tee's value is its update's whole `local.get x; step; i32.add`.
        return instr.imm, d, at - 3 if instr.op == "local.tee" else at

    def bound(instr: Instr) -> tuple[str, int] | None:
        if instr.op == "i32.const":
            return "const", instr.imm & 0xFFFFFFFF
        if instr.op == "local.get" and instr.imm not in writes:
            return "local", instr.imm
        return None

    last = end - 2
    if body[last].op == "local.tee":
        found = induction_value(last)
        if found is None or found[1] != 0:
            return None
        return _checked_close(Close(found[0], steps[found[0]][1], 0, "!=", False, ("const", 0)))
    relation = _RELATIONS.get(body[last].op)
    if relation is None or last - 2 <= start:
        return None
    rel, signed = relation
    right = bound(body[last - 1])
    if right is not None and (found := induction_value(last - 2)) is not None:
        local, d, _ = found
        return _checked_close(Close(local, steps[local][1], d, rel, signed, right))
    found = induction_value(last - 1)
    if found is None or found[2] - 1 <= start:
        return None
    left = bound(body[found[2] - 1])
    if left is None:
        return None
    return _checked_close(Close(found[0], steps[found[0]][1], found[1], _SWAPPED[rel], signed, left))


def _checked_close(close: Close) -> Close | None:
    """The close when its trip count has a closed form: `!=`, `<` up and `>` down, each by a power of two.

    `!=` by more than 1 is clang's counted loop over an array of words (`i += 4; i != 64`).
    """
    step = close.step
    if close.rel == "!=":
        magnitude = abs(step)
        return close if 0 < magnitude <= 1 << 16 and not magnitude & (magnitude - 1) else None
    up = close.rel in ("<", "<=")
    magnitude = step if up else -step
    if magnitude <= 0 or magnitude & (magnitude - 1) or magnitude > 1 << 16:
        return None
    return close


def begin_loop(fctx: FuncContext, params: list[ir.Value]) -> LoopRanges | None:
    """At a `loop` instruction: scan it; when of the shape, branch to the proven or the checked copy.

    Emits, from the current block: the trip-count test (`MIN_TRIPS <= c0 <=
    MAX_TRIPS`, else the checked copy), then the placeholder `ok` and a branch
    on it to a new block where the builder is left: the caller lowers the
    proven copy of the loop from there, and the checked copy from
    `checked_entry` when it reaches the loop's `end` (aot/lower/control.py).
    Returns None, and emits nothing, when the loop is not versioned.
    """
    mctx = fctx.mctx
    if (not ENABLED or not mctx.bounds_checks or mctx.windows or fctx.instr_index < 0
            or "optsize" in mctx.function_attributes):
        return None  # -Os and -Oz: the second copy costs flash, which is what they are for
    facts = scan(fctx.body, fctx.instr_index)
    if facts is None or facts.accesses < MIN_COVERED:
        return None  # (too few accesses: cannot be `worth_versioning`, so not even one copy is lowered twice)
    builder = fctx.builder
    facts.params = list(params)
    pre = fctx.function.append_basic_block("loop.ranges")
    builder.branch(pre)
    builder.position_at_end(pre)
    facts.last, exits = _last_iteration(fctx, facts)
    # MIN_TRIPS - 1 <= last < MAX_TRIPS in one unsigned compare.
    trips = builder.icmp_unsigned("<", builder.sub(facts.last, ir.Constant(I64, MIN_TRIPS - 1)),
                                  ir.Constant(I64, MAX_TRIPS - MIN_TRIPS + 1), name="entry.trips")
    trips = builder.and_(trips, exits, name="entry.trips")
    ranges = fctx.function.append_basic_block("loop.ranges.proof")
    facts.checked_entry = fctx.function.append_basic_block("loop.checked")
    builder.cbranch(trips, ranges, facts.checked_entry)
    builder.position_at_end(ranges)
    facts.ok = builder.and_(ir.Constant(I1, 1), ir.Constant(I1, 1), name="loop.ok")
    proven = fctx.function.append_basic_block("loop.proven")
    facts.choice = builder.cbranch(facts.ok, proven, facts.checked_entry)
    builder.position_at_end(proven)
    return facts


def _last_iteration(fctx: FuncContext, facts: LoopRanges) -> tuple[ir.Value, ir.Value]:
    """(last, exits): i64 `last` such that the loop runs no iteration k > last when `exits` holds.

    Iteration k's closing compare sees `Y(k) = x0 + d + (k + 1) * step`
    wrapped to 32 bits.  For `!=` and a step of +-m (m = 2^j), the first k at which it
    equals the bound is `last`, in 32-bit arithmetic, when m divides the distance
    from `x0 + d` to the bound (`exits`; else the counter steps over it).  For
    `<` (step up by s = 2^j) `last` is the largest k with `Y(k - 1) < N`, i.e.
    `max(0, (N - 1 - d - x0) >> j)`, so that `Y(last)`, computed in i64 without
    wrapping, is `>= N`: the loop stops after iteration `last` as long as
    `Y(last)` is a 32-bit value of the compare's signedness (no wrap back
    below N); that is `exits`.  `>` (step down) is the mirror image.  `<=`
    and `>=` are `< N + 1` and `> N - 1` in i64.  An earlier exit (a branch
    out, a trap) only runs fewer iterations, which the ranges still cover.
    """
    builder = fctx.builder
    close = facts.close
    signed = close.signed
    kind, value = close.bound
    if kind == "const":
        bound = ir.Constant(I64, value - (1 << 32) if signed and value >= 1 << 31 else value)
    else:
        bound = _entry_value(fctx, facts, value, signed)
    if close.rel == "!=":
        x0 = builder.load(fctx.locals[close.local], name=f"entry.local{close.local}")
        n = (ir.Constant(I32, value - (1 << 32) if value >= 1 << 31 else value) if kind == "const"
             else builder.load(fctx.locals[value]))
        d = ir.Constant(I32, close.d & 0xFFFFFFFF)
        if close.step > 0:  # x0 + d + (k + 1) * m == n (mod 2^32)
            distance = builder.sub(builder.sub(n, d), x0)
        else:  # x0 + d - (k + 1) * m == n (mod 2^32)
            distance = builder.sub(builder.add(x0, d), n)
        magnitude = abs(close.step)
        # The loop stops at k = distance / m - 1 when m divides the distance; otherwise the
        # counter steps over n and wraps (`exits` is false: the checked copy runs).  A distance
        # of 0 is 2^32 / m trips: `last` comes out as 2^32 - 1, over MAX_TRIPS.
        trips = builder.lshr(distance, ir.Constant(I32, magnitude.bit_length() - 1))
        last = builder.zext(builder.sub(trips, ir.Constant(I32, 1)), I64, name="entry.last")
        exits = builder.icmp_unsigned("==", builder.and_(distance, ir.Constant(I32, magnitude - 1)),
                                      ir.Constant(I32, 0), name="entry.exits")
        return last, exits
    x0 = _entry_value(fctx, facts, close.local, signed)
    d = ir.Constant(I64, close.d)
    up = close.rel in ("<", "<=")
    if close.rel == "<=":
        bound = builder.add(bound, ir.Constant(I64, 1))
    elif close.rel == ">=":
        bound = builder.sub(bound, ir.Constant(I64, 1))
    start = builder.add(x0, d)
    if up:
        remaining = builder.sub(builder.sub(bound, ir.Constant(I64, 1)), start)
    else:
        remaining = builder.sub(builder.sub(start, bound), ir.Constant(I64, 1))
    positive = builder.icmp_signed(">", remaining, ir.Constant(I64, 0))
    remaining = builder.select(positive, remaining, ir.Constant(I64, 0))
    shift = (abs(close.step)).bit_length() - 1
    last = builder.lshr(remaining, ir.Constant(I64, shift), name="entry.last")
    final = builder.add(start, builder.mul(builder.add(last, ir.Constant(I64, 1)), ir.Constant(I64, close.step)))
    low, high = (-(1 << 31), (1 << 31) - 1) if signed else (0, (1 << 32) - 1)
    exits = builder.and_(builder.icmp_signed(">=", final, ir.Constant(I64, low)),
                         builder.icmp_signed("<=", final, ir.Constant(I64, high)), name="entry.exits")
    return last, exits


def covered(fctx: FuncContext, addr: ir.Value, offset: int, size: int, memory: int) -> ir.Value | None:
    """The loop's `ok` when it proves this access in bounds (its condition is added to it), else None.

    Only the proven copy of a loop has facts on its frame: its code runs only
    when `ok` holds, so the check `oob and not ok` folds away there.
    """
    facts = _innermost(fctx)
    if facts is None or facts.ok is None:
        return None
    form = _affine(fctx, facts, addr)
    if form is None:
        return None
    constant, terms = form
    if not any(local in facts.steps for local in terms):
        # The same address in every iteration: LLVM folds (constant size) or hoists its check already.
        return None
    builder = fctx.builder
    here = builder.block
    builder.position_before(facts.ok)
    try:
        condition = _in_bounds(fctx, facts, constant, terms, offset + size, memory)
    finally:
        builder.position_at_end(here)
    previous = facts.ok.operands[0]
    builder.position_before(facts.ok)
    both = builder.and_(previous, condition, name="loop.ok.part")
    builder.position_at_end(here)
    facts.ok.replace_usage(previous, both)
    facts.covered += 1
    return facts.ok


def _innermost(fctx: FuncContext) -> LoopRanges | None:
    for frame in reversed(fctx.control):
        if frame.kind == "loop":
            return frame.ranges
    return None


def _affine(fctx: FuncContext, facts: LoopRanges, addr: ir.Value) -> tuple[int, dict[int, int]] | None:
    """`addr` as (constant, {local: coefficient}) over locals usable at entry, or None."""
    allocas = {id(alloca): index for index, alloca in enumerate(fctx.locals) if alloca is not None}

    def walk(value: ir.Value, depth: int) -> tuple[int, dict[int, int]] | None:
        if depth > 12:
            return None
        if isinstance(value, ir.Constant) and value.type == I32 and isinstance(value.constant, int):
            c = value.constant & 0xFFFFFFFF
            return (c - (1 << 32) if c >= 1 << 31 else c), {}
        if not isinstance(value, ir.Instruction):
            return None
        if value.opname == "load" and id(value.operands[0]) in allocas and value.type == I32:
            local = allocas[id(value.operands[0])]
            if local not in facts.written:
                return 0, {local: 1}
            read = fctx.local_reads.get(id(value))
            if read is None or read <= facts.start:
                return None
            if local in facts.steps:
                if read < facts.updates[local]:
                    return 0, {local: 1}  # x0 + k * step
                kind, step = facts.steps[local]  # after the update: x0 + (k + 1) * step
                return (step, {local: 1}) if kind == "const" else (0, {local: 1, step: 1})
            # A local written only at the top level holds, after a write in this iteration, what the
            # last such write stored: each write runs before every later instruction of the iteration.
            before = [at for at in facts.writes.get(local, ()) if at < read]
            if not before or (local, before[-1]) not in fctx.local_writes:
                return None
            return walk(fctx.local_writes[(local, before[-1])], depth + 1)
        if value.opname == "add":
            left, right = (walk(v, depth + 1) for v in value.operands)
            if left is None or right is None:
                return None
            terms = dict(left[1])
            for local, coefficient in right[1].items():
                terms[local] = terms.get(local, 0) + coefficient
            return left[0] + right[0], terms
        if value.opname in ("shl", "mul"):
            inner, amount = value.operands
            if not (isinstance(amount, ir.Constant) and isinstance(amount.constant, int)):
                return None
            if value.opname == "shl":
                if not 0 <= amount.constant <= 3:
                    return None
                factor = 1 << amount.constant
            else:
                factor = amount.constant
                if not 0 <= factor <= _MAX_COEFFICIENT:
                    return None
            form = walk(inner, depth + 1)
            if form is None:
                return None
            return form[0] * factor, {local: c * factor for local, c in form[1].items()}
        return None

    form = walk(addr, 0)
    if form is None:
        return None
    constant, terms = form
    terms = {local: c for local, c in terms.items() if c}
    if len(terms) > _MAX_TERMS or any(abs(c) > _MAX_COEFFICIENT for c in terms.values()):
        return None
    if abs(constant) >= 1 << 33:
        return None
    return constant, terms


def _entry_value(fctx: FuncContext, facts: LoopRanges, local: int, signed: bool) -> ir.Value:
    """The local's value at loop entry as i64 (builder is at the entry block)."""
    key = (local, signed)
    value = facts.entry.get(key)
    if value is None:
        builder = fctx.builder
        raw = builder.load(fctx.locals[local], name=f"entry.local{local}")
        value = builder.sext(raw, I64) if signed else builder.zext(raw, I64)
        facts.entry[key] = value
    return value


def _in_bounds(fctx: FuncContext, facts: LoopRanges, constant: int, terms: dict[int, int],
               span: int, memory: int) -> ir.Value:
    """i1 at entry: the access is in bounds at the first and at the last iteration (see the docstring)."""
    from aot.lower.memory import memory_size_bytes

    builder = fctx.builder
    last = facts.last
    # The terms' sum at the first and the last iteration, shared by every access over the same
    # locals: each access then compares them with constants (when the memory's size is one), and
    # LLVM merges the compares of a group into one pair.
    key = ("sum", tuple(sorted(terms.items())))
    sums = facts.entry.get(key)
    if sums is None:
        first: ir.Value = ir.Constant(I64, 0)
        slope: ir.Value = ir.Constant(I64, 0)
        for local, coefficient in sorted(terms.items()):
            scale = ir.Constant(I64, coefficient)
            first = builder.add(first, builder.mul(scale, _entry_value(fctx, facts, local, signed=False)))
            if local in facts.steps:
                kind, step = facts.steps[local]
                step_value = (ir.Constant(I64, step) if kind == "const"
                              else _entry_value(fctx, facts, step, signed=True))
                slope = builder.add(slope, builder.mul(scale, step_value))
        sums = first, builder.add(first, builder.mul(slope, last), name="entry.at_last")
        facts.entry[key] = sums
    memsize = memory_size_bytes(fctx, memory)
    if memsize.type != I64:
        memsize = builder.zext(memsize, I64)
    # constant + sum >= 0 and constant + sum + span <= size, for the sum at both ends.
    lowest = ir.Constant(I64, -constant)
    highest = builder.sub(memsize, ir.Constant(I64, span + constant), name="entry.limit")  # may be negative
    ok: ir.Value = ir.Constant(I1, 1)
    for total in sums:
        ok = builder.and_(ok, builder.icmp_signed(">=", total, lowest))
        ok = builder.and_(ok, builder.icmp_signed("<=", total, highest))
    return ok
