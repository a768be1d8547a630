"""The `waft` command line: thin click wrappers around the compiler and the kit's Python API.

Every error is one line on stderr, `waft: error: ...`, and an exit status
that says whose it is (README, "Errors"):
    1  bad input: the module, the program or the board says no (malformed Wasm,
       a missing import, too big for the board, a failing program's own status
       is passed through as it is)
    2  bad usage: an unknown option, target or runner, a file that does not
       exist, options that contradict each other
Nothing here knows how compilation works.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from aot import __version__
from aot.errors import AotError, TargetError

OPT_LEVELS = ("0", "1", "2", "3", "s", "z")
BOARD_RUNNERS = ("qemu", "pyocd")  # the host target always runs natively
EXIT_BAD_INPUT, EXIT_BAD_USAGE = 1, 2


def _fail(message: str, status: int = EXIT_BAD_INPUT) -> NoReturn:
    click.echo(f"waft: error: {message}", err=True)
    sys.exit(status)


def _load_target(name: str):
    from aot.targets import load_target

    try:
        return load_target(name)
    except AotError as exc:
        _fail(str(exc), EXIT_BAD_USAGE)


class _AotErrors:
    """Context manager: compiler and board errors become one clear line and exit status 1."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None:
            return False
        if isinstance(exc, AotError):
            where = f"{self.path}: " if self.path else ""
            _fail(f"{where}{exc.kind}: {exc}")
        if isinstance(exc, OSError) and not isinstance(exc, BlockingIOError):
            _fail(f"{exc.filename or self.path}: {exc.strerror}")
        return False


