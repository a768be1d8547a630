"""The `startup` metric group: how fast a device is up, and what instantiating a module costs.

Two programs (bench/metrics/startup/), each built natively and to Wasm:
`small.c` (no libc, one data segment, its own `_start`) and `large.c`
(wasi-libc-sized: float printf, qsort, malloc, a 4 KiB initialised table).

- On a board (QEMU): each program, native and as WASI firmware
  (`waft run`'s build), is booted once with QEMU's execution log
  (`-d in_asm,exec,nochain`, no -icount needed: the log lists every
  translated block and every execution of one), and the executed
  instructions are counted from reset to the first entry of `main`, and to
  the first instruction of the program's own code (native: `main`; Waft: the
  first compiled Wasm function, `wasm.N.*`).  Exact counts, one run each.
- On the host: each program is spawned 20 times and its first act, a
  CLOCK_MONOTONIC reading, less the harness's reading just before the spawn,
  is the time to its first instruction.
- Everywhere: instantiate.c embeds the module and times prog__instantiate
  (zero the linear memory, apply data and element segments, set globals),
  checking each time that the data segment's marker is in memory.  Native C
  has no instantiation (its .data copy and .bss zeroing are in reset -> main).
"""

from __future__ import annotations

import bisect
import re
import subprocess
import tempfile
import time
from pathlib import Path

from aot.targets import Target
from aot.wasm.decode import decode_module
from bench.analysis import functions_of
from bench.metrics import programs, wasm2c_peer
from bench.metrics.common import GroupResult, MetricError, Row, RunContext, Stat
from waftkit.runners.qemu import qemu_command

TITLE = "Start-up: reset -> main, reset -> first Wasm instruction, instantiate (small and wasi-libc-sized modules)"
SOURCES = Path(__file__).resolve().parent / "startup"
PROGRAMS = {"small": SOURCES / "small.c", "large": SOURCES / "large.c"}
LABELS = {"small": "small module (no libc)", "large": "wasi-libc-sized module"}
HOST_SPAWNS = 20
MAX_SAMPLES = 100

_INSN = re.compile(r"0x([0-9a-f]+):\s")
_TRACE = re.compile(r"Trace .*?\[[0-9a-f]+/([0-9a-f]+)/")


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def build_wasm(name: str, work: Path) -> Path:
    source = PROGRAMS[name]
    flags = ["-nostdlib", "-Wl,--no-entry", "-Wl,--export=_start"] if name == "small" else []
    return programs.wasi_c([source], work / f"{name}.wasm", [*flags, *programs.SMALL_MEMORY])


# How each build names the functions compiled from Wasm: Waft `wasm.N.*`; wasm2c `w2c_*` (static) and the
# export wrapper of _start.
WASM_CODE = ("wasm.", "w2c_", "Z_progZ__start")


def first_entries(target: Target, elf: Path, work: Path) -> dict[str, int]:
    """Instructions executed from reset to the first entry of `main` and of the first function compiled
    from Wasm (WASM_CODE).

    One QEMU run with its execution log; the program must exit 0 and print "done".
    """
    symbols = functions_of(elf)
    starts = [a for a, _ in symbols]
    main = next((a for a, n in symbols if n == "main"), None)
    if main is None:
        raise MetricError(f"{elf.name} has no main")
    log = work / f"{elf.stem}.qemu.log"
    command = [*qemu_command(target, elf)[:-2], "-d", "in_asm,exec,nochain", "-D", str(log), "-kernel", str(elf)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=programs.TIMEOUT, check=False)
    if proc.returncode != 0 or "done" not in proc.stdout.split():
        raise MetricError(f"{elf.name} on {target.name} (traced) failed: exit status {proc.returncode}\n"
                          f"{proc.stdout[-1500:]}{proc.stderr[-1500:]}")
    blocks: dict[int, int] = {}
    executed = 0
    found: dict[str, int] = {}
    current_start: int | None = None
    with open(log, errors="replace") as f:
        for line in f:
            if line.startswith("IN:"):
                current_start = None
            elif (m := _INSN.match(line)) is not None:
                address = int(m.group(1), 16)
                if current_start is None:
                    current_start = address
                    blocks[address] = 0
                blocks[current_start] += 1
            elif (m := _TRACE.search(line)) is not None:
                current_start = None
                pc = int(m.group(1), 16)
                if "main" not in found and pc == main:
                    found["main"] = executed
                if "wasm" not in found:
                    i = bisect.bisect_right(starts, pc) - 1
                    if i >= 0 and symbols[i][1].startswith(WASM_CODE):
                        found["wasm"] = executed
                executed += blocks.get(pc, 1)
    log.unlink(missing_ok=True)  # tens of MB for the large program; the counts are what we keep
    if "main" not in found:
        raise MetricError(f"{elf.name}: QEMU's log never entered main")
    found["total"] = executed
    return found


