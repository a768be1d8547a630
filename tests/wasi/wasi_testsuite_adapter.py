#!/usr/bin/env python3
"""Runtime adapter that lets the official WASI test suite run its tests through `waft run`.

The suite's runner (WebAssembly/wasi-testsuite, test-runner/wasi_test_runner.py)
drives every runtime through a small adapter script with one command line:

    adapter.py --version
    adapter.py --test-file T.wasm [--arg A]... [--env K=V]... [--dir D]...

where each --dir is a folder the test expects preopened under the same name.
This adapter turns that into `waft run` (`python -m aot run`), on the target
named by $WAFT_TARGET (default host; `stm32f4` runs every test under QEMU,
with the folders copied into the board's RAM filesystem at build time):

    python3 test-runner/wasi_test_runner.py -r /path/to/waft/tests/wasi/wasi_testsuite_adapter.py \\
        -t tests/c/testsuite/
    WAFT_TARGET=stm32f4 python3 test-runner/wasi_test_runner.py -r .../wasi_testsuite_adapter.py -t ...

Run it with the Python of Waft's venv (or set $WAFT_PYTHON to it).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", action="store_true")
    parser.add_argument("--test-file")
    parser.add_argument("--arg", action="append", default=[])
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--dir", action="append", default=[])
    args = parser.parse_args()
    python = os.environ.get("WAFT_PYTHON", sys.executable)
    waft = [python, "-m", "aot"]
    if args.version:
        # The runner wants "NAME VERSION" (it reads WASI p1 support from the name).
        version = subprocess.run([*waft, "--version"], capture_output=True, text=True, cwd=REPO)
        print("waft " + version.stdout.strip().rsplit(" ", 1)[-1])
        return version.returncode
    if not args.test_file:
        parser.error("--test-file is required")
    command = [*waft, "run", str(Path(args.test_file).resolve()),
               "--target", os.environ.get("WAFT_TARGET", "host")]
    for folder in args.dir:
        command += ["--dir", f"{Path(folder).resolve()}::{folder}"]
    for item in args.env:
        command += ["--env", item]
    command += ["--", *args.arg]
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
