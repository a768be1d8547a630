"""Compile-throughput benchmark: how fast Waft turns a large real module into an object.

The module is all of wasi-libc (every object of Debian's libc.a, linked whole
with every symbol exported): about 1,100 functions and 320 KB of code,
real C compiled by clang, so the instruction mix is what users feed Waft.
The benchmark reports functions per second and KB of Wasm code per second,
for decoding, validation and the whole compile (lowering + LLVM's pipeline +
object emission) at each optimisation level asked for.

Run:  .venv/bin/python bench/compile_throughput.py [--target stm32f4] [--opt 0 --opt 2]
It writes bench/results/compile_throughput_<target>.json and prints a table.
This is a benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from aot.compiler import compile_module  # noqa: E402
from aot.targets import load_target  # noqa: E402
from aot.wasm.decode import decode_module  # noqa: E402
from aot.wasm.validate import validate_module  # noqa: E402

WASI_LIBC = Path("/usr/lib/wasm32-wasi/libc.a")


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="host")
    parser.add_argument("--opt", action="append", help="optimisation levels (default: 0 and 2)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
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
    results = BENCH_DIR / "results"
    results.mkdir(exist_ok=True)
    out = results / f"compile_throughput_{target.name}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