def instantiate_samples(target: Target, ctx: RunContext, name: str, wasm: Path, work: Path, samples: int,
                        cflags: tuple[str, ...] = ()) -> tuple[list[float], int]:
    """prog__instantiate timings of one module (per instantiation), and the instance's size in bytes."""
    folder = work / f"instantiate_{name}"
    folder.mkdir(parents=True, exist_ok=True)
    exe = programs.embedded_program(target, [SOURCES / "instantiate.c"], wasm.read_bytes(), folder,
                                    folder / "instantiate.elf", cflags=[f"-DBENCH_SAMPLES={samples}u", *cflags],
                                    wasi=True)
    out = programs.run(target, [str(exe)], ctx, label=f"instantiate.c with {wasm.name}")
    values = programs.samples(out)
    size = re.search(r"^info instance_bytes (\d+)", out, re.M)
    if not values.get("instantiate") or size is None:
        raise MetricError(f"instantiate.c with {wasm.name} printed no figures")
    return values["instantiate"], int(size.group(1))


def wasm2c_instantiate(target: Target, ctx: RunContext, name: str, wasm: Path, work: Path, samples: int,
                       cflags: tuple[str, ...] = ()) -> list[float]:
    """Z_prog_instantiate timings of the module through wasm2c (per instantiation)."""
    folder = work / f"instantiate_{name}"
    exe = wasm2c_peer.program(target, wasm, [SOURCES / "instantiate_wasm2c.c"], folder,
                              folder / "instantiate_wasm2c.elf", cflags=[f"-DBENCH_SAMPLES={samples}u", *cflags],
                              wasi=True)
    values = programs.samples(programs.run(target, [str(exe)], ctx, label=f"instantiate_wasm2c.c with {wasm.name}"))
    if not values.get("instantiate"):
        raise MetricError(f"instantiate_wasm2c.c with {wasm.name} printed no figures")
    return values["instantiate"]


def host_spawn(command: list[str], label: str) -> list[float]:
    """Nanoseconds from just before spawning `command` to its first clock reading, HOST_SPAWNS times."""
    out = []
    for _ in range(HOST_SPAWNS):
        before = time.monotonic_ns()  # CLOCK_MONOTONIC, the clock the program reads
        proc = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        m = re.search(r"^started (\d+)$", proc.stdout, re.M)
        if proc.returncode != 0 or "done" not in proc.stdout.split() or m is None:
            raise MetricError(f"{label} failed (exit status {proc.returncode}):\n{proc.stdout[-1500:]}"
                              f"{proc.stderr[-1500:]}")
        out.append(float(int(m.group(1)) - before))
    return out


def wasmtime_instantiate(wasm: Path, samples: int) -> list[float] | None:
    """Nanoseconds wasmtime (its Python package) takes to instantiate `wasm` with WASI linked, or None."""
    try:
        import wasmtime
    except ImportError:
        return None
    engine = wasmtime.Engine()
    module = wasmtime.Module(engine, wasm.read_bytes())
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    out = []
    for _ in range(samples + 1):
        store = wasmtime.Store(engine)
        store.set_wasi(wasmtime.WasiConfig())
        start = time.perf_counter_ns()
        instance = linker.instantiate(store, module)
        out.append(float(time.perf_counter_ns() - start))
        if "memory" not in instance.exports(store):
            raise MetricError(f"wasmtime instantiated {wasm.name} without its memory export")
    return out[1:]


def wasm3_instantiate(wasm: Path, samples: int, marker: bytes = b"waft-startup-marker") -> list[float] | None:
    """Nanoseconds wasm3 (the pywasm3 package) takes to parse and load `wasm` into a new runtime, or None.

    Each time the loaded memory must hold the data segment's `marker` (a
    load that did not apply it is a MetricError).  wasm3 links imports when
    a function first calls them, so the module's WASI imports stay unlinked.
    """
    try:
        import wasm3
    except ImportError:
        return None
    data = wasm.read_bytes()
    out = []
    for _ in range(samples + 1):
        env = wasm3.Environment()
        runtime = env.new_runtime(64 * 1024)
        start = time.perf_counter_ns()
        runtime.load(env.parse_module(data))
        out.append(float(time.perf_counter_ns() - start))
        if marker not in bytes(runtime.get_memory(0)):
            raise MetricError(f"wasm3 loaded {wasm.name} without its data segment's marker in memory")
    return out[1:]


