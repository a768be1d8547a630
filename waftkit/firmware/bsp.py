"""`waft bsp`: package compiled modules and the runtime as a drop-in for a vendor's own build (docs/bsp.md).

A vendor BSP (Make, CMake, an IDE project) owns startup, the vector table,
SysTick and the UART.  `build_bsp` compiles each Wasm module (or the p1
module inside a component) for a board and writes one folder the vendor's
build links as it is:

    lib/lib<prefix>.a   one per module: its object (and, for a WASI command, the
                        entry `int waft_run_<prefix>(void)` and its build-time
                        WASI configuration)
    lib/libwaft.a       the runtime: the core, plus the WASI p1 runtime only when
                        a module imports wasi_snapshot_preview1; never the vector
                        table, SysTick handler or UART unless `with_startup`
    include/            waft.h, each module's <prefix>.h, the WASI headers that
                        declare the hooks (port_baremetal.h), waft_bsp.h
    waft_runtime.ld     the linker-script fragment: the symbols the runtime needs
    waft_bsp.cmake      imported targets for CMake (waft::runtime, waft::<prefix>)
    waft_bsp.mk         the same as make variables (WAFT_BSP_CFLAGS, _LDFLAGS, _LIBS)
    manifest.json       compiler, ABI version, target, options, sha256 per file

Without `with_startup` the vendor supplies the hooks port_baremetal.h
declares (console, clock; random, unique ID and RTC have weak "none"
defaults) and `__StackLimit`.  A module that uses threads (wasi-threads,
wasi-ext:threads) brings the built-in kernel, whose two exceptions come from
the vendor's firmware through the hooks of waft_kernel_bsp.h: its SysTick
handler calls waft_kernel_systick_hook, its vector table's PendSV entry is
waft_kernel_pendsv_handler (or, with `kernel_owns_pendsv`, the library
defines PendSV_Handler).  A module importing wasi-ext:sockets brings lwIP,
polled by the socket calls on the firmware's clock hook, over the NIC hooks
of waft_net_nic.h: the library's LAN9118 driver (`nic="lan9118"`) or the
vendor's (`nic="vendor"`: the drop-in then carries lwIP's headers).  A
module importing wasi-ext:signals gets its grants (the IRQ grant list) built
into its entry, and the signals port built to copy the vendor's whole vector
table to RAM, so only granted lines change.  With `with_startup`, the board
glue Waft's own firmware uses (startup.c with its vector table, SysTick clock, console backend,
board.c) goes into libwaft.a too, and the board's linker script beside it.

The folder is written to a temporary sibling and renamed into place, so a
failed build leaves no half-written output.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aot import __version__, abi
from aot.compiler import compile_module
from aot.component import is_component, unwrap_component
from aot.errors import AotError, TargetError
from aot.targets import Target
from aot.wasm.decode import decode_module
from aot.wasm.validate import validate_module
from waftkit import wasi
from waftkit.firmware import embedding, wasi_firmware
from waftkit.firmware import link as link_mod
from waftkit.firmware.runtime import (
    INCLUDE_DIR,
    _archiver,
    _compiler_identity,
    port_define,
    runtime_library,
)
from waftkit.firmware.signal_grants import Grant

MANIFEST = "manifest.json"
LINKER_FRAGMENT = "waft_runtime.ld"
BSP_HEADER = "waft_bsp.h"
CMAKE_FILE = "waft_bsp.cmake"
MAKE_FILE = "waft_bsp.mk"
MANIFEST_FORMAT = 1
# The signals port copies the whole boot vector table, not only its 16 system entries.
SIGNALS_KEEP_BOOT_VECTORS = "WAFT_SIGNALS_KEEP_BOOT_VECTORS"

# Flags for the C files bsp compiles itself (entries, configuration, glue).
_GLUE_CFLAGS = ("-O2", "-std=gnu11", "-ffunction-sections", "-fdata-sections")

# Headers a WASI firmware's C code may include, besides waft.h.
_WASI_HEADERS = (wasi.WASI_DIR / "port_baremetal.h", wasi.WASI_DIR / "ramfs.h",
                 wasi.INCLUDE_DIR / "waft_wasi.h", wasi.INCLUDE_DIR / "waft_wasi_p1.h")

# The kernel's port leaves SysTick's priority, and PendSV_Handler, to the vendor (runtime_c/kernel/port_cortexm.c).
KERNEL_VENDOR_SYSTICK = "WAFT_KERNEL_VENDOR_SYSTICK"
KERNEL_VENDOR_PENDSV = "WAFT_KERNEL_VENDOR_PENDSV"
# The header declaring the kernel's hooks (runtime_c/kernel), copied into include/.
KERNEL_HOOKS_HEADER = embedding.KERNEL_DIR / "waft_kernel_bsp.h"
# What the vendor's firmware gives the kernel: its tick from SysTick, its switch in the PendSV vector.
KERNEL_TICK_HOOK = "waft_kernel_systick_hook"
KERNEL_PENDSV_HOOK = "waft_kernel_pendsv_handler"

# The NIC drivers a drop-in's lwIP can be built with (--nic): the library's own for the MPS2
# boards' LAN9118 (polled, no interrupt), or the vendor's through the hooks of waft_net_nic.h.
NICS = ("lan9118", "vendor")
VENDOR_NIC = "vendor"
# port_lwip.c leaves waft_net_nic_init/_poll to the firmware.
NET_VENDOR_NIC = "WAFT_NET_VENDOR_NIC"
NIC_HOOKS_HEADER = embedding.SOCKETS_DIR / "lwip" / "waft_net_nic.h"


class BspError(TargetError):
    """Input `waft bsp` cannot package: one line saying what and where."""

    kind = "bsp"


@contextmanager
def _about(path: Path):
    """Compiler errors about one module name it: `<path>: malformed module: ...`."""
    try:
        yield
    except BspError:
        raise
    except AotError as exc:
        raise BspError(f"{path}: {exc.kind}: {exc}") from None


@dataclass
class BspOptions:
    """What `waft bsp` builds with (recorded in the manifest)."""

    opt: str = "2"
    memory_cap_pages: int | None = None
    with_startup: bool = False
    console: str = "semihost"  # console backend with `with_startup`
    args: Sequence[str] = ()  # a WASI command's argv after argv[0] (the prefix)
    names: dict[Path, str] = field(default_factory=dict)  # module path -> C prefix (default: its stem)
    grants: Sequence[Grant] = ()  # wasi-ext:signals lines (checked: signal_grants.check_grants)
    max_threads: int = embedding.DEFAULT_MAX_THREADS  # a threaded command's pool, besides its main thread
    kernel_owns_pendsv: bool = False  # the library defines PendSV_Handler (else the vendor's table holds the hook)
    nic: str | None = None  # wasi-ext:sockets: the NIC driver under lwIP (one of NICS)
    listen: Sequence[str] = ()  # wasi-ext:sockets grants, as for `waft run` (checked: socket_grants)
    allow_connect: Sequence[str] = ()
    resolve: Sequence[str] = ()  # the static name table, NAME=ADDRESS


@dataclass
class _Module:
    path: Path
    prefix: str
    wasi: bool  # imports wasi_snapshot_preview1: gets waft_run_<prefix>
    signals: bool  # imports wasi-ext:signals: its grants are built into the entry
    threads: bool  # uses threads: the runtime brings the kernel, the entry its thread pool
    sockets: bool  # imports wasi-ext:sockets: lwIP and the NIC driver, polled by the socket calls
    imports: list[str]
    exports: list[str]
    component: bool = False  # the input was a component; its core module was packaged


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(command: list[str], what: str) -> None:
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        # Waft's own C failing to build is a broken installation, not bad input: the tool's first error.
        errors = [line for line in proc.stderr.splitlines() if "error" in line] or proc.stderr.splitlines() or ["?"]
        raise BspError(f"{what} failed ({command[0]}): {errors[0].strip()}")


def _check_target(target: Target) -> None:
    if target.kind != "cortex-m":
        raise BspError(f"target '{target.name}' is {target.kind}: waft bsp builds drop-ins for Cortex-M boards "
                       "(the vendor-BSP hooks are Cortex-M's: docs/bsp.md)")


def _plan(paths: Sequence[Path], options: BspOptions) -> list[tuple[_Module, bytes]]:
    """Decode every module, choose prefixes, refuse what the drop-in cannot serve."""
    planned: list[tuple[_Module, bytes]] = []
    seen: dict[str, Path] = {}
    for path in paths:
        original = Path(path).read_bytes()
        with _about(path):
            # A component built from a p1 module (docs/components.md) packages the module inside.
            data = unwrap_component(original).module if is_component(original[:8]) else original
            module = decode_module(data)
            validate_module(module)
        prefix = options.names.get(Path(path)) or abi.prefix_from_filename(Path(path).stem)
        try:
            abi.check_prefix(prefix)
        except ValueError as exc:
            raise BspError(f"{path}: {exc}") from None
        if prefix in seen:
            raise BspError(f"{path}: module prefix '{prefix}' is also {seen[prefix]}'s: give one another with --name FILE=PREFIX")
        seen[prefix] = Path(path)
        uses_wasi = any(imp.module == embedding.WASI_P1 and imp.kind == "func" for imp in module.imports)
        if uses_wasi:
            with _about(path):
                embedding.check_embeddable(module, Path(path).name)
            if not any(e.name == "_start" and e.kind == "func" for e in module.exports):
                raise BspError(f"{path}: imports WASI but exports no _start: waft bsp packages WASI commands "
                               "(reactor modules: call their exports from C, without WASI imports)")
        uses_signals = embedding.uses_signals(module)
        if uses_signals and not uses_wasi:
            raise BspError(f"{path}: imports wasi-ext:signals but not WASI: waft bsp packages signal handlers "
                           "in WASI commands, whose entry installs the granted lines")
        uses_threads = embedding.uses_threads(module)
        if uses_threads and not uses_wasi:
            raise BspError(f"{path}: uses threads but does not import WASI: waft bsp packages threads in WASI "
                           "commands, whose entry starts the kernel and the thread pool")
        uses_sockets = embedding.uses_sockets(module)
        if uses_sockets:
            _check_sockets(path, uses_wasi, uses_threads, options)
        planned.append((_Module(Path(path), prefix, uses_wasi, uses_signals, uses_threads, uses_sockets,
                                [f"{i.module}.{i.name}" for i in module.imports],
                                [e.name for e in module.exports], data is not original), data))
    commands = [m.path for m, _ in planned if m.wasi]
    if len(commands) > 1:
        raise BspError(f"{commands[1]}: a second WASI command ({commands[0]} is the first): the WASI runtime "
                       "has one process per firmware; package the others as separate drop-ins")
    if options.args and not commands:
        raise BspError("--arg sets a WASI command's arguments, but no module imports wasi_snapshot_preview1")
    if options.grants and not any(m.signals for m, _ in planned):
        raise BspError("--grant gives wasi-ext:signals lines, but no module imports wasi-ext:signals")
    if options.kernel_owns_pendsv and not any(m.threads for m, _ in planned):
        raise BspError("--kernel-owns-pendsv gives the kernel PendSV, but no module uses threads")
    if not any(m.sockets for m, _ in planned):
        given = [o for o, v in (("--nic", options.nic), ("--listen", options.listen),
                                ("--allow-connect", options.allow_connect), ("--resolve", options.resolve)) if v]
        if given:
            raise BspError(f"{given[0]} is for wasi-ext:sockets, but no module imports it")
    return planned


def _check_socket_options(options: BspOptions) -> None:
    """BspError, in one line, for a NIC Waft has no driver for or a malformed socket grant (as waft run says it)."""
    from waftkit.firmware import socket_grants

    if options.nic is not None and options.nic not in NICS:
        raise BspError(f"NIC '{options.nic}' is not one of {', '.join(NICS)}")
    try:
        for option, specs in (("--listen", options.listen), ("--allow-connect", options.allow_connect)):
            for spec in specs:
                socket_grants.check_grant(spec, option)
        for spec in options.resolve:
            socket_grants.check_host_entry(spec)
    except socket_grants.SocketGrantError as exc:
        raise BspError(str(exc)) from None


def _check_sockets(path: Path, uses_wasi: bool, uses_threads: bool, options: BspOptions) -> None:
    """BspError, in one line, for sockets this drop-in cannot give the module."""
    if not uses_wasi:
        raise BspError(f"{path}: imports wasi-ext:sockets but not WASI: waft bsp packages sockets in WASI "
                       "commands, whose entry starts the network")
    if uses_threads:
        raise BspError(f"{path}: uses sockets and threads: on a board lwIP runs in one thread (NO_SYS); "
                       "use sockets from a module without threads")
    if options.nic is None:
        raise BspError(f"{path}: imports wasi-ext:sockets: give --nic {'|'.join(NICS)}, the NIC driver "
                       "lwIP runs on (vendor: your firmware's, through waft_net_nic.h; docs/bsp.md)")
    if not (options.listen or options.allow_connect):
        raise BspError(f"{path}: imports wasi-ext:sockets: give --listen or --allow-connect grants "
                       "(without any, every socket call would be acces)")


def _compile_c(target: Target, source: Path, output: Path, flags: Sequence[str]) -> Path:
    _run([target.cc, *target.cflags, *_GLUE_CFLAGS, *flags, "-c", str(source), "-o", str(output)],
         f"compiling {source.name} for {target.name}")
    return output


def _archive(target: Target, library: Path, objects: Sequence[Path]) -> None:
    _run([_archiver(target.cc), "rcs", str(library), *map(str, objects)], f"archiving {library.name}")


def startup_sources(target: Target, console: str) -> list[Path]:
    """What `--with-startup` adds to libwaft.a: vector table and Reset_Handler, newlib stubs, SysTick, console, board.c."""
    return [*link_mod.board_sources(target), *wasi_firmware.board_glue(target)]


def glue_cflags(target: Target, console: str) -> list[str]:
    """Flags for the board glue: the WASI headers, the console backend, the board runtime's limits."""
    return [f"-I{wasi.WASI_DIR}", f"-I{wasi.INCLUDE_DIR}", f"-I{link_mod.CORTEX_M_GLUE}",
            f"-D{port_define(target)}", f"-I{INCLUDE_DIR}",
            *(f"-D{d}" for d in wasi_firmware.runtime_defines()), f"-DWAFT_WASI_CONSOLE={console}"]


