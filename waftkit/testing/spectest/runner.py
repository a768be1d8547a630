"""Run one spec script end to end: compile its modules, link a test program, run it, judge it.

Two passes over the script's commands.  The first sends every module to the
process pool (compile, or decode-and-validate for assertions about bad
modules).  The second replays the script in Python: it links imports,
decides what Python alone can decide (invalid, malformed, unlinkable), and
turns everything else into harness steps.  The program then runs natively
or under QEMU, and each `@<id>` line it prints is judged against the
command it belongs to.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import re
import subprocess
import tempfile
import traceback
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path

from aot import abi
from aot.targets import Target, load_target
from aot.wasm.module import Module
from waftkit.firmware.link import link_command
from waftkit.runners.base import Runner
from waftkit.testing.spectest import linking
from waftkit.testing.spectest.harness import (
    TYPE_OF_LETTER,
    Binding,
    HarnessWriter,
    Instance,
    Step,
)
from waftkit.testing.spectest.values import ANY_FUNC, Value, format_values, matches
from waftkit.testing.spectest.wast import Command, load_script

SIMD_REASON = "SIMD is not supported yet"
TEXT_MODULE_REASON = "text-format module (tests the WAT parser)"
# Assertions a proposal's copy of a core script still makes against the core spec it
# forked from, where Wasm 2.0 (which Waft implements) says otherwise:
# (proposal folder, command, expected text) -> why the assertion is skipped.
SUPERSEDED = {
    ("threads", "assert_invalid", "multiple tables"):
        "the threads proposal's copy predates reference types: Wasm 2.0 allows several tables",
}
# Budget for one test program, by runner: CPU seconds natively (a script takes
# well under one) and under QEMU (the biggest scripts take about a minute);
# wall-clock seconds through pyOCD, where every semihosting call is a round trip.
PROGRAM_TIMEOUTS = {"host": 120.0, "qemu": 300.0, "pyocd": 900.0}


# --- outcomes -------------------------------------------------------------------


@dataclass
class Outcome:
    cmd: Command
    status: str  # "pass" | "fail" | "skip"
    message: str = ""  # fail: what went wrong; skip: the reason


@dataclass
class FileResult:
    path: Path
    outcomes: list[Outcome] = field(default_factory=list)
    skip_file_reason: str | None = None  # the whole file was skipped for this reason

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


@dataclass(frozen=True)
class Unavailable:
    """Why an instance that later commands need is not there."""

    status: str  # "skip" (a reason the user accepts) or "fail"
    reason: str


def describe(cmd: Command) -> str:
    """`assert_return (invoke "add")` — how a command is named in a report."""
    if cmd.action is not None:
        return f'{cmd.kind} ({cmd.action.kind} "{cmd.action.field}")'
    return cmd.kind


# --- pool jobs (run in worker processes) -------------------------------------------


def _strip(module: Module) -> Module:
    """The module without function bodies: all the parent needs, cheap to pickle."""
    for func in module.functions:
        func.body = []
    return module


def _is_simd(exc: Exception) -> bool:
    text = str(exc).lower()
    return "simd" in text or "v128" in text


def _error(exc: Exception) -> dict:
    from aot.errors import DecodeError, UnsupportedError, ValidationError

    if isinstance(exc, UnsupportedError) and _is_simd(exc):
        kind = "simd"
    elif isinstance(exc, DecodeError):
        kind = "malformed"
    elif isinstance(exc, ValidationError):
        kind = "invalid"
    elif isinstance(exc, UnsupportedError):
        kind = "unsupported"
    else:
        kind = "crash"
    message = str(exc) if kind != "crash" else \
        f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_exception(exc)[-4:])
    return {"status": "error", "kind": kind, "message": message.strip()}


def _isolated(fn, *args) -> dict:
    """Run fn(*args) in a forked child so that an abort inside LLVM (which kills the
    process, not raises) becomes one module's error instead of a broken pool."""
    read_fd, write_fd = os.pipe()
    with tempfile.TemporaryFile() as errfile:
        pid = os.fork()
        if pid == 0:  # the child: never return into the pool's code
            try:
                os.close(read_fd)
                os.dup2(errfile.fileno(), 2)
                try:
                    result = fn(*args)
                except BaseException as exc:  # noqa: BLE001 - everything is reported
                    result = _error(exc)
                with os.fdopen(write_fd, "wb") as pipe:
                    pipe.write(pickle.dumps(result))
            finally:
                os._exit(0)
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        if data:
            return pickle.loads(data)
        errfile.seek(0)
        stderr = errfile.read().decode("utf-8", "replace").strip()
    how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else \
        f"status {os.WEXITSTATUS(status)}"
    return {"status": "error", "kind": "crash",
            "message": f"the compiler process died ({how}): {stderr[-800:] or '(no message)'}"}


