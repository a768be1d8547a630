"""A component's exports (other than `wasi:cli/run`) as a WIT world, and the C that calls them.

A firmware calls a component like a library (issue 16, docs/components.md
"Calling a component's exports from C"): the component is unwrapped to one
core module, and its exported interfaces get the host-side bindings `waft
bindgen` already writes for a WIT world's exports (aot/wit/bindgen/: the one
canonical-ABI walker, lifting results into C structs, strings as (ptr, len),
results as tagged structs, the post-return called).  What this file adds is
the world itself, read back from the component's types:

    world = exported_world(graph)            # ExportedWorld, or None when nothing but wasi:cli/run
    world.wit                                # WIT text: one package per exporting package
    files = export_bindings(graph, module, prefix)   # {file name: C text} for module `prefix`
    files = component_export_files(component, module, prefix)   # the same from the component's bytes
    write_export_files(files, folder)                # all of them or none

Types come from the component, not from any embedded WIT (`component new`
strips that): each exported function's type (its ascription when the export
has one, as wit-component writes them, else its `canon lift`'s type) is
resolved in the scope that defined it, and records, variants, enums and flags
take the names the exporting instance gives them (`(export "status" (type
...))`).  The WIT text then goes through Waft's own WIT front end, so the
names, layouts and core signatures are the ones `waft bindgen` computes; the
module's core exports are checked against them before any C is written.

Refused, one line each: resources in exported interfaces, types the
component imports (`use`d from an imported interface), exported functions
whose core names differ from the canonical ones, string encodings other
than UTF-8.  Either unwrapping path keeps the lifted functions as core
exports under the canonical names: path (a) because main exports them so,
path (b) because aot/component/fuse.py exports them so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aot.component.errors import UnwrapError
from aot.component.instantiate import (
    ComponentInstanceValue, CoreExportRef, ImportedItem, InstantiationGraph, Lift,
)
from aot.component.model import (
    ComponentFuncType, EnumType, FlagsType, HandleType, ListType, MapType, OptionType, PrimitiveType, RecordType,
    ResourceType, ResultType, TupleType, TypeDef, VariantType,
)
from aot.wit.lexer import KEYWORDS

RUN_INTERFACE = "wasi:cli/run@"  # a command's entry point: it becomes `_start`, not a C function
WORLD_PACKAGE = "waft:component"


@dataclass
class ExportedFunction:
    interface: str | None  # "ns:pkg/iface@v", or None for a function the world exports by name
    name: str
    lift: Lift


@dataclass
class ExportedWorld:
    wit: str  # the WIT source: the world package first, then one block per package it exports from
    world: str  # the world's name inside WORLD_PACKAGE
    functions: list[ExportedFunction] = field(default_factory=list)


def exported_world(graph: InstantiationGraph, world: str = "component") -> ExportedWorld | None:
    """The WIT world of the component's exports other than `wasi:cli/run`; None when it has none."""
    packages: dict[str, list[str]] = {}  # "ns:pkg@v" -> interface texts
    world_items: list[str] = []
    functions: list[ExportedFunction] = []
    for name, (sort, value) in graph.exports.items():
        if name.startswith(RUN_INTERFACE):
            continue
        if sort == "instance" and isinstance(value, ComponentInstanceValue):
            package, iface = _split_interface(name)
            printer = _Printer(graph, f"export '{name}'")
            text = printer.interface(iface, value)
            packages.setdefault(package, []).append(text)
            world_items.append(f"export {name};")
            functions += [ExportedFunction(name, fname, lift) for fname, lift in printer.functions]
        elif sort == "func" and isinstance(value, Lift):
            printer = _Printer(graph, f"export '{name}'")
            sig = printer.signature(graph.ascribed.get(name), value)
            world_items.append(f"export {_ident(name)}: {sig};")
            functions.append(ExportedFunction(None, name, value))
        elif sort == "type":
            continue  # a world-level type is only a name; the functions using it inline it
        else:
            raise UnwrapError(f"the component exports '{name}' as a {sort}: only interfaces and functions can "
                              "be called from C")
    if not functions:
        return None
    out = [f"package {WORLD_PACKAGE};", "", f"world {world} {{"]
    out += [f"  {item}" for item in world_items] + ["}", ""]
    for package, interfaces in packages.items():
        out.append(f"package {package} {{")
        out += ["  " + line if line else "" for text in interfaces for line in text.splitlines()]
        out += ["}", ""]
    return ExportedWorld("\n".join(out), world, functions)


