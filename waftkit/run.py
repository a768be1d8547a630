"""`waft run`: compile a WASI command module, link it with the target's runtime, run it.

On the host the program is an ordinary executable linked with the WASI host
port and `runtime_c/wasi_p1/main/host_main.c` (which parses --dir/--env/--listen
and the guest's argv).  On a board the guest's args, environment and RAM
filesystem seed are fixed at build time (waftkit/firmware/wasi_firmware.py), so the
firmware is linked for each run and booted under QEMU with semihosting.
Compiled modules and runtimes are cached under the cache folder by a hash of
their inputs (module bytes, options, and Waft's own inputs: compiler, runtime
and board descriptions; waftkit.cache), so running the same module again skips
the compiler.

Signal grants (`--grant`, waftkit/firmware/signal_grants.py) are build
options of the program, as on a board; so are a board's socket grants
(`--listen`, `--allow-connect`, `--resolve`: docs/sockets.md), whose listening
ports QEMU forwards from 127.0.0.1.  A host run that grants POSIX signals
replaces `waft run` itself with the program (exec), so a signal sent to
`waft run`'s process id, or a terminal's Ctrl-C, reaches the program exactly
once, as sent.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from aot.compiler import compile_module
from aot.errors import LinkError, TargetError
from aot.targets import Target
from aot.wasm.decode import decode_module
from aot.wasm.validate import validate_module
from waftkit import wasi
from waftkit.cache import cache_dir, inputs_digest, prune, touch
from waftkit.firmware import embedding, wasi_firmware
from waftkit.firmware import shm_regions
from waftkit.firmware.link import link
from waftkit.firmware.runtime import runtime_library
from waftkit.firmware.signal_grants import CLASS_SIGNAL, Grant
from aot.shm import RegionGrant
from waftkit.imports_check import check_imports
from waftkit.runners.base import get_runner

# Embedder mains live apart from the runtime sources (runtime_sources globs wasi_p1/*.c).
HOST_MAIN = wasi.WASI_DIR / "main" / "host_main.c"
PREFIX = "prog"  # host_main.c is written against this module prefix


@dataclass
class RunOptions:
    args: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)  # "K=V"
    dirs: list[str] = field(default_factory=list)  # "HOST::GUEST"
    listen: list[str] = field(default_factory=list)  # "A.B.C.D:PORT"
    opt: str = "2"
    memory_cap_pages: int | None = None
    runner: str | None = None  # boards: "qemu" (default), or "pyocd" (a real probe or the emulated board)
    probe: str | None = None  # pyOCD probe unique ID
    max_threads: int = embedding.DEFAULT_MAX_THREADS  # the pool of thread instances
    grants: list[Grant] = field(default_factory=list)  # wasi-ext:signals lines, checked, in line order
    icount: bool = False  # QEMU: time follows executed instructions (deterministic timing)
    allow_connect: list[str] = field(default_factory=list)  # wasi-ext:sockets destinations
    resolve: list[str] = field(default_factory=list)  # wasi-ext:sockets name table, "NAME=ADDRESS"
    regions: list[RegionGrant] = field(default_factory=list)  # wasi-ext:shared-memory regions, declared and granted


def check_runnable(data: bytes, target: Target, name: str) -> None:
    """Refuse, with one clear message, a module `waft run` cannot run on `target`."""
    module = decode_module(data)
    validate_module(module)
    exports = {e.name: e.kind for e in module.exports}
    if exports.get("_start") != "func":
        raise LinkError(f"{name} exports no _start function: waft run needs a WASI command module "
                        "(build it with clang --target=wasm32-wasi and a main)")
    if exports.get("memory") != "memory":
        raise LinkError(f"{name} exports no memory named 'memory', which WASI needs")
    embedding.check_embeddable(module, name)
    # The runner provides one imported memory (wasi-threads modules import theirs).
    bad = [s for s in check_imports(module, target) if not s.ok and s.imp.kind != "memory"]
    if bad:
        names = ", ".join(f"{s.imp.module}.{s.imp.name} ({s.status})" for s in bad)
        raise LinkError(f"{name}: the {target.name} runtime cannot satisfy {len(bad)} import(s): "
                        f"{names}; see `waft check`")


def build_host_program(data: bytes, target: Target, options: RunOptions, name: str,
                       cache: Path | None = None) -> Path:
    """The cached host executable for this module and these build options.

    `cache` is the folder for compiled modules and runtimes (default: `cache_dir()`).
    """
    cache = cache or cache_dir()
    folder = compiled_module(data, target, options, name, cache)
    module = decode_module(data)
    defines = embedding.main_defines(module, target, options.memory_cap_pages, options.max_threads,
                                     options.grants, PREFIX)
    # The embedding options (thread pool size, grants...) are part of the program, not of the object.
    exe = folder / ("program-" + hashlib.sha256("|".join(defines + [repr(options.regions)]).encode()).hexdigest()[:12])
    if exe.is_file():
        return exe
    threaded = embedding.uses_threads(module)
    threads = embedding.thread_sources(target) if threaded else []
    # The pool's size reaches the OS port (in the library) and host_main.c alike.
    pool = embedding.thread_defines(target, options.max_threads) if threaded else []
    signals = embedding.signal_sources(target) if embedding.uses_signals(module) else []
    sockets = embedding.socket_sources(target) if embedding.uses_sockets(module) else []
    runtime = runtime_library(target, cache,
                              extra_sources=wasi.runtime_sources(target) + threads + signals + sockets,
                              defines=pool)
    partial = folder / f".program-{os.getpid()}"
    regions = region_sources(module, options, folder)
    link(target, [HOST_MAIN, folder / f"{PREFIX}.o", *regions, runtime], partial,
         cflags=[f"-I{wasi.INCLUDE_DIR}", f"-I{embedding.THREADS_DIR}", f"-I{folder}", f"-I{embedding.SHM_DIR}",
                 *(f"-D{d}" for d in defines)])
    os.replace(partial, exe)  # atomic: a parallel run sees the old state or the whole program
    return exe


def region_sources(module, options: RunOptions, folder: Path) -> list[Path]:
    """The regions' storage and the module's grant table (C), and the `regions` imports, when it imports any."""
    if not embedding.uses_regions(module):
        return []
    regions = {g.name: shm_regions.Region(g.name, g.size) for g in options.regions}
    grants = {PREFIX: list(options.regions)}
    digest = hashlib.sha256(repr(options.regions).encode()).hexdigest()[:12]
    source = folder / f"regions-{digest}.c"
    if not source.is_file():
        partial = folder / f".regions-{os.getpid()}.c"
        partial.write_text(shm_regions.render_c(regions, grants, str(embedding.SHM_DIR / "waft_shm.h")))
        os.replace(partial, source)
    return [source, embedding.SHM_DIR / "ext_regions.c"]


def compiled_module(data: bytes, target: Target, options: RunOptions, name: str,
                    cache: Path | None = None) -> Path:
    """Folder holding the cached prog.o and prog.h for this module and options (under `cache`)."""
    key = hashlib.sha256(data + f"|{target.name}|{options.opt}|{options.memory_cap_pages}|"
                         f"{options.regions!r}|{inputs_digest()}".encode()).hexdigest()[:20]
    root = (cache or cache_dir()) / "modules" / target.name
    folder = root / key
    if (folder / f"{PREFIX}.o").is_file():
        touch(folder)
        return folder
    check_runnable(data, target, name)
    root.mkdir(parents=True, exist_ok=True)
    result = compile_module(data, target, prefix=PREFIX, opt=options.opt,
                            memory_cap_pages=options.memory_cap_pages, fit_check_name=name,
                            regions=options.regions)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
    (work / f"{PREFIX}.o").write_bytes(result.object)
    (work / f"{PREFIX}.h").write_text(result.header)
    try:
        work.rename(folder)  # publish the whole folder at once
    except OSError:  # another process published the same build first
        shutil.rmtree(work, ignore_errors=True)
    prune(cache or cache_dir())  # a new entry: keep the cache within its budget
    return folder


def run_on_board(data: bytes, target: Target, options: RunOptions, name: str) -> int:
    """Link a firmware with the options baked in, run it (QEMU or pyOCD), pass its output through."""
    decoded = decode_module(data)
    sockets = embedding.uses_sockets(decoded)
    if (options.listen or options.allow_connect or options.resolve) and not sockets:
        raise LinkError(f"--listen/--allow-connect/--resolve: {name} imports nothing of wasi-ext:sockets, "
                        f"and {target.name} preopens no sockets for p1 modules")
    # -icount: one instruction per ns of virtual time, so timers and the clock agree whatever the host's load.
    counting = {"instruction_count": True} if options.icount else {}
    if sockets and options.runner in (None, "qemu"):
        counting["forwards"] = board_forwards(options.listen)  # QEMU's user network; a real board has its own
    runner = get_runner(target, options.runner, probe=options.probe, **counting)
    module = compiled_module(data, target, options, name)
    defines = embedding.main_defines(decoded, target, options.memory_cap_pages, options.max_threads,
                                     options.grants, PREFIX)
    if sockets:
        embedding.check_board_sockets(decoded, target)
        defines.append(embedding.socket_options_define(options.listen, options.allow_connect, options.resolve))
    threads = embedding.thread_defines(target, options.max_threads) if embedding.uses_threads(decoded) else None
    with tempfile.TemporaryDirectory(prefix="waft-run-") as tmp:
        dirs = [wasi_firmware.parse_dir(d) for d in options.dirs]
        regions = region_sources(decoded, options, Path(tmp))
        elf = wasi_firmware.link_firmware(
            target, module / f"{PREFIX}.o", module / f"{PREFIX}.h", Path(tmp) / "program.elf",
            prefix=PREFIX, build_dir=Path(tmp), runtime_dir=cache_dir(),
            args=[name, *options.args], env=options.env, dirs=dirs, defines=defines, thread_defines=threads,
            signals=embedding.uses_signals(decoded), sockets=sockets, extra_sources=regions)
        stdin = _console_input(wasi_firmware.console_end_of_input(target))
        try:
            result = runner.run(elf, stdin=stdin)
        finally:
            if stdin is not None and stdin is not sys.stdin and not isinstance(stdin, bytes):
                stdin.close()
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    if result.fault is not None:
        sys.stderr.write(result.fault.describe() + "\n")
    if result.timed_out:
        raise TargetError(f"{name} on {target.name}: no exit within {runner.timeout:.0f} s "
                          f"({runner.name} runner)")
    return result.returncode


# Most ports one --listen grant may forward from the host to a board.
MAX_FORWARDED_PORTS = 16


def board_forwards(listen: list[str]) -> tuple:
    """QEMU port forwards for a board's --listen grants: host 127.0.0.1:PORT to the board's PORT.

    Each grant with fixed ports (one, or a range of at most MAX_FORWARDED_PORTS)
    is forwarded port for port, TCP and/or UDP as the grant says; `*` and 0
    forward nothing (the host cannot know which port the module will take).
    The board gets a NIC even with no forward, so it can connect out.
    """
    from waftkit.firmware.socket_grants import SocketGrantError, check_grant
    from waftkit.runners.qemu import PortForward

    forwards = []
    for spec in listen:
        try:
            check_grant(spec, "--listen")
        except SocketGrantError as exc:
            raise LinkError(str(exc)) from None
        protocols = [spec[:3]] if spec.startswith(("tcp:", "udp:")) else ["tcp", "udp"]
        ports = spec.rpartition(":")[2]
        if ports == "*":
            continue
        low, _, high = ports.partition("-")
        low_port, high_port = int(low), int(high or low)
        if high_port - low_port >= MAX_FORWARDED_PORTS:
            raise LinkError(f"--listen {spec}: a board forwards at most {MAX_FORWARDED_PORTS} ports per grant "
                            "from the host; name the ports the module listens on")
        for port in range(max(low_port, 1), high_port + 1):
            forwards += [PortForward(port, port, protocol) for protocol in protocols]
    return tuple(forwards)


def _console_input(end: bytes = b""):
    """Our stdin, handed to the board's console: the program reads it as it asks for input.

    Nothing is read up front, so a pipe that never closes (a test runner's)
    does not hold up a program that never reads it.  `end` (the board's end
    of input mark, wasi_firmware.console_end_of_input) follows our stdin's
    own end: a thread copies stdin, then `end`, into a pipe the board reads.
    """
    stdin = None if sys.stdin is None or sys.stdin.closed else sys.stdin
    if not end:
        return stdin
    if stdin is None:
        return end
    try:
        source = stdin.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (an embedding replaced it)
        data = stdin.read()
        return (data.encode() if isinstance(data, str) else data) + end
    read_fd, write_fd = os.pipe()

    def copy() -> None:
        try:
            while chunk := os.read(source, 65536):
                _write_all(write_fd, chunk)
            _write_all(write_fd, end)
        except OSError:  # the board exited and closed its end
            pass
        finally:
            os.close(write_fd)

    threading.Thread(target=copy, name="waft-stdin", daemon=True).start()
    return os.fdopen(read_fd, "rb")


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


def run_module(wasm: Path, target: Target, options: RunOptions) -> int:
    """Build (or reuse) and run `wasm`; stdout/stderr pass through; returns the exit status."""
    data = wasm.read_bytes()
    if not target.is_host:
        return run_on_board(data, target, options, wasm.name)
    sockets = embedding.uses_sockets(decode_module(data))
    if (options.allow_connect or options.resolve) and not sockets:
        raise LinkError(f"--allow-connect/--resolve: {wasm.name} imports nothing of wasi-ext:sockets, "
                        "so they would grant nothing")
    if sockets:
        from waftkit.firmware.socket_grants import SocketGrantError, check_grant

        try:
            for spec in options.listen:  # a grant here, not a preopen: the same grammar as --allow-connect
                check_grant(spec, "--listen")
        except SocketGrantError as exc:
            raise LinkError(str(exc)) from None
    exe = build_host_program(data, target, options, wasm.name)
    command = [str(exe)]
    for spec in options.dirs:
        command += ["--dir", spec]
    for spec in options.env:
        command += ["--env", spec]
    for spec in options.listen:
        command += ["--listen", spec]
    for spec in options.allow_connect:
        command += ["--allow-connect", spec]
    for spec in options.resolve:
        command += ["--resolve", spec]
    command += ["--", wasm.name, *options.args]
    if any(g.line_class == CLASS_SIGNAL for g in options.grants) and embedding.uses_signals(decode_module(data)):
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(exe, command)  # the program receives the signals sent to this process
    return subprocess.run(command).returncode
