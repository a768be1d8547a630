"""Linear memory: bounds-checked loads/stores, grow, bulk operations, segments (aot/lower/memory.py)."""

from __future__ import annotations

import pytest
from wasm_host import run_c, run_wat, wat_to_wasm

MEMORY = r"""
(module
  (memory (export "mem") 1 3)
  (data (i32.const 16) "\01\02\03\04\05\06\07\08\ff")
  (data $passive "hello")
  (func (export "load8_s") (param i32) (result i32) (i32.load8_s (local.get 0)))
  (func (export "load8_u") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load16_s") (param i32) (result i32) (i32.load16_s (local.get 0)))
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
  (func (export "load64_32s") (param i32) (result i64) (i64.load32_s offset=4 (local.get 0)))
  (func (export "load_far") (param i32) (result i32) (i32.load offset=0xffffffff (local.get 0)))
  (func (export "store32") (param i32 i32) (i32.store offset=1 (local.get 0) (local.get 1)))
  (func (export "store16") (param i32 i64) (i64.store16 (local.get 0) (local.get 1)))
  (func (export "f32_roundtrip") (param i32 i32) (result i32)
    (f32.store (local.get 0) (f32.load (local.get 1)))
    (i32.load (local.get 0)))
  (func (export "f64_roundtrip") (param i32 i32) (result i64)
    (f64.store (local.get 0) (f64.load (local.get 1)))
    (i64.load (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i32 i32 i32) (memory.init $passive (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop") (data.drop $passive))
)
"""


@pytest.mark.parametrize("opt", ["0", "2"])
def test_loads_stores_and_bounds(tmp_path, opt):
    lines = run_wat(tmp_path, MEMORY, r"""
        printf("%d %d %d\n", m_load8_s(inst, 24), m_load8_u(inst, 24), m_load16_s(inst, 23));
        printf("%08x %016llx %lld\n", (unsigned)m_load32(inst, 17), (unsigned long long)m_load64(inst, 16),
               (long long)m_load64_32s(inst, 17));
        TRY(m_load32(inst, 65532));
        TRY(m_load32(inst, 65533));
        TRY(m_load32(inst, -1));
        TRY(m_load_far(inst, 0));
        TRY(m_load_far(inst, 1));
        TRY(m_store32(inst, 65531, 7));
        TRY(m_store32(inst, 65532, 7));
        m_store16(inst, 100, 0x123456789abcLL);
        printf("%08x\n", (unsigned)m_load32(inst, 100));
        uint8_t *base = m_mem(inst)->base;
        uint32_t snan = 0x7fa00001u; memcpy(base + 200, &snan, 4);
        printf("%08x\n", (unsigned)m_f32_roundtrip(inst, 300, 200));
        uint64_t snan64 = 0x7ff0000000000001ull; memcpy(base + 208, &snan64, 8);
        printf("%016llx\n", (unsigned long long)m_f64_roundtrip(inst, 400, 208));
    """, opt=opt)
    assert lines == [
        "-1 255 -248",
        "05040302 0807060504030201 -16251130",
        "ok", "trap 2", "trap 2", "trap 2", "trap 2", "ok", "trap 2",
        "00009abc",
        "7fa00001",
        "7ff0000000000001",
    ]


