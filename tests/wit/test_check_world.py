"""`waft check --world`: each import named as the p1 or WIT function it is, against a world and a target.

Modules are written in WAT, and one in C compiled by clang for wasm32 with the import
declarations docs/wasi-ext.md shows.  The whole output for one module that has every
kind of import (p1, extension functions right and wrong, one outside the world, one
misspelt, one from the firmware) is a golden file, tests/wit/golden/check-firmware-rt.txt
(regenerate with WAFT_UPDATE_GOLDEN=1).  Commands run from an empty folder, so
`wasi_ext/...` is the shipped copy, as after a plain `pip install`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aot.package_data import WASI_EXT_DIR

GOLDEN = Path(__file__).parent / "golden" / "check-firmware-rt.txt"
THREADS = "wasi-ext:threads/threads@0.1.0"

DEMO_WAT = f"""(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi" "thread-spawn" (func (param i32) (result i32)))
  (import "{THREADS}" "sleep-until" (func (param i64) (result i32)))
  (import "{THREADS}" "spawn" (func (param i32) (result i32)))
  (import "wasi-ext:sockets/sockets@0.1.0" "listen" (func (param i32 i32) (result i32)))
  (import "{THREADS}" "spwan" (func (param i32) (result i32)))
  (import "env" "sensor" (func (param i32) (result f32)))
  (memory (export "memory") 1)
  (func (export "_start")))"""

P1_ONLY_WAT = """(module
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")))"""

EXT_C = f"""#include <stdint.h>
__attribute__((import_module("{THREADS}"), import_name("sleep-until")))
extern int32_t wasi_ext_sleep_until(int64_t deadline);
/* Wrong: spawn returns its tid through a return area, so its core type has no result. */
__attribute__((import_module("{THREADS}"), import_name("spawn")))
extern int32_t wasi_ext_spawn(uint32_t start_arg);
__attribute__((export_name("tick"))) int32_t tick(int64_t t) {{ return wasi_ext_sleep_until(t) + wasi_ext_spawn(0); }}
"""


def waft(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-m", "waftkit", *args], capture_output=True, text=True, cwd=cwd,
                          env=env)


def wat_module(folder: Path, name: str, text: str) -> Path:
    if shutil.which("wat2wasm") is None:
        pytest.skip("wat2wasm is not installed")
    (folder / f"{name}.wat").write_text(text)
    subprocess.run(["wat2wasm", f"{name}.wat", "-o", f"{name}.wasm"], cwd=folder, check=True)
    return folder / f"{name}.wasm"


def test_every_kind_of_import_against_firmware_rt(tmp_path: Path):
    wat_module(tmp_path, "demo", DEMO_WAT)
    result = waft("check", "demo.wasm", "--world", "wasi_ext/profiles:firmware-rt", cwd=tmp_path)
    text = f"{result.stdout}{result.stderr}exit {result.returncode}\n"
    if os.environ.get("WAFT_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


def test_without_a_world_the_target_decides(tmp_path: Path):
    """The default: p1 and what the target provides (riscv32-virt: no extension; it has no kernel for
    threads), so an extension function outside firmware-rt is `not provided` rather than `not in world`."""
    wat_module(tmp_path, "demo", DEMO_WAT)
    result = waft("check", "demo.wasm", "--target", "riscv32-virt", cwd=tmp_path)
    assert result.returncode == 1
    listen = next(line for line in result.stdout.splitlines() if ".listen " in line)
    assert listen.split()[1:3] == ["not", "provided"]
    assert listen.endswith("WIT func(fd: fd, backlog: u32) -> errno; the riscv32-virt runtime does not implement it")
    assert result.stderr.startswith("waft: error: demo.wasm: 6 of 7 imports are not provided by the riscv32-virt "
                                    "runtime (p1, no extensions): wasi.thread-spawn (not provided), ")
    # stm32f4 runs threads on its kernel: the same module has two imports fewer it cannot satisfy.
    result = waft("check", "demo.wasm", "--target", "stm32f4", cwd=tmp_path)
    assert result.stderr.startswith("waft: error: demo.wasm: 4 of 7 imports are not provided by the stm32f4 runtime")


def test_a_p1_module_conforms_to_every_profile(tmp_path: Path):
    wat_module(tmp_path, "p1", P1_ONLY_WAT)
    for world in ("firmware-minimal", "wasi-ext:profiles/firmware-net@0.1.0", f"{WASI_EXT_DIR / 'profiles'}:firmware-rt"):
        result = waft("check", "p1.wasm", "--world", world, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        line, summary = result.stdout.splitlines()
        assert line.split() == ["wasi_snapshot_preview1.proc_exit", "provided", "[i32]", "->", "[]", "p1"]
        assert summary.startswith("p1.wasm: all 1 imports are provided by the host runtime (wasi-ext:profiles/")


def test_clang_declarations_are_checked_against_the_wit(tmp_path: Path):
    if shutil.which("clang") is None:
        pytest.skip("clang is not installed")
    (tmp_path / "ext.c").write_text(EXT_C)
    build = subprocess.run(["clang", "--target=wasm32", "-nostdlib", "-O2", "-Wl,--no-entry", "ext.c", "-o", "ext.wasm"],
                           cwd=tmp_path, capture_output=True, text=True)
    if build.returncode != 0:
        pytest.skip(f"clang cannot link wasm32 here: {build.stderr.strip()}")
    result = waft("check", "ext.wasm", "--world", "firmware-rt", cwd=tmp_path)
    assert result.returncode == 1
    sleep, spawn = result.stdout.splitlines()
    # The host runtime implements wasi-ext:threads: the declaration with the WIT's type is provided.
    assert sleep.split()[:4] == [f"{THREADS}.sleep-until", "provided", "[i64]", "->"]
    assert spawn.split()[:2] == [f"{THREADS}.spawn", "type"]
    assert spawn.endswith("; expected [i32 i32 i32 i32 i32] -> []")


@pytest.mark.parametrize("world, message", [
    ("firmware-xl", "waft: error: --world firmware-xl: no such profile (profiles: firmware-minimal, "
                    "firmware-rt, firmware-net); name another world as PATH:WORLD or ns:pkg/world"),
    ("wasi_ext/profiles", "waft: error: --world wasi_ext/profiles: package wasi-ext:profiles@0.1.0 has 3 worlds "
                          "(firmware-minimal, firmware-rt, firmware-net): name one as wasi_ext/profiles:WORLD"),
    ("wasi-ext:profiles/firmware-rt@0.2.0", "waft: error: --world wasi-ext:profiles/firmware-rt@0.2.0: "
                                            "package wasi-ext:profiles@0.2.0 not found (loaded: "),
    ("nowhere/at-all", "waft: error: --world nowhere/at-all: no such file or folder, and not a world name"),
])
def test_a_world_that_does_not_exist_is_bad_usage(tmp_path: Path, world: str, message: str):
    wat_module(tmp_path, "p1", P1_ONLY_WAT)
    result = waft("check", "p1.wasm", "--world", world, cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(message), result.stderr
    assert result.stdout == ""


def test_bad_wit_is_bad_input_with_file_line_column(tmp_path: Path):
    wat_module(tmp_path, "p1", P1_ONLY_WAT)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "mine.wit").write_text("package me:mine;\n\nworld w {\n    import f: func() -> ;\n}\n")
    result = waft("check", "p1.wasm", "--world", "mine:w", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == "waft: error: invalid WIT: mine/mine.wit:4:25: expected a type, found `;`\n"


def test_a_world_of_ones_own_that_uses_the_extensions(tmp_path: Path):
    """A firmware's own world: a path with deps/, importing one extension interface and its own."""
    wat_module(tmp_path, "app", f"""(module
  (import "{THREADS}" "current" (func (result i32)))
  (import "me:board/leds@0.1.0" "set" (func (param i32 i32)))
  (import "me:board/leds@0.1.0" "toggle" (func (param i32))))""")
    pkg = tmp_path / "board"
    (pkg / "deps").mkdir(parents=True)
    for dep in ("types", "threads"):
        os.symlink(WASI_EXT_DIR / dep, pkg / "deps" / dep)
    (pkg / "board.wit").write_text("package me:board@0.1.0;\n"
                                   "interface leds { set: func(led: u32, on: bool); }\n"
                                   "world app { import wasi-ext:threads/threads@0.1.0; import leds; }\n")
    result = waft("check", "app.wasm", "--world", "board", cwd=tmp_path)
    assert result.returncode == 1
    current, set_, toggle = result.stdout.splitlines()
    assert current.split()[1] == "provided" and current.endswith("WIT func() -> tid")
    assert set_.split()[1:3] == ["not", "provided"] and "WIT func(led: u32, on: bool)" in set_
    assert toggle.split()[1] == "unknown" and toggle.endswith("me:board/leds@0.1.0 has no function `toggle`")
