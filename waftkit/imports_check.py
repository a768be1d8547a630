"""What each of a module's imports is and whether a target's runtime provides it: the logic behind `waft check`.

Every function import is looked up in two tables: p1's (waftkit/wasi.py,
restated from the witx) and the extensions' (waftkit/wasi_ext.py, read from
wasi_ext/'s WIT through aot.wit).  A WASI function is provided when the
target's runtime implements it: p1 on every target with a WASI port, an
extension function when the target's target.toml lists it.  Anything else
must come from the firmware (the embedder's C code), so it is reported with
the C prototype to write.

The scope is what a module may import.  With a world (`waft check --world`),
p1 and the world's imports: p1 is in every profile but can be in no WIT world
(docs/wasi-ext.md).  Without one, the target's own: p1 and the extension
functions it provides.  One status per import:

    provided       WASI, in scope, implemented by the target, imported at the right type
    not provided   WASI and in scope, but the target's runtime does not implement it
    type mismatch  WASI, imported at another core type than the table's (which is shown)
    not in world   an extension function outside the world checked against
    unknown        the module is p1's or an extension interface's, the name none of its functions
    missing        not WASI: the firmware must supply it
    embedder       not a function (a memory, table or global): the embedder passes it in
    region         a shared-memory region's window (`region:NAME` of wasi-ext:shared-memory/regions):
                   the build's grants resolve it, and refuse the module when it is not granted
                   (docs/shared-memory.md)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from aot import abi, shm
from aot.errors import TargetError
from aot.targets import Target
from aot.wasm.module import FuncType, Import, Module
from aot.wit import CoreImport, World
from aot.wit.types import describe_function
from waftkit import wasi, wasi_ext


@dataclass(frozen=True)
class ImportStatus:
    imp: Import
    functype: FuncType | None  # the module's type for it; None for non-function imports
    status: str  # one of the module docstring's statuses
    what: str = ""  # which function it is: "p1", "WIT func(...) -> ...", "not WASI"
    detail: str = ""  # what is wrong and what was expected

    @property
    def ok(self) -> bool:
        return self.status in ("provided", "region")


def has_wasi_port(target: Target) -> bool:
    """Whether `target`'s runtime has a WASI port, and so provides all of p1."""
    try:
        wasi.runtime_sources(target)
    except TargetError:
        return False
    return True


def runtime_provides(target: Target) -> dict[tuple[str, str], FuncType]:
    """(module, name) -> type of every function `target`'s runtime supplies: p1 and its extensions."""
    provided = dict(wasi.provided_imports()) if has_wasi_port(target) else {}
    provided.update({key: imp.type for key, imp in wasi_ext.target_provides(target).items()})
    return provided


def describe_scope(target: Target, world: World | None) -> str:
    """What the check allowed, in words: `wasi-ext:profiles/firmware-rt@0.1.0 and p1`, or the target's own."""
    if world is not None:
        return f"{world.id} and p1"
    count = len(wasi_ext.target_provides(target))
    return f"p1 and {count} extension functions" if count else "p1, no extensions"


def c_prototype(imp: Import, functype: FuncType) -> str:
    """The C declaration an embedder writes to supply a function import (docs/abi.md)."""
    results = [abi.C_TYPES[t] for t in functype.results]
    params = ["void *ctx"] + [f"{abi.C_TYPES[t]} p{i}" for i, t in enumerate(functype.params)]
    if len(results) > 1:
        params += [f"{t} *result{i}" for i, t in enumerate(results)]
    ret = results[0] if len(results) == 1 else "void"
    return f"{ret} {abi.import_symbol(imp.module, imp.name)}({', '.join(params)});"


def check_imports(module: Module, target: Target, world: World | None = None) -> list[ImportStatus]:
    """One status per import of `module`, in import order, for `target` (and `world`, if given)."""
    checker = _Checker(target, world)
    return [checker.check(imp, module) for imp in module.imports]


class _Checker:
    """The tables one check reads, each built once and only when an import needs it."""

    def __init__(self, target: Target, world: World | None) -> None:
        self.target = target
        self.world = world
        self.p1 = wasi.provided_imports()
        self.p1_provided = has_wasi_port(target)
        self.in_world = wasi_ext.world_imports(world) if world is not None else {}

    @cached_property
    def ext_provided(self) -> dict:
        # Only when a module imports beyond p1: expanding a target's "all" reads the WIT.
        return wasi_ext.target_provides(self.target)

    def check(self, imp: Import, module: Module) -> ImportStatus:
        if imp.kind != "func":
            return ImportStatus(imp, None, "embedder", "not WASI",
                                f"imported {imp.kind}: pass it in the imports struct")
        functype = module.types[imp.desc]
        key = (imp.module, imp.name)
        if imp.module == wasi.MODULE:
            if key not in self.p1:
                return ImportStatus(imp, functype, "unknown", "", f"{wasi.MODULE} has no function `{imp.name}`")
            return self._judge(imp, functype, "p1", self.p1[key], in_scope=True, provided=self.p1_provided)
        if imp.module == shm.REGIONS_MODULE and imp.name.startswith(shm.REGION_IMPORT_PREFIX):
            region = imp.name[len(shm.REGION_IMPORT_PREFIX):]
            return ImportStatus(imp, functype, "region", "shared memory",
                                f"region '{region}': its window's base, fixed at build time by the grants")
        declared = self.in_world.get(key) or wasi_ext.catalogue().get(key)
        if declared is None:
            if self._known_module(imp.module):
                return ImportStatus(imp, functype, "unknown", "", f"{imp.module} has no function `{imp.name}`")
            return ImportStatus(imp, functype, "missing", "not WASI",
                                f"the firmware supplies it: {c_prototype(imp, functype)}")
        in_scope = self.world is None or key in self.in_world
        return self._judge(imp, functype, _describe(declared), declared.type, in_scope=in_scope,
                           provided=key in self.ext_provided)

    def _judge(self, imp: Import, functype: FuncType, what: str, want: FuncType, *, in_scope: bool,
               provided: bool) -> ImportStatus:
        problems: list[tuple[str, str]] = []
        if functype != want:
            problems.append(("type mismatch", f"expected {want}"))
        if not in_scope:
            problems.append(("not in world", self._elsewhere((imp.module, imp.name))))
        elif not provided:
            problems.append(("not provided", f"the {self.target.name} runtime does not implement it"))
        if not problems:
            return ImportStatus(imp, functype, "provided", what)
        return ImportStatus(imp, functype, problems[0][0], what, "; ".join(text for _, text in problems))

    def _known_module(self, module: str) -> bool:
        return any(m == module for m, _ in self.in_world) or any(m == module for m, _ in wasi_ext.catalogue())

    def _elsewhere(self, key: tuple[str, str]) -> str:
        assert self.world is not None
        profile = wasi_ext.smallest_profile_with(key)
        if profile is None:
            return f"not imported by {self.world.id}"
        return f"in {profile.id}, not in {self.world.id}"


def _describe(imp: CoreImport) -> str:
    if imp.func is not None:
        return f"WIT {describe_function(imp.func)}"
    return f"WIT {imp.kind} of resource {imp.resource.name if imp.resource else '?'}"
