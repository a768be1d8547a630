"""Name resolution: the syntax of several packages -> one `types.Resolve`, every name looked up.

Table of contents:
    resolve_packages()        packages in dependency order (cycles and duplicates refused), twice:
                              every gated item in (a check, thrown away), then with the features
    _PackageResolver.run()    one package: its interfaces and worlds, each resolved on first use,
                              so `use` order between them needs no sorting and a cycle is caught
    ._interface_body()        `use`, type definitions (resolved on demand: a type cycle is an
                              error) and functions (resource sugar expanded) of an interface
    ._world()                 a world's own items, then its `include`s, then `_elaborate()`
    _elaborate()              wit-parser's world elaboration: every interface an import or export
                              needs, dependencies first, in wit-parser's order
    _Cloner                   copies of an interface (`import x: iface`) or of an included world's
                              own types

The rules and the order of items follow wasm-tools' wit-parser (the reference
the core names are checked against): package references match name and
version exactly; `@unstable` items are left out unless their feature is
enabled, yet checked all the same, and what they hold must be gated off with
them; `@since` needs a versioned package and may not name a later version;
names are unique within an interface (types and functions share one scope) and
within a world's imports and within its exports, case-insensitively.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aot.wit import ast
from aot.wit import types as t
from aot.wit.source import Span
from aot.wit.types import (
    Alias, Borrow, Case, Enum_, Field, FixedList, Flags, Function, Interface, List, Map, Option_, Own,
    Package, PackageName, Param, Primitive, Record, Resolve, Resource, Result_, Stability, Tuple, TypeDef,
    Variant, World, type_interface_dep,
)

MAX_FLAGS = 32
_MAP_KEYS = frozenset("u8 u16 u32 u64 s8 s16 s32 s64 char bool string".split())
_OLD_NAMES = {"float32": "f32", "float64": "f64", "expected": "result", "unit": "tuple<> (gone)",
              "handle": "own/borrow"}


@dataclass
class PackageSource:
    """One package's syntax: its name and its items, one list per file (or `package { }` block),
    because a top-level `use` names something for the rest of its own file only."""

    name: ast.PackageName
    scopes: list[list[ast.PackageItem]] = field(default_factory=list)
    docs: str = ""


def resolve_packages(resolve: Resolve, packages: list[PackageSource], main: PackageSource | None) -> Package | None:
    """Resolve `packages` into `resolve` in dependency order; the `Package` made from `main`."""
    by_name: dict[PackageName, PackageSource] = {}
    for src in packages:
        name = _package_name(src.name)
        if name in by_name:
            path, line, col = resolve.sources.location(by_name[name].name.span)
            raise resolve.sources.error(src.name.span, f"package {name} is defined twice "
                                        f"(also at {path}:{line}:{col})")
        by_name[name] = src

    order: list[PackageSource] = []
    state: dict[PackageName, str] = {}

    def visit(src: PackageSource) -> None:
        name = _package_name(src.name)
        state[name] = "visiting"
        for ref in _foreign_refs(src):
            dep = _package_name(ref)
            if dep == name or state.get(dep) == "visiting":
                raise resolve.sources.error(ref.span, f"package {dep} depends on itself")
            if dep in by_name and dep not in state:
                visit(by_name[dep])
        state[name] = "done"
        order.append(src)

    for src in packages:
        if _package_name(src.name) not in state:
            visit(src)
    # wit-parser looks up every name of a package whatever its features, and only then leaves
    # the gated items out: a mistake inside an item that is gated off is still a mistake.  A
    # first pass with every item in (into a Resolve that is thrown away) finds those.
    _resolve_in_order(_Context(Resolve(resolve.sources, all_features=True), shadow=True), order, by_name, main)
    return _resolve_in_order(_Context(resolve), order, by_name, main)


def _resolve_in_order(ctx: _Context, order: list[PackageSource], by_name: dict, main: PackageSource | None
                      ) -> Package | None:
    ctx.known = list(by_name)
    main_pkg = None
    for src in order:
        pkg = _PackageResolver(ctx, src).run()
        if src is main:
            main_pkg = pkg
    return main_pkg


def _package_name(name: ast.PackageName) -> PackageName:
    return PackageName(name.namespace.name, name.name.name, name.version)


def _foreign_refs(src: PackageSource):
    """Every `ns:pkg` a package's items name, with its span."""
    def paths_in(items):
        for item in items:
            if isinstance(item, ast.Use):
                yield item.path
            elif isinstance(item, ast.Include):
                yield item.path
            elif isinstance(item, ast.Extern):
                if isinstance(item.kind, ast.ExternPath):
                    yield item.kind.path
                elif isinstance(item.kind, ast.ExternInterface):
                    yield from paths_in(item.kind.items)

    for scope in src.scopes:
        for item in scope:
            paths = [item.path] if isinstance(item, ast.TopUse) else paths_in(item.items)
            for path in paths:
                if path.package is not None:
                    yield path.package


