"""Threads proposal: atomic accesses, wait/notify and fence (aot/lower/atomic.py, runtime_c/src/atomic_wait.c).

On the host: results, the trap order (out of bounds before unaligned), the
narrow forms' wrapping, and wait/notify with one thread (not-equal, a real
timed-out sleep, the deadlock trap, wait on an unshared memory).  On Cortex-M:
the machine code the two architectures get (inline LDREX/STREX on Armv7-M
except for 64 bits; no exclusives at all on Armv6-M, where every atomic is a
call to the runtime's PRIMASK critical sections), and those programs run
under QEMU.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from wasm_host import run_wat, wat_to_wasm

from aot import abi
from aot.compiler import compile_module
from aot.targets import load_target

UNALIGNED = abi.TRAP_CODES["UNALIGNED_ATOMIC"]
OOB = abi.TRAP_CODES["MEMORY_OUT_OF_BOUNDS"]

ATOMICS = r"""
(module
  (memory (export "mem") 1 1 shared)
  (func (export "ld32") (param i32) (result i32) (i32.atomic.load (local.get 0)))
  (func (export "ld32_off1") (param i32) (result i32) (i32.atomic.load offset=1 (local.get 0)))
  (func (export "ld64") (param i32) (result i64) (i64.atomic.load (local.get 0)))
  (func (export "ld8") (param i32) (result i32) (i32.atomic.load8_u (local.get 0)))
  (func (export "st16") (param i32 i64) (i64.atomic.store16 (local.get 0) (local.get 1)))
  (func (export "st64") (param i32 i64) (i64.atomic.store (local.get 0) (local.get 1)))
  (func (export "add8") (param i32 i32) (result i32) (i32.atomic.rmw8.add_u (local.get 0) (local.get 1)))
  (func (export "sub64") (param i32 i64) (result i64) (i64.atomic.rmw.sub (local.get 0) (local.get 1)))
  (func (export "xchg32") (param i32 i64) (result i64) (i64.atomic.rmw32.xchg_u (local.get 0) (local.get 1)))
  (func (export "cas8") (param i32 i32 i32) (result i32)
    (i32.atomic.rmw8.cmpxchg_u (local.get 0) (local.get 1) (local.get 2)))
  (func (export "cas64") (param i32 i64 i64) (result i64)
    (i64.atomic.rmw.cmpxchg (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fence") (atomic.fence))
  (func (export "notify") (param i32 i32) (result i32) (memory.atomic.notify (local.get 0) (local.get 1)))
  (func (export "wait32") (param i32 i32 i64) (result i32)
    (memory.atomic.wait32 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "wait64") (param i32 i64 i64) (result i32)
    (memory.atomic.wait64 (local.get 0) (local.get 1) (local.get 2)))
)
"""

UNSHARED = r"""
(module
  (memory 1 1)
  (func (export "add") (param i32 i32) (result i32) (i32.atomic.rmw.add (local.get 0) (local.get 1)))
  (func (export "notify") (param i32) (result i32) (memory.atomic.notify (local.get 0) (i32.const 1)))
  (func (export "wait32") (param i32) (result i32)
    (memory.atomic.wait32 (local.get 0) (i32.const 0) (i64.const 0)))
)
"""


def test_every_threads_opcode_has_a_handler_here_and_only_here():
    from aot.lower import DISPATCH, atomic
    from aot.wasm import opcodes

    ops = set(opcodes.FE_OPS.values())
    assert len(ops) == 67  # 4 + 7 loads + 7 stores + 6 x 7 read-modify-writes + 7 compare-exchanges
    assert set(atomic.HANDLERS) == ops
    assert all(DISPATCH[op] is atomic.HANDLERS[op] for op in ops)


@pytest.mark.parametrize("opt", ["0", "2"])
def test_atomic_results_and_trap_order(tmp_path, opt):
    lines = run_wat(tmp_path, ATOMICS, r"""
        m_st64(inst, 0, 0x1122334455667788LL);
        printf("%08x %08x %016llx %02x\n", (unsigned)m_ld32(inst, 0), (unsigned)m_ld32_off1(inst, 3),
               (unsigned long long)m_ld64(inst, 0), (unsigned)m_ld8(inst, 7));
        TRY(m_ld32(inst, 1));
        TRY(m_ld32_off1(inst, 0));
        TRY(m_ld64(inst, 4));
        TRY(m_st16(inst, 3, 0));
        TRY(m_ld32(inst, 65535));      /* out of bounds and misaligned: bounds first */
        TRY(m_ld64(inst, 65536 - 8));  /* the last aligned cell */
        TRY(m_ld64(inst, -8));
        /* Each result is read before the memory it changed (C leaves argument order open). */
        unsigned r8 = (unsigned)m_add8(inst, 0, 0x1ff);
        printf("%02x %02x\n", r8, (unsigned)m_ld8(inst, 0));
        unsigned long long r64 = (unsigned long long)m_sub64(inst, 0, 1);
        printf("%016llx %016llx\n", r64, (unsigned long long)m_ld64(inst, 0));
        r64 = (unsigned long long)m_xchg32(inst, 8, 0xabcdef0123456789LL);
        printf("%llx %08x\n", r64, (unsigned)m_ld32(inst, 8));
        /* cmpxchg compares the low 8 bits of `expected` with the byte in memory */
        r8 = (unsigned)m_cas8(inst, 1, 0x177, 0xee);
        printf("%02x %02x\n", r8, (unsigned)m_ld8(inst, 1));
        r8 = (unsigned)m_cas8(inst, 1, 0x77, 0x11);
        printf("%02x %02x\n", r8, (unsigned)m_ld8(inst, 1));
        printf("%d\n", m_cas64(inst, 16, 1, 2) == 0 && m_ld64(inst, 16) == 0);
        m_fence(inst);
    """, opt=opt, features=("threads",))
    assert lines == [
        "55667788 11223344 1122334455667788 11",
        f"trap {UNALIGNED}", f"trap {UNALIGNED}", f"trap {UNALIGNED}", f"trap {UNALIGNED}",
        f"trap {OOB}", "ok", f"trap {OOB}",
        "88 87",
        "1122334455667787 1122334455667786",
        "0 23456789",
        "77 ee",
        "ee ee",
        "1",
    ]


def test_wait_and_notify_on_one_thread(tmp_path):
    lines = run_wat(tmp_path, ATOMICS, r"""
        m_st64(inst, 0, 0x0000000500000007LL);
        printf("%d %d\n", m_wait32(inst, 0, 6, -1), m_wait64(inst, 0, 7, -1));  /* not-equal, at once */
        printf("%d %d\n", m_wait32(inst, 0, 7, 0), m_wait64(inst, 0, 0x0000000500000007LL, 0));
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        int timed_out = m_wait32(inst, 4, 5, 30 * 1000 * 1000);  /* 30 ms */
        clock_gettime(CLOCK_MONOTONIC, &b);
        long long ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
        printf("%d %d\n", timed_out, ns >= 30 * 1000 * 1000);
        printf("%d %d\n", m_notify(inst, 0, 1), m_notify(inst, 0, 0));
        TRY(m_wait32(inst, 0, 7, -1));  /* nobody can notify: deadlock */
        TRY(m_wait64(inst, 4, 0, 0));   /* unaligned for 8 bytes */
        TRY(m_notify(inst, 2, 1));
    """, features=("threads",), extra_c="#include <time.h>\n")
    assert lines == ["1 1", "2 2", "2 1", "0 0",
                     f"trap {abi.TRAP_CODES['DEADLOCK']}", f"trap {UNALIGNED}", f"trap {UNALIGNED}"]


def test_atomics_on_an_unshared_memory(tmp_path):
    lines = run_wat(tmp_path, UNSHARED, r"""
        int first = m_add(inst, 8, 3), second = m_add(inst, 8, 4);  /* in this order */
        printf("%d %d %d\n", first, second, m_notify(inst, 8));
        TRY(m_wait32(inst, 8));
        TRY(m_wait32(inst, 9));  /* the alignment check comes first */
    """, features=("threads",))
    assert lines == ["0 3 0", f"trap {abi.TRAP_CODES['EXPECTED_SHARED_MEMORY']}", f"trap {UNALIGNED}"]


def test_own_shared_memory_is_reached_through_the_instance_pointer(tmp_path):
    """A second instance whose memory pointer is redirected to the first one's memory
    sees its data: what a thread instance will do (docs/abi.md, "Shared memories")."""
    lines = run_wat(tmp_path, ATOMICS, r"""
        m__instance *other = calloc(1, sizeof(m__instance));
        if (m__instantiate(other, &imports) != WAFT_TRAP_NONE) return 1;
        m_st64(inst, 0, 42);
        /* The instance's first pointer slot is its memory's (no function imports here). */
        *(waft_memory **)other = m_mem(inst);
        printf("%lld %d\n", (long long)m_ld64(other, 0), m_mem(other) == m_mem(inst));
        m_add8(other, 0, 1);
        printf("%lld\n", (long long)m_ld64(inst, 0));
    """, features=("threads",))
    assert lines == ["42 1", "43"]


# --- Cortex-M: the machine code, linked with the runtime and run under QEMU --------------------

REPO = Path(__file__).resolve().parents[2]

CM_WAT = r"""
(module
  (memory (export "mem") 1 1 shared)
  (func (export "add32") (param i32 i32) (result i32) (i32.atomic.rmw.add (local.get 0) (local.get 1)))
  (func (export "cas16") (param i32 i32 i32) (result i32)
    (i32.atomic.rmw16.cmpxchg_u (local.get 0) (local.get 1) (local.get 2)))
  (func (export "ld32") (param i32) (result i32) (i32.atomic.load (local.get 0)))
  (func (export "add64") (param i32 i64) (result i64) (i64.atomic.rmw.add (local.get 0) (local.get 1)))
  (func (export "wait32") (param i32 i32) (result i32)
    (memory.atomic.wait32 (local.get 0) (local.get 1) (i64.const 0)))
)
"""

CM_MAIN = r"""#include <stdio.h>
#include "m.h"
static m__instance inst;
int main(void) {
    m__imports imports = {0};
    if (m__instantiate(&inst, &imports) != WAFT_TRAP_NONE) return 1;
    int a = m_add32(&inst, 0, 5);
    int b = m_add32(&inst, 0, 7);
    int c = m_cas16(&inst, 0, 12, 0x1234);
    int d = m_cas16(&inst, 0, 12, 1);
    int e = m_ld32(&inst, 0);
    uint64_t f = (uint64_t)m_add64(&inst, 8, 0x100000000LL);
    uint64_t g = (uint64_t)m_add64(&inst, 8, 0x100000001LL);
    int not_equal = m_wait32(&inst, 0, 0);
    int timed_out = m_wait32(&inst, 0, 0x1234);
    /* newlib-nano's printf has no %ll: 64-bit values as two 32-bit halves */
    printf("%d %d %d %x %x %lx:%lx %lx:%lx %d %d\n", a, b, c, d, e, (unsigned long)(f >> 32),
           (unsigned long)f, (unsigned long)(g >> 32), (unsigned long)g, not_equal, timed_out);
    return 0;
}
"""
CM_OUTPUT = "0 5 12 1234 1234 0:0 1:0 1 2\n"


def _disassemble(path: Path) -> str:
    return subprocess.run(["arm-none-eabi-objdump", "-d", str(path)], capture_output=True, text=True,
                          check=True).stdout


def _function(dump: str, name: str) -> str:
    match = re.search(rf"<{re.escape(name)}>:\n(.*?)(?:\n\n|\Z)", dump, re.S)
    assert match, f"{name} is not in the image"
    return match.group(1)


def _build(tmp_path: Path, target_name: str) -> tuple[Path, Path]:
    from waftkit.firmware.link import link
    from waftkit.firmware.runtime import runtime_library

    target = load_target(target_name)
    result = compile_module(wat_to_wasm(CM_WAT, tmp_path, "m", ("threads",)), target, prefix="m")
    (tmp_path / "m.o").write_bytes(result.object)
    (tmp_path / "m.h").write_text(result.header)
    (tmp_path / "main.c").write_text(CM_MAIN)
    lib = runtime_library(target, REPO / "build")
    elf = link(target, [tmp_path / "main.c", tmp_path / "m.o", lib], tmp_path / "m.elf",
               cflags=[f"-I{tmp_path}"])
    return tmp_path / "m.o", elf


@pytest.mark.qemu
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
@pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed")
@pytest.mark.parametrize("target_name", ["cortex-m0plus", "stm32f4"])
def test_cortex_m_atomics_use_the_right_instructions_and_run(tmp_path, target_name):
    from waftkit.runners.qemu import run_elf

    obj, elf = _build(tmp_path, target_name)
    module = _disassemble(obj)
    image = _disassemble(elf)
    calls = set(re.findall(r"bl\s+[0-9a-f]+ <(__atomic_\w+)>", image))
    if target_name == "cortex-m0plus":
        # Armv6-M: no exclusive access anywhere; every atomic is a runtime call.
        assert not re.search(r"\b(ldrex|strex)", module), module
        assert {"__atomic_fetch_add_4", "__atomic_compare_exchange_2", "__atomic_load_4",
                "__atomic_fetch_add_8"} <= calls, calls
        helpers = ["__atomic_fetch_add_4", "__atomic_compare_exchange_2", "__atomic_load_4",
                   "__atomic_fetch_add_8"]
    else:
        # Armv7-M: 8-, 16- and 32-bit atomics inline, 64-bit ones through the runtime.
        assert re.search(r"\bldrex\b", module) and re.search(r"\bstrexh\b", module), module
        assert calls & {"__atomic_fetch_add_4", "__atomic_compare_exchange_2", "__atomic_load_4"} == set()
        assert "__atomic_fetch_add_8" in calls, calls
        helpers = ["__atomic_fetch_add_8"]
    for helper in helpers:
        body = _function(image, helper)
        # A PRIMASK critical section: saved, interrupts masked, restored.
        assert re.search(r"mrs\s+\w+, PRIMASK", body) and "cpsid" in body, body
        assert re.search(r"msr\s+PRIMASK, \w+", body), body
    result = run_elf(load_target(target_name), elf, timeout=60)
    assert (result.returncode, result.stdout) == (0, CM_OUTPUT), result.stderr
