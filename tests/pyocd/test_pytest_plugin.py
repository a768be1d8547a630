"""The waft pytest plugin: adapters from the registry, the run template and its logs, probe sharding, tests/hil."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aot.pytest_waft import ADAPTERS, HostAdapter, PyocdAdapter, QemuAdapter, probe_for_worker
from aot.targets import load_target

REPO = Path(__file__).resolve().parents[2]


def test_registry_holds_one_adapter_per_runner():
    assert ADAPTERS == {"host": HostAdapter, "qemu": QemuAdapter, "pyocd": PyocdAdapter}


def test_adapters_say_why_they_cannot_run_a_target():
    host, board = load_target("host"), load_target("stm32f4")
    assert HostAdapter.unavailable(host, None) is None
    assert "not stm32f4" in HostAdapter.unavailable(board, None)
    assert QemuAdapter.unavailable(board, None) is None
    assert "no QEMU machine" in QemuAdapter.unavailable(load_target("nrf52840"), None)
    assert PyocdAdapter.unavailable(board, None) is None  # the emulated board, through pyOCD
    assert "--waft-probe" in PyocdAdapter.unavailable(load_target("nrf52840"), None)
    assert PyocdAdapter.unavailable(load_target("nrf52840"), "0240000034544e45") is None


def test_run_template_executes_and_keeps_the_full_log(tmp_path: Path):
    src = tmp_path / "hello.c"
    src.write_text('#include <stdio.h>\nint main(void) { puts("hello"); return 3; }\n')
    exe = tmp_path / "hello"
    subprocess.run(["cc", str(src), "-o", str(exe)], check=True)
    device = HostAdapter(load_target("host"), None, 10.0, tmp_path / "logs")
    result = device.run(exe)
    assert (result.returncode, result.stdout, result.timed_out) == (3, "hello\n", False)
    assert result.log == tmp_path / "logs" / "hello.host.log"
    log = result.log.read_text()
    assert "exit status 3" in log and "--- stdout ---\nhello\n" in log
    assert str(result.log) in result.summary()


def test_probes_are_shared_out_one_per_worker():
    board = load_target("stm32f4")
    spec = "AAA,BBB"
    assert [probe_for_worker(spec, board, w) for w in ("", "gw0", "gw1", "gw2")] == \
        ["AAA", "AAA", "BBB", "AAA"]
    assert probe_for_worker(None, board, "gw0") is None


def run_hil(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           str(REPO / "tests" / "hil"), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=900)


def test_hil_is_skipped_with_a_reason_without_a_board():
    proc = run_hil()
    assert proc.returncode == 0, proc.stdout
    assert "skipped" in proc.stdout and "no board: give --waft-probe" in proc.stdout


@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed")
def test_hil_runs_the_examples_on_the_emulated_board_through_pyocd():
    proc = run_hil("--waft-target=stm32f4", "--waft-probe=qemu:netduinoplus2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed" in proc.stdout and "failed" not in proc.stdout


def test_a_real_probe_is_used_by_one_process_at_a_time(tmp_path: Path):
    """probe_lock serialises users of one board; the emulated board needs no lock."""
    script = ("import sys, time\nfrom aot.pyocd_runner import probe_lock\n"
              "with probe_lock('TEST-UID-' + sys.argv[1]):\n"
              "    print('in', time.monotonic(), flush=True); time.sleep(0.5)\n"
              "    print('out', time.monotonic(), flush=True)\n")
    uid = str(tmp_path.name)
    procs = [subprocess.Popen([sys.executable, "-c", script, uid], stdout=subprocess.PIPE, text=True,
                              cwd=REPO) for _ in range(2)]
    spans = []
    for proc in procs:
        out = dict(line.split() for line in proc.communicate(timeout=30)[0].splitlines())
        spans.append((float(out["in"]), float(out["out"])))
    (a_in, a_out), (b_in, b_out) = sorted(spans)
    assert b_in >= a_out  # the second waited for the first
