"""The repository's own examples, built and tested by `scons TARGET=... test` as the README says.

The build runs in a temporary folder that links back to the repository's
SConstruct, site_scons/ and examples/, so it never shares build/ with another
test running at the same time.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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
    return {Path(m).stem for m in re.findall(r"^PASS (\S+)$", output, re.M)}


def test_every_example_passes_on_host(checkout: Path):
    result = scons_test(checkout, "host")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(passed(result.stdout)) == len(EXAMPLES) >= 4, result.stdout


@pytest.mark.qemu
@pytest.mark.parametrize("target", ["stm32f4", "riscv32-virt"])
def test_every_example_passes_on_a_board_under_qemu(checkout: Path, target: str):
    """Cortex-M and RISC-V: the core-Wasm examples and the WASI ones (hello, data_logger) all build and pass."""
    result = scons_test(checkout, target)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no WASI port" not in result.stdout
    assert len(passed(result.stdout)) == len(EXAMPLES) >= 4, result.stdout
    assert (checkout / f"build/{target}/hello/hello.bin").is_file()
