"""The component decoder: bytes -> `aot.component.model.Component`, rejecting malformed input.

Table of contents:
    is_component() / is_core_module()   the preamble's layer field tells the two apart
    decode_component()                  preamble, then each section, then the deferred refusal
    _Reader.<section>()                 one method per section id (Binary.md's order: 0..12)
    _Reader.deftype() / defvaltype()    component types, nested component/instance types
    _Reader.core_type()                 core function and module types
    _Reader.canon()                     lift/lower/resource built-ins; preview-3 built-ins recorded
    _parse_component_names()            the `component-name` custom section (never fatal)

One forward pass over the whole file with an integer position; nested
components are read in place (their offsets stay file offsets), embedded core
modules are kept as their bytes and decoded only by whoever needs them.  Every
error is a `ComponentDecodeError` naming the section and the byte offset.

What the decoder refuses rather than rejects: preview-3 constructs (async
lifts and built-ins, streams, futures, error contexts, thread built-ins),
value definitions and `start` (🪙), GC core types and memory64.  They are
recorded when met and raised as one `ComponentUnsupportedError` after the
whole file has decoded, so a component that is also malformed is reported as
malformed, as the core decoder does with SIMD.
"""

from __future__ import annotations

from aot.errors import DecodeError
from aot.component.errors import ComponentDecodeError, ComponentUnsupportedError
from aot.component.model import (
    Alias,
    CanonLift,
    CanonLower,
    CanonOptions,
    CanonResource,
    Component,
    ComponentFuncType,
    ComponentNames,
    ComponentTypeDecls,
    CoreExportDecl,
    CoreExternType,
    CoreImportDecl,
    CoreInlineExports,
    CoreInstantiate,
    CoreModule,
    CoreModuleType,
    CoreOuterAlias,
    CoreTypeDef,
    CustomSection,
    EnumType,
    Export,
    ExportDecl,
    ExternType,
    FlagsType,
    HandleType,
    Import,
    ImportDecl,
    InlineExports,
    Instantiate,
    ListType,
    MapType,
    OptionType,
    PrimitiveType,
    RecordType,
    ResourceType,
    ResultType,
    Start,
    TupleType,
    TypeBound,
    TypeDef,
    Value,
    VariantType,
)
from aot.wasm import opcodes as _oc
from aot.wasm.decode import _read_sleb, _read_u32
from aot.wasm.module import FuncType, GlobalType, Limits

MAGIC = b"\x00asm"
CORE_VERSION = b"\x01\x00\x00\x00"
# version 0x0d, layer 1: the pre-standard component encoding every current tool writes.
COMPONENT_VERSION = b"\x0d\x00\x01\x00"

SECTION_NAMES = {
    0: "custom", 1: "core module", 2: "core instance", 3: "core type", 4: "component", 5: "instance",
    6: "alias", 7: "type", 8: "canon", 9: "start", 10: "import", 11: "export", 12: "value",
}

CORE_SORT_BYTES = {0x00: "core func", 0x01: "core table", 0x02: "core memory", 0x03: "core global",
                   0x04: "core tag", 0x10: "core type", 0x11: "core module", 0x12: "core instance"}
SORT_BYTES = {0x01: "func", 0x02: "value", 0x03: "type", 0x04: "component", 0x05: "instance"}
PRIMITIVE_BYTES = {0x7F: "bool", 0x7E: "s8", 0x7D: "u8", 0x7C: "s16", 0x7B: "u16", 0x7A: "s32", 0x79: "u32",
                   0x78: "s64", 0x77: "u64", 0x76: "f32", 0x75: "f64", 0x74: "char", 0x73: "string",
                   0x64: "error-context"}
STRING_ENCODINGS = {0x00: "utf8", 0x01: "utf16", 0x02: "latin1+utf16"}

