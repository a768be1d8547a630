"""`waft wit`: look at WIT packages and worlds from the command line (thin wrappers over `aot.wit`).

    waft wit show WIT_PATH                  packages, interfaces and worlds that resolved
    waft wit show WIT_PATH --world W        each core import and export of world W: its core name,
                                            its core signature and the WIT function behind it
    waft wit dummy WIT_PATH --world W -o M  the core module W describes (wasm-tools'
                                            `component embed --dummy-names legacy`)
    waft bindgen WIT_PATH --world W --guest DIR --host DIR
                                            C bindings for both sides of W (docs/bindgen.md)

WIT_PATH is a package folder (with its deps/) or a single .wit file; `--deps`
adds dependency locations.  Errors follow `waft`'s rules: one line, exit status
1 for bad WIT, 2 for bad usage (an unknown world among them).  The `waft`
group registers `wit` and `bindgen` (waftkit/cli.py); helpers from there are imported
when a command runs, so either module can be imported first.
"""

from __future__ import annotations

from pathlib import Path

import click

_WIT_PATH = click.Path(exists=True, path_type=Path)


def _load(path: Path, deps: tuple[Path, ...], features: tuple[str, ...], all_features: bool):
    from aot.wit import load_wit
    from waftkit import cli

    with cli._AotErrors():
        return load_wit(path, extra_deps=deps, features=[f for spec in features for f in spec.split(",")],
                        all_features=all_features)


def _world(resolve, main, spec: str | None):
    from aot.errors import WitError
    from waftkit import cli

    try:
        return resolve.select_world(main, spec)
    except WitError as exc:
        cli._fail(f"--world {spec}: {exc}" if spec else str(exc), cli.EXIT_BAD_USAGE)


def _common(f):
    f = click.option("--all-features", is_flag=True, help="Enable every @unstable feature.")(f)
    f = click.option("--features", multiple=True, metavar="NAME[,NAME]",
                     help="Enable @unstable(feature = NAME) items (repeatable).")(f)
    f = click.option("-d", "--deps", multiple=True, type=_WIT_PATH, metavar="PATH",
                     help="More dependencies besides WIT_PATH/deps: a package folder or file, or a "
                          "folder of package folders (repeatable).")(f)
    return f


@click.group()
def wit() -> None:
    """Inspect WIT packages and the core Wasm face of their worlds."""


@wit.command()
@click.argument("wit_path", type=_WIT_PATH)
@click.option("-w", "--world", "world_spec", metavar="WORLD",
              help="Show this world (`name`, or `ns:pkg/name[@version]`) with its core signatures.")
@_common
def show(wit_path: Path, world_spec: str | None, deps: tuple[Path, ...], features: tuple[str, ...],
         all_features: bool) -> None:
    """Show the resolved packages at WIT_PATH, or one world's core imports and exports."""
    resolve, main = _load(wit_path, deps, features, all_features)
    if world_spec is None:
        for pkg in resolve.packages:
            marker = "  (main)" if pkg is main else ""
            click.echo(f"package {pkg.name}{marker}")
            for iface in pkg.interfaces.values():
                click.echo(f"  interface {iface.name}: {len(iface.types)} types, {len(iface.functions)} functions")
            for world in pkg.worlds.values():
                click.echo(f"  world {world.name}: {len(world.imports)} imports, {len(world.exports)} exports")
        return
    _show_world(_world(resolve, main, world_spec))


def _show_world(world) -> None:
    from aot.wit import core_exports, core_imports
    from aot.wit.types import describe_function

    imports, exports = core_imports(world), core_exports(world)
    click.echo(f"world {world.id}: {len(imports)} core imports, {len(exports)} core exports")
    rows = []
    module = None
    for imp in imports:
        if imp.module != module:
            module = imp.module
            rows.append((f"import {module}", "", ""))
        wit_sig = describe_function(imp.func) if imp.func else imp.kind
        rows.append((f"  {imp.name}", str(imp.type), wit_sig))
    rows.append(("export", "", ""))
    for exp in exports:
        wit_sig = describe_function(exp.func) if exp.kind == "func" else exp.kind
        rows.append((f"  {exp.name}", str(exp.type) if exp.type else "memory", wit_sig))
    width = max(len(r[0]) for r in rows if r[1])
    sig_width = max(len(r[1]) for r in rows)
    for name, sig, wit_sig in rows:
        click.echo(f"{name:<{width}}  {sig:<{sig_width}}  {wit_sig}".rstrip() if sig else name)