def _linker_fragment(target: Target) -> str:
    return "\n".join([
        "/* waft_runtime.ld: what the Waft runtime needs from the firmware's linker script (docs/bsp.md).",
        " * INCLUDE it after your SECTIONS, or copy its lines into your script.",
        " *",
        " * The runtime keeps no special sections: its code and data are ordinary",
        " * .text/.rodata/.data/.bss (one section per function and object, so link with",
        " * --gc-sections).  It needs one symbol: __StackLimit, the lowest address of the",
        " * stack that runs Wasm (waft_stack_init puts the stack check WAFT_STACK_MARGIN",
        " * bytes above it).  If your script names the stack differently, define it here,",
        " * e.g. __StackLimit = _estack - _Min_Stack_Size; (STM32Cube). */",
        ("ASSERT(DEFINED(__StackLimit), \"waft: define __StackLimit, the lowest address of the main stack "
         "(see waft_runtime.ld)\")"),
        f"/* Built for {target.name}: {target.description}. */",
        "",
    ])


def _vendor_tick(modules: Sequence[_Module], options: BspOptions) -> bool:
    """Whether the kernel's tick comes from the vendor's SysTick_Handler through waft_kernel_systick_hook."""
    return any(m.threads for m in modules) and not options.with_startup


def _vendor_pendsv(modules: Sequence[_Module], options: BspOptions) -> bool:
    """Whether the vendor's vector table holds waft_kernel_pendsv_handler (else the library defines PendSV_Handler)."""
    return _vendor_tick(modules, options) and not options.kernel_owns_pendsv