# Canon built-ins beyond lift/lower/resource.*: name and the shape of their immediates, so that a
# component using them still decodes to the end (malformed beats unsupported) before it is refused.
_P3_CANON: dict[int, tuple[str, str]] = {
    0x24: ("backpressure.inc", ""), 0x25: ("backpressure.dec", ""), 0x09: ("task.return", "results opts"),
    0x05: ("task.cancel", ""), 0x0A: ("context.get", "coreval u32"), 0x0B: ("context.set", "coreval u32"),
    0x06: ("subtask.cancel", "flag"), 0x0D: ("subtask.drop", ""), 0x0E: ("stream.new", "u32"),
    0x0F: ("stream.read", "u32 opts"), 0x10: ("stream.write", "u32 opts"), 0x11: ("stream.cancel-read", "u32 flag"),
    0x12: ("stream.cancel-write", "u32 flag"), 0x13: ("stream.drop-readable", "u32"),
    0x14: ("stream.drop-writable", "u32"), 0x15: ("future.new", "u32"), 0x16: ("future.read", "u32 opts"),
    0x17: ("future.write", "u32 opts"), 0x18: ("future.cancel-read", "u32 flag"),
    0x19: ("future.cancel-write", "u32 flag"), 0x1A: ("future.drop-readable", "u32"),
    0x1B: ("future.drop-writable", "u32"), 0x1C: ("error-context.new", "opts"),
    0x1D: ("error-context.debug-message", "opts"), 0x1E: ("error-context.drop", ""),
    0x1F: ("waitable-set.new", ""), 0x20: ("waitable-set.wait", "flag u32"), 0x21: ("waitable-set.poll", "flag u32"),
    0x22: ("waitable-set.drop", ""), 0x23: ("waitable.join", ""), 0x26: ("thread.index", ""),
    0x27: ("thread.new-indirect", "u32 u32"), 0x28: ("thread.resume-later", ""), 0x29: ("thread.suspend", "flag"),
    0x0C: ("thread.yield", "flag"), 0x2A: ("thread.suspend-then-resume", "flag"),
    0x2B: ("thread.yield-then-resume", "flag"), 0x2C: ("thread.suspend-then-promote", "flag"),
    0x2D: ("thread.yield-then-promote", "flag"), 0x40: ("thread.spawn-ref", "flag u32"),
    0x41: ("thread.spawn-indirect", "flag u32 u32"), 0x42: ("thread.available-parallelism", "flag"),
}

# Nested components and types recurse; past this depth the input is refused instead of
# exhausting Python's stack (no real component nests more than a handful of levels).
MAX_NESTING = 64


def is_core_module(data: bytes) -> bool:
    return data[:8] == MAGIC + CORE_VERSION


def is_component(data: bytes) -> bool:
    """True when `data` starts with a component preamble (magic, then layer 1), whatever its version."""
    return data[:4] == MAGIC and data[6:8] == b"\x01\x00"


def decode_component(data: bytes) -> Component:
    """Decode a component binary.

    Raises ComponentDecodeError when it is malformed and
    ComponentUnsupportedError when it is well formed but uses a construct Waft
    does not unwrap (the message names it)."""
    if not isinstance(data, bytes):
        data = bytes(data)
    reader = _Reader(data)
    component = reader.component(0, len(data), depth=0)
    if reader.refusal is not None:
        message, offset, section = reader.refusal
        raise ComponentUnsupportedError(message, section=section, offset=offset)
    return component


