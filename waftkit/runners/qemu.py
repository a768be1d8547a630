"""Run a bare-metal ELF under QEMU with semihosting and collect what it printed and its exit code.

The image writes to the host's stdout and ends with SYS_EXIT_EXTENDED through
semihosting (targets/common/cortex-m/semihost.c on Cortex-M, picolibc's
libsemihost on RISC-V), so QEMU's own exit status is the program's.  A run
that exceeds its wall-clock budget is killed and reported as timed out; the
budget is generous because two cores may be running several emulators and
compilers at once.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from aot.errors import TargetError
from aot.targets import Target

DEFAULT_TIMEOUT = 600.0  # seconds of wall time


@dataclass
class QemuResult:
    returncode: int | None  # None when the run timed out
    stdout: str
    stderr: str
    command: list[str]
    timed_out: bool = False


def qemu_command(target: Target, elf: Path) -> list[str]:
    """The QEMU command line that boots `elf` on the target's machine."""
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
    return cmd + ["-kernel", str(elf)]


def run_elf(target: Target, elf: Path, *, timeout: float = DEFAULT_TIMEOUT,
            stdin: bytes | None = None) -> QemuResult:
    """Boot `elf` under QEMU and wait for it to exit through semihosting.

    `stdin` is what the program reads from its semihosting console (none: EOF).
    """
    cmd = qemu_command(target, elf)
    try:
        proc = subprocess.run(cmd, input=stdin or b"", capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        return QemuResult(None, _text(exc.stdout), _text(exc.stderr), cmd, timed_out=True)
    return QemuResult(proc.returncode, _text(proc.stdout), _text(proc.stderr), cmd)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, str):
        return data
    return data.decode("utf-8", errors="replace")
