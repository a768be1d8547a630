"""`waft bsp`: the command-line face of waftkit.firmware.bsp (a drop-in for a vendor's own build).

Kept apart from waftkit/cli.py, which registers it; errors follow that file's
rules: one line, exit 1 for bad input, 2 for bad usage.
"""

from __future__ import annotations

from pathlib import Path

import click

_OPT_LEVELS = ("0", "1", "2", "3", "s", "z")


@click.command()
@click.argument("modules", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-t", "--target", "target_name", required=True, help="Cortex-M board (see `waft targets`).")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write (replaced if it holds an earlier `waft bsp` output, else must not exist).")
@click.option("-O", "--opt", type=click.Choice(_OPT_LEVELS), default="2", show_default=True,
              help="LLVM optimisation level.")
@click.option("--max-pages", type=click.IntRange(0, 65536), help="Build-time cap on linear memory, in pages.")
@click.option("--with-startup", is_flag=True,
              help="Also put Waft's startup code (vector table, Reset_Handler), SysTick clock, console and "
                   "board.c into libwaft.a, with the board's linker script: for projects without their own.")
@click.option("--console", type=click.Choice(("semihost", "uart", "rtt")), default="semihost", show_default=True,
              help="With --with-startup: the WASI console backend.")
@click.option("--arg", "args", multiple=True, metavar="ARG",
              help="A WASI command's argument after argv[0] (its prefix), fixed at build time (repeatable).")
@click.option("--grant", "grants", multiple=True, metavar="NAME=SOURCE",
              help="wasi-ext:signals: let the WASI command use a line under NAME, as for `waft run` "
                   "(timer:N, soft:N, irq:N; @export binds it to a handler), repeatable. Its vector goes into "
                   "the firmware's RAM copy of your vector table; your other vectors stay yours.")
@click.option("--max-threads", type=click.IntRange(1, 64), default=8, show_default=True,
              help="A threaded WASI command's thread pool, besides its main thread (as for `waft run`).")
@click.option("--kernel-owns-pendsv", is_flag=True,
              help="Threads: libwaft.a defines PendSV_Handler, for a vector table whose PendSV entry is that "
                   "weak name; by default it defines waft_kernel_pendsv_handler for your table to hold.")
@click.option("--nic", type=click.Choice(("lan9118", "vendor")),
              help="wasi-ext:sockets: the NIC driver lwIP runs on, polled by the socket calls: lan9118 (the "
                   "library's, for the MPS2 boards' LAN9118) or vendor (your firmware's, through the hooks of "
                   "waft_net_nic.h; the drop-in then carries lwIP's headers).")
@click.option("--listen", "listen", multiple=True, metavar="PROTO:ADDR:PORTS",
              help="wasi-ext:sockets: where the module may listen, as for `waft run` (repeatable).")
@click.option("--allow-connect", "allow_connect", multiple=True, metavar="PROTO:ADDR:PORTS",
              help="wasi-ext:sockets: where the module may connect, as for `waft run` (repeatable).")
@click.option("--resolve", "resolve", multiple=True, metavar="NAME=ADDRESS",
              help="wasi-ext:sockets name lookup: the static name table (repeatable).")
@click.option("--name", "names", multiple=True, metavar="FILE=PREFIX",
              help="C prefix for module FILE (as given on the command line; default: its stem), repeatable.")
def bsp(modules: tuple[Path, ...], target_name: str, output: Path, opt: str, max_pages: int | None,
        with_startup: bool, console: str, args: tuple[str, ...], grants: tuple[str, ...],
        names: tuple[str, ...], max_threads: int, kernel_owns_pendsv: bool, nic: str | None,
        listen: tuple[str, ...], allow_connect: tuple[str, ...], resolve: tuple[str, ...]) -> None:
    """Build MODULES (.wasm) into a drop-in for a Make/CMake/IDE firmware project.

    Writes OUTPUT/lib (one static library per module and libwaft.a, the runtime
    with only the features the modules import), OUTPUT/include (waft.h, the
    module headers, waft_bsp.h), OUTPUT/waft_runtime.ld and
    OUTPUT/manifest.json. docs/bsp.md shows how to link it.
    """
    from waftkit.cache import cache_dir
    from waftkit.cli import EXIT_BAD_USAGE, _AotErrors, _fail, _load_target
    from waftkit.firmware.bsp import BspOptions, build_bsp

    if console != "semihost" and not with_startup:
        _fail("--console picks Waft's console backend, which only --with-startup includes: "
              "without it your firmware defines waft_console_write", EXIT_BAD_USAGE)
    prefixes: dict[Path, str] = {}
    for spec in names:
        file, sep, prefix = spec.rpartition("=")
        if not sep or Path(file) not in modules:
            _fail(f"--name wants FILE=PREFIX with FILE one of the modules given, got '{spec}'", EXIT_BAD_USAGE)
        prefixes[Path(file)] = prefix
    target = _load_target(target_name)
    from waftkit.firmware.signal_grants import GrantError, check_grants, parse_grant

    try:
        granted = check_grants([parse_grant(spec) for spec in grants], target)
    except GrantError as exc:
        _fail(str(exc), EXIT_BAD_USAGE)
    from waftkit.firmware import socket_grants

    try:
        for option, specs in (("--listen", listen), ("--allow-connect", allow_connect)):
            for spec in specs:
                socket_grants.check_grant(spec, option)
        for spec in resolve:
            socket_grants.check_host_entry(spec)
    except socket_grants.SocketGrantError as exc:
        _fail(str(exc), EXIT_BAD_USAGE)
    options = BspOptions(opt=opt, memory_cap_pages=max_pages, with_startup=with_startup, console=console,
                         args=list(args), names=prefixes, grants=granted, max_threads=max_threads,
                         kernel_owns_pendsv=kernel_owns_pendsv, nic=nic, listen=list(listen),
                         allow_connect=list(allow_connect), resolve=list(resolve))
    with _AotErrors():  # every AotError (BspError included) becomes one line, exit 1
        manifest = build_bsp(list(modules), target, output, cache_dir() / "bsp", options)
    names = ", ".join(m["prefix"] for m in manifest["modules"])
    click.echo(f"wrote {output} ({target.name}, ABI version {manifest['abi_version']}, modules {names})")