def _split_interface(name: str) -> tuple[str, str]:
    """'ns:pkg/iface@1.0.0' -> ('ns:pkg@1.0.0', 'iface'); a plain name cannot be an exported instance here."""
    base, at, version = name.partition("@")
    package, slash, iface = base.partition("/")
    if not slash or ":" not in package:
        raise UnwrapError(f"the component exports an instance under the plain name '{name}': only interfaces "
                          "named ns:pkg/iface can be called from C")
    return package + at + version, iface


def _ident(name: str) -> str:
    """A WIT identifier; a keyword is written with `%`."""
    return f"%{name}" if name in KEYWORDS else name


class _Printer:
    """WIT text for one exported interface (or function): named types first, then the functions."""

    def __init__(self, graph: InstantiationGraph, where: str) -> None:
        self.graph = graph
        self.where = where
        self.named: dict[int, str] = {}  # id(TypeDef) -> its WIT name
        self.by_shape: dict[str, str] = {}  # an anonymous description -> the name a type of that shape has
        self.functions: list[tuple[str, Lift]] = []

    def interface(self, iface: str, instance: ComponentInstanceValue) -> str:
        lines = [f"interface {_ident(iface)} {{"]
        for name, (sort, value) in instance.exports.items():
            if sort == "type":
                if not isinstance(value, TypeDef):
                    raise self.refuse(f"type '{name}' is {_what(value)}")
                definition = self.definition(name, value)
                if definition is not None:
                    lines.append(f"  {definition}")
        for name, (sort, value) in instance.exports.items():
            if sort == "func":
                if not isinstance(value, Lift):
                    raise self.refuse(f"function '{name}' is {_what(value)}, not a lifted core function")
                lines.append(f"  {_ident(name)}: {self.signature(instance.ascribed.get(name), value)};")
                self.functions.append((name, value))
            elif sort != "type":
                raise self.refuse(f"'{name}' is a {sort}: only types and functions are supported in an interface")
        return "\n".join(lines + ["}"])

    def refuse(self, what: str) -> UnwrapError:
        return UnwrapError(f"{self.where}: {what}")

    # -- types ------------------------------------------------------------------
    def definition(self, name: str, td: TypeDef) -> str | None:
        """`record name { ... }` (or variant/enum/flags/type alias) for a type the interface exports."""
        t = td.type
        if id(td) in self.named:  # exported twice under two names: the second is an alias
            return f"type {_ident(name)} = {self.named[id(td)]};"
        body = None
        if isinstance(t, RecordType):
            body = f"record {_ident(name)} {{ " + ", ".join(f"{_ident(f)}: {self.ref(ft, td)}"
                                                         for f, ft in t.fields) + " }"
        elif isinstance(t, VariantType):
            cases = [_ident(c) if ct is None else f"{_ident(c)}({self.ref(ct, td)})" for c, ct in t.cases]
            body = f"variant {_ident(name)} {{ " + ", ".join(cases) + " }"
        elif isinstance(t, EnumType):
            body = f"enum {_ident(name)} {{ " + ", ".join(map(_ident, t.names)) + " }"
        elif isinstance(t, FlagsType):
            body = f"flags {_ident(name)} {{ " + ", ".join(map(_ident, t.names)) + " }"
        elif isinstance(t, (ResourceType, HandleType)):
            raise self.refuse(f"resource '{name}': resources in exported interfaces are not supported yet")
        shape = self.shape(td)
        self.named[id(td)] = _ident(name)
        self.by_shape.setdefault(shape, _ident(name))
        return body if body is not None else f"type {_ident(name)} = {shape};"

    def ref(self, vt: object, owner: TypeDef | None) -> str:
        """A value type as WIT: a primitive, a named type's name, or an anonymous type written out."""
        if isinstance(vt, str):
            return vt
        scope = self.graph.type_scopes.get(id(owner)) if owner is not None else None
        if scope is None:
            raise self.refuse("a type index outside any scope")  # cannot happen for decoded components
        return self.type_value(scope.get("type", vt, 0))

    def type_value(self, value: object) -> str:
        if isinstance(value, ImportedItem):
            raise self.refuse(f"it uses type {' '.join(value.path)!r} of an import: types from imported "
                              "interfaces are not supported in exports yet")
        if not isinstance(value, TypeDef):
            raise self.refuse(f"a type that is {_what(value)}")
        if id(value) in self.named:
            return self.named[id(value)]
        shape = self.shape(value)
        if isinstance(value.type, (RecordType, VariantType, EnumType, FlagsType)):
            if shape not in self.by_shape:
                raise self.refuse(f"an unnamed {type(value.type).__name__.removesuffix('Type').lower()} "
                                  "(WIT names every record, variant, enum and flags)")
            return self.by_shape[shape]
        return shape

    def shape(self, td: TypeDef) -> str:
        """The type written out without its own name (named members by name): WIT for anonymous types."""
        t = td.type
        if isinstance(t, PrimitiveType):
            return t.name
        if isinstance(t, ListType):
            element = self.ref(t.element, td)
            return f"list<{element}>" if t.length is None else f"list<{element}, {t.length}>"
        if isinstance(t, OptionType):
            return f"option<{self.ref(t.type, td)}>"
        if isinstance(t, ResultType):
            if t.ok is None and t.error is None:
                return "result"
            ok = "_" if t.ok is None else self.ref(t.ok, td)
            return f"result<{ok}>" if t.error is None else f"result<{ok}, {self.ref(t.error, td)}>"
        if isinstance(t, TupleType):
            return "tuple<" + ", ".join(self.ref(e, td) for e in t.types) + ">"
        if isinstance(t, MapType):
            return f"map<{self.ref(t.key, td)}, {self.ref(t.value, td)}>"
        if isinstance(t, RecordType):
            return "record{" + ",".join(f"{f}:{self.ref(ft, td)}" for f, ft in t.fields) + "}"
        if isinstance(t, VariantType):
            return "variant{" + ",".join(c if ct is None else f"{c}({self.ref(ct, td)})" for c, ct in t.cases) + "}"
        if isinstance(t, EnumType):
            return "enum{" + ",".join(t.names) + "}"
        if isinstance(t, FlagsType):
            return "flags{" + ",".join(t.names) + "}"
        if isinstance(t, (ResourceType, HandleType)):
            raise self.refuse("it uses a resource: resources in exported interfaces are not supported yet")
        raise self.refuse(f"a {type(t).__name__} where a value type belongs")

    # -- functions --------------------------------------------------------------
    def signature(self, ascribed: object, lift: Lift) -> str:
        """`func(a: t, ...) -> r`, from the export's ascribed type when it has one, else the lift's."""
        if lift.options.string_encoding != "utf8":
            raise self.refuse(f"string encoding {lift.options.string_encoding}: only UTF-8 is supported")
        td = ascribed if isinstance(ascribed, TypeDef) else lift.type
        if not isinstance(td, TypeDef) or not isinstance(td.type, ComponentFuncType):
            raise self.refuse(f"its type is {_what(td)}, not a function type")
        ft = td.type
        params = ", ".join(f"{_ident(p)}: {self.ref(pt, td)}" for p, pt in ft.params)
        result = "" if ft.result is None else f" -> {self.ref(ft.result, td)}"
        return f"func({params}){result}"


