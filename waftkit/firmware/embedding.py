"""What an embedder's main must provide for a module's imports beyond WASI p1, for the host and the boards.

`waft run` links a module with a generic main (runtime_c/wasi_p1/main/host_main.c
on the host, runtime_c/wasi_p1/baremetal_main.c on a board).  The module
decides what that main must supply — an imported memory, the thread pool of
wasi-threads and `wasi-ext:threads` — so this file reads the module once and
says it as -D options both mains understand (main/embed_ext.h and each main's
comment list them), plus the runtime sources and their sizing that the
extensions bring: runtime_c/threads over the OS port (runtime_c/kernel/
host_posix.c on the host, the built-in kernel on Cortex-M), and
runtime_c/signals over its signals port (POSIX on the host) with the lines the
firmware grants (waftkit/firmware/signal_grants.py), and runtime_c/sockets over
its network port (BSD sockets on the host) for wasi-ext:sockets.
"""

from __future__ import annotations

from pathlib import Path

from aot import abi
from aot.errors import LimitError, LinkError, TargetError
from aot.package_data import RUNTIME_DIR
from aot.shadow_stack import RED_ZONE_BYTES, exports_using_stack, ordered_stack_pointer
from aot.wasm.callgraph import exports_reaching
from aot.targets import Target
from aot.wasm.module import FuncType, Module
from waftkit.firmware.signal_grants import Grant, board_lines, c_string, grants_define, vectors_define

THREADS_DIR = RUNTIME_DIR / "threads"
SIGNALS_DIR = RUNTIME_DIR / "signals"
KERNEL_DIR = RUNTIME_DIR / "kernel"
SOCKETS_DIR = RUNTIME_DIR / "sockets"
SHM_DIR = RUNTIME_DIR / "shm"
WASI_P1 = "wasi_snapshot_preview1"
THREAD_SPAWN = ("wasi", "thread-spawn")
EXT_THREADS = "wasi-ext:threads/threads@0.1.0"
EXT_SIGNALS = "wasi-ext:signals/signals@0.1.0"
EXT_SOCKETS = "wasi-ext:sockets/sockets@0.1.0"
EXT_NAME_LOOKUP = "wasi-ext:sockets/name-lookup@0.1.0"
EXT_REGIONS = "wasi-ext:shared-memory/regions@0.1.0"
HANDLER_TYPE = FuncType(("i32", "i32"), ())  # a signal handler: handler(line, arg)
DEFAULT_MAX_THREADS = 8  # `waft run --max-threads`: instances in the thread pool
# The most a pool may hold: WAFT_THREADS_POOL_LIMIT in runtime_c/threads/waft_threads.h
# (tests/threads/test_ext_threads.py keeps the two equal).
MAX_THREADS_LIMIT = 64

# The thread layer and the OS port under it, by target kind.
_THREAD_SOURCES = {
    "host": (THREADS_DIR / "spawn.c", THREADS_DIR / "ext_threads.c", KERNEL_DIR / "host_posix.c"),
    "cortex-m": (THREADS_DIR / "spawn.c", THREADS_DIR / "ext_threads.c",
                 KERNEL_DIR / "sched.c", KERNEL_DIR / "port_cortexm.c"),
}

# The signals layer and its port, by target kind (Cortex-M: the NVIC port; the
# granted lines' vectors are generated into the firmware's main, embed_ext.h).
_SIGNAL_SOURCES = {
    "host": tuple(SIGNALS_DIR / f for f in ("lines.c", "dispatch.c", "ext_signals.c", "port_posix.c")),
    "cortex-m": tuple(SIGNALS_DIR / f for f in ("lines.c", "dispatch.c", "ext_signals.c", "port_cortexm.c")),
}
# The sockets layer, its grants and its network port, by target kind (Cortex-M
# boards with a NIC: lwIP, whose sources waftkit/firmware/lwip.py adds).
_SOCKET_SOURCES = {
    "host": tuple(SOCKETS_DIR / f for f in ("ext_sockets.c", "grants.c", "port_posix.c")),
    "cortex-m": tuple(SOCKETS_DIR / f for f in ("ext_sockets.c", "grants.c")),
}
# The interrupt stack of a board whose firmware may run immediate Wasm
# handlers on it: WAFT_STACK_MARGIN (2 KiB) below the limit, plus 6 KiB for
# the handlers and the vectors nesting under them.
ISR_STACK_WITH_HANDLERS = 8192

