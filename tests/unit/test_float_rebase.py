"""Floats in static arrays, loaded from a base register near the array (aot/lower/memory.py `_rebased_float_pointer`).

On a Cortex-M with an FPU, VLDR/VSTR reach 1020 bytes from their base
register; clang's static data starts at 1024, so Waft moves the high part of
a float access's constant into a hoisted register.  These tests prove the
machine code is shorter for it, and that the accesses still read and write
the right bytes and trap where Wasm says, under QEMU on the Cortex-M4: a
dot product over two arrays, a load and a store of one element through a
local with a down-counter below zero (biquad's shape), the last word of
memory and one past it (offset 65532, and an index that would wrap), a
store that must not happen, and an unaligned float (VLDR would fault).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess

import pytest
from board_run import PRELUDE, board_test, run_on_board
from wasm_host import wat_to_wasm

from aot.compiler import compile_module
from aot.lower import memory
from aot.targets import load_target


WAT = r"""
(module
  (memory (export "mem") 1 1)
  (func (export "dot") (param $n i32) (result i32) (local $i i32) (local $s f32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $s (f32.add (local.get $s)
        (f32.mul (f32.load offset=2112 (i32.shl (local.get $i) (i32.const 2)))
                 (f32.load offset=3136 (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (i32.trunc_f32_s (local.get $s)))
  (func (export "scale") (param $n i32) (result i32) (local $i i32) (local $p i32) (local $s f32)
    (local.set $i (i32.mul (local.get $n) (i32.const -4)))
    (loop
      (local.set $p (i32.add (local.get $i) (i32.const 8192)))
      (f32.store (local.get $p) (f32.mul (f32.load (local.get $p)) (f32.const 2)))
      (local.set $s (f32.add (local.get $s) (f32.load (local.get $p))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if 0 (i32.ne (local.get $i) (i32.const 0))))
    (i32.trunc_f32_s (local.get $s)))
  (func (export "last") (param $k i32) (result i32)
    (i32.trunc_f32_s (f32.load offset=65532 (local.get $k))))
  (func (export "put") (param $k i32) (result i32)
    (f32.store offset=65532 (local.get $k) (f32.const 99))
    (i32.const 0))
  (func (export "odd") (param $i i32) (result i32)
    (i32.reinterpret_f32 (f32.load offset=2049 (i32.shl (local.get $i) (i32.const 2)))))
)
"""

MAIN = PRELUDE + r"""int main(void) {
    m__imports imports = {0};
    if (m__instantiate(&inst, &imports) != WAFT_TRAP_NONE) return 1;
    uint8_t *mem = m_mem(&inst)->base;
    for (uint32_t x = 0; x < 65536; x += 4) {
        float v = (float) ((int) ((x / 4) % 13) - 6);
        memcpy(mem + x, &v, 4);
    }
    TRY(m_dot(&inst, 1));
    TRY(m_dot(&inst, 200));
    TRY(m_scale(&inst, 1));
    TRY(m_scale(&inst, 300));
    TRY(m_last(&inst, 0));
    TRY(m_last(&inst, 1));             /* 65533 + 4 > 65536 */
    TRY(m_last(&inst, 0xfffffffcu));   /* 65532 + 2^32 - 4: the effective address does not wrap */
    TRY(m_put(&inst, 0));
    TRY(m_last(&inst, 0));
    TRY(m_put(&inst, 4));              /* out of bounds: nothing is written */
    TRY(m_last(&inst, 0));
    TRY(m_odd(&inst, 0));
    TRY(m_odd(&inst, 7));
    return 0;
}
"""


def _expected() -> list[str]:
    """What a Wasm engine prints for MAIN: every value is a small integer, so float sums are exact."""
    def value(x: int) -> float:
        return float((x // 4) % 13 - 6)

    mem = bytearray(b"".join(struct.pack("<f", value(x)) for x in range(0, 65536, 4)))

    def load(x: int) -> float:
        return struct.unpack("<f", mem[x:x + 4])[0]

    def dot(n: int) -> str:
        return str(int(sum(load(2112 + 4 * i) * load(3136 + 4 * i) for i in range(n))))

    def scale(n: int) -> str:
        total = 0.0
        for i in range(-4 * n, 0, 4):
            mem[8192 + i:8192 + i + 4] = struct.pack("<f", load(8192 + i) * 2)
            total += load(8192 + i)
        return str(int(total))

    def odd(i: int) -> str:
        bits = int.from_bytes(mem[2049 + 4 * i:2053 + 4 * i], "little")
        return str(bits - (1 << 32) if bits >= 1 << 31 else bits)

    lines = [dot(1), dot(200), scale(1), scale(300), str(int(load(65532))), "trap 2", "trap 2"]
    mem[65532:65536] = struct.pack("<f", 99.0)
    lines += ["0", "99", "trap 2", "99", odd(0), odd(7)]
    return lines


def _function(dump: str, name: str) -> list[str]:
    body = dump.split(f"<{name}>:\n", 1)[1].split("\n\n", 1)[0]
    return [line for line in body.splitlines() if line.strip()]


@pytest.mark.skipif(shutil.which("arm-none-eabi-objdump") is None, reason="arm-none-eabi binutils not installed")
def test_float_loads_from_static_arrays_take_immediate_offsets(tmp_path, monkeypatch):
    def dot_body() -> list[str]:
        result = compile_module(wat_to_wasm(WAT, tmp_path, "m"), load_target("stm32f4"), prefix="m")
        (tmp_path / "m.o").write_bytes(result.object)
        dump = subprocess.run(["arm-none-eabi-objdump", "-d", "--no-show-raw-insn", str(tmp_path / "m.o")],
                              capture_output=True, text=True, check=True).stdout
        return _function(dump, "m_dot")

    def address_adds(body: list[str]) -> list[str]:
        """Adds of an immediate past VLDR's reach: an address computed before a load."""
        return [line for line in body if re.search(r"\baddw?(\.w)?\s+\w+, \w+, #(\d+)", line)
                and int(re.search(r"#(\d+)", line).group(1)) > 1020]

    rebased = dot_body()
    monkeypatch.setattr(memory, "FLOAT_REBASE_STEP", 1 << 20)  # no constant reaches it: nothing rebased
    plain = dot_body()
    assert address_adds(plain), plain  # the second array's loads, 1024 bytes past the first's register
    assert not address_adds(rebased) and sum("vldr" in line for line in rebased) >= 2, rebased


@board_test
def test_rebased_floats_read_write_and_trap_like_wasm_on_cortex_m4(tmp_path):
    run = run_on_board(tmp_path, wat_to_wasm(WAT, tmp_path, "m"), MAIN)
    assert "memory.at2048" in run.result.llvm_ir  # the rebased path is the one under test
    assert run.lines == _expected()
