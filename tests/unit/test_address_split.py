"""Array indexing into linear memory: `(base + constant) + scaled index` (aot/lower/memory.access_pointer).

A C array in linear memory is indexed as `i32.load offset=TABLE (i << 2)` or
`(i << 2) + TABLE`.  On 32-bit Arm the lowering applies the constant to the
memory base (loop-invariant) so the load is `ldr rT, [rB, rI, lsl #2]`, as
native code indexes a global array; the bounds check still tests the Wasm
address, including i32 wraparound.  These tests prove both: the shape of the
machine code, and the traps (and wrapped addresses that land in bounds) under
QEMU on the Cortex-M4.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from board_run import PRELUDE, board_test, run_on_board
from wasm_host import wat_to_wasm

from aot.compiler import compile_module
from aot.targets import load_target


WAT = r"""
(module
  (memory (export "mem") 1 1)
  (func $sum_offset (export "sum_offset") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $s (i32.add (local.get $s) (i32.load offset=1024 (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $s))
  (func $sum_add (export "sum_add") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $s (i32.add (local.get $s)
        (i32.load16_u (i32.add (i32.shl (local.get $i) (i32.const 1)) (i32.const 2048)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $s))
  (func (export "lookup") (param $x i32) (param $n i32) (result i32) (local $i i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $x (i32.xor (local.get $i)
        (i32.load offset=1024 (i32.shl (i32.and (local.get $x) (i32.const 0x3fff)) (i32.const 2)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $x))
  (func (export "lookup16") (param $x i32) (param $n i32) (result i32) (local $i i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $x (i32.xor (local.get $i)
        (i32.load16_u (i32.add (i32.shl (i32.and (local.get $x) (i32.const 0x7fff)) (i32.const 1))
                               (i32.const 2048)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $x))
  (func (export "crc") (param $n i32) (result i32) (local $i i32) (local $c i32)
    (local.set $c (i32.const -1))
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $c (i32.xor (i32.shr_u (local.get $c) (i32.const 8))
        (i32.load (i32.add (i32.const 2048) (i32.shl (i32.and (i32.xor (local.get $c)
          (i32.load8_u offset=1088 (local.get $i))) (i32.const 255)) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $c))
  (func (export "ttable") (param $x i32) (param $n i32) (result i32) (local $i i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $x (i32.xor (i32.mul (local.get $i) (i32.const 40503))
        (i32.xor (i32.load offset=64600 (i32.and (i32.shr_u (local.get $x) (i32.const 6)) (i32.const 1020)))
                 (i32.load offset=5120 (i32.and (i32.shl (local.get $x) (i32.const 2)) (i32.const 1020))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $x))
  (func (export "sbox") (param $x i32) (param $n i32) (result i32) (local $i i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $x (i32.xor (i32.mul (local.get $i) (i32.const 40503))
        (i32.or (i32.shl (local.get $x) (i32.const 8))
                (i32.load8_u offset=65300 (i32.and (i32.shr_u (local.get $x) (i32.const 8)) (i32.const 255))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $x))
  (func (export "tconst") (param $x i32) (param $n i32) (result i32)
    (call $tptr (i32.const 4096) (local.get $x) (local.get $n)))
  (func $tptr (export "tptr") (param $t i32) (param $x i32) (param $n i32) (result i32) (local $i i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $x (i32.xor (local.get $i)
        (i32.xor (i32.load (i32.add (local.get $t) (i32.and (i32.shr_u (local.get $x) (i32.const 6)) (i32.const 1020))))
                 (i32.load offset=1024 (i32.add (i32.and (i32.shl (local.get $x) (i32.const 2)) (i32.const 1020))
                                                (local.get $t))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (local.get $x))
  (func (export "wrapped") (param i32) (result i32)
    (i32.load (i32.add (i32.shl (local.get 0) (i32.const 2)) (i32.const -8))))
)
"""

MAIN = PRELUDE + r"""int main(void) {
    m__imports imports = {0};
    if (m__instantiate(&inst, &imports) != WAFT_TRAP_NONE) return 1;
    uint8_t *mem = m_mem(&inst)->base;
    for (int i = 0; i < 65536; i++) mem[i] = (uint8_t) (i * 7 + (i >> 8));
    TRY(m_sum_offset(&inst, 16));
    TRY(m_sum_offset(&inst, 16128));  /* the last word: 1024 + 4 * 16127 + 4 == 65536 */
    TRY(m_sum_offset(&inst, 16129));  /* one past it */
    TRY(m_sum_add(&inst, 16));
    TRY(m_sum_add(&inst, 31744));     /* the last halfword: 2048 + 2 * 31743 + 2 == 65536 */
    TRY(m_sum_add(&inst, 31745));
    for (uint32_t x = 0; x < 40; x += 3) TRY(m_lookup(&inst, x * 977, 8));
    TRY(m_lookup(&inst, 16127, 1));
    TRY(m_lookup(&inst, 16128, 1));   /* 1024 + 4 * 16128: one word past the end */
    for (uint32_t x = 0; x < 40; x += 3) TRY(m_lookup16(&inst, x * 977, 8));
    TRY(m_lookup16(&inst, 31743, 1));
    TRY(m_lookup16(&inst, 31744, 1));
    TRY(m_crc(&inst, 1024));
    for (uint32_t x = 0; x < 60; x += 7) TRY(m_ttable(&inst, x * 40503u, 6));
    TRY(m_ttable(&inst, 932u << 6, 1));  /* 64600 + 932 + 4 == 65536: the last word */
    TRY(m_ttable(&inst, 936u << 6, 1));  /* one word past it */
    for (uint32_t x = 0; x < 60; x += 7) TRY(m_sbox(&inst, x * 40503u, 6));
    TRY(m_sbox(&inst, 235u << 8, 1));    /* 65300 + 235 + 1 == 65536: the last byte */
    TRY(m_sbox(&inst, 236u << 8, 1));
    for (uint32_t x = 0; x < 60; x += 7) TRY(m_tconst(&inst, x * 40503u, 6));
    TRY(m_tptr(&inst, 2000, 977, 6));
    TRY(m_tptr(&inst, 63500, 1008u << 6 | 252u, 1));  /* 63500 + 1024 + 1008 + 4 == 65536: in bounds */
    TRY(m_tptr(&inst, 63500, 1012u << 6 | 253u, 1));  /* the second load one word past the end */
    TRY(m_tptr(&inst, 0xfffff000u, 5, 1));            /* the table pointer wraps: out of bounds */
    TRY(m_wrapped(&inst, 2));         /* 8 - 8: word 0 */
    TRY(m_wrapped(&inst, 1));         /* 4 - 8 wraps to 0xfffffffc: out of bounds */
    TRY(m_wrapped(&inst, 0x40000003)); /* (12 mod 2^32) - 8: word 4, in bounds after wrapping twice */
    TRY(m_wrapped(&inst, 0x40000001)); /* 4 - 8 again */
    return 0;
}
"""


def _expected() -> list[str]:
    """What a Wasm engine must print for MAIN (computed here from the bytes main writes)."""
    mem = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(65536))

    def word(at: int) -> int:
        return int.from_bytes(mem[at:at + 4], "little")

    def half(at: int) -> int:
        return int.from_bytes(mem[at:at + 2], "little")

    def signed(v: int) -> int:
        return v - (1 << 32) if v >= 1 << 31 else v

    oob = "trap 2"

    def lookup(x: int, n: int, size: int, base: int, mask: int) -> str:
        for i in range(n):
            at = base + size * (x & mask)
            if at + size > 65536:
                return oob
            x = (word(at) if size == 4 else half(at)) ^ i
        return str(signed(x))

    def crc(n: int) -> str:
        c = 0xFFFFFFFF
        for i in range(n):
            c = (c >> 8) ^ word(2048 + 4 * ((c ^ mem[1088 + i]) & 255))
        return str(signed(c))

    def ttable(x: int, n: int) -> str:
        for i in range(n):
            high, low = 64600 + ((x >> 6) & 1020), 5120 + ((x << 2) & 1020)
            if high + 4 > 65536:
                return oob
            x = ((i * 40503) ^ word(high) ^ word(low)) & 0xFFFFFFFF
        return str(signed(x))

    def sbox(x: int, n: int) -> str:
        for i in range(n):
            at = 65300 + ((x >> 8) & 255)
            if at >= 65536:
                return oob
            x = ((i * 40503) ^ (((x << 8) | mem[at]) & 0xFFFFFFFF)) & 0xFFFFFFFF
        return str(signed(x))

    def tptr(t: int, x: int, n: int) -> str:
        for i in range(n):
            first, second = (t + ((x >> 6) & 1020)) & 0xFFFFFFFF, (t + ((x << 2) & 1020)) & 0xFFFFFFFF
            if first + 4 > 65536 or second + 1024 + 4 > 65536:
                return oob
            x = (i ^ word(first) ^ word(second + 1024)) & 0xFFFFFFFF
        return str(signed(x))

    tables = [ttable(x * 40503, 6) for x in range(0, 60, 7)] + [ttable(932 << 6, 1), ttable(936 << 6, 1)]
    tables += [sbox(x * 40503, 6) for x in range(0, 60, 7)] + [sbox(235 << 8, 1), sbox(236 << 8, 1)]
    tables += [tptr(4096, x * 40503, 6) for x in range(0, 60, 7)]
    tables += [tptr(2000, 977, 6), tptr(63500, 1008 << 6 | 252, 1), tptr(63500, 1012 << 6 | 253, 1),
               tptr(0xFFFFF000, 5, 1)]
    assert tables[-4:].count(oob) == 2 and tables.count(oob) >= 6 and len(set(tables)) > 12
    lookups = [lookup(x * 977, 8, 4, 1024, 0x3FFF) for x in range(0, 40, 3)]
    lookups += [lookup(16127, 1, 4, 1024, 0x3FFF), lookup(16128, 1, 4, 1024, 0x3FFF)]
    lookups += [lookup(x * 977, 8, 2, 2048, 0x7FFF) for x in range(0, 40, 3)]
    lookups += [lookup(31743, 1, 2, 2048, 0x7FFF), lookup(31744, 1, 2, 2048, 0x7FFF)]
    assert oob in lookups and len(set(lookups)) > 3  # the data makes both outcomes happen
    return [str(signed(sum(word(1024 + 4 * i) for i in range(16)) & 0xFFFFFFFF)),
            str(signed(sum(word(1024 + 4 * i) for i in range(16128)) & 0xFFFFFFFF)), oob,
            str(sum(half(2048 + 2 * i) for i in range(16))),
            str(sum(half(2048 + 2 * i) for i in range(31744)) & 0xFFFFFFFF), oob, *lookups,
            crc(1024), *tables, str(signed(word(0))), oob, str(signed(word(4))), oob]


REG = r"(?:r\d+|sl|fp|ip|lr)"  # a core register as objdump spells it


def _function(dump: str, name: str) -> str:
    match = re.search(rf"<{re.escape(name)}>:\n(.*?)(?:\n\n|\Z)", dump, re.DOTALL)
    assert match, f"{name} is not in the object:\n{dump}"
    return match.group(1)


@pytest.mark.skipif(shutil.which("arm-none-eabi-objdump") is None, reason="arm-none-eabi binutils not installed")
def test_scaled_index_loads_use_register_offset_addressing(tmp_path):
    result = compile_module(wat_to_wasm(WAT, tmp_path, "m"), load_target("stm32f4"), prefix="m")
    (tmp_path / "m.o").write_bytes(result.object)
    dump = subprocess.run(["arm-none-eabi-objdump", "-d", "--no-show-raw-insn", str(tmp_path / "m.o")],
                          capture_output=True, text=True, check=True).stdout
    # The functions, by their export names (the exports are aliases of them): crc is a byte stream
    # and a table, as the crc32 workload.  (LLVM proves the plain sums' loop bounds once and walks a
    # pointer: nothing to see there.)
    # ttable is a table-driven cipher's round (AES): a word table indexed by `(x >> 6) & 1020`, a
    # masked index with no shift of its own, and another by `(x << 2) & 1020`.  tconst is the same
    # round with the tables passed by pointer (`T + index`), once inlined where the pointer is a
    # constant (in bounds by construction then, so no check is left).
    for name, load, shift, checked in (("m_lookup", "ldr", 2, True), ("m_lookup16", "ldrh", 1, True),
                                       ("m_crc", "ldr", 2, False), ("m_ttable", "ldr", 2, True),
                                       ("m_tconst", "ldr", 2, False)):
        body = _function(dump, name)
        # The load takes the (scaled) index as a register offset from a hoisted `base + TABLE`,
        # with no add in front of it (unsplit: `add rA, rB, rI, lsl #k; ldr rT, [rA, #TABLE]`).
        assert re.search(rf"\b{load}(\.w)?\s+{REG}, \[{REG}, {REG}(, lsl #{shift})?\]", body), body
        assert not re.search(rf"\badd(\.w)?\s+{REG}, {REG}, {REG}, lsl #{shift}", body), body
        # ...and the bounds check is still in the loop: a compare and a branch to the trap (crc's
        # `(c & 255) * 4 + 2048` is in bounds by construction: LLVM rightly drops its check).
        assert not checked or re.search(r"\bcmp(\.w)?\b", body) and re.search(r"\bb(hi|hs|cs)(\.w)?\b", body), body


@board_test
def test_scaled_index_bounds_and_wraparound_on_cortex_m4(tmp_path):
    assert run_on_board(tmp_path, wat_to_wasm(WAT, tmp_path, "m"), MAIN).lines == _expected()
