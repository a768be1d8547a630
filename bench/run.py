"""The embedded benchmark suite: every workload in every variant on one target, measured and reported.

For each workload in bench/workloads/ it builds (a) native C, (b) the Wasm
module through Waft and (c) the same Wasm through wasm2c, all linked with the
same harness (bench/harness.c), runs them, checks that each variant's
self-check passed and that all checksums agree, and records:

- speed: executed-instruction ticks of bench_run on Cortex-M targets (QEMU
  with -icount shift=0, SysTick counted by the harness: deterministic), or,
  with `--runner pyocd` on a real board, the core's DWT cycle counter read by
  the harness; callgrind instructions and wall time (median of repeats) on
  the host;
- flash (the module's code + read-only data + data image, as the linker kept
  them) and RAM (module data + bss, the instance with its linear memory, and
  the peak native stack of the run, by stack painting);
- instantiation time, host->Wasm and Wasm->host call overhead (bench/workloads/calls.c);
- on the host, as optional extras, wasmtime and the wasm3 interpreter through
  their Python packages, when installed.

Run:  .venv/bin/waft bench --target stm32f4   (or --target host; `python bench/run.py` takes the same options)
      .venv/bin/waft bench --target stm32f4 --runner pyocd [--probe UID]   (a board on a probe)
It writes bench/results/<target>.json (with a `summary` object),
bench/results/<target>.md and PNG plots.  This is a benchmark, not a test:
nothing here asserts a time; goals are recorded in the report.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH_DIR))

import report  # noqa: E402
import variants  # noqa: E402
from external import Workload  # noqa: E402
from variants import CALLS_WORKLOAD, Build, BuildError  # noqa: E402

from aot.errors import AotError  # noqa: E402
from aot.targets import Target, load_target  # noqa: E402
from waftkit.firmware.size import measure  # noqa: E402
from waftkit.runners.base import default_runner_name, get_runner  # noqa: E402

# Iterations of bench_run on a Cortex-M target: each run is a few million
# instructions, long enough that the harness's own cost is noise, short enough
# that the whole suite runs under QEMU in a couple of minutes.
WORKLOADS: dict[str, int] = {
    "crc32": 1000,
    "sha256": 600,
    "aes128": 300,
    "fir": 60,
    "biquad": 800,
    "pid": 100000,
    "fft_fixed": 200,
    "matmul_int": 400,
    "matmul_float": 400,
    "quicksort": 60,
    "json_tokenize": 2000,
    "state_machine": 1000,
    "coremark_like": 150,
    # Real-firmware families (issue 17): the shapes the small kernels above miss.
    "huffman": 40,
    "montmul64": 150,
    "lu_decomp": 15,
    "regex": 20,
    "linked_alloc": 100,  # wasi-libc / newlib: malloc, free, memset
    "coremark_libc": 150,  # wasi-libc / newlib: memcpy, memset, malloc, qsort, strcmp, strlen
    # Held-out-style families (docs/performance.md): short triangular integer loops with a division.
    "bareiss_int": 400,
    # Table-driven crypto as libraries write it: T-tables reached through a struct pointer.
    "aes_ttable": 200,
}
HOST_SCALE = 10  # the host runs this many times more iterations (10-50 ms per run)
HOST_REPEATS = 7  # wall time is the median of these runs
PROGRAM_TIMEOUT = 600.0  # CPU seconds on the host and under QEMU, wall-clock on a board
RESULTS_DIR = BENCH_DIR / "results"


def log(message: str) -> None:
    print(message, flush=True)


def iterations_for(target: Target, workload: str, external: dict[str, Workload] | None = None) -> int:
    base = external[workload].iterations if external and workload in external else WORKLOADS.get(workload, 1000)
    return base * (HOST_SCALE if target.is_host else 1)


@dataclass(frozen=True)
class Runner:
    """Where board programs run: "qemu" (instruction-counted) or "pyocd" (a probe; `probe` its UID)."""

    name: str = "qemu"
    probe: str | None = None


def run_program(target: Target, build: Build, runner: Runner = Runner()) -> dict:
    """Run one program and parse the harness's "key value" lines (run_ticks may repeat)."""
    name = default_runner_name(target, board_runner=runner.name)
    # Under QEMU, virtual time follows executed instructions (-icount shift=0), so
    # SysTick counts repeat exactly, run after run.
    options = {"instruction_count": True} if name == "qemu" else {}
    try:
        device = get_runner(target, name, probe=runner.probe, timeout=PROGRAM_TIMEOUT, **options)
        proc = device.run(build.program)
    except AotError as exc:
        raise BuildError(f"{build.workload}/{build.variant}: {exc}") from None
    if proc.timed_out:
        raise BuildError(f"{build.workload}/{build.variant}: timed out after {PROGRAM_TIMEOUT:.0f} s "
                         f"({name} runner): {' '.join(proc.command)}")
    values: dict = {"run_ticks": [], "checksum": []}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            key, value = parts[0], int(parts[1])
            if key in values and isinstance(values[key], list):
                values[key].append(value)
            else:
                values[key] = value
    if proc.returncode != 0 or "done" not in proc.stdout.split():
        raise BuildError(f"{build.workload}/{build.variant} exited with {proc.returncode}"
                         f" (trap code {values.get('trap', '-')}):\n{proc.stdout}{proc.stderr}")
    return values


