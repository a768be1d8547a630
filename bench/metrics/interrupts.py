"""The `interrupts` metric group: issue 15's interrupt figures, a native C handler next to a Wasm immediate handler.

Two programs take the same NVIC line at the same priority on the same board
and are measured by the same instrument (bench/metrics/interrupts/):
`native.c` installs a C function as the line's vector; `interrupts.wat` is
Waft firmware whose grant binds software line 0 to its export `on_irq`
(`irq=soft:0@on_irq`, docs/interrupts.md), so the generated vector calls the
compiled handler directly, with everything an immediate handler gets: its
own stack limit, a trap frame, BASEPRI restored on the way out.  Both link
`irq_bench.c`, which pends the line from thread code N times and records,
per interrupt, the entry latency (the counter read before the pend -> the
handler's first act) and the exit cost (the handler's last act -> the
counter read after the pend returns), each net of the instrument's own
cost.  This module builds, runs, parses and turns them into rows.

Units: QEMU models no DWT cycle counter and its SysTick runs from the core
clock (25 MHz on mps2-an386): under `-icount shift=0` one tick is 40
instructions there.  So QEMU runs these programs at `-icount shift=7`
(128 ns of virtual time per instruction, at least 3 SysTick ticks per
instruction on either board) and irq_bench.c converts each sample to whole
instructions by a ratio it measures (two asm loops of known length).
Exception entry and return take no virtual time in QEMU: the figures are the
instructions executed, which is what differs between the two sides; a chip
adds the same hardware stacking to both.  Through pyOCD on a board the
figures are SysTick counts: core cycles.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from aot.compiler import compile_module
from aot.targets import Target
from aot.wasm.decode import decode_module
from bench.metrics.common import GroupResult, MetricError, Row, RunContext, Stat
from waftkit.firmware import embedding, link as link_mod, wasi_firmware
from waftkit.firmware.signal_grants import BoardLines, board_lines, check_grants, parse_grant
from waftkit.runners.base import get_runner
from waftkit.runners.process import run_with_cpu_budget
from waftkit.runners.qemu import qemu_command

TITLE = "Interrupts: entry latency and exit cost, Wasm immediate handler vs native C"
SOURCES = Path(__file__).resolve().parent / "interrupts"
INSTRUMENT = SOURCES / "irq_bench.c"
NATIVE_SOURCE = SOURCES / "native.c"
WAT_TEMPLATE = SOURCES / "interrupts.wat"
PREFIX = "prog"

GRANT = "irq=soft:0@on_irq"
GOAL_EXTRA_ENTRY = 20  # instructions: Wasm entry latency within this of native C's (issue 15)
ICOUNT_SHIFT = 7       # 2^7 ns per instruction: >= 3 SysTick ticks per instruction from 25 MHz up
MAX_REPETITIONS = 100_000  # irq_bench.c prints 32-bit sums
TIMEOUT = 600.0        # CPU seconds under QEMU, wall-clock through pyOCD


# ---- building ------------------------------------------------------------------------------

def not_measurable(target: Target) -> str | None:
    """Why `target` has no figures for this group, or None when it has."""
    if target.kind != "cortex-m":
        return (f"{target.name} has no immediate handlers to measure (only Cortex-M boards deliver a line "
                f"immediately; this is {target.kind}, where delivery is deferred)")
    board = board_lines(target)
    if board is None or not board.soft:
        return f"{target.name} describes no software line ([interrupts] soft in its target.toml) to pend"
    return None


def bench_defines(board: BoardLines, repetitions: int) -> list[str]:
    """The -D options both programs share: the line, its priority, and the level that masks SysTick only."""
    step = 1 << (8 - board.priority_bits)
    # Line priority 1 is the signals port's lowest Wasm level, one step above SysTick/PendSV (port_cortexm.c).
    line_priority = 256 - 2 * step
    defines = [f"BENCH_N={repetitions}", f"BENCH_IRQ={board.soft[0]}", f"BENCH_PRIO={line_priority:#x}",
               f"BENCH_BASEPRI={256 - step:#x}", f"BENCH_IRQ_COUNT={board.irq_count}",
               f"BENCH_VTOR_ALIGN={board.vtor_align}"]
    return defines


def build_native(target: Target, work: Path, defines: list[str], cycles: bool) -> Path:
    flags = [f"-D{d}" for d in defines + (["BENCH_CYCLES"] if cycles else [])] + ["-Wall", "-Wextra"]
    try:
        return link_mod.link(target, [NATIVE_SOURCE, INSTRUMENT], work / "native.elf", cflags=flags,
                             printf_float=False)
    except Exception as exc:  # noqa: BLE001 -- TargetError and the like: the group fails in one message
        raise MetricError(f"building native.c failed: {exc}") from None


# The second Waft run's handler pushes and pops a 16-byte shadow frame: a handler that uses the C shadow stack.
SHADOW_FRAME = ("(global.set $__stack_pointer (i32.sub (global.get $__stack_pointer) (i32.const 16))) "
                "(global.set $__stack_pointer (i32.add (global.get $__stack_pointer) (i32.const 16)))")


def build_wasm(work: Path, repetitions: int, shadow_frame: bool = False) -> Path:
    source = work / ("interrupts_shadow.wat" if shadow_frame else "interrupts.wat")
    text = WAT_TEMPLATE.read_text().replace("@N@", str(repetitions))
    source.write_text(text.replace("@FRAME@", SHADOW_FRAME if shadow_frame else ""))
    wasm = source.with_suffix(".wasm")
    proc = subprocess.run(["wat2wasm", str(source), "-o", str(wasm)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise MetricError(f"wat2wasm {source} failed: {proc.stderr.strip()}")
    return wasm


def build_waft(target: Target, wasm: Path, work: Path, defines: list[str], cycles: bool) -> Path:
    """interrupts.wasm as Waft firmware with the line bound to on_irq, plus the instrument as its "bench" imports."""
    data = wasm.read_bytes()
    module = decode_module(data)
    grants = check_grants([parse_grant(GRANT)], target)
    result = compile_module(data, target, prefix=PREFIX, opt="2")
    build = work / wasm.stem
    build.mkdir(exist_ok=True)
    (build / f"{PREFIX}.o").write_bytes(result.object)
    header = build / f"{PREFIX}.h"
    header.write_text(result.header)
    main_defines = embedding.main_defines(module, target, None, grants=grants, prefix=PREFIX)
    try:
        sources = wasi_firmware.firmware_sources(target, build, args=[wasm.name])
        library = wasi_firmware.wasi_runtime(target, work / "runtime", signals=True)
        cflags = wasi_firmware.firmware_cflags(target, prefix=PREFIX, header=header, defines=main_defines)
        cflags += [f"-D{d}" for d in defines + (["BENCH_CYCLES"] if cycles else [])]
        return link_mod.link(target, [*sources, INSTRUMENT, build / f"{PREFIX}.o", library],
                             build / "waft.elf", cflags=cflags, printf_float=False)
    except Exception as exc:  # noqa: BLE001 -- one message for the group
        raise MetricError(f"building the Waft firmware failed: {exc}") from None


# ---- running ---------------------------------------------------------------------------------

def run_board(target: Target, elf: Path, ctx: RunContext) -> str:
    if ctx.runner == "pyocd":
        try:
            result = get_runner(target, "pyocd", probe=ctx.probe, timeout=TIMEOUT).run(elf)
        except Exception as exc:  # noqa: BLE001 -- pyOCD's own errors end this group in one line
            raise MetricError(f"pyOCD could not run {elf.name}: {exc}") from None
        code, stdout, stderr, summary = result.returncode, result.stdout, result.stderr, result.summary()
    else:
        command = qemu_command(target, elf, instruction_count=True, idle_sleeps=False)
        command[command.index("-icount") + 1] = f"shift={ICOUNT_SHIFT},sleep=off"
        proc = run_with_cpu_budget(command, TIMEOUT)
        stdout = proc.stdout.decode(errors="replace") if isinstance(proc.stdout, bytes) else proc.stdout
        stderr = proc.stderr.decode(errors="replace") if isinstance(proc.stderr, bytes) else proc.stderr
        code = proc.returncode
        summary = "timed out" if proc.timed_out else f"exit status {code}"
    if code != 0 or "done" not in stdout.split():
        raise MetricError(f"{elf.name} on {target.name} failed ({summary}):\n{stdout[-2000:]}{stderr[-2000:]}")
    return stdout


def parse(output: str) -> dict:
    """irq_bench.c's lines: distributions (min, max, sum, count) and facts."""
    out: dict = {"dist": {}, "info": {}}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 6 and parts[0] == "dist" and all(p.isdigit() for p in parts[2:]):
            lo, hi, total, count = map(int, parts[2:])
            out["dist"][parts[1]] = {"min": lo, "max": hi, "sum": total, "count": count}
        elif len(parts) >= 3 and parts[0] == "info" and all(p.isdigit() for p in parts[2:]):
            values = [int(p) for p in parts[2:]]
            out["info"][parts[1]] = values[0] if len(values) == 1 else values
    return out


