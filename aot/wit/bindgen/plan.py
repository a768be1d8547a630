"""What a world's bindings consist of, computed once for every backend: types, imports, exports.

`Plan` walks the world's core imports and exports (aot/wit/core.py, so the
names and signatures are the ones `waft wit dummy` and wasm-tools agree on)
and groups them as the generators need them:

    types        every (TypeDef, export side) the bindings define, each after the types it uses
    imports      ImportFunc per imported function; ImportedResource per imported resource (its drop)
    exports      ExportFunc per exported function (with its post-return, when the guest has one);
                 ExportedResource per exported resource (its dtor and its new/rep/drop imports)

It also holds the rules both sides must agree on without talking to each
other: which exports have a post-return function (`owns_memory`) and which
imports answer a bad pointer with an error instead of a trap (`fault_case`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aot.errors import WitError
from aot.wit.bindgen.names import CNames
from aot.wit.canonical_abi import CanonicalAbi
from aot.wit.core import CoreExport, CoreImport, core_exports, core_imports
from aot.wit.mangle import exported_resource_import
from aot.wit.types import (
    Borrow, Enum_, Function, Interface, List, Map, Own, Primitive, Resolve, Result_, Type, TypeDef, World,
    WorldKey, children, resolved,
)


@dataclass
class ImportFunc:
    key: WorldKey | None
    func: Function
    core: CoreImport
    cname: str  # the C function: the guest calls it, the host implements it


@dataclass
class ImportedResource:
    key: WorldKey | None
    resource: TypeDef
    drop: CoreImport


@dataclass
class ExportFunc:
    key: WorldKey | None
    func: Function
    core: CoreExport
    cname: str  # the C function: the guest implements it, the host calls it
    post_return: str | None  # the core name of its post-return function, when the guest exports one


@dataclass
class ExportedResource:
    key: WorldKey
    resource: TypeDef
    dtor: CoreExport
    intrinsics: dict[str, CoreImport] = field(default_factory=dict)  # "new" | "rep" | "drop"


@dataclass
class FaultCase:
    """How an import reports a bad guest pointer instead of trapping: an errno-like enum case."""

    enum: TypeDef  # the enum (resolved) that has a `fault` case
    index: int  # the case's number
    in_result: TypeDef | None  # the `result<_, enum>` it is the error of, or None when returned directly


class Plan:
    def __init__(self, resolve: Resolve, world: World, abi: CanonicalAbi, name: str) -> None:
        self.resolve = resolve
        self.world = world
        self.abi = abi
        order = resolve.topological_types()
        self.names = CNames(world, name, order)
        self.types = self._types(order)
        self.imports: list[ImportFunc | ImportedResource] = []
        self.exports: list[ExportFunc | ExportedResource] = []
        exported: dict[tuple[WorldKey, TypeDef], ExportedResource] = {}
        pending: list[CoreImport] = []
        for imp in core_imports(world, abi):
            if imp.kind == "func":
                self._check_function(imp.func, export=False)
                self.imports.append(ImportFunc(imp.key, imp.func, imp,
                                               self.names.func_name(imp.key, imp.func, export=False)))
            elif imp.key is not None and imp.module == exported_resource_import(imp.key, imp.resource, "drop")[0]:
                pending.append(imp)  # new/rep/drop of a resource the guest exports
            else:
                self.imports.append(ImportedResource(imp.key, imp.resource, imp))
        for exp in core_exports(world, abi):
            if exp.kind == "func":
                self._check_function(exp.func, export=True)
                post = None
                if exp.signature.results_in_memory and owns_memory(exp.func.result):
                    post = "cabi_post_" + exp.name
                self.exports.append(ExportFunc(exp.key, exp.func, exp,
                                               self.names.func_name(exp.key, exp.func, export=True), post))
            elif exp.kind == "dtor":
                res = ExportedResource(exp.key, exp.resource, exp)
                exported[(exp.key, exp.resource)] = res
                self.exports.append(res)
        for imp in pending:
            exported[(imp.key, imp.resource)].intrinsics[imp.kind.removeprefix("resource-")] = imp

    def _types(self, order: list[TypeDef]) -> list[tuple[TypeDef, bool]]:
        """Every type the world names or its functions use, on each side, in definition order."""
        wanted: set[tuple[TypeDef, bool]] = set()

        def add(t: Type | None, export: bool) -> None:
            if not isinstance(t, TypeDef):
                return
            key = (t, self.names.export_copy(t, export))
            if key in wanted:
                return
            wanted.add(key)
            for c in children(t):
                add(c, export)

        for export, items in ((False, self.world.imports), (True, self.world.exports)):
            for item in items.values():
                if isinstance(item, Interface):
                    for td in item.types.values():
                        add(td, export)
                    funcs = list(item.functions.values())
                elif isinstance(item, Function):
                    funcs = [item]
                else:
                    add(item, export)
                    funcs = []
                for func in funcs:
                    for p in func.params:
                        add(p.type, export)
                    add(func.result, export)
        return [(td, copy) for td in order for copy in (False, True) if (td, copy) in wanted]

    def _check_function(self, func: Function, export: bool) -> None:
        """Refuse what the bindings cannot express, with the reason."""
        if export and any(_has_foreign_borrow(self.names, p.type) for p in func.params):
            raise WitError(f"bindgen: exported function `{func.name}` takes a borrow of a resource the host "
                           "implements; lending host resources to an export is not supported")

    def fault_case(self, func: Function) -> FaultCase | None:
        """The error an import returns for a bad pointer, when it has one: its result is an enum with
        a `fault` case (p1's errno, wasi-ext's), or `result<_, that enum>`, and no parameter holds an
        owned handle (which lifting would already have taken)."""
        if any(_has_own(p.type) for p in func.params):
            return None
        t = resolved(func.result) if func.result is not None else None
        in_result = None
        if isinstance(t, TypeDef) and isinstance(t.kind, Result_) and t.kind.err is not None:
            in_result, t = t, resolved(t.kind.err)
        if isinstance(t, TypeDef) and isinstance(t.kind, Enum_):
            for i, case in enumerate(t.kind.cases):
                if case.name == "fault":
                    return FaultCase(t, i, in_result)
        return None


def owns_memory(t: Type | None) -> bool:
    """Whether a value of `t` holds memory of its own (a string or list somewhere inside): such a
    value is freed after use, and an export returning one has a post-return function."""
    t = resolved(t) if t is not None else None
    if t is None:
        return False
    if isinstance(t, Primitive):
        return t is Primitive.STRING
    if isinstance(t.kind, (List, Map)):
        return True
    if isinstance(t.kind, (Own, Borrow)):
        return False
    return any(owns_memory(c) for c in children(t))


def _has_own(t: Type | None) -> bool:
    t = resolved(t) if t is not None else None
    if not isinstance(t, TypeDef):
        return False
    return isinstance(t.kind, Own) or any(_has_own(c) for c in children(t) if not isinstance(t.kind, Borrow))


def _has_foreign_borrow(names: CNames, t: Type | None) -> bool:
    t = resolved(t) if t is not None else None
    if not isinstance(t, TypeDef):
        return False
    if isinstance(t.kind, Borrow):
        return not names.guest_implements(t.kind.resource, True)
    if isinstance(t.kind, Own):
        return False
    return any(_has_foreign_borrow(names, c) for c in children(t))

