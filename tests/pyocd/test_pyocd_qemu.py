"""pyOCD drives QEMU through the `qemu` debug-probe plugin: load, run, semihosting, traps, faults, debugging.

Everything here runs for real: pyOCD's FileProgrammer writes the image into
QEMU's flash through the GDB stub, pyOCD's Cortex-M driver resets and runs the
core, and pyOCD's SemihostAgent serves the program's output and exit.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aot.compiler import compile_module
from aot.targets import load_target
from waftkit.firmware.link import link
from waftkit.firmware.runtime import runtime_library
from waftkit.runners.pyocd_runner import (
    SymbolTable,
    ensure_qemu_plugin,
    open_session,
    run_elf_pyocd,
)
from waftkit.runners.qemu import run_elf

REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"),
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed"),
]

# $explode is internal and named, so its symbol is wasm.<index>.explode; "boom" reaches it
# through the table (call_indirect), exported so that the host may change it: LLVM cannot
# know the callee, so it cannot inline it into the export.
TRAP_WAT = """(module
  (type $t (func (param i32) (result i32)))
  (table (export "table") 1 funcref)
  (elem (i32.const 0) $explode)
  (func $explode (type $t)
    (if (i32.eq (local.get 0) (i32.const 7)) (then unreachable))
    (i32.mul (local.get 0) (i32.const 3)))
  (func (export "calm") (param i32) (result i32) (call $explode (local.get 0)))
  (func (export "boom") (param i32) (result i32)
    (i32.add (call_indirect (type $t) (local.get 0) (i32.const 0))
             (call_indirect (type $t) (i32.add (local.get 0) (i32.const 1)) (i32.const 0)))))"""

MAIN_C = r"""#include <stdint.h>
#include <stdio.h>
#include "m.h"
static m__instance inst;
static void boom6(void *i, void *unused) { (void) unused; m_boom((m__instance *) i, 6); }
int main(void) {
    m__imports imports = {0};
    if (m__instantiate(&inst, &imports) != WAFT_TRAP_NONE) return 1;
    printf("calm %d\n", (int) m_calm(&inst, 2));
#if defined(FAULT)
    printf("%u\n", (unsigned) *(volatile uint32_t *) 0x30000000u);  /* no memory there: BusFault */
#elif defined(TRAP)
    printf("boom %d\n", (int) m_boom(&inst, 6));
#elif defined(GUARDED)
    printf("guarded boom: trap %d\n", (int) waft_call_guarded(boom6, &inst, 0));
#endif
    return EXIT_CODE;
}
"""


@pytest.fixture(scope="module")
def stm32f4():
    ensure_qemu_plugin()
    return load_target("stm32f4")


def build(tmp_path: Path, target, *defines: str) -> Path:
    wat = tmp_path / "m.wat"
    wat.write_text(TRAP_WAT)
    subprocess.run(["wat2wasm", "--debug-names", str(wat), "-o", str(tmp_path / "m.wasm")], check=True)
    result = compile_module((tmp_path / "m.wasm").read_bytes(), target, prefix="m")
    (tmp_path / "m.o").write_bytes(result.object)
    (tmp_path / "m.h").write_text(result.header)
    (tmp_path / "main.c").write_text(MAIN_C)
    lib = runtime_library(target, REPO / "build")
    return link(target, [tmp_path / "main.c", tmp_path / "m.o", lib], tmp_path / "m.elf",
                cflags=[f"-I{tmp_path}", *(f"-D{d}" for d in defines)])


def test_pyocd_runs_an_image_and_serves_its_semihosting(tmp_path: Path, stm32f4):
    elf = build(tmp_path, stm32f4, "EXIT_CODE=0")
    result = run_elf_pyocd(stm32f4, elf, timeout=30)
    assert (result.returncode, result.stdout, result.fault) == (0, "calm 6\n", None)
    # The same program under plain QEMU semihosting says the same.
    plain = run_elf(stm32f4, elf, timeout=30)
    assert (plain.returncode, plain.stdout) == (result.returncode, result.stdout)


def test_failing_image_reports_its_exit_status(tmp_path: Path, stm32f4):
    result = run_elf_pyocd(stm32f4, build(tmp_path, stm32f4, "EXIT_CODE=5"), timeout=30)
    assert (result.returncode, result.stdout) == (5, "calm 6\n")


def test_trap_is_reported_with_its_wasm_function(tmp_path: Path, stm32f4):
    elf = build(tmp_path, stm32f4, "EXIT_CODE=0", "TRAP")
    result = run_elf_pyocd(stm32f4, elf, timeout=30)
    assert result.returncode == 70  # WAFT_TRAP_EXIT_STATUS: the runtime's own report ran too
    assert "waft: trap: unreachable" in result.stdout + result.stderr
    assert result.fault is not None and result.fault.kind == "trap"
    assert result.fault.function is not None and result.fault.function.endswith(".explode")
    assert (result.fault.wasm_index, result.fault.wasm_name) == (0, "explode")
    assert result.fault.trap == "UNREACHABLE"
    assert ('waft: trap (UNREACHABLE) in Wasm function 0 "explode" (wasm.0.explode), '
            'waft_trap called from 0x') in result.stderr


def test_traps_caught_by_a_trap_frame_are_not_failures(tmp_path: Path, stm32f4):
    """waft_call_guarded catches the trap (the runtime reports it as a status): no fault."""
    elf = build(tmp_path, stm32f4, "EXIT_CODE=0", "GUARDED")
    result = run_elf_pyocd(stm32f4, elf, timeout=30)
    assert (result.returncode, result.fault) == (0, None)
    assert result.stdout == "calm 6\nguarded boom: trap 1\n"


def test_hardfault_halts_with_pc_and_fault_registers(tmp_path: Path, stm32f4):
    elf = build(tmp_path, stm32f4, "EXIT_CODE=0", "FAULT")
    result = run_elf_pyocd(stm32f4, elf, timeout=30)
    fault = result.fault
    assert fault is not None and fault.kind == "hardfault"
    assert fault.function == "main"
    assert fault.registers["hfsr"] & (1 << 30)        # FORCED: escalated to HardFault
    assert fault.registers["cfsr"] & 0xFF00            # a BusFault
    assert f"waft: hardfault in main, pc {fault.pc:#010x}; lr " in result.stderr and "cfsr" in result.stderr
    # Then the image's own fault handler reported and exited (status 3), as under QEMU.
    assert result.returncode == 3 and "@fault" in result.stdout


def test_timeout_halts_and_says_where(tmp_path: Path, stm32f4):
    src = tmp_path / "spin.c"
    src.write_text("int main(void) { for (volatile int i = 0;; i++) {} }\n")
    elf = link(stm32f4, [src], tmp_path / "spin.elf")
    result = run_elf_pyocd(stm32f4, elf, timeout=0.5)
    assert result.timed_out and result.returncode is None
    assert result.fault is not None and result.fault.function == "main"


def test_pyocd_debugs_the_emulated_board(tmp_path: Path, stm32f4):
    """Breakpoints, halt/step/resume and register/memory access through pyOCD's own API."""
    from pyocd.core.target import Target
    from pyocd.flash.file_programmer import FileProgrammer

    elf = build(tmp_path, stm32f4, "EXIT_CODE=0")
    main = SymbolTable(elf).addresses["main"]
    with open_session(stm32f4, "qemu:netduinoplus2") as session:
        core = session.target
        assert session.board.target_type == "qemu_netduinoplus2"
        FileProgrammer(session).program(str(elf))
        core.reset_and_halt()
        assert core.get_halt_reason() == Target.HaltReason.VECTOR_CATCH
        assert core.read_core_register("pc") == core.read32(0x08000004) & ~1  # the reset vector
        core.set_breakpoint(main)
        core.resume()
        _wait_halted(core)
        assert core.read_core_register("pc") == main
        assert core.get_halt_reason() == Target.HaltReason.BREAKPOINT
        core.remove_breakpoint(main)
        core.step()
        assert core.read_core_register("pc") != main
        core.write_core_register("r7", 0x1234ABCD)
        assert core.read_core_register("r7") == 0x1234ABCD
        core.write32(0x2001FF00, 0xCAFEF00D)
        assert core.read32(0x2001FF00) == 0xCAFEF00D
        assert bytes(core.read_memory_block8(0x08000000, 8)) == elf_vector_head(elf)
        # The first printf reaches semihosting: BKPT 0xAB halts the core, as with halting debug on.
        core.resume()
        _wait_halted(core)
        assert core.get_halt_reason() == Target.HaltReason.BREAKPOINT
        assert core.read16(core.read_core_register("pc")) == 0xBEAB
        # A `b .` written to RAM runs until halted.
        core.write16(0x2001FF10, 0xE7FE)
        core.write_core_register("pc", 0x2001FF10)
        core.resume()
        assert core.get_state() == Target.State.RUNNING
        core.halt()
        assert core.get_state() == Target.State.HALTED
        assert core.read_core_register("pc") == 0x2001FF10


def test_closing_the_probe_ends_qemu(stm32f4):
    from pyocd.probe.aggregator import DebugProbeAggregator

    # Not listed among attached probes unless asked for by name: it never shadows a board.
    assert all(p.vendor_name != "QEMU" for p in DebugProbeAggregator.get_all_connected_probes())
    probe = DebugProbeAggregator.get_probe_with_id("qemu:netduinoplus2")
    probe.open()
    proc = probe._proc
    assert proc is not None and proc.poll() is None
    probe.close()
    assert proc.poll() is not None


def _wait_halted(core, timeout: float = 10.0) -> None:
    import time

    from pyocd.core.target import Target

    deadline = time.monotonic() + timeout
    while core.get_state() != Target.State.HALTED:
        assert time.monotonic() < deadline, "core did not halt"
        time.sleep(0.001)


def elf_vector_head(elf: Path) -> bytes:
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as f:
        for seg in ELFFile(f).iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_paddr"] == 0x08000000:
                return seg.data()[:8]
    raise AssertionError("no segment at the flash base")
