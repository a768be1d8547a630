"""Run plans on Waft: compile each module, link many into one test program, run it, read the answers.

The test program is the spec-test harness (`spectest/harness.py`): each
module becomes an instance, each plan a list of steps (instantiate, invoke,
get, free), and every step prints one `@<id>` line.  Modules share a
program so that a board boots once for dozens of them; the harness frees
each instance after its last step, so only one module's memory is live at a
time.  Modules compile in a `CompilePool` (pool.py), where an LLVM abort is
one module's crash, not the run's.

When a program stops early (a crash, a hard fault, a timeout) the module it
stopped in is marked and the modules after it run again in a new program;
when a board image does not fit its flash, the batch is split in two.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from aot.targets import Target
from waftkit.cache import cache_dir
from waftkit.firmware.link import link_command
from waftkit.firmware.runtime import runtime_library
from waftkit.runners.base import default_runner_name, get_runner
from waftkit.testing.fuzz.plan import ModuleRun, Outcome, Plan
from waftkit.testing.fuzz.pool import CompilePool
from waftkit.testing.spectest.harness import TYPE_OF_LETTER, HarnessWriter, Instance, Step
from waftkit.testing.spectest.runner import PROGRAM_TIMEOUTS
from waftkit.testing.spectest.values import ANY_FUNC, Value

# Modules per test program: a board image stays well inside 1 MiB of flash, and a crash
# costs a rerun of at most this many modules.
BATCH = {"host": 50, "board": 25}
_LINE = re.compile(r"@(\d+) (.*)")


@dataclass
class _Compiled:
    index: int  # the case's position in the run
    result: dict  # compile_job's answer


class WaftExecutor:
    """Runs (module, plan) cases on one target.  Use as a context manager (it owns a
    CompilePool of `jobs` workers; 0 compiles in forks of this process)."""

    def __init__(self, target: Target, *, opt: str = "2", jobs: int = 1, keep: bool = False) -> None:
        self.target = target
        self.keep = keep or bool(os.environ.get("WAFT_FUZZ_KEEP"))
        name = default_runner_name(target)
        self.runner = get_runner(target, name, timeout=PROGRAM_TIMEOUTS[name])
        self.root = cache_dir() / "fuzz" / target.name
        self.root.mkdir(parents=True, exist_ok=True)
        self._pool = CompilePool(target, opt=opt, jobs=jobs)
        self._runtime: Path | None = None

    def __enter__(self) -> WaftExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self._pool.close()

    # --- the whole run -----------------------------------------------------------------------

    def run(self, cases: list[tuple[bytes, Plan]]) -> list[ModuleRun]:
        """One ModuleRun per case, in order."""
        futures: list[Future] = [
            self._pool.submit(data, f"m{i}") for i, (data, _plan) in enumerate(cases)]
        runs = [ModuleRun() for _ in cases]
        ready: list[_Compiled] = []
        for i, fut in enumerate(futures):
            res = fut.result()
            if res["status"] == "ok":
                runs[i].capped = bool(res.get("capped"))
                ready.append(_Compiled(i, res))
            elif res["status"] == "toobig":
                runs[i].error_kind = "toobig"
                runs[i].error = f"needs {res['bytes']} bytes of linear memory, over {self.target.name}'s cap"
            else:
                runs[i].error_kind = "unsupported" if res["kind"] == "simd" else res["kind"]
                runs[i].error = res["message"]
        size = BATCH["host" if self.target.is_host else "board"]
        for start in range(0, len(ready), size):
            self._run_batch(ready[start:start + size], cases, runs)
        return runs

    def _run_batch(self, batch: list[_Compiled], cases: list[tuple[bytes, Plan]],
                   runs: list[ModuleRun]) -> None:
        """Run the batch; after an early stop, again from the module after the one it stopped in."""
        while batch:
            stopped_in = self._program(batch, cases, runs)
            if stopped_in is None:
                return
            batch = batch[stopped_in + 1:]

    # --- one test program --------------------------------------------------------------------

    def _program(self, batch: list[_Compiled], cases: list[tuple[bytes, Plan]],
                 runs: list[ModuleRun]) -> int | None:
        """Build and run one program for `batch`; the position in it of the module where the
        program stopped early, or None when every step answered."""
        build = Path(tempfile.mkdtemp(prefix="batch.", dir=self.root))
        writer = HarnessWriter()
        ids: dict[int, tuple[int, int]] = {}  # step id -> (position in batch, action index or -1)
        objects: list[Path] = []
        headers: dict[int, str] = {}
        for pos, item in enumerate(batch):
            k, res = item.index, item.result
            (build / f"m{k}.h").write_text(res["header"])
            (build / f"m{k}.o").write_bytes(res["object"])
            headers[k] = f"m{k}.h"
            objects.append(build / f"m{k}.o")
            writer.add_instance(Instance(k, f"m{k}", res["module"]))
            ids[len(ids) + 1] = (pos, -1)
            writer.add_step(Step("inst", len(ids), k))
            for a, action in enumerate(cases[k][1].actions):
                ids[len(ids) + 1] = (pos, a)
                op = "call" if action.kind == "invoke" else "get"
                writer.add_step(Step(op, len(ids), k, action.field, tuple(_slot(v) for v in action.args)))
            writer.add_step(Step("free", 0, k))
        source = build / "harness.c"
        source.write_text(writer.write(headers))
        exe = build / ("harness" if self.target.is_host else "harness.elf")
        cmd = link_command(self.target, [source, *objects, self._runtime_library()], exe,
                           cflags=["-I", str(build), "-w", "-Os", "-ffunction-sections", "-fdata-sections"])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            return self._link_failed(batch, cases, runs, build, proc.stderr)
        result = self.runner.run(exe)
        (build / "output.txt").write_text(result.stdout + "\n--- stderr ---\n" + result.stderr)
        answered: set[int] = set()
        ended = False
        for text in result.stdout.splitlines():
            m = _LINE.match(text)
            if m and int(m.group(1)) in ids:
                pos, a = ids[int(m.group(1))]
                outcome = _outcome(m.group(2))
                run = runs[batch[pos].index]
                if a < 0:
                    run.instantiate = outcome
                else:
                    run.outcomes.append(outcome)
                answered.add(int(m.group(1)))
            elif text.startswith("@end"):
                ended = True
        if ended and result.returncode == 0:
            if not self.keep:
                shutil.rmtree(build, ignore_errors=True)
            return None
        # The first step without an answer is where the program stopped.
        first = min(i for i in ids if i not in answered) if len(answered) < len(ids) else max(ids)
        pos = ids[first][0]
        how = "timed out" if result.timed_out else (
            f"killed by signal {-result.returncode}" if (result.returncode or 0) < 0
            else f"exited with status {result.returncode}")
        run = runs[batch[pos].index]
        run.error_kind, run.error = "crash", f"the test program {how} (log: {build / 'output.txt'})"
        return pos

    def _link_failed(self, batch: list[_Compiled], cases: list[tuple[bytes, Plan]], runs: list[ModuleRun],
                     build: Path, stderr: str) -> int | None:
        """A link that failed: split a batch too big for the board's flash, else mark its modules."""
        too_big = "overflowed" in stderr or "will not fit" in stderr
        if too_big and len(batch) > 1:
            # A board's flash: run the halves as programs of their own.
            half = len(batch) // 2
            shutil.rmtree(build, ignore_errors=True)
            self._run_batch(batch[:half], cases, runs)
            self._run_batch(batch[half:], cases, runs)
            return None
        (build / "link.txt").write_text(stderr)
        for item in batch:
            run = runs[item.index]
            run.error_kind = "toobig" if too_big else "crash"
            run.error = f"the test program failed to link (log: {build / 'link.txt'})"
        return None

    def _runtime_library(self) -> Path:
        if self._runtime is None:
            self._runtime = Path(runtime_library(self.target, cache_dir()))
        return self._runtime


def _slot(value: Value) -> int:
    """An argument as the harness's uint64 slot (externref N travels as N + 1; 0 is null)."""
    if value.type in ("funcref", "externref"):
        return 0 if value.bits is None else int(value.bits) + 1
    return int(value.bits or 0)


def _outcome(text: str) -> Outcome:
    """One harness answer: `ok i:2a F:7ff8...`, `trap 3 integer divide by zero`, `noinst`, `nomem N`."""
    words = text.split(" ", 2)
    if words[0] == "trap":
        return Outcome("trap", trap=words[2] if len(words) > 2 else "")
    if words[0] != "ok":
        return Outcome(words[0])
    values = []
    for token in text.split()[1:]:
        letter, _, hexbits = token.partition(":")
        vtype = TYPE_OF_LETTER[letter]
        bits = int(hexbits, 16)
        if vtype == "externref":
            values.append(Value(vtype, None if bits == 0 else bits - 1))
        elif vtype == "funcref":
            values.append(Value(vtype, None if bits == 0 else ANY_FUNC))
        else:
            values.append(Value(vtype, bits))
    return Outcome("ok", tuple(values))
