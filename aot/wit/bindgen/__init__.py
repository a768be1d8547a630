"""`waft bindgen`: C bindings for both sides of a WIT world (issue 13; docs/bindgen.md).

From one world, C for the guest (compiled to wasm32 with clang and wasi-libc)
and C for the host (linked with the Waft-compiled module, on any target).  The
driver below reads like its output: begin, types, imports, exports, finish,
each step a hook every backend implements.  One job per file:

    names.py        every C identifier: prefixes, type names, `exports_` copies, keywords
    plan.py         the world as the backends see it: types in definition order, imports,
                    exports, resources; the rules both sides share (post-return, `fault`)
    cwriter.py      C text: named sections, indented blocks, temporaries, literals
    ctypedefs.py    C definitions of WIT types (records, variants, lists, handles...)
    flat.py         THE walker: C values <-> flat core values, with the variant joins;
                    each side supplies its leaves (strings, lists, handles)
    guest.py        <name>.h, <name>.c: imports with import_module/import_name, exports with
                    export_name, cabi_realloc, post-return, free functions
    host_memory.py  host loads and stores in guest memory, every range checked
    host.py         <name>_host.h, <name>_host.c: the ctx and the import symbols' glue
    host_module.py  <name>_host_module.h, .c: what needs the module's header (exports, attach)

    bindings = generate_bindings(resolve, world, name="app", module_prefix="app")
    write_bindings(bindings, guest_dir=Path("guest"), host_dir=Path("host"))

`waft bindgen WIT_PATH --world W --guest DIR --host DIR` is the same from the
command line (waftkit/cli_wit.py); docs/bindgen.md is the user's guide.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from aot.abi import check_prefix
from aot.errors import WitError
from aot.wit.bindgen.guest import GuestBindings
from aot.wit.bindgen.host import HostBindings
from aot.wit.bindgen.host_module import HostModuleBindings
from aot.wit.bindgen.names import c_ident
from aot.wit.bindgen.plan import ExportedResource, ExportFunc, ImportedResource, ImportFunc, Plan
from aot.wit.canonical_abi import CanonicalAbi
from aot.wit.types import Resolve, World

_C_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


@dataclass
class Bindings:
    guest: dict[str, str]  # file name -> C text
    host: dict[str, str]


def binding_names(world: World, name: str | None = None, module_prefix: str | None = None) -> tuple[str, str]:
    """(name, module prefix) as generate_bindings uses them; ValueError when one is not a plain
    C identifier.  `name` defaults to the world's name, `module_prefix` to `name`."""
    name = name or c_ident(world.name).rstrip("_")
    if not _C_NAME.match(name):
        raise ValueError(f"name '{name}' does not start with a letter")
    return check_prefix(name), check_prefix(module_prefix or name)  # the same rules as a module's prefix


def generate_bindings(resolve: Resolve, world: World, *, name: str | None = None,
                      module_prefix: str | None = None, abi: CanonicalAbi | None = None) -> Bindings:
    """Guest and host C for `world`.  `name` prefixes the files and the world's own C names
    (default: the world's name); `module_prefix` is the guest module's `waft compile --name`
    (default: `name`).  WitError when the world uses what C bindings cannot express."""
    try:
        name, prefix = binding_names(world, name, module_prefix)
    except ValueError as exc:
        raise WitError(f"bindgen: {exc}") from None
    abi = abi or CanonicalAbi()
    if abi.ptr_type != "i32":
        raise WitError("bindgen: only wasm32 guests (32-bit pointers) are generated, not memory64")
    plan = Plan(resolve, world, abi, name)
    backends = [GuestBindings(plan), HostBindings(plan), HostModuleBindings(plan, prefix)]
    for b in backends:
        b.begin()
        b.types()
    for item in plan.imports:
        for b in backends:
            if isinstance(item, ImportFunc):
                b.import_function(item)
            elif isinstance(item, ImportedResource):
                b.imported_resource(item)
    for item in plan.exports:
        for b in backends:
            if isinstance(item, ExportFunc):
                b.export_function(item)
            elif isinstance(item, ExportedResource):
                b.exported_resource(item)
    guest, host, module = (b.finish() for b in backends)
    return Bindings(guest=guest, host={**host, **module})


def write_bindings(bindings: Bindings, guest_dir: Path | None = None, host_dir: Path | None = None) -> list[Path]:
    """Write the guest and/or host files: all of them or none.  Each goes to a temporary sibling
    first and is renamed into place once every one is written; a folder in the way of a file is
    found before anything is written, and folders made for the output go again on failure."""
    outputs = []
    for folder, files in ((guest_dir, bindings.guest), (host_dir, bindings.host)):
        if folder is not None:
            outputs += [(Path(folder) / fname, text.encode("utf-8")) for fname, text in files.items()]
    for path, _ in outputs:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "a folder is in the way of an output file", str(path))
    made: list[Path] = []
    temps: list[tuple[Path, Path]] = []
    try:
        for path, content in outputs:
            missing = [p for p in [path.parent, *path.parent.parents] if not p.exists()]
            for folder in reversed(missing):
                folder.mkdir()
                made.append(folder)
            tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # 0666 less the umask
            temps.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                f.write(content)
        for tmp, path in temps:
            os.replace(tmp, path)
        made.clear()
    finally:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        for folder in reversed(made):
            folder.rmdir()
    return [path for path, _ in outputs]