def _stat(parsed: dict, name: str) -> Stat | None:
    d = parsed["dist"].get(name)
    if d is None or d["count"] == 0:
        return None
    return Stat(min=float(d["min"]), mean=d["sum"] / d["count"], max=float(d["max"]), count=d["count"])


# ---- figures ------------------------------------------------------------------------------------

def rows(unit: str, native: dict, waft: dict, shadow: dict | None = None) -> tuple[list[Row], list[str]]:
    n_entry, w_entry = _stat(native, "entry"), _stat(waft, "entry")
    goal = None
    limit = None
    if n_entry is not None:
        limit = n_entry.mean + GOAL_EXTRA_ENTRY
        goal = f"Waft <= native + {GOAL_EXTRA_ENTRY} {unit} ({limit:,.1f})"
    entry = Row("entry_latency", "entry latency: pend -> the handler's first act", unit, n_entry, w_entry,
                goal, limit)
    out = [entry,
           Row("exit_cost", "exit cost: the handler's last act -> back in the interrupted code", unit,
               _stat(native, "exit"), _stat(waft, "exit"))]
    if shadow is not None:
        limit_text = None if limit is None else f"Waft <= native + {GOAL_EXTRA_ENTRY} {unit} ({limit:,.1f})"
        out += [Row("entry_latency_shadow_frame", "entry latency, a handler that uses the C shadow stack", unit,
                    n_entry, _stat(shadow, "entry"), limit_text, limit),
                Row("exit_cost_shadow_frame", "exit cost, a handler that uses the C shadow stack", unit,
                    _stat(native, "exit"), _stat(shadow, "exit"))]
    notes = []
    if n_entry is not None and w_entry is not None:
        extra = w_entry.mean - n_entry.mean
        notes.append(f"Goal (issue 15): the Wasm immediate handler's entry latency within {GOAL_EXTRA_ENTRY} "
                     f"{unit} of the native C handler's: {'met' if extra <= GOAL_EXTRA_ENTRY else 'NOT met'} "
                     f"({extra:+,.1f} {unit}). The difference is the generated vector's prologue "
                     "(runtime_c/wasi_p1/main/embed_ext.h: record the line for the trap boundary, save "
                     "BASEPRI, load the slot's instance and argument) and the compiled handler's own entry "
                     "(the export's branch to the function, its stack check, the import's context). The "
                     "firmware here has no threads; with threads the vector also switches to the kernel's "
                     "interrupt-stack limit and back (a few loads and stores more).")
    if shadow is not None:
        notes.append("The shadow-frame rows: the same handler pushing and popping a 16-byte C shadow frame, so "
                     "the compiler finds it may use the shadow stack and its vector moves the stack-pointer "
                     "global past clang's 128-byte red zone around the call and back (docs/interrupts.md, "
                     "'The shadow stack'); the native side is the same C handler as above.")
    notes.append("Each figure is net of the instrument: the cost of one counter read and a call of the "
                 "mark function, measured in thread code with no interrupt in between, is taken off every "
                 "sample. Both sides pend the line the same way (an NVIC ISPR store, dsb, isb), from the same "
                 "C code, so the pend's own instructions are in both entry figures.")
    if unit == "instructions":
        notes.append(f"QEMU -icount shift={ICOUNT_SHIFT},sleep=off: SysTick counted against a measured "
                     "ticks-per-instruction ratio, each sample rounded to whole instructions; exception "
                     "entry and return take no virtual time there (a Cortex-M4 adds about 12 cycles of "
                     "stacking on entry and 10 on return, the same for both sides).")
    return out, notes


