"""The `calls` metric group: what a call across the Wasm boundary costs, against a native C call.

One program per target holds both sides (bench/metrics/calls/): driver.c,
the C main, embeds calls.wat compiled by Waft through the module ABI alone
(docs/abi.md: `prog_f4(&inst, ...)` for an export, `bench__f4(ctx, ...)` for
an import; no WASI) and times

- C -> Wasm export with 0, 4 and 16 i32 arguments: a C loop calling the
  exports f0/f4/f16, against the same loop calling native functions with the
  same bodies (callee.c, another translation unit, so nothing is inlined);
- Wasm -> C import with 0, 4 and 16 arguments: a Wasm loop calling the
  imports bench.f0/f4/f16, against a C loop calling native functions;

in batches of calls (per-call figures: a batch's time over its calls, loop
included on both sides), every batch's sum of results checked against the
driver's own arithmetic: a wrong sum fails the group.  Units: instructions
under QEMU -icount shift=0, cycles through pyOCD, ns on the host (both
sides in one process, pinned to one CPU).
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

from aot.targets import Target
from bench.metrics import programs, wasm2c_peer
from bench.metrics.common import GroupResult, MetricError, Row, RunContext

TITLE = "Calls: C -> Wasm export and Wasm -> C import with 0, 4, 16 arguments, vs a native C call"
SOURCES = Path(__file__).resolve().parent / "calls"
PER = 100            # calls per timed batch
MAX_SAMPLES = 256    # instrument.h's BENCH_MAX_SAMPLES
ARGS = (0, 4, 16)


def samples_for(repetitions: int) -> int:
    return max(1, min(MAX_SAMPLES, repetitions // PER))


def build(target: Target, work: Path, samples: int, wat_text: str | None = None,
          cflags: tuple[str, ...] = ()) -> list[str]:
    """The one program (both sides); `wat_text` and `cflags` let a test build a broken variant."""
    work.mkdir(parents=True, exist_ok=True)
    wasm = programs.wat(wat_text or (SOURCES / "calls.wat").read_text(), work / "calls.wasm")
    exe = programs.embedded_program(
        target, [SOURCES / "driver.c", SOURCES / "callee.c"], wasm.read_bytes(), work, work / "calls.elf",
        cflags=[f"-I{SOURCES}", f"-DBENCH_PER={PER}u", f"-DBENCH_SAMPLES={samples}u", *cflags])
    return [str(exe)]


def build_wasm2c(target: Target, work: Path, samples: int, cflags: tuple[str, ...] = ()) -> list[str]:
    """The wasm2c peer's program: the same calls.wasm through wasm2c, timed by driver_wasm2c.c."""
    wasm = programs.wat((SOURCES / "calls.wat").read_text(), work / "calls.wasm")
    exe = wasm2c_peer.program(target, wasm, [SOURCES / "driver_wasm2c.c", SOURCES / "callee_wasm2c.c"], work,
                              work / "calls_wasm2c.elf",
                              cflags=[f"-I{SOURCES}", f"-DBENCH_PER={PER}u", f"-DBENCH_SAMPLES={samples}u",
                                      *cflags])
    return [str(exe)]


def wasm3_samples(wasm: Path, samples: int, f0_result: int = 7) -> dict[str, list[float]] | None:
    """The calls through wasm3 (the pywasm3 package's interpreter), from Python: per-call ns by figure.

    None when pywasm3 is not installed.  Batches of PER calls as the C
    drivers time them, each batch's sum checked (a wrong one is a
    MetricError): exports called from a Python loop, imports answered by
    Python functions with callee.c's bodies (`f0_result`: what bench.f0
    answers, 7; a test passes 8 to see the check fail).  `python.call0` is
    a Python loop calling a Python function that returns 7: the share of
    every figure that is Python's own.
    """
    try:
        import wasm3
    except ImportError:
        return None
    env = wasm3.Environment()
    runtime = env.new_runtime(64 * 1024)
    module = env.parse_module(wasm.read_bytes())
    runtime.load(module)
    module.link_function("bench", "f0", "i()", lambda: f0_result)
    module.link_function("bench", "f4", "i(iiii)", lambda a, b, c, d: (a + b) + (c + d))
    module.link_function("bench", "f16", "i(" + "i" * 16 + ")", lambda *a: sum(a) & 0xFFFFFFFF)
    fn = {name: runtime.find_function(name) for name in ("f0", "f4", "f16", "loop0", "loop4", "loop16")}
    index_sum = PER * (PER - 1) // 2

    def seven() -> int:
        return 7

    batches = {
        "python.call0": (7 * PER, lambda: sum(seven() for _ in range(PER))),
        "wasm3.export0": (7 * PER, lambda: sum(fn["f0"]() for _ in range(PER))),
        "wasm3.export4": (index_sum + 6 * PER, lambda: sum(fn["f4"](i, 1, 2, 3) for i in range(PER))),
        "wasm3.export16": (index_sum + 120 * PER,
                           lambda: sum(fn["f16"](i, *range(1, 16)) for i in range(PER))),
        "wasm3.import0": (7 * PER, lambda: fn["loop0"](PER)),
        "wasm3.import4": (index_sum + 6 * PER, lambda: fn["loop4"](PER)),
        "wasm3.import16": (index_sum + 120 * PER, lambda: fn["loop16"](PER)),
    }
    out: dict[str, list[float]] = {}
    gc.disable()  # a collection inside a batch is Python's cost, not the call's
    try:
        _time_batches(batches, samples, out)
    finally:
        gc.enable()
    return out


