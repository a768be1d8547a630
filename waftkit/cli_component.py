"""`waft unwrap`: a component in, the p1 core module inside it out (thin wrapper over `aot.component`).

    waft unwrap COMPONENT [-o OUT.wasm] [--show] [--no-adapter-recovery]

Path (a) of issue 16: a p1 module wrapped by `wasm-tools component new
--adapt wasi_snapshot_preview1=...` comes back as it was.  Path (b), for any
other component importing WASI 0.2 only (and for adapter-built ones with
`--no-adapter-recovery`): the core modules fused into one, the WASI 0.2
imports generated over preview1 (docs/components.md).  A core module given
to `waft unwrap` is refused (exit
1): asking to unwrap something that is not wrapped is a mistake worth
saying, while `waft run` and `waft check`, which take either, pass a core
module through untouched.  `waft check COMPONENT` first lists the interfaces
the component imports, with their versions, against the supported range.

Also here: `MODULE_OR_COMPONENT`, the click type through which `waft run` and
`waft check` accept a component, and `core_module_path`, which `waft compile`
calls (its outputs and symbol prefix stay named after the input): both unwrap
a component into the run cache (keyed by the component's hash, named like the
input so messages and symbols do not change) and give the core module's path.

Errors follow `waft`'s rules: one line, exit 1 for bad input, 2 for bad usage.
The output is written to a temporary file and renamed, so a failure leaves no
half-written module behind.
"""

from __future__ import annotations

from pathlib import Path

import click

from aot.outputs import write_file