@dataclass
class _RuntimeParts:
    """What libwaft.a holds besides the core: sources built with the runtime, board glue, their options."""

    runtime: list[Path] = field(default_factory=list)  # built by runtime_library with `defines` and `cflags`
    glue: list[Path] = field(default_factory=list)  # outside runtime_c: built with glue_cflags
    defines: list[str] = field(default_factory=list)  # also the entries' (the thread pool's sizes agree)
    cflags: list[str] = field(default_factory=list)  # lwIP's include folders


def _vendor_nic(modules: Sequence[_Module], options: BspOptions) -> bool:
    """Whether the firmware defines the NIC hooks under lwIP (--nic vendor)."""
    return any(m.sockets for m in modules) and options.nic == VENDOR_NIC


def _runtime_parts(modules: Sequence[_Module], target: Target, options: BspOptions) -> _RuntimeParts:
    """The C sources libwaft.a holds besides the core, and the options they (and the entries) are built with."""
    if not any(m.wasi for m in modules):
        return _RuntimeParts()
    sources = wasi.runtime_sources(target) + [wasi_firmware.BOARD_DEFAULTS]
    defines = wasi_firmware.runtime_defines()
    cflags: list[str] = []
    network: list[Path] = []
    if any(m.sockets for m in modules):
        # lwIP (NO_SYS, polled by the socket calls), the NIC driver and the sockets port, in place
        # of the port's "no sockets" answers.  Its clock is the firmware's waft_clock_ns hook.
        network = embedding.socket_sources(target)
        if options.nic == VENDOR_NIC:
            # The firmware's driver defines the hooks: no LAN9118 code in the library.
            network = [p for p in network if p.name != "lan9118.c"]
            defines.append(NET_VENDOR_NIC)
        sources = [p for p in sources if p.name != wasi_firmware.SOCKETLESS_PORT] + network
        cflags = embedding.socket_cflags(target)
    if any(m.threads for m in modules):
        # The thread layer and the kernel, sized as the entry's thread pool is (the same defines).
        sources += embedding.thread_sources(target)
        defines += embedding.thread_defines(target, options.max_threads)
        if _vendor_tick(modules, options):
            defines.append(KERNEL_VENDOR_SYSTICK)
        if _vendor_pendsv(modules, options):
            defines.append(KERNEL_VENDOR_PENDSV)
    if any(m.signals for m in modules):
        # The signals layer and its NVIC port, keeping the vendor's own device vectors (only the
        # granted lines' entries change), and the chip's timers behind timer lines (board.c).
        sources += embedding.signal_sources(target)
        defines.append(SIGNALS_KEEP_BOOT_VECTORS)
        board = target.directory / "board.c"
        if board.is_file():
            sources.append(board)
    if options.with_startup:
        sources += [p for p in startup_sources(target, options.console) if p not in sources]
    sources = list(dict.fromkeys(sources))
    runtime_dirs = (wasi.WASI_DIR, embedding.SIGNALS_DIR, embedding.THREADS_DIR, embedding.KERNEL_DIR,
                    embedding.SOCKETS_DIR)
    runtime = [p for p in sources if p in network or any(p.is_relative_to(d) for d in runtime_dirs)]
    return _RuntimeParts(runtime, [p for p in sources if p not in runtime], defines, cflags)


