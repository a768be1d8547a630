"""Merge the bounds checks of straight-line loads from one address into one check at the first.

C reads several fields of one struct, or neighbouring bytes of one array, from
one address: `p->left`, `p->key`, `p->right` are `local.get p; i32.load
offset=0/4/8`, and `s[i]`, `s[i + 1]` are `(s + i)` loaded at offsets 0 and 1.
Each access gets its own compare and branch (aot/lower/memory.py
`checked_address`).  Where the memory's size is a constant, LLVM merges them
itself (SimplifyCFG `or`s the conditions of neighbouring branches to the
shared trap block, computed from the address alone).  Where the size is
loaded from the memory's descriptor (a memory that can grow), it does not:
on Cortex-M `p->a + p->b + p->c` kept three compares.  So this module's
rules apply only to such memories (`merged_size`).

A *group* is the loads, from one memory, of one address value with no
instruction between the first and the last that can trap with another code,
have an effect visible after a trap, or leave the straight line: no store,
call, memory.grow/fill/copy/init, global.set, table access, integer div/rem,
trapping float-to-int conversion, unreachable, atomic, or control instruction
other than entering a `block` (no branch, `if`, `else`, `end` or `loop`: code
after an `end` can be reached without passing the first load).  Only loads
(never atomic ones), pure arithmetic, local and global reads, local writes
and `memory.size` may sit in between.  Then the first load checks the group's
highest end, `addr + max(offset + size) <= memory size`, and the later ones
need no check: if any load of the group is out of bounds the program traps
with MEMORY_OUT_OF_BOUNDS either way (a load of another address in between
would trap with the same code), and nothing it did in between is visible
after the trap (locals and the value stack die with the call; loads change
nothing).  When all of them are in bounds, neither version traps.

"One address value" is decided on the Wasm, by a scan of the function body
before lowering: each load's address is the expression of the contiguous
pure instructions just before it (`local.get`, `global.get`, constants,
non-trapping arithmetic and conversions, and loads, whose values cannot change
within a group since no store is in it), read back from the load, with each
local read tagged by how many writes of that local came before it.  Two loads
whose expressions are equal compute the same value.  Anything else (a value
left on the stack by a branch, a call's result) ends the expression, and the
load is not grouped.

Stores are not grouped: a store that ran before a later store's failing
check must have happened (its bytes are visible after the trap), so a merged
check would need the individually checked sequence as a fall-back copy.

A second rule covers loads and stores alike, with no reordering at all: an
access whose end an earlier check of the same address value already tested,
on every path to it, needs no check of its own (`_dominated`): `p->n =
p->n + 1`, stores to fields in descending order.  LLVM folds these itself
for a memory of constant size, so the rule is applied only to memories whose
size is loaded, where it does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aot.wasm.module import Instr, MemArg

if TYPE_CHECKING:  # pragma: no cover - import only for type hints
    from aot.lower.context import FuncContext

_NUMERIC = ("i32.", "i64.", "f32.", "f64.")
_TRAPPING_NUMERIC = ("div_s", "div_u", "rem_s", "rem_u")
# Pure instructions with no operand and one result, and how their key is read from `imm`.
_LEAVES = ("i32.const", "i64.const", "f32.const", "f64.const", "local.get", "global.get", "memory.size")
# Allowed between the loads of a group besides loads and pure arithmetic: no trap, no effect after one.
_HARMLESS = frozenset(("local.get", "local.set", "local.tee", "global.get", "drop", "select", "nop",
                       "block", "memory.size"))
# Stack arity (operands) of the pure non-leaf instructions an address may be built from.
# The most instructions an address expression is followed through (C's are a handful).
_MAX_NODES = 32
# Where control flow joins or a path may not have passed what came before (the first instruction of a
# loop body is reached from its end too): an earlier check no longer holds on every path.
MERGES = frozenset(("if", "else", "end", "loop", "try", "catch", "catch_all", "delegate", "try_table"))
_UNARY_SUFFIXES = ("eqz", "clz", "ctz", "popcnt", "wrap_i64", "extend_i32_s", "extend_i32_u",
                   "extend8_s", "extend16_s", "extend32_s")


@dataclass(frozen=True)
class Plan:
    """What the scan decided for one function body.

    `spans[i]` is the span `max(offset + size) - offset` the first load of a
    group, at body index i, checks instead of its own size; `covered` holds
    the indices of the later loads of groups, which need no check, and
    `dominated` those of the other accesses an earlier check covers, which
    need none either (applied only where the memory's size is not constant:
    `merged_size`).
    """

    spans: dict[int, int]
    covered: frozenset[int]
    dominated: frozenset[int] = frozenset()


def is_load(op: str) -> bool:
    """A plain (non-atomic) scalar load: `i32.load`, `f64.load`, `i64.load8_s`, ..."""
    return op.startswith(_NUMERIC) and ".load" in op and "atomic" not in op


def access_size(op: str) -> int:
    """Bytes a plain load or store touches: from `load8`/`store16`/... or the value type."""
    tail = op.split(".", 1)[1]
    for bits in ("8", "16", "32"):
        if tail.startswith(("load" + bits, "store" + bits)):
            return int(bits) // 8
    return 8 if op.startswith(("i64.", "f64.")) else 4


def _pure_arity(op: str) -> int | None:
    """Operands of a pure, non-trapping numeric instruction (one result), else None."""
    if not op.startswith(_NUMERIC) or ".load" in op or ".store" in op or "atomic" in op:
        return None
    name = op.split(".", 1)[1]
    if name in _TRAPPING_NUMERIC:
        return None
    if name.startswith("trunc_") and not name.startswith("trunc_sat_") and not op.startswith("f"):
        return None  # i32.trunc_f32_s traps on NaN and out-of-range values (f32.trunc does not)
    if name == "const":
        return 0
    if name in _UNARY_SUFFIXES or name.startswith(("trunc_sat_", "convert_", "demote_", "promote_",
                                                    "reinterpret_")):
        return 1
    if op.startswith("f") and name in ("abs", "neg", "ceil", "floor", "trunc", "nearest", "sqrt"):
        return 1
    return 2


def _allowed_between(op: str) -> bool:
    """May this instruction sit between two loads of a group (see the module docstring)?"""
    return op in _HARMLESS or is_load(op) or _pure_arity(op) is not None


def is_store(op: str) -> bool:
    """A plain (non-atomic) scalar store: `i32.store`, `f64.store`, `i64.store8`, ..."""
    return op.startswith(_NUMERIC) and ".store" in op and "atomic" not in op


def _address_key(body: list[Instr], access: int, versions: dict[int, int],
                 follow_loads: bool) -> tuple[object, bool] | None:
    """A hashable expression for the address operand of `body[access]`, or None when not pure.

    Walks back over the contiguous instructions that produce it (for a store,
    first over those of the stored value); `versions[i]` is the number of
    writes of the local that `body[i]` (a `local.get`) reads.  Loads are
    followed only when `follow_loads` (no shared memory, which another thread
    may write between two reads of one address).  The flag says whether the
    expression reads memory, a global or memory.size: whether a store, call,
    global.set or memory.grow may change its value.
    """
    index = access - 1
    volatile = False
    budget = _MAX_NODES

    def operand() -> object | None:
        nonlocal index, volatile, budget
        budget -= 1
        if index < 0 or budget < 0:
            return None  # a long expression (recursion depth) is not worth following
        instr = body[index]
        op = instr.op
        index -= 1
        if op == "local.get":
            return ("local", instr.imm, versions[index + 1])
        if op in _LEAVES:
            volatile = volatile or op in ("global.get", "memory.size")
            return (op, instr.imm)
        if is_load(op) and follow_loads:
            volatile = True
            inner = operand()
            return None if inner is None else (op, instr.imm.offset, instr.imm.memory, inner)
        arity = _pure_arity(op)
        if arity is None:
            return None  # a tee, a call, a value from a branch: not followed
        args = []
        for _ in range(arity):
            arg = operand()
            if arg is None:
                return None
            args.append(arg)
        return (op, tuple(reversed(args)))

    if is_store(body[access].op) and operand() is None:
        return None  # the stored value is not a pure expression: where its address starts is unknown
    key = operand()
    return None if key is None else (key, volatile)


def plan(body: list[Instr], memories: frozenset[int], follow_loads: bool = True) -> Plan:
    """Find the groups of a function body (module docstring), then the accesses an earlier check covers.

    Only accesses to `memories` are planned (the caller leaves out shared
    ones: another thread may grow them between two loads of a group).
    """
    writes: dict[int, int] = {}
    versions: dict[int, int] = {}
    keys: dict[int, tuple[tuple[int, object], bool]] = {}  # access index -> ((memory, key), volatile)
    # (memory, address key) -> [(body index, offset, offset + size)] of the current straight line
    open_groups: dict[tuple[int, object], list[tuple[int, int, int]]] = {}
    groups: list[list[tuple[int, int, int]]] = []
    for index, instr in enumerate(body):
        op = instr.op
        if op == "local.get":
            versions[index] = writes.get(instr.imm, 0)
        elif op in ("local.set", "local.tee"):
            writes[instr.imm] = writes.get(instr.imm, 0) + 1
        if (is_load(op) or is_store(op)) and instr.imm.memory in memories:
            found = _address_key(body, index, versions, follow_loads)
            if found is not None:
                keys[index] = ((instr.imm.memory, found[0]), found[1])
        if is_load(op):
            if index in keys:
                memarg = instr.imm
                open_groups.setdefault(keys[index][0], []).append(
                    (index, memarg.offset, memarg.offset + access_size(op)))
        elif not _allowed_between(op):
            groups.extend(open_groups.values())
            open_groups = {}
    groups.extend(open_groups.values())
    spans: dict[int, int] = {}
    covered: set[int] = set()
    for group in groups:
        if len(group) < 2:
            continue
        first, offset, _ = group[0]
        spans[first] = max(end for _, _, end in group) - offset
        covered.update(index for index, _, _ in group[1:])
    return Plan(spans, frozenset(covered), _dominated(body, keys, spans, covered))


def _dominated(body: list[Instr], keys: dict[int, tuple[tuple[int, object], bool]],
               spans: dict[int, int], covered: set[int]) -> frozenset[int]:
    """The accesses, not in `covered`, whose end an earlier check of their address already tested.

    A check passed for `addr + E` stays true for `addr + e` with e <= E, for
    the same address value, as long as every path to the later access went
    through it (no `end`, `else`, `loop` or `if` between: a branch, call or
    store between is fine, they cannot make the memory smaller) and the
    address value is the same (locals by version; an address that reads
    memory, a global or memory.size is forgotten at anything that may change
    those).  `p->n = p->n + 1` and stores to fields in descending order need
    one check.
    """
    checked: dict[tuple[int, object], int] = {}
    volatile: set[tuple[int, object]] = set()
    dominated: set[int] = set()
    for index, instr in enumerate(body):
        op = instr.op
        if op in MERGES:
            checked, volatile = {}, set()
            continue
        found = keys.get(index)
        if found is not None:
            key, reads_state = found
            end = instr.imm.offset + spans.get(index, access_size(op))
            if index in covered:
                pass  # its group's first load checked it, and recorded the group's end
            elif checked.get(key, -1) >= end:
                dominated.add(index)
            else:
                checked[key] = max(end, checked.get(key, -1))
                if reads_state:
                    volatile.add(key)
        if volatile and not _allowed_between(op):
            # A store, call, global.set, memory.grow...: addresses read from memory or globals may change.
            checked = {key: end for key, end in checked.items() if key not in volatile}
            volatile = set()
    return frozenset(dominated)


def merged_size(fctx: "FuncContext", memarg: MemArg, size: int, constant_size: bool) -> int | None:
    """The size the current access's bounds check covers: its own, its group's span, or None for no check.

    None for a later load of a group, whose first load already checked its
    end, and for an access an earlier check covers (`_dominated`).  Only in
    a memory whose size is not constant (`constant_size` False): where the
    size is a constant, LLVM already merges neighbouring checks into one
    condition and folds dominated ones, and doing it in the IR only moved
    its heuristics, both ways (stm32f4: linked_alloc -0.7 % ticks and -200 B,
    but sha256 +92 B with the dominated rule, and the WASI hello image +64 B
    from wasi-libc's dlmalloc, whose register allocation came out with 72
    more spill instructions).  Anything but a plain load or store of the body
    being lowered (atomics, a module granted shared-memory windows, an
    unchecked build) keeps `size`.
    """
    mctx = fctx.mctx
    instr = fctx.instr
    if (instr is None or fctx.instr_index < 0 or fctx.instr_index >= len(fctx.body)
            or fctx.body[fctx.instr_index] is not instr or instr.imm is not memarg
            or not (is_load(instr.op) or is_store(instr.op))
            or mctx.windows or not mctx.bounds_checks):
        return size
    found = fctx.check_plan
    if found is None or found[0] is not fctx.body:
        shared = {i for i, info in enumerate(mctx.memories) if info.type.limits.shared}
        grouped = frozenset(i for i in range(len(mctx.memories)) if i not in shared)
        found = (fctx.body, plan(fctx.body, grouped, follow_loads=not shared))
        fctx.check_plan = found
    decided = found[1]
    if constant_size:
        return size
    if fctx.instr_index in decided.covered or fctx.instr_index in decided.dominated:
        return None
    return decided.spans.get(fctx.instr_index, size)
