"""Static instantiation: replay a component's instantiation graph at compile time, as jco's transpiler does.

    graph = instantiate(decode_component(data))
    graph.core_instances     every core instance, in the order a runtime would create them, nesting inlined
    graph.lowerings          every `canon lower`: which component function, with which memory/realloc
    graph.lifts              every `canon lift`: which core function, memory, realloc, post-return
    graph.exports            the root component's exports, resolved to what they really are
    graph.describe()         the whole graph as text, one line per item (tests and `waft unwrap --show`)

The replay walks each component's definitions in file order and keeps, per
scope, the thirteen index spaces (core func ... instance).  What lands in an
index space is not an index but the resolved *thing*: a core export of a
concrete core instance, a lowering, an import path, a lifted function.  So an
alias chain of any length, across any nesting, collapses to one value, and a
nested component instantiated twice gets two sets of core instances.  Outer
aliases are resolved lexically, against the scope where the nested component
was defined (Explainer.md, "Alias Definitions").

Only what later stages consume is resolved; types are carried as opaque
references.  The checks made on the way are the ones that decide whether the
graph holds together: indices in range, instantiation arguments present,
exports that exist.  A full type check is not made (wasm-tools validates
components; Waft's job is to unwrap valid ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from aot.component.coremodule import ModuleInterface, read_interface
from aot.component.errors import ComponentInvalidError, ComponentUnsupportedError
from aot.component.model import (
    Alias,
    CanonLift,
    CanonLower,
    CanonResource,
    Component,
    CoreInlineExports,
    CoreInstantiate,
    CoreModule,
    CoreTypeDef,
    Export,
    Import,
    InlineExports,
    Instantiate,
    SORTS,
    Start,
    TypeDef,
    Value,
)

# ---------------------------------------------------------------------------
# What index spaces hold after resolution
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CoreExportRef:
    """An item a module instance exports: `instance` is an index into `graph.core_instances`."""

    instance: int
    name: str
    sort: str  # "core func" | "core memory" | ...


@dataclass(frozen=True)
class ImportedItem:
    """Something the root component imports: the import's name, then export names into it."""

    path: tuple[str, ...]
    sort: str

    def __str__(self) -> str:
        return "import " + " ".join(f'"{p}"' for p in self.path)


@dataclass(frozen=True)
class ResolvedOptions:
    string_encoding: str
    memory: "CoreItem | None"
    realloc: "CoreItem | None"
    post_return: "CoreItem | None"


@dataclass(frozen=True, eq=False)
class Lowering:
    """A core function made by `canon lower` of a component function."""

    index: int  # into graph.lowerings
    func: "FuncValue"
    options: ResolvedOptions


@dataclass(frozen=True, eq=False)
class Lift:
    """A component function made by `canon lift` of a core function."""

    index: int  # into graph.lifts
    core_func: "CoreItem"
    options: ResolvedOptions
    type: object  # the resolved function type reference


@dataclass(frozen=True)
class ResourceBuiltin:
    """`canon resource.new|drop|rep` of a resource type."""

    op: str
    resource: object


@dataclass(frozen=True, eq=False)
class InlineCoreItem:
    """A core item that is itself defined inline (only tables, globals, tags and types reach here unresolved)."""

    what: str


CoreItem = Union[CoreExportRef, Lowering, ResourceBuiltin, InlineCoreItem]
FuncValue = Union[ImportedItem, Lift]


@dataclass(eq=False)
class CoreInstanceNode:
    """One core instance of the flattened graph.

    Either a module instantiation (`module` set, `args` naming for each
    import module the core instance that satisfies it) or a bag of existing
    items (`exports` set)."""

    id: int
    path: str  # where it was defined, e.g. "component 0 > core instance 3"
    module: CoreModule | None = None
    module_path: str = ""
    interface: ModuleInterface | None = None
    args: dict[str, int] = field(default_factory=dict)
    exports: dict[str, CoreItem] = field(default_factory=dict)

    def export(self, name: str, sort: str) -> CoreItem:
        if self.module is not None:
            found = self.interface.export(name)
            if found is None or "core " + found.kind != sort:
                what = f"no {sort} export" if found is None else f"a {found.kind}, not a {sort[5:]}, as export"
                raise ComponentInvalidError(f"{self.path} ({self.module_path}) has {what} named '{name}'")
            return CoreExportRef(self.id, name, sort)
        if name not in self.exports:
            raise ComponentInvalidError(f"{self.path} has no export named '{name}'")
        return self.exports[name]