def _bsp_header(target: Target, modules: list[_Module], options: BspOptions) -> str:
    with_startup = options.with_startup
    lines = [
        "/* waft_bsp.h: GENERATED by waft bsp.  What this drop-in gives the firmware and what it needs",
        f" * from it (docs/bsp.md).  Target {target.name}, Waft ABI version {abi.ABI_VERSION}. */",
        "#ifndef WAFT_BSP_H",
        "#define WAFT_BSP_H",
        "",
        '#include "waft.h"',
    ]
    lines += [f'#include "{m.prefix}.h"' for m in modules]
    if any(m.wasi for m in modules):
        lines += ['#include "port_baremetal.h"']
        if any(m.threads for m in modules):
            lines += ['#include "waft_kernel_bsp.h"']
        if _vendor_nic(modules, options):
            lines += ['#include "waft_net_nic.h"']
        lines += [""]
        lines += ["#ifdef __cplusplus", 'extern "C" {', "#endif"]
        for m in modules:
            if m.wasi:
                lines += [f"/* Run WASI command {m.path.name}: set up its process, instantiate it, run _start.",
                          " * Returns its exit status (70, WAFT_TRAP_EXIT_STATUS, when it trapped). */",
                          f"int waft_run_{m.prefix}(void);"]
        lines += ["#ifdef __cplusplus", "}", "#endif"]
        if not with_startup:
            lines += [
                "",
                "/* Hooks the firmware defines (declared in port_baremetal.h):",
                " *   console  size_t waft_console_write(int stream, const uint8_t *buf, size_t len);",
                " *            size_t waft_console_read(uint8_t *buf, size_t len); bool waft_console_readable(void);",
                " *   clock    void waft_clock_start(void); uint64_t waft_clock_ns(void);",
                " *            uint64_t waft_clock_resolution_ns(void); void waft_clock_idle(void);",
                " *   optional (weak defaults: none) bool waft_board_random(uint8_t *, size_t);",
                " *            size_t waft_board_unique_id(uint8_t *, size_t); bool waft_board_rtc_ns(uint64_t *);",
                " *   optional (weak defaults: semihosting) void waft_port_write_error(const char *);",
                " *            void waft_port_exit(int status);",
                " */",
            ]
        if _vendor_nic(modules, options):
            lines += [
                "",
                "/* The NIC under lwIP (waft_net_nic.h; lwIP's headers and lwipopts.h are in this folder):",
                " *   int waft_net_nic_init(struct netif *);  the netif's init function",
                " *   int waft_net_nic_poll(struct netif *);  hand received frames to netif->input",
                " */",
            ]
        if _vendor_tick(modules, options):
            pendsv = (f"the vector table's PendSV entry is {KERNEL_PENDSV_HOOK}" if _vendor_pendsv(modules, options)
                      else "libwaft.a defines PendSV_Handler (built --kernel-owns-pendsv)")
            lines += [
                "",
                "/* The kernel's exceptions (waft_kernel_bsp.h): threads run only when the firmware gives them.",
                f" *   SysTick  at 1 kHz, priority value >= 0x40: the handler calls {KERNEL_TICK_HOOK}()",
                " *            after its own time base counted the tick.",
                f" *   PendSV   {pendsv}.",
                " */",
            ]
    lines += ["", "#endif /* WAFT_BSP_H */", ""]
    return "\n".join(lines)


