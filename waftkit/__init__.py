"""Waft's kit around its compiler: firmware builds, runners, WASI, test tooling and the `waft` command line.

The compiler itself is the `aot` package (Wasm in, ELF object and C header
out).  Rooms here sit above it and may import it, never the reverse:

    wasi, imports_check   the WASI preview1 table and what a target's runtime provides
    firmware/             runtime library, link, size check, WASI firmware for boards
    runners/              run a program: natively, under QEMU, or through pyOCD (one registry)
    cache, run            the build cache and `waft run`
    testing/              spectest and the pytest plugin (a leaf: only the CLI imports it)
    cli                   the `waft` command, on top of everything

Why not a package called `waft`: SCons registers a project's tool modules in
sys.modules under their bare names, so the SCons tool `waft`
(site_scons/site_tools/waft.py, the name users load) would shadow it.
"""

from aot import __version__

__all__ = ["__version__"]
