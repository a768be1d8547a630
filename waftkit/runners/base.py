"""The one runner registry: run a linked program on the host, under QEMU, or on a board through pyOCD.

Every caller — `waft run`, the SCons `run`/`test`/`flash` aliases, `waft
spectest`, `waft bench` and the pytest plugin — gets its runner here, so
"where does this program run" is decided in one place.  The shape follows
Zephyr twister's DeviceAdapter: `Runner.run()` is the template method (check
the runner can serve the target, execute, keep a log), and each runner fills
in `_execute()`.  Runners are named in a table and imported only when asked
for (pyOCD is slow to import); `register_runner` adds one (labgrid, a vendor
probe) without touching this file.  Nothing here depends on pytest: a runner
that cannot serve a target raises `RunnerUnavailable`, and the pytest plugin
turns that into a skip.

Timeouts: a host program and QEMU get a budget of CPU seconds (the kernel
stops them, RLIMIT_CPU), so a loaded machine does not turn a slow run into a
false timeout; a board runs in real time, so pyOCD's budget is wall-clock.
"""

from __future__ import annotations

import importlib
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, ClassVar, TextIO, Union

from aot.errors import TargetError
from aot.targets import Target

DEFAULT_TIMEOUT = 120.0  # seconds: CPU time on the host and under QEMU, wall-clock on a board

# What a program reads as its console input: bytes fed to it, an open file handed over (read as
# the program asks for input: a pipe that never closes does not hold up a program that never
# reads), or None (end of file at once).
Stdin = Union[bytes, BinaryIO, TextIO, None]

# name -> "module:Class", imported on first use.
_BUILTIN = {
    "host": "waftkit.runners.host:HostRunner",
    "qemu": "waftkit.runners.qemu:QemuRunner",
    "pyocd": "waftkit.runners.pyocd_runner:PyocdRunner",
}
_REGISTERED: dict[str, type[Runner]] = {}


class RunnerUnavailable(TargetError):
    """This runner cannot run this target's programs here (no emulator, no probe, wrong kind)."""


@dataclass
class FaultReport:
    """Where and why a core stopped abnormally (filled in by runners that can see the core)."""

    kind: str                   # "hardfault", "trap", "timeout" or "halt"
    pc: int                     # the faulting PC; for a trap, where waft_trap was called from
    function: str | None        # the ELF symbol PC falls in (e.g. "wasm.3.pid_step")
    wasm_index: int | None = None   # the Wasm function index, for Wasm code
    wasm_name: str | None = None    # its name from the name section
    registers: dict[str, int] = field(default_factory=dict)  # lr, cfsr, hfsr, mmfar, bfar; code
    trap: str | None = None     # the trap's name (aot.abi.TrapCode), for a trap

    def describe(self) -> str:
        where = f"{self.function}" if self.function else "unknown code"
        if self.wasm_index is not None:
            named = f' "{self.wasm_name}"' if self.wasm_name else ""
            where = f"Wasm function {self.wasm_index}{named} ({self.function})"
        at = "waft_trap called from" if self.kind == "trap" else "pc"
        kind = f"trap ({self.trap})" if self.trap else self.kind
        regs = " ".join(f"{k} {v:#010x}" for k, v in self.registers.items())
        return f"waft: {kind} in {where}, {at} {self.pc:#010x}" + (f"; {regs}" if regs else "")


@dataclass
class RunResult:
    """What running one program gave: the same shape from every runner."""

    returncode: int | None      # None when it timed out or the core halted unexpectedly
    stdout: str
    stderr: str
    command: list[str]          # what a person would type to repeat the run
    timed_out: bool = False
    fault: FaultReport | None = None
    log: Path | None = None     # the full log, when the runner keeps one

    def summary(self) -> str:
        status = "timed out" if self.timed_out else f"exit status {self.returncode}"
        extra = f"; {self.fault.describe()}" if self.fault else ""
        where = f" (full log: {self.log})" if self.log else ""
        return f"{status}{extra}{where}"


class Runner(ABC):
    """Runs linked programs for one target in one way; `run` is the template every runner follows."""

    name: ClassVar[str]

    def __init__(self, target: Target, *, probe: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 log_dir: Path | None = None) -> None:
        self.target = target
        self.probe = probe
        self.timeout = timeout
        self.log_dir = log_dir

    @classmethod
    def unavailable(cls, target: Target, probe: str | None) -> str | None:
        """Why this runner cannot run `target`'s programs here, or None."""
        return None

    def run(self, program: Path, *, args: Sequence[str] = (), stdin: Stdin = None) -> RunResult:
        """Run `program` to completion; `args` go to a host program, `stdin` (see Stdin) to its console."""
        reason = self.unavailable(self.target, self.probe)
        if reason:
            raise RunnerUnavailable(reason)
        start = time.monotonic()
        result = self._execute(Path(program), tuple(args), stdin)
        if self.log_dir is not None:
            result.log = self._write_log(Path(program), result, time.monotonic() - start)
        return result

    @abstractmethod
    def _execute(self, program: Path, args: tuple[str, ...], stdin: Stdin) -> RunResult:
        """Run the program and collect its output and status."""

    def _write_log(self, program: Path, result: RunResult, seconds: float) -> Path:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{program.stem}.{self.name}.log"
        log.write_text(
            f"program: {program}\nrunner: {self.name}\ntarget: {self.target.name}\n"
            f"probe: {self.probe}\ncommand: {' '.join(result.command)}\nseconds: {seconds:.2f}\n"
            f"result: {result.summary()}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}\n")
        return log


def register_runner(cls: type[Runner]) -> type[Runner]:
    """Add a runner under `cls.name` (usable as a class decorator)."""
    _REGISTERED[cls.name] = cls
    return cls


def runner_names() -> list[str]:
    return sorted({*_BUILTIN, *_REGISTERED})


def runner_class(name: str) -> type[Runner]:
    """The runner called `name`; TargetError naming the known ones otherwise."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name not in _BUILTIN:
        raise TargetError(f"unknown runner '{name}' (runners: {', '.join(runner_names())})")
    module, _, cls = _BUILTIN[name].partition(":")
    return register_runner(getattr(importlib.import_module(module), cls))


def default_runner_name(target: Target, probe: str | None = None, board_runner: str | None = None) -> str:
    """Host programs run natively, whatever `board_runner` asks; board programs run with
    `board_runner` when given, else under QEMU, or through pyOCD when a probe is named."""
    if target.is_host:
        return "host"
    return board_runner or ("pyocd" if probe else "qemu")


def get_runner(target: Target, name: str | None = None, **options) -> Runner:
    """A runner for `target`: `name`, else the default one; `options` go to its constructor.

    Raises RunnerUnavailable when that runner cannot serve `target` here.
    """
    cls = runner_class(name or default_runner_name(target, options.get("probe")))
    reason = cls.unavailable(target, options.get("probe"))
    if reason:
        raise RunnerUnavailable(reason)
    return cls(target, **options)


def text(data: bytes | str | None) -> str:
    """Process output as text, whatever the runner got (None, bytes or str)."""
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")
