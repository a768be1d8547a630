"""`waft run`: compile a WASI command module, link it with the target's runtime, run it.

On the host the program is an ordinary executable linked with the WASI host
port and `runtime_c/wasi_p1/main/host_main.c` (which parses --dir/--env/--listen
and the guest's argv).  On a board the guest's args, environment and RAM
filesystem seed are fixed at build time (aot/wasi_baremetal.py), so the
firmware is linked for each run and booted under QEMU with semihosting.
Compiled modules and runtimes are cached under the cache folder by a hash of
their inputs (module bytes, options, compiler and runtime sources), so
running the same module again skips the compiler.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from aot import wasi
from aot.compiler import check_fits, compile_module
from aot.decode import decode_module
from aot.errors import LinkError, TargetError
from aot.imports_check import check_imports
from aot.link import link
from aot.runtime_build import runtime_library
from aot.targets import Target
from aot.validate import validate_module

REPO = Path(__file__).resolve().parent.parent
# Embedder mains live apart from the runtime sources (runtime_sources globs wasi_p1/*.c).
HOST_MAIN = REPO / "runtime_c" / "wasi_p1" / "main" / "host_main.c"
PREFIX = "prog"  # host_main.c is written against this module prefix


def cache_dir() -> Path:
    """$WAFT_CACHE_DIR, else $XDG_CACHE_HOME/waft, else ~/.cache/waft."""
    if "WAFT_CACHE_DIR" in os.environ:
        return Path(os.environ["WAFT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "waft"


@dataclass
class RunOptions:
    args: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)  # "K=V"
    dirs: list[str] = field(default_factory=list)  # "HOST::GUEST"
    listen: list[str] = field(default_factory=list)  # "A.B.C.D:PORT"
    opt: str = "2"
    memory_cap_pages: int | None = None
    runner: str = "qemu"  # boards: "qemu", or "pyocd" (a real probe or the emulated board)
    probe: str | None = None  # pyOCD probe unique ID


@cache
def compiler_digest() -> str:
    """Hash of the compiler and runtime sources: a changed Waft never reuses stale products."""
    h = hashlib.sha256()
    for root, pattern in ((REPO / "aot", "*.py"), (REPO / "runtime_c", "*.[ch]")):
        for path in sorted(root.rglob(pattern)):
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


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
    bad = [s for s in check_imports(module, target) if not s.ok]
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
    exe = folder / "program"
    if exe.is_file():
        return exe
    runtime = runtime_library(target, cache, extra_sources=wasi.runtime_sources(target))
    partial = folder / f".program-{os.getpid()}"
    link(target, [HOST_MAIN, folder / f"{PREFIX}.o", runtime], partial,
         cflags=[f"-I{wasi.INCLUDE_DIR}", f"-I{folder}"])
    os.replace(partial, exe)  # atomic: a parallel run sees the old state or the whole program
    return exe


def compiled_module(data: bytes, target: Target, options: RunOptions, name: str,
                    cache: Path | None = None) -> Path:
    """Folder holding the cached prog.o and prog.h for this module and options (under `cache`)."""
    key = hashlib.sha256(data + f"|{target.name}|{options.opt}|{options.memory_cap_pages}|"
                         f"{compiler_digest()}".encode()).hexdigest()[:20]
    root = (cache or cache_dir()) / "modules" / target.name
    folder = root / key
    if (folder / f"{PREFIX}.o").is_file():
        return folder
    check_runnable(data, target, name)
    root.mkdir(parents=True, exist_ok=True)
    result = compile_module(data, target, prefix=PREFIX, opt=options.opt,
                            memory_cap_pages=options.memory_cap_pages)
    check_fits(result, target, name)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
    (work / f"{PREFIX}.o").write_bytes(result.object)
    (work / f"{PREFIX}.h").write_text(result.header)
    try:
        work.rename(folder)  # publish the whole folder at once
    except OSError:  # another process published the same build first
        shutil.rmtree(work, ignore_errors=True)
    return folder


def run_on_board(data: bytes, target: Target, options: RunOptions, name: str) -> int:
    """Link a firmware with the options baked in, boot it under QEMU, pass its output through."""
    from aot import wasi_baremetal
    from aot.qemu import run_elf

    if options.listen:
        raise TargetError(f"--listen: {target.name} has no sockets (WASI sockets answer ENOTSUP there)")
    module = compiled_module(data, target, options, name)
    with tempfile.TemporaryDirectory(prefix="waft-run-") as tmp:
        elf = wasi_baremetal.link_firmware(
            target, module / f"{PREFIX}.o", module / f"{PREFIX}.h", Path(tmp) / "program.elf",
            prefix=PREFIX, build_dir=Path(tmp), runtime_dir=cache_dir(),
            args=[name, *options.args], env=options.env,
            dirs=[wasi_baremetal.parse_dir(d) for d in options.dirs])
        if options.runner == "pyocd":
            from aot.pyocd_runner import run_elf_pyocd

            result = run_elf_pyocd(target, elf, options.probe, stdin=_piped_stdin())
        else:
            result = run_elf(target, elf, stdin=_piped_stdin())
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    fault = getattr(result, "fault", None)
    if fault is not None:
        sys.stderr.write(fault.describe() + "\n")
    if result.timed_out:
        raise TargetError(f"{name} on {target.name}: no exit within the QEMU time limit")
    return result.returncode


def _piped_stdin() -> bytes | None:
    """Our stdin when it is a pipe or a file (the board's console input); None on a terminal.

    QEMU runs to completion before its output is shown, so console input is
    read up front: an interactive terminal would wait for an EOF first.
    """
    if sys.stdin is None or sys.stdin.isatty():
        return None
    return sys.stdin.buffer.read()


def run_module(wasm: Path, target: Target, options: RunOptions) -> int:
    """Build (or reuse) and run `wasm`; stdout/stderr pass through; returns the exit status."""
    data = wasm.read_bytes()
    if not target.is_host:
        if target.qemu_machine is None and options.runner != "pyocd":
            raise TargetError(f"waft run: {target.name} has no emulator here; flash it with pyOCD")
        return run_on_board(data, target, options, wasm.name)
    exe = build_host_program(data, target, options, wasm.name)
    command = [str(exe)]
    for spec in options.dirs:
        command += ["--dir", spec]
    for spec in options.env:
        command += ["--env", spec]
    for spec in options.listen:
        command += ["--listen", spec]
    command += ["--", wasm.name, *options.args]
    return subprocess.run(command).returncode