# Native stack of each spawned thread on a board: the margin below the limit is
# 2 KiB there (waft.h), so small boards get 4 KiB and boards with RAM to spare 16 KiB.
_BIG_RAM = 1 << 20


def imports_spawn(module: Module) -> bool:
    return any((imp.module, imp.name) == THREAD_SPAWN and imp.kind == "func" for imp in module.imports)


def can_spawn(module: Module) -> bool:
    """Whether the module can create threads (wasi-threads' spawn or wasi-ext's)."""
    return imports_spawn(module) or any((imp.module, imp.name) == (EXT_THREADS, "spawn") for imp in module.imports)


def uses_threads(module: Module) -> bool:
    """Whether the module imports wasi-threads' spawn or anything of wasi-ext:threads."""
    return imports_spawn(module) or any(imp.module == EXT_THREADS for imp in module.imports)


def uses_signals(module: Module) -> bool:
    """Whether the module imports anything of wasi-ext:signals."""
    return any(imp.module == EXT_SIGNALS for imp in module.imports)


def uses_sockets(module: Module) -> bool:
    """Whether the module imports anything of wasi-ext:sockets (sockets or name-lookup)."""
    return any(imp.module in (EXT_SOCKETS, EXT_NAME_LOOKUP) for imp in module.imports)


def uses_regions(module: Module) -> bool:
    """Whether the module imports anything of wasi-ext:shared-memory (its `region:NAME` windows included)."""
    return any(imp.module == EXT_REGIONS for imp in module.imports)


def socket_sources(target: Target) -> list[Path]:
    """The runtime sources a module importing wasi-ext:sockets adds for `target`.

    On a board: the sockets layer, lwIP, the NIC's driver and the lwIP port
    (compile them with `socket_cflags`); TargetError for a board without a NIC.
    """
    sources = _SOCKET_SOURCES.get(target.kind)
    if sources is None:
        raise TargetError(f"sockets: target '{target.name}' has no network port for Wasm yet "
                          f"({target.kind}; ports: {', '.join(_SOCKET_SOURCES)}; docs/sockets.md)")
    if target.is_host:
        return list(sources)
    from waftkit.firmware import lwip

    return [*sources, *lwip.wasm_sources(target)]


def check_board_sockets(module: Module, target: Target) -> None:
    """TargetError, in one line, for sockets a board's firmware cannot give this module.

    lwIP runs NO_SYS, driven by the calling thread: one thread at a time may
    be inside it, so a board firmware with threads gets no sockets.
    """
    if not target.is_host and uses_sockets(module) and uses_threads(module):
        raise TargetError(f"sockets: on {target.name} lwIP runs in one thread (NO_SYS), and this module also "
                          "uses threads; use sockets from a module without threads on a board")


def socket_cflags(target: Target) -> list[str]:
    """Extra compiler flags for `socket_sources` (a board's lwIP headers and options)."""
    if target.is_host:
        return []
    from waftkit.firmware import lwip

    return lwip.cflags(target)


def socket_options_define(listen=(), allow_connect=(), resolve=()) -> str:
    """WAFT_MAIN_SOCKET_OPTIONS for a board's main: the grants and name table fixed at build time.

    The specs must have been checked (socket_grants.check_grant / check_host_entry).
    """
    items = [("--listen", v) for v in listen] + [("--allow-connect", v) for v in allow_connect]
    items += [("--resolve", v) for v in resolve]
    return "WAFT_MAIN_SOCKET_OPTIONS=" + " ".join(f"O({c_string(o)},{c_string(v)})" for o, v in items)