class _Waft(click.Group):
    """The command group, with click's usage errors shown as one line (exit 2) instead of three."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            status = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx else "waft"
            _fail(f"{exc.format_message()} (see `{command} --help`)", EXIT_BAD_USAGE)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            _fail("aborted", EXIT_BAD_INPUT)
        if not standalone_mode:
            return status
        sys.exit(status or 0)


_INPUT = click.Path(exists=True, dir_okay=False, path_type=Path)
# `waft unwrap` and the input type through which `run` and `check` take a component too (waftkit/cli_component.py).
from waftkit.cli_component import MODULE_OR_COMPONENT as _MODULE_OR_COMPONENT, unwrap as _unwrap  # noqa: E402
_TARGET_HELP = "Target board or core (see `waft targets`)."
_OPT_HELP = "LLVM optimisation level: 0-3, s (size) or z (min size). -Os works."


@click.group(cls=_Waft, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="waft")
def main() -> None:
    """Waft: WebAssembly to firmware, ahead of time.

    Compile Wasm modules to native ELF objects for microcontrollers and the
    host, run them, and prove the result with the official spec tests.
    Errors are one line; exit status 1 means bad input, 2 bad usage.
    """


@main.command()
@click.argument("input", type=_INPUT)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Object file to write (default: INPUT with .o); the header goes beside it as .h.")
@click.option("-t", "--target", "target_name", default="host", show_default=True, help=_TARGET_HELP)
@click.option("-n", "--name", "prefix", help="C prefix for the module's symbols (default: the input's stem).")
@click.option("-O", "--opt", type=click.Choice(OPT_LEVELS), default="2", show_default=True, help=_OPT_HELP)
@click.option("--max-pages", type=click.IntRange(0, 65536),
              help="Build-time cap on linear memory, in pages: memory.grow fails past it.")
@click.option("--emit-llvm", is_flag=True, help="Also write the optimised LLVM IR as OUT.ll.")
@click.option("--unsafe-no-bounds-checks", "no_bounds_checks", is_flag=True,
              help="UNSAFE, for measurement only (never the default): drop the linear-memory bounds "
                   "checks of loads and stores, so out-of-bounds accesses corrupt memory instead of trapping.")
@click.option("--region", "regions", multiple=True, metavar="NAME:SIZE[:ro|rw]",
              help="wasi-ext:shared-memory: grant the module a region (repeatable, in window order); the "
                   "firmware defines its bytes as `uint8_t waft_shm_region_NAME[SIZE]` (docs/shared-memory.md).")
@click.option("-j", "--jobs", type=click.IntRange(1), default=None,
              help="Processes compiling a big module's partitions (default: the number of CPUs); the object "
                   "is the same for every count. Partitions are cached by content (waft's build cache).")
def compile(input: Path, output: Path | None, target_name: str, prefix: str | None, opt: str,
            max_pages: int | None, emit_llvm: bool, no_bounds_checks: bool, regions: tuple[str, ...],
            jobs: int | None) -> None:
    """Compile INPUT.wasm to an ELF object and a C header.

    INPUT may be a component built from a p1 module: the module inside is
    compiled (`waft unwrap`, docs/components.md), named after INPUT.
    """
    from aot import abi
    from aot.compiler import compile_file, output_paths
    from waftkit.cli_component import core_module_path, export_bindings, write_export_bindings

    target = _load_target(target_name)
    output = output or input.with_suffix(".o")
    try:
        output_paths(output, emit_llvm)
    except ValueError as exc:
        _fail(str(exc), EXIT_BAD_USAGE)
    if prefix is None:
        prefix = abi.prefix_from_filename(input.stem)
    try:
        abi.check_prefix(prefix)
    except ValueError as exc:
        _fail(f"--name: {exc}", EXIT_BAD_USAGE)
    from aot import shm
    from aot.errors import LinkError

    try:
        region_grants = [shm.parse_grant(spec) for spec in regions]
        shm.layout(region_grants)
    except LinkError as exc:
        _fail(f"--region: {exc}", EXIT_BAD_USAGE)
    from aot.parallel import PartitionCache
    from waftkit.cache import partition_cache_dir

    with _AotErrors(input):
        core = core_module_path(input)
        exports_c = export_bindings(input, core, prefix)  # a component's exports as C (docs/components.md)
        compile_file(core, output, target, prefix=prefix, opt=opt, fits_board=True,
                     memory_cap_pages=max_pages, emit_llvm=emit_llvm,
                     bounds_checks=not no_bounds_checks, regions=region_grants,
                     jobs=jobs or os.cpu_count() or 1, cache=PartitionCache(partition_cache_dir(target.name)))
    with _AotErrors(output):
        written = write_export_bindings(exports_c, output.parent)
    click.echo(f"wrote {output} and {output.with_suffix('.h')} ({target.name}, module {prefix})")
    if written:
        click.echo("wrote " + ", ".join(str(p) for p in written) + ": the component's exports as C functions")


@main.command()
def targets() -> None:
    """List every target with its triple, CPU and features."""
    from aot.targets import all_targets

    rows = [(t.name, t.triple, t.cpu, t.features or "-", t.float_abi, t.qemu_machine or "-",
             t.description) for t in all_targets()]
    headers = ("target", "triple", "cpu", "features", "float", "qemu", "description")
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers) - 1)]
    for row in [headers] + rows:
        cells = [str(c).ljust(w) for c, w in zip(row, widths)] + [row[-1]]
        click.echo("  ".join(cells).rstrip())


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("input", type=_MODULE_OR_COMPONENT)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("-t", "--target", "target_name", default="host", show_default=True,
              help=_TARGET_HELP + " Boards run under QEMU or through pyOCD.")
@click.option("--dir", "dirs", multiple=True, metavar="HOST::GUEST",
              help="Preopen host directory HOST as GUEST (repeatable).")
@click.option("--env", "env", multiple=True, metavar="K=V", help="Set a guest environment variable.")
@click.option("--listen", multiple=True, metavar="ADDR:PORT",
              help="Preopen a listening TCP socket (host only); for a module importing wasi-ext:sockets, "
                   "grant it binding to [tcp:|udp:]ADDR:PORTS instead (port 0: an ephemeral one; on a QEMU "
                   "board the granted ports are forwarded from 127.0.0.1).")
@click.option("--allow-connect", "allow_connect", multiple=True, metavar="[tcp:|udp:]HOST:PORTS",
              help="wasi-ext:sockets: let the module connect / send to HOST:PORTS (repeatable). HOST is an "
                   "address, a network (10.0.0.0/8, [fd00::/8]), * or a name (admits what its resolve "
                   "returned); PORTS a port, LOW-HIGH or *. Anything else answers acces.")
@click.option("--resolve", "resolve", multiple=True, metavar="NAME=ADDRESS",
              help="wasi-ext:sockets name lookup: answer NAME with ADDRESS before asking the host's resolver.")
@click.option("-O", "--opt", type=click.Choice(OPT_LEVELS), default="2", show_default=True, help=_OPT_HELP)
@click.option("--max-pages", type=click.IntRange(0, 65536),
              help="Build-time cap on linear memory, in pages.")
@click.option("--runner", type=click.Choice(BOARD_RUNNERS), default=None,
              help="Boards: run under QEMU (default), or flash and run through pyOCD.")
@click.option("--probe", metavar="UID", help="pyOCD probe unique ID (default: the only one attached).")
@click.option("--max-threads", type=click.IntRange(1), default=8, show_default=True,
              help="wasi-threads: how many threads the module may run besides the main one "
                   "(instances in the static pool, at most 64; a spawn beyond it fails with EAGAIN).")
@click.option("--grant", "grants", multiple=True, metavar="NAME=SOURCE",
              help="wasi-ext:signals: let the module use a line under NAME (its `lookup`), repeatable. "
                   "SOURCE is a signal (usr1, SIGTERM...), timer:N, soft:N, irq:N (boards) or a line "
                   "number (0x0001000a); a signal alone grants it under its own name: --grant usr1. "
                   "Lines not granted answer notcapable.")
@click.option("--region", "regions", multiple=True, metavar="NAME:SIZE[:ro|rw]",
              help="wasi-ext:shared-memory: declare a region of SIZE bytes and grant it to the module, "
                   "read-write unless :ro (repeatable). Its loads and stores reach the region without "
                   "copies (docs/shared-memory.md); a region the module imports but is not granted stops "
                   "the build.")
@click.option("--icount", is_flag=True,
              help="QEMU boards: time follows executed instructions (one per ns of the board's clock), "
                   "not the host's clock, so timing is the same run after run, whatever the load.")
def run(input: Path, args: tuple[str, ...], target_name: str, dirs: tuple[str, ...],
        env: tuple[str, ...], listen: tuple[str, ...], opt: str, max_pages: int | None,
        runner: str, probe: str | None, max_threads: int, grants: tuple[str, ...], icount: bool,
        allow_connect: tuple[str, ...], resolve: tuple[str, ...], regions: tuple[str, ...]) -> None:
    """Compile INPUT.wasm (a WASI command), link it with the target's runtime and run it.

    Arguments after `--` go to the program. Its stdout, stderr and exit
    status pass through. Built programs are cached, so a second run is quick.

    \b
    Signals and interrupts (wasi-ext:signals, docs/interrupts.md):
      --grant usr1               SIGUSR1, looked up as "usr1"
      --grant stop=term          SIGTERM, looked up as "stop"
      --grant tick=timer:0       a timer line (host: POSIX timer, CLOCK_MONOTONIC)
      --grant bell=soft:0        a software line, raised only by `pend`
    On the host, signals sent to this process reach the program.

    \b
    Sockets (wasi-ext:sockets, docs/sockets.md):
      --allow-connect 127.0.0.1:8080    one TCP/UDP destination
      --allow-connect tcp:10.0.0.0/8:*  any port of a network, TCP only
      --allow-connect example.com:443   the addresses resolve gave for the name
      --listen 127.0.0.1:0              bind an ephemeral port on loopback

    \b
    Shared memory (wasi-ext:shared-memory, docs/shared-memory.md):
      --region ring:1024         a 1 KiB region "ring", read-write
      --region adc:64:ro         a 64-byte region "adc" the module may only read
    """
    from waftkit.run import RunOptions, run_module

    target = _load_target(target_name)
    for spec in dirs:
        if "::" not in spec:
            _fail(f"--dir wants HOST::GUEST, got '{spec}'", EXIT_BAD_USAGE)
        if not Path(spec.split("::", 1)[0]).is_dir():
            _fail(f"--dir: host directory '{spec.split('::', 1)[0]}' does not exist", EXIT_BAD_USAGE)
    for spec in env:
        if "=" not in spec:
            _fail(f"--env wants K=V, got '{spec}'", EXIT_BAD_USAGE)
    if target.is_host and (runner or probe):
        _fail(f"--runner/--probe are for boards: {target.name} programs run natively", EXIT_BAD_USAGE)
    if icount and (target.is_host or runner == "pyocd" or (probe and not runner)):
        _fail("--icount is for boards under QEMU: the host and pyOCD run in real time", EXIT_BAD_USAGE)
    from waftkit.firmware.embedding import MAX_THREADS_LIMIT

    if max_threads > MAX_THREADS_LIMIT:
        _fail(f"--max-threads {max_threads}: the thread pool holds at most {MAX_THREADS_LIMIT} threads "
              "besides the main one (WAFT_THREADS_POOL_LIMIT)", EXIT_BAD_USAGE)
    from waftkit.firmware.signal_grants import GrantError, check_grants, parse_grant

    try:
        granted = check_grants([parse_grant(spec) for spec in grants], target)
    except GrantError as exc:
        _fail(str(exc), EXIT_BAD_USAGE)
    from waftkit.firmware import socket_grants

    try:
        for spec in allow_connect:
            socket_grants.check_grant(spec, "--allow-connect")
        for spec in resolve:
            socket_grants.check_host_entry(spec)
    except socket_grants.SocketGrantError as exc:
        _fail(str(exc), EXIT_BAD_USAGE)
    from aot import shm
    from aot.errors import LinkError

    try:
        region_grants = [shm.parse_grant(spec) for spec in regions]
        shm.layout(region_grants)
    except LinkError as exc:
        _fail(f"--region: {exc}", EXIT_BAD_USAGE)
    options = RunOptions(args=list(args), env=list(env), dirs=list(dirs), listen=list(listen),
                         opt=opt, memory_cap_pages=max_pages, runner=runner, probe=probe, icount=icount,
                         max_threads=max_threads, grants=granted, allow_connect=list(allow_connect),
                         resolve=list(resolve), regions=region_grants)
    _usable_runner(target, runner, probe)
    with _AotErrors(input):
        status = run_module(input, target, options)
    sys.exit(status)


def _usable_runner(target, runner: str | None, probe: str | None) -> None:
    """Refuse, as bad usage, a board runner that cannot serve the target here (no emulator, no probe)."""
    from waftkit.runners.base import get_runner

    if not target.is_host:
        try:
            get_runner(target, runner, probe=probe)
        except TargetError as exc:
            _fail(f"{target.name}: {exc}", EXIT_BAD_USAGE)


@main.command()
@click.argument("input", type=_MODULE_OR_COMPONENT)
@click.option("-t", "--target", "target_name", default="host", show_default=True,
              help=_TARGET_HELP + " Its runtime decides which imports are provided.")
@click.option("-w", "--world", "world_spec", metavar="WORLD",
              help="Check against this WIT world and p1: a profile (firmware-rt), ns:pkg/world, a WIT "
                   "package PATH, or PATH:WORLD (default: p1 and the extensions the target provides).")
def check(input: Path, target_name: str, world_spec: str | None) -> None:
    """List INPUT's imports: which WASI function each is, and whether the target's runtime provides it.

    One line per import: its name, its status, the core type the module
    imports it at, and what it is (p1, the WIT function, or not WASI), with
    the expected core type on a mismatch and the C prototype the firmware
    must supply for anything that is not WASI.
    """
    from aot.wasm.decode import decode_module
    from aot.wasm.validate import validate_module
    from waftkit.imports_check import check_imports, describe_scope
    from waftkit.wasi_ext import target_provides

    target = _load_target(target_name)
    world = _load_world(world_spec) if world_spec is not None else None
    with _AotErrors():
        target_provides(target)  # a bad [wasi_ext] table is the target's fault, not the module's
    with _AotErrors(input):
        module = decode_module(input.read_bytes())
        validate_module(module)
        statuses = check_imports(module, target, world)
    rows = [(f"{s.imp.module}.{s.imp.name}", s.status, str(s.functype) if s.functype else s.imp.kind,
             "; ".join(x for x in (s.what, s.detail) if x)) for s in statuses]
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(3)]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + f"  {row[3]}".rstrip())
    scope = describe_scope(target, world)
    bad = [s for s in statuses if not s.ok]
    if not statuses:
        click.echo(f"{input.name} imports nothing")
    if bad:
        _fail(f"{input.name}: {len(bad)} of {len(statuses)} imports are not provided by the "
              f"{target.name} runtime ({scope}): "
              + ", ".join(f"{s.imp.module}.{s.imp.name} ({s.status})" for s in bad))
    click.echo(f"{input.name}: all {len(statuses)} imports are provided by the {target.name} runtime ({scope})")


def _load_world(spec: str):
    """The world `--world` names; an unknown one is bad usage, WIT that does not resolve bad input."""
    from waftkit.wasi_ext import WorldNotFound, load_world

    try:
        with _AotErrors():
            return load_world(spec)
    except WorldNotFound as exc:
        _fail(str(exc), EXIT_BAD_USAGE)


@main.command()
@click.option("-t", "--target", "target_name", default="host", show_default=True, help=_TARGET_HELP)
@click.option("-w", "--workload", "workloads", multiple=True, metavar="NAME",
              help="Run only this workload (repeatable; default: all of bench/workloads/, or of --workloads DIR).")
@click.option("--workloads", "workload_dir", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="Bench your own C files: every DIR/*.c keeping bench/workloads/bench.h's contract "
                   "(a '/* waft-bench: iterations=N libc */' line sets its iterations and C library).")
@click.option("-j", "--jobs", type=click.IntRange(1), default=2, show_default=True,
              help="Parallel builds and QEMU runs on emulated targets.")
@click.option("--runner", type=click.Choice(BOARD_RUNNERS), default="qemu", show_default=True,
              help="Board programs: QEMU with instruction counting, or pyOCD: a real board on a probe, "
                   "timed with its DWT cycle counter.")
@click.option("--probe", metavar="UID", help="pyOCD probe unique ID (default: the only one attached; "
              "qemu:<machine> for the emulated board).")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the JSON, the report and the plots (default: bench/results).")
@click.option("--no-engines", is_flag=True, help="Host: skip the wasmtime and wasm3 engines.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
@click.option("--report-only", is_flag=True,
              help="Re-render the Markdown report and plots from the existing <target>.json "
                   "(with --metrics: metrics_<target>.json).")
@click.option("--metrics", is_flag=True,
              help="Run the runtime metric groups instead of the workloads: native C next to Waft per figure "
                   "(bench/results/metrics_<target>.json and .md).")
@click.option("--group", "groups", multiple=True, metavar="NAME",
              help="With --metrics: run only this group (repeatable; default: all; groups: threads, interrupts, "
                   "calls, wasi, startup, footprint, compile).")
@click.option("--repetitions", type=click.IntRange(1), default=10000, show_default=True,
              help="With --metrics: operations averaged per figure.")
@click.option("--periods", type=click.IntRange(1), default=1000, show_default=True,
              help="With --metrics: releases of the 1 kHz loop.")
def bench(target_name: str, workloads: tuple[str, ...], workload_dir: Path | None, jobs: int, runner: str,
          probe: str | None,
          results: Path | None, no_engines: bool, no_plots: bool, report_only: bool, metrics: bool,
          groups: tuple[str, ...], repetitions: int, periods: int) -> None:
    """Run the embedded benchmark suite: native C, Waft and wasm2c side by side.

    Writes bench/results/<target>.json, a Markdown report and plots. With
    --metrics, runs the runtime metric groups (threads, interrupts, calls,
    wasi, startup, footprint, compile) and writes
    bench/results/metrics_<target>.json, .md and one PNG per group. Needs a
    checkout (the workloads live in bench/, beside the package).
    """
    repo = Path(__file__).resolve().parent.parent
    if not (repo / "bench" / "run.py").is_file():
        _fail("the benchmark suite (bench/) is not in this installation: run it from a checkout", EXIT_BAD_USAGE)
    target = _load_target(target_name)
    if runner == "pyocd" and target.is_host:
        _fail("--runner pyocd runs board programs; the host target runs natively", EXIT_BAD_USAGE)
    if not metrics and groups:
        _fail("--group picks a metric group: give --metrics too", EXIT_BAD_USAGE)
    sys.path.insert(0, str(repo))
    if metrics:
        _bench_metrics(repo, target, groups, workloads, report_only, runner, probe, results, repetitions, periods)
    from bench import run as suite

    results = results or suite.RESULTS_DIR
    if report_only:
        sys.exit(suite.render_report(target.name, results))
    external = None
    if workload_dir is not None:
        from bench.external import WorkloadDirError, load_workload_dir

        try:
            external = load_workload_dir(workload_dir, set(suite.WORKLOADS) | {suite.CALLS_WORKLOAD})
        except WorkloadDirError as exc:
            _fail(str(exc), EXIT_BAD_INPUT)
    sys.exit(suite.run_benchmarks(target.name, list(workloads) or None, jobs=jobs, results_dir=results,
                                  engines=not no_engines, plots=not no_plots,
                                  runner=suite.Runner(runner, probe), external=external))


def _bench_metrics(repo: Path, target, groups: tuple[str, ...], workloads: tuple[str, ...], report_only: bool,
                   runner: str, probe: str | None, results: Path | None, repetitions: int, periods: int) -> NoReturn:
    """`waft bench --metrics`: the metric groups of bench/metrics on one target (exits)."""
    if workloads:
        _fail("--metrics runs metric groups: --workload is for the workload suite", EXIT_BAD_USAGE)
    from bench import metrics

    if report_only:
        if groups:
            _fail("--report-only re-renders the whole report: leave out --group", EXIT_BAD_USAGE)
        try:
            sys.exit(metrics.render_report(target.name, results or repo / "bench" / "results", log=click.echo))
        except metrics.MetricError as exc:
            _fail(str(exc), EXIT_BAD_INPUT)

    unknown = metrics.unknown_groups(groups)
    if unknown:
        _fail(f"unknown metric group '{unknown[0]}' (groups: {', '.join(metrics.GROUPS)})", EXIT_BAD_USAGE)
    if not target.is_host:
        _usable_runner(target, runner, probe)
    context = metrics.RunContext(work=repo / "build" / "bench" / "metrics" / target.name, runner=runner,
                                 probe=probe, repetitions=repetitions, periods=periods)
    with _AotErrors():
        status = metrics.run_metrics(target, list(groups) or None, context,
                                     results or repo / "bench" / "results", log=click.echo)
    sys.exit(status)


@main.command()
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("-t", "--target", "target_name", default="host", show_default=True,
              help=_TARGET_HELP + " Board programs run under QEMU (or --runner pyocd).")
@click.option("-j", "--jobs", type=click.IntRange(1), default=None,
              help="Parallel jobs (default: the number of CPUs).")
@click.option("-O", "--opt", type=click.Choice(OPT_LEVELS), default="2", show_default=True, help=_OPT_HELP)
@click.option("-v", "--verbose", is_flag=True, help="Print every command, not only failures.")
@click.option("--runner", type=click.Choice(BOARD_RUNNERS), default=None,
              help="How board images run: QEMU (default), or pyOCD (a real probe, or the emulated board).")
@click.option("--probe", metavar="UID", help="pyOCD probe unique ID (default: the only one attached; "
              "qemu:<machine> for the emulated board).")
def spectest(paths: tuple[Path, ...], target_name: str, jobs: int | None, opt: str,
             verbose: bool, runner: str, probe: str | None) -> None:
    """Run WebAssembly spec scripts (.wast files or folders of them)."""
    from waftkit.testing.spectest import run_spectest

    target = _load_target(target_name)
    _usable_runner(target, runner, probe)
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.wast")) if path.is_dir() else [path])
    if not files:
        _fail("no .wast files found in " + ", ".join(map(str, paths)), EXIT_BAD_USAGE)
    status = run_spectest(files, target_name, jobs=jobs or os.cpu_count() or 1, opt=opt,
                          verbose=verbose, runner=runner, probe=probe)
    sys.exit(status)


# `waft wit ...` and `waft bindgen` live in their own file (waftkit/cli_wit.py); registered here so
# `waft --help` lists them.
from waftkit.cli_wit import bindgen as _bindgen  # noqa: E402
from waftkit.cli_wit import wit as _wit  # noqa: E402  (after main exists: cli_wit imports nothing from here at load)

main.add_command(_wit)
main.add_command(_bindgen)
main.add_command(_unwrap)
# `waft bsp` (waftkit/cli_bsp.py): a drop-in for a vendor's own build.
from waftkit.cli_bsp import bsp as _bsp  # noqa: E402

main.add_command(_bsp)


if __name__ == "__main__":  # pragma: no cover
    main()
