"""Compile WAT with Waft for the host, link it with a C driver and the real runtime, run it.

The lowering tests (test_lower_*.py, test_compiler.py) write a module in WAT
and a few lines of C that call its exports; `run_c` compiles the WAT
(wat2wasm), compiles the module with `aot.compiler.compile_module`, builds
runtime_c for the host (`waftkit.firmware.runtime`), links everything with the host
cc and returns the program's output.  The C prelude gives the driver `TRY(stmt)`,
which runs `stmt` behind a trap frame and prints `ok` or `trap <code>`.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from aot.compiler import CompileResult, compile_module
from aot.targets import Target, load_target
from waftkit.firmware.runtime import INCLUDE_DIR, runtime_library

PRELUDE = r"""
#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "waft.h"
#define TRY(stmt) do { \
    waft_trap_frame try_frame_; \
    waft_trap_push(&try_frame_); \
    if (setjmp(try_frame_.jmp) == 0) { stmt; waft_trap_pop(&try_frame_); printf("ok\n"); } \
    else { printf("trap %d\n", (int)try_frame_.code); } \
} while (0)
"""


def require_tools() -> None:
    for tool in ("wat2wasm", "cc"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


def wat_to_wasm(wat: str, folder: Path, name: str = "module", features: tuple[str, ...] = ()) -> bytes:
    """Assemble WAT text with wabt's wat2wasm (tail calls and extended-const enabled on request)."""
    require_tools()
    src = folder / f"{name}.wat"
    out = folder / f"{name}.wasm"
    src.write_text(wat)
    flags = [f"--enable-{f}" for f in features]
    _run(["wat2wasm", *flags, str(src), "-o", str(out)])
    return out.read_bytes()


def _run(command: list[str]) -> None:
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"{command[0]} failed:\n{proc.stdout}{proc.stderr}")


@cache
def host_runtime(build_dir: str) -> Path:
    return runtime_library(load_target("host"), Path(build_dir))


def _runtime_build_dir() -> str:
    # One runtime for every test, in the suite's cache (tests/conftest.py), outside each test's tmp_path.
    from waftkit.cache import cache_dir

    return str(cache_dir())


@dataclass
class Program:
    stdout: str
    returncode: int
    results: list[CompileResult]


def run_c(
    folder: Path,
    modules: dict[str, str],
    main: str,
    *,
    opt: str = "2",
    features: tuple[str, ...] = (),
    extra_c: str = "",
    cflags: tuple[str, ...] = ("-O1",),
    prebuilt: dict[str, CompileResult] | None = None,
    target: Target | None = None,
    **compile_options,
) -> Program:
    """Build `modules` (prefix -> WAT), a C file with `extra_c` and `int main(void) { main }`, and run it.

    `prebuilt` adds modules the test compiled itself (prefix -> CompileResult).
    `target` is a variant of the host target (e.g. one that claims no FPU) to
    compile for; the code must still run here.
    """
    require_tools()
    target = target or load_target("host")
    objects: list[str] = []
    results = []
    includes = []
    for prefix, wat in modules.items():
        data = wat_to_wasm(wat, folder, prefix, features)
        result = compile_module(data, target, prefix=prefix, opt=opt, **compile_options)
        (folder / f"{prefix}.o").write_bytes(result.object)
        (folder / f"{prefix}.h").write_text(result.header)
        objects.append(str(folder / f"{prefix}.o"))
        includes.append(f'#include "{prefix}.h"')
        results.append(result)
    for prefix, result in (prebuilt or {}).items():
        (folder / f"{prefix}.o").write_bytes(result.object)
        (folder / f"{prefix}.h").write_text(result.header)
        objects.append(str(folder / f"{prefix}.o"))
        includes.append(f'#include "{prefix}.h"')
        results.append(result)
    source = PRELUDE + "\n".join(includes) + "\n" + extra_c + "\nint main(void) {\n" + main + "\nreturn 0;\n}\n"
    (folder / "main.c").write_text(source)
    exe = folder / "main"
    lib = host_runtime(_runtime_build_dir())
    _run(["cc", *cflags, "-std=gnu11", f"-I{INCLUDE_DIR}", f"-I{folder}", str(folder / "main.c"), *objects,
          str(lib), "-lm", "-o", str(exe)])  # -lm: float rounding ops may call ceil, rint...
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    return Program(run.stdout, run.returncode, results)


def run_wat(folder: Path, wat: str, main: str, **kwargs) -> list[str]:
    """One module under prefix `m`, instantiated with no imports as `inst` (a pointer); stdout lines.

    Instances are calloc'ed: a memory without a declared max is laid out at the
    host's default cap, which can be too big for static storage.
    """
    prelude = (
        "m__instance *inst = calloc(1, sizeof(m__instance));\n"
        "m__imports imports; memset(&imports, 0, sizeof imports);\n"
        "if (m__instantiate(inst, &imports) != WAFT_TRAP_NONE) { printf(\"instantiate failed\\n\"); return 1; }\n"
    )
    program = run_c(folder, {"m": wat}, prelude + main, **kwargs)
    assert program.returncode == 0, program.stdout
    return program.stdout.splitlines()
