"""The `shared_memory` metric group: issue 18's figures, zero-copy region access against copying, and what the window check costs.

Two programs (bench/metrics/shared_memory/) hold a module granted a region
`buf` of BENCH_WORDS words (shm.wat) and a module granted nothing (lin.wat);
their native main (shm_bench.c) times, in instructions, each way of summing
the same words, next to native C doing the same:

- copying the region into private memory through the `read` import, then
  summing (native: memcpy, then the sum) — what every byte cost before
  regions;
- summing the region where it is: through a local holding `region:buf`
  (what C's `p = region_buf()` becomes), with the window's address folded into
  the loads (C's constant pointer), and through a pointer argument the
  compiler cannot attribute to the region;
- the same loop over linear memory in the granted module and in the module
  granted nothing: the cost a grant adds to linear accesses.

Cortex-M boards under QEMU (-icount shift=0: instructions, converted from
SysTick ticks by a ratio measured on a loop of known length) or through
pyOCD (SysTick: core cycles, the same conversion giving cycles).  The host
and RISC-V have no figures here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from aot.compiler import compile_module
from aot.package_data import RUNTIME_DIR
from aot.targets import Target
from bench.metrics.common import GroupResult, MetricError, Row, RunContext, Stat
from waftkit.firmware import link as link_mod, runtime as runtime_mod, shm_regions
from waftkit.runners.base import get_runner
from waftkit.runners.process import run_with_cpu_budget
from waftkit.runners.qemu import qemu_command

TITLE = "Shared memory: zero-copy region access vs copying through an import, and the window check's cost"
SOURCES = Path(__file__).resolve().parent / "shared_memory"
WORDS = 1024           # words summed by every row (4 KiB)
TIMEOUT = 300.0        # CPU seconds under QEMU, wall-clock through pyOCD

LABELS = {
    "copy": "copy 4 KiB through the `read` import, then sum it (native: memcpy + sum)",
    "zero": "sum 4 KiB in the region, zero copy (region:buf local)",
    "const": "sum 4 KiB in the region, window address folded into the loads",
    "pointer": "sum 4 KiB in the region through an unattributed pointer",
    "linear": "sum 4 KiB of linear memory, module granted the region",
    "nogrant": "sum 4 KiB of linear memory, module granted nothing",
}


def _compile(target: Target, work: Path, name: str, grants: list) -> Path:
    wasm = work / f"{name}.wasm"
    proc = subprocess.run(["wat2wasm", str(SOURCES / f"{name}.wat"), "-o", str(wasm)], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise MetricError(f"wat2wasm {name}.wat failed: {proc.stderr.strip()}")
    result = compile_module(wasm.read_bytes(), target, prefix=name, opt="2", regions=grants)
    (work / f"{name}.o").write_bytes(result.object)
    (work / f"{name}.h").write_text(result.header)
    return work / f"{name}.o"


def build(target: Target, work: Path) -> list[Path]:
    """The two programs: the granted module with the region declared and granted, and the module granted nothing.

    Two programs because two modules of one 64 KiB page each do not fit a 128 KiB board beside the region.
    """
    regions = shm_regions.parse_regions([f"buf:{WORDS * 4}"], target)
    grants = shm_regions.parse_grants(["shm=buf"], regions)
    work.mkdir(parents=True, exist_ok=True)
    (work / "bench_shm.c").write_text(shm_regions.render_c(regions, grants))
    (work / "bench_shm.h").write_text(shm_regions.render_h(regions, grants))
    granted, plain = _compile(target, work, "shm", grants["shm"]), _compile(target, work, "lin", [])
    try:
        library = runtime_mod.runtime_library(target, work / "runtime",
                                              extra_sources=[RUNTIME_DIR / "shm" / "ext_regions.c"])
        cflags = [f"-I{work}", f"-I{RUNTIME_DIR / 'shm'}", f"-DBENCH_WORDS={WORDS}u", "-Wall"]
        return [link_mod.link(target, [SOURCES / "shm_bench.c", work / "bench_shm.c", granted, library],
                              work / "shm_bench.elf", cflags=cflags),
                link_mod.link(target, [SOURCES / "shm_bench.c", plain, library], work / "shm_bench_nogrant.elf",
                              cflags=[*cflags, "-DBENCH_NOGRANT"])]
    except Exception as exc:  # noqa: BLE001 -- TargetError and the like end the group in one message
        raise MetricError(f"building the shared-memory firmware failed: {exc}") from None


def run(target: Target, elf: Path, ctx: RunContext) -> str:
    if ctx.runner == "pyocd":
        try:
            result = get_runner(target, "pyocd", probe=ctx.probe, timeout=TIMEOUT).run(elf)
        except Exception as exc:  # noqa: BLE001
            raise MetricError(f"pyOCD could not run {elf.name}: {exc}") from None
        code, stdout = result.returncode, result.stdout
    else:
        proc = run_with_cpu_budget(qemu_command(target, elf, instruction_count=True, idle_sleeps=False), TIMEOUT)
        stdout = proc.stdout.decode(errors="replace") if isinstance(proc.stdout, bytes) else proc.stdout
        code = proc.returncode
    if code != 0 or "done" not in stdout.split():
        raise MetricError(f"{elf.name} on {target.name} failed (exit status {code}):\n{stdout[-2000:]}")
    return stdout


def parse(output: str) -> dict[str, tuple[int, int]]:
    rows: dict[str, tuple[int, int]] = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "row":
            rows[parts[1]] = (int(parts[2]), int(parts[3]))
    if set(rows) != set(LABELS):
        raise MetricError(f"shm_bench printed rows {sorted(rows)}, expected {sorted(LABELS)}")
    return rows


def measure(target: Target, ctx: RunContext) -> GroupResult:
    if target.kind != "cortex-m":
        # A note, not a failure, as the interrupts group does: a run of every group on the host stays green.
        return GroupResult(name="shared_memory", title=TITLE, unit="instructions", rows=[], notes=[
            f"Not measured: {target.name} is not a Cortex-M board (this group counts a board's instructions; "
            "regions are windows of a board's memory map)."])
    unit = "instructions" if ctx.runner != "pyocd" else "cycles"
    output = "".join(run(target, elf, ctx) for elf in build(target, ctx.work / "shared_memory" / target.name))
    figures = parse(output)
    rows = [Row(key, LABELS[key], unit, Stat(float(n)) if n >= 0 else None, Stat(float(w)))
            for key, (n, w) in figures.items()]
    copy, zero = figures["copy"][1], figures["zero"][1]
    per_word = {k: figures[k][1] / WORDS for k in ("zero", "const", "pointer", "linear", "nogrant")}
    notes = [f"Zero copy saves {copy - zero:,} {unit} of {copy:,} on 4 KiB ({copy / max(zero, 1):.1f}x faster "
             "than copying through the import first).",
             "Per word, Waft: " + ", ".join(f"{k} {v:.2f}" for k, v in per_word.items())
             + f" {unit}. 'nogrant' is linear memory's usual check (LLVM hoists it out of a counted loop); "
             "'linear' is the same loop in a module with a grant, where a failed linear check goes on to the "
             "window instead of trapping, so it stays in the loop (docs/shared-memory.md).",
             "Native C reads the region and its private copy with no check at all; each Waft figure includes "
             "its bounds checks."]
    return GroupResult("shared_memory", TITLE, unit, rows, notes, raw={"rows": figures},
                       parameters={"words": WORDS})