def _cmake_file(target: Target, modules: list[_Module], options: BspOptions) -> str:
    lines = [
        (f"# GENERATED by waft bsp: this drop-in as CMake imported targets ({target.name}, "
         f"Waft ABI version {abi.ABI_VERSION})."),
        "#   include(<drop-in>/waft_bsp.cmake)",
        "#   target_link_libraries(firmware PRIVATE waft::<module>...)   # each brings waft::runtime",
        "# The firmware still supplies the hooks waft_bsp.h lists, and its linker script __StackLimit",
        "# (waft_runtime.ld, on the link path through waft::runtime, says so).",
        'get_filename_component(WAFT_BSP_DIR "${CMAKE_CURRENT_LIST_DIR}" ABSOLUTE)',
        f"set(WAFT_BSP_ABI_VERSION {abi.ABI_VERSION})",
        f'set(WAFT_BSP_TARGET "{target.name}")',
        f"set(WAFT_BSP_CPU_FLAGS {' '.join(target.cflags)})",
        # A module uses threads: the firmware hands the kernel its tick and PendSV (waft_kernel_bsp.h).
        f"set(WAFT_BSP_THREADS {'ON' if any(m.threads for m in modules) else 'OFF'})",
        # A module uses sockets; the firmware brings the NIC driver under lwIP (waft_net_nic.h).
        f"set(WAFT_BSP_SOCKETS {'ON' if any(m.sockets for m in modules) else 'OFF'})",
        f"set(WAFT_BSP_VENDOR_NIC {'ON' if _vendor_nic(modules, options) else 'OFF'})",
        "if(NOT TARGET waft::runtime)",
        "  add_library(waft::runtime STATIC IMPORTED)",
        "  set_target_properties(waft::runtime PROPERTIES",
        '    IMPORTED_LOCATION "${WAFT_BSP_DIR}/lib/libwaft.a"',
        '    INTERFACE_INCLUDE_DIRECTORIES "${WAFT_BSP_DIR}/include"',
        '    INTERFACE_LINK_DIRECTORIES "${WAFT_BSP_DIR}")',
    ]
    for m in modules:
        lines += [
            f"  add_library(waft::{m.prefix} STATIC IMPORTED)",
            f"  set_target_properties(waft::{m.prefix} PROPERTIES",
            f'    IMPORTED_LOCATION "${{WAFT_BSP_DIR}}/lib/lib{m.prefix}.a"',
            "    INTERFACE_LINK_LIBRARIES waft::runtime)",
        ]
    lines += ["endif()", ""]
    return "\n".join(lines)