def test_grow_size_and_bulk(tmp_path):
    lines = run_wat(tmp_path, MEMORY, r"""
        int a = m_size(inst), b = m_grow(inst, 1);
        printf("%d %d\n", a, b);
        a = m_size(inst); b = m_grow(inst, 2); int c = m_grow(inst, 1);
        printf("%d %d %d\n", a, b, c);
        printf("%d %d\n", m_size(inst), (int)m_mem(inst)->size);
        TRY(m_load32(inst, 3 * 65536 - 4));
        TRY(m_load32(inst, 3 * 65536 - 3));
        TRY(m_fill(inst, 1000, 0xab, 4)); printf("%08x\n", (unsigned)m_load32(inst, 1000));
        TRY(m_fill(inst, 3 * 65536, 0, 1));
        TRY(m_fill(inst, 3 * 65536, 0, 0));
        TRY(m_copy(inst, 1001, 1000, 3)); printf("%08x\n", (unsigned)m_load32(inst, 1000));
        TRY(m_init(inst, 2000, 1, 4)); printf("%08x\n", (unsigned)m_load32(inst, 2000));
        TRY(m_init(inst, 2000, 2, 4));
        m_drop(inst);
        TRY(m_init(inst, 2000, 0, 1));
        TRY(m_init(inst, 2000, 0, 0));
    """)
    assert lines == [
        "1 1",
        "2 -1 2",
        "3 196608",
        "ok", "trap 2",
        "ok", "abababab",
        "trap 2",
        "ok",
        "ok", "abababab",
        "ok", "6f6c6c65",
        "trap 2",
        "trap 2",
        "ok",
    ]


def test_memory_cap_limits_growth(tmp_path):
    wat = '(module (memory (export "mem") 1) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))'
    lines = run_wat(tmp_path, wat, r"""
        int a = m_grow(inst, 1), b = m_grow(inst, 1);
        printf("%d %d %d\n", a, b, (int)m_mem(inst)->max_pages);
    """, memory_cap_pages=2)
    assert lines == ["1 -1 2"]


def test_active_data_out_of_bounds_traps_at_instantiation(tmp_path):
    wat = r"""
    (module (memory (export "mem") 1)
      (data (i32.const 0) "ab")
      (data (i32.const 65535) "cd"))
    """
    program = run_c(tmp_path, {"m": wat}, r"""
        m__instance *inst = calloc(1, sizeof *inst); m__imports imports;
        printf("%d\n", (int)m__instantiate(inst, &imports));
        printf("%c\n", m_mem(inst)->base[1]);
    """)
    assert program.stdout.splitlines() == ["2", "b"]


def test_custom_page_size(tmp_path):
    """1-byte pages (custom-page-sizes): sizes, growth and bounds count bytes."""
    wat = r"""
    (module (memory (export "mem") 1 6)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "size") (result i32) (memory.size))
      (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
      (func (export "load32") (param i32) (result i32) (i32.load (local.get 0))))
    """
    data = wat_to_wasm(wat, tmp_path, "plain")
    # wabt 1.0.32 cannot write page sizes: set limits flag bit 3 and append log2 = 0.
    old = bytes([5, 4, 1, 0x01, 1, 6])
    assert data.count(old) == 1
    data = data.replace(old, bytes([5, 5, 1, 0x09, 1, 6, 0]))
    (tmp_path / "m.wasm").write_bytes(data)
    from aot.compiler import compile_module
    from aot.targets import load_target

    result = compile_module(data, load_target("host"), prefix="m")
    assert result.module.memories[0].limits.page_size_log2 == 0
    lines = run_c(tmp_path, {}, r"""
        m__instance *inst = calloc(1, sizeof *inst); m__imports imports;
        if (m__instantiate(inst, &imports)) return 1;
        TRY(m_load8(inst, 0)); TRY(m_load8(inst, 1));
        int a = m_grow(inst, 3); printf("%d %d\n", a, m_size(inst));
        TRY(m_load8(inst, 3)); TRY(m_load8(inst, 4)); TRY(m_load32(inst, 0));
        a = m_grow(inst, 3); printf("%d %d %d\n", a, m_size(inst), (int)m_mem(inst)->page_size_log2);
    """, prebuilt={"m": result}).stdout.splitlines()
    assert lines == ["ok", "trap 2", "1 4", "ok", "trap 2", "ok", "-1 4 0"]


@pytest.mark.parametrize("wat_limits, cap", [("1 1", None), ("1", 1)])
def test_memory_that_cannot_grow_has_a_fixed_bound(tmp_path, wat_limits, cap):
    wat = f"""
    (module (memory (export "mem") {wat_limits})
      (func (export "load32") (param i32) (result i32) (i32.load offset=2 (local.get 0)))
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "size") (result i32) (memory.size)))
    """
    lines = run_wat(tmp_path, wat, r"""
        TRY(m_load32(inst, 65530)); TRY(m_load32(inst, 65531)); TRY(m_load32(inst, -2));
        int a = m_grow(inst, 1); printf("%d %d %d\n", a, m_size(inst), (int)m_mem(inst)->size);
    """, memory_cap_pages=cap)
    assert lines == ["ok", "trap 2", "trap 2", "-1 1 65536"]


