"""Per-loop unrolling hints (aot/lower/loop_hints.py): which loops touch memory, and the `llvm.loop` node.

tests/unit/test_emit.py shows the effect (a loop that stores is not unrolled
with a run-time count at -O2, one that computes in registers is); these
tests pin down the pieces: the scan, and the node LLVM must recognise as a
loop ID (distinct, its first operand itself), or it would ignore the hint.
"""

from __future__ import annotations

import re

import pytest
from wasm_host import wat_to_wasm

from aot.compiler import compile_module
from aot.lower.loop_hints import finish_metadata, touches_memory
from aot.targets import load_target
from aot.wasm.module import Instr


def _loop(*ops: str) -> list[Instr]:
    return [Instr("loop"), *(Instr(op) for op in ops), Instr("end"), Instr("i32.load")]


@pytest.mark.parametrize("ops,touches", [
    (("local.get", "i32.const", "i32.add", "local.set", "br_if"), False),
    (("local.get", "f32.load", "drop"), True),
    (("block", "local.get", "i64.store8", "end"), True),  # in a block inside the loop
    (("loop", "call", "end"), True),  # in a nested loop
    (("memory.fill",), True),
    (("call_indirect",), True),
])
def test_touches_memory_looks_at_the_whole_loop_and_nothing_after_it(ops, touches):
    assert touches_memory(_loop(*ops), 0) is touches  # (the load after the loop's end is not in it)


def test_loop_nodes_become_distinct_and_self_referential():
    lines = ['!7 = !{ !"llvm.loop.unroll.runtime.disable" }', '!8 = !{ !"waft.loop.1", !7 }', '!9 = !{ !"waft tbaa" }']
    assert finish_metadata(lines) == [lines[0], "!8 = distinct !{!8, !7 }", lines[2]]


def test_llvm_keeps_the_hint_on_the_loop_it_belongs_to(tmp_path):
    wat = """(module (memory 1 1)
      (func (export "fill") (param $i i32) (param $n i32)
        (block (loop (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
          (i32.store (i32.shl (local.get $i) (i32.const 2)) (local.get $i))
          (local.set $i (i32.add (local.get $i) (i32.const 1))) (br 0)))))"""
    ir = compile_module(wat_to_wasm(wat, tmp_path, "m"), load_target("stm32f4"), prefix="m").llvm_ir
    loop_ids = re.findall(r"!llvm\.loop (!\d+)", ir)
    assert loop_ids, ir
    node = re.search(rf"^{re.escape(loop_ids[0])} = distinct !\{{{re.escape(loop_ids[0])}, (!\d+)", ir, re.M)
    assert node, ir
    assert re.search(rf'^{re.escape(node.group(1))} = !\{{!"llvm\.loop\.unroll\.runtime\.disable"\}}', ir, re.M), ir