def _make_file(target: Target, modules: list[_Module], options: BspOptions) -> str:
    return "\n".join([
        (f"# GENERATED by waft bsp: this drop-in as make variables ({target.name}, "
         f"Waft ABI version {abi.ABI_VERSION})."),
        "#   include <drop-in>/waft_bsp.mk",
        "#   CFLAGS += $(WAFT_BSP_CFLAGS); LDFLAGS += $(WAFT_BSP_LDFLAGS); LDLIBS := $(WAFT_BSP_LIBS) $(LDLIBS)",
        "WAFT_BSP_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))",
        f"WAFT_BSP_ABI_VERSION := {abi.ABI_VERSION}",
        f"WAFT_BSP_TARGET := {target.name}",
        f"WAFT_BSP_CPU_FLAGS := {' '.join(target.cflags)}",
        f"WAFT_BSP_THREADS := {1 if any(m.threads for m in modules) else 0}",
        f"WAFT_BSP_SOCKETS := {1 if any(m.sockets for m in modules) else 0}",
        f"WAFT_BSP_VENDOR_NIC := {1 if _vendor_nic(modules, options) else 0}",
        "WAFT_BSP_CFLAGS := -I$(WAFT_BSP_DIR)/include",
        "WAFT_BSP_LDFLAGS := -L$(WAFT_BSP_DIR) -L$(WAFT_BSP_DIR)/lib",
        "WAFT_BSP_LIBS := " + " ".join(f"-l{m.prefix}" for m in modules) + " -lwaft",
        "WAFT_BSP_ARCHIVES := " + " ".join(f"$(WAFT_BSP_DIR)/lib/lib{m.prefix}.a" for m in modules)
        + " $(WAFT_BSP_DIR)/lib/libwaft.a",
        "",
    ])


def _compiler_versions(target: Target) -> dict[str, str]:
    import llvmlite.binding as llvm

    cc = _compiler_identity(target.cc).splitlines()
    return {"waft": __version__, "llvm": ".".join(map(str, llvm.llvm_version_info)),
            "cc": target.cc, "cc_version": cc[1] if len(cc) > 1 else ""}


def _check_replaceable(output: Path) -> None:
    """BspError unless `output` is absent, an earlier drop-in, or holds no files (SCons makes the folders)."""
    if not output.exists() or (output / MANIFEST).is_file():
        return
    if not output.is_dir() or any(p.is_file() or p.is_symlink() for p in output.rglob("*")):
        raise BspError(f"{output} exists and is not a waft bsp output (no {MANIFEST}): choose another -o")


