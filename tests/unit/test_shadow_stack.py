"""The C shadow stack of a module its own immediate handlers interrupt (aot/shadow_stack.py).

Proven here: which global is the pointer (by name, and by clang's frame idiom
when the names are stripped), which exports may use it (through direct calls,
and any indirect call), that the header gives its offset only for a module
importing wasi-ext:signals, that the offset is the one the compiled code
uses, and that the compiler keeps a store of the pointer that LLVM would
otherwise delete: a frame published on entry and released on exit, with only
linear-memory stores between, loses its first store as a dead store in an
ordinary module (the check that this test can fail) and keeps it, fenced,
in an interruptible one.  That the vectors then move the pointer past the
red zone is tests/signals/test_signals_cortexm.py's red-zone test, on QEMU.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from aot.compiler import compile_module
from aot.shadow_stack import exports_using_stack, interruptible, stack_pointer_global
from aot.targets import load_target
from aot.wasm.decode import decode_module
from waftkit.firmware.embedding import signal_defines
from waftkit.firmware.signal_grants import parse_grant

SIGNALS_IMPORT = '(import "wasi-ext:signals/signals@0.1.0" "pend" (func $pend (param i32) (result i32)))'

# $publish: a frame of 256 bytes (too big for the red zone, so clang publishes it), written with
# stores at addresses the compiler folds, so no bounds check (and no trap call) sits between the
# two global.sets.  $uses_sp calls nothing but reads the pointer; $calls_user reaches it through a
# direct call; $indirect through call_indirect; $plain never.
BODY = """
  (type $v (func))
  (memory 1)
  (table 1 funcref)
  (global $__stack_pointer (mut i32) (i32.const 4096))
  (global $other (mut i32) (i32.const 0))
  (func $publish (export "publish") (param i32 i32)
    (global.set $__stack_pointer (i32.sub (global.get $__stack_pointer) (i32.const 256)))
    (i32.store (i32.const 3840) (local.get 0))
    (i32.store (i32.const 3844) (local.get 1))
    (global.set $__stack_pointer (i32.add (global.get $__stack_pointer) (i32.const 256))))
  (func $uses_sp (result i32) (global.get $__stack_pointer))
  (func $calls_user (export "calls_user") (param i32 i32) (drop (call $uses_sp)))
  (func $indirect (export "indirect") (param i32 i32) (call_indirect (type $v) (i32.const 0)))
  (func $plain (export "plain") (param i32 i32) (global.set $other (local.get 0)))
