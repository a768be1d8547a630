"""Run a bare-metal ELF under QEMU with semihosting and collect what it printed and its exit code.

The image writes to the host's stdout and ends with SYS_EXIT_EXTENDED through
semihosting (targets/common/cortex-m/semihost.c on Cortex-M, picolibc's
libsemihost on RISC-V), so QEMU's own exit status is the program's.  A run
that exceeds its budget of CPU seconds (waftkit.runners.process) is stopped and
reported as timed out.  `QemuRunner` is this module's entry in the runner
registry (waftkit.runners.base); `instruction_count=True` makes virtual time
follow executed instructions (`-icount shift=0`), which the benchmarks use;
`idle_sleeps=False` adds `sleep=off`, so that time spent idle (WFI) jumps to
the next timer instead of passing in real time, which keeps wake-up times
exact for the kernel's timing tests (with sleep on, a wake-up from WFI comes
late by a varying amount of real time).  `forwards` gives the board a NIC on
QEMU's user network (slirp: the guest is 10.0.2.15, the gateway 10.0.2.2) and
forwards host TCP ports to it, on 127.0.0.1 only, so nothing outside the
machine can reach the emulated board (`PortForward`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from aot.errors import TargetError
from aot.targets import Target
from waftkit.runners.base import DEFAULT_TIMEOUT, Runner, RunResult, Stdin, text
from waftkit.runners.process import run_with_cpu_budget


@dataclass(frozen=True)
class PortForward:
    """Host 127.0.0.1:`host_port` -> the board's `guest_port` over QEMU's user network."""

    host_port: int
    guest_port: int
    protocol: str = "tcp"  # or "udp"

    def __post_init__(self) -> None:
        if self.protocol not in ("tcp", "udp"):
            raise TargetError(f"port forward: protocol '{self.protocol}' is not tcp or udp")
        for port in (self.host_port, self.guest_port):
            if not 1 <= port <= 65535:
                raise TargetError(f"port forward: port {port} is outside 1..65535")

    def option(self) -> str:
        return f"hostfwd={self.protocol}:127.0.0.1:{self.host_port}-:{self.guest_port}"


def nic_options(forwards: tuple[PortForward, ...] | list[PortForward]) -> list[str]:
    """QEMU options for one user-network NIC with `forwards` (loopback-bound)."""
    return ["-nic", ",".join(["user", "model=lan9118", *(f.option() for f in forwards)])]


class QemuRunner(Runner):
    """Board programs under QEMU's emulation of the target's machine, with QEMU's semihosting."""

    name = "qemu"

    def __init__(self, target: Target, *, instruction_count: bool = False,
                 forwards: tuple[PortForward, ...] | None = None, **options) -> None:
        super().__init__(target, **options)
        self.instruction_count = instruction_count
        self.forwards = forwards  # a NIC with these forwards (None: no NIC)

    @classmethod
    def unavailable(cls, target: Target, probe: str | None) -> str | None:
        if target.is_host:
            return "the qemu runner runs board programs; host programs run natively"
        return None if target.qemu_machine else f"target {target.name} has no QEMU machine to run on"

    def _execute(self, program: Path, args: tuple[str, ...], stdin: Stdin) -> RunResult:
        return run_elf(self.target, program, timeout=self.timeout, stdin=stdin,
                       instruction_count=self.instruction_count, forwards=self.forwards)


def qemu_command(target: Target, elf: Path, *, instruction_count: bool = False,
                 idle_sleeps: bool = True, forwards: tuple[PortForward, ...] | None = None) -> list[str]:
    """The QEMU command line that boots `elf` on the target's machine.

    `forwards`: give the board a NIC with these port forwards (an empty tuple:
    a NIC, nothing forwarded); None: no NIC, QEMU's default for the machine.
    """
    if not target.qemu_machine:
        raise TargetError(f"target '{target.name}' has no QEMU machine to run on")
    system = target.qemu_system or "qemu-system-arm"
    exe = shutil.which(system)
    if exe is None:
        package = "qemu-system-misc" if target.kind == "riscv" else "qemu-system-arm"
        raise TargetError(f"{system} not found (install {package})")
    cmd = [
        exe, "-M", target.qemu_machine, "-nographic",
        # The serial port and the monitor are not used: keep them off stdout.
        "-monitor", "none", "-serial", "null",
    ]
    if target.kind == "riscv":
        # No OpenSBI: it would sit at 0x80000000 where the image is linked; the
        # image runs in machine mode straight from its ELF entry.
        cmd += ["-bios", "none"]
        # picolibc's stdio writes with SYS_WRITEC, which QEMU sends to its stderr
        # unless the semihosting console has a chardev: give it stdout.
        cmd += ["-chardev", "stdio,id=semihosting",
                "-semihosting-config", "enable=on,target=native,chardev=semihosting"]
    else:
        cmd += ["-semihosting-config", "enable=on,target=native"]
    if instruction_count:
        # Virtual time advances one unit per instruction, so SysTick counts follow
        # executed instructions exactly, run after run.
        cmd += ["-icount", "shift=0" if idle_sleeps else "shift=0,sleep=off"]
    if forwards is not None:
        cmd += nic_options(forwards)
    return cmd + ["-kernel", str(elf)]


def run_elf(target: Target, elf: Path, *, timeout: float = DEFAULT_TIMEOUT,
            stdin: Stdin = None, instruction_count: bool = False, idle_sleeps: bool = True,
            forwards: tuple[PortForward, ...] | None = None) -> RunResult:
    """Boot `elf` under QEMU and wait for it to exit through semihosting.

    `timeout` is in CPU seconds; `stdin` is what the program reads from its
    semihosting console (none: EOF).
    """
    cmd = qemu_command(target, elf, instruction_count=instruction_count, idle_sleeps=idle_sleeps,
                       forwards=forwards)
    proc = run_with_cpu_budget(cmd, timeout, stdin=stdin)
    return RunResult(proc.returncode, text(proc.stdout), text(proc.stderr), cmd, timed_out=proc.timed_out)
