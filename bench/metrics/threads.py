"""The `threads` metric group: issue 14's thread figures, native C next to Wasm threads on one scheduler.

Two programs measure the same things the same way (bench/metrics/threads/):
`native.c` calls the OS port API (kernel.h) directly; `threads.wat` does the
same from Wasm through `wasi-ext:threads/threads@0.1.0`, WASI p1 and
memory.atomic.wait32/notify, built as Waft firmware (the generic main, the
thread pool, the built-in kernel) or, on the host, as a `waft run` program
(POSIX threads, host_posix.c).  Both print native.c's lines ("figure",
"dist", "info"); this module builds, runs, parses and turns them into rows.

Units: under QEMU with -icount shift=0 the kernel's clock advances one
nanosecond per executed instruction, so figures are instructions (the
native program's calibration loop confirms the rate on every run); through
pyOCD on a board they are core cycles (the kernel's clock counts SysTick,
which runs from the core clock: one-cycle resolution; both sides read that
one clock, since Wasm cannot reach the DWT counter through WASI); on the
host, nanoseconds, with both programs pinned to one CPU so that priorities
and the saturating load mean what they mean on a single-core board.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from aot.targets import Target
from aot.wasm.decode import decode_module
from bench.metrics.common import GroupResult, MetricError, Row, RunContext, Stat
from waftkit.firmware import embedding, wasi_firmware
from waftkit.firmware.kernel import kernel_program
from waftkit.firmware.runtime import runtime_cflags
from waftkit.run import PREFIX, RunOptions, build_host_program, compiled_module
from waftkit.runners.base import get_runner
from waftkit.runners.qemu import run_elf

TITLE = "Threads: switch, spawn, wait/notify, wake-up, 1 kHz loop under load"
SOURCES = Path(__file__).resolve().parent / "threads"
NATIVE_SOURCE = SOURCES / "native.c"
WAT_TEMPLATE = SOURCES / "threads.wat"
KERNEL_DIR = Path(__file__).resolve().parents[2] / "runtime_c" / "kernel"

PERIOD_NS = 1_000_000
GOAL_SWITCH_M4 = 150         # instructions, Cortex-M4 (issue 14)
GOAL_JITTER_FRACTION = 0.01  # of the period (issue 14)
# Threads besides main that the programs run at once (two yielders at most), plus room.
MAX_THREADS = 4
# Seconds a program may take: CPU time under QEMU and on the host, wall-clock through pyOCD.
TIMEOUT = 600.0


# ---- building ------------------------------------------------------------------------------

def wat_source(repetitions: int, periods: int) -> str:
    """threads.wat with its placeholders filled: counts, and every string as an offset into one segment.

    `@S(text)@` becomes `(i32.const OFFSET) (i32.const LENGTH)` of `text` in the
    passive segment that _start copies to 0x800.
    """
    template = WAT_TEMPLATE.read_text()
    strings: dict[str, int] = {}
    blob = bytearray()

    def place(match: re.Match) -> str:
        text = match.group(1).replace("\\n", "\n").encode()
        key = text.decode()
        if key not in strings:
            strings[key] = len(blob)
            blob.extend(text)
        return f"(i32.const {0x800 + strings[key]}) (i32.const {len(text)})"

    body = re.sub(r"@S\((.*?)\)@", place, template)
    if len(blob) > 0x400:
        raise MetricError("threads.wat: its strings outgrow the 1 KiB kept for them at 0x800")
    escaped = "".join(f"\\{b:02x}" for b in blob)
    return (body.replace("@STRINGS@", escaped).replace("@STRINGS_LEN@", str(len(blob)))
            .replace("@N@", str(repetitions)).replace("@PERIODS@", str(periods)))


def build_wasm(work: Path, repetitions: int, periods: int) -> Path:
    source = work / "threads.wat"
    source.write_text(wat_source(repetitions, periods))
    wasm = source.with_suffix(".wasm")
    proc = subprocess.run(["wat2wasm", "--enable-threads", str(source), "-o", str(wasm)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise MetricError(f"wat2wasm {source} failed: {proc.stderr.strip()}")
    return wasm


def native_defines(repetitions: int, periods: int) -> list[str]:
    return [f"BENCH_N={repetitions}u", f"BENCH_PERIODS={periods}u", f"WAFT_MAX_THREADS={MAX_THREADS + 1}"]


def build_native_board(target: Target, work: Path, repetitions: int, periods: int) -> Path:
    return kernel_program(target, [NATIVE_SOURCE], work / "native.elf", work / "native",
                          defines=native_defines(repetitions, periods), cflags=["-Wall", "-Wextra"])


def build_native_host(target: Target, work: Path, repetitions: int, periods: int) -> Path:
    """native.c on host_posix.c: the kernel.h the host's Waft threads run on."""
    exe = work / "native"
    cmd = [target.cc, *runtime_cflags(target, native_defines(repetitions, periods)), f"-I{KERNEL_DIR}",
           "-Wall", "-Wextra", str(NATIVE_SOURCE), str(KERNEL_DIR / "host_posix.c"), "-pthread", "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise MetricError(f"building native.c for the host failed:\n{proc.stderr.strip()}")
    return exe


def build_waft_board(target: Target, wasm: Path, work: Path) -> Path:
    """The Wasm as `waft run` builds it for a board: the generic main, the thread pool, the kernel."""
    data = wasm.read_bytes()
    options = RunOptions(max_threads=MAX_THREADS)
    module = compiled_module(data, target, options, wasm.name)
    defines = embedding.main_defines(decode_module(data), target, None, MAX_THREADS)
    threads = embedding.thread_defines(target, MAX_THREADS)
    return wasi_firmware.link_firmware(
        target, module / f"{PREFIX}.o", module / f"{PREFIX}.h", work / "waft.elf", prefix=PREFIX,
        build_dir=work / "waft", runtime_dir=work / "runtime", args=[wasm.name], defines=defines,
        thread_defines=threads)


def build_waft_host(target: Target, wasm: Path, work: Path) -> Path:
    return build_host_program(wasm.read_bytes(), target, RunOptions(max_threads=MAX_THREADS), wasm.name)


# ---- running ---------------------------------------------------------------------------------

def run_board(target: Target, elf: Path, ctx: RunContext) -> str:
    if ctx.runner == "pyocd":
        try:
            result = get_runner(target, "pyocd", probe=ctx.probe, timeout=TIMEOUT).run(elf)
        except Exception as exc:  # noqa: BLE001 -- pyOCD's own errors (no probe, a bad probe type) end this group in one line
            raise MetricError(f"pyOCD could not run {elf.name}: {exc}") from None
    else:
        # -icount shift=0: the clock counts instructions; sleep=off: idle time jumps to the next
        # timer instead of passing in real time, so wake-ups are exact and repeat.
        result = run_elf(target, elf, timeout=TIMEOUT, instruction_count=True, idle_sleeps=False)
    if result.returncode != 0 or "done" not in result.stdout.split():
        raise MetricError(f"{elf.name} on {target.name} failed ({result.summary()}):\n"
                          f"{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result.stdout


def _one_cpu() -> Callable[[], None] | None:
    """A preexec function pinning the child to one CPU (a board has one core), or None."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpu = max(os.sched_getaffinity(0))
    return lambda: os.sched_setaffinity(0, {cpu})


def run_host(command: list[str]) -> str:
    proc = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, preexec_fn=_one_cpu(),
                          check=False)
    if proc.returncode != 0 or "done" not in proc.stdout.split():
        raise MetricError(f"{' '.join(command)} failed (exit status {proc.returncode}):\n"
                          f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return proc.stdout


def parse(output: str) -> dict:
    """native.c's lines: figures (x100 -> float), distributions (min, max, sum, count) and facts."""
    out: dict = {"figure": {}, "dist": {}, "info": {}}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "figure" and parts[2].isdigit():
            out["figure"][parts[1]] = int(parts[2]) / 100
        elif len(parts) == 6 and parts[0] == "dist" and all(p.isdigit() for p in parts[2:]):
            lo, hi, total, count = map(int, parts[2:])
            out["dist"][parts[1]] = {"min": lo, "max": hi, "sum": total, "count": count}
        elif len(parts) == 3 and parts[0] == "info" and parts[2].isdigit():
            out["info"][parts[1]] = int(parts[2])
    return out


# ---- figures -----------------------------------------------------------------------------------

def _scale(target: Target, ctx: RunContext, native: dict) -> tuple[str, float]:
    """(unit, factor from the clock's nanoseconds to it)."""
    if target.is_host:
        return "ns", 1.0
    if ctx.runner == "pyocd":
        hz = native["info"].get("core_hz")
        if not hz:
            raise MetricError("the native program did not report the core clock rate")
        return "cycles", hz / 1e9
    ns_per_instruction = native["figure"].get("calibration")
    if not ns_per_instruction:
        raise MetricError("the native program did not report its calibration")
    return "instructions", 1.0 / ns_per_instruction


class _Side:
    """One program's parsed output, in the report's unit."""

    def __init__(self, parsed: dict, factor: float) -> None:
        self.parsed = parsed
        self.factor = factor

    def mean(self, name: str) -> Stat | None:
        value = self.parsed["figure"].get(name)
        return None if value is None else Stat(mean=value * self.factor)

    def dist(self, name: str, less: float = 0.0) -> Stat | None:
        """min/mean/max of a distribution, `less` (clock ns) taken off each value."""
        d = self.parsed["dist"].get(name)
        if d is None or d["count"] == 0:
            return None
        f = self.factor
        # A min below zero is a noisy clock (QEMU without -icount) less a mean clock read: 0 then.
        return Stat(min=max(0.0, (d["min"] - less) * f), mean=(d["sum"] / d["count"] - less) * f,
                    max=(d["max"] - less) * f, count=d["count"])

    def jitter(self) -> Stat | None:
        d = self.parsed["dist"].get("period")
        return None if not d or d["count"] == 0 else Stat(mean=(d["max"] - d["min"]) * self.factor,
                                                          count=d["count"])

    def info(self, name: str) -> int | None:
        return self.parsed["info"].get(name)


def rows(target: Target, unit: str, native: _Side, waft: _Side, repetitions: int) -> tuple[list[Row], list[str]]:
    notes: list[str] = []
    clock_n = native.parsed["figure"].get("clock_read", 0.0)
    clock_w = waft.parsed["figure"].get("clock_read", 0.0)
    m4 = target.cpu == "cortex-m4" and unit == "instructions"
    switch_goal = (f"<= {GOAL_SWITCH_M4} instructions (Cortex-M4)", GOAL_SWITCH_M4) if m4 else None
    jitter_limit = GOAL_JITTER_FRACTION * PERIOD_NS * native.factor
    jitter_goal = (f"<= 1% of the period ({jitter_limit:,.0f} {unit})", jitter_limit)

    waft_switch = waft.mean("yield_switch")
    switched = waft.info("switches") or 0
    if waft_switch is not None and switched < repetitions:  # fewer than half of the 2N yields switched
        notes.append(f"Waft's context switch is not measured: of {2 * repetitions} `sched_yield` calls between two "
                     f"threads of one priority, {switched} switched. On this target WASI p1's `sched_yield` "
                     "does not yield to the kernel (runtime_c/wasi_p1/port_baremetal.c `wasi_port_yield`).")
        waft_switch = None
    out = [
        Row("context_switch", "context switch: one thread's yield to the other's return", unit,
            native.mean("yield_switch"), waft_switch, *(switch_goal or (None, None))),
        Row("yield_alone", "yield with no other ready thread (no switch)", unit,
            native.mean("yield_alone"), waft.mean("yield_alone")),
        Row("spawn_join", "thread spawn: create (a new instance, for Waft), run, join", unit,
            native.mean("spawn_join"), waft.mean("spawn_join")),
        Row("notify_round_trip", "wait/notify round trip (2 switches)", unit,
            native.mean("notify_round_trip"), waft.mean("notify_round_trip")),
        Row("notify_wake", "wake-up latency: notify -> high-priority waiter runs", unit,
            native.dist("notify_wake", clock_n), waft.dist("notify_wake", clock_w)),
    ]
    if "isr_wake" in native.parsed["dist"]:
        out.append(Row("isr_wake", "wake-up latency: interrupt -> high-priority thread runs (native only)",
                       unit, native.dist("isr_wake", clock_n), None))
    if "fp_yield_switch" in native.parsed["figure"]:
        out.append(Row("fp_context_switch", "context switch between threads with FP context (native only)", unit,
                       native.mean("fp_yield_switch"), None, *(switch_goal or (None, None))))
    out += [
        Row("release_latency", "1 kHz loop under load: release -> running (incl. one clock read)", unit,
            native.dist("release_latency"), waft.dist("release_latency")),
        Row("period_jitter", "1 kHz loop under load: jitter (max - min period)", unit,
            native.jitter(), waft.jitter(), *jitter_goal),
        Row("missed", "1 kHz loop under load: releases missed", "releases",
            Stat(mean=float(native.info("missed") or 0)), Stat(mean=float(waft.info("missed") or 0))),
        Row("clock_read", "clock read (native: waft_os_now_ns; Waft: WASI clock_time_get)", unit,
            native.mean("clock_read"), waft.mean("clock_read")),
    ]
    for side, name in ((native, "native"), (waft, "Waft")):
        if not side.info("load"):
            notes.append(f"{name}: the low-priority load thread never ran during the 1 kHz loop.")
    notes.append("Wake-up latencies are net of one clock read (the interval between two reads holds exactly one); "
                 "the release latency runs from the release (a whole millisecond of the clock) to the periodic "
                 "thread's clock read, so it includes the part of one read before it samples.")
    if target.is_host:
        notes.append("Host: both programs are pinned to one CPU; priorities are SCHED_RR where the process may use "
                     "it. Linux lets real-time threads use 95% of each second (sched_rt_runtime_us), so a "
                     "saturating real-time load costs the loop releases there.")
    return out, notes


def measure(target: Target, ctx: RunContext) -> GroupResult:
    """Build and run both programs on `target`; the rows of the report."""
    work = ctx.work / "threads"
    work.mkdir(parents=True, exist_ok=True)
    n, periods = ctx.repetitions, ctx.periods
    wasm = build_wasm(work, n, periods)
    if target.is_host:
        native_out = run_host([str(build_native_host(target, work, n, periods))])
        waft_out = run_host([str(build_waft_host(target, wasm, work)), "--", wasm.name])
    else:
        if target.kind != "cortex-m":
            raise MetricError(f"target '{target.name}': the threads group runs on Cortex-M boards and the host "
                              f"(the built-in kernel is Cortex-M only; this is {target.kind})")
        native_out = run_board(target, build_native_board(target, work, n, periods), ctx)
        waft_out = run_board(target, build_waft_board(target, wasm, work), ctx)
    native, waft = parse(native_out), parse(waft_out)
    unit, factor = _scale(target, ctx, native)
    table, notes = rows(target, unit, _Side(native, factor), _Side(waft, factor), n)
    return GroupResult(name="threads", title=TITLE, unit=unit, rows=table, notes=notes,
                       raw={"native": native, "waft": waft},
                       parameters={"repetitions": n, "periods": periods, "period_ns": PERIOD_NS})
