"""The resolved WIT model: packages, interfaces, worlds, types and functions, every name looked up.

This is what `resolve.py` builds and what everything after reads (the canonical
ABI, the core names, bindgen).  It follows wit-parser's `Resolve`:

* A `Resolve` holds every package of one load in dependency order, plus arenas
  (`interfaces`, `worlds`, `types`) listing every item in creation order.
* Items point at each other directly; objects compare and hash by identity, so
  an `Interface` or `TypeDef` is its own typed id (a dict key, a set member).
* A `Type` is a `Primitive` or a `TypeDef`.  Named types (`record point`,
  `type t = list<u8>`, a `use`d name) are TypeDefs with a name and an owner;
  anonymous ones (`list<u8>` written in a signature, the implicit `own<r>` of a
  resource named as a value) are TypeDefs with `name=None`, interned so that
  each structure exists once.  A `use` makes an `Alias` TypeDef in the using
  interface or world that points at the original, as in wit-parser, so the
  interface dependency graph stays visible.
* Worlds are elaborated: `imports`/`exports` list every interface the world
  needs, dependencies first, in wit-parser's order (interfaces, then types,
  then functions, then resource functions), keyed by the `Interface` object
  for an interface name or by a plain string for a plain name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Union

from aot.errors import WitError
from aot.wit.source import NO_SPAN, SourceMap, Span
from aot.wit.version import Version


class Primitive(str, Enum):
    BOOL = "bool"
    U8 = "u8"
    U16 = "u16"
    U32 = "u32"
    U64 = "u64"
    S8 = "s8"
    S16 = "s16"
    S32 = "s32"
    S64 = "s64"
    F32 = "f32"
    F64 = "f64"
    CHAR = "char"
    STRING = "string"

    def __str__(self) -> str:
        return self.value


Type = Union[Primitive, "TypeDef"]


@dataclass(frozen=True)
class PackageName:
    namespace: str
    name: str
    version: Version | None = None

    def __str__(self) -> str:
        text = f"{self.namespace}:{self.name}"
        return f"{text}@{self.version}" if self.version else text


@dataclass(frozen=True)
class Stability:
    """An item's gates: `@since(version=...)` or `@unstable(feature=...)`, and `@deprecated`."""

    since: Version | None = None
    unstable: str | None = None
    deprecated: Version | None = None


STABLE = Stability()


# --- type definition kinds ------------------------------------------------------------

@dataclass(eq=False)
class Field:
    name: str
    type: Type
    docs: str = ""


@dataclass(eq=False)
class Case:
    name: str
    type: Type | None = None
    docs: str = ""


@dataclass(eq=False)
class Record:
    fields: list[Field]


@dataclass(eq=False)
class Tuple:
    types: list[Type]


@dataclass(eq=False)
class Variant:
    cases: list[Case]


@dataclass(eq=False)
class Enum_:
    cases: list[Case]  # no payloads


@dataclass(eq=False)
class Flags:
    flags: list[Case]  # no payloads


@dataclass(eq=False)
class Option_:
    type: Type


@dataclass(eq=False)
class Result_:
    ok: Type | None
    err: Type | None


@dataclass(eq=False)
class List:
    element: Type


@dataclass(eq=False)
class FixedList:
    element: Type
    length: int


@dataclass(eq=False)
class Map:
    key: Type
    value: Type


@dataclass(eq=False)
class Own:
    resource: TypeDef  # the resource as named (possibly an Alias of it)


@dataclass(eq=False)
class Borrow:
    resource: TypeDef


@dataclass(eq=False)
class Resource:
    pass


@dataclass(eq=False)
class Alias:
    """`type a = b;`, `type a = u32;` or a `use`d name: another name for `target`."""

    target: Type


Kind = Union[Record, Tuple, Variant, Enum_, Flags, Option_, Result_, List, FixedList, Map, Own, Borrow,
             Resource, Alias]


@dataclass(eq=False)
class TypeDef:
    kind: Kind | None  # None only while the resolver is still filling it in
    name: str | None = None
    owner: Interface | World | None = None
    docs: str = ""
    stability: Stability = STABLE
    span: Span = NO_SPAN

    def resolved(self) -> Type:
        """The type behind any chain of aliases (`use`, `type a = b`)."""
        t: Type = self
        while isinstance(t, TypeDef) and isinstance(t.kind, Alias):
            t = t.kind.target
        return t

    def is_resource(self) -> bool:
        t = self.resolved()
        return isinstance(t, TypeDef) and isinstance(t.kind, Resource)

    def __repr__(self) -> str:
        if self.name:
            return f"<TypeDef {self.name} {type(self.kind).__name__}>"
        return f"<TypeDef {describe(self)}>"


def resolved(t: Type) -> Type:
    return t.resolved() if isinstance(t, TypeDef) else t


def describe(t: Type | None) -> str:
    """WIT spelling of a type: `list<string>`, `result<_, errno>`, `point`."""
    if t is None:
        return "_"
    if isinstance(t, Primitive):
        return t.value
    if t.name is not None:
        return t.name
    k = t.kind
    if isinstance(k, List):
        return f"list<{describe(k.element)}>"
    if isinstance(k, FixedList):
        return f"list<{describe(k.element)}, {k.length}>"
    if isinstance(k, Map):
        return f"map<{describe(k.key)}, {describe(k.value)}>"
    if isinstance(k, Option_):
        return f"option<{describe(k.type)}>"
    if isinstance(k, Result_):
        if k.ok is None and k.err is None:
            return "result"
        if k.err is None:
            return f"result<{describe(k.ok)}>"
        return f"result<{describe(k.ok)}, {describe(k.err)}>"
    if isinstance(k, Tuple):
        return f"tuple<{', '.join(describe(e) for e in k.types)}>"
    if isinstance(k, Own):
        return f"own<{k.resource.name}>"
    if isinstance(k, Borrow):
        return f"borrow<{k.resource.name}>"
    if isinstance(k, Alias):
        return describe(k.target)
    return type(k).__name__.lower().rstrip("_")


# --- functions, interfaces, worlds, packages ------------------------------------------

@dataclass(eq=False)
class Param:
    name: str
    type: Type


@dataclass(eq=False)
class Function:
    """A function as the component model names it: `f`, `[method]r.m`, `[static]r.s`, `[constructor]r`."""

    name: str
    kind: str  # "freestanding" | "method" | "static" | "constructor"
    params: list[Param]
    result: Type | None
    resource: TypeDef | None = None  # for methods, statics and constructors
    docs: str = ""
    stability: Stability = STABLE
    span: Span = NO_SPAN
    external_id: str | None = None

    @property
    def item_name(self) -> str:
        """The name as written in WIT: `read` for `[method]blob.read`, `blob` for a constructor."""
        if self.kind == "freestanding":
            return self.name
        rest = self.name.split("]", 1)[1]
        return rest.split(".", 1)[1] if "." in rest else rest


@dataclass(eq=False)
class Interface:
    name: str | None  # None for `import x: interface { ... }` and for `import x: iface` copies
    package: Package | None
    types: dict[str, TypeDef] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    docs: str = ""
    stability: Stability = STABLE
    span: Span = NO_SPAN
    implements: Interface | None = None  # `import x: iface`: the interface this copy is of

    @property
    def id(self) -> str | None:
        """The interface ID `ns:pkg/name@version`, None for an anonymous interface."""
        if self.name is None or self.package is None:
            return None
        pkg = self.package.name
        text = f"{pkg.namespace}:{pkg.name}/{self.name}"
        return f"{text}@{pkg.version}" if pkg.version else text

    def resources(self) -> list[TypeDef]:
        """The resources this interface defines (not the ones it `use`s), in order."""
        return [t for t in self.types.values() if isinstance(t.kind, Resource)]

    def __repr__(self) -> str:
        return f"<Interface {self.id or self.name or 'anonymous'}>"


WorldKey = Union[str, Interface]  # a plain name, or the interface an interface name denotes
WorldItem = Union[Interface, Function, TypeDef]


@dataclass(eq=False)
class World:
    name: str
    package: Package | None
    imports: dict[WorldKey, WorldItem] = field(default_factory=dict)
    exports: dict[WorldKey, WorldItem] = field(default_factory=dict)
    docs: str = ""
    stability: Stability = STABLE
    span: Span = NO_SPAN

    @property
    def id(self) -> str:
        pkg = self.package.name if self.package else None
        if pkg is None:
            return self.name
        text = f"{pkg.namespace}:{pkg.name}/{self.name}"
        return f"{text}@{pkg.version}" if pkg.version else text

    def __repr__(self) -> str:
        return f"<World {self.id}>"


@dataclass(eq=False)
class Package:
    name: PackageName
    interfaces: dict[str, Interface] = field(default_factory=dict)
    worlds: dict[str, World] = field(default_factory=dict)
    docs: str = ""

    def __repr__(self) -> str:
        return f"<Package {self.name}>"


def key_name(key: WorldKey) -> str:
    """The import/export name a world key stands for: the plain name or the interface ID."""
    if isinstance(key, str):
        return key
    return key.id or "<anonymous>"