def _time_batches(batches: dict, samples: int, out: dict[str, list[float]]) -> None:
    for name, (want, batch) in batches.items():
        values = []
        for b in range(samples + 1):  # one warm-up batch, not kept
            start = time.perf_counter_ns()
            got = batch()
            elapsed = time.perf_counter_ns() - start
            if got & 0xFFFFFFFF != want:
                raise MetricError(f"wasm3 (pywasm3) {name} returned a sum of {got & 0xFFFFFFFF}, expected {want}")
            if b > 0:
                values.append(elapsed / PER)
        out[name] = values


def rows(unit: str, values: dict[str, list[float]]) -> list[Row]:
    out = []
    for kind, label in (("export", "C -> Wasm export, {n} arguments (per call, C loop included)"),
                        ("import", "Wasm -> C import, {n} arguments (per call, loop included)")):
        for n in ARGS:
            key = f"{kind}{n}"
            peers = {name: programs.stat(values, f"{name}.{key}") for name in ("wasm2c", "wasm3")}
            out.append(Row(key, label.format(n=n), unit, programs.stat(values, f"native.{key}"),
                           programs.stat(values, f"waft.{key}"), peers={k: v for k, v in peers.items() if v}))
    return out


NOTES = [
    "Native: a C loop calling a C function with the same body in another translation unit (no inlining); "
    "Waft: the same C loop calling the compiled export (`prog_f4(&inst, ...)`: the export wrapper, the stack "
    "check), or a Wasm loop calling an import (`bench__f4(ctx, ...)`: one more argument, the imports "
    "struct's context). Each batch of 100 calls is one sample; its sum of results is checked.",
    "wasm2c: the same calls.wasm through wasm2c 1.0.32 and the same C compiler at -O2 (explicit bounds "
    "checks, its stack-depth counting: bench/variants.py's wasm2c build), in a program of its own timed "
    "the same way (driver_wasm2c.c); its imports (callee_wasm2c.c) have the same bodies.",
    "Arguments are i32; on Cortex-M the first four go in registers, the rest on the stack (AAPCS), so "
    "with the import's leading ctx pointer a 4-argument import already passes one on the stack.",
]


# Why the host table has no wasmtime column (its Python package is how this suite reaches it).
PEER_NOTE = ("No wasmtime figures: wasmtime is reached here through its Python package, whose calls cross "
             "ctypes and cost microseconds, a thousand times the nanoseconds measured; a fair peer needs a C "
             "embedding.")


def wasm3_note(values: dict[str, list[float]]) -> str:
    python = programs.stat(values, "python.call0")
    return ("wasm3: the pywasm3 0.5.0 package's interpreter (a C extension), reached from Python: an export "
            "figure is a Python loop calling the export, an import figure a Wasm loop whose imports are Python "
            "functions, so each includes one Python call; a Python loop calling a Python function costs "
            f"{python.mean:,.0f} ns per call here. pywasm3 bundles no WASI, so the wasi group has no wasm3 column.")


def measure(target: Target, ctx: RunContext) -> GroupResult:
    samples = samples_for(ctx.repetitions)
    command = build(target, ctx.work / "calls", samples)
    values = programs.samples(programs.run(target, command, ctx))
    peer = build_wasm2c(target, ctx.work / "calls", samples)
    values.update(programs.samples(programs.run(target, peer, ctx, label="the wasm2c calls program")))
    unit = programs.unit(target, ctx)
    table = rows(unit, values)
    missing = [r.key for r in table if r.native is None or r.waft is None or "wasm2c" not in r.peers]
    if missing:
        raise MetricError(f"the calls program printed no samples for {', '.join(missing)}")
    notes = list(NOTES)
    if target.is_host:
        notes.append(PEER_NOTE)
        w3 = wasm3_samples(ctx.work / "calls" / "calls.wasm", samples)
        if w3 is None:
            notes.append("wasm3: the pywasm3 package is not installed (pip install -e .[bench]): no figure.")
        else:
            values.update(w3)
            table = rows(unit, values)
            notes.append(wasm3_note(values))
    return GroupResult(name="calls", title=TITLE, unit=unit, rows=table, notes=notes,
                       raw={k: v for k, v in values.items()},
                       parameters={"calls_per_sample": PER, "samples": samples})