class _Context:
    """What one load shares across packages: the Resolve, anonymous-type interning, gated-off names."""

    def __init__(self, resolve: Resolve, shadow: bool = False) -> None:
        self.resolve = resolve
        # The first pass (see resolve_packages): every gated item in, and none of the checks
        # wit-parser makes only on the items it keeps (@since against the package version,
        # borrows in results, `include`, world elaboration).
        self.shadow = shadow
        self.sources = resolve.sources
        self.anonymous: dict[tuple, TypeDef] = {}
        # (package or interface, name) -> why it is left out, for errors that name the gate
        self.gated_off: dict[tuple[object, str], str] = {}
        self.borrow_cache: dict[TypeDef, bool] = {}
        self.known: list[PackageName] = []  # every package of the load, for "not found" messages

    def intern(self, kind) -> TypeDef:
        """The one anonymous TypeDef of this structure (`list<u8>` exists once per load)."""
        key = _kind_key(kind)
        td = self.anonymous.get(key)
        if td is None:
            td = TypeDef(kind)
            self.anonymous[key] = td
            self.resolve.types.append(td)
        return td

    def error(self, span: Span | None, message: str):
        return self.sources.error(span, message)


def _kind_key(kind) -> tuple:
    if isinstance(kind, List):
        return ("list", kind.element)
    if isinstance(kind, FixedList):
        return ("fixed-list", kind.element, kind.length)
    if isinstance(kind, Map):
        return ("map", kind.key, kind.value)
    if isinstance(kind, Option_):
        return ("option", kind.type)
    if isinstance(kind, Result_):
        return ("result", kind.ok, kind.err)
    if isinstance(kind, Tuple):
        return ("tuple", *kind.types)
    if isinstance(kind, Own):
        return ("own", kind.resource)
    if isinstance(kind, Borrow):
        return ("borrow", kind.resource)
    raise AssertionError(f"{kind!r} is not an anonymous type")


class _Scope:
    """Type names visible to a type expression: an interface's or a world's, filled on demand."""

    def __init__(self, owner: Interface | World, where: str) -> None:
        self.owner = owner
        self.where = where  # "interface `a:b/i`", for messages
        self.types: dict[str, TypeDef] = {}
        self.pending: dict[TypeDef, ast.TypeDef] = {}
        self.visiting: set[TypeDef] = set()
        self.gated_off: dict[str, str] = {}


