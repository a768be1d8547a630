"""C names for one world's bindings: every identifier bindgen writes is chosen here, once.

The shapes are wit-bindgen's C generator's, so code written against one reads
like code written against the other:

    interface `ns:pkg/iface@v`         prefix `ns_pkg_iface` (the version is dropped)
    plain-named interface `x`          prefix `<world>_x`; world-level items: prefix `<world>`
    type `t`                           `<prefix>_t_t`; anonymous types by structure: `<world>_list_string_t`
    function `f`, `[method]r.m`...     `<prefix>_f`, `<prefix>_method_r_m`, `_static_r_s`, `_constructor_r`
    exported function                  `exports_<prefix>_f`
    resource `r`                       `<prefix>_r_t`, handles `<prefix>_own_r_t`, `<prefix>_borrow_r_t`

One world may import and export the same interface (test:all-types does).
Its records and lists are the same C types both ways, but a resource is not:
imported, the host implements it; exported, the guest does, and its handles
look different on each side.  So a type is given an `exports_` copy exactly
when it is used by an export *and* holds, somewhere inside, a handle to a
resource the guest implements (`export_copy`).  Everything else has one name.

WIT identifiers become C by lower-casing and `-` -> `_`; a C keyword, a
standard macro name (`errno`, `bool`...) or a name the generated prototypes
use themselves (`ctx`, `ret`) gets a trailing `_`.  Generated locals always end
in `_` and never collide with an escaped name, because no escaped name is in
the list of locals (`CWriter.temp`).
"""

from __future__ import annotations

from aot.errors import WitError
from aot.wit.types import (
    Alias, Borrow, Enum_, FixedList, Flags, Function, Interface, List, Map, Option_, Own, Primitive, Resource,
    Result_, Tuple, Type, TypeDef, World, WorldKey, children,
)

C_RESERVED = frozenset("""
    auto break case char const continue default do double else enum extern float for goto if inline int long
    register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while
    _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert _Thread_local
    alignas alignof bool true false static_assert thread_local noreturn
    errno assert NULL EOF stdin stdout stderr offsetof
    ctx ret
""".split())

PRIMITIVE_C = {
    Primitive.BOOL: "bool", Primitive.U8: "uint8_t", Primitive.U16: "uint16_t", Primitive.U32: "uint32_t",
    Primitive.U64: "uint64_t", Primitive.S8: "int8_t", Primitive.S16: "int16_t", Primitive.S32: "int32_t",
    Primitive.S64: "int64_t", Primitive.F32: "float", Primitive.F64: "double", Primitive.CHAR: "uint32_t",
}
CORE_C = {"i32": "int32_t", "i64": "int64_t", "f32": "float", "f64": "double"}


def snake(name: str) -> str:
    """A WIT identifier as C: `get-HTTP-thing` -> `get_http_thing`, `%stream` -> `stream`."""
    return name.lstrip("%").replace("-", "_").lower()


def c_ident(name: str) -> str:
    """A WIT name as a C identifier that no keyword, macro or generated name takes."""
    text = snake(name)
    return text + "_" if text in C_RESERVED else text


def shouty(text: str) -> str:
    return text.upper()