def callgrind_total(program: Path, repeats: int) -> int:
    """Instructions a host program executes with `repeats` runs of bench_run (valgrind's callgrind)."""
    out_file = program.parent / f"callgrind.{repeats}.out"
    proc = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", str(program), str(repeats)],
                          capture_output=True, text=True, timeout=PROGRAM_TIMEOUT)
    if proc.returncode != 0:
        raise BuildError(f"callgrind of {program} failed:\n{proc.stderr[-2000:]}")
    for line in out_file.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise BuildError(f"no totals in {out_file}")


def host_instructions(program: Path) -> int:
    """Instructions of one bench_run call: the whole program with one run minus the program with none.

    Deterministic where wall time on a shared two-core machine is not; the
    difference also removes start-up, instantiation and the self-check.
    """
    return callgrind_total(program, 1) - callgrind_total(program, 0)


def measure_build(target: Target, build: Build, runner: Runner = Runner()) -> dict:
    """Build facts plus run figures for one (workload, variant)."""
    values = run_program(target, build, runner)
    wall = None
    if target.is_host:
        # Host speed is callgrind's instruction count; the wall time is kept beside it.
        wall = statistics.median(values["run_ticks"])
        if shutil.which("valgrind"):
            values["run_ticks"] = [host_instructions(build.program)]
    footprint = variants.module_footprint(build.map_file, build.module_objects)
    firmware = measure(build.program, target)
    state = build.extra.get("instance_bytes", 0)
    if build.variant == "wasm2c":
        state = variants.WASM_MEMORY  # calloc'd linear memory; its instance struct is a few words beside it
    result = {
        "run": statistics.median(values["run_ticks"]),
        "runs": values["run_ticks"],
        "checksum": values["checksum"][0],
        "checksums_agree": len(set(values["checksum"])) == 1,
        "verify": values.get("verify"),
        "instantiate": values.get("instantiate_ticks"),
        "flash_module": footprint["text"] + footprint["rodata"] + footprint["data"],
        "module_sections": footprint,
        # RAM a module needs: its static data, its instance (linear memory included), its peak stack.
        "ram_module": footprint["data"] + footprint["bss"] + state + values.get("stack_peak", 0),
        "stack_peak": values.get("stack_peak"),
        "firmware_flash": firmware.flash_used,
        "firmware_ram_static": firmware.ram_used,
    }
    if "clock_dwt" in values:
        result["clock"] = "dwt_cycles" if values["clock_dwt"] else "systick_ticks"
    if wall is not None:
        result["wall_ns"] = wall
    for key in ("loop_ticks", "empty_call_ticks", "import_call_ticks", "call_count"):
        if key in values:
            result[key] = values[key]
    return result


def build_one(target: Target, workload: str, variant: str, work: Path, wasm: Path, repeats: int,
              external: dict[str, Workload] | None = None) -> Build:
    n = iterations_for(target, workload, external)
    folder = work / workload / variant
    spec = (external or {}).get(workload)
    where = {"source": spec.source, "libc": spec.libc} if spec else {}
    if variant == "native":
        return variants.build_native(target, workload, folder, n, repeats, **where)
    if variant == "waft":
        return variants.build_waft(target, workload, folder, n, repeats, wasm, work / "runtime")
    if variant == "wasm2c":
        return variants.build_wasm2c(target, workload, folder, n, repeats, wasm)
    if variant == "waft_os":
        return variants.build_waft(target, workload, folder, n, repeats, wasm, work / "runtime", opt="s")
    if variant == "waft_unchecked":
        return variants.build_waft(target, workload, folder, n, repeats, wasm, work / "runtime",
                                   bounds_checks=False)
    if variant == "native_clang":
        return variants.build_native(target, workload, folder, n, repeats, compiler="clang", **where)
    raise ValueError(variant)


def run_host_engines(workloads: Sequence[str], wasm: dict[str, Path], repeats: int,
                     iterations: dict[str, int]) -> dict:
    """wasmtime (JIT) and wasm3 (interpreter) through their Python packages, when installed."""
    engines: dict = {}
    try:
        import wasmtime
    except ImportError:
        engines["wasmtime"] = {"skipped": "the wasmtime Python package is not installed (pip install wasmtime)"}
    else:
        def wasmtime_instance(path: Path):
            store = wasmtime.Store()
            module = wasmtime.Module(store.engine, path.read_bytes())
            instance = wasmtime.Instance(store, module, [])
            exports = instance.exports(store)
            return (lambda n: exports["bench_run"](store, n) & 0xFFFFFFFF,
                    lambda: exports["bench_verify"](store))
        engines["wasmtime"] = _engine_runs("wasmtime", wasmtime_instance, workloads, wasm, repeats, iterations)
    try:
        import wasm3
    except ImportError:
        engines["wasm3"] = {"skipped": "the pywasm3 package is not installed (pip install pywasm3)"}
    else:
        def wasm3_instance(path: Path):
            env = wasm3.Environment()
            runtime = env.new_runtime(1 << 16)
            runtime.load(env.parse_module(path.read_bytes()))
            run, verify = runtime.find_function("bench_run"), runtime.find_function("bench_verify")
            return (lambda n: run(n) & 0xFFFFFFFF, lambda: verify())
        # An interpreter is tens of times slower: fewer repeats keep the suite short.
        engines["wasm3"] = _engine_runs("wasm3", wasm3_instance, workloads, wasm, max(1, repeats // 3), iterations)
    return engines


def _engine_runs(name: str, instantiate, workloads: Sequence[str], wasm: dict[str, Path], repeats: int,
                 iterations: dict[str, int]) -> dict:
    results: dict = {}
    for workload in workloads:
        try:
            start = time.perf_counter_ns()
            run, verify = instantiate(wasm[workload])
            setup = time.perf_counter_ns() - start
            ok = verify()
            n = iterations[workload]
            times, checksums = [], []
            for _ in range(repeats):
                start = time.perf_counter_ns()
                checksums.append(run(n))
                times.append(time.perf_counter_ns() - start)
            results[workload] = {"run": statistics.median(times), "runs": times, "checksum": checksums[0],
                                 "verify": ok, "instantiate": setup}
            log(f"  {workload:<14} {name:<8} {statistics.median(times) / 1e6:10.2f} ms")
        except Exception as exc:  # one engine failing one module is a result, not a crash
            results[workload] = {"error": f"{type(exc).__name__}: {exc}"}
            log(f"  {workload:<14} {name:<8} failed: {exc}")
    return results


def run_benchmarks(target_name: str, workloads: Sequence[str] | None = None, *, jobs: int = 2,
                   work_dir: Path | None = None, results_dir: Path = RESULTS_DIR,
                   engines: bool = True, plots: bool = True, runner: Runner = Runner(),
                   external: dict[str, Workload] | None = None) -> int:
    """Build, run and report the suite for one target; returns a process exit status (0: all good).

    `external` holds out-of-tree workloads (bench/external.py, `waft bench --workloads DIR`): without
    `workloads`, only they run (the user's code is the point); with it, any of either kind can be named.
    """
    target = load_target(target_name)
    external = external or {}
    known = [*WORKLOADS, *external]
    names = list(workloads or external or WORKLOADS)
    unknown = [w for w in names if w not in known]
    if unknown:
        log(f"unknown workloads: {', '.join(unknown)} (known: {', '.join(known)})")
        return 2
    work = Path(work_dir or REPO / "build" / "bench" / target.name)
    work.mkdir(parents=True, exist_ok=True)
    repeats = HOST_REPEATS if target.is_host else 1
    started = time.time()
    log(f"waft bench: {len(names)} workloads x {len(variants.VARIANTS)} variants on {target.name} "
        f"({_clock_description(target, runner, repeats)})")

    def module_of(w: str) -> Path:
        spec = external.get(w)
        return variants.wasm_module(w, _mkdir(work / w), *((spec.source, spec.libc) if spec else ()))

    wasm = {w: module_of(w) for w in names + [CALLS_WORKLOAD]}
    jobs_list = [(w, v) for w in names + [CALLS_WORKLOAD] for v in variants.VARIANTS]
    measured: dict = {w: {} for w in names + [CALLS_WORKLOAD]}
    failures: list[str] = []

    def job(workload: str, variant: str) -> dict:
        build = build_one(target, workload, variant, work, wasm[workload], repeats, external)
        return measure_build(target, build, runner)

    # Host timings are taken one program at a time so two runs never share the cores;
    # a probe drives one board.
    serial = target.is_host or runner.name == "pyocd"
    with ThreadPoolExecutor(max_workers=1 if serial else jobs) as pool:
        futures = {pool.submit(job, w, v): (w, v) for w, v in jobs_list}
        for done, future in enumerate(as_completed(futures), 1):
            workload, variant = futures[future]
            try:
                figures = future.result()
            except Exception as exc:
                failures.append(f"{workload}/{variant}: {exc}")
                measured[workload][variant] = {"error": str(exc).splitlines()[0]}
                log(f"[{done:>2}/{len(jobs_list)}] {workload:<14} {variant:<12} FAILED: {str(exc).splitlines()[0]}")
                if not isinstance(exc, BuildError):
                    traceback.print_exc()
                continue
            measured[workload][variant] = figures
            unit = "instructions" if target.is_host else figures.get("clock", "ticks").split("_")[-1]
            log(f"[{done:>2}/{len(jobs_list)}] {workload:<14} {variant:<12} {figures['run']:>14,.0f} {unit}"
                f"  flash {figures['flash_module']:>6,} B  verify {'ok' if figures['verify'] == 1 else 'FAILED'}")

    calibration = None
    dwt = any(f.get("clock") == "dwt_cycles" for row in measured.values() for f in row.values())
    if not target.is_host and not dwt:
        # How many instructions one SysTick tick is (168 MHz SysTick, 1 ns per instruction
        # under -icount shift=0 on netduinoplus2: about 5.95): measured, not assumed.
        spins = 1_000_000
        figures = run_program(target, variants.build_calibration(target, work / "calibration", spins), runner)
        calibration = 2 * spins / figures["run_ticks"][0]
        log(f"calibration: {calibration:.3f} instructions per tick")
    iterations = {w: iterations_for(target, w, external) for w in names}
    host_engines = run_host_engines(names, wasm, repeats, iterations) if target.is_host and engines else {}
    data = report.assemble(target, names, measured, host_engines, {
        "iterations": iterations,
        "repeats": repeats,
        "seconds": round(time.time() - started, 1),
        "instructions_per_tick": calibration,
        "clock": "dwt_cycles" if dwt else ("callgrind" if target.is_host else "systick_ticks"),
        "runner": "host" if target.is_host else runner.name,
    })
    for workload, row in data["workloads"].items():
        for problem in row.get("problems", []):
            failures.append(f"{workload}: {problem}")
    results_dir.mkdir(parents=True, exist_ok=True)
    json_path = results_dir / f"{target.name}.json"
    json_path.write_text(json.dumps(data, indent=2) + "\n")
    md_path = results_dir / f"{target.name}.md"
    plot_paths = report.plots(data, results_dir) if plots else []
    md_path.write_text(report.markdown(data, [p.name for p in plot_paths], work))
    summary = data["summary"]
    log("")
    for key, value in summary.items():
        if isinstance(value, float):
            log(f"{key:<28} {value:.3f}")
    for path in [json_path, md_path, *plot_paths]:
        log(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    for failure in failures:
        log(f"problem: {failure.splitlines()[0]}")
    return 1 if failures else 0


def _clock_description(target: Target, runner: Runner, repeats: int) -> str:
    if target.is_host:
        return f"callgrind instructions, and wall time (median of {repeats} runs)"
    if runner.name == "pyocd":
        return (f"pyOCD on probe {runner.probe or '(the only one attached)'}: DWT cycles where the core "
                "counts them, else SysTick ticks")
    return "QEMU -icount shift=0, SysTick ticks"


def render_report(target_name: str, results_dir: Path = RESULTS_DIR) -> int:
    """Write <target>.md and the plots again from <target>.json (after changing report.py or analysis.py)."""
    json_path = results_dir / f"{target_name}.json"
    if not json_path.is_file():
        log(f"{json_path} does not exist: run the suite first")
        return 2
    data = json.loads(json_path.read_text())
    data["goals"] = report.goals_of(data["summary"])  # the goals as report.py states them now
    json_path.write_text(json.dumps(data, indent=2) + "\n")
    plot_paths = report.plots(data, results_dir)
    md_path = results_dir / f"{target_name}.md"
    md_path.write_text(report.markdown(data, [p.name for p in plot_paths], REPO / "build" / "bench" / target_name))
    for path in [md_path, *plot_paths]:
        log(f"wrote {path}")
    return 0


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """`python bench/run.py ARGS` is `waft bench ARGS`: one set of options, defined by the command line."""
    from waftkit.cli import main as waft

    return waft(["bench", *(sys.argv[1:] if argv is None else argv)], prog_name="waft", standalone_mode=False)


if __name__ == "__main__":
    sys.exit(main())