def measure(target: Target, ctx: RunContext) -> GroupResult:
    work = ctx.work / "startup"
    work.mkdir(parents=True, exist_ok=True)
    unit = programs.unit(target, ctx)
    samples = max(2, min(MAX_SAMPLES, ctx.repetitions // 100))
    table: list[Row] = []
    info: dict = {}
    wasm = {name: build_wasm(name, work) for name in PROGRAMS}
    for name in PROGRAMS:
        module = decode_module(wasm[name].read_bytes())
        info[name] = {"wasm_bytes": wasm[name].stat().st_size, "functions": len(module.functions)}
    traced = target.is_host or ctx.runner != "pyocd"  # reset counts come from QEMU's execution log
    for name in PROGRAMS if traced else ():
        native = programs.native_program(target, [PROGRAMS[name]], work / f"native_{name}.elf")
        waft = programs.wasi_program(target, wasm[name], work)
        peer = wasm2c_peer.wasi_command(target, wasm[name], work / f"wasm2c_{name}")
        if target.is_host:
            spawn_n = host_spawn([str(native)], f"native {name}")
            spawn_w = host_spawn(waft, f"Waft {wasm[name].name}")
            spawn_p = host_spawn(peer, f"wasm2c {wasm[name].name}")
            table.append(Row(f"spawn_{name}", f"spawn -> the program's first clock read, {LABELS[name]}", unit,
                             Stat.of(spawn_n), Stat.of(spawn_w), peers={"wasm2c": Stat.of(spawn_p)}))
        else:
            n, w = first_entries(target, native, work), first_entries(target, Path(waft[0]), work)
            p = first_entries(target, Path(peer[0]), work)
            for elf, counts in ((waft[0], w), (peer[0], p)):
                if "wasm" not in counts:
                    raise MetricError(f"{Path(elf).name}: QEMU's log never entered a compiled Wasm function")
            info[name].update({"native_total": n["total"], "waft_total": w["total"], "wasm2c_total": p["total"]})
            table.append(Row(f"reset_main_{name}", f"reset -> main, {LABELS[name]}", unit,
                             Stat(mean=float(n["main"])), Stat(mean=float(w["main"])),
                             peers={"wasm2c": Stat(mean=float(p["main"]))}))
            table.append(Row(f"reset_code_{name}",
                             f"reset -> the program's first instruction (native: main; Waft: the first Wasm "
                             f"function), {LABELS[name]}", unit,
                             Stat(mean=float(n["main"])), Stat(mean=float(w["wasm"])),
                             peers={"wasm2c": Stat(mean=float(p["wasm"]))}))
    for name in PROGRAMS:
        values, instance = instantiate_samples(target, ctx, name, wasm[name], work, samples)
        info[name]["instance_bytes"] = instance
        peers = {"wasm2c": Stat.of(wasm2c_instantiate(target, ctx, name, wasm[name], work, samples))}
        if target.is_host:
            for engine, timings in (("wasmtime", wasmtime_instantiate(wasm[name], samples)),
                                    ("wasm3", wasm3_instantiate(wasm[name], samples))):
                if timings is not None:
                    peers[engine] = Stat.of(timings)
        table.append(Row(f"instantiate_{name}",
                         f"instantiate (memory zeroed, data segments, globals), {LABELS[name]}", unit,
                         None, Stat.of(values), peers=peers))
    notes = [f"Modules: small {info['small']['wasm_bytes']:,} B of Wasm, {info['small']['functions']} functions, "
             f"instance {info['small']['instance_bytes']:,} B; wasi-libc-sized {info['large']['wasm_bytes']:,} B, "
             f"{info['large']['functions']} functions, instance {info['large']['instance_bytes']:,} B "
             "(the instance holds linear memory storage at the target's build-time cap; one 64 KiB page is "
             "in use and zeroed on instantiation)."]
    if not traced:
        notes.append("Through pyOCD only instantiation is measured: the counts from reset come from QEMU's "
                     "execution log (run the group under QEMU for them).")
    elif target.is_host:
        notes.append(f"Host: {HOST_SPAWNS} spawns per program from the Python harness (fork + exec + the dynamic "
                     "loader + the C runtime's start, then Waft's host main: WASI set-up and instantiation); "
                     "the program's first act reads CLOCK_MONOTONIC.")
    else:
        notes.append("Board: one QEMU run per program with its execution log; counts are executed instructions "
                     "(exact, no -icount needed). Native reset -> main is the start-up code's .data copy, .bss "
                     "zeroing and newlib's init; Waft's adds the runtime's own .bss and, to the first Wasm "
                     "function, the WASI set-up and instantiation in its main. Linear memory is zeroed once, "
                     "by prog__instantiate: the firmware's static instance is in .noinit, which reset leaves "
                     "alone (runtime_c/wasi_p1/baremetal_main.c), so most of reset -> first Wasm function is "
                     "the instantiate row.")
    if target.is_host:
        notes.append("Peer: wasmtime's Python package, `Linker.instantiate` with WASI defined (the module compiled "
                     "beforehand, a new Store each time), so its figures include one call from Python. "
                     + ("wasm3: the pywasm3 package, `parse_module` + `Runtime.load` into a new runtime (its "
                        "imports link lazily, on first call), checked each time for the data segment, from Python "
                        "too." if _has("wasm3") else "wasm3: the pywasm3 package is not installed: no figure."))
    notes.append("wasm2c: the same modules through wasm2c 1.0.32 and the same C compiler at -O2 (explicit bounds "
                 "checks), with a main that sets up WASI as Waft's does and routes the imports to Waft's p1 "
                 "functions (bench/metrics/wasm2c_peer.py); its instantiate (Z_prog_instantiate) allocates and "
                 "zeroes the memory (calloc) and applies the data segments, timed by instantiate_wasm2c.c.")
    notes.append("Instantiate: native C has none (its data is set up by reset, in the rows above); Waft's is "
                 "prog__instantiate timed in a program of its own, checked each time for the data segment.")
    return GroupResult(name="startup", title=TITLE, unit=unit, rows=table, notes=notes, raw=info,
                       parameters={"instantiate_samples": samples})
