"""Run a child process under a budget of CPU seconds, with a wall-clock backstop.

A run's budget is CPU time, not wall time: on a loaded two-core machine a
QEMU that is starved for a minute has not hung, and one that spins has,
however fast the machine.  The limit is the kernel's (RLIMIT_CPU, set on the
child right after it starts: SIGXCPU at the budget, SIGKILL five seconds
later).  A child that blocks without using CPU (a program waiting for input
that never comes, a core asleep in WFI) is caught by the wall-clock backstop,
`WALL_FACTOR` times the budget.
"""

from __future__ import annotations

import resource
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

WALL_FACTOR = 5.0
_KILL_GRACE = 5  # CPU seconds between SIGXCPU and SIGKILL


@dataclass
class ProcessResult:
    returncode: int | None  # None when the budget ran out
    stdout: bytes
    stderr: bytes
    timed_out: bool = False


def run_with_cpu_budget(command: Sequence[str], cpu_seconds: float, *, stdin=None,
                        env: dict[str, str] | None = None) -> ProcessResult:
    """Run `command` to its end, or until it has used `cpu_seconds` of CPU time.

    `stdin`: bytes are fed to the child; an open file is handed to it as its
    standard input (it reads what it needs, when it needs it); None gives it
    end of file at once.
    """
    handed_over = stdin is not None and not isinstance(stdin, bytes)
    proc = subprocess.Popen(list(command), stdin=stdin if handed_over else subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    stdin = None if handed_over else (stdin or b"")
    limit = max(1, int(cpu_seconds + 0.999))
    try:
        resource.prlimit(proc.pid, resource.RLIMIT_CPU, (limit, limit + _KILL_GRACE))
    except (ProcessLookupError, OSError):
        pass  # it has already exited: nothing to limit
    try:
        stdout, stderr = proc.communicate(stdin, timeout=cpu_seconds * WALL_FACTOR)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        return ProcessResult(None, stdout, stderr, timed_out=True)
    if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return ProcessResult(None, stdout, stderr, timed_out=True)
    return ProcessResult(proc.returncode, stdout, stderr)
