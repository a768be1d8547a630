"""The host runner: a program linked for the `host` target runs natively, as an ordinary process."""

from __future__ import annotations

from pathlib import Path

from aot.targets import Target
from waftkit.runners.base import Runner, RunResult, Stdin, text
from waftkit.runners.process import run_with_cpu_budget


class HostRunner(Runner):
    """Native executables for the host target; `args` go on the command line."""

    name = "host"

    @classmethod
    def unavailable(cls, target: Target, probe: str | None) -> str | None:
        return None if target.is_host else f"the host runner runs host programs, not {target.name}'s"

    def _execute(self, program: Path, args: tuple[str, ...], stdin: Stdin) -> RunResult:
        command = [str(program.absolute()), *args]  # a bare name would be looked up on PATH
        proc = run_with_cpu_budget(command, self.timeout, stdin=stdin)
        return RunResult(proc.returncode, text(proc.stdout), text(proc.stderr), command,
                         timed_out=proc.timed_out)
