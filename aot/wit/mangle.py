"""Core Wasm names of WIT items: the one place that spells them (wasm-tools' "legacy" mangling).

This is the scheme of `wasm-tools component embed --dummy-names legacy`, of
wit-bindgen's C output and of every WASI 0.2 component built so far, and the
one Waft's extensions use (DESIGN.md, "Wave 2 contracts"):

    import of function f         module = the interface ID `ns:pkg/iface@1.2.3`, or the plain
                                 name of a world import (`$root` for a world-level function);
                                 field = f's name: `f`, `[method]r.m`, `[static]r.s`, `[constructor]r`
    drop of an imported resource (module, `[resource-drop]r`)
    exported resource r          imports (`[export]<module>`, `[resource-drop]r` / `[resource-new]r` /
                                 `[resource-rep]r`) and the export `<module>#[dtor]r`
    export of function f         `<module>#<name>` (just `<name>` at world level), and its
                                 post-return function `cabi_post_<that>`
    fixed exports                `memory`, `cabi_realloc`, `_initialize`

The newer `cm32p2|...` scheme (wasm-tools' `--dummy`) is not produced.
"""

from __future__ import annotations

from aot.wit.types import Function, TypeDef, WorldKey, key_name

ROOT_MODULE = "$root"
MEMORY = "memory"
REALLOC = "cabi_realloc"
INITIALIZE = "_initialize"
POST_RETURN_PREFIX = "cabi_post_"


def import_module(key: WorldKey | None) -> str:
    """The core module a world import's functions come from: the interface ID, the plain name,
    or `$root` (key None) for functions and types of the world itself."""
    return ROOT_MODULE if key is None else key_name(key)


def import_name(key: WorldKey | None, func: Function) -> tuple[str, str]:
    return import_module(key), func.name


def resource_drop_import(key: WorldKey | None, resource: TypeDef) -> tuple[str, str]:
    """The drop function of an imported resource."""
    return import_module(key), f"[resource-drop]{resource.name}"


def exported_resource_import(key: WorldKey, resource: TypeDef, intrinsic: str) -> tuple[str, str]:
    """`drop`, `new` or `rep` of a resource the module exports, which the module imports."""
    assert intrinsic in ("drop", "new", "rep")
    return f"[export]{key_name(key)}", f"[resource-{intrinsic}]{resource.name}"


def export_name(key: WorldKey | None, func: Function, post_return: bool = False) -> str:
    """An exported function's core name (key None: a function the world exports directly)."""
    name = func.name if key is None else f"{key_name(key)}#{func.name}"
    return POST_RETURN_PREFIX + name if post_return else name


def dtor_export_name(key: WorldKey, resource: TypeDef) -> str:
    """The destructor the module exports for a resource it exports."""
    return f"{key_name(key)}#[dtor]{resource.name}"
