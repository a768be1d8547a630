"""The in-memory form of a component: what `aot.component.decode` produces, plain dataclasses.

One dataclass per production of the binary format (`Binary.md` in the
component-model repository), with indices kept as the integers the binary
holds: resolving them against index spaces is the static instantiation's job
(`aot.component.instantiate`), not the decoder's.  Every definition keeps the
byte `offset` where it starts in the file, so later stages can say where a
problem is.

A `Component` keeps its definitions in file order (`definitions`), because
index spaces grow in that order and aliases may refer to anything defined
before them; the typed lists beside it (`core_modules`, `imports`...) are
views for callers that want one kind only.

Sorts are short strings that read like the text format: core sorts are
"core func", "core table", "core memory", "core global", "core tag",
"core type", "core module", "core instance"; component sorts are "func",
"value", "type", "component", "instance".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from aot.wasm.module import FuncType

# ---------------------------------------------------------------------------
# Core definitions (the `core` layer inside a component)
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CoreModule:
    """A core module embedded in a component, kept as its exact bytes (decoded on demand)."""

    data: bytes
    offset: int  # where the module's own `\\0asm` header starts in the component file
    index: int  # position in the enclosing component's core module index space


@dataclass(frozen=True)
class CoreInstantiate:
    """`(core instance (instantiate module (with name (instance i))*))`."""

    module: int
    args: tuple[tuple[str, int], ...]  # (import module name, core instance index)
    offset: int


@dataclass(frozen=True)
class CoreInlineExports:
    """`(core instance (export name (sort idx))*)`: an instance made of existing items."""

    exports: tuple[tuple[str, str, int], ...]  # (name, core sort, index)
    offset: int


CoreInstance = Union[CoreInstantiate, CoreInlineExports]


@dataclass(frozen=True)
class CoreImportDecl:
    """An import in a core module type: module, name and the extern type."""

    module: str
    name: str
    type: "CoreExternType"


@dataclass(frozen=True)
class CoreExternType:
    """A core extern type: `kind` is func/table/memory/global/tag; `detail` its type."""

    kind: str
    detail: object  # type index (func, tag), (elem type, Limits) (table), Limits (memory), GlobalType


@dataclass(frozen=True)
class CoreExportDecl:
    name: str
    type: CoreExternType


@dataclass(frozen=True)
class CoreOuterAlias:
    """`(alias outer ct idx (type))` inside a core module type."""

    count: int
    index: int


@dataclass(frozen=True)
class CoreModuleType:
    """`(module md*)`: the declarations of a core module's type."""

    decls: tuple[object, ...]  # CoreImportDecl | CoreTypeDef | CoreOuterAlias | CoreExportDecl


@dataclass(frozen=True)
class CoreTypeDef:
    """One core type: a function type or a module type."""

    type: Union[FuncType, CoreModuleType]
    offset: int


# ---------------------------------------------------------------------------
# Component-level types
# ---------------------------------------------------------------------------
# A value type is a primitive's name ("u32", "string"...) or a type index.
ValType = Union[str, int]


@dataclass(frozen=True)
class RecordType:
    fields: tuple[tuple[str, ValType], ...]


@dataclass(frozen=True)
class VariantType:
    cases: tuple[tuple[str, ValType | None], ...]


@dataclass(frozen=True)
class ListType:
    element: ValType
    length: int | None = None  # fixed-length lists (🔧) carry their length


@dataclass(frozen=True)
class TupleType:
    types: tuple[ValType, ...]


@dataclass(frozen=True)
class FlagsType:
    names: tuple[str, ...]


@dataclass(frozen=True)
class EnumType:
    names: tuple[str, ...]


@dataclass(frozen=True)
class OptionType:
    type: ValType


@dataclass(frozen=True)
class ResultType:
    ok: ValType | None
    error: ValType | None


@dataclass(frozen=True)
class HandleType:
    """`own` or `borrow` of a resource type index."""

    kind: str  # "own" | "borrow"
    resource: int


@dataclass(frozen=True)
class MapType:
    key: ValType
    value: ValType


@dataclass(frozen=True)
class PrimitiveType:
    """A primitive value type defined as a type of its own (`(type u32)`)."""

    name: str


@dataclass(frozen=True)
class ComponentFuncType:
    params: tuple[tuple[str, ValType], ...]
    result: ValType | None


@dataclass(frozen=True)
class ResourceType:
    """`(resource (rep i32) (dtor f)?)`: a resource the component itself defines."""

    rep: str
    destructor: int | None


@dataclass(frozen=True)
class TypeBound:
    """`(eq i)` (`resource` is None) or `(sub resource)`."""

    equals: int | None


@dataclass(frozen=True)
class ExternType:
    """What an import or export is: `sort` plus its type index or bound."""

    sort: str  # "core module" | "func" | "value" | "type" | "component" | "instance"
    type: Union[int, TypeBound, ValType, None]


@dataclass(frozen=True)
class ImportDecl:
    name: str
    type: ExternType


@dataclass(frozen=True)
class ExportDecl:
    name: str
    type: ExternType


