"""Flash and run a bare-metal ELF through pyOCD, serving its semihosting; on a board or in QEMU.

`run_elf_pyocd(target, elf)` does what `waftkit.runners.qemu.run_elf` does, but the way a
board is driven: pyOCD connects to a probe, FileProgrammer writes the image,
the core is reset and run, and pyOCD's SemihostAgent serves the program's
console and SYS_EXIT.  The probe is the one given (`probe_uid`, a pyOCD unique
id), or for a target with a QEMU machine the QEMU-backed probe of
`waftkit.runners.pyocd_qemu` ("qemu:<machine>"), so CI runs this same path without a board.

While the program runs the runner also watches for failures the way a
debugger would: vector catch on HardFault halts the core at the fault, and a
breakpoint on `waft_trap` halts it at a Wasm trap.  Either way the result's
`fault` names the PC, the fault registers and the Wasm function the PC is in
(from the ELF's `wasm.<index>.<name>` symbols); then the program is let go on
so that its own handler prints and exits, as it would under plain QEMU.

Firmware built with the RTT console (`WAFT_WASI_CONSOLE=rtt`, docs/wasi.md)
writes its output into the `_SEGGER_RTT` block's up-buffers instead of through
semihosting (only its exit still goes through SYS_EXIT).  When the ELF
defines that symbol the runner reads up-buffer 0 into stdout and up-buffer 1
into stderr with pyOCD's RTT client while the core runs, and once more after
the program has stopped.
"""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import io
import logging
import os
import re
import tempfile
import time
from bisect import bisect_right
from collections.abc import Iterator
from pathlib import Path

from pyocd.debug.semihost import (
    InternalSemihostIOHandler,
    SemihostAgent,
    SemihostingRequests,
    SemihostIOHandler,
)

from aot.abi import TRAP_CODES
from aot.errors import TargetError
from aot.targets import Target
from waftkit.runners.base import FaultReport, Runner, RunResult, Stdin

DEFAULT_TIMEOUT = 600.0  # seconds of wall time, as waftkit.runners.qemu

CFSR, HFSR, MMFAR, BFAR = 0xE000ED28, 0xE000ED2C, 0xE000ED34, 0xE000ED38
ADP_STOPPED_APPLICATION_EXIT = 0x20026
RTT_POLL_INTERVAL = 0.05  # seconds between RTT reads of a running core; each one stops QEMU briefly
# While the core runs, the state is polled with a growing pause (reset whenever it stops):
# quick answers to a semihosting call, no busy loop on a long computation.
POLL_MIN, POLL_MAX = 0.0005, 0.02
RTT_ID_SIZE = 16          # acID[16] at the start of the control block
_TRAP_NAMES = {code: name for name, code in TRAP_CODES.items()}
_WASM_SYMBOL = re.compile(r"wasm\.(\d+)(?:\.(.+))?")  # unnamed functions are plain wasm.<index>


class SymbolTable:
    """Function symbols of an ELF, to name the function an address falls in."""

    def __init__(self, elf: Path) -> None:
        from elftools.elf.elffile import ELFFile

        funcs: list[tuple[int, int, str]] = []
        self.addresses: dict[str, int] = {}   # functions
        self.objects: dict[str, int] = {}     # data
        with open(elf, "rb") as f:
            symtab = ELFFile(f).get_section_by_name(".symtab")
            for sym in symtab.iter_symbols() if symtab else ():
                if sym["st_info"]["type"] == "STT_OBJECT":
                    self.objects.setdefault(sym.name, sym["st_value"])
                if sym["st_info"]["type"] != "STT_FUNC" or not sym["st_value"]:
                    continue
                addr = sym["st_value"] & ~1  # Thumb bit
                funcs.append((addr, sym["st_size"], sym.name))
                self.addresses.setdefault(sym.name, addr)
        funcs.sort()
        self._starts = [a for a, _, _ in funcs]
        self._funcs = funcs

    def function_at(self, pc: int) -> str | None:
        i = bisect_right(self._starts, pc) - 1
        if i >= 0:
            addr, size, name = self._funcs[i]
            if addr <= pc < addr + max(size, 2):
                return name
        return None

    @staticmethod
    def wasm_function(symbol: str | None) -> tuple[int | None, str | None]:
        """(index, name) of a `wasm.<index>.<name>` symbol; (None, None) for other code."""
        m = _WASM_SYMBOL.fullmatch(symbol or "")
        return (int(m.group(1)), m.group(2)) if m else (None, None)