def _what(value: object) -> str:
    if isinstance(value, ImportedItem):
        return f"imported ({' '.join(value.path)})"
    if isinstance(value, TypeDef):
        return f"a {type(value.type).__name__}"
    return f"a {type(value).__name__}"


# ---------------------------------------------------------------------------
# The bindings
# ---------------------------------------------------------------------------


def load_world(exported: ExportedWorld):
    """(Resolve, World) of the WIT text, through Waft's WIT front end."""
    from aot.wit.parser import parse_file
    from aot.wit.resolve import PackageSource, resolve_packages
    from aot.wit.source import SourceMap
    from aot.wit.types import Resolve

    sources = SourceMap()
    parsed = parse_file(sources.add("<component exports>", exported.wit), sources)
    root = PackageSource(parsed.package, docs=parsed.package_docs)
    root.scopes.append(parsed.items)
    packages = [PackageSource(block.name, [block.items], block.docs) for block in parsed.nested] + [root]
    resolve = Resolve(sources)
    main = resolve_packages(resolve, packages, root)
    return resolve, resolve.select_world(main, exported.world)


def export_bindings(graph: InstantiationGraph, module: bytes, prefix: str) -> dict[str, str]:
    """The host C for calling the component's exports through module `prefix` (`waft compile --name`):
    `<prefix>_host.h/.c` (types, the ctx), `<prefix>_host_module.h/.c` (one C function per export) and
    `<prefix>_component.h` (start).  {} when the component exports nothing but `wasi:cli/run`."""
    from aot.component.coremodule import read_interface
    from aot.wit.bindgen import generate_bindings
    from aot.wit.core import core_exports

    exported = exported_world(graph)
    if exported is None:
        return {}
    resolve, world = load_world(exported)
    names = {e.name for e in read_interface(module, 0, "the unwrapped module").exports}
    wanted = {e.name: e for e in core_exports(world)}
    for fn in exported.functions:
        _check_core_name(graph, fn, names)
    for name, e in wanted.items():
        if e.kind == "func" and name not in names:
            raise UnwrapError(f"the unwrapped module has no export '{name}' for the component's {e.func.name}")
    need_realloc = any(f.lift.options.realloc is not None for f in exported.functions)
    for core in ("memory", "cabi_realloc") if need_realloc else ("memory",):
        if core not in names:
            raise UnwrapError(f"the unwrapped module does not export '{core}', which the component's exports use")
    files = generate_bindings(resolve, world, name=prefix, module_prefix=prefix).host
    files[f"{prefix}_component.h"] = _start_header(prefix, "_initialize" in names, world.id)
    return files