class _PackageResolver:
    def __init__(self, ctx: _Context, src: PackageSource) -> None:
        self.ctx = ctx
        self.src = src
        self.resolve = ctx.resolve
        self.pkg = Package(_package_name(src.name), docs=src.docs)
        # name -> (node, scope index); interfaces and worlds share one namespace
        self.items: dict[str, tuple[ast.Interface | ast.World, int]] = {}
        self.top_uses: list[dict[str, ast.TopUse]] = []
        self.done: dict[str, Interface | World] = {}
        self.visiting: set[str] = set()

    def error(self, span, message: str):
        return self.ctx.error(span, message)

    # --- the package ----------------------------------------------------------------------

    def run(self) -> Package:
        self.resolve.packages.append(self.pkg)
        self.resolve.package_names[self.pkg.name] = self.pkg
        for index, scope in enumerate(self.src.scopes):
            uses: dict[str, ast.TopUse] = {}
            for item in scope:
                if isinstance(item, ast.TopUse):
                    continue
                if item.name.name in self.items:
                    raise self.error(item.name.span, f"`{item.name.name}` is defined more than once "
                                     f"in package {self.pkg.name}")
                self.items[item.name.name] = (item, index)
            self.top_uses.append(uses)
        for index, scope in enumerate(self.src.scopes):
            for item in scope:
                if not isinstance(item, ast.TopUse):
                    continue
                local = item.local
                if local.name in self.items or local.name in self.top_uses[index]:
                    raise self.error(local.span, f"`{local.name}` is already defined in package "
                                     f"{self.pkg.name}: name this `use` differently with `as`")
                if self.included(item.gate):
                    self.top_uses[index][local.name] = item
        # A top-level `use` must name something even when nothing in the file uses it.
        for index, uses in enumerate(self.top_uses):
            for use in uses.values():
                self.path_target(use.path, index)
        for scope in self.src.scopes:
            for item in scope:
                if not isinstance(item, ast.TopUse):
                    self.item(item.name.name, item.name.span)
        for scope in self.src.scopes:
            for item in scope:
                done = self.done.get(item.name.name) if not isinstance(item, ast.TopUse) else None
                if isinstance(done, Interface):
                    self.pkg.interfaces[done.name] = done
                elif isinstance(done, World):
                    self.pkg.worlds[done.name] = done
        return self.pkg

    def included(self, gate: ast.Gate) -> bool:
        """Whether an item with these gates is part of the package (wit-parser's include_stability)."""
        if self.ctx.shadow:
            return True
        if gate.since is not None:
            version = self.pkg.name.version
            if version is None:
                raise self.error(gate.span, f"package {self.pkg.name} has a @since gate, so it must have a "
                                 f"version: `package {self.pkg.name}@x.y.z;`")
            if gate.since > version:
                raise self.error(gate.span, f"@since(version = {gate.since}) is later than the package's own "
                                 f"version ({self.pkg.name})")
            return True
        if gate.unstable is not None:
            return self.resolve.all_features or gate.unstable in self.resolve.features
        return True

    def item(self, name: str, ref_span: Span) -> Interface | World | None:
        """The package item `name`, resolved now if need be; None when it is gated off."""
        if name in self.done:
            return self.done[name]
        if name in self.visiting:
            raise self.error(ref_span, f"interface or world `{name}` depends on itself")
        node, scope = self.items[name]
        if not self.included(node.gate):
            self.ctx.gated_off[(self.pkg, name)] = node.gate.unstable or ""
            self.done[name] = None
            what = "interface" if isinstance(node, ast.Interface) else "world"
            self.check_left_out(node.items, f"{what} `{self.item_id(name)}`", node.gate)
            return None
        self.visiting.add(name)
        if isinstance(node, ast.Interface):
            iface = Interface(name, self.pkg, docs=node.docs, stability=_stability(node.gate),
                              span=node.name.span)
            self.resolve.interfaces.append(iface)
            self.interface_body(iface, node.items, scope, f"interface `{iface.id}`")
            self.done[name] = iface
        else:
            self.done[name] = self.world(node, scope)
        self.visiting.discard(name)
        return self.done[name]

    # --- paths ------------------------------------------------------------------------------

    def path_target(self, path: ast.UsePath, scope: int, seen: frozenset = frozenset()) -> Interface | World:
        """What a use path names: an interface or world of this package, one a top-level `use`
        names, or one in another (already resolved) package."""
        if path.package is not None:
            name = _package_name(path.package)
            pkg = self.resolve.package_names.get(name)
            if pkg is None:
                known = ", ".join(str(n) for n in self.ctx.known) or "none"
                raise self.error(path.package.span, f"package {name} not found (loaded packages: {known}); "
                                 "dependencies go in the package's deps/ folder")
            target = pkg.interfaces.get(path.name.name) or pkg.worlds.get(path.name.name)
            if target is None:
                if (pkg, path.name.name) in self.ctx.gated_off:
                    raise self.error(path.name.span, self.gated_message(path.name.name,
                                                                        self.ctx.gated_off[(pkg, path.name.name)]))
                raise self.error(path.name.span, f"interface or world `{path.name.name}` not found in "
                                 f"package {pkg.name}")
            return target
        name = path.name.name
        use = self.top_uses[scope].get(name)
        if use is not None and name not in seen:
            return self.path_target(use.path, scope, seen | {name})
        if name not in self.items:
            raise self.error(path.name.span, f"interface or world `{name}` does not exist")
        target = self.item(name, path.name.span)
        if target is None:
            raise self.error(path.name.span, self.gated_message(name, self.ctx.gated_off[(self.pkg, name)]))
        return target

    def interface_at(self, path: ast.UsePath, scope: int, what: str) -> Interface:
        target = self.path_target(path, scope)
        if not isinstance(target, Interface):
            raise self.error(path.span, f"`{path}` is a world, but {what} takes an interface")
        return target

    def gated_message(self, name: str, feature: str) -> str:
        return (f"`{name}` is gated off: it is @unstable(feature = {feature}), which is not enabled "
                "(enable it with --features)")

    def item_id(self, name: str) -> str:
        pkg = self.pkg.name
        text = f"{pkg.namespace}:{pkg.name}/{name}"
        return f"{text}@{pkg.version}" if pkg.version else text

    def check_left_out(self, items: list, where: str, gate: ast.Gate) -> None:
        """Items of an interface or world that is gated off must be gated off too.

        WIT.md: an item contained by a gated item must be compatibly gated.  wit-parser
        enforces it where it shows: it keeps every type (a definition or a `use`) whose own
        gate lets it in, then finds its interface or world gone ("this type is not gated by a
        feature but its interface is").  Functions it drops with their interface, unchecked.
        A world's `import name: interface { ... }` gated off is an interface left out too."""
        for item in items:
            if isinstance(item, (ast.TypeDef, ast.Use)) and self.included(item.gate):
                name = item.name if isinstance(item, ast.TypeDef) else item.names[0].local
                raise self.error(name.span, f"type `{name.name}` is not gated off, but {where}, which "
                                 f"holds it, is (@unstable(feature = {gate.unstable}) is not enabled): "
                                 f"gate the type too, e.g. `@unstable(feature = {gate.unstable})`")
            if isinstance(item, ast.Extern) and isinstance(item.kind, ast.ExternInterface) \
                    and not self.included(item.gate):
                self.check_left_out(item.kind.items, f"interface `{item.kind.name.name}` of {where}", item.gate)

    def check_resource_left_out(self, node: ast.TypeDef) -> None:
        """A resource gated off takes its functions with it only if they are gated off too:
        wit-parser keeps an ungated method and then finds the resource it needs gone."""
        if not isinstance(node.body, ast.ResourceBody):
            return
        feature = node.gate.unstable
        for rf in node.body.funcs:
            if self.included(rf.func.gate):
                raise self.error(rf.func.name.span, f"`{rf.func.name.name}` of resource `{node.name.name}` is not "
                                 f"gated off, but the resource is (@unstable(feature = {feature}) is not "
                                 f"enabled): gate it too, e.g. `@unstable(feature = {feature})`")

    # --- interfaces ---------------------------------------------------------------------------

    def interface_body(self, iface: Interface, items: list[ast.InterfaceItem], scope: int, where: str) -> None:
        names = _Scope(iface, where)
        seen: dict[str, Span] = {}

        def claim(name: ast.Id) -> None:
            if name.name in seen:
                raise self.error(name.span, f"`{name.name}` is defined more than once in {where}")
            seen[name.name] = name.span

        entries: list[ast.InterfaceItem] = []
        for item in items:
            gate = item.gate
            if isinstance(item, ast.Use):
                if not self.included(gate):
                    for use_name in item.names:
                        names.gated_off[use_name.local.name] = gate.unstable or ""
                    continue
                target = self.interface_at(item.path, scope, "`use`")
                for use_name in item.names:
                    claim(use_name.local)
                    names.types[use_name.local.name] = self.use_alias(target, use_name, iface, gate)
                continue
            claim(item.name)
            if not self.included(gate):
                names.gated_off[item.name.name] = gate.unstable or ""
                if isinstance(item, ast.TypeDef):
                    self.check_resource_left_out(item)
                continue
            if isinstance(item, ast.TypeDef):
                names.types[item.name.name] = self.declare(item, iface, names)
            entries.append(item)
        iface.types = dict(names.types)
        self.define_all(names)
        for item in entries:
            if isinstance(item, ast.Func):
                self.add_function(iface.functions, self.function(item, "freestanding", None, names), item.name.span,
                                  where)
            elif isinstance(item.body, ast.ResourceBody):
                for rf in item.body.funcs:
                    if self.included(rf.func.gate):
                        fn = self.function(rf.func, rf.kind, names.types[item.name.name], names)
                        self.add_function(iface.functions, fn, rf.func.name.span, where)

    def add_function(self, table: dict[str, Function], fn: Function, span: Span, where: str) -> None:
        if fn.name in table:
            raise self.error(span, f"`{fn.name}` is defined more than once in {where}")
        table[fn.name] = fn

    def use_alias(self, target: Interface, use_name: ast.UseName, owner, gate: ast.Gate) -> TypeDef:
        name = use_name.name.name
        original = target.types.get(name)
        if original is None:
            if (target, name) in self.ctx.gated_off:
                raise self.error(use_name.name.span, self.gated_message(name, self.ctx.gated_off[(target, name)]))
            what = f"interface `{target.id}`" if target.id else "that interface"
            raise self.error(use_name.name.span, f"type `{name}` is not defined in {what}")
        td = TypeDef(Alias(original), use_name.local.name, owner, stability=_stability(gate),
                     span=use_name.local.span)
        self.resolve.types.append(td)
        return td

    def declare(self, node: ast.TypeDef, owner, names: _Scope) -> TypeDef:
        """A named type, its kind filled in later (`define`) so definitions may come in any order."""
        kind = Resource() if isinstance(node.body, ast.ResourceBody) else None
        td = TypeDef(kind, node.name.name, owner, docs=node.docs, stability=_stability(node.gate),
                     span=node.name.span)
        self.resolve.types.append(td)
        if kind is None:
            names.pending[td] = node
        return td

    def define_all(self, names: _Scope) -> None:
        for td in list(names.pending):
            if td in names.pending:
                self.define(td, names)
        # Gated-off names recorded for errors about types `use`d from here later.
        for name, feature in names.gated_off.items():
            self.ctx.gated_off[(names.owner, name)] = feature

    def define(self, td: TypeDef, names: _Scope) -> None:
        node = names.pending.pop(td)
        names.visiting.add(td)
        td.kind = self.kind(node, names)
        names.visiting.discard(td)

    def lookup(self, name: ast.Id, names: _Scope) -> TypeDef:
        td = names.types.get(name.name)
        if td is None:
            if name.name in names.gated_off:
                raise self.error(name.span, self.gated_message(name.name, names.gated_off[name.name]))
            hint = f" (`{name.name}` is the old name of {_OLD_NAMES[name.name]})" if name.name in _OLD_NAMES else ""
            raise self.error(name.span, f"type `{name.name}` does not exist in {names.where}{hint}")
        if td in names.visiting:
            raise self.error(name.span, f"type `{name.name}` depends on itself")
        if td in names.pending:
            self.define(td, names)
        return td

    def kind(self, node: ast.TypeDef, names: _Scope):
        body = node.body
        if isinstance(body, ast.AliasBody):
            expr = body.type
            if isinstance(expr, ast.PrimType):
                return Alias(Primitive(expr.name))
            if isinstance(expr, ast.NamedType):
                return Alias(self.lookup(expr.name, names))
            return self.anonymous_kind(expr, names)
        if isinstance(body, ast.RecordBody):
            self.check_members(node, body.fields, "record", "field")
            return Record([Field(f.name.name, self.type(f.type, names), f.docs) for f in body.fields])
        if isinstance(body, ast.VariantBody):
            self.check_members(node, body.cases, "variant", "case")
            return Variant([Case(c.name.name, self.type(c.type, names) if c.type else None, c.docs)
                            for c in body.cases])
        if isinstance(body, ast.EnumBody):
            self.check_members(node, body.cases, "enum", "case")
            return Enum_([Case(c.name.name, None, c.docs) for c in body.cases])
        if isinstance(body, ast.FlagsBody):
            self.check_members(node, body.flags, "flags", "flag")
            if len(body.flags) > MAX_FLAGS:
                raise self.error(node.name.span, f"flags `{node.name.name}` has {len(body.flags)} flags: "
                                 f"the canonical ABI allows at most {MAX_FLAGS}")
            return Flags([Case(c.name.name, None, c.docs) for c in body.flags])
        raise AssertionError(body)

    def check_members(self, node: ast.TypeDef, members, what: str, member: str) -> None:
        if not members:
            raise self.error(node.name.span, f"{what} `{node.name.name}` is empty: it needs at least one {member}")
        seen: set[str] = set()
        for m in members:
            folded = m.name.name.lower()
            if folded in seen:
                raise self.error(m.name.span, f"{member} `{m.name.name}` is defined more than once "
                                 f"in {what} `{node.name.name}`")
            seen.add(folded)

    def type(self, expr: ast.TypeExpr, names: _Scope) -> t.Type:
        if isinstance(expr, ast.PrimType):
            return Primitive(expr.name)
        if isinstance(expr, ast.NamedType):
            td = self.lookup(expr.name, names)
            # A resource named as a value is an owning handle (WIT.md, "Handles").
            return self.ctx.intern(Own(td)) if td.is_resource() else td
        return self.ctx.intern(self.anonymous_kind(expr, names))

    def anonymous_kind(self, expr: ast.TypeExpr, names: _Scope):
        if isinstance(expr, ast.ListType):
            element = self.type(expr.element, names)
            return FixedList(element, expr.length) if expr.length is not None else List(element)
        if isinstance(expr, ast.MapType):
            if not isinstance(expr.key, ast.PrimType) or expr.key.name not in _MAP_KEYS:
                raise self.error(ast.type_span(expr.key), "a map key is an integer, `char`, `bool` or `string`")
            return Map(self.type(expr.key, names), self.type(expr.value, names))
        if isinstance(expr, ast.OptionType):
            return Option_(self.type(expr.element, names))
        if isinstance(expr, ast.ResultType):
            return Result_(self.type(expr.ok, names) if expr.ok else None,
                           self.type(expr.err, names) if expr.err else None)
        if isinstance(expr, ast.TupleType):
            if not expr.elements:
                raise self.error(expr.span, "empty tuple: a tuple needs at least one type")
            return Tuple([self.type(e, names) for e in expr.elements])
        if isinstance(expr, ast.HandleType):
            td = self.lookup(expr.resource, names)
            if not td.is_resource():
                raise self.error(expr.resource.span, f"type `{expr.resource.name}` used in a handle must be a resource")
            return Own(td) if expr.kind == "own" else Borrow(td)
        raise AssertionError(expr)

    # --- functions -----------------------------------------------------------------------------

    def function(self, node: ast.Func, kind: str, resource: TypeDef | None, names: _Scope) -> Function:
        params: list[Param] = []
        if kind == "method":
            params.append(Param("self", self.ctx.intern(Borrow(resource))))
        for p in node.type.params:
            if any(q.name.lower() == p.name.name.lower() for q in params):
                raise self.error(p.name.span, f"parameter `{p.name.name}` is defined more than once")
            params.append(Param(p.name.name, self.type(p.type, names)))
        result = self.type(node.type.result, names) if node.type.result is not None else None
        if kind == "freestanding":
            name = node.name.name
        elif kind == "constructor":
            name = f"[constructor]{resource.name}"
            own = self.ctx.intern(Own(resource))
            if result is None:
                result = own
            elif not (isinstance(result, TypeDef) and isinstance(result.kind, Result_) and result.kind.ok is own):
                raise self.error(t_span(node.type.result), f"a constructor's declared return type must be "
                                 f"`result<{resource.name}, E>` (or leave it out: `{resource.name}`)")
        else:
            name = f"[{kind}]{resource.name}.{node.name.name}"
        if result is not None and not self.ctx.shadow and self.contains_borrow(result):
            raise self.error(node.name.span, f"function `{node.name.name}` returns a type which contains a "
                             "`borrow<T>`, which is not allowed: return an owned handle")
        return Function(name, kind, params, result, resource, node.docs, _stability(node.gate),
                        node.name.span, node.external_id)

    def contains_borrow(self, ty: t.Type) -> bool:
        if not isinstance(ty, TypeDef):
            return False
        cache = self.ctx.borrow_cache
        if ty not in cache:
            cache[ty] = False  # types are acyclic; this only stops revisits
            cache[ty] = any(self.contains_borrow(u) for u in t.children(ty)) or isinstance(ty.kind, Borrow)
        return cache[ty]

    # --- worlds ------------------------------------------------------------------------------

    def world(self, node: ast.World, scope: int) -> World:
        world = World(node.name.name, self.pkg, docs=node.docs, stability=_stability(node.gate),
                      span=node.name.span)
        self.resolve.worlds.append(world)
        where = f"world `{world.id}`"
        names = _Scope(world, where)
        folded = {"imports": {}, "exports": {}}

        def claim(direction: str, name: ast.Id) -> None:
            table = world.imports if direction == "imports" else world.exports
            if name.name in table:
                raise self.error(name.span, f"{direction[:-1]} `{name.name}` conflicts with an earlier "
                                 f"{direction[:-1]} of the same name in {where}")
            prior = folded[direction].get(name.name.lower())
            if prior is not None:
                raise self.error(name.span, f"name `{name.name}` conflicts with previous name `{prior}` "
                                 "(WIT names are case-insensitive)")
            folded[direction][name.name.lower()] = name.name

        typedefs: list[ast.TypeDef] = []
        externs: list[ast.Extern] = []
        includes: list[ast.Include] = []
        for item in node.items:
            if not self.included(item.gate):
                # A type of its own left out leaves nothing behind (WIT.md lets every world item
                # be gated); wit-parser 1.262 refuses one, which we take for its quirk
                # (docs/fuzzing.md).  Its contents must be gated off with it, though.
                if isinstance(item, ast.TypeDef):
                    self.check_resource_left_out(item)
                elif isinstance(item, ast.Extern) and isinstance(item.kind, ast.ExternInterface):
                    self.check_left_out(item.kind.items, f"interface `{item.kind.name.name}` of {where}", item.gate)
                continue
            if isinstance(item, ast.Use):
                target = self.interface_at(item.path, scope, "`use`")
                for use_name in item.names:
                    claim("imports", use_name.local)
                    td = self.use_alias(target, use_name, world, item.gate)
                    names.types[use_name.local.name] = td
                    world.imports[use_name.local.name] = td
            elif isinstance(item, ast.TypeDef):
                claim("imports", item.name)
                td = self.declare(item, world, names)
                names.types[item.name.name] = td
                world.imports[item.name.name] = td
                typedefs.append(item)
            elif isinstance(item, ast.Extern):
                externs.append(item)
            else:
                includes.append(item)
        self.define_all(names)
        for item in typedefs:
            if isinstance(item.body, ast.ResourceBody):
                for rf in item.body.funcs:
                    if self.included(rf.func.gate):
                        fn = self.function(rf.func, rf.kind, names.types[item.name.name], names)
                        self.add_function(world.imports, fn, rf.func.name.span, where)
        for item in externs:
            direction = "imports" if item.direction == "import" else "exports"
            table = world.imports if direction == "imports" else world.exports
            kind = item.kind
            if isinstance(kind, ast.ExternFunc):
                claim(direction, kind.name)
                func_node = ast.Func(kind.name, kind.type, item.docs, item.gate, item.external_id)
                table[kind.name.name] = self.function(func_node, "freestanding", None, names)
            elif isinstance(kind, ast.ExternInterface):
                claim(direction, kind.name)
                iface = Interface(None, self.pkg, docs=item.docs, stability=_stability(item.gate),
                                  span=kind.name.span)
                self.resolve.interfaces.append(iface)
                self.interface_body(iface, kind.items, scope, f"interface `{kind.name.name}` of {where}")
                table[kind.name.name] = iface
            elif kind.name is not None:
                claim(direction, kind.name)
                target = self.interface_at(kind.path, scope, f"`{item.direction}`")
                copy = _Cloner(self.ctx).interface(target)
                copy.docs = item.docs or copy.docs
                table[kind.name.name] = copy
            else:
                target = self.interface_at(kind.path, scope, f"`{item.direction}`")
                if target in table:
                    raise self.error(kind.path.span, f"interface `{target.id}` is {item.direction}ed more than "
                                     f"once in {where}")
                table[target] = target
        if self.ctx.shadow:
            # wit-parser finds the world an `include` names whatever its features, and merges
            # and elaborates only the worlds it keeps.
            for inc in includes:
                self.include_target(inc, scope)
            return world
        for inc in includes:
            self.include(world, inc, scope)
        _check_folded_names(self.ctx, world, includes)
        try:
            _elaborate(self.resolve, world)
        except _ElaborationError as exc:
            raise self.error(node.name.span, str(exc)) from None
        return world

    def include_target(self, inc: ast.Include, scope: int) -> World:
        target = self.path_target(inc.path, scope)
        if not isinstance(target, World):
            raise self.error(inc.path.span, f"`{inc.path}` is an interface, but `include` takes a world")
        return target

    def include(self, world: World, inc: ast.Include, scope: int) -> None:
        target = self.include_target(inc, scope)
        renames = {old.name: new.name for old, new in inc.renames}
        used: set[str] = set()

        def renamed(name: str) -> str:
            for old, new in renames.items():
                out = _rename(name, old, new)
                if out is not None:
                    used.add(old)
                    return out
            return name

        cloner = _Cloner(self.ctx)
        for direction in ("imports", "exports"):
            for key, item in getattr(target, direction).items():
                if isinstance(key, str) and isinstance(item, TypeDef):
                    cloner.mapping[item] = TypeDef(None, renamed(key), world, item.docs, item.stability, item.span)
        for old, new in list(cloner.mapping.items()):
            new.kind = cloner.kind(old.kind)
            self.resolve.types.append(new)
        for direction in ("imports", "exports"):
            dest = getattr(world, direction)
            for key, item in getattr(target, direction).items():
                if not isinstance(key, str):
                    dest.setdefault(key, item)
                    continue
                name = renamed(key)
                if isinstance(item, Function):
                    item = cloner.function(item, name)
                elif isinstance(item, TypeDef):
                    item = cloner.mapping[item]
                if name in dest:
                    raise self.error(inc.span, f"{direction[:-1]} of `{name}` from world `{target.name}` shadows "
                                     f"an earlier {direction[:-1]} of the same name (rename it: "
                                     f"`include {inc.path} with {{ {name} as other-name }}`)")
                dest[name] = item
        for old, _new in inc.renames:
            if old.name not in used:
                raise self.error(old.span, f"world `{target.name}` has no import or export named `{old.name}` "
                                 "(`with` renames plain names; an interface name cannot be renamed)")


def t_span(expr: ast.TypeExpr | None) -> Span | None:
    return ast.type_span(expr) if expr is not None else None


def _stability(gate: ast.Gate) -> Stability:
    if gate is ast.NO_GATE:
        return t.STABLE
    return Stability(gate.since, gate.unstable, gate.deprecated)


def _rename(name: str, old: str, new: str) -> str | None:
    """`with { old as new }` applied to an item name, resource function names included
    (`[method]old.m` -> `[method]new.m`); None when it does not apply (wit-parser's rule)."""
    if name == old:
        return new
    if "]" not in name:
        return None
    kind, rest = name.split("]", 1)
    head, dot, tail = rest.partition(".")
    if dot and head == old:
        return f"{kind}]{new}.{tail}"
    if not dot and rest == old:
        return f"{kind}]{new}"
    return None


def _check_folded_names(ctx: _Context, world: World, includes: list[ast.Include]) -> None:
    """Names an `include` brought in must not clash case-insensitively with others."""
    if not includes:
        return
    for direction in ("imports", "exports"):
        seen: dict[str, str] = {}
        for key in getattr(world, direction):
            if not isinstance(key, str):
                continue
            prior = seen.get(key.lower())
            if prior is not None and prior != key:
                raise ctx.error(includes[-1].span, f"{direction[:-1]} `{key}` conflicts with {direction[:-1]} "
                                f"`{prior}` of world `{world.name}` (WIT names are case-insensitive)")
            seen[key.lower()] = key