def default_probe(target: Target) -> str:
    """The probe for `target` when none is named: its QEMU machine through the QEMU-backed probe."""
    from waftkit.runners.pyocd_qemu.probe import MACHINE_TARGETS

    if target.qemu_machine in MACHINE_TARGETS:
        return f"qemu:{target.qemu_machine}"
    raise TargetError(f"target '{target.name}': give a probe (PROBE=<uid> / --waft-probe); "
                      f"pyOCD can emulate only {', '.join(MACHINE_TARGETS)} boards through QEMU")


def ensure_qemu_plugin() -> None:
    """Make the `qemu` probe type known even where the package's entry points are not installed."""
    from pyocd.probe.aggregator import PROBE_CLASSES

    if "qemu" not in PROBE_CLASSES:
        from waftkit.runners.pyocd_qemu.plugin import QemuProbePlugin

        plugin = QemuProbePlugin()
        PROBE_CLASSES[plugin.name] = plugin.load()
    from waftkit.runners.pyocd_qemu import targets

    targets.register()


def open_session(target: Target, probe_uid: str | None = None):
    """A pyOCD session (opened on entering `with`) on `probe_uid`, or on the only attached probe."""
    from pyocd.core.helpers import ConnectHelper

    ensure_qemu_plugin()
    uid = probe_uid
    options = {"hide_programming_progress": True, "resume_on_disconnect": False}
    kwargs = {}
    if not (uid or "").startswith("qemu:"):
        if not target.pyocd_target:
            raise TargetError(f"target '{target.name}' names no pyOCD target type ([pyocd] target)")
        kwargs["target_override"] = target.pyocd_target
    session = ConnectHelper.session_with_chosen_probe(
        blocking=False, unique_id=uid, options=options, **kwargs)
    if session is None:
        which = f"debug probe '{uid}'" if uid else "debug probe"
        raise TargetError(f"no {which} found (is the board attached? `pyocd list`; "
                          f"PROBE=qemu:<machine> for an emulated board)")
    return session


@contextlib.contextmanager
def probe_lock(uid: str | None) -> Iterator[None]:
    """Hold a board for this process: `scons -j` or several pytest workers take turns on one probe.

    The QEMU-backed probe needs no lock: each session starts its own emulator.
    """
    if uid is not None and uid.startswith("qemu:"):
        yield
        return
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", uid or "default-probe")
    path = Path(tempfile.gettempdir()) / f"waft-pyocd-{name}.lock"
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def flash(target: Target, elf: Path, probe_uid: str | None = None) -> None:
    """Program `elf` into the board's flash and let it run from reset (no probe: the only attached one)."""
    from pyocd.flash.file_programmer import FileProgrammer

    with probe_lock(probe_uid), open_session(target, probe_uid) as session:
        FileProgrammer(session).program(str(elf))
        session.target.reset()
        print(f"flashed {elf} through {session.probe.description} ({session.probe.unique_id})")