# Natural-alignment hints (the text format's default) at aligned and misaligned addresses.
ALIGNMENT = r"""
(module
  (memory (export "mem") 1 1)
  (func (export "ld16") (param i32) (result i32) (i32.load16_u (local.get 0)))
  (func (export "ld32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "ld64") (param i32) (result i64) (i64.load (local.get 0)))
  (func (export "ld32_hint1") (param i32) (result i32) (i32.load align=1 (local.get 0)))
  (func (export "st32") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "st64") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
  (func (export "f64_copy") (param i32 i32) (f64.store (local.get 0) (f64.load (local.get 1)))))
"""


@pytest.mark.parametrize("opt", ["0", "2"])
def test_strict_alignment_targets_work_at_any_address(tmp_path, opt):
    """The aligned-word and byte-wise paths of a strict-alignment target give the same bytes (run on the host)."""
    import dataclasses

    from aot.targets import load_target

    strict_host = dataclasses.replace(load_target("host"), strict_alignment=True)
    lines = run_wat(tmp_path, ALIGNMENT, r"""
        uint8_t *base = m_mem(inst)->base;
        for (int i = 0; i < 64; i++) base[i] = (uint8_t) (i * 7 + 1);
        for (uint32_t a = 0; a < 9; a++)
            printf("%04x %08x %016llx %08x\n", (unsigned) m_ld16(inst, a), (unsigned) m_ld32(inst, a),
                   (unsigned long long) m_ld64(inst, a), (unsigned) m_ld32_hint1(inst, a));
        for (uint32_t a = 100; a < 105; a++) {
            m_st32(inst, a, 0x11223344); m_st64(inst, a + 8, 0x0102030405060708LL);
            m_f64_copy(inst, a + 24, a + 8);
            printf("%08x %016llx\n", (unsigned) m_ld32(inst, a), (unsigned long long) m_ld64(inst, a + 24));
        }
    """, opt=opt, target=strict_host)
    image = bytes((i * 7 + 1) & 0xFF for i in range(64))
    expected = [f"{int.from_bytes(image[a:a + 2], 'little'):04x} {int.from_bytes(image[a:a + 4], 'little'):08x} "
                f"{int.from_bytes(image[a:a + 8], 'little'):016x} {int.from_bytes(image[a:a + 4], 'little'):08x}"
                for a in range(9)]
    expected += ["11223344 0102030405060708"] * 5
    assert lines == expected


def test_strict_alignment_tests_the_address_only_for_natural_hints(tmp_path):
    """cortex-m0plus: a naturally hinted i32.load is a word load behind an alignment test, with a call
    to the byte-wise helper as the fallback; an align=1 hint goes straight to bytes; stm32f4
    (unaligned words allowed) never tests."""
    from aot.compiler import compile_module
    from aot.targets import load_target

    wasm = wat_to_wasm(ALIGNMENT, tmp_path, "align")

    def body(target: str, export: str) -> str:
        llvm_ir = compile_module(wasm, load_target(target), prefix="m").llvm_ir
        index = {"ld32": 1, "ld32_hint1": 3}[export]
        text = llvm_ir[llvm_ir.index(f"@wasm.{index}("):]
        return text[:text.index("\n}\n")]

    import re

    def word_loads(text: str) -> list[str]:  # loads from linear memory (%ptr), not from @globals
        return re.findall(r"load i32, ptr %[\w.]+, align (\d+)", text)

    natural = body("cortex-m0plus", "ld32")
    assert word_loads(natural) == ["4"] and "@waft.load.bytes.i32(" in natural and "and i32" in natural, natural
    hint1 = body("cortex-m0plus", "ld32_hint1")
    assert word_loads(hint1) == ["1"] and "and i32" not in hint1, hint1
    unaligned_ok = body("stm32f4", "ld32")
    assert word_loads(unaligned_ok) == ["1"] and "and i32" not in unaligned_ok, unaligned_ok


