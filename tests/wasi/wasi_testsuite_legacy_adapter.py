#!/usr/bin/env python3
"""Command-line runtime adapter for older checkouts of the WASI test suite's runner.

Runners from before the module contract start the adapter once per test:

    adapter.py --version                      -> prints "waft VERSION"
    adapter.py --test-file T.wasm [--arg A]... [--env K=V]... [--dir D]...

where each --dir is either D, a folder of the current one (the oldest
runners start the adapter in the test's folder) preopened under its own name,
or HOST::GUEST (later ones, started from the runner's folder).  The command line comes from
wasi_testsuite_adapter.compute_argv (the module adapter beside this file), so
the two adapters never disagree; this script only runs it, passing stdin,
stdout, stderr and the exit status through.  From such a checkout of the suite:

    python3 test-runner/wasi_test_runner.py -t tests/c/testsuite/ \\
        -r /path/to/waft/tests/wasi/wasi_testsuite_legacy_adapter.py

$WAFT_TARGET, $WAFT_PYTHON and $WAFT_RUN_OPTIONS work as for the module adapter.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

MODULE_ADAPTER = Path(__file__).resolve().parent / "wasi_testsuite_adapter.py"


def load_module_adapter() -> ModuleType:
    """The module adapter, loaded from its file the way the current runner loads it."""
    spec = importlib.util.spec_from_file_location(MODULE_ADAPTER.stem, MODULE_ADAPTER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="store_true", help="print the runtime's name and version")
    parser.add_argument("--test-file", help="the test's .wasm module")
    parser.add_argument("--arg", action="append", default=[], help="an argument for the test (repeatable)")
    parser.add_argument("--env", action="append", default=[], help="K=V for the test's environment (repeatable)")
    parser.add_argument("--dir", action="append", default=[],
                        help="HOST::GUEST, or a folder of the current one preopened under its own name "
                             "(repeatable)")
    options = parser.parse_args(argv)
    adapter = load_module_adapter()
    if options.version:
        print(f"{adapter.get_name()} {adapter.get_version()}")
        return 0
    if not options.test_file:
        parser.error("--test-file is required")
    env = {}
    for item in options.env:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--env wants K=V, got '{item}'")
        env[key] = value
    dirs = []
    for spec in options.dir:
        host, sep, guest = spec.partition("::")
        dirs.append((Path(host), guest if sep else spec))
    command = adapter.compute_argv(options.test_file, (options.arg, env, dirs), [], adapter.WASI_VERSIONS[0])
    return subprocess.run(command).returncode


if __name__ == "__main__":
    sys.exit(main())