@wit.command()
@click.argument("wit_path", type=_WIT_PATH)
@click.option("-w", "--world", "world_spec", metavar="WORLD",
              help="The world (`name`, or `ns:pkg/name[@version]`); needed when the package has several.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The core module to write.")
@_common
def dummy(wit_path: Path, world_spec: str | None, output: Path, deps: tuple[Path, ...],
          features: tuple[str, ...], all_features: bool) -> None:
    """Write a core module that imports every function of a world and exports its exports.

    Names and core signatures follow the canonical ABI with wasm-tools' legacy
    names (`ns:pkg/iface@version` modules, `[method]res.name` fields,
    `iface#name` exports, `cabi_post_*`, `cabi_realloc`, `memory`); exported
    functions trap. The same module as `wasm-tools component embed
    --dummy-names legacy`, without its component-type section.
    """
    from aot.wit.dummy import dummy_module_bytes
    from waftkit import cli

    resolve, main = _load(wit_path, deps, features, all_features)
    world = _world(resolve, main, world_spec)
    with cli._AotErrors(output):
        output.write_bytes(dummy_module_bytes(world))
    click.echo(f"wrote {output} (world {world.id})")


@click.command()
@click.argument("wit_path", type=_WIT_PATH)
@click.option("-w", "--world", "world_spec", metavar="WORLD",
              help="The world (`name`, or `ns:pkg/name[@version]`); needed when the package has several.")
@click.option("--guest", "guest_dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Write the guest bindings here: NAME.h, NAME.c (C for clang --target=wasm32-wasi).")
@click.option("--host", "host_dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Write the host bindings here: NAME_host.h/.c (the imports) and NAME_host_module.h/.c "
                   "(the exports, over the module's header).")
@click.option("--name", metavar="NAME",
              help="C prefix of the files and of the world's own names (default: the world's name).")
@click.option("--module-prefix", metavar="P",
              help="The guest module's C prefix, as given to `waft compile --name` (default: NAME).")
@_common
def bindgen(wit_path: Path, world_spec: str | None, guest_dir: Path | None, host_dir: Path | None,
            name: str | None, module_prefix: str | None, deps: tuple[Path, ...], features: tuple[str, ...],
            all_features: bool) -> None:
    """Generate C bindings for both sides of a WIT world.

    The guest side is C for programs compiled with clang --target=wasm32-wasi:
    imports declared with import_module/import_name, exports with export_name,
    cabi_realloc and post-return functions. The host side is the C that a
    Waft-compiled module's imports link to, checking every guest pointer
    against the module's memory, and wrappers that call its exports. Every
    file is written, or none.
    """
    from aot.wit.bindgen import binding_names, generate_bindings, write_bindings
    from waftkit import cli

    if guest_dir is None and host_dir is None:
        cli._fail("nothing to write: give --guest DIR, --host DIR or both", cli.EXIT_BAD_USAGE)
    resolve, main = _load(wit_path, deps, features, all_features)
    world = _world(resolve, main, world_spec)
    try:
        name, module_prefix = binding_names(world, name, module_prefix)
    except ValueError as exc:
        cli._fail(f"--name/--module-prefix: {exc}", cli.EXIT_BAD_USAGE)
    with cli._AotErrors():
        bindings = generate_bindings(resolve, world, name=name, module_prefix=module_prefix)
    with cli._AotErrors():
        written = write_bindings(bindings, guest_dir, host_dir)
    click.echo(f"wrote {', '.join(str(p) for p in written)} (world {world.id})")
