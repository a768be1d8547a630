"""Host side: moving values between native C and the guest's linear memory, every access checked.

The guest's memory is `ctx->memory` (a `waft_memory`: base and current size).
A guest address is trusted only after `W__in_bounds` (aligned, and
`addr + bytes <= size` computed in 64 bits, so no wrap-around) said yes for the
whole object; fields inside it are then read at constant offsets with memcpy
(no alignment assumed: strict-alignment cores read bytes).  Loading a value
that holds a list or string checks that one's range in turn.

Helpers are generated on demand, one pair per compound type and side, as
`static` functions of the C file that needs them (so no file has an unused
one, and no other file can call them):

    static bool W__load_T(W_ctx *ctx, const uint8_t *src, bool copy, T *out)
                a value at `src` (already checked); false when a pointer inside is bad.
                `copy`: strings and lists are copied into the scratch space; otherwise
                byte lists and strings point straight into guest memory (import arguments,
                valid for the call)
    static void W__store_T(W_ctx *ctx, uint8_t *dst, const T *in)
                a value to `dst` (already checked); lists and strings go into memory the
                guest's `cabi_realloc` hands out, whose answer is checked (a bad one traps)
    static bool W__lift_L(...), static void W__lower_L(...)    a list from/to (ptr, len)

Values that are not pointers but are still wrong (a discriminant past the last
case, a `char` that is no Unicode scalar value, a handle that is not in the
table or is of another resource) trap with WAFT_TRAP_HOST, as the canonical
ABI traps.
"""

from __future__ import annotations

from aot.wit.bindgen.cwriter import Block, CFile
from aot.wit.bindgen.flat import FlatLeaves
from aot.wit.bindgen.names import CNames, c_ident
from aot.wit.bindgen.plan import Plan
from aot.wit.canonical_abi import CanonicalAbi, discriminant_type
from aot.wit.types import (
    Alias, Borrow, Enum_, FixedList, Flags, List, Map, Option_, Own, Primitive, Record, Resource, Result_, Tuple,
    Type, TypeDef, Variant,
)

MAX_BYTE_LENGTH = (1 << 28) - 1  # CanonicalABI.md MAX_LIST_BYTE_LENGTH = MAX_STRING_BYTE_LENGTH
TRAP_BAD_VALUE = "waft_trap(WAFT_TRAP_HOST);"
TRAP_BAD_POINTER = "waft_trap(WAFT_TRAP_MEMORY_OUT_OF_BOUNDS);"

_ST = {1: "8", 2: "16", 4: "32", 8: "64"}
_PRIM_LD = {
    Primitive.U8: ("8", "uint8_t"), Primitive.S8: ("8", "int8_t"), Primitive.U16: ("16", "uint16_t"),
    Primitive.S16: ("16", "int16_t"), Primitive.U32: ("32", "uint32_t"), Primitive.S32: ("32", "int32_t"),
    Primitive.U64: ("64", "uint64_t"), Primitive.S64: ("64", "int64_t"),
}


