"""The `wasi` metric group: what one WASI call costs through Waft, against the native call that does the same.

One C source (bench/metrics/wasi/wasi_ops.c) built twice: to wasm32-wasi,
calling WASI preview1 directly (fd_write of 1, 64 and 1024 bytes to the
console, clock_time_get, random_get of 16 bytes, and a RAM-filesystem
cycle: path_open(create) + fd_write + fd_pread + fd_close of 64 bytes), run
as `waft run` runs it; and natively, with the calls a C programmer makes for
the same thing (a board: newlib's write to the semihosting console, the
SysTick clock, the board's RNG or the runtime's fallback generator, the
runtime's RAM filesystem in C; the host: POSIX, in a folder of its own).
Each figure is per operation, from batches timed by bench/metrics/instrument.h,
net of the clock reads around a batch.  Every operation's result is checked
in the program (a wrong one fails the group).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from aot.targets import Target
from bench.metrics import programs, wasm2c_peer
from bench.metrics.common import GroupResult, MetricError, Row, RunContext

TITLE = "WASI: console writes, clock, random, a RAM-filesystem open/write/read/close cycle"
SOURCE = Path(__file__).resolve().parent / "wasi" / "wasi_ops.c"
FIGURES = [
    ("write1", "fd_write of 1 byte to the console"),
    ("write64", "fd_write of 64 bytes to the console"),
    ("write1024", "fd_write of 1,024 bytes to the console"),
    ("clock", "clock_time_get (monotonic)"),
    ("random16", "random_get of 16 bytes"),
    ("fs_cycle", "RAM filesystem: open(create) + write 64 B + read 64 B + close"),
]
MAX_SAMPLES = 256


def samples_for(repetitions: int) -> int:
    return max(2, min(MAX_SAMPLES, repetitions // 100))


def build_native(target: Target, work: Path, samples: int, cflags: tuple[str, ...] = ()) -> Path:
    return programs.native_program(target, [SOURCE], work / "native.elf",
                                   cflags=[f"-DBENCH_SAMPLES={samples}u", *cflags])


def build_wasm(work: Path, samples: int, cflags: tuple[str, ...] = ()) -> Path:
    # One 64 KiB page with an 8 KiB stack: the module fits every board's RAM, on the host too (same module).
    return programs.wasi_c([SOURCE], work / "wasi_ops.wasm", [f"-DBENCH_SAMPLES={samples}u", *cflags,
                                                              *programs.SMALL_MEMORY])


def run_both(target: Target, ctx: RunContext, work: Path, samples: int,
             cflags: tuple[str, ...] = (), peer: bool = False) -> tuple[dict, dict] | tuple[dict, dict, dict]:
    """Build and run both sides (`peer`: and the wasm2c peer); each side's per-operation samples."""
    work.mkdir(parents=True, exist_ok=True)
    native = build_native(target, work, samples, cflags)
    wasm = build_wasm(work, samples, cflags)
    folder = Path(tempfile.mkdtemp(prefix="waft-wasi-bench-", dir=_scratch()))
    try:
        native_cmd = [str(native)] + ([str(folder)] if target.is_host else [])
        native_out = programs.run(target, native_cmd, ctx, label=f"native {SOURCE.name}")
        seed = work / "fs_seed"  # an empty folder: on a board it seeds the RAM filesystem's "fs"
        seed.mkdir(exist_ok=True)
        waft_cmd = programs.wasi_program(target, wasm, work, dirs=[(folder if target.is_host else seed, "fs")])
        waft_out = programs.run(target, waft_cmd, ctx, label=f"Waft {wasm.name}")
        if peer:
            for leftover in folder.iterdir():  # the peer's file cycle starts from an empty folder, as Waft's did
                leftover.unlink()
            peer_cmd = wasm2c_peer.wasi_command(target, wasm, work, dirs=[(seed, "fs")], host_dir=folder)
            peer_out = programs.run(target, peer_cmd, ctx, label=f"wasm2c {wasm.name}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    sides = programs.samples(native_out, clock="clock0"), programs.samples(waft_out, clock="clock0")
    return (*sides, programs.samples(peer_out, clock="clock0")) if peer else sides


def _scratch() -> str | None:
    """A RAM-backed folder for the host's file cycle where there is one (/dev/shm), else the default."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() else None


def measure(target: Target, ctx: RunContext) -> GroupResult:
    samples = samples_for(ctx.repetitions)
    native, waft, w2c = run_both(target, ctx, ctx.work / "wasi", samples, peer=True)
    unit = programs.unit(target, ctx)
    table = [Row(key, label, unit, programs.stat(native, key), programs.stat(waft, key),
                 peers={"wasm2c": programs.stat(w2c, key)} if w2c.get(key) else {}) for key, label in FIGURES]
    missing = [r.key for r in table if r.native is None or r.waft is None or "wasm2c" not in r.peers]
    if missing:
        raise MetricError(f"the wasi programs printed no samples for {', '.join(missing)}")
    console = ("the semihosting console (QEMU takes no instructions for the host side of a semihosting call)"
               if not target.is_host else "a pipe to the benchmark")
    notes = [
        "Waft: the raw WASI preview1 import (wasi/api.h, no libc layer) of a `waft run`-built program; native: "
        + ("newlib's write, the SysTick clock, the board's RNG (else the runtime's fallback generator, as "
           "random_get falls back), the runtime's RAM filesystem called in C (what WASI sits on)."
           if not target.is_host else "POSIX write, clock_gettime, getrandom, and open/write/pread/close in a "
                                      "folder under /dev/shm (Waft's file cycle goes to the same folder)."),
        f"Console writes go to {console}. Figures are per operation, net of the clock reads around each batch.",
    ]
    notes.append("wasm2c: the same wasi_ops.wasm through wasm2c 1.0.32 and the same C compiler at -O2 (explicit "
                 "bounds checks). wasm2c ships no WASI, so generated glue routes each wasi_snapshot_preview1 import "
                 "to Waft's own C p1 function (bench/metrics/wasm2c_peer.py): the column measures wasm2c's call "
                 "path into the same p1 layer (one forwarding call and a memory-descriptor refresh more than "
                 "Waft's direct call), not another p1 implementation.")
    if target.is_host:
        notes.append("No wasmtime or wasm3 figures: a peer's WASI calls would be timed from inside the module, "
                     "with the engine's own WASI and clock; pywasm3 0.5.0 bundles no WASI at all, and wasmtime "
                     "reached from Python could only time whole runs.")
    return GroupResult(name="wasi", title=TITLE, unit=unit, rows=table, notes=notes,
                       raw={"native": native, "waft": waft, "wasm2c": w2c}, parameters={"samples": samples})