def measure(target: Target, ctx: RunContext) -> GroupResult:
    """Build and run both programs on `target`; the rows of the report (none, with the reason, where it has no
    immediate handlers: the group then leaves a note instead of failing a run of every group)."""
    why = not_measurable(target)
    if why is not None:
        return GroupResult(name="interrupts", title=TITLE, unit="instructions", rows=[],
                           notes=[f"Not measured: {why}."])
    board = board_lines(target)
    assert board is not None  # not_measurable said so
    n = ctx.repetitions
    if not 1 <= n <= MAX_REPETITIONS:
        raise MetricError(f"the interrupts group takes 1 to {MAX_REPETITIONS:,} repetitions, not {n:,}")
    work = ctx.work / "interrupts"
    work.mkdir(parents=True, exist_ok=True)
    cycles = ctx.runner == "pyocd"
    defines = bench_defines(board, n)
    native_out = run_board(target, build_native(target, work, defines, cycles), ctx)
    waft_out = run_board(target, build_waft(target, build_wasm(work, n), work, defines, cycles), ctx)
    shadow_out = run_board(target, build_waft(target, build_wasm(work, n, shadow_frame=True), work, defines,
                                              cycles), ctx)
    native, waft, shadow = parse(native_out), parse(waft_out), parse(shadow_out)
    for name, parsed in (("native", native), ("Waft", waft), ("Waft (shadow frame)", shadow)):
        if parsed["info"].get("handled") != n:
            raise MetricError(f"{name}: the handler ran {parsed['info'].get('handled')} times for {n} pends")
    unit = "cycles" if cycles else "instructions"
    table, notes = rows(unit, native, waft, shadow)
    return GroupResult(name="interrupts", title=TITLE, unit=unit, rows=table, notes=notes,
                       raw={"native": native, "waft": waft, "waft_shadow_frame": shadow},
                       parameters={"repetitions": n, "icount_shift": 0 if cycles else ICOUNT_SHIFT})
