"""Shared settings for the spec-suite tests: the `qemu` marker and the `spec_run` fixture."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "qemu: runs test images on emulated Cortex-M boards under QEMU "
        "(select with -m qemu, leave out with -m 'not qemu')")


def _run_file(path: Path, target: str) -> None:
    """Run one script exactly as `waft spectest PATH --target T`; fail with its report."""
    from waftkit.testing.spectest import run_spectest

    out = io.StringIO()
    status = run_spectest([path], target, jobs=1, opt="2", verbose=False, out=out)
    text = out.getvalue()
    lines = text.strip().splitlines()
    assert any(re.fullmatch(r"\d+ passed, \d+ failed(, \d+ skipped)?", ln) for ln in lines), text
    if status != 0:
        pytest.fail(f"{path.name} on {target}:\n{text}", pytrace=False)


@pytest.fixture
def spec_run() -> Callable[[Path, str], None]:
    return _run_file
