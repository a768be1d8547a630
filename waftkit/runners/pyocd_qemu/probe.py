"""A pyOCD debug probe whose target is a QEMU Cortex-M machine, reached through QEMU's GDB stub.

pyOCD talks to real probes in Arm Debug Interface terms: DP and AP registers,
and memory through a MEM-AP, in which the core's debug registers (DHCSR,
DCRSR, DEMCR, the FPB...) live.  QEMU offers none of that; its GDB stub offers
registers, memory, run control and breakpoints instead.  This probe bridges
the two, so that all of pyOCD (its Cortex-M core driver, FileProgrammer,
SemihostAgent, commander, gdbserver) runs unchanged against an emulated board:

- the DP and one AHB-AP answer their ID, power-up and CSW/TAR/DRW registers;
- the MEM-AP's memory interface forwards memory to QEMU (`m`/`M`) except the
  debug-only parts of the System Control Space, which it models:
  DHCSR (halt, step, resume, status), DCRSR/DCRDR (core registers through `p`/`P`),
  DEMCR (reset and HardFault vector catch), DFSR (why the core halted),
  AIRCR resets (`monitor system_reset`), the FPB (hardware breakpoints as `Z1`),
  an empty DWT, and a ROM table that leads pyOCD's discovery to them.
- `BKPT` halts the core, as it does on a real core with halting debug on.
  QEMU without its own semihosting would instead raise a HardFault, so the
  probe puts a GDB breakpoint on every BKPT instruction in the memory it wrote
  (a breakpoint on a halfword that is not an instruction is simply never hit).
  pyOCD's SemihostAgent then serves the semihosting calls.

QEMU runs with -S (stopped) and without its own semihosting, one process per
open probe, on a free TCP port; close() always ends it.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Collection, Sequence
from typing import Any, Callable

from pyocd.core import exceptions
from pyocd.core.memory_interface import MemoryInterface
from pyocd.probe.debug_probe import DebugProbe

from waftkit.runners.pyocd_qemu.gdb_client import GdbError, GdbRemote

LOG = logging.getLogger(__name__)

# The probe's unique id is "<machine>", selected as "qemu:<machine>".
PLUGIN_NAME = "qemu"

# QEMU machine -> pyOCD target type (see waftkit.runners.pyocd_qemu.targets).
MACHINE_TARGETS = {"netduinoplus2": "qemu_netduinoplus2"}

# ---- debug registers the probe models ----------------------------------------------
AIRCR = 0xE000ED0C
DFSR = 0xE000ED30
DHCSR = 0xE000EDF0
DCRSR = 0xE000EDF4
DCRDR = 0xE000EDF8
DEMCR = 0xE000EDFC
VTOR = 0xE000ED08
SCS_BASE = 0xE000E000
DWT_BASE = 0xE0001000
FPB_BASE = 0xE0002000
ROM_BASE = 0xE00FF000

DBGKEY = 0xA05F0000
C_DEBUGEN, C_HALT, C_STEP, C_MASKINTS = 1 << 0, 1 << 1, 1 << 2, 1 << 3
S_REGRDY, S_HALT, S_RETIRE_ST, S_RESET_ST = 1 << 16, 1 << 17, 1 << 24, 1 << 25
DFSR_HALTED, DFSR_BKPT, DFSR_VCATCH = 1 << 0, 1 << 1, 1 << 3
DEMCR_VC_CORERESET, DEMCR_VC_HARDERR = 1 << 0, 1 << 10
AIRCR_VECTKEY = 0x05FA0000
AIRCR_VECTRESET, AIRCR_SYSRESETREQ = 1 << 0, 1 << 2
DCRSR_REGWNR = 1 << 16

POLL_WAIT = 0.001  # seconds a DHCSR read waits for a running core to stop
FPB_CODE_COMPARATORS = 6
DP_IDR_VALUE = 0x2BA01477  # SW-DP, ADIv5 (as on a Cortex-M4)
AHB_AP_IDR = 0x24770011    # AHB-AP (Cortex-M3/M4)
ARM_JEP106 = (0x4, 0x3B)   # continuation code, identity code


def _component_ids(component_class: int, part: int) -> dict[int, int]:
    """CIDR/PIDR register values (offsets 0xFD0..0xFFC) for an Arm CoreSight component."""
    cont, ident = ARM_JEP106
    pidr = [part & 0xFF, ((ident & 0xF) << 4) | (part >> 8), 0x08 | (ident >> 4), 0]
    cidr = [0x0D, component_class << 4, 0x05, 0xB1]
    regs = {0xFD0: cont}
    regs.update({0xFE0 + 4 * i: v for i, v in enumerate(pidr)})
    regs.update({0xFF0 + 4 * i: v for i, v in enumerate(cidr)})
    return regs


# ROM table class 1; SCS, DWT, FPB are "generic" class 0xE with v7-M part numbers.
_ROM_IDS = _component_ids(0x1, 0x4C4)
_SCS_IDS = _component_ids(0xE, 0x000)
_DWT_IDS = _component_ids(0xE, 0x002)
_FPB_IDS = _component_ids(0xE, 0x003)
_ROM_ENTRIES = [((SCS_BASE - ROM_BASE) & 0xFFFFF000) | 3, ((DWT_BASE - ROM_BASE) & 0xFFFFF000) | 3,
                ((FPB_BASE - ROM_BASE) & 0xFFFFF000) | 3, 0]


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the QEMU child: get SIGKILL when the Python process dies, so no emulator outlives it."""
    try:
        import ctypes
        import signal

        # PR_SET_PDEATHSIG follows the thread that started QEMU: open the probe from a
        # thread that lives as long as the session (pyOCD opens it in the caller's).
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except OSError:
        pass