def prelude(w: str) -> str:
    """The static inline accessors every host C file starts with."""
    return f"""\
static inline __attribute__((__unused__)) uint8_t {w}__ld8(const uint8_t *p) {{ return *p; }}
static inline __attribute__((__unused__)) uint16_t {w}__ld16(const uint8_t *p) {{ uint16_t v; memcpy(&v, p, sizeof v); return v; }}
static inline __attribute__((__unused__)) uint32_t {w}__ld32(const uint8_t *p) {{ uint32_t v; memcpy(&v, p, sizeof v); return v; }}
static inline __attribute__((__unused__)) uint64_t {w}__ld64(const uint8_t *p) {{ uint64_t v; memcpy(&v, p, sizeof v); return v; }}
static inline __attribute__((__unused__)) float {w}__ldf32(const uint8_t *p) {{ float v; memcpy(&v, p, sizeof v); return v; }}
static inline __attribute__((__unused__)) double {w}__ldf64(const uint8_t *p) {{ double v; memcpy(&v, p, sizeof v); return v; }}
static inline __attribute__((__unused__)) void {w}__st8(uint8_t *p, uint8_t v) {{ *p = v; }}
static inline __attribute__((__unused__)) void {w}__st16(uint8_t *p, uint16_t v) {{ memcpy(p, &v, sizeof v); }}
static inline __attribute__((__unused__)) void {w}__st32(uint8_t *p, uint32_t v) {{ memcpy(p, &v, sizeof v); }}
static inline __attribute__((__unused__)) void {w}__st64(uint8_t *p, uint64_t v) {{ memcpy(p, &v, sizeof v); }}
static inline __attribute__((__unused__)) void {w}__stf32(uint8_t *p, float v) {{ memcpy(p, &v, sizeof v); }}
static inline __attribute__((__unused__)) void {w}__stf64(uint8_t *p, double v) {{ memcpy(p, &v, sizeof v); }}
static inline __attribute__((__unused__)) int32_t {w}__f32_bits(float f) {{ int32_t i; memcpy(&i, &f, sizeof i); return i; }}
static inline __attribute__((__unused__)) int64_t {w}__f64_bits(double f) {{ int64_t i; memcpy(&i, &f, sizeof i); return i; }}
static inline __attribute__((__unused__)) float {w}__bits_f32(int32_t i) {{ float f; memcpy(&f, &i, sizeof f); return f; }}
static inline __attribute__((__unused__)) double {w}__bits_f64(int64_t i) {{ double f; memcpy(&f, &i, sizeof f); return f; }}
/* A Unicode scalar value: what a WIT `char` may hold. */
static inline __attribute__((__unused__)) bool {w}__valid_char(uint32_t c) {{ return c < 0xD800u || (c >= 0xE000u && c < 0x110000u); }}
/* [addr, addr + bytes) lies inside the guest's memory and addr is aligned. */
static inline __attribute__((__unused__)) bool {w}__in_bounds(const {w}_ctx *ctx, uint32_t addr, uint64_t bytes, uint32_t align) {{
    return ctx->memory != NULL && (addr & (align - 1u)) == 0 && (uint64_t)addr + bytes <= (uint64_t)ctx->memory->size;
}}
"""


class HostLeaves(FlatLeaves):
    """Flat leaves on the host.  `copy`: lifted strings and lists are copied (export results, which
    the post-return function frees) or point into guest memory (import arguments).  `fail`: the
    statement run when a guest pointer is bad."""

    def __init__(self, helpers: HostHelpers, export: bool, copy: bool, fail: str) -> None:
        self.h = helpers
        self.export = export
        self.copy = "true" if copy else "false"
        self.fail = fail

    def lower_string(self, out: Block, expr: str) -> list[str]:
        ptr, length = out.temp("ptr"), out.temp("len")
        out.line(f"int32_t {ptr}, {length};")
        out.line(f"{self.h.w}__lower_string(ctx, &({expr}), &{ptr}, &{length});")
        return [ptr, length]

    def lower_list(self, out: Block, td: TypeDef, expr: str) -> list[str]:
        ptr, length = out.temp("ptr"), out.temp("len")
        out.line(f"int32_t {ptr}, {length};")
        out.line(f"{self.h.lower_list(td, self.export)}(ctx, &({expr}), &{ptr}, &{length});")
        return [ptr, length]

    def lower_handle(self, out: Block, td: TypeDef, expr: str) -> str:
        return self.h.lower_handle(td, self.export, expr)

    def lift_string(self, out: Block, ptr: str, length: str, dest: str) -> None:
        out.line(f"if (!{self.h.w}__lift_string(ctx, {ptr}, {length}, {self.copy}, &({dest}))) {self.fail}")

    def lift_list(self, out: Block, td: TypeDef, ptr: str, length: str, dest: str) -> None:
        out.line(f"if (!{self.h.lift_list(td, self.export)}(ctx, {ptr}, {length}, {self.copy}, &({dest}))) "
                 f"{self.fail}")

    def lift_handle(self, out: Block, td: TypeDef, value: str, dest: str) -> None:
        out.line(self.h.lift_handle(td, self.export, value, dest))

    def lift_char(self, out: Block, value: str, dest: str) -> None:
        out.line(f"if (!{self.h.w}__valid_char((uint32_t)({value}))) {TRAP_BAD_VALUE}")
        out.line(f"{dest} = (uint32_t)({value});")

    def check_case(self, out: Block, value: str, count: int) -> None:
        out.line(f"if ((uint32_t)({value}) >= {count}u) {TRAP_BAD_VALUE}")

    def impossible(self, out: Block) -> None:
        out.line(TRAP_BAD_VALUE)


