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

Fixtures: `waft_target` (aot.targets.Target), `waft_device` (a runner from
waftkit.runners.base: `waft_device.run(program)` returns a RunResult whose
`log` names the full log), `waft_probe` (the probe uid this worker uses, or
None).  The runners are the same ones `waft run`, SCons and spectest use; a
runner that cannot serve the target here skips the tests that need it.
"""

from __future__ import annotations

import os

import pytest

from aot.targets import Target, load_target
from waftkit.runners.base import (
    DEFAULT_TIMEOUT,
    Runner,
    default_runner_name,
    runner_class,
    runner_names,
)

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
    group.addoption("--waft-runner", default=None, choices=runner_names(),
                    help="runner (default: host for host, qemu for boards, pyocd with --waft-probe)")
    group.addoption("--waft-probe", default=None,
                    help="pyOCD probe uid(s), comma-separated, or 'all' (shards across xdist workers)")
    group.addoption("--waft-timeout", type=float, default=DEFAULT_TIMEOUT,
                    help="seconds per image (CPU time on host and QEMU, wall-clock on a board)")


@pytest.fixture(scope="session")
def waft_target(pytestconfig: pytest.Config) -> Target:
    return load_target(pytestconfig.getoption("waft_target"))


@pytest.fixture(scope="session")
def waft_probe(pytestconfig: pytest.Config, waft_target: Target) -> str | None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return probe_for_worker(pytestconfig.getoption("waft_probe"), waft_target, worker)


@pytest.fixture(scope="session")
def waft_device(pytestconfig: pytest.Config, waft_target: Target, waft_probe: str | None,
                tmp_path_factory: pytest.TempPathFactory) -> Runner:
    name = pytestconfig.getoption("waft_runner") or default_runner_name(waft_target, waft_probe)
    reason = runner_class(name).unavailable(waft_target, waft_probe)
    if reason:
        pytest.skip(reason)
    return runner_class(name)(waft_target, probe=waft_probe, timeout=pytestconfig.getoption("waft_timeout"),
                              log_dir=tmp_path_factory.mktemp("waft-logs"))
