"""wasi-ext:signals through SCons: WAFT_SIGNAL_GRANTS grants lines to a WaftWasiFirmware, and a bad grant stops the build.

Host: the module looks up the line granted as "bell", attaches its export,
pends the line, dispatches, and exits from the handler with 40 + the arg it
was given: the program passes only when the grant reached the runtime
(without it `lookup` answers noent and the module exits with 3).

Board (stm32f4 under QEMU): the grant binds the line to the export `ring`
(`bell=soft:0@ring`), so the firmware's vector for it calls `ring`
directly.  The module checks the binding from inside (attaching another
export is `inval`), attaches `ring` for immediate delivery and pends: the
handler runs as the interrupt, before `pend` returns, and exits with 42.
A line the board does not have stops the build with the board's message.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCONS = Path(sys.executable).with_name("scons")
REPO = Path(__file__).resolve().parents[2]
EXT = "wasi-ext:signals/signals@0.1.0"

SCONSTRUCT = f"""
import os
env = Environment(tools=["default", "waft"], toolpath=[{str(REPO / "site_scons" / "site_tools")!r}],
                  WAFT_TARGET=ARGUMENTS.get("TARGET", "host"), WAFT_SIGNAL_GRANTS=ARGUMENTS.get("GRANTS", "").split(),
                  ENV={{"PATH": os.environ["PATH"]}})
SConsignFile("build/.sconsign")
SConscript("SConscript", exports="env", variant_dir="build/" + env["WAFT_TARGET"], duplicate=False)
"""

BELL = f"""(module
  (import "{EXT}" "lookup" (func $lookup (param i32 i32 i32)))
  (import "{EXT}" "attach-export" (func $attach_export (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "{EXT}" "enable" (func $enable (param i32) (result i32)))
  (import "{EXT}" "pend" (func $pend (param i32) (result i32)))
  (import "{EXT}" "dispatch" (func $dispatch (param i32 i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "bellring")
  (func (export "ring") (param $line i32) (param $arg i32) (call $proc_exit (i32.add (i32.const 40) (local.get $arg))))
  (func (export "_start") (local $line i32)
    (call $lookup (i32.const 0) (i32.const 4) (i32.const 64))
    (if (i32.load8_u (i32.const 64)) (then (call $proc_exit (i32.const 3))))
    (local.set $line (i32.load (i32.const 68)))
    (drop (call $attach_export (local.get $line) (i32.const 4) (i32.const 4) (i32.const 2) (i32.const 1) (i32.const 1)))
    (drop (call $enable (local.get $line)))
    (drop (call $pend (local.get $line)))
    (call $dispatch (i32.const 0) (i32.const 64))
    (call $proc_exit (i32.const 4))))
"""


BOARD_BELL = f"""(module
  (import "{EXT}" "lookup" (func $lookup (param i32 i32 i32)))
  (import "{EXT}" "attach-export" (func $attach_export (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "{EXT}" "enable" (func $enable (param i32) (result i32)))
  (import "{EXT}" "pend" (func $pend (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "bellringtock")
  (func (export "ring") (param $line i32) (param $arg i32) (call $proc_exit (i32.add (i32.const 40) (local.get $arg))))
  (func (export "tock") (param $line i32) (param $arg i32))
  (func (export "_start") (local $line i32)
    (call $lookup (i32.const 0) (i32.const 4) (i32.const 64))
    (if (i32.load8_u (i32.const 64)) (then (call $proc_exit (i32.const 3))))
    (local.set $line (i32.load (i32.const 68)))
    ;; bound to ring at build time: tock is inval (28)
    (if (i32.ne (call $attach_export (local.get $line) (i32.const 8) (i32.const 4) (i32.const 0) (i32.const 0)
                                     (i32.const 1)) (i32.const 28))
      (then (call $proc_exit (i32.const 5))))
    (if (call $attach_export (local.get $line) (i32.const 4) (i32.const 4) (i32.const 2) (i32.const 0) (i32.const 1))
      (then (call $proc_exit (i32.const 6))))
    (drop (call $enable (local.get $line)))
    (drop (call $pend (local.get $line)))
    (call $proc_exit (i32.const 4))))
"""


def scons(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCONS), "-Q", *args], cwd=project, capture_output=True, text=True,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}, timeout=600)


def test_grants_reach_the_firmware_and_bad_ones_stop_the_build(tmp_path):
    (tmp_path / "SConstruct").write_text(SCONSTRUCT)
    (tmp_path / "bell.wat").write_text(BELL)
    subprocess.run(["wat2wasm", "bell.wat", "-o", "bell.wasm"], cwd=tmp_path, check=True)
    (tmp_path / "SConscript").write_text('Import("env")\nenv.WaftWasiFirmware("bell", "bell.wasm", expect_exit=42)\n')
    result = scons(tmp_path, "GRANTS=bell=soft:7", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS bell" in result.stdout
    result = scons(tmp_path, "GRANTS=bell=soft:7 bell=soft:8", "test")
    assert result.returncode != 0
    assert "waft: error: WAFT_SIGNAL_GRANTS: bell=0x00020008: the name 'bell' is granted twice" in result.stdout


@pytest.mark.qemu
def test_a_board_grant_bound_to_an_export_reaches_the_vector_and_a_missing_line_stops_the_build(tmp_path):
    for tool in ("qemu-system-arm", "arm-none-eabi-gcc"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    (tmp_path / "SConstruct").write_text(SCONSTRUCT)
    (tmp_path / "bell.wat").write_text(BOARD_BELL)
    subprocess.run(["wat2wasm", "bell.wat", "-o", "bell.wasm"], cwd=tmp_path, check=True)
    (tmp_path / "SConscript").write_text('Import("env")\n'
                                         'env.WaftWasiFirmware("bell", "bell.wasm", expect_exit=42, icount=True)\n')
    result = scons(tmp_path, "TARGET=stm32f4", "GRANTS=bell=soft:0@ring", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS bell.elf" in result.stdout
    result = scons(tmp_path, "TARGET=stm32f4", "GRANTS=bell=irq:5@ring", "test")
    assert result.returncode != 0
    assert ("waft: error: WAFT_SIGNAL_GRANTS: bell=0x00000005@ring: stm32f4 has no free device interrupt 5 "
            "(free: 6, 7, 8, 9, 10, 23, 40; target.toml [interrupts])") in result.stdout, result.stdout