class HostHelpers:
    """The load/store/lift/lower helpers of one host C file, generated when first asked for."""

    def __init__(self, plan: Plan, cfile: CFile, protos: str = "protos", bodies: str = "helpers") -> None:
        self.names: CNames = plan.names
        self.abi: CanonicalAbi = plan.abi
        self.w = plan.names.name
        self.protos = cfile[protos]
        self.bodies = cfile[bodies]
        self.resource_ids = resource_ids(plan)
        self._made: set[str] = set()

    # --- handles ---------------------------------------------------------------------------

    def resource_id(self, td: TypeDef, export: bool) -> str:
        res = (td.kind.resource if isinstance(td.kind, (Own, Borrow)) else td).resolved()
        return self.resource_ids[(res, self.names.guest_implements(res, export))]

    def lower_handle(self, td: TypeDef, export: bool, expr: str) -> str:
        """The i32 a handle value travels as when it goes to the guest."""
        res = td.kind.resource
        guest_impl = self.names.guest_implements(res, export)
        if isinstance(td.kind, Borrow):
            # Lending a guest resource back to its implementer passes the representation (lower_borrow).
            assert guest_impl, "borrow of a host resource lent to the guest (refused by Plan)"
            return f"({expr}).rep"
        rep = f"(uintptr_t)(uint32_t)({expr}).rep" if guest_impl else f"(uintptr_t)({expr})"
        return f"(int32_t){self.w}__handle_new(ctx, {self.resource_id(td, export)}, {rep})"

    def lift_handle(self, td: TypeDef, export: bool, value: str, dest: str) -> str:
        """A statement that lifts the handle `value` from the guest into `dest`: an own handle leaves
        the table (lift_own), a borrowed one stays (lift_borrow)."""
        op = "take" if isinstance(td.kind, Own) else "get"
        call = f"{self.w}__handle_{op}(ctx, {value}, {self.resource_id(td, export)})"
        if self.names.guest_implements(td.kind.resource, export):
            return f"{dest}.rep = (int32_t){call};"
        rep = self.names.resource_names(td.kind.resource, export)[0]
        return f"{dest} = ({rep} *){call};"

    # --- one value at a place in guest memory ------------------------------------------------

    def load_value(self, out: Block, t: Type, export: bool, src: str, dest: str, copy: str, fail: str) -> None:
        """Statements that load the value of type `t` at guest address `src` (checked) into `dest`."""
        w = self.w
        if isinstance(t, TypeDef) and isinstance(t.kind, Alias):
            t = t.resolved()
        if isinstance(t, Primitive):
            if t is Primitive.STRING:
                out.line(f"if (!{w}__lift_string(ctx, (int32_t){w}__ld32({src}), (int32_t){w}__ld32({src} + 4), "
                         f"{copy}, &({dest}))) {fail}")
            elif t is Primitive.BOOL:
                out.line(f"{dest} = {w}__ld8({src}) != 0;")
            elif t is Primitive.CHAR:
                out.line(f"{dest} = {w}__ld32({src});")
                out.line(f"if (!{w}__valid_char({dest})) {TRAP_BAD_VALUE}")
            elif t is Primitive.F32:
                out.line(f"{dest} = {w}__ldf32({src});")
            elif t is Primitive.F64:
                out.line(f"{dest} = {w}__ldf64({src});")
            else:
                bits, ctype = _PRIM_LD[t]
                out.line(f"{dest} = ({ctype}){w}__ld{bits}({src});")
            return
        k = t.kind
        if isinstance(k, (List, Map)):
            out.line(f"if (!{self.lift_list(t, export)}(ctx, (int32_t){w}__ld32({src}), "
                     f"(int32_t){w}__ld32({src} + 4), {copy}, &({dest}))) {fail}")
        elif isinstance(k, Enum_):
            size = self.abi.elem_size(t)
            value = out.temp("e")
            out.line(f"uint32_t {value} = {w}__ld{_ST[size]}({src});")
            out.line(f"if ({value} >= {len(k.cases)}u) {TRAP_BAD_VALUE}")
            out.line(f"{dest} = ({self.names.ctype(t, export)}){value};")
        elif isinstance(k, Flags):
            size = self.abi.elem_size(t)
            mask = (1 << len(k.flags)) - 1
            out.line(f"{dest} = ({self.names.ctype(t, export)})({w}__ld{_ST[size]}({src}) & {mask}u);")
        elif isinstance(k, (Own, Borrow)):
            out.line(self.lift_handle(t, export, f"(int32_t){w}__ld32({src})", dest))
        else:
            out.line(f"if (!{self.load(t, export)}(ctx, {src}, {copy}, &({dest}))) {fail}")

    def store_value(self, out: Block, t: Type, export: bool, dst: str, src: str) -> None:
        """Statements that store the C value `src` of type `t` at guest address `dst` (checked)."""
        w = self.w
        if isinstance(t, TypeDef) and isinstance(t.kind, Alias):
            t = t.resolved()
        if isinstance(t, Primitive):
            if t is Primitive.STRING:
                ptr, length = out.temp("ptr"), out.temp("len")
                out.line(f"int32_t {ptr}, {length};")
                out.line(f"{w}__lower_string(ctx, &({src}), &{ptr}, &{length});")
                out.line(f"{w}__st32({dst}, (uint32_t){ptr});")
                out.line(f"{w}__st32({dst} + 4, (uint32_t){length});")
            elif t is Primitive.BOOL:
                out.line(f"{w}__st8({dst}, ({src}) ? 1u : 0u);")
            elif t is Primitive.CHAR:
                out.line(f"{w}__st32({dst}, {src});")
            elif t is Primitive.F32:
                out.line(f"{w}__stf32({dst}, {src});")
            elif t is Primitive.F64:
                out.line(f"{w}__stf64({dst}, {src});")
            else:
                bits, _ = _PRIM_LD[t]
                out.line(f"{w}__st{bits}({dst}, (uint{bits}_t)({src}));")
            return
        k = t.kind
        if isinstance(k, (List, Map)):
            ptr, length = out.temp("ptr"), out.temp("len")
            out.line(f"int32_t {ptr}, {length};")
            out.line(f"{self.lower_list(t, export)}(ctx, &({src}), &{ptr}, &{length});")
            out.line(f"{w}__st32({dst}, (uint32_t){ptr});")
            out.line(f"{w}__st32({dst} + 4, (uint32_t){length});")
        elif isinstance(k, (Enum_, Flags)):
            bits = _ST[self.abi.elem_size(t)]
            out.line(f"{w}__st{bits}({dst}, (uint{bits}_t)({src}));")
        elif isinstance(k, (Own, Borrow)):
            out.line(f"{w}__st32({dst}, (uint32_t){self.lower_handle(t, export, src)});")
        else:
            out.line(f"{self.store(t, export)}(ctx, {dst}, &({src}));")

    # --- helpers per type ----------------------------------------------------------------

    def _helper_name(self, verb: str, t: TypeDef, export: bool) -> str:
        return f"{self.w}__{verb}_{self.names.ctype(t, export)[:-2]}"

    def load(self, t: TypeDef, export: bool) -> str:
        name = self._helper_name("load", t, export)
        if name not in self._made:
            self._made.add(name)
            ctype = self.names.ctype(t, export)
            sig = f"static bool {name}({self.w}_ctx *ctx, const uint8_t *src, bool copy, {ctype} *out)"
            self.protos.line(sig + ";")
            body = Block(1)
            body.line("(void)ctx;")
            body.line("(void)copy;")
            self._load_body(body, t, export)
            body.line("return true;")
            with self.bodies.braces(sig):
                self.bodies.lines += body.lines
            self.bodies.line()
        return name

    def _load_body(self, out: Block, t: TypeDef, export: bool) -> None:
        k = t.kind
        fail = "return false;"
        if isinstance(k, (Record, Tuple, FixedList)):
            fields, dests = self._fields(k)
            for ft, off, dest in zip(fields, self.abi.field_offsets(fields), dests):
                self.load_value(out, ft, export, f"src + {off}", f"out->{dest}", "copy", fail)
            return
        if isinstance(k, (Variant, Option_, Result_)):
            cases, members, set_tag = _variant_parts(k)
            disc = self.abi.elem_size(discriminant_type(len(cases)))
            payload = self.abi.payload_offset(cases)
            with out.braces(f"switch ({self.w}__ld{_ST[disc]}(src))"):
                for i, (ct, member) in enumerate(zip(cases, members)):
                    with out.braces(f"case {i}:"):
                        out.line(f"out->{set_tag(i)};")
                        if ct is not None:
                            self.load_value(out, ct, export, f"src + {payload}", f"out->{member}", "copy", fail)
                        out.line("break;")
                out.line("default:")
                out.line("    " + TRAP_BAD_VALUE)
            return
        raise AssertionError(f"no load helper for {t!r}")

    def store(self, t: TypeDef, export: bool) -> str:
        name = self._helper_name("store", t, export)
        if name not in self._made:
            self._made.add(name)
            ctype = self.names.ctype(t, export)
            sig = f"static void {name}({self.w}_ctx *ctx, uint8_t *dst, const {ctype} *in)"
            self.protos.line(sig + ";")
            body = Block(1)
            body.line("(void)ctx;")
            self._store_body(body, t, export)
            with self.bodies.braces(sig):
                self.bodies.lines += body.lines
            self.bodies.line()
        return name

    def _store_body(self, out: Block, t: TypeDef, export: bool) -> None:
        k = t.kind
        if isinstance(k, (Record, Tuple, FixedList)):
            fields, dests = self._fields(k)
            for ft, off, dest in zip(fields, self.abi.field_offsets(fields), dests):
                self.store_value(out, ft, export, f"dst + {off}", f"in->{dest}")
            return
        if isinstance(k, (Variant, Option_, Result_)):
            cases, members, _ = _variant_parts(k)
            bits = _ST[self.abi.elem_size(discriminant_type(len(cases)))]
            payload = self.abi.payload_offset(cases)
            tag = {Variant: "in->tag", Option_: "in->is_some", Result_: "in->is_err"}[type(k)]
            with out.braces(f"switch ((uint32_t)({tag}))"):
                for i, (ct, member) in enumerate(zip(cases, members)):
                    with out.braces(f"case {i}:"):
                        out.line(f"{self.w}__st{bits}(dst, {i}u);")
                        if ct is not None:
                            self.store_value(out, ct, export, f"dst + {payload}", f"in->{member}")
                        out.line("break;")
                out.line("default:")
                out.line("    " + TRAP_BAD_VALUE)
            return
        raise AssertionError(f"no store helper for {t!r}")

    def _fields(self, k: Record | Tuple | FixedList) -> tuple[list[Type], list[str]]:
        if isinstance(k, Record):
            return [f.type for f in k.fields], [c_ident(f.name) for f in k.fields]
        if isinstance(k, Tuple):
            return list(k.types), [f"f{i}" for i in range(len(k.types))]
        return [k.element] * k.length, [f"elems[{i}]" for i in range(k.length)]

    def lift_list(self, t: TypeDef, export: bool) -> str:
        name = self._helper_name("lift", t, export)
        if name in self._made:
            return name
        self._made.add(name)
        w = self.w
        ctype = self.names.ctype(t, export)
        elements, members, elem_c = self._list_parts(t, ctype, export)
        size = self.abi.elem_size(_element(t))
        align = self.abi.alignment(_element(t))
        sig = f"static bool {name}({w}_ctx *ctx, int32_t ptr, int32_t len, bool copy, {ctype} *out)"
        self.protos.line(sig + ";")
        out = Block()  # a helper of its own: the ones it asks for are written while it is
        with out.braces(sig):
            out.line("(void)copy;")
            out.line(f"uint64_t bytes = (uint64_t)(uint32_t)len * {size}u;")
            out.line(f"if (bytes > {MAX_BYTE_LENGTH}u || !{w}__in_bounds(ctx, (uint32_t)ptr, bytes, {align}u)) "
                     "return false;")
            out.line("const uint8_t *src = ctx->memory->base + (uint32_t)ptr;")
            if _is_bytes(t):
                with out.braces("if (!copy)"):
                    out.line(f"out->ptr = (const {elem_c} *)src;")
                    out.line("out->len = (size_t)(uint32_t)len;")
                    out.line("return true;")
            out.line(f"{elem_c} *elems = ({elem_c} *){w}_ctx_alloc(ctx, (size_t)(uint32_t)len * sizeof({elem_c}), "
                     f"_Alignof({elem_c}));")
            if _is_bytes(t):
                out.line("memcpy(elems, src, (size_t)bytes);")
            else:
                with out.braces("for (uint32_t i = 0; i < (uint32_t)len; i++)"):
                    offsets = self.abi.field_offsets(elements) if len(elements) > 1 else [0]
                    for et, off, member in zip(elements, offsets, members):
                        self.load_value(out, et, export, f"src + i * {size}u + {off}", f"elems[i]{member}",
                                        "copy", "return false;")
            out.line("out->ptr = elems;")
            out.line("out->len = (size_t)(uint32_t)len;")
            out.line("return true;")
        out.line()
        self.bodies.lines += out.lines
        return name

    def lower_list(self, t: TypeDef, export: bool) -> str:
        name = self._helper_name("lower", t, export)
        if name in self._made:
            return name
        self._made.add(name)
        w = self.w
        ctype = self.names.ctype(t, export)
        elements, members, _ = self._list_parts(t, ctype, export)
        size = self.abi.elem_size(_element(t))
        align = self.abi.alignment(_element(t))
        sig = f"static void {name}({w}_ctx *ctx, const {ctype} *in, int32_t *ptr, int32_t *len)"
        self.protos.line(sig + ";")
        out = Block()
        with out.braces(sig):
            out.line(f"if (in->len > {MAX_BYTE_LENGTH // size}u) {TRAP_BAD_VALUE}")
            out.line(f"int32_t p = {w}__guest_alloc(ctx, (uint32_t)in->len * {size}u, {align}u);")
            out.line("uint8_t *dst = ctx->memory->base + (uint32_t)p;")
            if _is_bytes(t):
                with out.braces("if (in->len > 0)"):
                    out.line("memcpy(dst, in->ptr, in->len);")
            else:
                with out.braces("for (size_t i = 0; i < in->len; i++)"):
                    offsets = self.abi.field_offsets(elements) if len(elements) > 1 else [0]
                    for et, off, member in zip(elements, offsets, members):
                        self.store_value(out, et, export, f"dst + i * {size}u + {off}", f"in->ptr[i]{member}")
            out.line("*ptr = p;")
            out.line("*len = (int32_t)in->len;")
        out.line()
        self.bodies.lines += out.lines
        return name

    def _list_parts(self, t: TypeDef, ctype: str, export: bool) -> tuple[list[Type], list[str], str]:
        """A list's element as (field types, C member suffixes, C element type): a map's element is
        a key/value pair laid out as a tuple."""
        k = t.kind
        if isinstance(k, Map):
            return [k.key, k.value], [".key", ".value"], self.names.map_entry(ctype)
        return [k.element], [""], self.names.ctype(k.element, export)


