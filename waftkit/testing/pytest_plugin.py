"""pytest plugin: run test images on the chosen device (host, QEMU, or a board through pyOCD).

Options:
    --waft-target=NAME    target from targets/ (default: host)
    --waft-runner=NAME    device adapter: host, qemu or pyocd (default: host for the
                          host target, qemu for boards)
    --waft-probe=UID[,UID...]|all
                          pyOCD probe(s) for the pyocd runner; with several (or `all`
                          attached probes whose board matches the target) pytest-xdist
                          workers share them out, one probe per worker.
    --waft-timeout=SECONDS

Fixtures: `waft_target` (aot.targets.Target), `waft_device` (a DeviceAdapter),
`waft_probe` (the probe uid this worker uses, or None).

One adapter interface, as Zephyr twister's DeviceAdapter: `run(program)` is
the template method (check the device can run it, execute, keep the full log);
adapters fill in `_execute`.  Adapters are looked up by name in ADAPTERS, so a
new way to run images is one class and one `@register_adapter`.
"""

from __future__ import annotations

import os
import subprocess
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from aot.targets import Target, load_target

DEFAULT_TIMEOUT = 120.0


@dataclass
class DeviceResult:
    """What running one image on a device gave."""

    returncode: int | None      # None when it timed out or halted unexpectedly
    stdout: str
    stderr: str
    timed_out: bool = False
    fault: str | None = None    # the pyOCD runner's fault/trap report, when there was one
    log: Path | None = None     # everything, for the failure message

    def summary(self) -> str:
        status = "timed out" if self.timed_out else f"exit status {self.returncode}"
        extra = f"; {self.fault}" if self.fault else ""
        return f"{status}{extra} (full log: {self.log})"


class DeviceAdapter(ABC):
    """Runs test images on one kind of device; `run` is the template every adapter follows."""

    name: ClassVar[str]

    def __init__(self, target: Target, probe: str | None, timeout: float, log_dir: Path) -> None:
        self.target = target
        self.probe = probe
        self.timeout = timeout
        self.log_dir = log_dir

    @classmethod
    def unavailable(cls, target: Target, probe: str | None) -> str | None:
        """Why this adapter cannot run `target`'s images here (a skip reason), or None."""
        return None

    def run(self, program: Path) -> DeviceResult:
        """Run `program` to completion: check, execute, keep the log."""
        reason = self.unavailable(self.target, self.probe)
        if reason:
            pytest.skip(reason)
        start = time.monotonic()
        result = self._execute(Path(program))
        result.log = self._write_log(Path(program), result, time.monotonic() - start)
        return result

    @abstractmethod
    def _execute(self, program: Path) -> DeviceResult:
        """Run the image on the device and collect its output and status."""

    def _write_log(self, program: Path, result: DeviceResult, seconds: float) -> Path:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{program.stem}.{self.name}.log"
        log.write_text(
            f"program: {program}\nadapter: {self.name}\ntarget: {self.target.name}\n"
            f"probe: {self.probe}\nseconds: {seconds:.2f}\nresult: {result.summary()}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}\n")
        return log


ADAPTERS: dict[str, type[DeviceAdapter]] = {}


def register_adapter(cls: type[DeviceAdapter]) -> type[DeviceAdapter]:
    ADAPTERS[cls.name] = cls
    return cls


