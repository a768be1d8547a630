"""The wasi-threads proposal's own test suite, run by the official WASI runner against `waft run`.

The suite (../shared/wasi-threads/test/testsuite: .wat programs with .json
expectations in the wasi-testsuite format, and one C program) is built here —
`wat2wasm --enable-threads` for the .wat files — into a private copy, then the
runner from ../shared/wasi-testsuite drives tests/wasi/wasi_testsuite_adapter.py
on it, exactly as for the p1 suite (tests/wasi/test_official_wasi_testsuite.py).
The C program is built with the project's wasm32-wasi-threads sysroot
(tools/build_wasi_threads_sysroot.sh; Debian ships only the single-threaded
wasi-libc) and runs with the others; the test fails, saying why, without it.

Three tests state "assumption: read from FD 0 blocks" (`*_wasi_read`: a thread
blocked in fd_read must not keep the program alive).  The runner feeds its
programs through `communicate()`, which closes stdin at once, so there fd_read
returns end-of-file and the thread traps before the test can happen — under
any runtime.  Those three run here instead, with a stdin pipe that stays open,
against the same .json expectations — on the host only: on a board the console
is semihosting, whose read halts the whole core until the host answers, so a
thread blocked in fd_read stops every thread (docs/threads.md, "Limits").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aot.targets import load_target
from aot.wasm.decode import decode_module
from waftkit.testing.wasi_threads import build_threads_c, sysroot_missing

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ADAPTER = REPO / "tests" / "wasi" / "wasi_testsuite_adapter.py"
SHARED = REPO.parent / "shared"
THREADS_SUITE = Path(os.environ.get("WASI_THREADS", SHARED / "wasi-threads")) / "test" / "testsuite"
RUNNER = Path(os.environ.get("WASI_TESTSUITE", SHARED / "wasi-testsuite")) / "test-runner" / "wasi_test_runner.py"


# The tests that need a stdin that blocks (see the module docstring).
NEED_BLOCKING_STDIN = ("wasi_threads_exit_main_wasi_read", "wasi_threads_exit_nonmain_wasi_read",
                       "wasi_threads_return_main_wasi_read")


def expected_exit_code(wasm: Path) -> int:
    """The exit code a test's .json expects (0 without one, as the suite's README says)."""
    spec = wasm.with_suffix(".json")
    return json.loads(spec.read_text()).get("exit_code", 0) if spec.is_file() else 0


def build_wat_tests(folder: Path) -> list[str]:
    """Assemble every .wat of the suite copy in `folder` beside it; returns the test names."""
    names = []
    for wat in sorted(folder.glob("*.wat")):
        subprocess.run(["wat2wasm", "--enable-threads", str(wat), "-o", str(wat.with_suffix(".wasm"))], check=True)
        names.append(wat.stem)
    return names


def too_big_for(target_name: str, wasm: Path) -> int | None:
    """The bytes of memory `wasm` needs at its cap when they exceed the board's RAM, else None."""
    ram = load_target(target_name).ram
    memory = decode_module(wasm.read_bytes()).all_memories()[0].limits
    need = (memory.max if memory.max is not None else memory.min) << 16
    return need if ram is not None and need >= ram.length else None


@pytest.mark.parametrize("target_name", ["host", pytest.param("mps2-an386", marks=pytest.mark.qemu),
                                         pytest.param("stm32f4", marks=pytest.mark.qemu)])
def test_wasi_threads_suite_passes(target_name: str, tmp_path: Path) -> None:
    if not THREADS_SUITE.is_dir() or not RUNNER.is_file():
        pytest.skip(f"the wasi-threads suite ({THREADS_SUITE}) or the WASI runner ({RUNNER}) is missing")
    suite = shutil.copytree(THREADS_SUITE, tmp_path / "wasi-threads")
    names = build_wat_tests(suite)
    missing = sysroot_missing()
    assert missing is None, missing
    for source in suite.glob("*.c"):
        wasm = build_threads_c([source, suite / "wasi_thread_spawn.S"], source.with_suffix(".wasm"))
        need = too_big_for(target_name, wasm)
        if need is not None:  # the board cannot hold it: said, and left out
            print(f"{target_name}: {source.stem} needs {need:,} bytes of shared memory, more than the board's RAM")
            wasm.unlink()
            continue
        names.append(source.stem)
    blocking = tmp_path / "blocking-stdin"
    blocking.mkdir()
    for name in NEED_BLOCKING_STDIN:
        for path in suite.glob(f"{name}.*"):
            path.rename(blocking / path.name)
    report = tmp_path / "results.json"
    command = [sys.executable, str(RUNNER), "-t", str(suite), "-r", str(ADAPTER),
               "--json-output-location", str(report), "--disable-colors"]
    env = {**os.environ, "WAFT_TARGET": target_name, "WAFT_PYTHON": sys.executable, "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(command, capture_output=True, text=True, cwd=RUNNER.parents[1], env=env, timeout=1200)
    assert report.is_file(), f"the runner wrote no results:\n{result.stdout[-8000:]}\n{result.stderr[-4000:]}"
    outcomes = {t["name"]: t["outcome"] for s in json.loads(report.read_text())["results"] for t in s["tests"]}
    failed = sorted(name for name, outcome in outcomes.items() if outcome != "pass")
    assert not failed and result.returncode == 0, f"wasi-threads suite on {target_name}: {failed}\n{result.stdout[-8000:]}"
    assert sorted(outcomes) == sorted(set(names) - set(NEED_BLOCKING_STDIN)), outcomes

    for name in NEED_BLOCKING_STDIN if target_name == "host" else ():
        wasm = blocking / f"{name}.wasm"
        proc = subprocess.Popen([sys.executable, "-m", "waftkit", "run", str(wasm), "--target", target_name],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
        try:
            proc.wait(timeout=300)  # not communicate(): stdin stays open, so fd_read blocks
        finally:
            proc.stdin.close()
        err = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
        assert proc.returncode == expected_exit_code(wasm), f"{name}: exit {proc.returncode}\n{err}"