class CNames:
    """The C names of one world's items, for guest and host bindings alike."""

    def __init__(self, world: World, name: str, types: list[TypeDef]) -> None:
        self.world = world
        self.name = name  # the C prefix of the world's own items and of the runtime helpers
        self.exported_ifaces: set[Interface] = {i for i in world.exports.values() if isinstance(i, Interface)}
        self._iface_prefix: dict[Interface, str] = {}
        self._taken_prefixes: set[str] = set()
        for key, item in [*world.imports.items(), *world.exports.items()]:
            if isinstance(item, Interface) and item not in self._iface_prefix:
                self._iface_prefix[item] = self._unique_prefix(self._prefix_for(key, item))
        self._copy: dict[TypeDef, bool] = {}
        self._type_names: dict[tuple[TypeDef, bool], str] = {}
        self._taken_types: set[str] = set()
        for td in types:  # named in definition order, so uniquifying suffixes are stable
            self._assign(td, False)

    # --- prefixes ------------------------------------------------------------------------

    def _prefix_for(self, key: WorldKey, iface: Interface) -> str:
        if isinstance(key, str):
            return f"{self.name}_{snake(key)}"
        pkg = iface.package.name if iface.package else None
        if pkg is None or iface.name is None:
            return f"{self.name}_{snake(str(key))}"
        return f"{snake(pkg.namespace)}_{snake(pkg.name)}_{snake(iface.name)}"

    def _unique_prefix(self, base: str) -> str:
        prefix, n = base, 2
        while prefix in self._taken_prefixes:
            prefix, n = f"{base}{n}", n + 1
        self._taken_prefixes.add(prefix)
        return prefix

    def owner_prefix(self, owner: Interface | World | None) -> str:
        """The prefix of an interface's (or the world's) items."""
        if isinstance(owner, Interface):
            prefix = self._iface_prefix.get(owner)
            if prefix is None:  # an interface the world reaches only through another's types
                prefix = self._iface_prefix[owner] = self._unique_prefix(self._prefix_for(owner, owner))
            return prefix
        return self.name

    def key_prefix(self, key: WorldKey | None, export: bool) -> str:
        """Prefix of the functions of a world import or export (key None: world-level functions)."""
        base = self.name if key is None else self.owner_prefix(self._key_item(key, export))
        return "exports_" + base if export else base

    def _key_item(self, key: WorldKey, export: bool) -> Interface:
        items = self.world.exports if export else self.world.imports
        item = items[key]
        assert isinstance(item, Interface)
        return item

    # --- resources -----------------------------------------------------------------------

    def guest_implements(self, resource: TypeDef, export: bool) -> bool:
        """True when the guest implements `resource` as seen from an import (export False) or
        an export (export True): it is defined by an interface the world exports."""
        res = resource.resolved()
        assert isinstance(res, TypeDef) and isinstance(res.kind, Resource)
        return export and res.owner in self.exported_ifaces

    def resource_base(self, resource: TypeDef, export: bool) -> str:
        """`<prefix>_<r>` (or `exports_<prefix>_<r>`): the stem of a resource's C names."""
        res = resource.resolved()
        assert isinstance(res, TypeDef) and res.name is not None
        base = f"{self.owner_prefix(res.owner)}_{snake(res.name)}"
        return "exports_" + base if self.guest_implements(res, export) else base

    def resource_names(self, resource: TypeDef, export: bool) -> tuple[str, str, str]:
        """(representation struct, own handle, borrow handle) type names."""
        res = resource.resolved()
        assert isinstance(res, TypeDef) and res.name is not None
        stem = self.resource_base(res, export)
        owner = stem[: -len(snake(res.name)) - 1]
        return f"{stem}_t", f"{owner}_own_{snake(res.name)}_t", f"{owner}_borrow_{snake(res.name)}_t"

    # --- types ---------------------------------------------------------------------------

    def export_copy(self, t: Type | None, export: bool) -> bool:
        """Whether `t`, used on the `export` side, needs an `exports_` copy of its C type."""
        if not export or not isinstance(t, TypeDef):
            return False
        cached = self._copy.get(t)
        if cached is None:
            self._copy[t] = False  # types are acyclic; this only guards the recursion
            k = t.kind
            if isinstance(k, (Own, Borrow)):
                cached = self.guest_implements(k.resource, True)
            elif isinstance(k, Resource):
                cached = self.guest_implements(t, True)
            else:
                cached = any(self.export_copy(c, True) for c in children(t))
            self._copy[t] = cached
        return cached

    def ctype(self, t: Type, export: bool = False) -> str:
        """The C type of a value of WIT type `t` on the import (or export) side."""
        if isinstance(t, Primitive):
            return f"{self.name}_string_t" if t is Primitive.STRING else PRIMITIVE_C[t]
        k = t.kind
        if isinstance(k, Own):
            return self.resource_names(k.resource, export)[1]
        if isinstance(k, Borrow):
            return self.resource_names(k.resource, export)[2]
        if isinstance(k, Resource):
            return self.resource_names(t, export)[0]
        return self._assign(t, self.export_copy(t, export))

    def _assign(self, td: TypeDef, copy: bool) -> str:
        key = (td, copy)
        name = self._type_names.get(key)
        if name is not None:
            return name
        if isinstance(td.kind, (Own, Borrow, Resource)) or (isinstance(td.kind, Alias) and td.is_resource()):
            return ""  # named through their resource
        if td.name is not None:
            base = f"{self.owner_prefix(td.owner)}_{snake(td.name)}"
        else:
            base = f"{self.name}_{self.structural(td)}"
        if copy:
            base = "exports_" + base
        name, n = f"{base}_t", 2
        while name in self._taken_types:
            name, n = f"{base}{n}_t", n + 1
        self._taken_types.add(name)
        self._type_names[key] = name
        return name

    def structural(self, t: Type | None) -> str:
        """A short spelling of a type for the names of anonymous types: `list_list_string`."""
        if t is None:
            return "void"
        if isinstance(t, Primitive):
            return t.value
        if t.name is not None:
            return snake(t.name)
        k = t.kind
        if isinstance(k, List):
            return f"list_{self.structural(k.element)}"
        if isinstance(k, FixedList):
            return f"list_{self.structural(k.element)}_{k.length}"
        if isinstance(k, Map):
            return f"map_{self.structural(k.key)}_{self.structural(k.value)}"
        if isinstance(k, Option_):
            return f"option_{self.structural(k.type)}"
        if isinstance(k, Result_):
            return f"result_{self.structural(k.ok)}_{self.structural(k.err)}"
        if isinstance(k, Tuple):
            return f"tuple{len(k.types)}_" + "_".join(self.structural(e) for e in k.types)
        if isinstance(k, Own):
            return f"own_{snake(k.resource.resolved().name)}"
        if isinstance(k, Borrow):
            return f"borrow_{snake(k.resource.resolved().name)}"
        if isinstance(k, Alias):
            return self.structural(k.target)
        raise WitError(f"bindgen: no C name for {t!r}")

    def map_entry(self, map_type_name: str) -> str:
        """The C struct of one key/value pair of a map type."""
        return map_type_name[:-2] + "_entry_t"

    # --- functions -----------------------------------------------------------------------

    def func_name(self, key: WorldKey | None, func: Function, export: bool) -> str:
        prefix = self.key_prefix(key, export)
        if func.kind == "freestanding":
            return f"{prefix}_{snake(func.name)}"
        resource = snake(func.resource.name) if func.resource is not None else ""
        if func.kind == "constructor":
            return f"{prefix}_constructor_{resource}"
        return f"{prefix}_{func.kind}_{resource}_{snake(func.item_name)}"

    def case_macro(self, type_name: str, case: str) -> str:
        """`FOO_BAR_T` + `a-case` -> `FOO_BAR_A_CASE`: the constant of a variant, enum or flags case."""
        return shouty(f"{type_name[:-2]}_{snake(case)}")


def by_value(t: Type) -> bool:
    """Whether a C prototype passes `t` by value (scalars, enums, flags, handles) rather than by
    pointer: the rule for parameters and for results (returned, or written through `ret`)."""
    if isinstance(t, TypeDef) and isinstance(t.kind, Alias):
        t = t.resolved()
    if isinstance(t, Primitive):
        return t is not Primitive.STRING
    return isinstance(t.kind, (Enum_, Flags, Own, Borrow))
