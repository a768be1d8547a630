"""Build and run the small measuring programs of the calls, wasi and startup groups, on the host or a board.

One place for what those groups share: a module compiled by Waft and
embedded by a C main of the group's own (`embedded_program`), a C source
built natively with the board's clock and console (`native_program`), a
WASI command built as `waft run` builds it (`wasi_program`), one run of a
program (`run`: pinned to one CPU on the host, QEMU -icount shift=0 on a
board, so that the clock counts executed instructions, or pyOCD), and the
instrument's output (`samples`: bench/metrics/instrument.h's lines).

Every failure is a MetricError with one first line that says what and where.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from aot.compiler import compile_module
from aot.targets import Target
from aot.wasm.decode import decode_module
from bench.metrics.common import MetricError, RunContext, Stat
from waftkit.firmware import embedding, wasi_firmware
from waftkit.firmware import link as link_mod
from waftkit.firmware.runtime import port_define, runtime_library
from waftkit.runners.base import get_runner
from waftkit.runners.qemu import run_elf

HERE = Path(__file__).resolve().parent
PREFIX = "prog"
TIMEOUT = 600.0  # CPU seconds under QEMU and on the host, wall-clock through pyOCD
WASI_SYSROOT = "/usr"  # Debian's wasi-libc (clang --target=wasm32-wasi --sysroot=/usr)
# clang's link flags for a WASI module of one 64 KiB page (an 8 KiB shadow stack): it fits a 128 KiB board.
SMALL_MEMORY = ("-Wl,--initial-memory=65536", "-Wl,-z,stack-size=8192")


def unit(target: Target, ctx: RunContext) -> str:
    """The unit of instrument.h's clock: ns (host; a board through pyOCD: SysTick, one-cycle resolution),
    or instructions (QEMU -icount shift=0: one ns per instruction)."""
    return "ns" if target.is_host or ctx.runner == "pyocd" else "instructions"


def wat(text: str, out: Path, *flags: str) -> Path:
    """wat2wasm `text` into `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    source = out.with_suffix(".wat")
    source.write_text(text)
    proc = subprocess.run(["wat2wasm", *flags, str(source), "-o", str(out)], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise MetricError(f"wat2wasm {source} failed: {proc.stderr.strip()}")
    return out


def wasi_c(sources: Sequence[Path], out: Path, flags: Sequence[str] = ()) -> Path:
    """C sources as a WASI command module (clang, wasi-libc), -O2 as the native side."""
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["clang", "--target=wasm32-wasi", f"--sysroot={WASI_SYSROOT}", "-O2", f"-I{HERE}", *flags,
           *map(str, sources), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise MetricError(f"clang --target=wasm32-wasi {' '.join(map(str, sources))} failed:\n"
                          f"{(proc.stderr + proc.stdout).strip()}")
    return out


def compile_wasm(data: bytes, target: Target, work: Path, opt: str = "2") -> tuple[Path, Path]:
    """prog.o and prog.h of a module, in `work`."""
    try:
        result = compile_module(data, target, prefix=PREFIX, opt=opt)
    except Exception as exc:  # noqa: BLE001 -- AotError and friends: one line for the group
        raise MetricError(f"waft compile failed: {exc}") from None
    obj, header = work / f"{PREFIX}.o", work / f"{PREFIX}.h"
    obj.write_bytes(result.object)
    header.write_text(result.header)
    return obj, header


def board_glue(target: Target) -> tuple[list[Path], list[str]]:
    """The clock, console and board hooks a native or embedding C program links on a board, and its flags."""
    if target.is_host:
        return [], []
    glue = wasi_firmware.board_glue(target)
    flags = [f"-I{wasi_firmware.wasi.WASI_DIR}", f"-I{wasi_firmware.wasi.INCLUDE_DIR}", "-DBENCH_BOARD",
             "-DWAFT_WASI_CONSOLE=semihost", "-ffunction-sections", "-fdata-sections",
             # The runtime library's sizes (the RAM filesystem's node, ...), for C that calls into it.
             *(f"-D{d}" for d in wasi_firmware.runtime_defines())]
    return glue, flags


def native_program(target: Target, sources: Sequence[Path], out: Path, *, cflags: Sequence[str] = (),
                   libraries: Sequence[Path] = ()) -> Path:
    """C `sources` linked for `target` (a board: with its startup, clock and console; the WASI runtime
    library is on the line too, so a program may call the runtime's C layer: --gc-sections keeps what it
    calls).  Host programs link librt's clock only."""
    glue, flags = board_glue(target)
    if not target.is_host:
        libraries = [*libraries, wasi_firmware.wasi_runtime(target, out.parent / "runtime")]
    try:
        return link_mod.link(target, [*sources, *glue, *libraries], out,
                             cflags=[f"-I{HERE}", f"-D{port_define(target)}", *flags, "-Wall", "-Wextra", *cflags], printf_float=False)
    except Exception as exc:  # noqa: BLE001 -- TargetError: the group fails in one message
        raise MetricError(f"building {out.name} for {target.name} failed: {exc}") from None


def embedded_program(target: Target, sources: Sequence[Path], wasm: bytes, work: Path, out: Path, *,
                     cflags: Sequence[str] = (), wasi: bool = False) -> Path:
    """C `sources` (a main of the group's own) with `wasm` compiled by Waft as module `prog` and the runtime core
    (`wasi`: the WASI runtime too, for a module that imports it; a board's link always has it)."""
    obj, _header = compile_wasm(wasm, target, work)
    extra = wasi_firmware.wasi.runtime_sources(target) if wasi and target.is_host else []
    runtime = runtime_library(target, work / "runtime", extra_sources=extra)
    return native_program(target, sources, out, cflags=[f"-I{work}", *cflags], libraries=[obj, runtime])


def wasi_program(target: Target, wasm: Path, work: Path, args: Sequence[str] = (),
                 dirs: Sequence[tuple[Path, str]] = ()) -> list[str]:
    """A WASI command as `waft run` builds it; the command line that runs it (host) or [elf] (board).

    `dirs`: (host folder, guest name) preopens, in order (fd 3 first): on a
    board the folder seeds the RAM filesystem, on the host it is the folder.
    """
    from waftkit.run import RunOptions, build_host_program, compiled_module

    data = wasm.read_bytes()
    try:
        if target.is_host:
            exe = build_host_program(data, target, RunOptions(), wasm.name, cache=work / "cache")
            preopens = [a for host, guest in dirs for a in ("--dir", f"{host}::{guest}")]
            return [str(exe), *preopens, "--", wasm.name, *args]
        module = compiled_module(data, target, RunOptions(), wasm.name, cache=work / "cache")
        defines = embedding.main_defines(decode_module(data), target, None)
        elf = wasi_firmware.link_firmware(
            target, module / f"{PREFIX}.o", module / f"{PREFIX}.h", work / f"{wasm.stem}.elf", prefix=PREFIX,
            build_dir=work / wasm.stem, runtime_dir=work / "runtime", args=[wasm.name, *args], dirs=list(dirs), defines=defines)
    except MetricError:
        raise
    except Exception as exc:  # noqa: BLE001 -- LinkError, TargetError: one line
        raise MetricError(f"building {wasm.name} as WASI firmware for {target.name} failed: {exc}") from None
    return [str(elf)]


def _one_cpu():
    """A preexec function pinning the child to one CPU (a board has one core), or None."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpu = max(os.sched_getaffinity(0))
    return lambda: os.sched_setaffinity(0, {cpu})


def run(target: Target, command: Sequence[str], ctx: RunContext, *, check_done: bool = True,
        label: str | None = None) -> str:
    """Run a program to its exit; its stdout.  A non-zero exit or a missing "done" is a MetricError.

    `label` names the program in messages (default: the file's name).
    """
    name = label or Path(command[0]).name
    if target.is_host:
        try:
            proc = subprocess.run(list(command), capture_output=True, text=True, timeout=TIMEOUT,
                                  preexec_fn=_one_cpu(), check=False)
        except subprocess.TimeoutExpired:
            raise MetricError(f"{name} on the host: no exit within {TIMEOUT:.0f} s") from None
        code, stdout, stderr, summary = proc.returncode, proc.stdout, proc.stderr, f"exit status {proc.returncode}"
    else:
        elf = Path(command[0])
        if ctx.runner == "pyocd":
            try:
                result = get_runner(target, "pyocd", probe=ctx.probe, timeout=TIMEOUT).run(elf)
            except Exception as exc:  # noqa: BLE001 -- pyOCD's own errors end the group in one line
                raise MetricError(f"pyOCD could not run {name}: {exc}") from None
        else:
            # shift=0: one ns of virtual time per instruction, so the SysTick clock counts instructions.
            result = run_elf(target, elf, timeout=TIMEOUT, instruction_count=True, idle_sleeps=False)
        code, stdout, stderr, summary = result.returncode, result.stdout, result.stderr, result.summary()
    problems = [line for line in stdout.splitlines() if line.startswith("problem ")]
    if code != 0 or problems or (check_done and "done" not in stdout.split()):
        first = problems[0] if problems else f"{summary}"
        raise MetricError(f"{name} on {target.name} failed its self-check or run: {first}\n"
                          f"{stdout[-1500:]}{stderr[-1500:]}")
    return stdout


def samples(output: str, clock: str | None = "clock") -> dict[str, list[float]]:
    """instrument.h's `sample <name> <per> <ns>...` lines: per-operation figures by name.

    When the program timed an empty batch under the name `clock` (the two
    clock reads around every batch), its mean is taken off each sample first.
    """
    raw: dict[str, tuple[int, list[int]]] = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "sample" and all(p.isdigit() for p in parts[2:]):
            per, values = raw.setdefault(parts[1], (int(parts[2]) or 1, []))
            values.extend(int(p) for p in parts[3:])
    overhead = 0.0
    if clock is not None and raw.get(clock, (0, []))[1]:
        reads = raw.pop(clock)[1]
        overhead = sum(reads) / len(reads)
    return {name: [max(0.0, ns - overhead) / per for ns in values] for name, (per, values) in raw.items()}


def stat(values: dict[str, list[float]], name: str) -> Stat | None:
    got = values.get(name)
    return Stat.of(got) if got else None