def _publish(work: Path, output: Path) -> None:
    """Move the finished folder into place; a previous drop-in there is replaced, anything else refused."""
    if output.exists():
        _check_replaceable(output)
        old = Path(tempfile.mkdtemp(prefix=f".{output.name}.old-", dir=output.parent))
        os.replace(output, old / output.name)
        os.replace(work, output)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(work, output)


def build_bsp(paths: Sequence[Path], target: Target, output: Path, build_dir: Path,
              options: BspOptions | None = None) -> dict:
    """Compile `paths` for `target` and write the drop-in folder `output`; returns the manifest.

    `build_dir` caches the runtime library (waftkit.firmware.runtime).  Raises
    an AotError subclass (BspError among them) on bad input, leaving `output`
    as it was.
    """
    options = options or BspOptions()
    _check_target(target)
    if options.console not in wasi_firmware.CONSOLES:
        raise BspError(f"console '{options.console}' is not one of {', '.join(wasi_firmware.CONSOLES)}")
    if not paths:
        raise BspError("no modules given")
    _check_socket_options(options)
    output = Path(output).absolute()
    _check_replaceable(output)
    planned = _plan(paths, options)
    modules = [m for m, _ in planned]
    output.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{output.name}.new-", dir=output.parent))
    try:
        _build_into(work, planned, target, Path(build_dir), options)
        manifest = _manifest(work, modules, target, options)
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        _publish(work, output)
        return manifest
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def _build_into(work: Path, planned: list[tuple[_Module, bytes]], target: Target, build_dir: Path,
                options: BspOptions) -> None:
    include, lib, obj = work / "include", work / "lib", work / "obj"
    for folder in (include, lib, obj):
        folder.mkdir()
    shutil.copy2(INCLUDE_DIR / "waft.h", include / "waft.h")
    modules = [m for m, _ in planned]
    for module, data in planned:
        with _about(module.path):
            result = compile_module(data, target, prefix=module.prefix, opt=options.opt,
                                    memory_cap_pages=options.memory_cap_pages, fit_check_name=module.path.name)
        header = include / f"{module.prefix}.h"
        header.write_text(result.header)
        objects = [obj / f"{module.prefix}.o"]
        objects[0].write_bytes(result.object)
        if module.wasi:
            objects += _wasi_entry(target, module, result.module, header, obj, build_dir, options)
        _archive(target, lib / f"lib{module.prefix}.a", objects)

    if any(m.wasi for m in modules):
        for path in _WASI_HEADERS:
            shutil.copy2(path, include / path.name)
    if any(m.threads for m in modules):
        shutil.copy2(KERNEL_HOOKS_HEADER, include / KERNEL_HOOKS_HEADER.name)
    if _vendor_nic(modules, options):
        _copy_lwip_headers(include)
    parts = _runtime_parts(modules, target, options)
    runtime = runtime_library(target, build_dir, extra_sources=parts.runtime, defines=parts.defines,
                              cflags=parts.cflags)
    library = lib / "libwaft.a"
    shutil.copy2(runtime, library)
    glue_objects = [_compile_c(target, src, obj / f"glue_{i:02d}_{src.stem}.o", glue_cflags(target, options.console))
                    for i, src in enumerate(parts.glue)]
    if glue_objects:
        _archive(target, library, glue_objects)
    shutil.rmtree(obj)

    (include / BSP_HEADER).write_text(_bsp_header(target, modules, options))
    (work / LINKER_FRAGMENT).write_text(_linker_fragment(target))
    (work / CMAKE_FILE).write_text(_cmake_file(target, modules, options))
    (work / MAKE_FILE).write_text(_make_file(target, modules, options))
    if options.with_startup:
        # The board's own layout, for a project that takes Waft's startup code as it is.
        shutil.copy2(link_mod.linker_script(target), work / "link.ld")
        shutil.copy2(link_mod.CORTEX_M_GLUE / "sections.ld", work / "sections.ld")


def _copy_lwip_headers(include: Path) -> None:
    """What a vendor's NIC driver compiles against: the hooks, lwIP's headers, Waft's lwipopts.h and arch/."""
    from waftkit.firmware import lwip

    shutil.copy2(NIC_HOOKS_HEADER, include / NIC_HOOKS_HEADER.name)
    shutil.copytree(lwip.source_dir() / "src" / "include", include, dirs_exist_ok=True)
    shutil.copy2(lwip.PORT_DIR / "lwipopts.h", include / "lwipopts.h")
    shutil.copytree(lwip.PORT_DIR / "arch", include / "arch", dirs_exist_ok=True)


