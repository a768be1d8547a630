"""wasi-ext:signals through SCons: WAFT_SIGNAL_GRANTS grants lines to a WaftWasiFirmware, and a bad grant stops the build.

The module looks up the line granted as "bell", attaches its export, pends
the line, dispatches, and exits from the handler with 40 + the arg it was
given: the program passes only when the grant reached the runtime (without
it `lookup` answers noent and the module exits with 3).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCONS = Path(sys.executable).with_name("scons")
REPO = Path(__file__).resolve().parents[2]
EXT = "wasi-ext:signals/signals@0.1.0"

SCONSTRUCT = f"""
import os
env = Environment(tools=["default", "waft"], toolpath=[{str(REPO / "site_scons" / "site_tools")!r}],
                  WAFT_TARGET="host", WAFT_SIGNAL_GRANTS=ARGUMENTS.get("GRANTS", "").split(),
                  ENV={{"PATH": os.environ["PATH"]}})
SConsignFile("build/.sconsign")
SConscript("SConscript", exports="env", variant_dir="build/host", duplicate=False)
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
