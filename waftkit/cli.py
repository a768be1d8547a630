"""The `waft` command line: thin click wrappers around the compiler's Python API.

Every command turns the compiler's errors into one line on stderr and a
non-zero exit status; nothing here knows how compilation works.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from aot import __version__
from aot.errors import AotError

OPT_LEVELS = ("0", "1", "2", "3", "s", "z")


def _fail(message: str, status: int = 1) -> "NoReturn":  # noqa: F821 - typing only
    click.echo(f"waft: error: {message}", err=True)
    sys.exit(status)


def _load_target(name: str):
    from aot.targets import load_target

    try:
        return load_target(name)
    except AotError as exc:
        _fail(str(exc), 2)


class _AotErrors:
    """Context manager: compiler errors become one clear line and exit status 1."""

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="waft")
def main() -> None:
    """Waft: WebAssembly to firmware, ahead of time.

    Compile Wasm modules to native ELF objects for microcontrollers and the
    host, and prove the result with the official spec tests.
    """


@main.command()
@click.argument("input", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Object file to write (default: INPUT with .o); the header goes beside it as .h.")
@click.option("-t", "--target", "target_name", default="host", show_default=True,
              help="Target board or core (see `waft targets`).")
@click.option("-n", "--name", "prefix", help="C prefix for the module's symbols (default: the input's stem).")
@click.option("-O", "--opt", type=click.Choice(OPT_LEVELS), default="2", show_default=True,
              help="LLVM optimisation level: 0-3, s (size) or z (min size). -Os works.")
@click.option("--max-pages", type=click.IntRange(0, 65536),
              help="Build-time cap on linear memory, in pages: memory.grow fails past it.")
@click.option("--emit-llvm", is_flag=True, help="Also write the optimised LLVM IR as OUT.ll.")
@click.option("--unsafe-no-bounds-checks", "no_bounds_checks", is_flag=True,
              help="UNSAFE, for measurement only (never the default): drop the linear-memory bounds "
                   "checks of loads and stores, so out-of-bounds accesses corrupt memory instead of trapping.")
def compile(input: Path, output: Path | None, target_name: str, prefix: str | None, opt: str,
            max_pages: int | None, emit_llvm: bool, no_bounds_checks: bool) -> None:
    """Compile INPUT.wasm to an ELF object and a C header."""
    from aot import abi
    from aot.compiler import compile_file

    target = _load_target(target_name)
    output = output or input.with_suffix(".o")
    if prefix is None:
        prefix = abi.prefix_from_filename(input.stem)
    try:
        abi.check_prefix(prefix)
    except ValueError as exc:
        _fail(f"--name: {exc}", 2)
    with _AotErrors(input):
        compile_file(input, output, target, prefix=prefix, opt=opt, fits_board=True,
                     memory_cap_pages=max_pages, emit_llvm=emit_llvm,
                     bounds_checks=not no_bounds_checks)
    click.echo(f"wrote {output} and {output.with_suffix('.h')} ({target.name}, module {prefix})")


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
@click.argument("input", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("-t", "--target", "target_name", default="host", show_default=True)
@click.option("--dir", "dirs", multiple=True, metavar="HOST::GUEST",
              help="Preopen host directory HOST as GUEST (repeatable).")
@click.option("--env", "env", multiple=True, metavar="K=V", help="Set a guest environment variable.")
@click.option("--listen", multiple=True, metavar="ADDR:PORT",
              help="Preopen a listening TCP socket (host only).")
@click.option("-O", "--opt", type=click.Choice(OPT_LEVELS), default="2", show_default=True)
@click.option("--max-pages", type=click.IntRange(0, 65536),
              help="Build-time cap on linear memory, in pages.")
@click.option("--runner", type=click.Choice(["qemu", "pyocd"]), default="qemu", show_default=True,
              help="Boards: run under QEMU, or flash and run through pyOCD.")
@click.option("--probe", metavar="UID", help="pyOCD probe unique ID (default: the only one attached).")
def run(input: Path, args: tuple[str, ...], target_name: str, dirs: tuple[str, ...],
        env: tuple[str, ...], listen: tuple[str, ...], opt: str, max_pages: int | None,
        runner: str, probe: str | None) -> None:
    """Compile INPUT.wasm (a WASI command), link it with the target's runtime and run it.

    Arguments after `--` go to the program. Its stdout, stderr and exit
    status pass through. Built programs are cached, so a second run is quick.
    """
    from aot.run import RunOptions, run_module

    target = _load_target(target_name)
    for spec in dirs:
        if "::" not in spec:
            _fail(f"--dir wants HOST::GUEST, got '{spec}'", 2)
        if not Path(spec.split("::", 1)[0]).is_dir():
            _fail(f"--dir: host directory '{spec.split('::', 1)[0]}' does not exist", 2)
    for spec in env:
        if "=" not in spec:
            _fail(f"--env wants K=V, got '{spec}'", 2)
    options = RunOptions(args=list(args), env=list(env), dirs=list(dirs), listen=list(listen),
                         opt=opt, memory_cap_pages=max_pages, runner=runner, probe=probe)
    with _AotErrors(input):
        status = run_module(input, target, options)
    sys.exit(status)


@main.command()
@click.argument("input", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-t", "--target", "target_name", default="host", show_default=True)
def check(input: Path, target_name: str) -> None:
    """List INPUT's imports and whether the target's runtime provides each one."""
    from aot.decode import decode_module
    from aot.imports_check import check_imports
    from aot.validate import validate_module

    target = _load_target(target_name)
    with _AotErrors(input):
        module = decode_module(input.read_bytes())
        validate_module(module)
        statuses = check_imports(module, target)
    width = max((len(f"{s.imp.module}.{s.imp.name}") for s in statuses), default=0)
    for s in statuses:
        name = f"{s.imp.module}.{s.imp.name}"
        typ = str(s.functype) if s.functype else s.imp.kind
        line = f"{name:<{width}}  {s.status:<13}  {typ}"
        click.echo(line + (f"\n{'':<{width}}  {s.detail}" if s.detail and not s.ok else ""))
    bad = [s for s in statuses if not s.ok]
    if not statuses:
        click.echo(f"{input.name} imports nothing")
    if bad:
        _fail(f"{input.name}: {len(bad)} of {len(statuses)} imports are not provided by the "
              f"{target.name} runtime: " + ", ".join(f"{s.imp.module}.{s.imp.name}" for s in bad))
    click.echo(f"{input.name}: all {len(statuses)} imports are provided by the {target.name} runtime")


@main.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("bench_args", nargs=-1, type=click.UNPROCESSED)
def bench(bench_args: tuple[str, ...]) -> None:
    """Run the embedded benchmark suite (bench/run.py; `waft bench --help` for its options).

    Writes bench/results/<target>.json, a Markdown report and plots.
    """
    repo = Path(__file__).resolve().parent.parent
    if not (repo / "bench" / "run.py").is_file():
        _fail("the benchmark suite (bench/) is not in this installation: run it from a checkout", 2)
    sys.path.insert(0, str(repo))
    from bench.run import main as bench_main

    sys.exit(bench_main(list(bench_args)))


@main.command()
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("-t", "--target", "target_name", default="host", show_default=True,
              help="Run on this target (Cortex-M targets run under QEMU).")
@click.option("-j", "--jobs", type=click.IntRange(1), default=None,
              help="Parallel jobs (default: the number of CPUs).")
@click.option("-O", "--opt", type=click.Choice(OPT_LEVELS), default="2", show_default=True)
@click.option("-v", "--verbose", is_flag=True, help="Print every command, not only failures.")
@click.option("--runner", type=click.Choice(["qemu", "pyocd"]), default="qemu", show_default=True,
              help="How board images run: QEMU, or pyOCD (a real probe, or the emulated board).")
@click.option("--probe", metavar="UID", help="pyOCD probe unique ID (default: the only one attached; "
              "qemu:<machine> for the emulated board).")
def spectest(paths: tuple[Path, ...], target_name: str, jobs: int | None, opt: str,
             verbose: bool, runner: str, probe: str | None) -> None:
    """Run WebAssembly spec scripts (.wast files or folders of them)."""
    from aot.spectest import run_spectest

    _load_target(target_name)
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.wast")) if path.is_dir() else [path])
    if not files:
        _fail("no .wast files found in " + ", ".join(map(str, paths)), 2)
    status = run_spectest(files, target_name, jobs=jobs or os.cpu_count() or 1, opt=opt,
                          verbose=verbose, runner=runner, probe=probe)
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    main()