def _wasi_entry(target: Target, module: _Module, wasm, header: Path, obj: Path, build_dir: Path,
                options: BspOptions) -> list[Path]:
    """The objects that make a WASI command runnable from the vendor's main: waft_run_<prefix> and its configuration."""
    config_dir = obj / "config"
    ramfs_bytes, ramfs_nodes = wasi_firmware.ramfs_storage(target)
    # With SOURCE_DATE_EPOCH the drop-in is reproducible: the epoch is the clock's start
    # (wasi_firmware.render_config) and the fallback generator's build seed comes from it
    # and the module instead of os.urandom.  Without it, each build gets a fresh seed.
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    seed = None
    if epoch:
        seed = hashlib.sha256(b"waft bsp seed\0" + epoch.encode() + b"\0" + _sha256(module.path).encode()).digest()[:16]
    config = wasi_firmware.write_config(config_dir, args=[module.prefix, *options.args], seed=seed,
                                        ramfs_bytes=ramfs_bytes, ramfs_nodes=ramfs_nodes)
    flags = wasi_firmware.firmware_cflags(target, prefix=module.prefix, header=header)
    flags += [f"-D{d}" for d in embedding.main_defines(wasm, target, options.memory_cap_pages,
                                                          max_threads=options.max_threads,
                                                          grants=list(options.grants), prefix=module.prefix)]
    if module.sockets:
        # The grants and the name table, fixed at build time as a board firmware's are.
        flags.append("-D" + embedding.socket_options_define(options.listen, options.allow_connect, options.resolve))
    # The vendor's linker script has no .noinit (Waft's sections.ld has): the instance stays in .bss.
    flags += ["-DWAFT_MAIN_INSTANCE_IN_BSS", f"-I{INCLUDE_DIR}", f"-Dmain=waft_run_{module.prefix}"]
    entry = _compile_c(target, wasi_firmware.MAIN_SOURCE, obj / f"{module.prefix}_run.o", flags)
    conf = _compile_c(target, config, obj / f"{module.prefix}_config.o", flags[:-1])
    return [entry, conf]


def _manifest(work: Path, modules: list[_Module], target: Target, options: BspOptions) -> dict:
    files = {str(p.relative_to(work)): _sha256(p) for p in sorted(work.rglob("*")) if p.is_file()}
    features = ["core"] + (["wasi_snapshot_preview1"] if any(m.wasi for m in modules) else [])
    if any(m.signals for m in modules):
        features.append(embedding.EXT_SIGNALS)
    threads = any(m.threads for m in modules)
    if threads:
        features.append("threads")
    sockets = any(m.sockets for m in modules)
    if sockets:
        features.append("sockets")
    if options.with_startup:
        features.append("startup")
    defines = _runtime_parts(modules, target, options).defines
    kernel = None
    if threads:
        isr_stack = next((int(d.split("=")[1].rstrip("u")) for d in defines
                          if d.startswith("WAFT_OS_ISR_STACK_SIZE=")), 1024)
        kernel = {"max_threads": options.max_threads, "isr_stack": isr_stack, "tick_hz": 1000,
                  "tick": KERNEL_TICK_HOOK if _vendor_tick(modules, options) else "SysTick_Handler (library)",
                  "pendsv": KERNEL_PENDSV_HOOK if _vendor_pendsv(modules, options) else "PendSV_Handler (library)"}
    return {
        "format": MANIFEST_FORMAT,
        "abi_version": abi.ABI_VERSION,
        "abi_symbol": abi.abi_version_symbol(),
        "compiler": _compiler_versions(target),
        "target": {"name": target.name, "triple": target.triple, "cpu": target.cpu,
                   "float_abi": target.float_abi, "cflags": list(target.cflags)},
        "options": {"opt": options.opt, "max_pages": options.memory_cap_pages,
                    "with_startup": options.with_startup,
                    "console": options.console if options.with_startup else None,
                    "args": list(options.args), "grants": [g.describe() for g in options.grants],
                    "max_threads": options.max_threads if threads else None,
                    "kernel_owns_pendsv": options.kernel_owns_pendsv,
                    "nic": options.nic, "listen": list(options.listen),
                    "allow_connect": list(options.allow_connect), "resolve": list(options.resolve)},
        "runtime": {"library": "lib/libwaft.a", "features": features, "defines": defines, "kernel": kernel},
        "modules": [{"wasm": m.path.name, "wasm_sha256": _sha256(m.path), "component": m.component,
                     "prefix": m.prefix,
                     "library": f"lib/lib{m.prefix}.a", "header": f"include/{m.prefix}.h",
                     "entry": f"waft_run_{m.prefix}" if m.wasi else None,
                     "imports": m.imports, "exports": m.exports} for m in modules],
        "files": files,
    }
