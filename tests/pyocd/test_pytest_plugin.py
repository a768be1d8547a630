"""The runner registry (waftkit.runners.base) and the pytest plugin on it: the run template and its logs,
probe sharding, tests/hil."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aot.targets import load_target
from waftkit.runners.base import (
    RunnerUnavailable,
    default_runner_name,
    get_runner,
    runner_class,
    runner_names,
)
from waftkit.runners.host import HostRunner
from waftkit.runners.pyocd_runner import PyocdRunner
from waftkit.runners.qemu import QemuRunner
from waftkit.testing.pytest_plugin import probe_for_worker

REPO = Path(__file__).resolve().parents[2]


def test_registry_holds_one_runner_per_way_of_running():
    assert runner_names() == ["host", "pyocd", "qemu"]
    assert [runner_class(n) for n in runner_names()] == [HostRunner, PyocdRunner, QemuRunner]


def test_runners_say_why_they_cannot_run_a_target():
    host, board = load_target("host"), load_target("stm32f4")
    assert HostRunner.unavailable(host, None) is None
    assert "not stm32f4" in HostRunner.unavailable(board, None)
    assert QemuRunner.unavailable(board, None) is None
    assert "no QEMU machine" in QemuRunner.unavailable(load_target("nrf52840"), None)
    assert PyocdRunner.unavailable(board, None) is None  # the emulated board, through pyOCD
    assert "no probe given" in PyocdRunner.unavailable(load_target("nrf52840"), None)
    assert PyocdRunner.unavailable(load_target("nrf52840"), "0240000034544e45") is None


def test_get_runner_picks_the_default_and_refuses_what_cannot_run():
    assert isinstance(get_runner(load_target("host")), HostRunner)
    assert isinstance(get_runner(load_target("stm32f4")), QemuRunner)
    assert isinstance(get_runner(load_target("stm32f4"), probe="qemu:netduinoplus2"), PyocdRunner)
    # A board-runner choice (RUNNER=, --runner) applies to boards; host programs always run natively.
    assert default_runner_name(load_target("host"), board_runner="pyocd") == "host"
    assert default_runner_name(load_target("stm32f4"), board_runner="pyocd") == "pyocd"
    assert default_runner_name(load_target("stm32f4"), "qemu:netduinoplus2") == "pyocd"
    with pytest.raises(RunnerUnavailable, match="nrf52840 has no QEMU machine"):
        get_runner(load_target("nrf52840"))
    with pytest.raises(RunnerUnavailable, match="host programs run natively"):
        get_runner(load_target("host"), "qemu")
    with pytest.raises(Exception, match="unknown runner 'jlink' \\(runners: host, pyocd, qemu\\)"):
        get_runner(load_target("stm32f4"), "jlink")


def _host_program(tmp_path: Path, body: str) -> Path:
    src = tmp_path / "prog.c"
    src.write_text("#include <stdio.h>\n#include <string.h>\n" + body)
    exe = tmp_path / "prog"
    subprocess.run(["cc", str(src), "-o", str(exe)], check=True)
    return exe


def test_run_template_executes_and_keeps_the_full_log(tmp_path: Path):
    exe = _host_program(tmp_path, 'int main(int c, char **v) { printf("hello %s\\n", v[1]); return 3; }\n')
    device = HostRunner(load_target("host"), timeout=10.0, log_dir=tmp_path / "logs")
    result = device.run(exe, args=["there"])
    assert (result.returncode, result.stdout, result.timed_out) == (3, "hello there\n", False)
    assert result.log == tmp_path / "logs" / "prog.host.log"
    log = result.log.read_text()
    assert "exit status 3" in log and "--- stdout ---\nhello there\n" in log
    assert str(result.log) in result.summary()


def test_the_budget_is_cpu_time_not_wall_time(tmp_path: Path):
    """A spinning program is stopped after its CPU budget; a sleeping one is not charged for sleeping."""
    spin = _host_program(tmp_path, "int main(void) { for (volatile unsigned long i = 0;; i++); }\n")
    result = HostRunner(load_target("host"), timeout=1.0).run(spin)
    assert result.timed_out and result.returncode is None
    sleepy = tmp_path / "sleepy"
    sleepy.mkdir()
    nap = _host_program(sleepy, "#include <unistd.h>\nint main(void) { sleep(2); puts(\"awake\"); return 0; }\n")
    result = HostRunner(load_target("host"), timeout=1.0).run(nap)
    assert (result.timed_out, result.returncode, result.stdout) == (False, 0, "awake\n")


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
    script = ("import sys, time\nfrom waftkit.runners.pyocd_runner import probe_lock\n"
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
