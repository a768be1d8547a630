"""memcpy and memset compiled from their builtin bodies (aot/lower/libc_builtins.py).

Proven here: which functions are recognised (by the name section's name and
C's type, never in a stripped module, never under another name); that their
code becomes one check per range and LLVM's memcpy/memset, and a function
with the same body under another name keeps its loop; and, run on the host,
that they compute what the loops compute, that an empty copy anywhere is no
trap, and that an out-of-bounds or wrapping copy traps MEMORY_OUT_OF_BOUNDS
before writing a byte (the loop writes the bytes below the bound first: the
one difference the module docstring names).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from wasm_host import require_tools, run_c

from aot.compiler import compile_module
from aot.lower.libc_builtins import recognised
from aot.targets import load_target
from aot.wasm.decode import decode_module

BYTE_COPY = """(local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get 2)))
      (i32.store8 (i32.add (local.get 0) (local.get $i)) (i32.load8_u (i32.add (local.get 1) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get 0)"""
BYTE_FILL = """(local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get 2)))
      (i32.store8 (i32.add (local.get 0) (local.get $i)) (local.get 1))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get 0)"""
WAT = f"""(module
  (memory (export "mem") 1 1)
  (func $memcpy (export "memcpy") (param i32 i32 i32) (result i32) {BYTE_COPY})
  (func $memset (export "memset") (param i32 i32 i32) (result i32) {BYTE_FILL})
  (func $copy_loop (export "copy_loop") (param i32 i32 i32) (result i32) {BYTE_COPY})
  (func $strlen (export "strlen") (param i32) (result i32) (local.get 0))
  (func (export "byte") (param i32) (result i32) (i32.load8_u (local.get 0))))"""


def assemble(tmp_path: Path, wat: str, names: bool = True) -> bytes:
    require_tools()
    (tmp_path / "m.wat").write_text(wat)
    flags = ["--debug-names"] if names else []
    subprocess.run(["wat2wasm", *flags, str(tmp_path / "m.wat"), "-o", str(tmp_path / "m.wasm")], check=True)
    return (tmp_path / "m.wasm").read_bytes()


def test_memcpy_and_memset_are_recognised_by_name_and_c_type_only(tmp_path):
    assert recognised(decode_module(assemble(tmp_path, WAT))) == {0: "memcpy", 1: "memset"}
    assert recognised(decode_module(assemble(tmp_path, WAT, names=False))) == {}
    wrong_type = '(module (memory 1) (func $memcpy (param i32 i32) (result i32) (local.get 0)))'
    assert recognised(decode_module(assemble(tmp_path, wrong_type))) == {}
    no_memory = '(module (func $memcpy (param i32 i32 i32) (result i32) (local.get 0)))'
    assert recognised(decode_module(assemble(tmp_path, no_memory))) == {}


@pytest.mark.parametrize("target", ["host", "stm32f4"])
def test_their_code_is_a_check_per_range_and_the_c_library_call(tmp_path, target):
    result = compile_module(assemble(tmp_path, WAT), load_target(target), prefix="m", opt="2")

    def body(index: int, name: str) -> str:
        return re.search(rf"define [^\n]*@\"?wasm\.{index}\.{name}\"?\(.*?\n}}", result.llvm_ir, re.S).group(0)

    assert re.search(r"call void @llvm\.memcpy|call [^\n]*@memcpy\(", body(0, "memcpy"))
    assert re.search(r"call void @llvm\.memset|call [^\n]*@memset\(", body(1, "memset"))
    # The byte loop stays a loop (a phi carries its index round the back edge), not a memcpy call.
    assert re.search(r"= phi ", body(2, "copy_loop")) and "memcpy" not in body(2, "copy_loop")


def test_they_compute_what_the_loops_compute_and_trap_before_writing(tmp_path):
    compiled = compile_module(assemble(tmp_path, WAT), load_target("host"), prefix="m", opt="2")
    main = r"""
        m__instance *inst = calloc(1, sizeof(m__instance));
        m__imports imports; memset(&imports, 0, sizeof imports);
        if (m__instantiate(inst, &imports) != WAFT_TRAP_NONE) { printf("instantiate failed\n"); return 1; }
        uint8_t *mem = ((waft_memory *)m_mem(inst))->base;
        for (int i = 0; i < 64; i++) mem[i] = (uint8_t)(i * 7);
        TRY(printf("%d\n", (int)m_memcpy(inst, 1000, 3, 40)));
        TRY(printf("%d\n", (int)m_copy_loop(inst, 2000, 3, 40)));
        printf("%s\n", memcmp(mem + 1000, mem + 2000, 40) == 0 && mem[1000] == 21 ? "same" : "differ");
        TRY(printf("%d\n", (int)m_memset(inst, 3000, 0x1AB, 17)));
        printf("%d %d %d\n", mem[3000], mem[3016], mem[3017]);
        /* Nothing to copy: no access, no trap, wherever dst and src point. */
        TRY(printf("%u\n", (unsigned)m_memcpy(inst, -1, -1, 0)));
        TRY(printf("%u\n", (unsigned)m_memset(inst, 70000, 0, 0)));
        /* Past the end: the builtin traps before any byte moves, the loop after writing those below the end. */
        mem[65530] = 1;
        TRY(m_memcpy(inst, 65530, 0, 10));
        printf("%d\n", mem[65530]);
        TRY(m_copy_loop(inst, 65530, 0, 10));
        printf("%d\n", mem[65530]);
        TRY(m_memset(inst, 65535, 9, 2)); /* the loop above left 35 there: still 35, not 9 */
        printf("%d\n", mem[65535]);
        TRY(m_memcpy(inst, 0, 65530, 10)); /* the source past the end */
        TRY(m_memcpy(inst, 0xFFFFFFF0u, 0, 0x20)); /* dst + n wraps */
        TRY(m_memset(inst, 16, 0, 0xFFFFFFF8u));
        free(inst);
    """
    program = run_c(tmp_path, {}, main, prebuilt={"m": compiled})
    assert program.returncode == 0, program.stdout
    assert program.stdout.splitlines() == [
        "1000", "ok", "2000", "ok", "same",
        "3000", "ok", "171 171 0",
        "4294967295", "ok", "70000", "ok",
        "trap 2", "1", "trap 2", "0", "trap 2", "35",
        "trap 2", "trap 2", "trap 2",
    ]


def test_an_internal_memcpy_keeps_its_entry_stack_check(tmp_path):
    """The loop is a leaf only checked code calls (no stack check, aot/lower/leaves.py); the builtin calls C."""
    wat = f"""(module (memory 1)
      (func $memcpy (param i32 i32 i32) (result i32) {BYTE_COPY})
      (func (export "run") (param i32) (result i32) (call $memcpy (local.get 0) (i32.const 0) (i32.const 8))))"""
    result = compile_module(assemble(tmp_path, wat), load_target("stm32f4"), prefix="m", opt="0")
    body = re.search(r"define [^\n]*@\"?wasm\.0\.memcpy\"?\(.*?\n}", result.unoptimised_ir, re.S).group(0)
    assert "waft_stack_limit" in body, body
