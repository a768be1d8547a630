"""Compile C for wasm32-wasi-threads in tests, and run it on wasmtime as an oracle.

The sysroot is build/toolchain/wasi-sysroot-threads, built by
tools/build_wasi_threads_sysroot.sh (which .ci/install runs); without it,
`build_threads_c` skips the calling test and says how to get it.

    from waftkit.testing.wasi_threads import build_threads_c
    wasm = build_threads_c([src], tmp_path / "prog.wasm")

The modules are shaped as wasi-threads wants them: the memory is imported
(`env.memory`, shared, with a maximum) and, since wasm-ld 14 has no
--export-memory, exported again as "memory" by a small rewrite
(aot.wasm.rewrite; WASI and `waft run` find it there); `wasi_thread_start` is
exported.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from aot.wasm.rewrite import export_memory

REPO = Path(__file__).resolve().parents[2]
SYSROOT = Path(os.environ.get("WAFT_WASI_THREADS_SYSROOT", REPO / "build" / "toolchain" / "wasi-sysroot-threads"))
CLANG = os.environ.get("WAFT_WASI_CLANG", "clang-14")
DEFAULT_MAX_MEMORY = 16 * 65536
BUILD_HINT = "bash tools/build_wasi_threads_sysroot.sh (run by .ci/install)"


def sysroot_missing() -> str | None:
    """Why threaded C cannot be built here, or None when it can."""
    if not (SYSROOT / "lib" / "wasm32-wasi-threads" / "libc.a").is_file():
        return f"no wasm32-wasi-threads sysroot in {SYSROOT}: {BUILD_HINT}"
    if shutil.which(CLANG) is None:
        return f"{CLANG} is not installed"
    return None


def threads_cflags(max_memory: int = DEFAULT_MAX_MEMORY) -> list[str]:
    """clang options for a wasi-threads command module (clang 14 needs each one spelt out)."""
    return [
        "--target=wasm32-wasi-threads", f"--sysroot={SYSROOT}",
        "-pthread", "-matomics", "-mbulk-memory", "-ftls-model=local-exec",
        f"-Wl,--import-memory,--shared-memory,--max-memory={max_memory}",
    ]


def build_threads_c(sources, output, extra_flags=(), *, max_memory: int = DEFAULT_MAX_MEMORY,
                    opt: str = "-O2") -> Path:
    """Compile and link C (and .S) `sources` into the wasi-threads module `output`.

    Skips the calling test (pytest.skip) when the sysroot or clang is missing.
    """
    why = sysroot_missing()
    if why:
        import pytest
        pytest.skip(why)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    cmd = [CLANG, *threads_cflags(max_memory), opt, *map(str, sources), *extra_flags, "-o", str(output)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}\nfailed ({proc.returncode}):\n{proc.stderr}")
    output.write_bytes(export_memory(output.read_bytes()))
    return output


# ---- imports and exports, as wasm-objdump -x shows them ----

def objdump_x(wasm: Path) -> str:
    return subprocess.run(["wasm-objdump", "-x", str(wasm)], capture_output=True, text=True, check=True).stdout


# ---- wasmtime as an oracle ----

def run_on_wasmtime(wasm: Path, args=(), timeout: float = 60.0) -> tuple[int, str]:
    """Run a wasi-threads command module on wasmtime (PyPI), returning (exit code, stdout).

    wasmtime's Python API has shared memories but no wasi-threads, so this is
    the host side of `wasi.thread-spawn`: each spawned thread is a new instance
    of the module in its own Store, with the same SharedMemory, on a Python
    thread (wasmtime's calls let go of the GIL). Stdout goes to a file, which
    each new instance truncates: rely on what the main thread prints last.
    """
    import tempfile

    import wasmtime as wt

    cfg = wt.Config()
    cfg.wasm_threads = True
    cfg.shared_memory = True
    engine = wt.Engine(cfg)
    module = wt.Module.from_file(engine, str(wasm))
    mem_import = next(i for i in module.imports if isinstance(i.type, wt.MemoryType))
    memory = wt.SharedMemory(engine, mem_import.type)
    # wasmtime-py 51's SharedMemory._as_extern passes a pointer to its pointer
    # ("incompatible types, LP_LP_wasmtime_sharedmemory"): give the right one.
    from wasmtime import _ffi as ffi
    memory._as_extern = lambda: ffi.wasmtime_extern_t(
        ffi.WASMTIME_EXTERN_SHAREDMEMORY, ffi.wasmtime_extern_union(sharedmemory=memory.ptr()))
    lock = threading.Lock()
    next_tid = [1]
    threads: list[threading.Thread] = []
    failures: list[BaseException] = []
    exit_code: list[int] = []

    with tempfile.TemporaryDirectory() as tmp:
        out_path = str(Path(tmp) / "stdout")

        def instance():
            store = wt.Store(engine)
            wasi = wt.WasiConfig()
            wasi.argv = [wasm.name, *args]
            # Every instance opens (and truncates) the file: what the main
            # thread prints after the threads have started is what is kept.
            wasi.stdout_file = out_path
            wasi.inherit_stderr()
            store.set_wasi(wasi)
            linker = wt.Linker(engine)
            linker.define_wasi()
            linker.define(store, mem_import.module, mem_import.name, memory)
            linker.define_func("wasi", "thread-spawn", wt.FuncType([wt.ValType.i32()], [wt.ValType.i32()]),
                               spawn)
            return store, linker.instantiate(store, module)

        def spawn(start_arg):
            with lock:
                tid = next_tid[0]
                next_tid[0] += 1

            def body():
                try:
                    store, inst = instance()
                    inst.exports(store)["wasi_thread_start"](store, tid, start_arg)
                except wt.ExitTrap as e:
                    exit_code.append(e.code)
                except BaseException as e:  # a trap in a thread ends the program in wasi-threads
                    failures.append(e)

            t = threading.Thread(target=body, daemon=True)
            threads.append(t)
            t.start()
            return tid

        store, inst = instance()
        code = 0
        try:
            inst.exports(store)["_start"](store)
        except wt.ExitTrap as e:
            code = e.code
        for t in list(threads):
            t.join(timeout)
        if failures:
            raise failures[0]
        if exit_code and code == 0:
            code = exit_code[0]
        return code, Path(out_path).read_text() if Path(out_path).exists() else ""


def waft_run_wat(folder: Path, name: str, wat: str, *options: str) -> subprocess.CompletedProcess:
    """Assemble `wat` (threads enabled) as folder/name.wasm and run it with `waft run OPTIONS`, output captured."""
    source = Path(folder) / f"{name}.wat"
    source.write_text(wat)
    wasm = source.with_suffix(".wasm")
    subprocess.run(["wat2wasm", "--enable-threads", str(source), "-o", str(wasm)], check=True)
    return subprocess.run([sys.executable, "-m", "waftkit", "run", str(wasm), *options],
                          capture_output=True, text=True, timeout=120)