@dataclass(frozen=True, eq=False)
class ComponentInstanceValue:
    """A component instance: its exports, each (sort, value), and the types its exports are ascribed."""

    exports: dict[str, tuple[str, object]]
    path: str
    ascribed: dict[str, object] = field(default_factory=dict)  # export name -> its `(export ... (func (type t)))`


@dataclass(frozen=True)
class ImportedInstance:
    path: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class ModuleValue:
    module: CoreModule
    path: str


@dataclass(frozen=True, eq=False)
class ComponentValue:
    """A nested component definition with the scope it was defined in (for its outer aliases)."""

    component: Component
    scope: "_Scope"
    path: str


@dataclass
class InstantiationGraph:
    component: Component
    core_instances: list[CoreInstanceNode] = field(default_factory=list)
    lowerings: list[Lowering] = field(default_factory=list)
    lifts: list[Lift] = field(default_factory=list)
    exports: dict[str, tuple[str, object]] = field(default_factory=dict)
    imports: list[Import] = field(default_factory=list)
    # Where each type definition was made (id(TypeDef) -> its scope): the type indices inside a TypeDef
    # count in that scope, so aot/component/exports_wit.py resolves them there.
    type_scopes: dict[int, "_Scope"] = field(default_factory=dict, repr=False)
    ascribed: dict[str, object] = field(default_factory=dict)  # the root's ascribed export types

    def module_instances(self) -> list[CoreInstanceNode]:
        return [n for n in self.core_instances if n.module is not None]

    def describe_item(self, item: object) -> str:
        """One item as text, e.g. `core instance 2 "memory"` or `lower import "wasi:cli/exit@0.2.3" "exit"`."""
        if isinstance(item, CoreExportRef):
            return f'core instance {item.instance} "{item.name}"'
        if isinstance(item, Lowering):
            return f"lowering {item.index}"
        if isinstance(item, Lift):
            return f"lift {item.index}"
        if isinstance(item, ResourceBuiltin):
            return f"resource.{item.op}"
        if isinstance(item, ImportedItem):
            return str(item)
        if isinstance(item, ImportedInstance):
            return "import " + " ".join(f'"{p}"' for p in item.path)
        if isinstance(item, ComponentInstanceValue):
            exports = ", ".join(f'"{k}" = {self.describe_item(v)}' for k, (_, v) in item.exports.items())
            return f"{item.path} {{{exports}}}"
        if isinstance(item, ModuleValue):
            return item.path
        if isinstance(item, TypeDef):
            return f"type {type(item.type).__name__}"
        return type(item).__name__

    def describe(self) -> list[str]:
        lines = []
        for node in self.core_instances:
            if node.module is not None:
                args = ", ".join(f'"{k}" = core instance {v}' for k, v in node.args.items())
                lines.append(f"core instance {node.id} = instantiate {node.module_path}"
                             + (f" with {args}" if args else ""))
            else:
                items = ", ".join(f'"{k}" = {self.describe_item(v)}' for k, v in node.exports.items())
                lines.append(f"core instance {node.id} = {{{items}}}")
        for low in self.lowerings:
            lines.append(f"lowering {low.index} = canon lower {self.describe_item(low.func)}"
                         + _describe_options(self, low.options))
        for lift in self.lifts:
            lines.append(f"lift {lift.index} = canon lift {self.describe_item(lift.core_func)}"
                         + _describe_options(self, lift.options))
        for name, (sort, value) in self.exports.items():
            lines.append(f'export "{name}" ({sort}) = {self.describe_item(value)}')
        return lines


def _describe_options(graph: InstantiationGraph, options: ResolvedOptions) -> str:
    parts = []
    for key in ("memory", "realloc", "post_return"):
        value = getattr(options, key)
        if value is not None:
            parts.append(f"{key.replace('_', '-')}={graph.describe_item(value)}")
    if options.string_encoding != "utf8":
        parts.append(f"string-encoding={options.string_encoding}")
    return (" (" + ", ".join(parts) + ")") if parts else ""


# ---------------------------------------------------------------------------
# The replay
# ---------------------------------------------------------------------------


def instantiate(component: Component) -> InstantiationGraph:
    """Replay the root component's instantiation; its imports stay symbolic (`ImportedItem`)."""
    graph = InstantiationGraph(component=component, imports=component.imports)
    scope = _Scope(graph, component, parent=None, args=None, path="component")
    scope.run()
    graph.exports = scope.exports
    graph.ascribed = scope.ascribed
    return graph