class QemuGdbProbe(DebugProbe):
    """A pyOCD DebugProbe backed by one QEMU process and its GDB stub."""

    @classmethod
    def get_all_connected_probes(cls, unique_id: str | None = None,
                                 is_explicit: bool = False) -> Sequence[DebugProbe]:
        # An emulator is not "attached": list it only when asked for by name
        # ("qemu:netduinoplus2"), so it never competes with a real probe.
        if not is_explicit or not unique_id:
            return []
        probe = cls.get_probe_with_id(unique_id, is_explicit)
        return [probe] if probe else []

    @classmethod
    def get_probe_with_id(cls, unique_id: str, is_explicit: bool = False) -> DebugProbe | None:
        if unique_id in MACHINE_TARGETS or (is_explicit and unique_id):
            return cls(unique_id)
        return None

    def __init__(self, machine: str, qemu_system: str = "qemu-system-arm") -> None:
        super().__init__()
        self._machine = machine
        self._qemu_system = qemu_system
        self._proc: subprocess.Popen | None = None
        self._log_path: str | None = None
        self._gdb: GdbRemote | None = None
        self._regs: dict[str, tuple[int, int]] = {}
        self._is_open = False
        self._protocol: DebugProbe.Protocol | None = None
        self._reset_asserted = False
        # Modelled debug state.
        self._dhcsr_ctrl = 0
        self._dhcsr_sticky = 0
        self._demcr = 0
        self._dfsr = 0
        self._dcrdr = 0
        self._fp_ctrl = 0
        self._fp_comp = [0] * (FPB_CODE_COMPARATORS + 2)
        self._hw_breakpoints: set[int] = set()
        self._bkpt_sites: set[int] = set()
        self._dirty: list[tuple[int, int]] = []
        self._vc_hardfault_addr: int | None = None
        self._vc_vtor: int | None = None
        # Register values read since the core last halted (a halted core's registers only
        # change when written through the probe).
        self._reg_cache: dict[str, int] = {}
        self._stepping = False
        self._halt_requested = False
        # DP/AP register state.
        self._dp_ctrl = 0
        self._dp_select = 0
        self._csw = 0x23000052
        self._tar = 0
        self._memory = QemuMemoryInterface(self)

    # ---- identity ------------------------------------------------------------------

    @property
    def vendor_name(self) -> str:
        return "QEMU"

    @property
    def product_name(self) -> str:
        return f"GDB stub ({self._machine})"

    @property
    def unique_id(self) -> str:
        return self._machine

    @property
    def supported_wire_protocols(self) -> Collection[DebugProbe.Protocol]:
        return [DebugProbe.Protocol.DEFAULT, DebugProbe.Protocol.SWD]

    @property
    def wire_protocol(self) -> DebugProbe.Protocol | None:
        return self._protocol

    @property
    def is_open(self) -> bool:
        return self._is_open

    @property
    def capabilities(self) -> set[DebugProbe.Capability]:
        return {DebugProbe.Capability.MANAGED_AP_SELECTION, DebugProbe.Capability.MANAGED_DPBANKSEL}

    @property
    def associated_board_info(self):
        from pyocd.board.board_ids import BoardInfo

        target = MACHINE_TARGETS.get(self._machine)
        return BoardInfo(f"QEMU {self._machine}", target, None, "QEMU") if target else None

    def create_associated_board(self):
        from pyocd.board.board import Board

        from waftkit.runners.pyocd_qemu import targets

        targets.register()
        info = self.associated_board_info
        return Board(self.session, board_info=info) if info else None

    @property
    def log_path(self) -> str | None:
        """QEMU's own stdout/stderr, for failure messages."""
        return self._log_path

    # ---- open/close: the QEMU process ----------------------------------------------------

    def open(self) -> None:
        exe = shutil.which(self._qemu_system)
        if exe is None:
            raise exceptions.ProbeError(f"{self._qemu_system} not found (install qemu-system-arm)")
        log = tempfile.NamedTemporaryFile(prefix=f"qemu-{self._machine}-", suffix=".log", delete=False)
        self._log_path = log.name
        # A port can be taken between choosing it and QEMU binding it: retry a few times.
        for _attempt in range(5):
            port = free_tcp_port()
            # nodelay: without it each request waits on Nagle's algorithm (~0.5 ms instead
            # of ~0.08 ms), and semihosting makes thousands of requests.
            cmd = [exe, "-M", self._machine, "-nographic", "-monitor", "none", "-serial", "null",
                   "-S", "-chardev", f"socket,id=gdb0,host=127.0.0.1,port={port},server=on,"
                   "wait=off,nodelay=on", "-gdb", "chardev:gdb0"]
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                          preexec_fn=_die_with_parent)
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline and self._proc.poll() is None:
                try:
                    self._gdb = GdbRemote("127.0.0.1", port)
                    break
                except OSError:
                    time.sleep(0.02)
            if self._gdb is not None:
                break
            self._kill()
        log.close()
        if self._gdb is None:
            raise exceptions.ProbeError(f"QEMU ({self._machine}) did not start; see {self._log_path}")
        self._regs = self._gdb.register_map()
        self._gdb.query_stop()
        self._is_open = True

    def close(self) -> None:
        try:
            if self._gdb is not None:
                self._gdb.close()  # QEMU is killed below: no need for a polite detach
        finally:
            self._gdb = None
            self._kill()
            self._is_open = False

    def _kill(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            self._proc = None

    def __del__(self) -> None:
        self._kill()

    # ---- connection, clock, reset -----------------------------------------------------

    def connect(self, protocol: DebugProbe.Protocol | None = None) -> None:
        self._protocol = DebugProbe.Protocol.SWD

    def disconnect(self) -> None:
        self._protocol = None

    def set_clock(self, frequency: float) -> None:
        pass  # no wire to clock

    def reset(self) -> None:
        self._system_reset()

    def assert_reset(self, asserted: bool) -> None:
        # The emulated nRESET: the core resets when it is released.
        if self._reset_asserted and not asserted:
            self._system_reset()
        self._reset_asserted = asserted

    def is_reset_asserted(self) -> bool:
        return self._reset_asserted

    @property
    def gdb(self) -> GdbRemote:
        if self._gdb is None:
            raise exceptions.ProbeDisconnected("the QEMU probe is not open")
        return self._gdb

    def _system_reset(self) -> None:
        gdb = self.gdb
        if gdb.running:
            gdb.interrupt()
        # QEMU resets the machine and stays stopped: the core has reloaded SP and PC
        # from the vector table the debugger wrote.
        gdb.monitor("system_reset")
        self._reg_cache.clear()
        self._dhcsr_sticky |= S_RESET_ST
        self._halt_requested = False
        if self._demcr & DEMCR_VC_CORERESET:
            self._dfsr |= DFSR_VCATCH
            return
        self._resume(step=False)

    # ---- DP and AP registers ----------------------------------------------------------

    def read_dp(self, addr: int, now: bool = True) -> int | Callable[[], int]:
        reg = addr & 0xC
        if reg == 0x0:
            value = DP_IDR_VALUE
        elif reg == 0x4:
            # Power-up requests (bits 28, 30) are acknowledged at once (bits 29, 31).
            value = self._dp_ctrl | ((self._dp_ctrl & 0x50000000) << 1)
        elif reg == 0x8:
            value = self._dp_select
        else:
            value = 0
        return value if now else (lambda: value)

    def write_dp(self, addr: int, data: int) -> None:
        reg = addr & 0xC
        if reg == 0x4:
            self._dp_ctrl = data & 0x50000F00
        elif reg == 0x8:
            self._dp_select = data

    def read_ap(self, addr: int, now: bool = True) -> int | Callable[[], int]:
        apsel, reg = (addr >> 24) & 0xFF, addr & 0xFC
        value = 0
        if apsel == 0:
            if reg == 0x00:
                value = self._csw
            elif reg == 0x04:
                value = self._tar
            elif reg == 0x0C:
                value = self._memory.read_memory(self._tar, 32)
                self._tar = (self._tar + 4) & 0xFFFFFFFF
            elif 0x10 <= reg < 0x20:
                value = self._memory.read_memory((self._tar & ~0xF) + (reg - 0x10), 32)
            elif reg == 0xF8:
                value = ROM_BASE | 0x3
            elif reg == 0xFC:
                value = AHB_AP_IDR
        return value if now else (lambda: value)

    def write_ap(self, addr: int, data: int) -> None:
        apsel, reg = (addr >> 24) & 0xFF, addr & 0xFC
        if apsel != 0:
            return
        if reg == 0x00:
            self._csw = (data & ~0x40) | 0x40  # DeviceEn always set
        elif reg == 0x04:
            self._tar = data
        elif reg == 0x0C:
            self._memory.write_memory(self._tar, data, 32)
            self._tar = (self._tar + 4) & 0xFFFFFFFF
        elif 0x10 <= reg < 0x20:
            self._memory.write_memory((self._tar & ~0xF) + (reg - 0x10), data, 32)

    def read_ap_multiple(self, addr: int, count: int = 1, now: bool = True):
        values = [self.read_ap(addr) for _ in range(count)]
        return values if now else (lambda: values)

    def write_ap_multiple(self, addr: int, values) -> None:
        for value in values:
            self.write_ap(addr, value)

    def get_memory_interface_for_ap(self, ap_address) -> MemoryInterface | None:
        return self._memory if getattr(ap_address, "apsel", 0) == 0 else None

    # ---- run control -----------------------------------------------------------------

    def _poll(self) -> bool:
        """True when the core is halted (collecting the stop reply if it just stopped)."""
        gdb = self.gdb
        if not gdb.running:
            return True
        # Wait a little for the stop, as a USB probe's round trip would: a caller polling
        # DHCSR in a loop then neither spins nor sleeps past the moment the core halts.
        stop = gdb.poll_stop(POLL_WAIT)
        if stop is None:
            return False
        self._on_stop(stop)
        return True

    def _on_stop(self, stop) -> None:
        if stop.exited:
            raise exceptions.ProbeDisconnected(f"QEMU exited (status {stop.exit_status}); see {self._log_path}")
        if self._halt_requested or self._stepping:
            self._dfsr |= DFSR_HALTED
        pc = self._read_reg("pc")
        if pc == self._vc_hardfault_addr:
            self._dfsr |= DFSR_VCATCH
        elif pc in self._bkpt_sites or pc in self._hw_breakpoints:
            self._dfsr |= DFSR_BKPT
        elif not (self._halt_requested or self._stepping):
            self._dfsr |= DFSR_HALTED
        self._halt_requested = False
        self._stepping = False

    def _halt(self) -> None:
        if self.gdb.running:
            self._halt_requested = True
            self._on_stop(self.gdb.interrupt())

    def _resume(self, step: bool) -> None:
        gdb = self.gdb
        if gdb.running:
            return
        self._arm_breakpoints()
        pc = self._read_reg("pc")
        # A breakpoint at the resume address would stop the core before it moves:
        # step off it first with the breakpoint lifted, as GDB does.
        sites = []
        if pc in self._bkpt_sites or pc == self._vc_hardfault_addr:
            sites.append((pc, False))
        if pc in self._hw_breakpoints:
            sites.append((pc, True))
        if sites or step:
            for addr, hw in sites:
                gdb.clear_breakpoint(addr, hw)
            self._stepping = True
            self._reg_cache.clear()
            self._on_stop(gdb.step())
            for addr, hw in sites:
                gdb.set_breakpoint(addr, hw)
            if step:
                return
        self._reg_cache.clear()
        gdb.cont()

    def _arm_breakpoints(self) -> None:
        """Put a breakpoint on each BKPT instruction in memory written since the last resume."""
        gdb = self.gdb
        rescanned = bool(self._dirty)
        for start, end in self._dirty:
            data = gdb.read_memory(start, end - start)
            for off in range(0, len(data) - 1, 2):
                if data[off + 1] == 0xBE and start + off not in self._bkpt_sites:
                    gdb.set_breakpoint(start + off)
                    self._bkpt_sites.add(start + off)
        self._dirty.clear()
        if self._demcr & DEMCR_VC_HARDERR:
            # Vector catch on HardFault: stop at the handler the vector table names.
            # The program may move its vector table (VTOR) or rewrite it: look again when
            # either changed.
            vtor = int.from_bytes(gdb.read_memory(VTOR, 4), "little")
            if vtor == self._vc_vtor and not rescanned:
                return
            self._vc_vtor = vtor
            handler = int.from_bytes(gdb.read_memory(vtor + 0x0C, 4), "little") & ~1
            if handler != self._vc_hardfault_addr:
                if self._vc_hardfault_addr is not None:
                    gdb.clear_breakpoint(self._vc_hardfault_addr)
                gdb.set_breakpoint(handler)
                self._vc_hardfault_addr = handler
        elif self._vc_hardfault_addr is not None:
            gdb.clear_breakpoint(self._vc_hardfault_addr)
            self._vc_hardfault_addr = self._vc_vtor = None

    def note_written(self, addr: int, length: int) -> None:
        # Only halfword-aligned instruction sites matter; widen to halfwords.
        start, end = addr & ~1, (addr + length + 1) & ~1
        if start < 0xE0000000:
            self._dirty.append((start, end))

    # ---- core registers (DCRSR/DCRDR) ---------------------------------------------------

    def _read_reg(self, name: str) -> int:
        if name not in self._reg_cache:
            num, _bits = self._regs[name]
            self._reg_cache[name] = int.from_bytes(self.gdb.read_register(num), "little")
        return self._reg_cache[name]

    def _write_reg(self, name: str, value: int) -> None:
        num, bits = self._regs[name]
        value &= (1 << bits) - 1
        self.gdb.write_register(num, value.to_bytes(bits // 8, "little"))
        self._reg_cache[name] = value

    def _core_register(self, regsel: int, value: int | None) -> int:
        """Read (value None) or write one register by its DCRSR REGSEL number."""
        if regsel <= 15:
            name = ("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11",
                    "r12", "sp", "lr", "pc")[regsel]
        elif regsel == 16:
            name = "xpsr"
        elif regsel in (17, 18):
            # QEMU 7.2 exposes no MSP/PSP: the banked SP is the current one (test images
            # run on MSP); PSP reads as 0.
            if regsel == 18:
                return 0
            name = "sp"
        elif regsel == 20:
            return 0  # CONTROL/FAULTMASK/BASEPRI/PRIMASK: not exposed by QEMU's stub
        elif regsel == 33 and "fpscr" in self._regs:
            name = "fpscr"
        elif 64 <= regsel < 96 and "d0" in self._regs:
            n = regsel - 64
            dname = f"d{n // 2}"
            d = self._read_reg(dname)
            if value is None:
                return (d >> (32 * (n & 1))) & 0xFFFFFFFF
            shift = 32 * (n & 1)
            self._write_reg(dname, (d & ~(0xFFFFFFFF << shift)) | ((value & 0xFFFFFFFF) << shift))
            return value
        else:
            return 0
        if value is None:
            return self._read_reg(name)
        self._write_reg(name, value)
        return value

    # ---- the modelled debug registers ---------------------------------------------------

    def read_debug_register(self, addr: int) -> int | None:
        """The value of a modelled register, or None when QEMU's memory answers for `addr`."""
        if addr == DHCSR:
            halted = self._poll()
            value = self._dhcsr_ctrl | S_REGRDY | self._dhcsr_sticky
            if halted:
                value |= S_HALT | C_HALT
            self._dhcsr_sticky = 0  # S_RESET_ST and S_RETIRE_ST clear on read
            return value
        if addr == DCRDR:
            return self._dcrdr
        if addr == DCRSR:
            return 0
        if addr == DEMCR:
            return self._demcr
        if addr == DFSR:
            self._poll()
            return self._dfsr
        if DWT_BASE <= addr < DWT_BASE + 0x1000:
            return _DWT_IDS.get(addr - DWT_BASE, 0)  # DWT_CTRL.NUMCOMP = 0: no watchpoints
        if FPB_BASE <= addr < FPB_BASE + 0x1000:
            off = addr - FPB_BASE
            if off == 0:
                return self._fp_ctrl | (FPB_CODE_COMPARATORS << 4) | (2 << 8)
            if 8 <= off < 8 + 4 * len(self._fp_comp):
                return self._fp_comp[(off - 8) // 4]
            return _FPB_IDS.get(off, 0)
        if ROM_BASE <= addr < ROM_BASE + 0x1000:
            off = addr - ROM_BASE
            if off < 4 * len(_ROM_ENTRIES):
                return _ROM_ENTRIES[off // 4]
            return _ROM_IDS.get(off, 0)
        if SCS_BASE + 0xFD0 <= addr < SCS_BASE + 0x1000:
            return _SCS_IDS.get(addr - SCS_BASE, 0)
        return None

    def write_debug_register(self, addr: int, value: int) -> bool:
        """Handle a write to a modelled register; False when it is ordinary memory."""
        if addr == DHCSR:
            if (value & 0xFFFF0000) != DBGKEY:
                return True  # writes without the key are ignored, as on silicon
            self._dhcsr_ctrl = value & (C_DEBUGEN | C_MASKINTS)
            halted = self._poll()
            if value & C_HALT:
                self._halt()
            elif halted and value & C_DEBUGEN:
                self._resume(step=bool(value & C_STEP))
            return True
        if addr == DCRSR:
            if not self._poll():
                return True  # registers are only reachable while halted
            regsel = value & 0x7F
            if value & DCRSR_REGWNR:
                self._core_register(regsel, self._dcrdr)
            else:
                self._dcrdr = self._core_register(regsel, None)
            return True
        if addr == DCRDR:
            self._dcrdr = value
            return True
        if addr == DEMCR:
            self._demcr = value
            return True
        if addr == DFSR:
            self._dfsr &= ~value  # write one to clear
            return True
        if addr == AIRCR and (value & 0xFFFF0000) == AIRCR_VECTKEY \
                and value & (AIRCR_SYSRESETREQ | AIRCR_VECTRESET):
            self._system_reset()
            return True
        if DWT_BASE <= addr < DWT_BASE + 0x1000 or ROM_BASE <= addr < ROM_BASE + 0x1000:
            return True
        if FPB_BASE <= addr < FPB_BASE + 0x1000:
            off = addr - FPB_BASE
            if off == 0:
                if value & 2:  # KEY must be set for the write to count
                    self._fp_ctrl = value & 1
            elif 8 <= off < 8 + 4 * len(self._fp_comp):
                self._set_comparator((off - 8) // 4, value)
            return True
        return False

    def _set_comparator(self, index: int, value: int) -> None:
        old = self._fp_comp[index]
        self._fp_comp[index] = value
        for comp, insert in ((old, False), (value, True)):
            if not comp & 1:
                continue
            # FPB v1: COMP holds address bits [28:2]; REPLACE picks the halfword.
            addr = (comp & 0x1FFFFFFC) | (2 if (comp >> 30) == 2 else 0)
            halted = self._poll()
            if not halted:
                self._halt()
            if insert:
                self.gdb.set_breakpoint(addr, hardware=True)
                self._hw_breakpoints.add(addr)
            else:
                self.gdb.clear_breakpoint(addr, hardware=True)
                self._hw_breakpoints.discard(addr)
            if not halted:
                self._resume(step=False)

    # ---- plain memory ------------------------------------------------------------------

    def read_target_memory(self, addr: int, length: int) -> bytes:
        return self._with_halted(lambda: self.gdb.read_memory(addr, length))

    def write_target_memory(self, addr: int, data: bytes) -> None:
        self._with_halted(lambda: self.gdb.write_memory(addr, data))
        self.note_written(addr, len(data))

    def _with_halted(self, access: Callable[[], Any]) -> Any:
        # QEMU's stub serves memory only while stopped; a real MEM-AP reads a running core.
        # Stop it briefly, so the access looks the same as on hardware.
        if self._poll():
            try:
                return access()
            except GdbError as exc:
                raise exceptions.TransferFaultError(str(exc)) from exc
        before = self._dfsr
        self._on_stop(self.gdb.interrupt())
        # The core may have stopped by itself (BKPT, vector catch) just before the
        # interrupt: then it stays halted.  Otherwise the stop is the probe's own business.
        event = self._dfsr & ~before & ~DFSR_HALTED
        self._dfsr = before | event
        try:
            return access()
        except GdbError as exc:
            raise exceptions.TransferFaultError(str(exc)) from exc
        finally:
            if not event:
                self._reg_cache.clear()
                self.gdb.cont()


class QemuMemoryInterface(MemoryInterface):
    """The AHB-AP's memory as the probe presents it: QEMU's memory plus the modelled registers."""

    def __init__(self, probe: QemuGdbProbe) -> None:
        self._probe = probe

    @staticmethod
    def _modelled(addr: int) -> bool:
        return 0xE0000000 <= addr < 0xE0100000

    def write_memory(self, addr: int, data: int, transfer_size: int = 32, **attrs: Any) -> None:
        addr &= 0xFFFFFFFF
        if transfer_size == 32 and self._modelled(addr) and self._probe.write_debug_register(addr, data):
            return
        self._probe.write_target_memory(addr, data.to_bytes(transfer_size // 8, "little"))

    def read_memory(self, addr: int, transfer_size: int = 32, now: bool = True, **attrs: Any):
        addr &= 0xFFFFFFFF
        value = None
        if self._modelled(addr):
            word = self._probe.read_debug_register(addr & ~3)
            if word is not None:
                value = (word >> (8 * (addr & 3))) & ((1 << transfer_size) - 1)
        if value is None:
            value = int.from_bytes(self._probe.read_target_memory(addr, transfer_size // 8), "little")
        return value if now else (lambda: value)

    def read_memory_block32(self, addr: int, size: int, **attrs: Any) -> Sequence[int]:
        if self._modelled(addr) or self._modelled(addr + 4 * size - 1):
            return [self.read_memory(addr + 4 * i) for i in range(size)]
        data = self._probe.read_target_memory(addr, 4 * size)
        return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]

    def write_memory_block32(self, addr: int, data: Sequence[int], **attrs: Any) -> None:
        if self._modelled(addr) or self._modelled(addr + 4 * len(data) - 1):
            for i, word in enumerate(data):
                self.write_memory(addr + 4 * i, word)
            return
        self._probe.write_target_memory(addr, b"".join(w.to_bytes(4, "little") for w in data))

    def read_memory_block8(self, addr: int, size: int, **attrs: Any) -> Sequence[int]:
        if self._modelled(addr) or self._modelled(addr + size - 1):
            return [self.read_memory(addr + i, 8) for i in range(size)]
        return list(self._probe.read_target_memory(addr, size))

    def write_memory_block8(self, addr: int, data: Sequence[int], **attrs: Any) -> None:
        if self._modelled(addr) or self._modelled(addr + len(data) - 1):
            for i, byte in enumerate(data):
                self.write_memory(addr + i, byte, 8)
            return
        self._probe.write_target_memory(addr, bytes(data))