def check_embeddable(module: Module, name: str) -> None:
    """LinkError, in one line, for a module the generic mains cannot supply."""
    memories = [imp for imp in module.imports if imp.kind == "memory"]
    if len(memories) > 1:
        raise LinkError(f"{name} imports {len(memories)} memories; waft run provides one")
    if can_spawn(module) and not memories:
        # Each thread is a new instance; only an imported memory is one they all share.
        raise LinkError(f"{name} creates threads but defines its own memory: a threaded module must "
                        "import it, shared (clang: -Wl,--import-memory,--shared-memory)")


def main_defines(module: Module, target: Target, memory_cap_pages: int | None = None,
                 max_threads: int = DEFAULT_MAX_THREADS, grants: list[Grant] | tuple[Grant, ...] = (),
                 prefix: str = "prog") -> list[str]:
    """The -D options that tell the generic main what the module imports (see the mains' comments).

    `grants` (already checked: signal_grants.check_grants) matter only to a
    module that imports wasi-ext:signals; `prefix` is the module's C prefix.
    """
    defines: list[str] = []
    if not any(imp.module == WASI_P1 and imp.kind == "func" for imp in module.imports):
        defines.append("WAFT_MAIN_NO_WASI_P1")
    fields = abi.imports_struct_fields(module)
    members = {(f.module, f.import_name): f.name for f in fields if f.kind == "memory"}
    for imp in module.imports:
        if imp.kind == "memory":
            lim = imp.desc.limits
            cap = lim.max if lim.max is not None else target.default_memory_cap_pages
            if memory_cap_pages is not None:
                cap = max(lim.min, min(cap, memory_cap_pages))
            defines += [f"WAFT_MAIN_IMPORTED_MEMORY={members[(imp.module, imp.name)]}",
                        f"WAFT_MAIN_IMPORTED_MEMORY_MIN={lim.min}", f"WAFT_MAIN_IMPORTED_MEMORY_CAP={cap}"]
    if imports_spawn(module):
        defines.append("WAFT_MAIN_IMPORTS_WASI")
    ext = [f.name for f in fields if f.kind == "ctx" and f.module == EXT_THREADS]
    if ext:
        defines.append(f"WAFT_MAIN_IMPORTS_EXT_THREADS={ext[0]}")
    if uses_threads(module):
        defines += thread_defines(target, max_threads)
        if any(e.name == "wasi_thread_start" and e.kind == "func" for e in module.exports):
            defines.append("WAFT_MAIN_THREADS")
    signals = [f.name for f in fields if f.kind == "ctx" and f.module == EXT_SIGNALS]
    if signals:
        defines.append(f"WAFT_MAIN_IMPORTS_EXT_SIGNALS={signals[0]}")
        defines += signal_defines(module, grants, prefix, target)
    regions = [f.name for f in fields if f.kind == "ctx" and f.module == EXT_REGIONS]
    if regions:
        defines.append(f"WAFT_MAIN_IMPORTS_EXT_REGIONS={regions[0]}")
    # wasi-ext:sockets: both interfaces share one waft_sockets (main/embed_ext.h).
    for module_name, define in ((EXT_SOCKETS, "WAFT_MAIN_IMPORTS_EXT_SOCKETS"),
                                (EXT_NAME_LOOKUP, "WAFT_MAIN_IMPORTS_EXT_NAME_LOOKUP")):
        member = [f.name for f in fields if f.kind == "ctx" and f.module == module_name]
        if member:
            defines.append(f"{define}={member[0]}")
    return defines


