"""The `compile` metric group: how fast Waft compiles a wasi-libc-sized module and a small one, beside wasm2c + gcc.

The big module is bench/compile_throughput.py's: all of wasi-libc linked
whole with every symbol exported (about 1,100 functions, 320 KB of code: real
C compiled by clang).  The small one is the coremark_libc workload (a
CoreMark-class program with the wasi-libc pieces it uses).  In the same run,
on the same machine, each module is compiled by:

- Waft (aot.compiler.compile_module: decode, validate, lower, LLVM's
  pipeline, object emission) at -O0 and -O2 in one process, and at -O2 with
  one process per CPU (a big module compiles in partitions: aot/partition.py);
- wasm2c (wabt) to C, then the target's gcc -O2 on that C (the module's C
  only; wasm2c's runtime is compiled once per program, not per module), with
  the flags bench/variants.py builds wasm2c programs with;
- on the host, wasmtime (Cranelift, its Python package), beside -O2.

Then the rebuild: the big module at -O2 with a partition cache (cold, so it
fills it), then again with one function changed (one `i32.const` immediate,
same size), which recompiles only that function's partition: the issue-17
goal is under 2 s.  Every Waft object must be a relocatable ELF for the
target's machine with a symbol for every exported function, or the group
fails.  Wall-clock seconds, one compile each: figures of this machine under
its load at the time, comparable within the run.
"""

from __future__ import annotations

import io
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from elftools.elf.elffile import ELFFile

from aot.compiler import compile_module
from aot.parallel import PartitionCache
from aot.targets import Target
from aot.wasm.decode import decode_module
from aot.wasm.module import Module
from aot.wasm.validate import validate_module
from bench import compile_throughput
from bench.metrics.common import GroupResult, MetricError, Row, RunContext, Stat

TITLE = "Compile time: a wasi-libc-sized module and a small one, Waft beside wasm2c + gcc -O2"
LEVELS = ("0", "2")
SMALL_WORKLOAD = "coremark_libc"
REBUILD_GOAL_S = 2.0
_MACHINES = {"cortex-m": "EM_ARM", "riscv": "EM_RISCV"}
WASM2C = "wasm2c + gcc -O2"


def check_object(target: Target, obj: bytes, exports: int) -> None:
    """The object is an ELF for the target with at least one symbol per exported function."""
    try:
        elf = ELFFile(io.BytesIO(obj))
        machine = elf["e_machine"]
        symtab = elf.get_section_by_name(".symtab")
        defined = sum(1 for s in symtab.iter_symbols() if s["st_shndx"] != "SHN_UNDEF") if symtab else 0
    except Exception as exc:  # noqa: BLE001 -- pyelftools' errors: not an object
        raise MetricError(f"the compiled object is no ELF: {exc}") from None
    want = _MACHINES.get(target.kind)
    if want is not None and machine != want:
        raise MetricError(f"the compiled object is for {machine}, not {want} ({target.name})")
    if defined < exports:
        raise MetricError(f"the compiled object defines {defined} symbols for {exports} exported functions")


def wasmtime_seconds(data: bytes) -> tuple[float | None, str | None]:
    """wasmtime's compile time of `data` on this machine, or None and why."""
    try:
        import wasmtime
    except ImportError:
        return None, "wasmtime: the Python package is not installed (pip install wasmtime)"
    engine = wasmtime.Engine()
    start = time.perf_counter()
    wasmtime.Module(engine, data)
    return time.perf_counter() - start, None


def wasm2c_gcc_seconds(target: Target, data: bytes, work: Path) -> tuple[tuple[float, float] | None, str | None]:
    """(Wall, CPU) seconds of wasm2c plus the target's gcc -O2 on its C for module `data`, or None and why."""
    from bench import variants

    if shutil.which("wasm2c") is None:
        return None, "wasm2c: not installed (Debian package wabt)"
    if shutil.which(target.cc) is None:
        return None, f"{target.cc}: not installed"
    work.mkdir(parents=True, exist_ok=True)
    wasm, source, obj = work / "module.wasm", work / "module.c", work / "module.o"
    wasm.write_bytes(data)
    flags = variants.wasm2c_flags(target, work)
    start, cpu = time.perf_counter(), _cpu_seconds()
    run = subprocess.run(["wasm2c", str(wasm), "-n", "bench", "-o", str(source)], capture_output=True, text=True)
    if run.returncode != 0:
        return None, f"wasm2c failed: {(run.stderr.strip().splitlines() or ['?'])[0]}"
    try:
        variants.compile_c(target, source, obj, [*flags, "-O2"])
    except Exception as exc:  # noqa: BLE001 -- a BuildError: the peer is missing, the group goes on
        return None, f"gcc -O2 on wasm2c's C failed: {str(exc).splitlines()[0]}"
    return (time.perf_counter() - start, _cpu_seconds() - cpu), None


