"""The benchmark workloads are correct: each passes its own self-check natively and through Waft on the host.

A correctness test of bench/workloads/ and the harness, not a timed test:
it runs a couple of iterations, never asserts on speed, and checks that the
Waft build computes the same checksum as the native build of the same C.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH_DIR))

import run as bench_run  # noqa: E402
import variants  # noqa: E402

from aot.targets import load_target  # noqa: E402

WORKLOADS = [*bench_run.WORKLOADS, variants.CALLS_WORKLOAD]


@pytest.fixture(scope="module")
def host():
    for tool in ("clang", "cc"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    return load_target("host")


@pytest.mark.parametrize("workload", WORKLOADS)
def test_workload_verifies_natively_and_through_waft(workload: str, host, tmp_path: Path) -> None:
    wasm = variants.wasm_module(workload, tmp_path)
    native = variants.build_native(host, workload, tmp_path / "native", iterations=3, repeats=1)
    waft = variants.build_waft(host, workload, tmp_path / "waft", iterations=3, repeats=1,
                               wasm=wasm, runtime_dir=tmp_path / "runtime")
    native_out = bench_run.run_program(host, native)
    waft_out = bench_run.run_program(host, waft)
    assert native_out["verify"] == 1, f"{workload}: native bench_verify failed"
    assert waft_out["verify"] == 1, f"{workload}: bench_verify through Waft failed"
    assert waft_out["checksum"] == native_out["checksum"], f"{workload}: Waft's checksum differs from native"


def test_workload_modules_are_reactors_without_wasi(tmp_path: Path) -> None:
    """No WASI and no libc: the only import any workload has is the call probe's env.host_nop."""
    from aot.wasm.decode import decode_module

    for workload in WORKLOADS:
        module = decode_module(variants.wasm_module(workload, tmp_path).read_bytes())
        imports = [(i.module, i.name) for i in module.imports]
        expected = [("env", "host_nop")] if workload == variants.CALLS_WORKLOAD else []
        assert imports == expected, workload
        exports = {e.name for e in module.exports}
        assert {"bench_run", "bench_verify"} <= exports, workload


@pytest.mark.qemu
def test_board_harness_runs_under_qemu_and_through_pyocd(tmp_path: Path) -> None:
    """The Cortex-M harness measures under QEMU and through pyOCD (the `--runner pyocd` path).

    QEMU has no DWT cycle counter, so the harness must find none and fall
    back to SysTick ticks on both paths; on a real board the same firmware
    reports `clock_dwt 1` and DWT cycles.
    """
    for tool in ("clang", "arm-none-eabi-gcc", "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    stm32f4 = load_target("stm32f4")
    wasm = variants.wasm_module("pid", tmp_path)
    waft = variants.build_waft(stm32f4, "pid", tmp_path / "waft", iterations=3, repeats=1,
                               wasm=wasm, runtime_dir=tmp_path / "runtime")
    under_qemu = bench_run.run_program(stm32f4, waft)
    through_pyocd = bench_run.run_program(stm32f4, waft, bench_run.Runner("pyocd", "qemu:netduinoplus2"))
    for out in (under_qemu, through_pyocd):
        assert out["verify"] == 1 and out["clock_dwt"] == 0 and out["run_ticks"][0] > 0, out
    assert through_pyocd["checksum"] == under_qemu["checksum"]
