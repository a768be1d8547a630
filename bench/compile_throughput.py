"""Compile-throughput benchmark: how fast, and in how much memory, Waft turns a module into an object.

Two measurements.

The default one compiles a large real module: all of wasi-libc (every
object of Debian's libc.a, linked whole with every symbol exported), about
1,100 functions and 320 KB of code, real C compiled by clang, so the
instruction mix is what users feed Waft.  It reports functions per second and
KB of Wasm code per second, for decoding, validation and the whole compile
(lowering + LLVM's pipeline + object emission) at each optimisation level.

`--scaling` compiles synthetic modules of growing size (bench/synthetic.py:
many functions, a huge br_table, big data and element segments, deep
nesting, many locals, globals, imports) and records for each the wall and CPU
seconds and the peak resident memory of a fresh process that only decodes,
validates, lowers, optimises and emits it (`aot.compiler.compile_module`),
with the memory of the idle process beside it.  Beyond a limit of
aot/limits.py the row records the refusal.  Issue 12's goal: a
50,000-function module within 2 GB, in time proportional to 5,000.

Run:  .venv/bin/python bench/compile_throughput.py [--target stm32f4] [--opt 0 --opt 2]
      .venv/bin/python bench/compile_throughput.py --scaling [--target host] [--case functions ...]
The first writes bench/results/compile_throughput_<target>.json and prints a
table; the second bench/results/compile_scaling_<target>.json, .md and .png.
This is a benchmark, not a test: nothing here asserts a time.
(tests/unit/test_compile_limits.py asserts memory, through `measure`.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
sys.path.insert(0, str(BENCH_DIR))

import synthetic  # noqa: E402

from aot.compiler import compile_module  # noqa: E402
from aot.errors import LimitError  # noqa: E402
from aot.targets import load_target  # noqa: E402
from aot.wasm.decode import decode_module  # noqa: E402
from aot.wasm.validate import validate_module  # noqa: E402

WASI_LIBC = Path("/usr/lib/wasm32-wasi/libc.a")
RESULTS = BENCH_DIR / "results"

# --scaling: the sizes measured for each generator of bench/synthetic.py; the last
# size of a limited case is one past its limit (aot/limits.py), to show the refusal.
SCALING_CASES: dict[str, list[int]] = {
    "functions": [1_000, 5_000, 10_000, 20_000, 50_000, 100_001],
    "exported_functions": [5_000, 50_000],
    "br_table": [100_000, 300_000, 1_000_000, 1_000_001],
    "data": [1 << 20, 16 << 20, 64 << 20, (64 << 20) + 1],
    "data_segments": [1_000, 10_000, 100_000],
    "element_entries": [100_000, 1_000_000, 1_000_001],
    "globals": [10_000, 100_000, 1_000_000],
    "imports": [1_000, 10_000],
    "nested_blocks": [1_000, 10_000, 10_001],
    "nested_if_else": [2_500, 5_000, 10_000, 10_001],
    "same_condition_ifs": [2_500, 5_000, 10_000],
    "locals": [1_000_000, 10_000_000, 10_050_000],
}


# What a reader of the report should know about a case's figures.
CASE_NOTES = {
    "functions": "Each function adds one and calls the next: about 10 bytes of Wasm. Issue 12's goal: "
                 "50,000 within 2 GB, in time in line with 5,000. LLVM's Machine Outliner, on by default for "
                 "Arm and RISC-V, is a module pass that keeps every function's machine code until the "
                 "last one is done; it changes code only at -Oz, so Waft runs it only there "
                 "(aot/emit.py, machine_outliner_mode), which took stm32f4's 50,000-function peak "
                 "from 2,234 MB to 1,448 MB.",
    "exported_functions": "The same with every function exported: each export adds a C wrapper and a "
                          "header line.",
    "data": "One active segment. LLVM IR spells a byte in 3 characters.",
    "nested_if_else": "Every level branches on the same local: LLVM's EarlyCSE walks the dominated uses at "
                      "each branch, so time grows with the square of the depth; MAX_NESTING bounds it.",
    "same_condition_ifs": "Ifs one after the other, all on the same local: quadratic in LLVM (EarlyCSE and "
                          "InstCombine), and no limit of Waft's bounds it short of the function size.",
    "locals": "Functions of 50,000 declared locals each, one of them used: three bytes of Wasm apiece.",
}


# --- the real module -----------------------------------------------------------------------


def build_large_module(workdir: Path) -> bytes:
    """Link all of wasi-libc into one module with clang/wasm-ld."""
    out = workdir / "libc_all.wasm"
    subprocess.run(
        [
            "clang", "--target=wasm32-wasi", "--sysroot=/usr", "-nostartfiles",
            "-Wl,--no-entry", "-Wl,--export-all", "-Wl,--allow-undefined", "-Wl,--strip-debug",
            "-Wl,--whole-archive", str(WASI_LIBC), "-Wl,--no-whole-archive", "-o", str(out),
        ],
        check=True,
    )
    return out.read_bytes()


def timed(fn, repeats: int) -> tuple[float, object]:
    """Median wall time of `repeats` calls, and the last call's result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def throughput(args: argparse.Namespace) -> int:
    levels = args.opt or ["0", "2"]
    target = load_target(args.target)

    with tempfile.TemporaryDirectory() as tmp:
        data = build_large_module(Path(tmp))
    decode_s, module = timed(lambda: decode_module(data), args.repeats)
    validate_s, _ = timed(lambda: validate_module(module), args.repeats)
    functions = len(module.functions)
    code_kb = sum(f.body_size for f in module.functions) / 1024

    rows = [("decode", decode_s), ("validate", validate_s)]
    for level in levels:
        compile_s, result = timed(
            lambda: compile_module(data, target, prefix="libc", opt=level), max(1, args.repeats - 1)
        )
        rows.append((f"compile -O{level} (object {len(result.object) // 1024} KB)", compile_s))

    print(f"module: all of wasi-libc, {functions} functions, {code_kb:.0f} KB of code, "
          f"{len(data) // 1024} KB file; target {target.name}")
    print(f"{'stage':<40} {'seconds':>8} {'functions/s':>12} {'KB/s':>8}")
    report = {"target": target.name, "machine": platform.machine(), "functions": functions,
              "code_kb": round(code_kb, 1), "stages": {}}
    for name, seconds in rows:
        print(f"{name:<40} {seconds:8.2f} {functions / seconds:12.0f} {code_kb / seconds:8.1f}")
        report["stages"][name] = {"seconds": round(seconds, 3),
                                  "functions_per_s": round(functions / seconds, 1),
                                  "kb_per_s": round(code_kb / seconds, 2)}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"compile_throughput_{target.name}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