def check_job(data: bytes) -> dict:
    """Decode and validate one binary; return its (stripped) Module or the error."""
    return _isolated(_check, data)


def _check(data: bytes) -> dict:
    from aot.wasm.decode import decode_module
    from aot.wasm.validate import validate_module

    try:
        module = decode_module(data)
        validate_module(module)
    except Exception as exc:  # every failure is a result here, reported by the parent
        return _error(exc)
    return {"status": "ok", "module": _strip(module)}


def _memory_needs(module: Module, cap_pages: int | None) -> tuple[int, bool]:
    """(bytes the module's own memories need at least, whether the cap limits growth)."""
    need = 0
    capped = False
    for mem in module.memories:
        lim = mem.limits
        need = max(need, lim.min << lim.page_size_log2)
        # 65536 pages is all the spec allows: a cap that large limits nothing.
        if cap_pages is not None and cap_pages < 65536:
            if lim.max is None or lim.max > cap_pages:
                capped = True
    return need, capped


def compile_job(data: bytes, target_name: str, prefix: str, opt: str,
                cap_pages: int | None) -> dict:
    """Compile one module for the test image (in a worker process)."""
    return _isolated(_compile, data, target_name, prefix, opt, cap_pages)


def _compile(data: bytes, target_name: str, prefix: str, opt: str,
             cap_pages: int | None) -> dict:
    try:
        from aot.compiler import compile_module
        from aot.wasm.decode import decode_module
        from aot.wasm.validate import validate_module

        target = load_target(target_name)
        module = decode_module(data)
        validate_module(module)
        need, capped = _memory_needs(module, cap_pages)
        if cap_pages is not None and need > cap_pages * 65536:
            return {"status": "toobig", "bytes": need}
        result = compile_module(data, target, prefix=prefix, opt=opt,
                                memory_cap_pages=cap_pages)
    except Exception as exc:
        return _error(exc)
    return {"status": "ok", "object": result.object, "header": result.header,
            "module": _strip(result.module), "instance_size": result.instance_size,
            "capped": capped}


# --- sizes for messages ------------------------------------------------------------


def human_bytes(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) or value >= 10 else f"{value:.1f} {unit}"
    return f"{n} bytes"


def memory_cap_pages(target: Target) -> int | None:
    """The linear-memory cap a test image uses on `target` (None: no cap, the host)."""
    # The host's test images calloc their instances, so they can afford the
    # spec's full 4 GiB; boards get their target's default.
    return 65536 if target.is_host else target.default_memory_cap_pages


# --- the per-file driver --------------------------------------------------------------


