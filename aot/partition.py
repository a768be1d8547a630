"""Split a module's functions into partitions that compile apart: in parallel processes, and cached one by one.

A big module (bench: all of wasi-libc, 1,124 functions) takes tens of seconds
through LLVM in one piece, and any change recompiles all of it.  `plan`
divides the defined functions into partitions of about `TARGET_BYTES` of Wasm
code, plus one "module partition" holding what belongs to the whole module
(P__initialize, the export wrappers and accessors, the import thunks).  Each
partition is lowered, optimised and code-generated on its own
(aot/partition_lower.py, aot/parallel.py) and the objects are combined.

What the plan must give:
- Determinism: it depends on the module alone, never on the number of jobs,
  so every job count compiles the same partitions and yields the same bytes.
- Stable boundaries: a change to one function must not move the boundaries of
  the others, or one edit would miss the cache everywhere after it.  Cuts are
  content-defined (as in rsync/restic chunking): after a function whose body
  hash has its low bits zero, once a partition holds `MIN_BYTES`, and always at
  `MAX_BYTES`.  A resized function only moves the cut it belongs to; the cuts
  resynchronise at the next content-defined one.
- Inlining kept: functions are kept in module order (a linker lays out one C
  file's functions together, so callers sit near their callees); a function
  whose callers all lie in one other partition moves there; a small function
  called from several partitions is copied into each caller's
  partition as an `available_externally` definition (`copies`) that LLVM may
  inline and never emits -- the ThinLTO import scheme.

Modules under `SPLIT_FROM_BYTES` of code stay one partition: the driver then
compiles them exactly as before (aot/compiler.py), as every test module and
benchmark workload is.  `$WAFT_PARTITION_BYTES` (N) overrides the sizes (split
from N bytes, cut between N/4 and N): the tests use it to run small modules,
the spec suite's among them, through the partitioned compile.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from aot.wasm.module import Module

SPLIT_FROM_BYTES = 48 * 1024  # below this much Wasm code, one partition
MIN_BYTES = 4 * 1024
MAX_BYTES = 12 * 1024
CUT_MASK = 0xF  # about one content-defined cut every 16 functions past MIN_BYTES
SMALL_BYTES = 200  # bodies up to this size are inlining candidates (LLVM's -O2 threshold is ~225 IR instructions)
MAX_COPIES = 64  # small callees copied into one partition at most


@dataclass(frozen=True)
class Partition:
    """One compile unit: the functions it defines, the small callees it may inline, and module-level code."""

    functions: tuple[int, ...]  # function indices (imports counted) defined here
    copies: tuple[int, ...] = ()  # defined in another partition, copied here for inlining only
    module_level: bool = False  # P__initialize, export wrappers and accessors, import thunks


def function_bytes(data: bytes, module: Module, index: int) -> bytes:
    """The encoded body (size field, locals, code) of defined function `index` in the module's bytes."""
    function = module.functions[index - module.num_imported_funcs]
    pos = function.offset
    while data[pos] & 0x80:  # the LEB128 size field
        pos += 1
    return data[function.offset:pos + 1 + function.body_size]


def direct_callees(module: Module, index: int) -> set[int]:
    """The functions `index` calls directly (`call`, `return_call`)."""
    body = module.functions[index - module.num_imported_funcs].body
    return {instr.imm for instr in body if instr.op in ("call", "return_call")}


def sizes_in_force() -> tuple[int, int, int]:
    """(split from, cut from, cut at) in bytes of Wasm code: the defaults, or $WAFT_PARTITION_BYTES's."""
    value = os.environ.get("WAFT_PARTITION_BYTES", "")
    if value.isdigit() and int(value) > 0:
        n = int(value)
        return n, max(1, n // 4), n
    return SPLIT_FROM_BYTES, MIN_BYTES, MAX_BYTES


def plan(data: bytes, module: Module) -> list[Partition]:
    """The partitions of `module` (decoded from `data`): one when the module is small, else the module
    partition first and the function partitions in module order."""
    first = module.num_imported_funcs
    indices = range(first, first + len(module.functions))
    sizes = {i: module.functions[i - first].body_size for i in indices}
    split_from, min_bytes, max_bytes = sizes_in_force()
    if sum(sizes.values()) < split_from or not sizes:
        return [Partition(tuple(indices), (), True)]
    owner: dict[int, int] = {}
    chunk, filled = 0, 0
    for i in indices:
        owner[i] = chunk
        filled += sizes[i]
        cut = int.from_bytes(hashlib.blake2b(function_bytes(data, module, i), digest_size=4).digest(), "little")
        if filled >= max_bytes or (filled >= min_bytes and cut & CUT_MASK == 0):
            chunk, filled = chunk + 1, 0
    calls = {i: direct_callees(module, i) for i in indices}  # once: a walk of every body
    callers: dict[int, set[int]] = {}
    for i in indices:
        for callee in calls[i]:
            if callee >= first and callee != i:
                callers.setdefault(callee, set()).add(i)
    # A function whose callers all sit in one other partition joins them, whatever its size: LLVM can
    # then inline it at every call (or not) as in a whole-module compile.  Decided on the first
    # assignment, so the moves do not chain.
    first_owner = dict(owner)
    for callee, who in callers.items():
        places = {first_owner[c] for c in who}
        if len(places) == 1:
            owner[callee] = places.pop()
    groups: dict[int, list[int]] = {}
    for i in indices:
        groups.setdefault(owner[i], []).append(i)
    partitions = [Partition((), (), True)]
    for key in sorted(groups):
        members = groups[key]
        mine = set(members)
        wanted = sorted({callee for i in members for callee in calls[i]
                         if callee >= first and callee not in mine and sizes[callee] <= SMALL_BYTES})
        partitions.append(Partition(tuple(members), tuple(wanted[:MAX_COPIES])))
    return partitions