def _check_core_name(graph: InstantiationGraph, fn: ExportedFunction, names: set[str]) -> None:
    """The lifted core function must be the module's export of the canonical name (what the C calls)."""
    core = fn.lift.core_func
    expected = f"{fn.interface}#{fn.name}" if fn.interface else fn.name
    where = f"the component's export {expected}"
    if not isinstance(core, CoreExportRef):
        raise UnwrapError(f"{where} lifts {graph.describe_item(core)}, not a core module's export")
    if core.name != expected or expected not in names:
        raise UnwrapError(f"{where} lifts core export '{core.name}': only exports under their canonical core "
                          f"name ('{expected}') can be called from C")
    post = fn.lift.options.post_return
    if post is not None and (not isinstance(post, CoreExportRef) or post.name != "cabi_post_" + expected):
        raise UnwrapError(f"{where} has post-return {graph.describe_item(post)}, not 'cabi_post_{expected}'")


def _start_header(prefix: str, initialize: bool, world_id: str) -> str:
    """`<prefix>_component_start`: what the component's instantiation does after the core one."""
    from aot.abi import export_symbol

    guard = f"{prefix.upper()}_COMPONENT_H"
    call = (f"    return waft_call_guarded({prefix}__component_init, instance, NULL);"
            if initialize else "    (void)instance;\n    return WAFT_TRAP_NONE;")
    init = (f"""static void {prefix}__component_init(void *instance, void *unused) {{
    (void)unused;
    {export_symbol(prefix, "_initialize")}(({prefix}__instance *)instance);
}}

""" if initialize else "")
    return f"""\
/* Calling the component's exports (world {world_id}) from C, generated by `waft compile`: do not edit.
 * After {prefix}__instantiate: {prefix}_ctx_init, then {prefix}_component_start; call the export
 * wrappers of {prefix}_host_module.h inside waft_call_guarded (docs/components.md). */
#ifndef {guard}
#define {guard}
#include "{prefix}_host_module.h"

{init}/* Connect `ctx` to the instance and run what the component runs once instantiated (the module's
 * _initialize: constructors, the allocator).  WAFT_TRAP_NONE, or the trap it stopped with. */
static inline waft_trap_code {prefix}_component_start({prefix}_ctx *ctx, {prefix}__instance *instance) {{
    {prefix}_attach(ctx, instance);
{call}
}}
#endif /* {guard} */
"""


def component_export_files(component: bytes, module: bytes, prefix: str) -> dict[str, str]:
    """`export_bindings` from a file's bytes: {} when `component` is a core module (nothing to add)."""
    from aot.component.decode import decode_component, is_component
    from aot.component.instantiate import instantiate

    if not is_component(component[:8]):
        return {}
    return export_bindings(instantiate(decode_component(component)), module, prefix)


def write_export_files(files: dict[str, str], folder) -> list:
    """Write what `export_bindings` gave into `folder`: every file or none (bindgen's writer)."""
    from aot.wit.bindgen import Bindings, write_bindings

    return write_bindings(Bindings(guest={}, host=files), host_dir=folder) if files else []