"""


def wasm(tmp_path, wat: str, names: bool = True) -> bytes:
    if shutil.which("wat2wasm") is None:
        pytest.skip("wabt's wat2wasm is not installed")
    source = tmp_path / "m.wat"
    source.write_text(wat)
    out = tmp_path / "m.wasm"
    subprocess.run(["wat2wasm", *(["--debug-names"] if names else []), str(source), "-o", str(out)], check=True)
    return out.read_bytes()


def test_the_pointer_is_found_by_name_and_by_the_frame_idiom(tmp_path):
    named = decode_module(wasm(tmp_path, f"(module {BODY})"))
    assert named.names.globals[0] == "__stack_pointer"
    assert stack_pointer_global(named) == 0
    stripped = decode_module(wasm(tmp_path, f"(module {BODY})", names=False))
    assert stripped.names.globals == {}
    assert stack_pointer_global(stripped) == 0  # global.get; i32.const; i32.sub; global.set
    # Hand-written code with a mutable global but no frames has no shadow stack.
    assert stack_pointer_global(decode_module(wasm(tmp_path, "(module (global (mut i32) (i32.const 0)))"))) is None


def test_which_exports_may_use_the_stack(tmp_path):
    module = decode_module(wasm(tmp_path, f"(module {BODY})"))
    assert exports_using_stack(module, 0) == {"publish": True, "calls_user": True, "indirect": True,
                                              "plain": False}


def test_only_a_module_importing_signals_gets_the_offset_and_the_fenced_store(tmp_path):
    target = load_target("stm32f4")
    ordinary = compile_module(wasm(tmp_path, f"(module {BODY})"), target, prefix="m")
    interrupted = compile_module(wasm(tmp_path, f"(module {SIGNALS_IMPORT} {BODY})"), target, prefix="m")
    assert not interruptible(ordinary.module) and interruptible(interrupted.module)
    assert "SHADOW_STACK_POINTER_OFFSET" not in ordinary.header
    offset = int(re.search(r"#define m__SHADOW_STACK_POINTER_OFFSET (\d+)u", interrupted.header).group(1))

    def publish(ir: str) -> str:
        return re.search(r"define [^\n]*@wasm\.\d+\.publish\(.*?\n}", ir, re.S).group(0)

    # The optimised IR of $publish: the pointer is `getelementptr ... %instance, i32 OFFSET`.
    def pointer_stores(ir: str) -> list[str]:
        body = publish(ir)
        names = set(re.findall(rf"(%[\w.]+) = getelementptr inbounds (?:nuw )?i8, ptr %instance, i32 {offset}\b",
                               body))
        return [line.strip() for line in body.splitlines()
                if line.strip().startswith("store i32") and line.split(", ptr ")[-1].split(",")[0] in names]

    # Without signals LLVM drops the published frame (the store that a handler would need to see).
    assert len(pointer_stores(ordinary.llvm_ir)) <= 1, publish(ordinary.llvm_ir)
    stores = pointer_stores(interrupted.llvm_ir)
    assert len(stores) == 2, publish(interrupted.llvm_ir)
    lines = [line.strip() for line in publish(interrupted.llvm_ir).splitlines()]
    first = lines.index(stores[0])
    # Fenced on both sides, and before the frame's first store to linear memory.
    assert lines[first - 1].startswith("fence syncscope(\"singlethread\")")
    assert lines[first + 1].startswith("fence syncscope(\"singlethread\")")
    frame_stores = [i for i, line in enumerate(lines) if line.startswith("store i32 %p0")]
    assert frame_stores and first < frame_stores[0]


def test_a_bound_vector_saves_basepri_only_for_a_handler_that_may_call_set_mask(tmp_path):
    wat = f"""(module {SIGNALS_IMPORT}
      (import "wasi-ext:signals/signals@0.1.0" "set-mask" (func $set_mask (param i32) (result i32)))
      (func $masks (drop (call $set_mask (i32.const 1))))
      (func (export "via_call") (param i32 i32) (call $masks))
      (func (export "pends") (param i32 i32) (drop (call $pend (i32.const 0)))))"""
    module = decode_module(wasm(tmp_path, wat))
    grants = [parse_grant("a=soft:0@via_call"), parse_grant("b=soft:1@pends")]
    defines = dict(d.split("=", 1) for d in signal_defines(module, grants, "m", load_target("stm32f4")))
    vectors = defines["WAFT_MAIN_SIGNAL_VECTORS"]
    assert re.search(r"D\(0,[^)]*,_?via_call,0,1\)", vectors), vectors
    assert re.search(r"D\(1,[^)]*,_?pends,0,0\)", vectors), vectors


def test_a_bound_vector_moves_the_pointer_only_for_a_handler_that_may_use_the_stack(tmp_path):
    module = decode_module(wasm(tmp_path, f"(module {SIGNALS_IMPORT} {BODY})"))
    target = load_target("stm32f4")
    grants = [parse_grant("a=soft:0@publish"), parse_grant("b=soft:1@plain"), parse_grant("c=soft:2")]
    defines = dict(d.split("=", 1) for d in signal_defines(module, grants, "m", target))
    assert defines["WAFT_MAIN_SHADOW_STACK"] == "128"
    vectors = defines["WAFT_MAIN_SIGNAL_VECTORS"]
    assert re.search(r"D\(0,[^)]*,_?publish,1,0\)", vectors), vectors
    assert re.search(r"D\(1,[^)]*,_?plain,0,0\)", vectors), vectors
    assert re.search(r"V\(2,", vectors), vectors  # attached at run time: always moves it
    # A module without a shadow stack has nothing to move.
    bare = decode_module(wasm(tmp_path, f"(module {SIGNALS_IMPORT} "
                                        "(func (export \"h\") (param i32 i32)))"))
    defines = dict(d.split("=", 1) for d in signal_defines(bare, [parse_grant("a=soft:0@h")], "m", target))
    assert "WAFT_MAIN_SHADOW_STACK" not in defines
    assert re.search(r"D\(0,[^)]*,0,0\)", defines["WAFT_MAIN_SIGNAL_VECTORS"])
