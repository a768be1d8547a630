"""Runtime adapter through which the official WASI test suite's runner runs its tests with `waft run`.

The runner (github.com/WebAssembly/wasi-testsuite, test-runner/) imports this
file as a Python module and asks it, for each test, for the command line to
start: `compute_argv(...)` returns `waft run TEST.wasm --target T --dir
HOST::GUEST... --env K=V... -- ARGS...`, which the runner then starts itself,
feeding stdin and checking stdout, stderr and the exit code.  From a checkout
of the suite:

    python3 test-runner/wasi_test_runner.py -t tests/c/testsuite/wasm32-wasip1 \\
        -r /path/to/waft/tests/wasi/wasi_testsuite_adapter.py
    WAFT_TARGET=stm32f4 python3 test-runner/wasi_test_runner.py -t tests/c/testsuite/wasm32-wasip1 \\
        -r /path/to/waft/tests/wasi/wasi_testsuite_adapter.py

(older checkouts name the test folder without `wasm32-wasip1`, and older
runners want wasi_testsuite_legacy_adapter.py, beside this file, instead).

$WAFT_TARGET names the target (default `host`).  A board runs every test
under QEMU, its args and environment baked into the firmware and its folders
copied into the board's RAM filesystem at build time; stdin is not connected
there, and a module has to fit the board's RAM (see docs/wasi.md).
$WAFT_RUN_OPTIONS adds options to every `waft run` (e.g. `--max-pages 1`,
`--runner pyocd`).

Waft is started with, in order: $WAFT_PYTHON (a Python that has Waft's
dependencies) running this checkout's CLI, if that variable is set; the
`waft` console script beside the Python running the runner; this checkout's
.venv/bin/waft; else the runner's own Python running this checkout's CLI.  Only the standard library is imported here,
so any Python 3.11 can run the runner.

Executed as a script this file prints nothing and exits 0: that is how the
runner tells a module adapter from a legacy (command-line) one.

The runner's call of `compute_argv` changed over time; every form is accepted:

    1. compute_argv(test_path=, args=, env=, dirs=, wasi_version=)            (keywords)
    2. compute_argv(test_path, (args, env, dirs), proposals, wasi_version)
    3. compute_argv(test_path, (args, env, dirs), proposals, wasi_world, wasi_version)
    4. compute_argv(test_path, (args, env, root), proposals, wasi_world, wasi_version)

where dirs is a list of (host path, guest name) and root, in the newest form,
is one folder (or None) preopened as the guest's "/".
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

REPO = Path(__file__).resolve().parents[2]
WASI_VERSIONS = ["wasm32-wasip1"]
WASI_WORLDS = ["wasi:cli/command"]
# Starts Waft's CLI from a source checkout: `python -c BOOT REPO ARGS...`.
# (The runner starts our argv with its own environment, so PYTHONPATH cannot be set.)
_BOOT = "import sys; sys.path.insert(0, sys.argv.pop(1)); sys.argv[0] = 'waft'; from waftkit.cli import main; main()"

Dir = tuple[Path | str, str]


def waft_command() -> list[str]:
    """The command line that starts Waft's CLI (see the module docstring for the order tried)."""
    python = os.environ.get("WAFT_PYTHON")
    if python:
        return [python, "-c", _BOOT, str(REPO)]
    for script in (Path(sys.executable).parent / "waft", REPO / ".venv" / "bin" / "waft"):
        if script.is_file() and os.access(script, os.X_OK):
            return [str(script)]
    return [sys.executable, "-c", _BOOT, str(REPO)]


def target_name() -> str:
    return os.environ.get("WAFT_TARGET", "host")


def get_name() -> str:
    return "waft"


def get_version() -> str:
    """Waft's version as the CLI reports it ("waft, version 0.1.0" -> "0.1.0").

    A CalledProcessError or FileNotFoundError here tells the runner the
    runtime is unavailable.
    """
    result = subprocess.run([*waft_command(), "--version"], capture_output=True, text=True, check=True)
    return result.stdout.split()[-1]


def get_wasi_versions() -> list[str]:
    return list(WASI_VERSIONS)


def get_wasi_worlds() -> list[str]:
    return list(WASI_WORLDS)


def get_timeout_seconds() -> float:
    """How long one test may take: the first run of a module compiles it, and boards boot QEMU."""
    default = 60.0 if target_name() == "host" else 180.0
    return float(os.environ.get("WAFT_TESTSUITE_TIMEOUT", default))


def _preopens(third: Any) -> list[Dir]:
    """The bundle's third item as (host, guest) pairs: a list of them, or the newest form's one root."""
    if third is None:
        return []
    if isinstance(third, (str, os.PathLike)):
        return [(third, "/")]
    if isinstance(third, (list, tuple)):
        return [(host, guest) for host, guest in third]
    raise TypeError(f"compute_argv: expected a list of (host, guest) dirs or a root folder, got {third!r}")


def _unpack(positional: Sequence[Any], named: Mapping[str, Any]) -> tuple[list[str], Mapping[str, str], list[Dir],
                                                                          str | None, str]:
    """(args, env, preopens, wasi_world, wasi_version) from any of the runner's four call forms."""
    if positional and named:
        raise TypeError("compute_argv: pass the runner's arguments all by position or all by name")
    if named:
        if "args" in named:  # form 1, which the runner passed by name
            return list(named["args"]), named["env"], _preopens(named["dirs"]), None, named["wasi_version"]
        bundle = named.get("args_env_dirs", named.get("args_env_root"))
        positional = [bundle, named.get("proposals", []), named.get("wasi_world"), named["wasi_version"]]
    if len(positional) == 4 and isinstance(positional[1], Mapping):  # form 1 by position: env second
        args, env, dirs, wasi_version = positional
        return list(args), env, _preopens(dirs), None, wasi_version
    if len(positional) == 3:  # form 2: no world yet
        (args, env, third), _proposals, wasi_version = positional
        return list(args), env, _preopens(third), None, wasi_version
    if len(positional) == 4:  # forms 3 and 4, told apart by the bundle's third item
        (args, env, third), _proposals, wasi_world, wasi_version = positional
        return list(args), env, _preopens(third), wasi_world, wasi_version
    raise TypeError(f"compute_argv: unknown call form with {len(positional) + 1} arguments")


def compute_argv(test_path: str, *positional: Any, **named: Any) -> list[str]:
    """The `waft run` command line for one test; paths are made absolute against the current folder.

    Proposals are ignored: Waft implements WASI preview 1, which has none.
    """
    args, env, preopens, wasi_world, wasi_version = _unpack(positional, named)
    if wasi_version not in WASI_VERSIONS:
        raise ValueError(f"waft runs {', '.join(WASI_VERSIONS)} modules, not {wasi_version}")
    if wasi_world is not None and wasi_world not in WASI_WORLDS:
        raise ValueError(f"waft runs {', '.join(WASI_WORLDS)}, not {wasi_world}")
    argv = [*waft_command(), "run", str(Path(test_path).resolve()), "--target", target_name()]
    for host, guest in preopens:
        argv += ["--dir", f"{Path(host).resolve()}::{guest}"]
    for key, value in env.items():
        argv += ["--env", f"{key}={value}"]
    argv += shlex.split(os.environ.get("WAFT_RUN_OPTIONS", ""))
    return [*argv, "--", *args]
