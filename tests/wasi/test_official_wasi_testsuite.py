"""The official WASI test suite, run by its own runner against `waft run`, from outside the project.

The suite (github.com/WebAssembly/wasi-testsuite: prebuilt tests under
tests/<language>/testsuite/, its runner in test-runner/) is not part of this
repository and cannot be fetched here: it is published only as a git
repository.  Put a checkout at ../shared/wasi-testsuite (beside this
repository, like the spec suite) or point $WASI_TESTSUITE at one, and these
tests run its runner with tests/wasi/wasi_testsuite_adapter.py on the host
and, under QEMU, on mps2-an386 (a Cortex-M4 with room for wasi-libc's default
2-page modules) and stm32f4 (128 KiB of RAM: most default modules are refused
there with the RAM they need, so it is opt-in, -m qemu with
$WASI_TESTSUITE_STM32F4=1).  Every test the runner runs must pass; without
the suite each test is skipped, saying where it looked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ADAPTER = HERE / "wasi_testsuite_adapter.py"
DEFAULT_LOCATION = REPO.parent / "shared" / "wasi-testsuite"


def suite_root() -> Path:
    root = Path(os.environ.get("WASI_TESTSUITE", DEFAULT_LOCATION))
    if not (root / "test-runner").is_dir():
        pytest.skip(f"the official wasi-testsuite is not at {root} (a checkout of "
                    "github.com/WebAssembly/wasi-testsuite; or set $WASI_TESTSUITE)")
    return root


def p1_test_folders(root: Path) -> list[Path]:
    """Folders of WASI p1 tests: tests/*/testsuite/wasm32-wasip1 (current layout) or tests/*/testsuite (older)."""
    folders = sorted(root.glob("tests/*/testsuite/wasm32-wasip1"))
    if not folders:
        folders = [f for f in sorted(root.glob("tests/*/testsuite")) if any(f.glob("*.wasm"))]
    if not folders:
        pytest.fail(f"{root} has no prebuilt WASI p1 tests (tests/*/testsuite/): check out its "
                    "prod/testsuite-base branch, which carries the built .wasm files")
    return folders


@pytest.mark.parametrize("target_name", [
    "host",
    pytest.param("mps2-an386", marks=pytest.mark.qemu),
    pytest.param("stm32f4", marks=pytest.mark.qemu),
])
def test_official_suite_passes(target_name: str, tmp_path: Path) -> None:
    root = suite_root()
    if target_name == "stm32f4" and not os.environ.get("WASI_TESTSUITE_STM32F4"):
        pytest.skip("stm32f4 refuses wasi-libc's default 2-page modules (128 KiB of RAM): "
                    "set WASI_TESTSUITE_STM32F4=1 to run the suite there anyway")
    report = tmp_path / "results.json"
    command = [sys.executable, str(root / "test-runner" / "wasi_test_runner.py"),
               "-t", *map(str, p1_test_folders(root)), "-r", str(ADAPTER),
               "--json-output-location", str(report), "--disable-colors"]
    env = {**os.environ, "WAFT_TARGET": target_name, "WAFT_PYTHON": sys.executable,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(command, capture_output=True, text=True, cwd=root, env=env, timeout=3600)
    summary = report.read_text() if report.is_file() else "(no JSON report)"
    assert result.returncode == 0, (f"the official wasi-testsuite failed on {target_name}:\n"
                                    f"{result.stdout[-8000:]}\n{result.stderr[-4000:]}\n{summary[:4000]}")
    assert report.is_file() and json.loads(report.read_text()), "the runner wrote no results"