class _Reader:
    """A cursor over the file; `section` names the section being read, for error messages."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.end = len(data)
        self.section: str | None = None
        self.refusal: tuple[str, int, str | None] | None = None  # the first unsupported construct met

    # -- primitives ---------------------------------------------------------
    def error(self, message: str, offset: int | None = None) -> ComponentDecodeError:
        return ComponentDecodeError(message, section=self.section, offset=self.pos if offset is None else offset)

    def refuse(self, what: str, offset: int) -> None:
        """Note an unsupported construct; the first one is raised once the whole file has decoded."""
        if self.refusal is None:
            self.refusal = (what, offset, self.section)

    def byte(self) -> int:
        if self.pos >= self.end:
            raise self.error("unexpected end of section")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def peek(self) -> int:
        if self.pos >= self.end:
            raise self.error("unexpected end of section")
        return self.data[self.pos]

    def u32(self) -> int:
        try:
            value, self.pos = _read_u32(self.data, self.pos, self.end)
        except DecodeError as exc:
            raise self.error(exc.message.replace("section or function", "section"), exc.offset) from None
        return value

    def u64(self) -> int:
        start, result, shift = self.pos, 0, 0
        while True:
            b = self.byte()
            if shift == 63 and b > 1:
                raise self.error("integer too large", start)
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def s33(self) -> int:
        try:
            value, self.pos = _read_sleb(self.data, self.pos, self.end, 33)
        except DecodeError as exc:
            raise self.error(exc.message.replace("section or function", "section"), exc.offset) from None
        return value

    def count(self) -> int:
        """A vector length; each element takes at least one byte, so a longer one is truncated input."""
        start = self.pos
        n = self.u32()
        if n > self.end - self.pos:
            raise self.error(f"vector of {n} elements is longer than the rest of the section", start)
        return n

    def bytes_(self, n: int) -> bytes:
        if n > self.end - self.pos:
            raise self.error("unexpected end of section")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def name(self) -> str:
        start = self.pos
        n = self.u32()
        raw = self.bytes_(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.error("malformed UTF-8 in a name", start) from None

    def flag(self, what: str) -> bool:
        start = self.pos
        b = self.byte()
        if b > 1:
            raise self.error(f"{what} must be 0x00 or 0x01, found 0x{b:02x}", start)
        return bool(b)

    def optional(self, read):
        return read() if self.flag("option flag") else None

    # -- the component and its sections ---------------------------------------
    def component(self, start: int, end: int, depth: int) -> Component:
        if depth > MAX_NESTING:
            raise self.error(f"components nested more than {MAX_NESTING} deep", start)
        self.pos, self.end = start, end
        head = self.data[start:start + 8]
        if len(head) < 8 or head[:4] != MAGIC:
            raise ComponentDecodeError("not a WebAssembly binary: no \\0asm magic", offset=start)
        if head[6:8] != b"\x01\x00":
            what = "a core module" if head[4:8] == CORE_VERSION else f"layer 0x{head[6]:02x}{head[7]:02x}"
            raise ComponentDecodeError(f"expected a component, found {what}", offset=start)
        if head[4:6] != COMPONENT_VERSION[:2]:
            raise ComponentDecodeError(
                f"component binary version 0x{head[4]:02x}{head[5]:02x} is not supported: Waft reads version "
                f"0x0d (the pre-standard encoding wasm-tools 1.2xx writes)", offset=start + 4)
        self.pos = start + 8
        component = Component(offset=start, size=end - start)
        while self.pos < end:
            self.section = None
            section_start = self.pos
            section_id = self.byte()
            if section_id not in SECTION_NAMES:
                raise self.error(f"unknown section id {section_id}", section_start)
            self.section = SECTION_NAMES[section_id]
            size = self.u32()
            if size > end - self.pos:
                raise self.error(f"section size {size} runs past the end of the component", section_start)
            body_start, body_end = self.pos, self.pos + size
            self.end = body_end
            if section_id == 1:
                component.definitions.append(self.core_module(body_start, body_end, component))
            elif section_id == 4:
                section = self.section
                nested = self.component(body_start, body_end, depth + 1)
                self.section = section
                component.definitions.append(nested)
                self.pos = body_end
            elif section_id == 0:
                self.custom_section(component, section_start)
            elif section_id == 9:
                component.definitions.append(self.start(section_start))
            else:
                read = {2: self.core_instance, 3: lambda: self.core_type(depth), 5: self.instance,
                        6: self.alias, 7: lambda: self.typedef(depth), 8: self.canon, 10: self.import_,
                        11: self.export, 12: self.value}[section_id]
                for _ in range(self.count()):
                    component.definitions.append(read())
            if self.pos != body_end:
                raise self.error(f"section size mismatch: {body_end - self.pos} bytes left unread", self.pos)
            self.end = end
        self.section = None
        return component

    def core_module(self, start: int, end: int, component: Component) -> CoreModule:
        data = self.data[start:end]
        if data[:4] != MAGIC or data[4:8] != CORE_VERSION:
            raise self.error("a core module section must hold a core module (\\0asm, version 1)", start)
        self.pos = end
        index = len(component.core_modules)
        return CoreModule(data=data, offset=start, index=index)

    def custom_section(self, component: Component, section_start: int) -> None:
        name = self.name()
        data = self.bytes_(self.end - self.pos)
        component.custom_sections.append(CustomSection(name, data, section_start))
        if name == "component-name":
            component.names = _parse_component_names(data)

    def core_sort(self) -> str:
        start = self.pos
        b = self.byte()
        if b not in CORE_SORT_BYTES:
            raise self.error(f"unknown core sort 0x{b:02x}", start)
        return CORE_SORT_BYTES[b]

    def sort(self) -> str:
        start = self.pos
        b = self.byte()
        if b == 0x00:
            return self.core_sort()
        if b not in SORT_BYTES:
            raise self.error(f"unknown sort 0x{b:02x}", start)
        if b == 0x02:
            self.refuse("value definitions (🪙, not in WASI 0.2) are not supported", start)
        return SORT_BYTES[b]

    def core_instance(self) -> CoreInstantiate | CoreInlineExports:
        start = self.pos
        tag = self.byte()
        if tag == 0x00:
            module = self.u32()
            args = []
            for _ in range(self.count()):
                name = self.name()
                sort_at = self.pos
                if self.byte() != 0x12:
                    raise self.error("a core instantiation argument must be a core instance (0x12)", sort_at)
                args.append((name, self.u32()))
            return CoreInstantiate(module, tuple(args), start)
        if tag == 0x01:
            exports = []
            for _ in range(self.count()):
                name = self.name()
                sort = self.core_sort()
                exports.append((name, sort, self.u32()))
            return CoreInlineExports(tuple(exports), start)
        raise self.error(f"unknown core instance form 0x{tag:02x}", start)

    def instance(self) -> Instantiate | InlineExports:
        start = self.pos
        tag = self.byte()
        if tag == 0x00:
            component = self.u32()
            args = []
            for _ in range(self.count()):
                name = self.name()
                sort = self.sort()
                args.append((name, sort, self.u32()))
            return Instantiate(component, tuple(args), start)
        if tag == 0x01:
            exports = []
            for _ in range(self.count()):
                name = self.extern_name()
                sort = self.sort()
                exports.append((name, sort, self.u32()))
            return InlineExports(tuple(exports), start)
        raise self.error(f"unknown instance form 0x{tag:02x}", start)

    def alias(self) -> Alias:
        start = self.pos
        sort = self.sort()
        tag = self.byte()
        if tag == 0x00:
            return Alias(sort, "export", instance=self.u32(), name=self.name(), offset=start)
        if tag == 0x01:
            return Alias(sort, "core export", instance=self.u32(), name=self.name(), offset=start)
        if tag == 0x02:
            if sort not in ("type", "core type", "core module", "component"):
                raise self.error(f"an outer alias cannot alias a {sort}", start)
            return Alias(sort, "outer", outer_count=self.u32(), outer_index=self.u32(), offset=start)
        raise self.error(f"unknown alias target 0x{tag:02x}", self.pos - 1)

    def extern_name(self) -> str:
        """`nameattributes`: the name; attributes (implements, versionsuffix, external-id) are read and dropped."""
        start = self.pos
        tag = self.byte()
        if tag not in (0x00, 0x01, 0x02):
            raise self.error(f"unknown import/export name form 0x{tag:02x}", start)
        name = self.name()
        if tag == 0x02:
            for _ in range(self.count()):
                kind_at = self.pos
                kind = self.byte()
                if kind not in (0x00, 0x01, 0x02):
                    raise self.error(f"unknown name attribute 0x{kind:02x}", kind_at)
                self.name()
        return name

    def extern_type(self) -> ExternType:
        start = self.pos
        tag = self.byte()
        if tag == 0x00:
            if self.byte() != 0x11:
                raise self.error("a core extern type must be a core module (0x00 0x11)", start)
            return ExternType("core module", self.u32())
        if tag == 0x01:
            return ExternType("func", self.u32())
        if tag == 0x02:
            self.refuse("value imports and exports (🪙, not in WASI 0.2) are not supported", start)
            bound_tag = self.byte()
            if bound_tag == 0x00:
                return ExternType("value", TypeBound(self.u32()))
            if bound_tag == 0x01:
                return ExternType("value", self.valtype())
            raise self.error(f"unknown value bound 0x{bound_tag:02x}", self.pos - 1)
        if tag == 0x03:
            bound_tag = self.byte()
            if bound_tag == 0x00:
                return ExternType("type", TypeBound(self.u32()))
            if bound_tag == 0x01:
                return ExternType("type", TypeBound(None))
            raise self.error(f"unknown type bound 0x{bound_tag:02x}", self.pos - 1)
        if tag == 0x04:
            return ExternType("component", self.u32())
        if tag == 0x05:
            return ExternType("instance", self.u32())
        raise self.error(f"unknown extern type 0x{tag:02x}", start)

    def import_(self) -> Import:
        start = self.pos
        name = self.extern_name()
        return Import(name, self.extern_type(), start)

    def export(self) -> Export:
        start = self.pos
        name = self.extern_name()
        sort = self.sort()
        index = self.u32()
        return Export(name, sort, index, self.optional(self.extern_type), start)

    def start(self, section_start: int) -> Start:
        self.refuse("a start function (🪙 value-gated) is not supported", section_start)
        start = self.pos
        func = self.u32()
        args = tuple(self.u32() for _ in range(self.count()))
        return Start(func, args, self.u32(), start)

    def value(self) -> Value:
        start = self.pos
        self.refuse("value definitions (🪙, not in WASI 0.2) are not supported", start)
        valtype = self.valtype()
        return Value(valtype, self.bytes_(self.u32()), start)

    # -- component types --------------------------------------------------------
    def valtype(self):
        start = self.pos
        b = self.peek()
        if b in PRIMITIVE_BYTES:
            self.pos += 1
            if b == 0x64:
                self.refuse("error-context (preview 3) is not supported", start)
            return PRIMITIVE_BYTES[b]
        index = self.s33()
        if index < 0:
            raise self.error(f"unknown value type 0x{b:02x}", start)
        return index

    def label(self) -> str:
        name = self.name()
        if not name:
            raise self.error("empty label", self.pos - 1)
        return name

    def typedef(self, depth: int) -> TypeDef:
        start = self.pos
        return TypeDef(self.deftype(depth), start)

    def deftype(self, depth: int):
        start = self.pos
        b = self.peek()
        if b in (0x40, 0x43):
            self.pos += 1
            if b == 0x43:
                self.refuse("async function types (preview 3) are not supported", start)
            params = tuple((self.label(), self.valtype()) for _ in range(self.count()))
            return ComponentFuncType(params, self.result_list())
        if b in (0x41, 0x42):
            self.pos += 1
            if depth >= MAX_NESTING:
                raise self.error(f"types nested more than {MAX_NESTING} deep", start)
            kind = "component" if b == 0x41 else "instance"
            return ComponentTypeDecls(kind, tuple(self.type_decl(kind, depth + 1) for _ in range(self.count())))
        if b == 0x3F:
            self.pos += 1
            rep_at = self.pos
            rep = self.byte()
            if rep not in _oc.VALTYPE_BYTES:
                raise self.error(f"unknown resource representation 0x{rep:02x}", rep_at)
            return ResourceType(_oc.VALTYPE_BYTES[rep], self.optional(self.u32))
        return self.defvaltype()

    def result_list(self):
        start = self.pos
        tag = self.byte()
        if tag == 0x00:
            return self.valtype()
        if tag == 0x01 and self.byte() == 0x00:
            return None
        raise self.error("malformed function result list", start)

    def defvaltype(self):
        start = self.pos
        b = self.byte()
        if b in PRIMITIVE_BYTES:
            if b == 0x64:
                self.refuse("error-context (preview 3) is not supported", start)
            return PrimitiveType(PRIMITIVE_BYTES[b])
        if b == 0x72:
            return RecordType(tuple((self.label(), self.valtype()) for _ in range(self.count())))
        if b == 0x71:
            cases = []
            for _ in range(self.count()):
                label, case_type = self.label(), self.optional(self.valtype)
                if self.byte() != 0x00:
                    raise self.error("a variant case must end with 0x00", self.pos - 1)
                cases.append((label, case_type))
            return VariantType(tuple(cases))
        if b == 0x70:
            return ListType(self.valtype())
        if b == 0x67:
            return ListType(self.valtype(), self.u32())
        if b == 0x6F:
            return TupleType(tuple(self.valtype() for _ in range(self.count())))
        if b == 0x6E:
            return FlagsType(tuple(self.label() for _ in range(self.count())))
        if b == 0x6D:
            return EnumType(tuple(self.label() for _ in range(self.count())))
        if b == 0x6B:
            return OptionType(self.valtype())
        if b == 0x6A:
            return ResultType(self.optional(self.valtype), self.optional(self.valtype))
        if b in (0x69, 0x68):
            return HandleType("own" if b == 0x69 else "borrow", self.u32())
        if b in (0x66, 0x65):
            self.refuse(f"{'stream' if b == 0x66 else 'future'} types (preview 3) are not supported", start)
            return OptionType(self.optional(self.valtype))  # kept only until the refusal is raised
        if b == 0x63:
            return MapType(self.valtype(), self.valtype())
        raise self.error(f"unknown type 0x{b:02x}", start)

    def type_decl(self, kind: str, depth: int):
        """One declaration of a component type (`kind` "component") or an instance type."""
        start = self.pos
        tag = self.byte()
        if tag == 0x00:
            return self.core_type(depth)
        if tag == 0x01:
            return TypeDef(self.deftype(depth), start)
        if tag == 0x02:
            return self.alias()
        if tag == 0x03 and kind == "component":
            return ImportDecl(self.extern_name(), self.extern_type())
        if tag == 0x04:
            return ExportDecl(self.extern_name(), self.extern_type())
        raise self.error(f"unknown {kind} type declaration 0x{tag:02x}", start)

    # -- core types ------------------------------------------------------------------
    def core_type(self, depth: int) -> CoreTypeDef:
        start = self.pos
        b = self.byte()
        if b == 0x60:
            return CoreTypeDef(self.core_functype(), start)
        if b == 0x50:
            if depth >= MAX_NESTING:
                raise self.error(f"types nested more than {MAX_NESTING} deep", start)
            decls = tuple(self.core_module_decl(depth + 1) for _ in range(self.count()))
            return CoreTypeDef(CoreModuleType(decls), start)
        if b in (0x4E, 0x4F, 0x00, 0x5F, 0x5E):
            raise self.error_or_refuse_gc(start)
        raise self.error(f"unknown core type 0x{b:02x}", start)

    def error_or_refuse_gc(self, start: int) -> ComponentUnsupportedError:
        # GC types have a recursive grammar of their own that Waft does not compile anyway:
        # refuse at once (the rest of the file cannot be read without decoding them).
        return ComponentUnsupportedError("core GC types (rec/sub/struct/array) are not supported",
                                         section=self.section, offset=start)

    def core_valtype(self) -> str:
        start = self.pos
        b = self.byte()
        if b in _oc.VALTYPE_BYTES:
            return _oc.VALTYPE_BYTES[b]
        if b in _oc.REFTYPE_BYTES:
            return _oc.REFTYPE_BYTES[b]
        if b in (0x63, 0x64, 0x6E, 0x6D, 0x6B, 0x6A, 0x6C, 0x69, 0x71, 0x72, 0x73, 0x74):
            raise ComponentUnsupportedError("core GC reference types are not supported", section=self.section,
                                            offset=start)
        raise self.error(f"unknown core value type 0x{b:02x}", start)

    def core_functype(self) -> FuncType:
        params = tuple(self.core_valtype() for _ in range(self.count()))
        results = tuple(self.core_valtype() for _ in range(self.count()))
        return FuncType(params, results)

    def core_module_decl(self, depth: int):
        start = self.pos
        tag = self.byte()
        if tag == 0x00:
            return CoreImportDecl(self.name(), self.name(), self.core_extern_type())
        if tag == 0x01:
            return self.core_type(depth)
        if tag == 0x02:
            if self.byte() != 0x10 or self.byte() != 0x01:
                raise self.error("a module type alias must be an outer type alias (0x10 0x01)", start + 1)
            return CoreOuterAlias(self.u32(), self.u32())
        if tag == 0x03:
            return CoreExportDecl(self.name(), self.core_extern_type())
        raise self.error(f"unknown module type declaration 0x{tag:02x}", start)

    def core_extern_type(self) -> CoreExternType:
        start = self.pos
        tag = self.byte()
        if tag == 0x00:
            return CoreExternType("func", self.u32())
        if tag == 0x01:
            elem = self.core_valtype()
            return CoreExternType("table", (elem, self.limits(memory=False)))
        if tag == 0x02:
            return CoreExternType("memory", self.limits(memory=True))
        if tag == 0x03:
            valtype = self.core_valtype()
            return CoreExternType("global", GlobalType(valtype, self.flag("global mutability")))
        if tag == 0x04:
            if self.byte() != 0x00:
                raise self.error("a tag type must start with 0x00", self.pos - 1)
            return CoreExternType("tag", self.u32())
        raise self.error(f"unknown core extern type 0x{tag:02x}", start)

    def limits(self, memory: bool) -> Limits:
        start = self.pos
        flags = self.byte()
        allowed = 0x0F if memory else 0x05
        if flags & ~allowed:
            raise self.error(f"malformed limits flags 0x{flags:02x}", start)
        if flags & 0x04:
            self.refuse("64-bit memories and tables are not supported", start)
        read = self.u64 if flags & 0x04 else self.u32
        minimum = read()
        maximum = read() if flags & 0x01 else None
        page_size_log2 = 16
        if flags & 0x08:
            page_size_log2 = self.u32()
        return Limits(minimum, maximum, page_size_log2, shared=bool(flags & 0x02))

    # -- canonical definitions ---------------------------------------------------------
    def canon(self):
        start = self.pos
        op = self.byte()
        if op == 0x00:
            self.expect_func_sort(0x00)
            core_func = self.u32()
            options = self.canon_options()
            return CanonLift(core_func, options, self.u32(), start)
        if op == 0x01:
            self.expect_func_sort(0x00)
            func = self.u32()
            return CanonLower(func, self.canon_options(), start)
        if op in (0x02, 0x03, 0x04):
            return CanonResource({0x02: "new", 0x03: "drop", 0x04: "rep"}[op], self.u32(), start)
        if op in _P3_CANON:
            name, shape = _P3_CANON[op]
            kind = "thread built-in" if name.startswith("thread.") else "preview-3 (async) built-in"
            self.refuse(f"canon {name} is a {kind}, which Waft does not unwrap", start)
            for immediate in shape.split():
                if immediate == "u32":
                    self.u32()
                elif immediate == "flag":
                    self.flag("flag")
                elif immediate == "coreval":
                    self.core_valtype()
                elif immediate == "opts":
                    self.canon_options()
                elif immediate == "results":
                    self.result_list()
            return CanonResource(name, -1, start)  # a placeholder: the refusal is raised before anyone sees it
        raise self.error(f"unknown canon opcode 0x{op:02x}", start)

    def expect_func_sort(self, expected: int) -> None:
        at = self.pos
        if self.byte() != expected:
            raise self.error("canon lift/lower must name a function (sort byte 0x00)", at)

    def canon_options(self) -> CanonOptions:
        values: dict[str, object] = {}
        for _ in range(self.count()):
            start = self.pos
            tag = self.byte()
            if tag in STRING_ENCODINGS:
                key, value = "string_encoding", STRING_ENCODINGS[tag]
            elif tag in (0x03, 0x04, 0x05):
                key, value = {0x03: "memory", 0x04: "realloc", 0x05: "post_return"}[tag], self.u32()
            elif tag == 0x06:
                self.refuse("canon option `async` (preview 3) is not supported", start)
                key, value = "async", True
            elif tag == 0x07:
                self.refuse("canon option `callback` (preview 3) is not supported", start)
                key, value = "callback", self.u32()
            else:
                raise self.error(f"unknown canon option 0x{tag:02x}", start)
            if key in values:
                raise self.error(f"canon option {key.replace('_', '-')} given twice", start)
            values[key] = value
        values.pop("async", None)
        values.pop("callback", None)
        return CanonOptions(**values)


def _parse_component_names(payload: bytes) -> ComponentNames | None:
    """The `component-name` section's names, or None when it does not parse (names are never fatal)."""
    names = ComponentNames()
    reader = _Reader(payload)
    reader.section = "custom"
    try:
        while reader.pos < len(payload):
            sub_id = reader.byte()
            size = reader.u32()
            sub_end = reader.pos + size
            if sub_end > len(payload):
                return None
            reader.end = sub_end
            if sub_id == 0:
                names.component = reader.name()
            elif sub_id == 1:
                sort = reader.sort()
                names.sorts[sort] = {reader.u32(): reader.name() for _ in range(reader.count())}
            else:
                reader.pos = sub_end
            if reader.pos != sub_end:
                return None
            reader.end = len(payload)
    except ComponentDecodeError:
        return None
    return names