def _element(t: TypeDef):
    """The canonical element of a list or map (a map's is tuple<K, V>, despecialized)."""
    k = t.kind
    if isinstance(k, Map):
        return TypeDef(Tuple([k.key, k.value]))
    return k.element


def _is_bytes(t: TypeDef) -> bool:
    """list<u8>/list<s8>: C and guest layouts agree byte for byte, so no per-element work."""
    k = t.kind
    return isinstance(k, List) and k.element in (Primitive.U8, Primitive.S8)


def _variant_parts(k: Variant | Option_ | Result_):
    """(case payload types, C members of the payloads, tag setter) of a variant-like kind."""
    if isinstance(k, Variant):
        return ([c.type for c in k.cases], [f"val.{c_ident(c.name)}" for c in k.cases], lambda i: f"tag = {i}")
    if isinstance(k, Option_):
        return [None, k.type], ["", "val"], lambda i: f"is_some = {'true' if i else 'false'}"
    return [k.ok, k.err], ["val.ok", "val.err"], lambda i: f"is_err = {'true' if i else 'false'}"


def resource_ids(plan: Plan) -> dict[tuple[TypeDef, bool], str]:
    """The handle table's type number of every resource, as the enum constant's name; keyed by
    (resource, implemented by the guest)."""
    ids: dict[tuple[TypeDef, bool], str] = {}
    for td, copy in plan.types:
        if isinstance(td.kind, Resource):
            stem = plan.names.resource_base(td, copy)
            ids[(td, plan.names.guest_implements(td, copy))] = f"{plan.names.name.upper()}__RES_{stem.upper()}"
    return ids
