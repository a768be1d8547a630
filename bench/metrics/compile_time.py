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

Then the rebuild, the way a user does it (`user_rebuild`): `waft compile -O2`
of the big module in a fresh process with a fresh build cache (which fills
it), again unchanged, then after each of `EDITS` one-function changes (one
`i32.const` immediate, same size), which recompile only that function's
partition; the same with SCons (`scons` on a one-object SConstruct after each
change); and the compiler alone (`compile_module` in this process) after one
more change.  The issue-17 goal is `waft compile` under 2 s.  Every Waft
object must be a relocatable ELF for the target's machine with a symbol for
every exported function, or the group fails.  Wall-clock and CPU seconds:
figures of this machine under its load at the time (given in the notes),
comparable within the run.
"""

from __future__ import annotations

import io
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from elftools.elf.elffile import ELFFile

from aot import partition
from aot.compiler import compile_module
from aot.parallel import PartitionCache
from aot.targets import Target
from aot.wasm.decode import _read_u32, decode_module
from aot.wasm.module import Module
from aot.wasm.rewrite import sections
from aot.wasm.validate import validate_module
from bench import compile_throughput
from bench.metrics.common import GroupResult, MetricError, Row, RunContext, Stat

TITLE = "Compile time: a wasi-libc-sized module and a small one, Waft beside wasm2c + gcc -O2"
LEVELS = ("0", "2")
SMALL_WORKLOAD = "coremark_libc"
REBUILD_GOAL_S = 2.0
EDITS = 3  # one-function changes rebuilt per tool
REPO = Path(__file__).resolve().parents[2]
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


def one_function_changed(data: bytes, module: Module, nth: int = 0) -> tuple[bytes, int]:
    """`data` with one `i32.const` immediate of one function changed (same size); and that function's index.

    The function is the `nth` with such a constant from the middle of the module on, spread out: the
    `nth` change and the next are in functions about 1/8 of the module apart (other partitions).
    """
    count = len(module.functions)
    start = (count // 2 + nth * max(1, count // 8)) % max(1, count)
    for i in [*range(start, count), *range(start)]:
        for instr in module.functions[i].body:
            if instr.op == "i32.const" and 0 <= instr.imm < 0x3F and data[instr.offset + 1] == instr.imm:
                changed = bytearray(data)
                changed[instr.offset + 1] = instr.imm + 1
                return bytes(changed), module.num_imported_funcs + i
    raise MetricError("no function with a small i32.const to change for the rebuild")


def code_only(data: bytes) -> bytes:
    """`data` without its data segments and with one page of memory: the same code, for a board whose RAM
    the module's data does not fit (`waft compile` refuses those, as it should)."""
    out = bytearray(data[:8])
    for section, start, body, end in sections(data):
        if section == 5:  # memory: one memory, its limits replaced
            count, limits = _read_u32(data, body, end)
            if count != 1:
                raise MetricError("the big module has more than one memory")
            fields = bytes([1, data[limits] & ~1, 1])  # flags without a maximum, min 1 page
            out += bytes([5, len(fields)]) + fields
        elif section not in (11, 12):  # data, data count
            out += data[start:end]
    return bytes(out)


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


SCONSTRUCT = """
env = Environment(tools=["default", "waft_aot"], toolpath=[{tools!r}], WAFT_TARGET={target!r}, WAFT_OPT="2", WAFT_JOBS={jobs!r})
SConsignFile(".sconsign")
env.Object("{name}.o", "{name}.wasm")
"""


