"""The repository's own examples, built and tested by `scons TARGET=... test` as the README says.

The build runs in a temporary folder that links back to the repository's
SConstruct, site_scons/ and examples/, so it never shares build/ with another
test running at the same time.

An example a target cannot build says so in one line ending "not built" and
is left out, never failing the build: examples/rt_threads needs threads
(riscv32-virt has none) and the wasm32-wasi-threads sysroot, and
examples/irq_control needs wasi-ext:signals (riscv32-virt has none either).
Their summaries are checked here from the same run: on stm32f4 under -icount
every release (every tick) taken, rt_threads' jitter within 1 % of the
period; on the host, whose scheduling is the OS's, the loops and their
accounting, not the timing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aot.targets import load_target
from waftkit.testing.wasi_threads import sysroot_missing

REPO = Path(__file__).resolve().parents[2]
SCONS = Path(sys.executable).with_name("scons")
EXAMPLES = sorted(p.parent.name for p in (REPO / "examples").glob("*/SConscript"))


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for name in ("SConstruct", "site_scons", "examples"):
        (tmp_path / name).symlink_to(REPO / name)
    return tmp_path


def scons_test(checkout: Path, target: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCONS), "-Q", "-j2", f"TARGET={target}", "test"], cwd=checkout,
                          capture_output=True, text=True, timeout=1200,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def passed(output: str) -> set[str]:
    return {Path(m).stem for m in re.findall(r"^PASS (\S+)$", output, re.MULTILINE)}


def not_built(output: str) -> set[str]:
    return set(re.findall(r"^waft: (\w+) .*not built", output, re.MULTILINE))


def check_rt_threads(output: str, board: bool) -> None:
    """The rt_threads summary: 1000 grid points accounted for, and on a board none missed, jitter <= 1 %."""
    if sysroot_missing():
        assert "rt_threads" in not_built(output), output
        return
    control = re.search(r"^control: 1000 periods of 1000 us at priority 10: (\d+) releases, (\d+) missed$",
                        output, re.MULTILINE)
    latency = re.search(r"^latency: min ([\d.]+) us, max ([\d.]+) us, .*\(([\d.]+)% of the period\)$",
                        output, re.MULTILINE)
    assert control and latency, output
    taken, missed = map(int, control.groups())
    assert taken + missed == 1000, output
    assert re.search(r"^logger: \d+ blocks .* at least [1-9]\d* per 100 ms$", output, re.MULTILINE), output
    if board:
        assert missed == 0 and float(latency.group(3)) <= 1.0, output
        assert float(latency.group(2)) < 10.0, output  # a few hundred instructions from the tick


def check_irq_control(output: str, board: bool) -> None:
    """The irq_control summary: 1000 ticks accounted for, the plant settled; on a board every tick taken by the
    immediate handler (the timer's vector), on the host (a loaded general-purpose OS) at most half missed by the
    deferred one."""
    delivery = "immediate" if board else "deferred"
    ticks = re.search(rf"^ticks: (\d+) handled, (\d+) missed, of 1000 \({delivery} delivery\)$", output, re.MULTILINE)
    plant = re.search(r"^plant: ([\d.]+) \(setpoint 60.00\), within 0.5 from (\d+) ms$", output, re.MULTILINE)
    assert ticks and plant, output
    handled, missed = map(int, ticks.groups())
    assert handled + missed == 1000 and missed <= (0 if board else 500), output
    assert abs(float(plant.group(1)) - 60.0) < 0.5 and int(plant.group(2)) < 1000, output
    assert re.search(r"^ok: missed \d+ \(<= \d+\), settled$", output, re.MULTILINE), output
    # the main loop logged every 100 ms while the handler ran
    assert len(re.findall(r"^t= *\d+ ms  temperature .* handled +\d+  missed \d+$", output, re.MULTILINE)) >= 5, output


def target_cc(target: str) -> str:
    return load_target(target).cc


def test_every_example_passes_on_host(checkout: Path):
    result = scons_test(checkout, "host")
    assert result.returncode == 0, result.stdout + result.stderr
    built = set(EXAMPLES) - not_built(result.stdout)
    assert passed(result.stdout) == built and len(built) >= 4, result.stdout
    check_rt_threads(result.stdout, board=False)
    check_irq_control(result.stdout, board=False)


@pytest.mark.qemu
@pytest.mark.parametrize("target", ["stm32f4", "riscv32-virt"])
def test_every_example_passes_on_a_board_under_qemu(checkout: Path, target: str):
    """Cortex-M and RISC-V: the core-Wasm examples and the WASI ones (hello, data_logger) all build and pass;
    rt_threads on stm32f4, and on riscv32-virt, which has no threads, one line instead."""
    result = scons_test(checkout, target)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no WASI port" not in result.stdout
    built = set(EXAMPLES) - not_built(result.stdout)
    assert passed(result.stdout) == built and len(built) >= 4, result.stdout
    assert (checkout / f"build/{target}/hello/hello.bin").is_file()
    if target == "riscv32-virt":
        assert "waft: rt_threads needs threads and riscv32-virt has none" in result.stdout, result.stdout
        assert "waft: irq_control needs wasi-ext:signals and riscv32-virt has none" in result.stdout, result.stdout
    else:
        check_rt_threads(result.stdout, board=True)
        check_irq_control(result.stdout, board=True)
        # newlib's float printf only where C of the firmware's own prints floats (control_loop's %f),
        # never in WASI firmware, whose printf is inside the module
        nm = f"{target_cc(target)[:-len('gcc')]}nm"
        symbols = {name: subprocess.run([nm, str(checkout / f"build/{target}/{name}/{name}.elf")],
                                        capture_output=True, text=True, check=True).stdout
                   for name in ("hello", "control_loop")}
        assert "_printf_float" not in symbols["hello"] and "_printf_float" in symbols["control_loop"]