class _Cloner:
    """Copies of types with some named TypeDefs replaced (`mapping`), anonymous ones re-interned."""

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.mapping: dict[TypeDef, TypeDef] = {}

    def interface(self, src: Interface) -> Interface:
        """A private copy of `src` for `import name: src`: its own resources, its `use`s shared."""
        copy = Interface(None, src.package, docs=src.docs, stability=src.stability, span=src.span,
                         implements=src.implements or src)
        self.ctx.resolve.interfaces.append(copy)
        for name, td in src.types.items():
            self.mapping[td] = TypeDef(None, name, copy, td.docs, td.stability, td.span)
        for old, new in self.mapping.items():
            new.kind = self.kind(old.kind)
            self.ctx.resolve.types.append(new)
        copy.types = {name: self.mapping[td] for name, td in src.types.items()}
        copy.functions = {name: self.function(fn, name) for name, fn in src.functions.items()}
        return copy

    def type(self, ty: t.Type | None) -> t.Type | None:
        if not isinstance(ty, TypeDef):
            return ty
        if ty in self.mapping:
            return self.mapping[ty]
        if ty.name is None:
            kind = self.kind(ty.kind)
            return self.ctx.intern(kind)
        return ty

    def kind(self, k):
        if isinstance(k, Alias):
            return Alias(self.type(k.target))
        if isinstance(k, Record):
            return Record([Field(f.name, self.type(f.type), f.docs) for f in k.fields])
        if isinstance(k, Variant):
            return Variant([Case(c.name, self.type(c.type), c.docs) for c in k.cases])
        if isinstance(k, Tuple):
            return Tuple([self.type(x) for x in k.types])
        if isinstance(k, List):
            return List(self.type(k.element))
        if isinstance(k, FixedList):
            return FixedList(self.type(k.element), k.length)
        if isinstance(k, Map):
            return Map(self.type(k.key), self.type(k.value))
        if isinstance(k, Option_):
            return Option_(self.type(k.type))
        if isinstance(k, Result_):
            return Result_(self.type(k.ok), self.type(k.err))
        if isinstance(k, Own):
            return Own(self.type(k.resource))
        if isinstance(k, Borrow):
            return Borrow(self.type(k.resource))
        return k  # Resource, Enum_, Flags: nothing inside to remap

    def function(self, fn: Function, name: str) -> Function:
        return Function(name, fn.kind, [Param(p.name, self.type(p.type)) for p in fn.params],
                        self.type(fn.result), self.type(fn.resource), fn.docs, fn.stability, fn.span,
                        fn.external_id)