def _timed_run(command: list[str], cwd: Path, env: dict[str, str], what: str) -> tuple[float, float, float]:
    """(Wall seconds, CPU seconds of the process and its children, 1-minute load before) of one command."""
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), _children_cpu()
    run = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if run.returncode != 0:
        detail = ((run.stderr or run.stdout).strip().splitlines() or ["no message"])[-1]
        raise MetricError(f"{what} failed: {detail}")
    return seconds, cpu, load


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def user_rebuild(target: Target, data: bytes, module: Module, work: Path, jobs: int, exports: int) -> dict:
    """The -O2 rebuild of `data` as a user runs it: `waft compile` and `scons` in fresh processes, with a
    build cache of their own; and `compile_module` in this process.  Figures and what they were made of.

    The children get this checkout on their path and a bytecode cache under `work` (an installed Waft
    has its bytecode compiled; this environment may forbid writing it beside the sources).
    """
    name = "libc"
    folder = work / "rebuild"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"WAFT_CACHE_DIR": str(folder / "cache"), "PYTHONPYCACHEPREFIX": str(work / "pycache"),
            "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    source, obj = folder / f"{name}.wasm", folder / f"{name}.o"
    cli = [sys.executable, "-m", "waftkit", "compile", source.name, "-t", target.name, "-O", "2", "-j", str(jobs)]
    entries = folder / "cache" / "partitions" / target.name
    out: dict = {"loads": []}

    def stored() -> set[str]:
        return {p.name for p in entries.iterdir()} if entries.is_dir() else set()

    source.write_bytes(data)
    out["cli_cold_s"], _, _ = _timed_run(cli, folder, env, "waft compile (cold)")
    cold = obj.read_bytes()
    check_object(target, cold, exports)
    out["cli_unchanged_s"], out["cli_unchanged_cpu_s"], load = _timed_run(cli, folder, env, "waft compile (unchanged)")
    if obj.read_bytes() != cold:
        raise MetricError("waft compile of the unchanged module made another object")
    edits = [one_function_changed(data, module, nth) for nth in range(EDITS)]
    split = len(partition.plan(data, module)) > 1
    made: list[set[str]] = []  # the cache entries each change's rebuild made, removed before the next tool's

    def rebuild(tool: str, command: list[str] | None) -> tuple[list[float], list[float]]:
        """Each change rebuilt by `tool` (`command`, or compile_module in this process with None): the same
        partitions recompiled by every tool."""
        walls, cpus = [], []
        for n, (changed, index) in enumerate(edits):
            for entry in made[n] if len(made) > n else ():
                shutil.rmtree(entries / entry)
            source.write_bytes(changed)
            before = stored()
            if command is None:
                start, cpu, load = time.perf_counter(), _cpu_seconds(), os.getloadavg()[0]
                compile_module(changed, target, prefix=name, opt="2", jobs=jobs, cache=PartitionCache(entries))
                wall, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
            else:
                wall, cpu, load = _timed_run(command, folder, env, f"{tool} (function {index} changed)")
            walls.append(wall)
            cpus.append(cpu)
            out["loads"].append(load)
            new = stored() - before
            if len(made) > n:
                made[n] = new
            else:
                made.append(new)
            # (The object itself may stay the same: a constant can change nothing LLVM keeps.)
            if split and not new:
                raise MetricError(f"{tool} after a change to function {index} recompiled no partition: "
                                  "the cache gave a stale one")
        return walls, cpus

    out["cli_one_s"], out["cli_one_cpu_s"] = rebuild("waft compile", cli)
    out |= {"recompiled": [len(m) for m in made], "changed": [index for _, index in edits]}
    # SCons, on the same cache: a firmware's build of the module (its object only).
    scons = Path(sys.executable).with_name("scons")
    if scons.exists() or shutil.which("scons"):
        command = [str(scons) if scons.exists() else "scons", "-Q"]
        (folder / "SConstruct").write_text(SCONSTRUCT.format(tools=str(REPO / "site_scons" / "site_tools"),
                                                             target=target.name, jobs=str(jobs), name=name))
        source.write_bytes(data)
        _timed_run(command, folder, env, "scons (first build)")
        out["scons_one_s"], out["scons_one_cpu_s"] = rebuild("scons", command)
    else:
        out["scons_missing"] = "scons: not installed"
    # The compiler alone, on the same cache: no process start, no imports.
    out["api_one_s"], out["api_one_cpu_s"] = rebuild("compile_module", None)
    out["load_after"] = os.getloadavg()[0]
    return out


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
            fits = target.ram is None  # a board's RAM would have to hold wasi-libc's 200 KB of data
            rebuilt = data if fits else code_only(data)
            info["rebuild"] = r = user_rebuild(target, rebuilt, module if fits else decode_module(rebuilt),
                                               work, jobs, exports)
            scons = f"`scons` with WAFT_JOBS={jobs}"
            table += [
                Row(f"{key}_rebuild_unchanged", f"{key}: `waft compile -O2 -j{jobs}` again, nothing changed: seconds",
                    "s", None, Stat(mean=r["cli_unchanged_s"])),
                Row(f"{key}_rebuild_one", f"{key}: `waft compile -O2 -j{jobs}` after a one-function change: seconds",
                    "s", None, Stat.of(r["cli_one_s"]), goal=f"< {REBUILD_GOAL_S:g} s (issue 17)",
                    limit=REBUILD_GOAL_S),
                Row(f"{key}_rebuild_one_cpu", f"{key}: `waft compile` after a one-function change: CPU seconds",
                    "s", None, Stat.of(r["cli_one_cpu_s"])),
                Row(f"{key}_rebuild_one_api", f"{key}: compile_module after a one-function change, in-process "
                    "(no start-up): seconds", "s", None, Stat.of(r["api_one_s"])),
                Row(f"{key}_rebuild_one_api_cpu", f"{key}: compile_module after a one-function change: CPU "
                    "seconds", "s", None, Stat.of(r["api_one_cpu_s"])),
            ]
            if "scons_one_s" in r:
                table += [
                    Row(f"{key}_rebuild_scons_one", f"{key}: {scons} after a one-function change: seconds", "s",
                        None, Stat.of(r["scons_one_s"])),
                    Row(f"{key}_rebuild_scons_one_cpu", f"{key}: {scons} after a one-function change: CPU seconds",
                        "s", None, Stat.of(r["scons_one_cpu_s"])),
                ]
            loads = r["loads"] + [r["load_after"]]
            rebuild_note = (f"{key}: rebuilt " + ("as it is" if fits else
                            "without its data segments and with one page of memory (its 200 KB of data do not "
                            f"fit {target.name}'s RAM, and `waft compile` refuses a module that cannot fit; the "
                            "code, which is what a rebuild compiles, is the same, though LLVM turns its accesses "
                            "to the static data, now past the memory, into traps)") +
                            f"; the one-function changes (functions {', '.join(map(str, r['changed']))}) recompiled "
                            f"{', '.join(map(str, r['recompiled']))} partition(s); the first `waft compile`, with an "
                            f"empty cache, took {r['cli_cold_s']:.1f} s. Load (1-minute average) before each "
                            f"measured rebuild and after the last: {min(loads):.1f} to {max(loads):.1f} "
                            f"on {os.cpu_count()} CPUs." + (f" {r['scons_missing']}." if "scons_missing" in r else ""))
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
    notes.append(f"Rebuild: the big module at -O2 as a user rebuilds it: `waft compile` in a new process (Python "
                 "start-up, imports, reading and validating the module, keying its partitions, compiling the "
                 "stale one, combining the objects, writing object and header), with a build cache of its own "
                 f"that a first compile filled; {EDITS} changes of one i32.const in one function each (mean, min "
                 "and max). `scons` on a one-object SConstruct (SCons' own start-up and dependency scan "
                 "included) and compile_module in the bench's process (the compiler alone) rebuild the same "
                 "changes: the cache entries a change made are removed before the next tool rebuilds it. CPU seconds of the process and its children beside the wall-clock ones: on a machine "
                 "shared with other builds, wall time includes waiting for a core.")
    if target.is_host:
        notes.append("wasmtime compiles for this machine with Cranelift at its default optimisation (speed), "
                     "shown beside -O2; wasm3 interprets: it has no compile step to compare.")
    return GroupResult(name="compile", title=TITLE, unit="s", rows=table, notes=notes, raw=raw,
                       parameters={"levels": len(LEVELS), "jobs": jobs})