class _Scope:
    """One component being instantiated: its index spaces and, if nested, its instantiation arguments."""

    def __init__(self, graph: InstantiationGraph, component: Component, parent: "_Scope | None",
                 args: dict[str, tuple[str, object]] | None, path: str, depth: int = 0) -> None:
        self.graph = graph
        self.component = component
        self.parent = parent
        self.args = args
        self.path = path
        self.depth = depth
        self.spaces: dict[str, list] = {sort: [] for sort in SORTS}
        self.exports: dict[str, tuple[str, object]] = {}
        self.ascribed: dict[str, object] = {}

    def get(self, sort: str, index: int, offset: int) -> object:
        space = self.spaces[sort]
        if not 0 <= index < len(space):
            raise ComponentInvalidError(f"{sort} index {index} out of range ({len(space)} defined) in {self.path}",
                                        offset=offset)
        return space[index]

    def run(self) -> None:
        handlers = {
            CoreModule: self.core_module, CoreInstantiate: self.core_instantiate,
            CoreInlineExports: self.core_inline_exports, CoreTypeDef: self.core_type, Component: self.nested,
            Instantiate: self.instantiate, InlineExports: self.inline_exports, Alias: self.alias,
            TypeDef: self.type_def, CanonLift: self.lift, CanonLower: self.lower, CanonResource: self.resource,
            Import: self.import_, Export: self.export, Start: self.unsupported, Value: self.unsupported,
        }
        for definition in self.component.definitions:
            handlers[type(definition)](definition)

    # -- core definitions ------------------------------------------------------
    def core_module(self, module: CoreModule) -> None:
        self.spaces["core module"].append(ModuleValue(module, f"{self.path} > core module {module.index}"))

    def core_instantiate(self, d: CoreInstantiate) -> None:
        module_value = self.get("core module", d.module, d.offset)
        if not isinstance(module_value, ModuleValue):
            raise ComponentUnsupportedError(f"{self.path} instantiates an imported core module, which cannot be "
                                            "unwrapped statically", offset=d.offset)
        module = module_value.module
        interface = read_interface(module.data, module.offset, module_value.path)
        node = CoreInstanceNode(id=len(self.graph.core_instances), path=self.instance_path("core instance"),
                                module=module, module_path=module_value.path, interface=interface)
        for name, index in d.args:
            instance = self.get("core instance", index, d.offset)
            node.args[name] = instance.id
        for imp in interface.imports:
            if imp.module not in node.args:
                raise ComponentInvalidError(
                    f"{node.path}: {module_value.path} imports from '{imp.module}' but no instance is given "
                    "for it", offset=d.offset)
            provider = self.graph.core_instances[node.args[imp.module]]
            provider.export(imp.name, "core " + imp.kind)  # raises when the provider lacks it
        self.add_core_instance(node)

    def core_inline_exports(self, d: CoreInlineExports) -> None:
        node = CoreInstanceNode(id=len(self.graph.core_instances), path=self.instance_path("core instance"))
        for name, sort, index in d.exports:
            node.exports[name] = self.get(sort, index, d.offset)
        self.add_core_instance(node)

    def instance_path(self, what: str) -> str:
        return f"{self.path} > {what} {len(self.spaces[what])}"

    def add_core_instance(self, node: CoreInstanceNode) -> None:
        self.graph.core_instances.append(node)
        self.spaces["core instance"].append(node)

    def core_type(self, d: CoreTypeDef) -> None:
        self.spaces["core type"].append(d)

    # -- components and instances ------------------------------------------------------
    def nested(self, component: Component) -> None:
        index = len(self.spaces["component"])
        self.spaces["component"].append(ComponentValue(component, self, f"{self.path} > component {index}"))

    def instantiate(self, d: Instantiate) -> None:
        target = self.get("component", d.component, d.offset)
        if not isinstance(target, ComponentValue):
            raise ComponentUnsupportedError(f"{self.path} instantiates an imported component, which cannot be "
                                            "unwrapped statically", offset=d.offset)
        if self.depth >= 64:
            raise ComponentUnsupportedError("component instantiations nested more than 64 deep", offset=d.offset)
        args = {name: (sort, self.get(sort, index, d.offset)) for name, sort, index in d.args}
        path = self.instance_path("instance")
        child = _Scope(self.graph, target.component, parent=target.scope, args=args,
                       path=f"{path} (of {target.path.rsplit(' > ', 1)[-1]})", depth=self.depth + 1)
        child.run()
        self.spaces["instance"].append(ComponentInstanceValue(child.exports, path, child.ascribed))

    def inline_exports(self, d: InlineExports) -> None:
        exports = {name: (sort, self.get(sort, index, d.offset)) for name, sort, index in d.exports}
        self.spaces["instance"].append(ComponentInstanceValue(exports, self.instance_path("instance")))

    def alias(self, d: Alias) -> None:
        if d.target == "outer":
            scope = self
            for _ in range(d.outer_count):
                scope = scope.parent
                if scope is None:
                    raise ComponentInvalidError(f"outer alias {d.outer_count} scopes out of {self.path}, which "
                                                "has fewer enclosing components", offset=d.offset)
            value = scope.get(d.sort, d.outer_index, d.offset)
        elif d.target == "core export":
            node = self.get("core instance", d.instance, d.offset)
            value = node.export(d.name, d.sort)
        else:
            value = self.instance_export(self.get("instance", d.instance, d.offset), d.name, d.sort, d.offset)
        self.spaces[d.sort].append(value)

    def instance_export(self, instance: object, name: str, sort: str, offset: int) -> object:
        if isinstance(instance, ImportedInstance):
            path = instance.path + (name,)
            return ImportedInstance(path) if sort == "instance" else ImportedItem(path, sort)
        if isinstance(instance, ComponentInstanceValue):
            if name not in instance.exports:
                raise ComponentInvalidError(f"{instance.path} has no export named '{name}'", offset=offset)
            found_sort, value = instance.exports[name]
            if found_sort != sort:
                raise ComponentInvalidError(f"{instance.path} exports '{name}' as a {found_sort}, not a {sort}",
                                            offset=offset)
            return value
        raise ComponentInvalidError(f"alias of export '{name}' from something that is not an instance",
                                    offset=offset)

    def type_def(self, d: TypeDef) -> None:
        self.graph.type_scopes[id(d)] = self
        self.spaces["type"].append(d)

    # -- canonical definitions ------------------------------------------------------
    def options(self, d: CanonLift | CanonLower) -> ResolvedOptions:
        o = d.options
        return ResolvedOptions(
            o.string_encoding,
            None if o.memory is None else self.get("core memory", o.memory, d.offset),
            None if o.realloc is None else self.get("core func", o.realloc, d.offset),
            None if o.post_return is None else self.get("core func", o.post_return, d.offset))

    def lift(self, d: CanonLift) -> None:
        lift = Lift(len(self.graph.lifts), self.get("core func", d.core_func, d.offset), self.options(d),
                    self.get("type", d.type, d.offset))
        self.graph.lifts.append(lift)
        self.spaces["func"].append(lift)

    def lower(self, d: CanonLower) -> None:
        lowering = Lowering(len(self.graph.lowerings), self.get("func", d.func, d.offset), self.options(d))
        self.graph.lowerings.append(lowering)
        self.spaces["core func"].append(lowering)

    def resource(self, d: CanonResource) -> None:
        self.spaces["core func"].append(ResourceBuiltin(d.op, self.get("type", d.resource, d.offset)))

    # -- imports and exports --------------------------------------------------------
    def import_(self, d: Import) -> None:
        sort = d.type.sort
        if self.args is not None:  # a nested component: the instantiation supplies it
            if d.name not in self.args:
                raise ComponentInvalidError(f"{self.path} is instantiated without its import '{d.name}'",
                                            offset=d.offset)
            given_sort, value = self.args[d.name]
            if given_sort != sort:
                raise ComponentInvalidError(f"{self.path}: import '{d.name}' wants a {sort}, given a {given_sort}",
                                            offset=d.offset)
        elif sort == "instance":
            value = ImportedInstance((d.name,))
        elif sort in ("func", "type"):
            value = ImportedItem((d.name,), sort)
        else:
            raise ComponentUnsupportedError(f"the component imports a {sort} ('{d.name}'): only instances, "
                                            "functions and types can be imported for unwrapping", offset=d.offset)
        self.spaces[sort].append(value)

    def export(self, d: Export) -> None:
        value = self.get(d.sort, d.index, d.offset)
        if d.name in self.exports:
            raise ComponentInvalidError(f"{self.path} exports '{d.name}' twice", offset=d.offset)
        self.exports[d.name] = (d.sort, value)
        if d.type is not None and d.sort == "func" and isinstance(d.type.type, int):
            self.ascribed[d.name] = self.get("type", d.type.type, d.offset)
        self.spaces[d.sort].append(value)

    def unsupported(self, d: Start | Value) -> None:  # the decoder refuses these first; kept for direct callers
        raise ComponentUnsupportedError(f"{type(d).__name__.lower()} definitions are not supported", offset=d.offset)
