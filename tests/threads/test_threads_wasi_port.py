"""Threads through the WASI port: files written by several threads at once, and sleeping that lets others run.

tests/threads/c/files_threads.c has four pthreads rewrite and read back their
own files in the preopened folder while time slices preempt them, then sleeps
the main thread at a priority above a counting thread.  On a board the RAM
filesystem is plain data: without the port's lock (runtime_c/threads/spawn.c)
the threads corrupt it and the firmware faults; without the thread-aware sleep
poll_oneoff spins in WFI at the sleeper's priority and the counter never runs.
The host port is the OS's and must agree.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from waftkit.testing.wasi_threads import build_threads_c

C_DIR = Path(__file__).parent / "c"


@pytest.mark.parametrize("target_name", ["host", pytest.param("mps2-an386", marks=pytest.mark.qemu)])
def test_threads_share_the_filesystem_and_sleep_without_spinning(target_name: str, tmp_path: Path) -> None:
    wasm = build_threads_c([C_DIR / "files_threads.c"], tmp_path / "files_threads.wasm", max_memory=4 * 65536)
    folder = tmp_path / "d"
    folder.mkdir()
    result = subprocess.run([sys.executable, "-m", "waftkit", "run", str(wasm), "--target", target_name,
                             "--dir", f"{folder}::/d", "--", "/d"],
                            capture_output=True, text=True, timeout=300, check=False)
    report = f"exit {result.returncode}\n{result.stdout}\n{result.stderr[-3000:]}"
    assert result.returncode == 0, report
    for thread in range(4):
        assert f"thread {thread}: 0 bad" in result.stdout, report
    assert "set-priority 0, counted while main slept: yes" in result.stdout, report