class ScriptRun:
    """Everything needed to run one script on one target."""

    def __init__(self, path: Path, target: Target, pool: Executor, opt: str, build_dir: Path,
                 runtime_lib: "Future[Path] | Path", runner: Runner) -> None:
        """`runner` (waftkit.runners.base) runs the linked test program: natively, QEMU or pyOCD."""
        self.path = path
        self.runner = runner
        self.target = target
        self.pool = pool
        self.opt = opt
        self.build_dir = build_dir
        self.runtime_lib = runtime_lib
        self.cap = memory_cap_pages(target)
        self.result = FileResult(path)
        self.ram_text = human_bytes(target.ram.length) if target.ram else "?"

    # --- outcomes

    def _out(self, cmd: Command, status: str, message: str = "") -> None:
        self.result.outcomes.append(Outcome(cmd, status, message))

    # --- main entry

    def run(self) -> FileResult:
        script = load_script(self.path, self.build_dir / "wast")
        if self.path.name.startswith("simd_"):
            self.result.skip_file_reason = SIMD_REASON
            for cmd in script.commands:
                if cmd.kind != "register":
                    self._out(cmd, "skip", SIMD_REASON)
            return self.result
        commands = script.commands
        jobs = self._submit(commands)
        writer, pending = self._plan(commands, jobs)
        if pending:
            lines, crash = self._build_and_run(writer, jobs)
            self._judge(pending, lines, crash)
        self.result.outcomes.sort(key=lambda o: o.cmd.line)
        return self.result

    # --- pass 1: compile everything in the pool

    def _submit(self, commands: list[Command]) -> dict[int, tuple[int, Future, dict[str, str]]]:
        """Per command position: (instance index, future, renamed->original import modules)."""
        jobs: dict[int, tuple[int, Future, dict[str, str]]] = {}
        next_instance = 0
        for pos, cmd in enumerate(commands):
            if cmd.wasm is None or cmd.module_type != "binary":
                continue
            data = cmd.wasm.read_bytes()
            if cmd.kind in ("module", "assert_uninstantiable", "assert_trap"):
                k = next_instance
                next_instance += 1
                try:
                    renamed = linking.rename_imports(data, k)
                except (linking.BinaryFormatError, UnicodeDecodeError, IndexError):
                    renamed = linking.Renamed(data, {})
                fut = self.pool.submit(compile_job, renamed.data, self.target.name, f"m{k}",
                                       self.opt, self.cap)
                jobs[pos] = (k, fut, renamed.names)
            elif cmd.kind in ("assert_invalid", "assert_malformed", "assert_unlinkable"):
                jobs[pos] = (-1, self.pool.submit(check_job, data), {})
        return jobs

    # --- pass 2: link and plan

    def _plan(self, commands: list[Command], jobs: dict) -> tuple[HarnessWriter, dict[int, tuple]]:
        spectest_pages: dict[str, int] = {}  # spectest memory -> pages of storage
        writer = HarnessWriter()
        named: dict[str, int | Unavailable] = {}
        registry: dict[str, int | Unavailable] = {}
        latest: int | Unavailable | None = None
        modules: dict[int, Module] = {}
        capped: dict[int, str] = {}
        # Union-find over instances that share imports: they live and die together.
        parent: dict[int, int] = {}
        last_use: dict[int, int] = {}

        def find(k: int) -> int:
            while parent[k] != k:
                parent[k] = parent[parent[k]]
                k = parent[k]
            return k

        def use(k: int, pos: int) -> None:
            last_use[k] = max(last_use.get(k, pos), pos)

        pending: dict[int, tuple] = {}  # cmd id -> (cmd, kind of check, instance, extra)
        step_pos: list[tuple[int, Step]] = []

        for pos, cmd in enumerate(commands):
            kind = cmd.kind
            if kind == "register":
                target = named.get(cmd.name) if cmd.name else latest
                registry[cmd.as_name or ""] = target if target is not None else \
                    Unavailable("fail", f"register at line {cmd.line}: no module")
                continue
            if kind in ("assert_invalid", "assert_malformed"):
                if cmd.module_type != "binary":
                    self._out(cmd, "skip", TEXT_MODULE_REASON)
                    continue
                superseded = SUPERSEDED.get((self.path.parent.name, kind, cmd.text))
                if superseded is not None:
                    self._out(cmd, "skip", superseded)
                    continue
                res = jobs[pos][1].result()
                self._judge_rejection(cmd, res)
                continue
            if kind == "assert_unlinkable":
                res = jobs[pos][1].result()
                if res["status"] != "ok":
                    self._module_error(cmd, res)
                    continue
                why = self._resolve(res["module"], None, registry, modules)
                if isinstance(why, str):
                    self._out(cmd, "pass")
                elif isinstance(why, Unavailable):
                    self._out(cmd, why.status, why.reason)
                else:
                    self._out(cmd, "fail", f"expected unlinkable ({cmd.text}), the module linked")
                continue
            if kind in ("module", "assert_uninstantiable") or (kind == "assert_trap" and cmd.action is None):
                if cmd.module_type != "binary" or pos not in jobs:
                    self._out(cmd, "skip", TEXT_MODULE_REASON)
                    if kind == "module":
                        latest = Unavailable("skip", TEXT_MODULE_REASON)
                        if cmd.name:
                            named[cmd.name] = latest
                    continue
                k, fut, renames = jobs[pos]
                res = fut.result()
                avail: int | Unavailable
                if res["status"] == "toobig":
                    reason = (f"needs {human_bytes(res['bytes'])} of linear memory; "
                              f"{self.target.name} has {self.ram_text} RAM")
                    self._out(cmd, "skip", reason)
                    avail = Unavailable("skip", reason)
                elif res["status"] != "ok":
                    avail = self._module_error(cmd, res)
                else:
                    module: Module = res["module"]
                    bound = self._resolve(module, renames, registry, modules, k)
                    if isinstance(bound, Unavailable):
                        self._out(cmd, bound.status, bound.reason)
                        avail = bound
                    elif isinstance(bound, str):
                        self._out(cmd, "fail", f"module failed to link: {bound}")
                        avail = Unavailable("fail", f"module at line {cmd.line} failed to link")
                    elif (crowded := self._spectest_memories_do_not_fit(bound[0], spectest_pages)) is not None:
                        self._out(cmd, "skip", crowded)
                        avail = Unavailable("skip", crowded)
                    else:
                        bindings, ctx = bound
                        modules[k] = module
                        parent[k] = k
                        inst = Instance(k, f"m{k}", module, bindings, ctx)
                        writer.add_instance(inst)
                        for b in bindings:
                            if b.source[0] == "instance":
                                j = b.source[1]
                                parent[find(j)] = find(k)
                                use(j, pos)
                            elif b.kind == "memory":
                                # spectest.memory and spectest.shared_memory both have max 2.
                                pages = 2 if self.cap is None else min(2, max(1, self.cap))
                                spectest_pages[b.source[1]] = pages
                                if pages < 2:
                                    capped[k] = (f"needs 128 KiB of linear memory (spectest.{b.source[1]}, "
                                                 f"capped at {human_bytes(pages * 65536)}); "
                                                 f"{self.target.name} has {self.ram_text} RAM")
                        use(k, pos)
                        if res.get("capped") and k not in capped:
                            capped[k] = self._cap_reason(module)
                        cmd_id = len(pending) + 1
                        pending[cmd_id] = (cmd, "inst", k, None)
                        step_pos.append((pos, Step("inst", cmd_id, k)))
                        avail = k
                if kind == "module":
                    latest = avail
                    if cmd.name:
                        named[cmd.name] = avail
                continue
            if cmd.action is not None:
                target = named.get(cmd.action.module) if cmd.action.module else latest
                if target is None:
                    self._out(cmd, "fail", f"no module named {cmd.action.module or '(latest)'}")
                    continue
                if isinstance(target, Unavailable):
                    self._out(cmd, target.status, "not run: " + target.reason
                              if target.status == "fail" else target.reason)
                    continue
                if any(v.type == "v128" for v in cmd.action.args) or \
                        any(v.type == "v128" for alt in cmd.expected for v in alt):
                    self._out(cmd, "skip", SIMD_REASON)
                    continue
                module = modules[target]
                export_kind = "func" if cmd.action.kind == "invoke" else "global"
                if not any(e.name == cmd.action.field and e.kind == export_kind for e in module.exports):
                    self._out(cmd, "fail", f"module has no {export_kind} export "
                                           f"{cmd.action.field!r}")
                    continue
                op = "call" if cmd.action.kind == "invoke" else "get"
                cmd_id = len(pending) + 1
                pending[cmd_id] = (cmd, kind, target, None)
                step_pos.append((pos, Step(op, cmd_id, target, cmd.action.field,
                                           tuple(_arg_bits(v) for v in cmd.action.args))))
                use(target, pos)
                continue
            self._out(cmd, "fail", f"unknown command {kind}")

        # Free each group of linked instances after its last use.
        last_of_group: dict[int, int] = {}
        for k, p in last_use.items():
            r = find(k)
            last_of_group[r] = max(last_of_group.get(r, -1), p)
        frees_at: dict[int, list[int]] = {}
        for k in last_use:
            frees_at.setdefault(last_of_group[find(k)], []).append(k)
        steps_by_pos: dict[int, list[Step]] = {}
        for p, step in step_pos:
            steps_by_pos.setdefault(p, []).append(step)
        for p in sorted(set(steps_by_pos) | set(frees_at)):
            for step in steps_by_pos.get(p, []):
                writer.add_step(step)
            for k in sorted(frees_at.get(p, [])):
                writer.add_step(Step("free", 0, k))
        writer.spectest_memories = spectest_pages
        self._capped = {k: capped[k] for k in capped}
        self._groups = {k: find(k) for k in parent}
        self._writer = writer
        return writer, pending

    def _spectest_memories_do_not_fit(self, bindings: list[Binding], have: dict[str, int]) -> str | None:
        """Why a module cannot import another spectest memory here, or None when it can.

        On a board whose memory cap is below the spectest memories' two pages
        (stm32f4: 128 KiB of RAM), one spectest memory of one page is all the
        test image holds; a module importing a second one (spectest.memory and
        spectest.shared_memory) is skipped with the figures.
        """
        if self.cap is None or self.cap >= 2:
            return None
        wanted = {b.source[1] for b in bindings if b.kind == "memory" and b.source[0] == "spectest"}
        if len(set(have) | wanted) <= 1:
            return None
        names = " and ".join(f"spectest.{n}" for n in sorted(set(have) | wanted))
        return (f"needs {names} at once, 128 KiB of linear memory; "
                f"{self.target.name} has {self.ram_text} RAM")

    def _cap_reason(self, module: Module) -> str:
        mem = module.memories[0]
        want = "up to 4 GiB" if mem.limits.max is None else \
            human_bytes(mem.limits.max << mem.limits.page_size_log2)
        return (f"needs {want} of linear memory (capped at {human_bytes((self.cap or 0) * 65536)}); "
                f"{self.target.name} has {self.ram_text} RAM")

    def _module_error(self, cmd: Command, res: dict) -> Unavailable:
        if res["kind"] == "simd":
            self._out(cmd, "skip", SIMD_REASON)
            return Unavailable("skip", SIMD_REASON)
        self._out(cmd, "fail", f"module failed to compile: {res['kind']}: {res['message']}")
        return Unavailable("fail", f"module at line {cmd.line} failed to compile")

    def _judge_rejection(self, cmd: Command, res: dict) -> None:
        wanted = "malformed" if cmd.kind == "assert_malformed" else "invalid"
        if res["status"] == "ok":
            self._out(cmd, "fail", f"expected {wanted} ({cmd.text}), the module was accepted")
        elif res["kind"] in ("malformed", "invalid"):
            self._out(cmd, "pass")
        elif res["kind"] == "simd":
            self._out(cmd, "skip", SIMD_REASON)
        else:
            self._out(cmd, "fail", f"expected {wanted} ({cmd.text}), got {res['kind']}: "
                                   f"{res['message']}")

    def _resolve(self, module: Module, renames: dict[str, str] | None,
                 registry: dict[str, int | Unavailable], modules: dict[int, Module],
                 k: int = -1) -> str | Unavailable | tuple[list[Binding], dict[str, tuple]]:
        """Link a module's imports: the bindings, a reason it is unlinkable, or Unavailable."""
        bindings: list[Binding] = []
        ctx: dict[str, tuple] = {}
        fields = {f.import_index: f.name for f in abi.imports_struct_fields(module)
                  if f.import_index is not None}
        for index, imp in enumerate(module.imports):
            original = renames.get(imp.module, imp.module) if renames else imp.module
            if imp.kind == "func":
                wanted: object = module.types[imp.desc]  # type: ignore[index]
            else:
                wanted = imp.desc
            if original == "spectest":
                if imp.name not in linking.SPECTEST:
                    return f"unknown import: spectest.{imp.name}"
                actual_kind, actual = linking.SPECTEST[imp.name]
                source: tuple = ("spectest", imp.name)
                ctx_source: tuple = ("spectest",)
            else:
                src = registry.get(original)
                if src is None:
                    return f"unknown import: no module registered as {original!r}"
                if isinstance(src, Unavailable):
                    return Unavailable(src.status, f"imports from {original!r}: {src.reason}")
                exporter = modules[src]
                exp = next((e for e in exporter.exports if e.name == imp.name), None)
                if exp is None:
                    return f"unknown import: {original}.{imp.name}"
                actual_kind = exp.kind
                actual = {
                    "func": lambda i: exporter.func_type(i),
                    "table": lambda i: exporter.all_tables()[i],
                    "memory": lambda i: exporter.all_memories()[i],
                    "global": lambda i: exporter.all_globals()[i],
                }[exp.kind](exp.index)
                source = ("instance", src, imp.name)
                ctx_source = ("instance", src)
            min_check = None
            if source[0] == "instance" and imp.kind in ("memory", "table") and \
                    actual_kind == imp.kind and renames is not None:
                # An exported memory or table may have grown since it was declared: the
                # spec matches the current size, which only the running program knows.
                # Match the rest here and let the harness compare the size.
                wanted_min = wanted.limits.min  # type: ignore[attr-defined]
                if actual.limits.min < wanted_min:  # type: ignore[attr-defined]
                    actual = dataclasses.replace(
                        actual, limits=dataclasses.replace(actual.limits, min=wanted_min))
                    min_check = wanted_min
            why = linking.match_import(imp.kind, wanted, actual_kind, actual)
            if why is not None:
                return f"{why} ({original}.{imp.name})"
            symbol = abi.import_symbol(imp.module, imp.name)
            if imp.kind == "func":
                ctx.setdefault(imp.module, ctx_source)
                bindings.append(Binding(abi.mangle(imp.module), "func", symbol,
                                        functype=wanted, source=source))  # type: ignore[arg-type]
            else:
                bindings.append(Binding(fields[index], imp.kind, symbol, source=source,
                                        min_size=min_check))
        return bindings, ctx

    # --- build and run

    def _build_and_run(self, writer: HarnessWriter, jobs: dict) -> tuple[dict[int, str], str | None]:
        """Write, compile, link and run the program; its `@` lines by id and how it ended."""
        out = self.build_dir
        headers: dict[int, str] = {}
        objects: list[Path] = []
        for _pos, (k, fut, _names) in sorted(jobs.items()):
            if k < 0 or k not in writer.instances:
                continue
            res = fut.result()
            (out / f"m{k}.h").write_text(res["header"])
            obj = out / f"m{k}.o"
            obj.write_bytes(res["object"])
            headers[k] = f"m{k}.h"
            objects.append(obj)
        source = out / "harness.c"
        source.write_text(writer.write(headers))
        runtime = self.runtime_lib.result() if isinstance(self.runtime_lib, Future) else self.runtime_lib
        exe = out / ("harness" if self.target.is_host else "harness.elf")
        # The same link as every other program for the target (waftkit.firmware.link); the harness
        # is table-driven data, so -Os keeps big scripts small in flash.
        cmd = link_command(self.target, [source, *objects, runtime], exe,
                           cflags=["-I", str(out), "-w", "-Os", "-ffunction-sections",
                                   "-fdata-sections"])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            return {}, f"test program failed to build ({out}):\n" + _build_errors(proc.stderr)
        result = self.runner.run(exe)
        stdout, stderr, code = result.stdout, result.stderr, result.returncode
        (out / "output.txt").write_text(stdout + ("\n--- stderr ---\n" + stderr if stderr else ""))
        lines: dict[int, str] = {}
        ended = False
        fault = None
        for text in stdout.splitlines():
            m = re.match(r"@(\d+) (.*)", text)
            if m:
                lines[int(m.group(1))] = m.group(2)
            elif text.startswith("@end"):
                ended = True
            elif text.startswith("@fault"):
                fault = text[1:]
        if ended and code == 0:
            return lines, None
        if code is None:
            how = f"timed out after {self.runner.timeout:.0f} s ({self.runner.name} runner)"
        elif fault:
            how = fault
        elif code < 0:
            how = f"killed by signal {-code}"
        else:
            how = f"exited with status {code}"
        detail = _tail(stderr, 5)
        return lines, f"test program {how}{': ' + detail if detail else ''} (log: {out / 'output.txt'})"

    # --- judging

    def _judge(self, pending: dict[int, tuple], lines: dict[int, str], crash: str | None) -> None:
        inst_state: dict[int, Outcome] = {}
        stopped_at: int | None = None
        for cmd_id, (cmd, kind, k, _extra) in sorted(pending.items()):
            line = lines.get(cmd_id)
            if line is None:
                if stopped_at is None:
                    # The first command without a result is where the program stopped.
                    stopped_at = cmd.line
                    self._out(cmd, "fail", crash or "no result line from the test program")
                else:
                    self._out(cmd, "fail", f"not run: the test program stopped at line {stopped_at}")
                continue
            words = line.split(" ", 2)
            status = words[0]
            if status == "nomem":
                reason = (f"instance needs {human_bytes(int(words[1]))} of RAM, more than is left "
                          f"on {self.target.name} ({self.ram_text} RAM)")
                self._out(cmd, "skip", reason)
                inst_state[k] = self.result.outcomes[-1]
                continue
            if status == "unlinkable":
                self._out(cmd, "fail", "module failed to link: incompatible import type: "
                                       f"the current size of {words[1] if len(words) > 1 else 'an import'} is smaller than the import's minimum")
                inst_state[k] = self.result.outcomes[-1]
                continue
            if status == "noinst":
                prior = inst_state.get(k)
                if prior is not None and prior.status == "skip":
                    self._out(cmd, "skip", prior.message)
                else:
                    where = f" at line {prior.cmd.line}" if prior else ""
                    self._out(cmd, "fail", f"not run: the module{where} did not instantiate")
                continue
            trap = None
            results: list[Value] = []
            if status == "trap":
                trap = words[2] if len(words) > 2 else "(no message)"
            else:
                results = [_result_value(tok) for tok in line.split()[1:]]
            outcome = self._verdict(cmd, kind, trap, results)
            if outcome.status == "fail":
                reason = self._capped_reason(k)
                if reason is not None:
                    outcome = Outcome(cmd, "skip", reason)
            self.result.outcomes.append(outcome)
            if kind == "inst":
                inst_state[k] = outcome

    def _capped_reason(self, k: int) -> str | None:
        group = self._groups.get(k)
        for j, reason in self._capped.items():
            if self._groups.get(j) == group:
                return reason
        return None

    def _verdict(self, cmd: Command, kind: str, trap: str | None, results: list[Value]) -> Outcome:
        if kind == "inst":
            if cmd.kind == "module":
                if trap is not None:
                    return Outcome(cmd, "fail", f"instantiation trapped: {trap}")
                return Outcome(cmd, "pass")
            if trap is None:
                return Outcome(cmd, "fail", f"expected trap ({cmd.text}), instantiation succeeded")
            return self._trap_verdict(cmd, trap)
        if kind in ("assert_trap", "assert_exhaustion"):
            if trap is None:
                return Outcome(cmd, "fail", f"expected trap ({cmd.text}), got {format_values(results)}")
            return self._trap_verdict(cmd, trap)
        if trap is not None:
            return Outcome(cmd, "fail", f"expected {self._expected_text(cmd)}, got trap ({trap})")
        if kind == "action":
            return Outcome(cmd, "pass")
        for alt in cmd.expected:
            if len(alt) == len(results) and all(matches(e, a) for e, a in zip(alt, results)):
                return Outcome(cmd, "pass")
        return Outcome(cmd, "fail", f"expected {self._expected_text(cmd)}, got {format_values(results)}")

    @staticmethod
    def _expected_text(cmd: Command) -> str:
        if not cmd.expected:
            return "()"
        return " or ".join(format_values(alt) for alt in cmd.expected)

    @staticmethod
    def _trap_verdict(cmd: Command, trap: str) -> Outcome:
        if cmd.text.startswith(trap) or trap.startswith(cmd.text):
            return Outcome(cmd, "pass")
        return Outcome(cmd, "fail", f"expected trap ({cmd.text}), got trap ({trap})")