@dataclass(frozen=True)
class ComponentTypeDecls:
    """`(component cd*)` or `(instance id*)`: `kind` says which."""

    kind: str  # "component" | "instance"
    decls: tuple[object, ...]  # CoreTypeDef | TypeDef | Alias | ImportDecl | ExportDecl


DefType = Union[PrimitiveType, RecordType, VariantType, ListType, TupleType, FlagsType, EnumType, OptionType,
                ResultType, HandleType, MapType, ComponentFuncType, ComponentTypeDecls, ResourceType]


@dataclass(frozen=True)
class TypeDef:
    type: DefType
    offset: int


# ---------------------------------------------------------------------------
# Component-level definitions
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Instantiate:
    """`(instance (instantiate component (with name (sort idx))*))`."""

    component: int
    args: tuple[tuple[str, str, int], ...]  # (name, sort, index)
    offset: int


@dataclass(frozen=True)
class InlineExports:
    """`(instance (export name (sort idx))*)`."""

    exports: tuple[tuple[str, str, int], ...]  # (name, sort, index)
    offset: int


@dataclass(frozen=True)
class Alias:
    """An alias: of an instance's export (`target` "export"/"core export") or of an outer definition."""

    sort: str
    target: str  # "export" | "core export" | "outer"
    instance: int | None = None  # export aliases: the (core) instance index
    name: str | None = None  # export aliases: the export's name
    outer_count: int | None = None  # outer aliases: how many scopes out
    outer_index: int | None = None  # outer aliases: the index in that scope
    offset: int = 0


@dataclass(frozen=True)
class CanonOptions:
    """The options of a `canon lift`/`lower`; indices are core memory / core func indices."""

    string_encoding: str = "utf8"
    memory: int | None = None
    realloc: int | None = None
    post_return: int | None = None


@dataclass(frozen=True)
class CanonLift:
    """`(canon lift core-func opts type)`: a component function from a core function."""

    core_func: int
    options: CanonOptions
    type: int
    offset: int


@dataclass(frozen=True)
class CanonLower:
    """`(canon lower func opts)`: a core function calling a component function."""

    func: int
    options: CanonOptions
    offset: int


@dataclass(frozen=True)
class CanonResource:
    """`(canon resource.new|drop|rep type)`: a core function on a resource type's handles."""

    op: str  # "new" | "drop" | "rep"
    resource: int
    offset: int


Canon = Union[CanonLift, CanonLower, CanonResource]


@dataclass(frozen=True)
class Start:
    """`(start f (value arg)* (result (value))^r)` (🪙 value-gated)."""

    func: int
    args: tuple[int, ...]
    results: int
    offset: int


@dataclass(frozen=True)
class Import:
    name: str
    type: ExternType
    offset: int


@dataclass(frozen=True)
class Export:
    name: str
    sort: str
    index: int
    type: ExternType | None
    offset: int


@dataclass(frozen=True)
class Value:
    """A value definition (🪙), kept as its type and encoded bytes."""

    type: ValType
    data: bytes
    offset: int


@dataclass(frozen=True)
class CustomSection:
    name: str
    data: bytes
    offset: int


@dataclass
class ComponentNames:
    """The `component-name` custom section: the component's own name and per-sort index names."""

    component: str | None = None
    sorts: dict[str, dict[int, str]] = field(default_factory=dict)


# Every definition that adds to an index space, in file order.
Definition = Union[CoreModule, CoreInstantiate, CoreInlineExports, CoreTypeDef, "Component", Instantiate,
                   InlineExports, Alias, TypeDef, CanonLift, CanonLower, CanonResource, Start, Import, Export,
                   Value]


@dataclass(eq=False)
class Component:
    """A decoded component: its definitions in file order, plus typed views of them."""

    offset: int  # where the component's preamble starts in the file (0 for the outermost one)
    size: int
    definitions: list = field(default_factory=list)
    custom_sections: list[CustomSection] = field(default_factory=list)
    names: ComponentNames | None = None

    def of(self, kind: type) -> list:
        """The definitions of one dataclass type, in file order."""
        return [d for d in self.definitions if isinstance(d, kind)]

    @property
    def core_modules(self) -> list[CoreModule]:
        return self.of(CoreModule)

    @property
    def components(self) -> list["Component"]:
        return self.of(Component)

    @property
    def imports(self) -> list[Import]:
        return self.of(Import)

    @property
    def exports(self) -> list[Export]:
        return self.of(Export)

    def all_core_modules(self) -> list[CoreModule]:
        """Core modules of this component and of every nested one, depth first in file order."""
        found: list[CoreModule] = []
        for d in self.definitions:
            if isinstance(d, CoreModule):
                found.append(d)
            elif isinstance(d, Component):
                found.extend(d.all_core_modules())
        return found


# The sort each definition kind adds an index to (a `Definition` with none, like `Start`, adds none
# except its results to "value").
CORE_SORTS = ("core func", "core table", "core memory", "core global", "core tag", "core type", "core module",
              "core instance")
SORTS = ("func", "value", "type", "component", "instance") + CORE_SORTS