class _ElaborationError(Exception):
    pass


def _sort_class(item) -> int:
    """wit-parser's order of world items: interfaces, `use`d types, own types, functions,
    resource functions."""
    if isinstance(item, Interface):
        return 0
    if isinstance(item, TypeDef):
        k = item.kind
        if isinstance(k, Alias) and isinstance(k.target, TypeDef) and k.target.owner is not item.owner:
            return 1
        return 2
    return 3 if item.kind == "freestanding" else 4


def _elaborate(resolve: Resolve, world: World) -> None:
    """Add every interface the world's items need, dependencies first (wit-parser's elaborate_world)."""
    imports: dict = {}

    def add_import(key, iface: Interface) -> None:
        if key in imports:
            return
        for dep in resolve.interface_direct_deps(iface):
            add_import(dep, dep)
        imports[key] = iface

    for key, item in sorted(world.imports.items(), key=lambda kv: _sort_class(kv[1])):
        if isinstance(item, Interface):
            add_import(key, item)
        elif isinstance(item, Function):
            imports[key] = item
        else:
            dep = type_interface_dep(item)
            if dep is not None:
                add_import(dep, dep)
            imports[key] = item

    exports: dict = {}
    export_ifaces: dict[Interface, object] = {}
    for key, item in world.exports.items():
        if isinstance(item, Interface):
            export_ifaces[item] = key
        else:
            exports[key] = item
    required: set[Interface] = set()

    def add_export(iface: Interface, key, as_export: bool) -> bool:
        if key in exports:
            return as_export
        if not as_export and iface in required:
            return True
        for dep in resolve.interface_direct_deps(iface):
            if not add_export(dep, dep, as_export and dep in export_ifaces):
                return False
        if as_export:
            if iface in required:
                return False
            exports[key] = iface
        else:
            required.add(iface)
            imports[key] = iface
        return True

    for iface, key in export_ifaces.items():
        if not add_export(iface, key, True):
            name = t.key_name(key)
            raise _ElaborationError(f"world `{world.name}` cannot export `{name}`: it depends on an interface "
                                    "that the world must import (another export or import uses it too); "
                                    "export that interface as well, or import it everywhere")
    world.imports = dict(sorted(imports.items(), key=lambda kv: _sort_class(kv[1])))
    world.exports = exports