def one_function_changed(data: bytes, module: Module) -> tuple[bytes, int]:
    """`data` with one `i32.const` immediate of one function changed (same size); and that function's index."""
    for i, function in enumerate(module.functions[len(module.functions) // 2:], len(module.functions) // 2):
        for instr in function.body:
            if instr.op == "i32.const" and 0 <= instr.imm < 0x3F and data[instr.offset + 1] == instr.imm:
                changed = bytearray(data)
                changed[instr.offset + 1] = instr.imm + 1
                return bytes(changed), module.num_imported_funcs + i
    raise MetricError("no function with a small i32.const to change for the rebuild")


def measure(target: Target, ctx: RunContext) -> GroupResult:
    from bench import variants

    work = ctx.work / "compile"
    work.mkdir(parents=True, exist_ok=True)
    try:
        big = compile_throughput.build_large_module(work)
    except Exception as exc:  # noqa: BLE001 -- clang missing, wasi-libc missing: one line
        raise MetricError(f"linking all of wasi-libc into one module failed: {exc}") from None
    try:
        small = variants.wasm_module(SMALL_WORKLOAD, work).read_bytes()
    except Exception as exc:  # noqa: BLE001
        raise MetricError(f"building the {SMALL_WORKLOAD} module failed: {exc}") from None
    return figures(target, {"libc": (big, "all of wasi-libc"), "small": (small, f"the {SMALL_WORKLOAD} workload")},
                   work)


def _compile(target: Target, data: bytes, what: str, exports: int, **options) -> tuple[float, float, bytes]:
    """(Wall seconds, CPU seconds, object) of one compile, the object checked."""
    start, cpu = time.perf_counter(), _cpu_seconds()
    try:
        result = compile_module(data, target, prefix="bench", **options)
    except Exception as exc:  # noqa: BLE001 -- an AotError: the group fails in one line
        raise MetricError(f"compiling {what} ({options}) failed: {exc}") from None
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    check_object(target, result.object, exports)
    return seconds, cpu, result.object


def _cpu_seconds() -> float:
    """CPU seconds of this process and its finished children (the linker, partition workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def figures(target: Target, modules: dict[str, tuple[bytes, str]], work: Path) -> GroupResult:
    """The group's rows for `modules` (key -> (bytes, what)); the first is the big one, rebuilt after a change."""
    jobs = os.cpu_count() or 1
    table: list[Row] = []
    raw: dict = {"jobs": jobs}
    notes: list[str] = []
    for n, (key, (data, what)) in enumerate(modules.items()):
        start = time.perf_counter()
        module = decode_module(data)
        validate_module(module)
        decode_s = time.perf_counter() - start
        functions = len(module.functions)
        exports = sum(1 for e in module.exports if e.kind == "func")
        code_kb = sum(f.body_size for f in module.functions) / 1024
        info: dict = {"functions": functions, "exports": exports, "code_kb": round(code_kb, 1),
                      "wasm_bytes": len(data), "decode_validate_s": decode_s}
        peer, peer_missing = wasm2c_gcc_seconds(target, data, work / f"wasm2c-{key}")
        peer_s, peer_cpu = peer if peer is not None else (None, None)
        info["wasm2c_gcc_O2_s"], info["wasm2c_gcc_O2_cpu_s"] = peer_s, peer_cpu
        cranelift_s, cranelift_missing = wasmtime_seconds(data) if target.is_host else (None, None)
        peers = {WASM2C: peer_s} | ({"wasmtime (Cranelift)": cranelift_s} if cranelift_s is not None else {})
        runs = [("O0", "-O0, 1 process", {"opt": "0"}), ("O2", "-O2, 1 process", {"opt": "2"})]
        if jobs > 1:
            runs.append((f"O2_j{jobs}", f"-O2, {jobs} processes", {"opt": "2", "jobs": jobs}))
        objects = {}
        for tag, label, options in runs:
            seconds, cpu_s, objects[tag] = _compile(target, data, what, exports, **options)
            info[tag] = {"seconds": seconds, "cpu_s": cpu_s, "object_bytes": len(objects[tag])}
            shown = {p: Stat(mean=s) for p, s in peers.items() if s is not None and tag != "O0"}
            goal = (f"faster than {WASM2C} (issue 17)", peer_s) if tag != "O0" and peer_s is not None else (None, None)
            table += [
                Row(f"{key}_{tag}", f"{key}: compile {label}: seconds", "s", None, Stat(mean=seconds),
                    goal=goal[0], limit=goal[1], peers=shown),
                Row(f"{key}_{tag}_fps", f"{key}: compile {label}: functions per second", "functions/s", None,
                    Stat(mean=functions / seconds), peers={p: Stat(mean=functions / s.mean) for p, s in shown.items()}),
            ]
            if tag != "O0":
                table.append(Row(f"{key}_{tag}_cpu", f"{key}: compile {label}: CPU seconds (all processes)", "s",
                                 None, Stat(mean=cpu_s),
                                 peers={WASM2C: Stat(mean=peer_cpu)} if peer_cpu is not None else {}))
        if jobs > 1 and objects["O2"] != objects[f"O2_j{jobs}"]:
            raise MetricError(f"{what}: -O2 with {jobs} processes made another object than with 1")
        if n == 0:
            with tempfile.TemporaryDirectory(dir=work) as folder:
                cache = PartitionCache(Path(folder))
                cold_s, _, cold = _compile(target, data, what, exports, opt="2", jobs=jobs, cache=cache)
                warm_s, _, warm = _compile(target, data, what, exports, opt="2", jobs=jobs, cache=cache)
                changed, index = one_function_changed(data, module)
                misses = cache.misses
                edit_s, edit_cpu, edited = _compile(target, changed, what, exports, opt="2", jobs=jobs, cache=cache)
                recompiled = cache.misses - misses
            if warm != cold or edited == cold:
                raise MetricError(f"{what}: the partition cache gave a wrong object (unchanged differs, "
                                  "or the changed function made no difference)")
            info["rebuild"] = {"cold_s": cold_s, "unchanged_s": warm_s, "one_function_s": edit_s, "one_function_cpu_s": edit_cpu,
                               "changed_function": index, "partitions_recompiled": recompiled}
            table += [
                Row(f"{key}_rebuild_unchanged", f"{key}: -O2 rebuild, nothing changed (cache): seconds", "s", None,
                    Stat(mean=warm_s)),
                Row(f"{key}_rebuild_one", f"{key}: -O2 rebuild after a one-function change (cache): seconds", "s",
                    None, Stat(mean=edit_s), goal=f"< {REBUILD_GOAL_S:g} s (issue 17)", limit=REBUILD_GOAL_S),
                Row(f"{key}_rebuild_one_cpu", f"{key}: -O2 rebuild after a one-function change: CPU seconds", "s",
                    None, Stat(mean=edit_cpu)),
            ]
            rebuild_note = f"{key}: the one-function change (function {index}) recompiled {recompiled} partition(s)."
        raw[key] = info
        notes.append(f"{key}: {what} ({functions:,} functions, {exports:,} exported, {code_kb:,.0f} KB of code, "
                     f"{len(data) // 1024:,} KB file); objects " +
                     ", ".join(f"{t} {info[t]['object_bytes'] // 1024:,} KB" for t, _, _ in runs) + ".")
        if n == 0:
            notes.append(rebuild_note)
        if peer_missing:
            notes.append(f"{key}: no {WASM2C} figure: {peer_missing}")
        if target.is_host and cranelift_missing:
            notes.append(cranelift_missing)
    notes.append(f"{WASM2C}: wasm2c 1.0.32's translation plus {target.cc} -O2 of the module's C (bounds checks "
                 "explicit, as bench/variants.py builds it), one process: gcc compiles one C file. Waft with "
                 f"{jobs} processes compiles a big module's partitions side by side (aot/partition.py); its object "
                 "is checked to be the one-process object, byte for byte. CPU seconds (this process and its "
                 "children: workers, linker, wasm2c, gcc) are given beside the wall-clock ones because this machine "
                 "is shared: under load, N processes wait for cores and wall time says little about the work.")
    notes.append("Rebuild: the big module at -O2 with a partition cache filled by a first compile, then with one "
                 "i32.const of one function changed: only that function's partition is lowered, optimised and "
                 "code-generated again (aot/parallel.py). Its CPU seconds (this process and its children) beside "
                 "the wall-clock ones: on a machine shared with other builds, wall time includes waiting for a core.")
    if target.is_host:
        notes.append("wasmtime compiles for this machine with Cranelift at its default optimisation (speed), "
                     "shown beside -O2; wasm3 interprets: it has no compile step to compare.")
    return GroupResult(name="compile", title=TITLE, unit="s", rows=table, notes=notes, raw=raw,
                       parameters={"levels": len(LEVELS), "jobs": jobs})
