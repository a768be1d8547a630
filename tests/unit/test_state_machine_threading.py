"""Switch-in-a-loop state machines are jump-threaded (aot/emit.py enables LLVM's DFA jump threading).

A `br_table` on a state local, inside a loop, whose every arm sets the next
state to a constant: LLVM's DFAJumpThreading clones the arms so each jumps
straight to the next state's code (blocks named `.jt<state>`), leaving no
`switch` to dispatch through.  The threaded code must still compute what the
Wasm says: the module is run on the host against a Python model.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from wasm_host import run_wat, wat_to_wasm

from aot.compiler import compile_module
from aot.targets import load_target

# States: 0 start, 1 just after a comma (counts it), 2 inside a word until a '.'.
STATE_MACHINE = """(module
  (memory (export "mem") 1 1)
  (func (export "count") (param $p i32) (param $n i32) (result i32)
    (local $state i32) (local $count i32) (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $c (i32.load8_u (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (block $end
          (block $s2
            (block $s1
              (block $s0
                (br_table $s0 $s1 $s2 (local.get $state)))
              (local.set $state (if (result i32) (i32.eq (local.get $c) (i32.const 44))
                                  (then (i32.const 1)) (else (i32.const 2))))
              (br $end))
            (local.set $count (i32.add (local.get $count) (i32.const 1)))
            (local.set $state (i32.const 0))
            (br $end))
          (local.set $state (if (result i32) (i32.eq (local.get $c) (i32.const 46))
                              (then (i32.const 0)) (else (i32.const 2)))))
        (br $next)))
    (local.get $count)))
"""


def model(text: bytes) -> int:
    state = count = 0
    for c in text:
        if state == 0:
            state = 1 if c == ord(",") else 2
        elif state == 1:
            count, state = count + 1, 0
        else:
            state = 0 if c == ord(".") else 2
    return count


@pytest.mark.parametrize("target_name", ["host", "stm32f4"])
def test_state_machine_loop_is_threaded(tmp_path: Path, target_name: str):
    result = compile_module(wat_to_wasm(STATE_MACHINE, tmp_path), load_target(target_name), prefix="m")
    body = result.llvm_ir[result.llvm_ir.index("@wasm.0("):]
    body = body[:body.index("\n}\n")]
    assert ".jt" in body and "switch" not in body, body


def test_threaded_state_machine_computes_the_same(tmp_path: Path):
    inputs = [b"", b",", b",,", b"a.,,x", b",a,.,,b.,", b"..,,,..,x,y.z,,"]
    lines = []
    for text in inputs:
        literal = "".join(f"\\x{b:02x}" for b in text)
        lines.append(f'memcpy(m_mem(inst)->base, "{literal}", {len(text)}); '
                     f'printf("%u\\n", (unsigned) m_count(inst, 0, {len(text)}));')
    out = run_wat(tmp_path, STATE_MACHINE, "\n".join(lines))
    assert [int(line) for line in out] == [model(text) for text in inputs]
