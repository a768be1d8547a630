"""SCons tool waft_wasm: build WebAssembly modules from C (clang + wasi-libc) and from WAT (wat2wasm).

Builders:
    env.WasmProgram('hello.wasm', ['hello.c', 'util.c'])   # clang --target=wasm32-wasi
    env.Wat('table.wasm', 'table.wat')                      # wat2wasm

Construction variables (set only where missing, so a project can override):
    WASM_CC          clang
    WASM_CFLAGS      --target=wasm32-wasi --sysroot=/usr -O2
    WASM_LINKFLAGS   small-memory defaults for microcontrollers (one 64 KiB page,
                     8 KiB shadow stack); a project raises them for bigger programs
    WAT2WASM         wat2wasm
    WAT2WASMFLAGS    (empty)

Threads (wasi-threads, pthreads, `wasi-ext:threads`): give WasmProgram
`WASM_THREADS=True` and it compiles for wasm32-wasi-threads against the
project's sysroot, imports a shared memory, and exports that memory again as
"memory" (WASI and `waft run` look for it there; wasm-ld 14 has no
--export-memory).
    WASM_THREADS            False; True: the options below replace/extend the plain ones
    WASM_THREADS_SYSROOT    the wasm32-wasi-threads sysroot (default: $WAFT_WASI_THREADS_SYSROOT,
                            as for the tests, else the Waft checkout's
                            build/toolchain/wasi-sysroot-threads, from
                            tools/build_wasi_threads_sysroot.sh)
    WASM_THREADS_CFLAGS     used instead of WASM_CFLAGS: target, sysroot, -pthread, atomics
    WASM_THREADS_LINKFLAGS  added to WASM_LINKFLAGS: the imported shared memory and its
                            maximum (one 64 KiB page, as --initial-memory in WASM_LINKFLAGS)
`env.WasmThreadsMissing()` says why threaded C cannot be built here (no
sysroot), or returns None; an SConscript skips its threaded programs on it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import SCons.Action
import SCons.Builder

REPO_ROOT = Path(__file__).resolve().parents[2]
SYSROOT_HINT = "bash tools/build_wasi_threads_sysroot.sh (run by .ci/install)"

# The default wasi-libc module is 2 pages with a 64 KiB stack: more than most
# MCUs have.  One page with an 8 KiB shadow stack fits a 128 KiB board.
SMALL_MEMORY_LINKFLAGS = [
    "-Wl,-z,stack-size=8192",
    "-Wl,--initial-memory=65536",
    "-Wl,--strip-debug",
]


# What clang 14 needs spelt out for a wasi-threads module (waftkit/testing/wasi_threads.py
# gives the tests the same): TLS must be local-exec, since the module is not relocatable.
THREADS_CFLAGS = ["--target=wasm32-wasi-threads", "--sysroot=$WASM_THREADS_SYSROOT", "-pthread",
                  "-matomics", "-mbulk-memory", "-ftls-model=local-exec", "-O2"]
# Every thread is an instance of the module; only an imported, shared memory is one they all see.
THREADS_LINKFLAGS = ["-Wl,--import-memory,--shared-memory", "-Wl,--max-memory=65536"]


def _wasm_flags(target, source, env, for_signature):
    """The compile and link options of WasmProgram: the threads' set when $WASM_THREADS."""
    if env.get("WASM_THREADS"):
        return "$WASM_THREADS_CFLAGS $WASM_LINKFLAGS $WASM_THREADS_LINKFLAGS"
    return "$WASM_CFLAGS $WASM_LINKFLAGS"


def _export_memory(target, source, env):
    """Post-link action of a threaded program: export the imported memory as "memory"."""
    if not env.get("WASM_THREADS"):
        return 0
    if str(REPO_ROOT) not in sys.path and (REPO_ROOT / "aot").is_dir():  # a checkout, not a wheel
        sys.path.insert(0, str(REPO_ROOT))
    from aot.errors import AotError
    from aot.wasm.rewrite import export_memory

    wasm = Path(str(target[0]))
    try:
        wasm.write_bytes(export_memory(wasm.read_bytes()))
    except (ValueError, AotError) as exc:
        sys.stderr.write(f"waft: error: {wasm}: {exc}\n")
        return 1
    return 0


def _threads_missing(env) -> str | None:
    """Why WASM_THREADS programs cannot be built here (one line, with the fix), or None."""
    sysroot = Path(env.subst("$WASM_THREADS_SYSROOT"))
    if not (sysroot / "lib" / "wasm32-wasi-threads" / "libc.a").is_file():
        return f"no wasm32-wasi-threads sysroot in {sysroot}: {SYSROOT_HINT}"
    return None


def generate(env) -> None:
    env.SetDefault(
        WASM_CC="clang",
        WASM_CFLAGS=["--target=wasm32-wasi", "--sysroot=/usr", "-O2"],
        WASM_LINKFLAGS=list(SMALL_MEMORY_LINKFLAGS),
        WASM_CPPPATH=[],
        WASM_THREADS=False,
        WASM_THREADS_SYSROOT=os.environ.get("WAFT_WASI_THREADS_SYSROOT",
                                            str(REPO_ROOT / "build" / "toolchain" / "wasi-sysroot-threads")),
        WASM_THREADS_CFLAGS=list(THREADS_CFLAGS),
        WASM_THREADS_LINKFLAGS=list(THREADS_LINKFLAGS),
        _WASM_FLAGS=_wasm_flags,
        WASM_CCCOM="$WASM_CC $_WASM_FLAGS ${_concat('-I', WASM_CPPPATH, '', __env__)} "
        "-o $TARGET $SOURCES",
        WASM_CCCOMSTR="",
        WAT2WASM="wat2wasm",
        WAT2WASMFLAGS=[],
        WAT2WASMCOM="$WAT2WASM $WAT2WASMFLAGS $SOURCE -o $TARGET",
        WAT2WASMCOMSTR="",
    )
    env["BUILDERS"]["WasmProgram"] = SCons.Builder.Builder(
        action=[SCons.Action.Action("$WASM_CCCOM", "$WASM_CCCOMSTR"),
                SCons.Action.Action(_export_memory, None, varlist=["WASM_THREADS"])],
        suffix=".wasm",
        src_suffix=".c",
        source_scanner=SCons.Tool.SourceFileScanner,
    )
    env["BUILDERS"]["Wat"] = SCons.Builder.Builder(
        action=SCons.Action.Action("$WAT2WASMCOM", "$WAT2WASMCOMSTR"),
        suffix=".wasm",
        src_suffix=".wat",
        single_source=True,
    )
    env.AddMethod(_threads_missing, "WasmThreadsMissing")


def exists(env) -> bool:
    return bool(env.Detect("clang") and env.Detect("wat2wasm"))
