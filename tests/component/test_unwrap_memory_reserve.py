"""Path (b)'s memory reserve (issue 16): a fused module declares the pages it takes at start.

The preview1 adapter takes a stack page and a state page of the memory it
imports, and the generated WASI 0.2 code a scratch page: a one-page program
ended at four pages, grown at start, so on a 128 KiB board it trapped
"unreachable (instantiating)".  The fused module now declares them (its
minimum is raised by the reserve) and `memory.size`/`memory.grow` go through
a virtual size, so:

- a one-page program's fused module declares four pages and never grows
  when it runs (wasmtime's p1 mode, which grows memory exactly as asked);
- on stm32f4 `waft compile` refuses it at build time, one line and exit 1,
  no object; on mps2-an386 it runs (QEMU);
- the reserve is invisible: `memory.size` and `memory.grow` answer as the
  grows happen (as under wasmtime running the component, plus the
  generated code's scratch page path (b) has always taken), never with the
  reserved pages early, and a grow past the reserve still grows.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aot.component import unwrap_component
from aot.wasm.decode import decode_module
from component_helpers import REPO, parse_wat, wrap

# A p1 program printing digits: memory.size, memory.grow 1's answer, memory.size, a grow by 3 (past the
# reserve) and memory.size again.
SIZES_WAT = """
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $digit (param $d i32)
    (i32.store8 (i32.const 100) (i32.add (i32.const 48) (local.get $d)))
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 1))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    (call $digit (memory.size))
    (call $digit (memory.grow (i32.const 1)))
    (call $digit (memory.size))
    (call $digit (memory.grow (i32.const 3)))
    (call $digit (memory.size))))
"""


def _fused(module: Path, tmp_path: Path) -> tuple[Path, Path, object]:
    component = wrap(module)
    result = unwrap_component(component.read_bytes(), adapter_recovery=False)
    out = tmp_path / (module.stem + ".fused.wasm")
    out.write_bytes(result.module)
    return component, out, result


def _hello(tmp_path: Path) -> Path:
    if shutil.which("clang") is None:
        pytest.skip("clang is not installed")
    out = tmp_path / "hello.wasm"
    subprocess.run(["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wl,-z,stack-size=8192",
                    "-Wl,--initial-memory=65536", "-Wl,--strip-debug", str(REPO / "examples" / "hello" / "hello.c"),
                    "-o", str(out)], check=True)
    return out


def _run_p1(module: Path, tmp_path: Path) -> tuple[str, int]:
    """wasmtime's p1 mode: (stdout, the memory's page count after _start)."""
    wasmtime = pytest.importorskip("wasmtime")
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    config = wasmtime.WasiConfig()
    config.stdout_file = str(tmp_path / "p1.out")
    store.set_wasi(config)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, wasmtime.Module.from_file(engine, str(module)))
    instance.exports(store)["_start"](store)
    return (tmp_path / "p1.out").read_text(), instance.exports(store)["memory"].size(store)


def _run_component(component: Path, tmp_path: Path) -> str:
    wasmtime = pytest.importorskip("wasmtime")
    from wasmtime import component as wc

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    config = wasmtime.WasiConfig()
    config.stdout_file = str(tmp_path / "p2.out")
    store.set_wasi(config)
    linker = wc.Linker(engine)
    linker.add_wasip2()
    instance = linker.instantiate(store, wc.Component.from_file(engine, str(component)))
    run = instance.get_func(store, instance.get_export_index(
        store, "run", instance.get_export_index(store, "wasi:cli/run@0.2.3")))
    run(store)
    return (tmp_path / "p2.out").read_text()


def test_a_one_page_program_declares_its_reserve_and_never_grows(tmp_path):
    _, fused, result = _fused(_hello(tmp_path), tmp_path)
    assert result.fused.reserved_pages == 3  # adapter stack + adapter state + generated scratch
    assert decode_module(fused.read_bytes()).memories[0].limits.min == 4
    stdout, pages = _run_p1(fused, tmp_path)
    assert stdout == "Hello from WebAssembly, world!\n"
    assert pages == 4  # what it declared: nothing grown at start or while running


def test_the_program_sees_its_own_pages(tmp_path):
    module = parse_wat(SIZES_WAT, "memory-sizes.wasm")
    component, fused, result = _fused(module, tmp_path)
    expected = _run_component(component, tmp_path)
    # The adapter's stack page is there before _start (2), its state page comes with the first fd_write
    # (3); then the program's grow by 1 (answers 3, size 4) and by 3 (answers 4, size 7).
    assert expected == "23447"
    stdout, pages = _run_p1(fused, tmp_path)
    # The same, plus the generated code's scratch page, taken at the first WASI call (as path (b) always
    # did): reserved pages are handed out as the grows come, never shown early.
    assert stdout == "24558"
    assert pages == 8  # the grow by 3 went past the reserve, and grew the memory for real


def _waft(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waftkit", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, stdin=subprocess.DEVNULL)


def test_a_board_too_small_for_the_fused_module_is_refused_at_build_time(tmp_path):
    _, fused, _ = _fused(_hello(tmp_path), tmp_path)
    result = _waft("compile", fused, "-t", "stm32f4", "-o", tmp_path / "hello.o", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "262,144 initial" in lines[0] and "stm32f4 has 131,072" in lines[0], result.stderr
    assert not (tmp_path / "hello.o").exists()


@pytest.mark.qemu
def test_a_board_with_room_runs_it(tmp_path):
    _, fused, _ = _fused(_hello(tmp_path), tmp_path)
    result = _waft("run", fused, "--target", "mps2-an386", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello from WebAssembly, world!\n"