def run_elf_pyocd(target: Target, elf: Path, probe_uid: str | None = None, *,
                  timeout: float = DEFAULT_TIMEOUT, stdin: Stdin = None) -> RunResult:
    """Flash `elf`, run it to its semihosting exit, and collect output, exit status and faults.

    `stdin` is what the program reads from its semihosting console: bytes, a
    file read as the program asks for input, or None (end of file at once).
    """
    from pyocd.core.target import Target as PyocdTarget
    from pyocd.flash.file_programmer import FileProgrammer

    # pyOCD logs at WARNING ("unexpectedly halted" and such): the runner reports for itself.
    logging.getLogger("pyocd").setLevel(logging.ERROR)
    symbols = SymbolTable(elf)
    uid = probe_uid or default_probe(target)
    command = ["pyocd", "run", "-u", uid, str(elf)]  # what a person would type for the same run
    out, err = io.StringIO(), io.StringIO()
    console = _CaptureConsole(out, err, stdin)
    fault: FaultReport | None = None
    with probe_lock(uid), open_session(target, uid) as session:
        core = session.target
        FileProgrammer(session).program(str(elf))
        rtt_address = symbols.objects.get("_SEGGER_RTT")
        rtt = _RttReader(core, rtt_address, out, err) if rtt_address is not None else None
        core.set_vector_catch(PyocdTarget.VectorCatch.HARD_FAULT)
        trap_addr = symbols.addresses.get("waft_trap")
        if trap_addr is not None:
            core.set_breakpoint(trap_addr, PyocdTarget.BreakpointType.HW)
        agent = _ExitingSemihostAgent(core, console)
        core.reset_and_halt()
        if rtt is not None:
            rtt.clear()
        core.resume()
        deadline = time.monotonic() + timeout
        pause = POLL_MIN
        while agent.exit_status is None:
            if rtt is not None:
                rtt.poll()
            if time.monotonic() > deadline:
                core.halt()
                if rtt is not None:
                    rtt.drain()
                fault = _report(core, symbols, "timeout", core.read_core_register("pc"))
                err.write(fault.describe() + "\n")
                return RunResult(None, out.getvalue(), err.getvalue(), command, timed_out=True,
                                   fault=fault)
            if core.get_state() != PyocdTarget.State.HALTED:
                time.sleep(pause)
                pause = min(pause * 2, POLL_MAX)
                continue
            pause = POLL_MIN
            if agent.check_and_handle_semihost_request():
                if agent.exit_status is None:
                    core.resume()
                continue
            pc = core.read_core_register("pc")
            if pc == trap_addr:
                if _trap_is_caught(core, symbols):
                    core.resume()  # a waft_call_guarded frame handles it: not a failure
                    continue
                # At waft_trap's entry LR points into the function that trapped, r0 is the code.
                code = core.read_core_register("r0")
                fault = _report(core, symbols, "trap", core.read_core_register("lr") & ~1)
                fault.registers["code"] = code
                fault.trap = _TRAP_NAMES.get(code)
                core.remove_breakpoint(trap_addr)
            elif core.get_halt_reason() == PyocdTarget.HaltReason.VECTOR_CATCH:
                fault = _hardfault(core, symbols)
                core.set_vector_catch(0)
            else:
                fault = fault or _report(core, symbols, "halt", pc)
                if rtt is not None:
                    rtt.drain()
                err.write(f"waft: the core halted unexpectedly at pc {pc:#010x}\n")
                return RunResult(None, out.getvalue(), err.getvalue(), command, fault=fault)
            err.write(fault.describe() + "\n")
            core.resume()  # the image's own handler prints the trap or fault and exits
        if rtt is not None:
            rtt.drain()  # what the program wrote just before SYS_EXIT (the core is halted there)
    return RunResult(agent.exit_status, out.getvalue(), err.getvalue(), command, fault=fault)


class PyocdRunner(Runner):
    """Board programs flashed and run through pyOCD: a real probe, or QEMU's through waftkit.runners.pyocd_qemu."""

    name = "pyocd"

    @classmethod
    def unavailable(cls, target: Target, probe: str | None) -> str | None:
        from waftkit.runners.pyocd_qemu.probe import MACHINE_TARGETS

        if target.is_host:
            return "the pyocd runner runs board programs; host programs run natively"
        if probe is None and target.qemu_machine not in MACHINE_TARGETS:
            return (f"no probe given and pyOCD cannot emulate {target.name} "
                    f"(it emulates {', '.join(MACHINE_TARGETS)} through QEMU)")
        return None

    def _execute(self, program: Path, args: tuple[str, ...], stdin: Stdin) -> RunResult:
        return run_elf_pyocd(self.target, program, self.probe, timeout=self.timeout, stdin=stdin)


def _trap_is_caught(core, symbols: SymbolTable) -> bool:
    """Whether a trap frame is pushed (waft_trap_current != NULL): waft_trap will longjmp to it."""
    current = symbols.objects.get("waft_trap_current")
    return current is not None and core.read32(current) != 0


def _report(core, symbols: SymbolTable, kind: str, pc: int) -> FaultReport:
    function = symbols.function_at(pc)
    return FaultReport(kind, pc, function, *SymbolTable.wasm_function(function))


def _hardfault(core, symbols: SymbolTable) -> FaultReport:
    """At the HardFault handler's entry: the faulting PC is in the frame the core stacked."""
    sp = core.read_core_register("sp")
    frame = core.read_memory_block32(sp, 8)  # r0-r3, r12, lr, pc, xpsr
    report = _report(core, symbols, "hardfault", frame[6])
    report.registers = {"lr": frame[5], "cfsr": core.read32(CFSR), "hfsr": core.read32(HFSR),
                        "mmfar": core.read32(MMFAR), "bfar": core.read32(BFAR)}
    return report