def _arg_bits(value: Value) -> int:
    if value.type == "externref":
        return 0 if value.bits is None else int(value.bits) + 1  # 0 is reserved for null
    if value.type == "funcref":
        if value.bits is not None:
            raise ValueError("a funcref argument other than null cannot be written in a script")
        return 0
    return int(value.bits or 0)


def _result_value(token: str) -> Value:
    letter, _, hexbits = token.partition(":")
    vtype = TYPE_OF_LETTER.get(letter, "?")
    bits = int(hexbits, 16)
    if vtype == "externref":
        return Value(vtype, None if bits == 0 else bits - 1)
    if vtype == "funcref":
        return Value(vtype, None if bits == 0 else ANY_FUNC)
    return Value(vtype, bits)


def _build_errors(stderr: str, limit: int = 12) -> str:
    """The compiler's and linker's errors without their warnings, each distinct one once."""
    seen: list[str] = []
    for line in stderr.splitlines():
        if "warning:" in line or "NOTE:" in line or "in function" in line:
            continue
        text = re.sub(r"^.*?(?=(undefined reference|error|region|section))", "", line).strip()
        if text and text not in seen:
            seen.append(text)
    more = f"\n  ... and {len(seen) - limit} more" if len(seen) > limit else ""
    return "\n".join("  " + s for s in seen[:limit]) + more


def _tail(text: str, n: int) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return "\n".join(lines[-n:])