@click.command()
@click.argument("input", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Core module to write (default: INPUT's name with .p1.wasm, beside it).")
@click.option("--show", is_flag=True, help="Also print the component's instantiation graph, one line per item.")
@click.option("--no-adapter-recovery", "no_recovery", is_flag=True,
              help="Do not recover the p1 module of an adapter-built component (path a): fuse every core module "
                   "and implement its WASI 0.2 imports over p1 (path b), as for any other component.")
def unwrap(input: Path, output: Path | None, show: bool, no_recovery: bool) -> None:
    """Turn a component into one core module importing only wasi_snapshot_preview1.

    An adapter-built component (wasm-tools component new --adapt) gives back
    its p1 module unchanged (path a); any other component importing WASI 0.2
    interfaces only is fused into one module, its WASI 0.2 imports implemented
    over preview1 (path b).
    """
    from aot.component import is_component, is_core_module, unwrap_component
    from waftkit import cli

    data = input.read_bytes()
    if is_core_module(data):
        cli._fail(f"{input}: already a core module, nothing to unwrap (waft run/compile/check take it as it is)")
    output = output or input.with_name(input.name.removesuffix(".wasm") + ".p1.wasm")
    if output.resolve() == input.resolve():
        cli._fail("-o: the output would overwrite the input", cli.EXIT_BAD_USAGE)
    with cli._AotErrors(input):
        if not is_component(data):
            from aot.component.errors import ComponentDecodeError

            raise ComponentDecodeError("neither a component nor a core module (no \\0asm preamble)", offset=0)
        result = unwrap_component(data, adapter_recovery=not no_recovery)
    if show:
        for line in result.graph.describe():
            click.echo(line)
    with cli._AotErrors(output):
        write_file(output, result.module)
    if result.path == "b":
        fused = result.fused
        click.echo(f"wrote {output}: {fused.instances} core module instances of {input.name} fused into one p1 "
                   f"module; {len(fused.interfaces)} WASI 0.2 interfaces implemented over preview1 by "
                   f"{fused.generated} generated functions")
        if fused.reserved_pages:
            click.echo(f"note: the memory's minimum is raised by {fused.reserved_pages} pages, what the fused code "
                       "takes at start (declared, so a board without room refuses it at build time)")
        if result.not_recovered:
            click.echo(f"note: not adapter-built ({result.not_recovered})")
        for note in fused.notes:
            click.echo(f"note: {note}")
        return
    recovered = result.recovered
    how = "byte for byte" if recovered.byte_identical else (
        "import names restored: " + ", ".join(f"'{old}' -> '{new}'" for old, new in recovered.renamed_imports))
    click.echo(f"wrote {output}: the p1 module of {input.name} ({recovered.main}), {how}; "
               f"dropped {len(recovered.dropped)} adapter and helper modules")
    for note in recovered.notes:
        click.echo(f"note: {note}")
    if recovered.lifted_exports:
        click.echo("note: the component lifts these exports of the module, kept as core exports: "
                   + ", ".join(recovered.lifted_exports))


class ModuleOrComponent(click.Path):
    """An existing .wasm file; a component is unwrapped (path (a)) and the core module's cached path returned."""

    def __init__(self) -> None:
        super().__init__(exists=True, dir_okay=False, path_type=Path)

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        checking = ctx is not None and ctx.info_name == "check"
        with open(path, "rb") as f:
            head = f.read(8)
        from aot.component import is_component

        if not is_component(head):
            return path
        if checking:  # the interfaces first: when unwrapping then fails, its one line says why
            for line in component_imports_report(path):
                click.echo(line)
        core = unwrapped_path(path)
        if checking:
            click.echo(f"{path.name}: unwrapped by {unwrap_path_summary(path)}; its core module's imports:")
        return core


def component_imports_report(path: Path) -> list[str]:
    """One line per interface the component imports, with its version's status against the supported range."""
    from aot.component import decode_component
    from aot.component.wasi_p1 import SUPPORTED_RANGE, is_supported_version, parse_wasi_name
    from waftkit import cli

    with cli._AotErrors(path):
        imports = decode_component(path.read_bytes()).imports
    lines = []
    for imp in imports:
        parsed = parse_wasi_name(imp.name)
        if parsed is None:
            status = "not WASI: cannot be unwrapped (nothing on a p1 runtime implements it)"
        elif is_supported_version(parsed[2]):
            status = "supported"
        else:
            status = f"version outside {SUPPORTED_RANGE}: cannot be unwrapped"
        lines.append(f"component import {imp.name}  {status}")
    lines.append(f"{path.name}: a component importing {len(imports)} interfaces (supported: {SUPPORTED_RANGE})")
    return lines + component_exports_report(path)


def component_exports_report(path: Path) -> list[str]:
    """One line per export: run becomes _start, an interface becomes C functions (or why it cannot)."""
    from aot.component import decode_component, instantiate
    from aot.component.errors import UnwrapError
    from aot.component.exports_wit import RUN_INTERFACE, exported_world
    from aot.errors import AotError

    try:
        graph = instantiate(decode_component(path.read_bytes()))
    except AotError:
        return []  # unwrapping says why, in its one line
    try:
        exported_world(graph)
        callable_, why = True, ""
    except UnwrapError as exc:
        callable_, why = False, str(exc)
    lines = []
    for name, (sort, _) in graph.exports.items():
        if name.startswith(RUN_INTERFACE):
            lines.append(f"component export {name}  the module's _start")
        elif sort != "type":
            lines.append(f"component export {name}  " + (
                "C functions: `waft compile` writes them (docs/components.md)" if callable_
                else f"not callable from C: {why}"))
    return lines


def unwrap_path_summary(path: Path) -> str:
    """Which path unwraps the component (it unwrapped already: this repeats the cheap part)."""
    from aot.component import unwrap_component

    result = unwrap_component(path.read_bytes())
    if result.path == "a":
        return "path (a): its p1 core module, recovered unchanged"
    return f"path (b): {result.fused.instances} core module instances fused, WASI 0.2 over preview1"


# A core module's preamble (magic, version 1): recognised without importing the component package, which
# `waft compile` of a core module has no use for (imports are most of a one-function rebuild's start-up).
CORE_MODULE_PREAMBLE = b"\0asm\x01\x00\x00\x00"


def core_module_path(path: Path) -> Path:
    """`path` itself when it holds a core module; the cached unwrapped module when it is a component."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head == CORE_MODULE_PREAMBLE:
        return path
    from aot.component import is_component

    return unwrapped_path(path) if is_component(head) else path


def unwrapped_path(path: Path) -> Path:
    """The unwrapped core module of component `path`, cached by content, with the same file name."""
    from waftkit import cli

    with cli._AotErrors(path):
        return cached_unwrap(path)


def cached_unwrap(path: Path) -> Path:
    """`unwrapped_path` without the CLI's error handling (AotError on bad input)."""
    from aot.component.unwrap import unwrap_cached
    from waftkit.cache import cache_dir, inputs_digest

    return unwrap_cached(path.read_bytes(), path.name, cache_dir(), inputs_digest())


MODULE_OR_COMPONENT = ModuleOrComponent()


def export_bindings(path: Path, core: Path, prefix: str) -> dict[str, str]:
    """The C that calls component `path`'s exports through module `prefix` (compiled from `core`, its unwrapped
    module): file name -> text, {} for a core module or a component exporting nothing but wasi:cli/run.
    Computed before anything is compiled, so a refusal leaves no output at all."""
    if core == path:  # `core_module_path` found a core module: nothing to bind
        return {}
    from aot.component.exports_wit import component_export_files

    return component_export_files(path.read_bytes(), core.read_bytes(), prefix)


def write_export_bindings(files: dict[str, str], folder: Path) -> list[Path]:
    """Write what `export_bindings` gave into `folder`: every file or none."""
    if not files:
        return []
    from aot.component.exports_wit import write_export_files

    return write_export_files(files, folder)
