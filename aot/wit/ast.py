"""The WIT syntax tree: what one file says, before any name is looked up.

One dataclass per production of WIT.md's grammar, each with the span of the
source it came from (offsets into the load's `SourceMap`).  Nothing here is
resolved: a type written `point` is a `NamedType` that `resolve.py` will look up,
and a path `wasi:io/streams@0.2.0` is a `UsePath` naming a package that may not
have been read yet.  Doc comments are kept on the items that carry them, gates
(`@since`, `@unstable`, `@deprecated`) on everything that can be gated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from aot.wit.source import Span
from aot.wit.version import Version


@dataclass(slots=True)
class Id:
    name: str
    span: Span


@dataclass(slots=True)
class PackageName:
    namespace: Id
    name: Id
    version: Version | None
    span: Span

    def key(self) -> tuple[str, str, Version | None]:
        return (self.namespace.name, self.name.name, self.version)

    def __str__(self) -> str:
        text = f"{self.namespace.name}:{self.name.name}"
        return f"{text}@{self.version}" if self.version else text


@dataclass(frozen=True, slots=True)
class Gate:
    """The feature gates written before an item; all None when there are none."""

    since: Version | None = None
    unstable: str | None = None  # the feature name
    deprecated: Version | None = None
    span: Span = (-1, -1)


NO_GATE = Gate()


@dataclass(slots=True)
class UsePath:
    """`name` (an interface or world of this package, or a top-level `use` alias) or
    `ns:pkg/name@version` (one in another package)."""

    name: Id
    package: PackageName | None = None

    @property
    def span(self) -> Span:
        start = self.package.span[0] if self.package else self.name.span[0]
        return (start, self.name.span[1])

    def __str__(self) -> str:
        if self.package is None:
            return self.name.name
        pkg = self.package
        text = f"{pkg.namespace.name}:{pkg.name.name}/{self.name.name}"
        return f"{text}@{pkg.version}" if pkg.version else text


# --- types ------------------------------------------------------------------------------

@dataclass(slots=True)
class PrimType:
    name: str  # bool, u8..s64, f32, f64, char, string
    span: Span


@dataclass(slots=True)
class NamedType:
    name: Id


@dataclass(slots=True)
class ListType:
    element: TypeExpr
    span: Span
    length: int | None = None  # list<T, N>: a fixed-length list


@dataclass(slots=True)
class MapType:
    key: TypeExpr
    value: TypeExpr
    span: Span


@dataclass(slots=True)
class OptionType:
    element: TypeExpr
    span: Span


@dataclass(slots=True)
class ResultType:
    ok: TypeExpr | None
    err: TypeExpr | None
    span: Span


@dataclass(slots=True)
class TupleType:
    elements: list[TypeExpr]
    span: Span


@dataclass(slots=True)
class HandleType:
    kind: str  # "own" | "borrow"
    resource: Id
    span: Span


TypeExpr = Union[PrimType, NamedType, ListType, MapType, OptionType, ResultType, TupleType, HandleType]


def type_span(t: TypeExpr) -> Span:
    return t.name.span if isinstance(t, NamedType) else t.span


# --- functions --------------------------------------------------------------------------

@dataclass(slots=True)
class Param:
    name: Id
    type: TypeExpr


@dataclass(slots=True)
class FuncType:
    params: list[Param]
    result: TypeExpr | None
    span: Span


@dataclass(slots=True)
class Func:
    """`name: func(...) -> T;` in an interface, or a resource's method or static function."""

    name: Id
    type: FuncType
    docs: str = ""
    gate: Gate = NO_GATE
    external_id: str | None = None


@dataclass(slots=True)
class ResourceFunc:
    kind: str  # "method" | "static" | "constructor"
    func: Func


# --- type definitions -------------------------------------------------------------------

@dataclass(slots=True)
class Field:
    name: Id
    type: TypeExpr
    docs: str = ""


@dataclass(slots=True)
class Case:
    name: Id
    type: TypeExpr | None = None
    docs: str = ""


@dataclass(slots=True)
class RecordBody:
    fields: list[Field]


@dataclass(slots=True)
class VariantBody:
    cases: list[Case]


@dataclass(slots=True)
class EnumBody:
    cases: list[Case]  # no payloads


@dataclass(slots=True)
class FlagsBody:
    flags: list[Case]  # no payloads


@dataclass(slots=True)
class ResourceBody:
    funcs: list[ResourceFunc]


@dataclass(slots=True)
class AliasBody:
    type: TypeExpr


TypeBody = Union[RecordBody, VariantBody, EnumBody, FlagsBody, ResourceBody, AliasBody]


@dataclass(slots=True)
class TypeDef:
    name: Id
    body: TypeBody
    docs: str = ""
    gate: Gate = NO_GATE
    external_id: str | None = None
    span: Span = (-1, -1)  # the keyword that starts it: `record`, `type`...


@dataclass(slots=True)
class UseName:
    name: Id
    alias: Id | None = None

    @property
    def local(self) -> Id:
        return self.alias or self.name


@dataclass(slots=True)
class Use:
    """`use path.{a, b as c};` inside an interface or a world."""

    path: UsePath
    names: list[UseName]
    gate: Gate = NO_GATE
    span: Span = (-1, -1)
    external_id: str | None = None  # wit-parser keeps it on the aliases a world's `use` makes


# --- interfaces and worlds --------------------------------------------------------------

InterfaceItem = Union[Use, TypeDef, Func]


@dataclass(slots=True)
class Interface:
    name: Id
    items: list[InterfaceItem]
    docs: str = ""
    gate: Gate = NO_GATE


@dataclass(slots=True)
class ExternFunc:
    """`import name: func(...);`"""

    name: Id
    type: FuncType


@dataclass(slots=True)
class ExternInterface:
    """`import name: interface { ... }`"""

    name: Id
    items: list[InterfaceItem]


@dataclass(slots=True)
class ExternPath:
    """`import path;`, or with a plain name `import name: path;` (the interface under another name)."""

    path: UsePath
    name: Id | None = None


ExternKind = Union[ExternFunc, ExternInterface, ExternPath]


@dataclass(slots=True)
class Extern:
    """One `import` or `export` of a world."""

    direction: str  # "import" | "export"
    kind: ExternKind
    docs: str = ""
    gate: Gate = NO_GATE
    external_id: str | None = None
    span: Span = (-1, -1)


@dataclass(slots=True)
class Include:
    path: UsePath
    renames: list[tuple[Id, Id]]  # `with { a as b }`
    gate: Gate = NO_GATE
    span: Span = (-1, -1)


WorldItem = Union[Extern, Use, TypeDef, Include]


@dataclass(slots=True)
class World:
    name: Id
    items: list[WorldItem]
    docs: str = ""
    gate: Gate = NO_GATE


@dataclass(slots=True)
class TopUse:
    """`use path as name;` at the top of a file: a file-local name for an interface or world."""

    path: UsePath
    alias: Id | None
    gate: Gate = NO_GATE

    @property
    def local(self) -> Id:
        return self.alias or self.path.name


PackageItem = Union[Interface, World, TopUse]


@dataclass(slots=True)
class PackageBlock:
    """`package ns:name@v { ... }`: a whole package written inline in another file."""

    name: PackageName
    items: list[PackageItem]
    docs: str = ""


@dataclass(slots=True)
class File:
    path: str
    package: PackageName | None
    package_docs: str
    items: list[PackageItem] = field(default_factory=list)
    nested: list[PackageBlock] = field(default_factory=list)
