"""Threaded WASI modules through SCons: `WaftWasiFirmware` links the pool (and on a board the kernel), sized by MAX_THREADS.

A user's project, with Waft's tools loaded by toolpath: the module spawns
threads through wasi-threads and waits for them with memory.atomic.wait; the
firmware must build, run and exit with the status the module computes, on the
host and on stm32f4 under QEMU.  `MAX_THREADS` is a construction variable:
with a pool of one the second spawn fails with `again`, and the module says so
in its exit status.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from waftkit.firmware.embedding import MAX_THREADS_LIMIT

REPO = Path(__file__).resolve().parents[2]
SCONS = Path(sys.executable).with_name("scons")

SCONSTRUCT = f"""
import os
env = Environment(tools=["default", "waft"], toolpath=[{str(REPO / "site_scons" / "site_tools")!r}],
                  WAFT_TARGET=ARGUMENTS.get("TARGET", "host"),
                  WAFT_MAX_THREADS=ARGUMENTS.get("MAX_THREADS", "8"), ENV={{"PATH": os.environ["PATH"]}})
SConsignFile("build/.sconsign")
SConscript("SConscript", exports="env", variant_dir="build/" + env["WAFT_TARGET"], duplicate=False)
"""

# Two threads each add their tid-independent share to a counter and notify;
# the main thread waits until both are done and exits with 40 + the number of
# spawns that failed (0 with a big enough pool).
SPAWN_TWO = """(module
  (memory (export "memory") (import "env" "memory") 1 1 shared)
  (func $spawn (import "wasi" "thread-spawn") (param i32) (result i32))
  (func $proc_exit (import "wasi_snapshot_preview1" "proc_exit") (param i32))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 0) (i32.const 1)))
    (loop $forever (br $forever)))
  (func (export "_start") (local $started i32) (local $failed i32) (local $seen i32)
    (if (i32.gt_s (call $spawn (i32.const 0)) (i32.const 0))
      (then (local.set $started (i32.add (local.get $started) (i32.const 1))))
      (else (local.set $failed (i32.add (local.get $failed) (i32.const 1)))))
    (if (i32.gt_s (call $spawn (i32.const 0)) (i32.const 0))
      (then (local.set $started (i32.add (local.get $started) (i32.const 1))))
      (else (local.set $failed (i32.add (local.get $failed) (i32.const 1)))))
    (loop $wait
      (local.set $seen (i32.atomic.load (i32.const 0)))
      (if (i32.lt_u (local.get $seen) (local.get $started))
        (then
          (drop (memory.atomic.wait32 (i32.const 0) (local.get $seen) (i64.const 1000000000)))
          (br $wait))))
    (call $proc_exit (i32.add (i32.const 40) (local.get $failed)))))
"""


def sconscript(expect_exit: int) -> str:
    return f'Import("env")\nenv.WaftWasiFirmware("spawn_two", "spawn_two.wasm", expect_exit={expect_exit})\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "SConstruct").write_text(SCONSTRUCT)
    (tmp_path / "spawn_two.wat").write_text(SPAWN_TWO)
    subprocess.run(["wat2wasm", "--enable-threads", "spawn_two.wat", "-o", "spawn_two.wasm"], cwd=tmp_path,
                   check=True)
    return tmp_path


def scons(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCONS), "-Q", *args], cwd=project, capture_output=True, text=True,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}, timeout=900)


@pytest.mark.parametrize("target", ["host", pytest.param("stm32f4", marks=pytest.mark.qemu)])
def test_threaded_module_builds_and_runs(project: Path, target: str):
    (project / "SConscript").write_text(sconscript(40))
    result = scons(project, f"TARGET={target}", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS spawn_two" in result.stdout


def test_max_threads_sizes_the_pool(project: Path):
    (project / "SConscript").write_text(sconscript(41))
    result = scons(project, "MAX_THREADS=1", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS spawn_two" in result.stdout


def test_a_pool_beyond_the_runtimes_limit_fails_in_one_line(project: Path):
    (project / "SConscript").write_text(sconscript(41))
    result = scons(project, f"MAX_THREADS={MAX_THREADS_LIMIT + 1}", "test")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"outside 1..{MAX_THREADS_LIMIT}" in output and "Traceback" not in output, output
