"""`waft bench --workloads DIR`: a user's own C files benched like bench/workloads, bad folders refused.

The run test benches one small out-of-tree workload on stm32f4 under QEMU (a
few thousand instructions per variant) and reads the JSON it wrote: every
variant built from the user's file, with its iterations, and the checksums
agreeing.  A workload whose Wasm build fails its self-check must make the run
fail.  A folder that cannot be benched gets one line naming the file, exit 1,
and no results.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

WORKLOAD = """/* A user's workload: a table-driven checksum over a small buffer. */
/* waft-bench: iterations=7 */
#include "bench.h"
static uint8_t buffer[64];
static uint32_t mix(uint32_t n) {
    uint32_t h = 2166136261u, seed = n;
    for (int i = 0; i < 64; i++) buffer[i] = (uint8_t) bench_rand(&seed);
    for (int i = 0; i < 64; i++) h = (h ^ buffer[i]) * 16777619u;
    return h;
}
uint32_t bench_run(uint32_t n) {
    uint32_t acc = 0;
    for (uint32_t i = 0; i < n; i++) acc += mix(acc ^ i);
    return acc;
}
uint32_t bench_verify(void) { return VERIFY_EXPR; }
"""


def waft_bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waftkit.cli", "bench", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=600)


def _tools_or_skip() -> None:
    for tool in ("clang", "arm-none-eabi-gcc", "qemu-system-arm", "wasm2c"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


@pytest.mark.qemu
def test_an_out_of_tree_workload_runs_in_every_variant(tmp_path: Path) -> None:
    _tools_or_skip()
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "user_fnv.c").write_text(WORKLOAD.replace("VERIFY_EXPR", "mix(0) == mix(0) && mix(1) != mix(2)"))
    results = tmp_path / "results"
    proc = waft_bench("--target", "stm32f4", "--workloads", str(folder), "--results", str(results), "--no-plots")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((results / "stm32f4.json").read_text())
    assert list(data["workloads"]) == ["user_fnv"]  # only the user's workloads when none is named
    row = data["workloads"]["user_fnv"]
    assert row["iterations"] == 7 and row["problems"] == []
    variants = row["variants"]
    assert {"native", "native_clang", "waft", "wasm2c"} <= set(variants)
    assert len({figures["checksum"] for figures in variants.values()}) == 1
    assert all(figures["run"] > 0 for figures in variants.values())


@pytest.mark.qemu
def test_a_workload_failing_its_self_check_fails_the_run(tmp_path: Path) -> None:
    _tools_or_skip()
    folder = tmp_path / "mine"
    folder.mkdir()
    # A self-check that fails only in the Wasm builds (waft, wasm2c): the run must say so and fail.
    broken = "#ifdef __wasm__\n#define VERIFY_EXPR 0\n#else\n#define VERIFY_EXPR 1\n#endif\n"
    (folder / "user_bad.c").write_text(broken + WORKLOAD)
    proc = waft_bench("--target", "stm32f4", "--workloads", str(folder), "--results", str(tmp_path / "r"),
                      "--no-plots")
    assert proc.returncode != 0
    # The harness exits non-zero when bench_verify() fails; the native builds pass.
    problems = [line for line in proc.stdout.splitlines() if line.startswith("problem: user_bad: ")]
    assert any(line.startswith("problem: user_bad: waft: ") for line in problems), proc.stdout
    assert not any(line.startswith(("problem: user_bad: native:", "problem: user_bad: native_clang:"))
                   for line in problems), proc.stdout


@pytest.mark.parametrize(("name", "text", "message"), [
    ("crc32.c", "", "'crc32' is already a built-in workload"),
    ("mine.c", "/* waft-bench: iterations=0 */", "unknown 'waft-bench:' setting 'iterations=0'"),
    ("mine.c", "/* waft-bench: fast */", "unknown 'waft-bench:' setting 'fast'"),
    ("my-file.c", "", "a workload's file name must be a C identifier"),
])
def test_a_folder_that_cannot_be_benched_is_refused_in_one_line(tmp_path: Path, name: str, text: str,
                                                                  message: str) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / name).write_text(text + "\n")
    results = tmp_path / "results"
    proc = waft_bench("--target", "stm32f4", "--workloads", str(folder), "--results", str(results))
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert str(folder / name) in proc.stderr and message in proc.stderr
    assert not results.exists()


def test_an_empty_or_missing_folder_is_refused(tmp_path: Path) -> None:
    for folder, message in ((tmp_path, "no *.c workloads"), (tmp_path / "absent", "not a folder of workloads")):
        proc = waft_bench("--target", "stm32f4", "--workloads", str(folder))
        assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr
