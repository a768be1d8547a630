"""Build a C program into a WASI module, compile it with Waft for the host, link, run.

`build(name)` turns tests/wasi/programs/NAME.c into NAME.wasm with clang and
wasi-libc (`clang --target=wasm32-wasi --sysroot=/usr -O2`) and builds it
into a host program with `waftkit.run.build_host_program`, exactly as `waft run`
does (runtime_c/wasi_p1/main/host_main.c, `libwaft.a` with the WASI runtime),
cached in the tests' own folder.  `run(exe, ...)` runs the result the way
`waft run` will: `--dir HOST::GUEST`, `--env K=V`, `--listen ADDR`, then the
guest's argv.

Each program also has a NAME.json in the format of the official
wasi-testsuite (args, env, dirs, exit_code, stdout), which `load_case` reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from aot.targets import load_target
from waftkit import wasi
from waftkit.cache import cache_dir, inputs_digest
from waftkit.firmware.runtime import runtime_library
from waftkit.run import RunOptions, build_host_program

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
# wasi-libc's default module grows its heap past its 2 initial pages; 256 pages
# (16 MiB) is plenty for the tests and keeps the instance small.
MEMORY_CAP_PAGES = 256
CLANG_FLAGS = ("--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wall", "-Werror")


def _build_root() -> Path:
    # The cache `waft run` uses (tests/conftest.py puts it in build/cache), shared by the
    # tests of one session and across sessions: every product is named by the hash of
    # its inputs, so a stale one is never reused.
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    return root


def require_tools() -> None:
    for tool in ("clang", "cc"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    if not Path("/usr/lib/wasm32-wasi/libc.a").is_file():
        pytest.skip("wasi-libc is not installed (/usr/lib/wasm32-wasi)")


@cache
def runtime() -> Path:
    target = load_target("host")
    return runtime_library(target, _build_root(), extra_sources=wasi.runtime_sources(target))


def _run(command: list[str], what: str) -> None:
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"{what} failed: {' '.join(command)}\n{proc.stdout}{proc.stderr}")


# The same digest `waft run` keys its cache with (compiler and runtime sources).
_compiler_digest = inputs_digest


@cache
def build(name: str) -> Path:
    """The linked host executable for programs/NAME.c, built the way `waft run` builds it."""
    source = PROGRAMS / f"{name}.c"
    options = RunOptions(memory_cap_pages=MEMORY_CAP_PAGES)
    return build_host_program(build_wasm(source).read_bytes(), load_target("host"), options, f"{name}.wasm",
                              cache=_build_root() / "waft-run")


@cache
def build_wasm(source: Path, extra_flags: tuple[str, ...] = ()) -> Path:
    """A C file compiled to a WASI module with clang and wasi-libc (CLANG_FLAGS + extra_flags), cached by content.

    The content is the file, the headers beside it (which it may include) and the flags.
    """
    require_tools()
    flags = (*CLANG_FLAGS, *extra_flags)
    local_headers = b"".join(h.read_bytes() for h in sorted(source.parent.glob("*.h")))
    digest = hashlib.sha256(source.read_bytes() + local_headers + "\0".join(flags).encode()).hexdigest()[:16]
    wasm = _build_root() / "wasm" / f"{source.stem}-{digest}.wasm"
    if not wasm.is_file():
        wasm.parent.mkdir(parents=True, exist_ok=True)
        tmp = wasm.with_suffix(f".{os.getpid()}.tmp")
        _run(["clang", *flags, str(source), "-o", str(tmp)], f"clang {source.name}")
        os.replace(tmp, wasm)
    return wasm


@dataclass
class Case:
    """One test in the wasi-testsuite's JSON shape."""

    name: str
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    dirs: list[str] = field(default_factory=list)
    exit_code: int = 0
    stdout: str | None = None
    stderr: str | None = None
    stdin: str = ""


def load_case(name: str, folder: Path = PROGRAMS) -> Case:
    spec = json.loads((folder / f"{name}.json").read_text())
    return Case(name=name, **spec)


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run(exe: Path, case: Case, cwd: Path, extra: list[str] = (), timeout: float = 60) -> Result:
    """Run `exe` for `case` in `cwd`: each of case.dirs (relative to cwd) preopened under its own name."""
    command = [str(exe)]
    for d in case.dirs:
        command += ["--dir", f"{cwd / d}::{d}"]
    for key, value in case.env.items():
        command += ["--env", f"{key}={value}"]
    command += list(extra)
    command += ["--", f"{case.name}.wasm", *case.args]
    proc = subprocess.run(command, input=case.stdin, capture_output=True, text=True, cwd=cwd, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)