@dataclass(eq=False)
class Resolve:
    """Every package of one load, in dependency order, and every item in them."""

    sources: SourceMap
    packages: list[Package] = field(default_factory=list)
    package_names: dict[PackageName, Package] = field(default_factory=dict)
    interfaces: list[Interface] = field(default_factory=list)
    worlds: list[World] = field(default_factory=list)
    types: list[TypeDef] = field(default_factory=list)
    features: frozenset[str] = frozenset()
    all_features: bool = False

    def select_world(self, main: Package | None, spec: str | None = None) -> World:
        """The world `spec` names, as wasm-tools' `--world` picks it.

        `spec` is a world of the main package (`command`), or a path `ns:pkg/world`
        (the version may be left out when only one version of the package is
        loaded), or None when the main package has exactly one world.
        """
        if spec is None:
            if main is None:
                raise WitError("no main package: name the world as `ns:pkg/world`")
            if len(main.worlds) != 1:
                names = ", ".join(main.worlds) or "none"
                raise WitError(f"package {main.name} has {len(main.worlds)} worlds ({names}): "
                               "choose one with --world")
            return next(iter(main.worlds.values()))
        if ":" not in spec:
            if main is None:
                raise WitError(f"no main package to find world `{spec}` in: name it as `ns:pkg/{spec}`")
            if spec not in main.worlds:
                raise WitError(f"world `{spec}` not found in package {main.name} "
                               f"(its worlds: {', '.join(main.worlds) or 'none'})")
            return main.worlds[spec]
        pkg_text, _, world = spec.partition("/")
        version = None
        if "@" in world:
            world, _, ver = world.partition("@")
            try:
                version = Version.parse(ver)
            except ValueError as exc:
                raise WitError(f"--world {spec}: {exc}") from None
        ns, _, name = pkg_text.partition(":")
        if not world or not name:
            raise WitError(f"--world {spec}: expected a world name or `ns:pkg/world[@version]`")
        wanted = PackageName(ns, name, version)
        pkg = self.package_names.get(wanted)
        if pkg is None and version is None:
            candidates = [p for n, p in self.package_names.items()
                          if (n.namespace, n.name) == (ns, name) and n.version is not None]
            if len(candidates) > 1:
                versions = " and ".join(str(p.name.version) for p in candidates)
                raise WitError(f"package {ns}:{name} is loaded at versions {versions}: "
                               "say which, e.g. --world {}:{}/{}@{}".format(ns, name, world,
                                                                            candidates[-1].name.version))
            pkg = candidates[0] if candidates else None
        if pkg is None:
            known = ", ".join(str(n) for n in self.package_names) or "none"
            raise WitError(f"package {wanted} not found (loaded: {known})")
        if world not in pkg.worlds:
            raise WitError(f"world `{world}` not found in package {pkg.name} "
                           f"(its worlds: {', '.join(pkg.worlds) or 'none'})")
        return pkg.worlds[world]

    def topological_types(self) -> list[TypeDef]:
        """Every TypeDef of the load, each after every type it refers to: the order in which a C
        header can define them (`Resolve.types` is in creation order, which is not that)."""
        order: list[TypeDef] = []
        placed: set[TypeDef] = set()
        for root in self.types:
            stack = [(root, iter(children(root)))]
            while stack:
                td, rest = stack[-1]
                nxt = next((c for c in rest if isinstance(c, TypeDef) and c not in placed), None)
                if nxt is None:
                    stack.pop()
                    if td not in placed:
                        placed.add(td)
                        order.append(td)
                elif all(nxt is not s[0] for s in stack):  # types are acyclic; this only guards
                    stack.append((nxt, iter(children(nxt))))
        return order

    def interface_direct_deps(self, iface: Interface) -> list[Interface]:
        """The interfaces whose types `iface` uses, in the order of its `use`d names."""
        deps: list[Interface] = []
        for t in iface.types.values():
            dep = type_interface_dep(t)
            if dep is not None and dep not in deps:
                deps.append(dep)
        return deps


def type_interface_dep(t: TypeDef) -> Interface | None:
    """The interface a `use`d type comes from, when it is not `t`'s own (wit-parser's rule)."""
    if not isinstance(t.kind, Alias) or not isinstance(t.kind.target, TypeDef):
        return None
    other = t.kind.target
    if other.owner is t.owner or not isinstance(other.owner, Interface):
        return None
    return other.owner


def describe_function(func: Function) -> str:
    """A function's WIT signature as written: `func(self: borrow<r>, n: u32) -> list<u8>`."""
    params = ", ".join(f"{p.name}: {describe(p.type)}" for p in func.params)
    result = f" -> {describe(func.result)}" if func.result is not None else ""
    return f"func({params}){result}"


def children(td: TypeDef) -> list[Type]:
    """The types a type definition refers to directly: fields, cases, elements, an alias's target,
    a handle's resource."""
    k = td.kind
    if isinstance(k, Record):
        return [f.type for f in k.fields]
    if isinstance(k, Variant):
        return [c.type for c in k.cases if c.type is not None]
    if isinstance(k, Tuple):
        return list(k.types)
    if isinstance(k, (List, FixedList)):
        return [k.element]
    if isinstance(k, Map):
        return [k.key, k.value]
    if isinstance(k, Option_):
        return [k.type]
    if isinstance(k, Result_):
        return [x for x in (k.ok, k.err) if x is not None]
    if isinstance(k, Alias):
        return [k.target]
    if isinstance(k, (Own, Borrow)):
        return [k.resource]
    return []