ALIGNED_INDEX = r"""
(module
  (memory 1 1)
  (func (export "getf") (param i32) (result f32)
    (f32.load offset=8 (i32.shl (local.get 0) (i32.const 2))))
  (func (export "getd") (param i32) (result f64)
    (f64.load offset=16 (i32.shl (local.get 0) (i32.const 3))))
  (func (export "any") (param i32) (result f32) (f32.load (local.get 0))))
"""


def test_an_address_known_to_be_aligned_gets_an_aligned_access(tmp_path):
    """An own memory starts 16-aligned in an 8-aligned instance: `8 + 4 * i` is a 4-aligned address
    in the machine's memory too, so the f32 load is an FPU load (vldr), not ldr + vmov; an address
    of unknown alignment keeps the byte-aligned access the Wasm semantics need."""
    import re

    from aot.compiler import compile_module
    from aot.targets import load_target

    llvm_ir = compile_module(wat_to_wasm(ALIGNED_INDEX, tmp_path, "aligned"), load_target("stm32f4"), prefix="m").llvm_ir

    def loads(index: int) -> list[str]:
        text = llvm_ir[llvm_ir.index(f"@wasm.{index}("):]
        return re.findall(r"load (\w+), ptr %[\w.]+, align (\d+)", text[:text.index("\n}\n")])

    assert re.search(r"@wasm\.0\(ptr [^)]*align 8", llvm_ir), "the instance parameter carries its alignment"
    assert loads(0) == [("float", "4")] and loads(1) == [("double", "8")], (loads(0), loads(1))
    assert loads(2) == [("float", "1")]


# A checked loop whose index is a parameter-bounded count: one bounds check per iteration.
CHECKED_LOOP = r"""
(module
  (memory 1 1)
  (func (export "sum") (param $p i32) (param $n i32) (result i32) (local $s i32)
    (block (loop
      (br_if 1 (i32.eqz (local.get $n)))
      (local.set $s (i32.add (local.get $s) (i32.load (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 12)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br 0)))
    (local.get $s)))
"""


def test_a_check_costs_no_trap_code_on_its_fast_path(tmp_path):
    """Each trap code has a trap block of its own, so a check in a loop is compare + branch only:
    with one shared block whose phi takes the code, every check also moved the code into a
    register on the fast path (`mov.w r1, #2` before each `bhi`), every iteration."""
    import re
    import shutil
    import subprocess

    from aot.compiler import compile_module
    from aot.targets import load_target

    objdump = shutil.which("arm-none-eabi-objdump")
    if objdump is None:
        pytest.skip("arm-none-eabi-objdump is not installed")
    result = compile_module(wat_to_wasm(CHECKED_LOOP, tmp_path, "loop"), load_target("stm32f4"), prefix="m")
    assert "@waft_trap(i32 %" not in result.llvm_ir  # every trap call has its code as a constant
    obj = tmp_path / "m.o"
    obj.write_bytes(result.object)
    text = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(obj)], capture_output=True, text=True,
                          check=True).stdout
    lines = [(int(m.group(1), 16), m.group(2)) for m in re.finditer(r"^\s+([0-9a-f]+):\s+(.*)$", text, re.M)]
    loops = [(int(m.group(1), 16), address) for address, insn in lines
             if (m := re.match(r"b\w*(?:\.[nw])?\s+([0-9a-f]+) <", insn)) and int(m.group(1), 16) < address]
    assert loops, text
    start, end = loops[0]
    body = [insn for address, insn in lines if start <= address <= end]
    assert any(re.match(r"b(hi|cs|hs)", insn) for insn in body), body  # the check is in the loop
    assert not [insn for insn in body if re.match(r"movs?(\.w)?\s+r\d+, #2$", insn)], body
