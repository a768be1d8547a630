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
"""

from __future__ import annotations

import SCons.Action
import SCons.Builder

# The default wasi-libc module is 2 pages with a 64 KiB stack: more than most
# MCUs have.  One page with an 8 KiB shadow stack fits a 128 KiB board.
SMALL_MEMORY_LINKFLAGS = [
    "-Wl,-z,stack-size=8192",
    "-Wl,--initial-memory=65536",
    "-Wl,--strip-debug",
]


def generate(env) -> None:
    env.SetDefault(
        WASM_CC="clang",
        WASM_CFLAGS=["--target=wasm32-wasi", "--sysroot=/usr", "-O2"],
        WASM_LINKFLAGS=list(SMALL_MEMORY_LINKFLAGS),
        WASM_CPPPATH=[],
        WASM_CCCOM="$WASM_CC $WASM_CFLAGS $WASM_LINKFLAGS ${_concat('-I', WASM_CPPPATH, '', __env__)} "
        "-o $TARGET $SOURCES",
        WASM_CCCOMSTR="",
        WAT2WASM="wat2wasm",
        WAT2WASMFLAGS=[],
        WAT2WASMCOM="$WAT2WASM $WAT2WASMFLAGS $SOURCE -o $TARGET",
        WAT2WASMCOMSTR="",
    )
    env["BUILDERS"]["WasmProgram"] = SCons.Builder.Builder(
        action=SCons.Action.Action("$WASM_CCCOM", "$WASM_CCCOMSTR"),
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


def exists(env) -> bool:
    return bool(env.Detect("clang") and env.Detect("wat2wasm"))
