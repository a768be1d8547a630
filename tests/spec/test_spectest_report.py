"""What `waft spectest` shows a user: progress, failures with FILE:LINE, the summary line, skips.

Runs small scripts written here (not the official suite) on the host, through
the same entry point as the CLI, including assertions that must fail.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest

from waftkit.testing.spectest import run_spectest

pytestmark = pytest.mark.skipif(shutil.which("wast2json") is None, reason="wast2json (wabt) not installed")

SCRIPT = """\
(module $M
  (memory (export "mem") 1)
  (global (export "g") (mut i32) (i32.const 7))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "nan") (result f32) (f32.div (f32.const 0) (f32.const 0)))
  (func (export "two") (result i32 i64) (i32.const 1) (i64.const -1))
  (func (export "store") (param i32) (i32.store (i32.const 0) (local.get 0)))
)
(register "M" $M)
(assert_return (invoke "add" (i32.const 2) (i32.const 3)) (i32.const 5))
(assert_return (invoke "add" (i32.const 2) (i32.const 3)) (i32.const 6))
(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_trap (invoke "div" (i32.const 1) (i32.const 1)) "integer divide by zero")
(assert_return (invoke "nan") (f32.const nan:canonical))
(assert_return (invoke "two") (i32.const 1) (i64.const -1))
(assert_return (get "g") (i32.const 7))
(invoke "store" (i32.const 42))
(module
  (import "M" "mem" (memory 1))
  (import "M" "add" (func $add (param i32 i32) (result i32)))
  (func (export "load") (result i32) (i32.load (i32.const 0)))
  (func (export "add3") (result i32) (call $add (i32.const 1) (i32.const 2)))
)
(assert_return (invoke "load") (i32.const 42))
(assert_return (invoke "add3") (i32.const 3))
(assert_unlinkable (module (import "M" "add" (func (param i32)))) "incompatible import type")
(assert_unlinkable (module (import "M" "nope" (func))) "unknown import")
(assert_malformed (module quote "(func") "unexpected end")
(assert_invalid (module (func (result i32))) "type mismatch")
"""


def test_report_shows_failures_with_place_and_values(tmp_path: Path) -> None:
    script = tmp_path / "demo.wast"
    script.write_text(SCRIPT)
    out = io.StringIO()
    status = run_spectest([script], "host", jobs=1, verbose=False, out=out)
    text = out.getvalue()
    lines = text.splitlines()
    assert status == 1, text
    assert lines[0] == "[1/1] demo.wast ... 13 passed, 2 failed, 1 skipped"
    assert "demo.wast:12: assert_return (invoke \"add\"): expected (i32:0x00000006 (6)), " \
           "got (i32:0x00000005 (5))" in lines
    assert "demo.wast:14: assert_trap (invoke \"div\"): expected trap (integer divide by zero), " \
           "got (i32:0x00000001 (1))" in lines
    assert "13 passed, 2 failed, 1 skipped" in lines
    assert any(re.search(r"demo\.wast: text-format module \(tests the WAT parser\) \(1\)", ln)
               for ln in lines)


def test_simd_files_are_skipped_not_failed(tmp_path: Path) -> None:
    script = tmp_path / "simd_demo.wast"
    script.write_text('(module (func (export "f") (result i32) (i32.const 1)))\n'
                      '(assert_return (invoke "f") (i32.const 1))\n')
    out = io.StringIO()
    assert run_spectest([script], "host", jobs=1, verbose=False, out=out) == 0
    text = out.getvalue()
    assert "0 passed, 0 failed, 2 skipped" in text.splitlines()
    assert "simd_*.wast: SIMD is not supported yet (1 file, 2 commands)" in text