class _CaptureConsole(SemihostIOHandler):
    """Semihosting console: the program's stdout and stderr into strings; its stdin from bytes, or
    from a file (a pipe, a terminal) read only when the program asks, as a console would."""

    def __init__(self, out: io.StringIO, err: io.StringIO, stdin: Stdin = None) -> None:
        super().__init__()
        self._files = {1: out, 2: err}
        self._stdin = io.BytesIO(stdin or b"") if stdin is None or isinstance(stdin, bytes) else stdin

    def read(self, fd: int, ptr: int, length: int) -> int:
        data = os.read(self._stdin.fileno(), length) if hasattr(self._stdin, "fileno") and \
            not isinstance(self._stdin, io.BytesIO) else self._stdin.read(length)
        if data:
            self.agent.context.write_memory_block8(ptr, data)
        return length - len(data)  # bytes NOT read: all of them is end of file

    def write(self, fd: int, ptr: int, length: int) -> int:
        data = self.agent.get_data(ptr, length)
        self._files.get(fd, self._files[1]).write(data.decode("utf-8", errors="replace"))
        return 0  # bytes NOT written

    def istty(self, fd: int) -> int:
        return 1


class _ExitingSemihostAgent(SemihostAgent):
    """pyOCD's SemihostAgent plus SYS_EXIT and SYS_EXIT_EXTENDED, which end the run."""

    def __init__(self, core, console) -> None:
        super().__init__(core.get_target_context(), io_handler=InternalSemihostIOHandler(),
                         console=console)
        self.exit_status: int | None = None

    def handle_sys_exit(self, args: int) -> int:
        # 32-bit callers pass the reason itself: only "application exit" means success.
        self.exit_status = 0 if args == ADP_STOPPED_APPLICATION_EXIT else 1
        return 0

    def handle_sys_exit_extended(self, args: int) -> int:
        reason, subcode = self._get_args(args, 2)
        self.exit_status = (subcode & 0xFF) if reason == ADP_STOPPED_APPLICATION_EXIT else 1
        return 0

    # SemihostAgent dispatches through this table: the same table with the exits added.
    _REQUEST_MAP = {**SemihostAgent._REQUEST_MAP,
                    SemihostingRequests.SYS_EXIT: handle_sys_exit,
                    SemihostingRequests.SYS_EXIT_EXTENDED: handle_sys_exit_extended}


class _RttReader:
    """The program's RTT console: up-buffer 0 into stdout, up-buffer 1 into stderr.

    The control block's address comes from the ELF, so pyOCD checks only those
    16 bytes for the ID instead of searching RAM.  The firmware fills the block
    in on its first console call and writes the ID last, so until then there is
    nothing to read and the block is looked for again on the next poll.
    """

    def __init__(self, core, address: int, out: io.StringIO, err: io.StringIO) -> None:
        self._core = core
        self._address = address
        self._files = (out, err)
        # Bytes of one UTF-8 character may arrive in two reads.
        self._decoders = [codecs.getincrementaldecoder("utf-8")(errors="replace") for _ in self._files]
        self._channels: list | None = None
        self._broken = False
        self._next_poll = 0.0

    def clear(self) -> None:
        """Zero the ID before the program starts: on a board RAM keeps the last run's block,
        whose stale offsets must not be read as this program's output."""
        self._core.write_memory_block8(self._address, [0] * RTT_ID_SIZE)

    def poll(self) -> None:
        """Read what is waiting, at most every RTT_POLL_INTERVAL (a read stops an emulated core)."""
        now = time.monotonic()
        if now >= self._next_poll:
            self._next_poll = now + RTT_POLL_INTERVAL
            self.drain()

    def drain(self) -> None:
        """Read everything waiting in the up-buffers now."""
        from pyocd.core import exceptions
        from pyocd.debug.rtt import RTTControlBlock

        if self._broken:
            return
        if self._channels is None:
            block = RTTControlBlock.from_target(self._core, address=self._address)
            try:
                block.start()
            except exceptions.RTTError:
                return  # not set up yet
            self._channels = list(block.up_channels[:len(self._files)])
        for index, channel in enumerate(self._channels):
            try:
                data = channel.read()
            except exceptions.RTTError as exc:
                # The program overwrote its own block: report it once and stop reading.
                self._files[1].write(f"waft: RTT up-buffer {index} is corrupt ({exc}); not read further\n")
                self._broken = True
                return
            self._files[index].write(self._decoders[index].decode(data))