def signal_defines(module: Module, grants, prefix: str, target: Target | None = None) -> list[str]:
    """The grants, attach-export's name -> function map and table 0's accessor, for main/embed_ext.h.

    On a Cortex-M board also the granted lines' vectors and the board's NVIC
    (signal_grants.vectors_define).  LinkError, in one line, for a grant
    bound to an export the module does not have with the handler type.
    """
    defines = [f"WAFT_MAIN_SIGNAL_GRANTS={grants_define(list(grants))}"]
    entries = []
    handlers: dict[str, str] = {}
    for e in module.exports:
        if e.kind != "func":
            continue
        suffix = abi.export_symbol(prefix, e.name)[len(prefix):]
        if module.func_type(e.index) == HANDLER_TYPE:
            entries.append(f"H({c_string(e.name)},{suffix})")
            handlers[e.name] = suffix
        else:
            entries.append(f"N({c_string(e.name)})")
    for g in grants:
        if g.export is not None and g.export not in handlers:
            raise LinkError(f"--grant {g.describe()}: the module exports no function '{g.export}' of type "
                            "(func (param i32 i32)) to bind the line to")
    defines.append(f"WAFT_MAIN_SIGNAL_EXPORTS={' '.join(entries)}")
    board = board_lines(target) if target is not None and target.kind == "cortex-m" else None
    if board is not None:
        # Immediate handlers and the C shadow stack (aot/shadow_stack.py): which ones may push frames.
        stack_pointer = ordered_stack_pointer(module)
        stack_users = None if stack_pointer is None else exports_using_stack(module, stack_pointer)
        if stack_users is not None:
            defines.append(f"WAFT_MAIN_SHADOW_STACK={RED_ZONE_BYTES}")
        # ... and which ones may change the interrupt mask: only those need BASEPRI saved and restored.
        set_mask = [i for i, imp in enumerate(module.imports_of("func"))
                    if imp.module == EXT_SIGNALS and imp.name == "set-mask"]
        maskers = exports_reaching(module, lambda instr: instr.op in ("call", "return_call")
                                   and instr.imm in set_mask)
        vectors = vectors_define(list(grants), board, handlers, stack_users, maskers)
        defines += [f"WAFT_MAIN_SIGNAL_VECTORS={vectors}",
                    f"WAFT_MAIN_SIGNAL_IRQ_COUNT={board.irq_count}",
                    f"WAFT_MAIN_SIGNAL_VTOR_ALIGN={board.vtor_align}",
                    f"WAFT_MAIN_SIGNAL_PRIO_BITS={board.priority_bits}"]
    table0 = next((e for e in module.exports if e.kind == "table" and e.index == 0), None)
    if table0 is not None:
        defines.append(f"WAFT_MAIN_SIGNAL_TABLE0={abi.export_symbol(prefix, table0.name)[len(prefix):]}")
    return defines


def signal_sources(target: Target) -> list[Path]:
    """The runtime sources a module importing wasi-ext:signals adds for `target`."""
    sources = _SIGNAL_SOURCES.get(target.kind)
    if sources is None:
        raise TargetError(f"signals: target '{target.name}' has no signals port yet "
                          f"({target.kind}; ports: {', '.join(_SIGNAL_SOURCES)})")
    return list(sources)


def thread_defines(target: Target, max_threads: int) -> list[str]:
    """Sizing of the thread pool and the OS port's (the main thread counts in WAFT_MAX_THREADS).

    LimitError when `max_threads` is outside 1..MAX_THREADS_LIMIT.
    """
    if not 1 <= max_threads <= MAX_THREADS_LIMIT:
        raise LimitError(f"threads: a pool of {max_threads} threads besides the main one is outside "
                         f"1..{MAX_THREADS_LIMIT} (WAFT_THREADS_POOL_LIMIT)")
    defines = [f"WAFT_MAX_THREADS={max_threads + 1}"]
    if not target.is_host:
        big = target.ram is not None and target.ram.length >= _BIG_RAM
        defines.append(f"WAFT_OS_STACK_SIZE={16384 if big else 4096}u")
        if board_lines(target) is not None:
            # Immediate Wasm handlers run on the kernel's interrupt stack, under its own limit.
            defines.append(f"WAFT_OS_ISR_STACK_SIZE={ISR_STACK_WITH_HANDLERS}u")
    return defines


def thread_sources(target: Target) -> list[Path]:
    """The runtime sources a threaded module adds for `target`; TargetError where there is no OS port."""
    sources = _THREAD_SOURCES.get(target.kind)
    if sources is None:
        raise TargetError(f"threads: target '{target.name}' has no OS port for them yet "
                          f"({target.kind}; ports: {', '.join(_THREAD_SOURCES)})")
    return list(sources)