@register_adapter
class HostAdapter(DeviceAdapter):
    """Native executables for the host target."""

    name = "host"

    @classmethod
    def unavailable(cls, target: Target, probe: str | None) -> str | None:
        return None if target.is_host else f"the host runner runs host images, not {target.name}'s"

    def _execute(self, program: Path) -> DeviceResult:
        try:
            proc = subprocess.run([str(program)], capture_output=True, text=True,
                                  timeout=self.timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            return DeviceResult(None, _text(exc.stdout), _text(exc.stderr), timed_out=True)
        return DeviceResult(proc.returncode, proc.stdout, proc.stderr)


@register_adapter
class QemuAdapter(DeviceAdapter):
    """Board images under QEMU with QEMU's own semihosting (aot.qemu)."""

    name = "qemu"

    @classmethod
    def unavailable(cls, target: Target, probe: str | None) -> str | None:
        return None if target.qemu_machine else f"target {target.name} has no QEMU machine"

    def _execute(self, program: Path) -> DeviceResult:
        from aot.qemu import run_elf

        r = run_elf(self.target, program, timeout=self.timeout)
        return DeviceResult(r.returncode, r.stdout, r.stderr, timed_out=r.timed_out)


@register_adapter
class PyocdAdapter(DeviceAdapter):
    """Board images flashed and run through pyOCD: a real probe, or QEMU's through aot.pyocd_qemu."""

    name = "pyocd"

    @classmethod
    def unavailable(cls, target: Target, probe: str | None) -> str | None:
        from aot.pyocd_qemu.probe import MACHINE_TARGETS

        if target.is_host:
            return "the pyocd runner needs a board target"
        if probe is None and target.qemu_machine not in MACHINE_TARGETS:
            return f"no probe given (--waft-probe) and pyOCD cannot emulate {target.name}"
        return None

    def _execute(self, program: Path) -> DeviceResult:
        from aot.pyocd_runner import run_elf_pyocd

        r = run_elf_pyocd(self.target, program, self.probe, timeout=self.timeout)
        return DeviceResult(r.returncode, r.stdout, r.stderr, timed_out=r.timed_out,
                            fault=r.fault.describe() if r.fault else None)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")


# ---- probes -------------------------------------------------------------------------------


def matching_probes(target: Target) -> list[str]:
    """Unique ids of the attached probes whose board is `target`'s (or says nothing of it)."""
    from pyocd.core.helpers import ConnectHelper

    uids = []
    for probe in ConnectHelper.get_all_connected_probes(blocking=False, print_wait_message=False):
        info = probe.associated_board_info
        if info is None or not info.target or info.target == target.pyocd_target:
            uids.append(probe.unique_id)
    return uids


def probe_for_worker(spec: str | None, target: Target, worker: str) -> str | None:
    """This pytest-xdist worker's probe: images are sharded one probe per worker."""
    if not spec:
        return None
    uids = matching_probes(target) if spec == "all" else [u for u in spec.split(",") if u]
    if not uids:
        raise pytest.UsageError(f"--waft-probe={spec}: no attached probe for {target.name}")
    index = int(worker[2:]) if worker.startswith("gw") else 0
    return uids[index % len(uids)]


# ---- pytest hooks and fixtures ------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("waft", "Waft devices")
    group.addoption("--waft-target", default="host", help="target to build and run for (targets/)")
    group.addoption("--waft-runner", default=None, choices=sorted(ADAPTERS),
                    help="device adapter (default: host for host, qemu for boards)")
    group.addoption("--waft-probe", default=None,
                    help="pyOCD probe uid(s), comma-separated, or 'all' (shards across xdist workers)")
    group.addoption("--waft-timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per image")


@pytest.fixture(scope="session")
def waft_target(pytestconfig: pytest.Config) -> Target:
    return load_target(pytestconfig.getoption("waft_target"))


@pytest.fixture(scope="session")
def waft_probe(pytestconfig: pytest.Config, waft_target: Target) -> str | None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return probe_for_worker(pytestconfig.getoption("waft_probe"), waft_target, worker)


@pytest.fixture(scope="session")
def waft_device(pytestconfig: pytest.Config, waft_target: Target, waft_probe: str | None,
                tmp_path_factory: pytest.TempPathFactory) -> DeviceAdapter:
    runner = pytestconfig.getoption("waft_runner")
    if runner is None:
        runner = "pyocd" if waft_probe else ("host" if waft_target.is_host else "qemu")
    return ADAPTERS[runner](waft_target, waft_probe, pytestconfig.getoption("waft_timeout"),
                            tmp_path_factory.mktemp("waft-logs"))
