"""The official wasi-testsuite's adapter contract, exercised the way its runner calls it.

The suite itself is not reachable from this machine (it lives in a git
repository); these tests drive tests/wasi/wasi_testsuite_adapter.py exactly
as the suite's runner does — `--version`, then `--test-file` with `--arg`,
`--env` and `--dir` relative to the test's folder — on our own cases, which
are written in the suite's JSON format (args, env, dirs, exit_code, stdout).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wasi_harness import PROGRAMS, build_wasm, load_case, require_tools

ADAPTER = Path(__file__).resolve().parent / "wasi_testsuite_adapter.py"


def adapter(*args: str, cwd: Path | None = None, target: str = "host") -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "WAFT_TARGET": target}
    return subprocess.run([sys.executable, str(ADAPTER), *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


def test_version_names_the_runtime():
    result = adapter("--version")
    assert result.returncode == 0
    name, version = result.stdout.split()
    assert name == "waft" and version[0].isdigit()


@pytest.mark.parametrize("name", ["args_env", "exit_code", "files"])
def test_runner_style_case(name: str, tmp_path: Path):
    require_tools()
    case = load_case(name)
    wasm = build_wasm(PROGRAMS / f"{name}.c")
    # The runner runs each test from the test's folder, with its dirs beside the .wasm.
    shutil.copy(wasm, tmp_path / f"{name}.wasm")
    for folder in case.dirs:
        (tmp_path / folder).mkdir()
    args = [f"--test-file={tmp_path / f'{name}.wasm'}"]
    args += [f"--arg={a}" for a in case.args]
    args += [f"--env={k}={v}" for k, v in case.env.items()]
    args += [f"--dir={d}" for d in case.dirs]
    result = adapter(*args, cwd=tmp_path)
    assert result.returncode == case.exit_code, result.stderr
    if case.stdout is not None:
        assert result.stdout == case.stdout
