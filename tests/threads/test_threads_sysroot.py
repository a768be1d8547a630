"""The wasm32-wasi-threads sysroot (tools/build_wasi_threads_sysroot.sh) builds threaded C.

The official wasi-threads test thread_spawn-simple.c (with its own
wasi_thread_start in wasi_thread_spawn.S) and a pthread_create/join program
become modules shaped as wasi-threads wants: a shared, imported memory,
`wasi.thread-spawn`, and the export `wasi_thread_start`. wasmtime (PyPI, a
test extra) runs them as an oracle, and `waft run` must give the same output
and exit status on the host's POSIX threads.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from waftkit.testing.wasi_threads import build_threads_c, objdump_x, run_on_wasmtime

SUITE = Path(__file__).resolve().parents[3] / "shared" / "wasi-threads" / "test" / "testsuite"
HERE = Path(__file__).resolve().parent


def official(name: str) -> Path:
    path = SUITE / name
    if not path.is_file():
        pytest.skip(f"the wasi-threads test suite is not beside the checkout ({path})")
    return path


@pytest.fixture(scope="module")
def modules(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("threads")
    return {
        "simple": build_threads_c([official("thread_spawn-simple.c"), official("wasi_thread_spawn.S")],
                                  out / "thread_spawn-simple.wasm"),
        "pthread": build_threads_c([HERE / "c" / "pthread_counter.c"], out / "pthread_counter.wasm"),
    }


@pytest.mark.parametrize("name", ["simple", "pthread"])
def test_shape_is_wasi_threads(modules, name):
    dump = objdump_x(modules[name])
    assert re.search(r"memory\[0\] pages: initial=\d+ max=16 shared <- env\.memory", dump), dump
    assert re.search(r"<- wasi\.thread-spawn", dump), dump
    assert re.search(r'-> "wasi_thread_start"', dump), dump
    assert re.search(r'-> "_start"', dump), dump
    assert re.search(r'memory\[0\] -> "memory"', dump), dump
    # crt1-command calls the constructors itself: no wrapper that would run the
    # destructors each time a thread returns.
    assert "command_export" not in dump


@pytest.fixture(scope="module")
def wasmtime():
    return pytest.importorskip("wasmtime", reason="wasmtime (PyPI, a test extra) is the oracle")


def test_thread_spawn_simple_on_wasmtime(modules, wasmtime):
    code, _ = run_on_wasmtime(modules["simple"])
    assert code == 0


def test_pthread_counter_on_wasmtime(modules, wasmtime):
    code, out = run_on_wasmtime(modules["pthread"])
    assert out == "counter 4000 sum 68 errno 0 mine 0\n"
    assert code == 0


@pytest.mark.parametrize(("name", "output"), [
    ("simple", ""),
    ("pthread", "counter 4000 sum 68 errno 0 mine 0\n"),
])
def test_threaded_c_under_waft_run(modules, name, output):
    result = subprocess.run([sys.executable, "-m", "waftkit", "run", str(modules[name])],
                            capture_output=True, text=True, timeout=300)
    assert (result.returncode, result.stdout) == (0, output), result.stderr
