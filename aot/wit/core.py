"""A world's core Wasm face: every import and export a module targeting it has, named and typed.

`core_imports(world)` and `core_exports(world)` list, in wasm-tools' order, what a
core module built for the world imports and exports: each entry carries its
legacy core name (`mangle.py`), its core type (`canonical_abi.py`) and the WIT
item behind it, so that `waft wit dummy`, `waft wit show`, the import check and
the bindings generators all walk one list.

Order (that of wit-component's dummy module): for each world import in order,
an interface's functions then the drops of the resources it defines, or a
world-level function, or the drop of a world-level resource; then for each
exported interface the drop/new/rep imports of its resources.  Exports: each
exported function with its post-return function, an exported interface's
functions likewise then the destructors of its resources; then `memory`,
`cabi_realloc` and `_initialize`.
"""

from __future__ import annotations

from dataclasses import dataclass

from aot.wasm.module import FuncType
from aot.wit import mangle
from aot.wit.canonical_abi import CanonicalAbi, CoreSignature
from aot.wit.types import Function, Interface, Resource, TypeDef, World, WorldKey

_I32 = ("i32",)


@dataclass(frozen=True)
class CoreImport:
    module: str
    name: str
    type: FuncType
    kind: str  # "func" | "resource-drop" | "resource-new" | "resource-rep"
    key: WorldKey | None = None  # the world import (or export, for resource-new/rep) it belongs to
    func: Function | None = None
    resource: TypeDef | None = None
    signature: CoreSignature | None = None  # functions only: how the values travel


@dataclass(frozen=True)
class CoreExport:
    name: str
    kind: str  # "func" | "post-return" | "dtor" | "memory" | "realloc" | "initialize"
    type: FuncType | None  # None for the memory
    key: WorldKey | None = None
    func: Function | None = None
    resource: TypeDef | None = None
    signature: CoreSignature | None = None


def core_imports(world: World, abi: CanonicalAbi | None = None) -> list[CoreImport]:
    abi = abi or CanonicalAbi()
    out: list[CoreImport] = []
    for key, item in world.imports.items():
        if isinstance(item, Interface):
            for func in item.functions.values():
                out.append(_func_import(abi, key, func))
            for res in item.resources():
                out.append(_drop_import(key, res))
        elif isinstance(item, Function):
            out.append(_func_import(abi, None, item))
        elif isinstance(item.kind, Resource):
            out.append(_drop_import(None, item))
    for key, item in world.exports.items():
        if isinstance(item, Interface):
            for res in item.resources():
                for intrinsic, sig in (("drop", FuncType(_I32, ())), ("new", FuncType(_I32, _I32)),
                                       ("rep", FuncType(_I32, _I32))):
                    module, name = mangle.exported_resource_import(key, res, intrinsic)
                    out.append(CoreImport(module, name, sig, f"resource-{intrinsic}", key, resource=res))
    return out


def core_exports(world: World, abi: CanonicalAbi | None = None) -> list[CoreExport]:
    abi = abi or CanonicalAbi()
    out: list[CoreExport] = []
    for key, item in world.exports.items():
        if isinstance(item, Function):
            out += _func_exports(abi, None, item)
        elif isinstance(item, Interface):
            for func in item.functions.values():
                out += _func_exports(abi, key, func)
            for res in item.resources():
                out.append(CoreExport(mangle.dtor_export_name(key, res), "dtor", FuncType(_I32, ()), key,
                                      resource=res))
    out.append(CoreExport(mangle.MEMORY, "memory", None))
    out.append(CoreExport(mangle.REALLOC, "realloc", FuncType(("i32",) * 4, _I32)))
    out.append(CoreExport(mangle.INITIALIZE, "initialize", FuncType((), ())))
    return out


def _func_import(abi: CanonicalAbi, key: WorldKey | None, func: Function) -> CoreImport:
    sig = abi.import_signature(func)
    module, name = mangle.import_name(key, func)
    return CoreImport(module, name, FuncType(sig.params, sig.results), "func", key, func, signature=sig)


def _drop_import(key: WorldKey | None, res: TypeDef) -> CoreImport:
    module, name = mangle.resource_drop_import(key, res)
    return CoreImport(module, name, FuncType(_I32, ()), "resource-drop", key, resource=res)


def _func_exports(abi: CanonicalAbi, key: WorldKey | None, func: Function) -> list[CoreExport]:
    sig = abi.export_signature(func)
    # The post-return function takes what the export returned (wit-component gives every
    # export one; a real module may leave out those that have nothing to free).
    return [CoreExport(mangle.export_name(key, func), "func", FuncType(sig.params, sig.results), key, func,
                       signature=sig),
            CoreExport(mangle.export_name(key, func, post_return=True), "post-return",
                       FuncType(sig.results, ()), key, func, signature=sig)]
