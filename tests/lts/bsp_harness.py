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
