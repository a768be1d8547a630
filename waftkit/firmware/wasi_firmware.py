"""Build a WASI command module into board firmware (Cortex-M, RISC-V): main, build-time configuration, board glue.

A board has no command line, environment or host filesystem, so what `waft
run` takes as options is fixed when the firmware is built:

- `write_config` generates one C file, `wasi_config.c`, with the guest's
  argv and environ, the RAM filesystem's seed (each `--dir HOST::GUEST`
  folder copied in as const arrays by `waftkit.firmware.ramfs_image`) and storage, the
  build time (CLOCK_REALTIME's epoch without an RTC) and a build seed for the
  fallback random generator; it defines `waft_wasi_baremetal_setup`;
- `firmware_sources` returns every C file the firmware needs besides the
  module object and `libwaft.a`: runtime_c/wasi_p1/baremetal_main.c (which
  calls the setup, instantiates the module, runs `_start`), the generated
  configuration, and the board glue for the WASI port: on Cortex-M the
  SysTick clock and the console backends (targets/common/cortex-m/), on
  RISC-V the CLINT timer and the semihosting console
  (targets/common/riscv/wasi_board.c), then the weak board defaults
  (targets/common/board_default.c) and the chip's RNG/UART/RTC in
  targets/<name>/board.c;
- `firmware_cflags` the flags to compile them with (module prefix and header,
  console backend), `runtime_defines` the defines the WASI runtime library
  must be built with (smaller fd table, paths and poll sets than the host's);
- `link_firmware` does all of it: runtime library, sources, module, link.

Only the WASI functions the module imports reach the image: everything is
compiled with -ffunction-sections and linked with --gc-sections, and the
generated setup mentions the RAM filesystem only when there is a `--dir`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from aot.errors import TargetError
from aot.targets import TARGETS_DIR, Target
from waftkit import wasi
from waftkit.firmware import embedding
from waftkit.firmware import link as link_mod
from waftkit.firmware.ramfs_image import c_string, render_c, seed_entries
from waftkit.firmware.runtime import port_define, runtime_library

MAIN_SOURCE = wasi.WASI_DIR / "baremetal_main.c"
# The bare-metal port's answer to sockets when the firmware has no network port.
SOCKETLESS_PORT = "port_baremetal_sockets.c"
CONFIG_NAME = "wasi_config.c"
# Weak defaults of the board hooks (no RNG, no unique ID, no RTC), for every core.
BOARD_DEFAULTS = TARGETS_DIR / "common" / "board_default.c"
# Console backends by target kind (the first is the default).  RISC-V has
# semihosting only (picolibc's libsemihost).
KIND_CONSOLES = {"cortex-m": ("semihost", "uart", "rtt"), "riscv": ("semihost",)}
CONSOLES = KIND_CONSOLES["cortex-m"]

# What ends stdin on a board's console, for whoever feeds it.  Cortex-M's
# semihosting console reads QEMU's own stdin (SYS_READ on ":tt"), whose end of
# file the program sees; RISC-V's reads the semihosting console's chardev
# (SYS_READC), which has no end: a 0x04 byte marks it (targets/common/riscv/wasi_board.c).
_END_OF_INPUT = {"riscv": b"\x04"}

# RAM filesystem storage when the caller does not say (bytes of file data
# written at run time, and files + directories + links, the root included).
# Boards with at least LARGE_BOARD_RAM bytes of RAM get the LARGE_ figures,
# enough for a program that fills a directory with a hundred files.
DEFAULT_RAMFS_BYTES = 8192
DEFAULT_RAMFS_NODES = 32
LARGE_BOARD_RAM = 1 << 20
LARGE_RAMFS_BYTES = 64 * 1024
LARGE_RAMFS_NODES = 256

# Longest name in the RAM filesystem on a board (bytes).  It sizes each node,
# so the runtime library and the firmware's configuration are built with the
# same value (a runtime define); ramfs.h's own default is shorter.
RAMFS_NAME_MAX = 127

# The WASI runtime's limits on a board: 16 fds, 256-byte paths (two such
# buffers live on the stack in path_rename), 8 waiting fds in one poll, and
# the RAM filesystem's longest name.
_RUNTIME_DEFINES = ("WAFT_WASI_MAX_FDS=16", "WASI_PATH_MAX=256", "WASI_POLL_MAX=8",
                    f"WAFT_RAMFS_NAME_MAX={RAMFS_NAME_MAX}")

Dir = tuple[Path | str, str]  # (host folder, guest name)


def _require_board(target: Target) -> None:
    if target.kind not in KIND_CONSOLES:
        raise TargetError(f"target '{target.name}' is not a board with a bare-metal WASI port "
                          f"({', '.join(KIND_CONSOLES)}): its WASI programs are built by waftkit.wasi and waftkit.firmware.link")


def runtime_defines() -> list[str]:
    """`defines` for `runtime_library` when it builds the WASI runtime for a board."""
    return list(_RUNTIME_DEFINES)


def board_glue(target: Target) -> list[Path]:
    """The board's part of the WASI port: clock, console, weak defaults, the chip's board.c."""
    _require_board(target)
    if target.kind == "riscv":
        files = [link_mod.RISCV_GLUE / "wasi_board.c"]
    else:
        files = [link_mod.CORTEX_M_GLUE / "systick.c", link_mod.CORTEX_M_GLUE / "wasi_console.c"]
    files.append(BOARD_DEFAULTS)
    board = target.directory / "board.c"
    if board.is_file():
        files.append(board)
    return files


def console_end_of_input(target: Target) -> bytes:
    """Bytes to append to a WASI firmware's stdin so that its program sees the end of input.

    b"" where the console reports end of file itself (Cortex-M's semihosting
    console), b"\\x04" on RISC-V, whose semihosting console has no end of input.
    """
    _require_board(target)
    return _END_OF_INPUT.get(target.kind, b"")


def parse_dir(spec: str) -> Dir:
    """`HOST::GUEST` (or `HOST`, guest name = the folder's name) as (host, guest)."""
    host, sep, guest = spec.partition("::")
    return (host, guest if sep else Path(host).name)


def ramfs_storage(target: Target) -> tuple[int, int]:
    """Default RAM filesystem storage for a board: (pool bytes, minimum node count)."""
    if target.ram is not None and target.ram.length >= LARGE_BOARD_RAM:
        return LARGE_RAMFS_BYTES, LARGE_RAMFS_NODES
    return DEFAULT_RAMFS_BYTES, DEFAULT_RAMFS_NODES


def render_config(*, args: Sequence[str], env: Mapping[str, str] | Sequence[str] = (), dirs: Sequence[Dir] = (),
                  epoch_ns: int | None = None, seed: bytes | None = None,
                  ramfs_bytes: int = DEFAULT_RAMFS_BYTES, ramfs_nodes: int = DEFAULT_RAMFS_NODES) -> str:
    """The text of wasi_config.c (see the module docstring).

    `ramfs_bytes` and `ramfs_nodes` are the RAM filesystem's defaults (the
    pool, and the fewest nodes: the seed's count + 16 when that is more);
    -DWAFT_RAMFS_BYTES / -DWAFT_RAMFS_NODES still override them.
    """
    if not args:
        raise ValueError("args must hold at least the program name (the guest's argv[0])")
    env_items = [f"{k}={v}" for k, v in env.items()] if isinstance(env, Mapping) else list(env)
    if epoch_ns is None:
        # SOURCE_DATE_EPOCH makes images reproducible; otherwise the build's time.
        sde = os.environ.get("SOURCE_DATE_EPOCH")
        epoch_ns = int(sde) * 1_000_000_000 if sde else time.time_ns()
    seed = os.urandom(16) if seed is None else seed
    words = [int.from_bytes(seed[i:i + 4], "little") for i in range(0, 16, 4)]

    out = [
        "/* GENERATED by waftkit/firmware/wasi_firmware.py: the WASI process this firmware runs,",
        " * fixed at build time (argv, environ, preopened RAM-filesystem folders). */",
        "#include <stddef.h>",
        "",
        '#include "port_baremetal.h"',
        '#include "waft_wasi.h"',
        "",
    ]
    entries = []
    for i, (host, _guest) in enumerate(dirs):
        entries += seed_entries(Path(host), f"d{i}", name_max=RAMFS_NAME_MAX)
    if dirs:
        out.append(render_c(entries))
        out += [
            "#ifndef WAFT_RAMFS_BYTES",
            f"#define WAFT_RAMFS_BYTES {ramfs_bytes}",
            "#endif",
            "#ifndef WAFT_RAMFS_NODES",
            f"#define WAFT_RAMFS_NODES {max(ramfs_nodes, len(entries) + 16)}",
            "#endif",
            "static uint8_t ramfs_pool[WAFT_RAMFS_BYTES];",
            "static waft_ramfs_node ramfs_nodes[WAFT_RAMFS_NODES];",
            "",
            "/* Files are stamped with the realtime clock (port_baremetal.h says why the hook is here). */",
            "uint64_t waft_ramfs_clock_ns(void) { return waft_wasi_realtime_ns(); }",
            "",
        ]
    out.append("static const char *const guest_argv[] = {" + ", ".join(c_string(a) for a in args) + ", NULL};")
    out.append("static const char *const guest_env[] = {" + "".join(c_string(e) + ", " for e in env_items) + "NULL};")
    out += [
        "",
        "int waft_wasi_baremetal_setup(waft_wasi_ctx *ctx) {",
        f"    waft_wasi_epoch_ns = {epoch_ns}ull;",
    ]
    out += [f"    waft_wasi_build_seed[{i}] = {w:#010x}u;" for i, w in enumerate(words)]
    out.append(f"    waft_wasi_init(ctx, {len(args)}, guest_argv, guest_env);")
    if dirs:
        out += [
            "    uint16_t err = waft_ramfs_mount(ramfs_nodes, WAFT_RAMFS_NODES, ramfs_pool, WAFT_RAMFS_BYTES,",
            "                                    waft_ramfs_seed_table, waft_ramfs_seed_table_count, waft_wasi_epoch_ns);",
            "    if (err != 0) {",
            '        waft_port_write_error("waft: the --dir folders do not fit the RAM filesystem (raise WAFT_RAMFS_NODES): ");',
            "        waft_port_write_error(waft_wasi_errno_name(err));",
            '        waft_port_write_error("\\n");',
            "        return err;",
            "    }",
            "    int32_t fd;",
        ]
        for i, (_host, guest) in enumerate(dirs):
            out += [
                f'    fd = waft_wasi_preopen_dir(ctx, "d{i}", {c_string(guest)});',
                "    if (fd < 0) {",
                f'        waft_port_write_error("waft: cannot preopen " {c_string(guest)} ": ");',
                "        waft_port_write_error(waft_wasi_errno_name(-fd));",
                '        waft_port_write_error("\\n");',
                "        return -fd;",
                "    }",
            ]
    out += ["    return 0;", "}", ""]
    return "\n".join(out)


def write_config(build_dir: Path, **kwargs) -> Path:
    """Write wasi_config.c into `build_dir` (keyword arguments as render_config's)."""
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    path = build_dir / CONFIG_NAME
    text = render_config(**kwargs)
    if not path.is_file() or path.read_text() != text:  # leave an unchanged file's mtime alone
        path.write_text(text)
    return path


def firmware_sources(target: Target, build_dir: Path, *, args: Sequence[str],
                     env: Mapping[str, str] | Sequence[str] = (), dirs: Sequence[Dir] = (),
                     epoch_ns: int | None = None, seed: bytes | None = None) -> list[Path]:
    """Every C file of a WASI firmware besides the module and libwaft.a; writes wasi_config.c into build_dir.

    `args` is the guest's whole argv (argv[0], the program name, first);
    `env` a mapping or "K=V" strings; `dirs` (host folder, guest name) pairs,
    each folder copied into the RAM filesystem and preopened under its name.
    Compile them with `firmware_cflags`.
    """
    _require_board(target)
    ramfs_bytes, ramfs_nodes = ramfs_storage(target)
    config = write_config(build_dir, args=args, env=env, dirs=dirs, epoch_ns=epoch_ns, seed=seed,
                          ramfs_bytes=ramfs_bytes, ramfs_nodes=ramfs_nodes)
    return [MAIN_SOURCE, config, *board_glue(target)]


def firmware_cflags(target: Target, *, prefix: str, header: Path, console: str = "semihost",
                    defines: Sequence[str] = ()) -> list[str]:
    """Flags for firmware_sources: the module's prefix and header, the console backend, the runtime's limits.

    `defines` ("NAME" or "NAME=VALUE") set e.g. WAFT_RAMFS_BYTES, WAFT_RAMFS_NODES,
    WAFT_CORE_HZ, WAFT_RTT_BLOCK (Cortex-M), WAFT_CLINT_BASE, WAFT_MTIME_HZ (RISC-V).
    """
    _require_board(target)
    consoles = KIND_CONSOLES[target.kind]
    if console not in consoles:
        raise TargetError(f"WASI console '{console}' is not available on {target.name} (choose from {', '.join(consoles)})")
    flags = [f"-I{wasi.WASI_DIR}", f"-I{wasi.INCLUDE_DIR}", f"-D{port_define(target)}",
             "-ffunction-sections", "-fdata-sections",
             f"-DWAFT_MODULE={prefix}", "-include", str(header), f"-DWAFT_WASI_CONSOLE={console}"]
    flags += [f"-D{d}" for d in (*_RUNTIME_DEFINES, *defines)]
    return flags


def wasi_runtime(target: Target, build_dir: Path, thread_defines: Sequence[str] | None = None,
                 signals: bool = False, sockets: bool = False, socket_defines: Sequence[str] = ()) -> Path:
    """libwaft.a with the WASI runtime for a board (cached by runtime_build).

    With `thread_defines` (waftkit.firmware.embedding.thread_defines), the
    thread layer and the kernel are in it too, sized by them.  With `signals`
    the signals layer and its port: only for modules that import it, since its
    port takes over the vector table.  With `sockets` the sockets layer and
    lwIP (docs/sockets.md), in place of the port's "no sockets" answers;
    `socket_defines` size or configure them (lwipopts.h, port_lwip.c).
    """
    _require_board(target)
    sources = wasi.runtime_sources(target)
    defines = runtime_defines()
    flags: list[str] = []
    if signals:
        sources += embedding.signal_sources(target)
    if thread_defines is not None:
        sources += embedding.thread_sources(target)
        defines += list(thread_defines)
    if sockets:
        sources = [s for s in sources if s.name != SOCKETLESS_PORT] + embedding.socket_sources(target)
        flags = embedding.socket_cflags(target)
        defines += list(socket_defines)
    return runtime_library(target, build_dir, extra_sources=sources, defines=defines, cflags=flags)


def link_firmware(target: Target, module_object: Path, module_header: Path, output: Path, *, prefix: str,
                  build_dir: Path, args: Sequence[str], env: Mapping[str, str] | Sequence[str] = (),
                  dirs: Sequence[Dir] = (), console: str = "semihost", defines: Sequence[str] = (),
                  runtime_dir: Path | None = None, map_file: Path | None = None,
                  epoch_ns: int | None = None, seed: bytes | None = None,
                  thread_defines: Sequence[str] | None = None, signals: bool = False,
                  sockets: bool = False, socket_defines: Sequence[str] = (),
                  printf_float: bool = False, extra_sources: Sequence[Path] = ()) -> Path:
    """Link a compiled WASI module (object + header from aot.compiler) into firmware `output`.

    `build_dir` receives the generated configuration; `runtime_dir` (default:
    build_dir) holds the cached runtime library.  A module with threads needs
    `thread_defines`, one that imports wasi-ext:signals `signals` (and both
    embedding.main_defines among `defines`), one that imports wasi-ext:sockets
    `sockets` (and embedding.socket_options_define among `defines`).  Raises
    TargetError when a step fails.

    `printf_float` links the C library's float printf (link.printf_float_flags).
    Off by default: the firmware's C is Waft's own, which never formats a float,
    and the module's printf is compiled into the module.  Turn it on only when
    C code of your own that prints floats joins the link.
    """
    sources = firmware_sources(target, build_dir, args=args, env=env, dirs=dirs, epoch_ns=epoch_ns, seed=seed)
    library = wasi_runtime(target, Path(runtime_dir or build_dir), thread_defines, signals, sockets, socket_defines)
    cflags = firmware_cflags(target, prefix=prefix, header=Path(module_header), console=console, defines=defines)
    return link_mod.link(target, [*sources, *extra_sources, module_object, library], output, map_file=map_file,
                         cflags=cflags, printf_float=printf_float)