# --- scaling: one module per fresh process -------------------------------------------------


def measure(case: str, size: int, target: str = "host", opt: str = "2", timeout: float = 3600) -> dict:
    """Compile synthetic module `case` of `size` in a fresh process; its figures as a dict.

    Keys: case, size, module_bytes, wall_s, cpu_s, peak_rss_mb (the process's
    high-water resident memory), idle_rss_mb (the same before it compiled),
    object_bytes, and `refused` (the LimitError's message) when the module is
    beyond a limit.  The module is written by this process, so making it costs
    the measured one nothing.
    """
    generate, _ = synthetic.GENERATORS[case]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{case}_{size}.wasm"
        path.write_bytes(generate(size))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(BENCH_DIR.parent),
                                                                          os.environ.get("PYTHONPATH")])))
        proc = subprocess.run([sys.executable, __file__, "--measure-file", str(path), "--target", target,
                               "--opt", opt], capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"measuring {case} {size} failed:\n{proc.stdout}{proc.stderr[-3000:]}")
    return {"case": case, "size": size, **json.loads(proc.stdout.splitlines()[-1])}


def peak_rss_kb() -> int:
    """This process's peak resident memory in KiB: VmHWM, its address space's high-water mark.

    Not ru_maxrss: Linux carries that across fork and exec, so a process started
    by a big parent (pytest, or `measure` after writing a 64 MB module) reports
    at least the parent's peak.  A new program gets a new address space, and
    VmHWM counts only that.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux: the best there is


def _measure_file(path: Path, target_name: str, opt: str) -> dict:
    """In the fresh process: compile the file once, report time and memory (JSON on stdout)."""
    target = load_target(target_name)
    data = path.read_bytes()
    idle = peak_rss_kb()
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    figures: dict = {"module_bytes": len(data)}
    try:
        result = compile_module(data, target, prefix="m", opt=opt)
        figures["object_bytes"] = len(result.object)
    except LimitError as exc:
        figures["refused"] = str(exc)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures["wall_s"] = round(time.perf_counter() - start, 2)
    figures["cpu_s"] = round(usage.ru_utime + usage.ru_stime - usage0.ru_utime - usage0.ru_stime, 2)
    figures["peak_rss_mb"] = round(peak_rss_kb() / 1024, 1)
    figures["idle_rss_mb"] = round(idle / 1024, 1)
    return figures


def scaling(args: argparse.Namespace) -> int:
    stem = RESULTS / f"compile_scaling_{args.target}"
    if args.report_only:
        report = json.loads(stem.with_suffix(".json").read_text())
        stem.with_suffix(".md").write_text(scaling_markdown(report, scaling_plot(report, stem.with_suffix(".png"))))
        return 0
    cases = args.case or list(SCALING_CASES)
    rows = []
    for case in cases:
        for size in SCALING_CASES[case]:
            row = measure(case, size, args.target, (args.opt or ["2"])[0])
            rows.append(row)
            outcome = f"refused: {row['refused']}" if "refused" in row else \
                f"{row['cpu_s']:8.1f} cpu-s {row['wall_s']:8.1f} s {row['peak_rss_mb']:8.0f} MB peak"
            print(f"{case:<20} {size:>11,} {row['module_bytes'] / 1024:10.0f} KB  {outcome}", flush=True)
    report = {"target": args.target, "opt": (args.opt or ["2"])[0], "machine": platform.machine(),
              "cpus": os.cpu_count(), "command": "bench/compile_throughput.py --scaling"
              + (f" --target {args.target}" if args.target != "host" else ""), "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    if args.case:  # a partial run updates its cases and keeps the others' rows
        previous = json.loads(stem.with_suffix(".json").read_text()) if stem.with_suffix(".json").exists() else {}
        report["rows"] = [r for r in previous.get("rows", []) if r["case"] not in cases] + rows
        report["rows"].sort(key=lambda r: (list(SCALING_CASES).index(r["case"]), r["size"]))
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    plot = scaling_plot(report, stem.with_suffix(".png"))
    stem.with_suffix(".md").write_text(scaling_markdown(report, plot))
    print(f"wrote {stem}.json, .md" + (", .png" if plot else ""))
    return 0


def scaling_markdown(report: dict, plot: Path | None) -> str:
    """The scaling figures as a Markdown report, one table per case."""
    lines = [f"# Compile time and memory vs module size ({report['target']}, -O{report['opt']})", "",
             f"Measured by `.venv/bin/python {report['command']}` on {report['machine']} "
             f"({report['cpus']} CPUs): each module is compiled once by `aot.compiler.compile_module` "
             "in a fresh process.  Peak is the process's high-water resident memory (VmHWM); idle is "
             "the same process before "
             "it compiled (Python, llvmlite and Waft loaded); seconds are CPU time (wall time beside "
             "it, which a busy machine stretches).  Modules come from `bench/synthetic.py`; the limits "
             "that refuse the last rows are in `aot/limits.py`.", ""]
    by_size = {(r["case"], r["size"]): r for r in report["rows"] if "refused" not in r}
    small, big = by_size.get(("functions", 5_000)), by_size.get(("functions", 50_000))
    if small and big:
        lines += [f"50,000 functions: {big['peak_rss_mb']:,.0f} MB peak and {big['cpu_s']:,.0f} CPU seconds, "
                  f"{big['cpu_s'] / small['cpu_s']:.1f} times the 5,000-function module's "
                  f"({small['cpu_s']:,.1f} s, {small['peak_rss_mb']:,.0f} MB).", ""]
    for case in dict.fromkeys(r["case"] for r in report["rows"]):
        rows = [r for r in report["rows"] if r["case"] == case]
        lines += [f"## {case}", ""]
        if case in CASE_NOTES:
            lines += [CASE_NOTES[case], ""]
        lines += [f"| {synthetic.GENERATORS[case][1]} | module KB | CPU s | wall s | peak MB | peak - idle MB "
                  "| object KB |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in rows:
            if "refused" in r:
                lines.append(f"| {r['size']:,} | {r['module_bytes'] / 1024:,.0f} | refused: {r['refused']} "
                             "| | | | |")
                continue
            lines.append(f"| {r['size']:,} | {r['module_bytes'] / 1024:,.0f} | {r['cpu_s']:,.1f} | "
                         f"{r['wall_s']:,.1f} | {r['peak_rss_mb']:,.0f} | "
                         f"{r['peak_rss_mb'] - r['idle_rss_mb']:,.0f} | {r['object_bytes'] / 1024:,.0f} |")
        lines.append("")
    if plot is not None:
        lines += [f"![compile time and memory]({plot.name})", ""]
    return "\n".join(lines)


def scaling_plot(report: dict, path: Path) -> Path | None:
    """Peak memory and CPU seconds against module size, one line per case; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install 'waft[bench]')")
        return None
    fig, (mem_ax, time_ax) = plt.subplots(1, 2, figsize=(12, 5))
    cases = list(dict.fromkeys(r["case"] for r in report["rows"]))
    colours = plt.get_cmap("tab20").colors
    for n, case in enumerate(cases):
        rows = [r for r in report["rows"] if r["case"] == case and "refused" not in r]
        if not rows:
            continue
        kb = [r["module_bytes"] / 1024 for r in rows]
        style = {"marker": "osD^v<>"[n % 7], "color": colours[(2 * n) % 20 + (n >= 10)], "label": case}
        mem_ax.plot(kb, [r["peak_rss_mb"] for r in rows], **style)
        time_ax.plot(kb, [r["cpu_s"] for r in rows], **style)
    for ax, label in ((mem_ax, "peak resident memory (MB)"), (time_ax, "CPU seconds")):
        # Log-log: a straight line of slope 1 is linear growth, slope 2 quadratic.
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("module size (KB)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", linewidth=0.3)
    mem_ax.axhline(2048, color="tab:red", linestyle="--", linewidth=0.8, label="2 GB")
    mem_ax.legend(fontsize=7)
    fig.suptitle(f"Waft compile resources vs module size ({report['target']}, -O{report['opt']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="host")
    parser.add_argument("--opt", action="append", help="optimisation levels (default: 0 and 2; --scaling: 2)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scaling", action="store_true", help="synthetic modules of growing size")
    parser.add_argument("--case", action="append", choices=list(SCALING_CASES),
                        help="with --scaling: only these cases (default: all)")
    parser.add_argument("--report-only", action="store_true",
                        help="with --scaling: rewrite the .md and .png from the .json, measuring nothing")
    parser.add_argument("--measure-file", type=Path, help=argparse.SUPPRESS)  # the worker of `measure`
    args = parser.parse_args()
    if args.measure_file is not None:
        print(json.dumps(_measure_file(args.measure_file, args.target, (args.opt or ["2"])[0])))
        return 0
    return scaling(args) if args.scaling else throughput(args)


if __name__ == "__main__":
    sys.exit(main())
