"""What the drop-in tests of tests/lts share: the `waft` CLI from this checkout, tools, an archive's symbols."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def waft(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run `waft ARGS...` (this checkout's) and return the finished process; AssertionError when it fails."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "waftkit.cli", *args], capture_output=True, text=True, env=env,
                          check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"waft {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def tool(name: str) -> str:
    """The path of an installed tool; skips the calling test when it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def defined(library: Path) -> set[str]:
    """The symbols an ARM archive or ELF defines (arm-none-eabi-nm --defined-only)."""
    text = subprocess.run([tool("arm-none-eabi-nm"), "--defined-only", str(library)], capture_output=True,
                          text=True, check=True).stdout
    return {line.split()[-1] for line in text.splitlines() if len(line.split()) == 3}


def cmake_build(dropin: Path, build: Path) -> str:
    """examples/bsp_cmake configured for `dropin` (its toolchain file) and built in a fresh `build`; the build's
    output (the firmware is build/firmware.elf); AssertionError naming the step that failed."""
    cmake = tool("cmake")
    shutil.rmtree(build, ignore_errors=True)
    source = REPO / "examples" / "bsp_cmake"
    configure = subprocess.run([cmake, "-S", str(source), "-B", str(build), "--toolchain",
                                str(source / "arm-none-eabi.cmake"), f"-DWAFT_BSP={dropin}"],
                               capture_output=True, text=True, check=False)
    assert configure.returncode == 0, "cmake configure failed:\n" + configure.stdout + configure.stderr
    proc = subprocess.run([cmake, "--build", str(build)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, "cmake --build failed:\n" + proc.stdout + proc.stderr
    return proc.stdout
