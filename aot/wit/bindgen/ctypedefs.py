"""C definitions of WIT types, for the guest header and the host header alike.

    record r { a: u8, b: string }     typedef struct p_r_t { uint8_t a; W_string_t b; } p_r_t;
    tuple<u16, f64>                   typedef struct W_tuple2_u16_f64_t { uint16_t f0; double f1; } ...
    variant v { none, big(u64) }      typedef struct p_v_t { uint8_t tag; union { uint64_t big; } val; } p_v_t;
                                      #define P_V_NONE 0 ...
    enum e { a, b }                   typedef uint8_t p_e_t;  #define P_E_A 0 ...
    flags f { a, b }                  typedef uint8_t p_f_t;  #define P_F_A (1U << 0) ...
    option<T>                         struct { bool is_some; T val; }
    result<T, E>                      struct { bool is_err; union { T ok; E err; } val; }
    list<T>, map<K, V>                struct { T *ptr; size_t len; } (a map's T: struct { K key; V value; })
    list<T, N>                        struct { T elems[N]; }
    string                            W_string_t { uint8_t *ptr; size_t len; }  (UTF-8, no NUL)

On wasm32 every one of these has exactly the canonical ABI's size, alignment
and field offsets (the discriminant is the smallest of u8/u16/u32, the payload
union is aligned for its widest case), so the guest can move values between
C and linear memory with memcpy; the guest source asserts it with
`_Static_assert` against the Python canonical ABI.  On the host the same
shapes hold native pointers (`const`: they point into guest memory or into the
call's scratch space), and the glue copies field by field.

Handles differ by side and by who implements the resource (names.py):

    guest, imported resource          own/borrow: struct { int32_t __handle; }
    guest, exported resource          own: struct { int32_t __handle; }; borrow: pointer to the
                                      user's representation `struct exports_..._r_t`
    host, imported resource           own/borrow: pointer to the user's `struct p_r_t`
    host, exported resource           own/borrow: struct { int32_t rep; } (the guest's representation)
"""

from __future__ import annotations

from aot.wit.bindgen.cwriter import Block, comment
from aot.wit.bindgen.names import CNames, c_ident
from aot.wit.canonical_abi import discriminant_type, flags_size
from aot.wit.types import (
    Alias, Borrow, Enum_, FixedList, Flags, List, Map, Option_, Own, Primitive, Record, Resource, Result_, Tuple,
    TypeDef, Variant,
)

_UINT = {1: "uint8_t", 2: "uint16_t", 4: "uint32_t"}


def define_type(names: CNames, td: TypeDef, export: bool, side: str, out: Block) -> None:
    """Append the C definition of `td` as seen from the import or export side, for `side`
    ("guest" or "host")."""
    k = td.kind
    const = "const " if side == "host" else ""
    if isinstance(k, (Own, Borrow)):
        return  # defined with their resource
    if isinstance(k, Resource):
        _define_resource(names, td, export, side, out)
        return
    if isinstance(k, Alias):
        if td.is_resource():
            return  # handles are named by the resource they point to
        name = names.ctype(td, export)
        out.lines_of("\n".join(comment(td.docs)))
        out.line(f"typedef {names.ctype(k.target, export)} {name};")
        return
    name = names.ctype(td, export)
    for ln in comment(td.docs):
        out.line(ln)
    if isinstance(k, Record):
        fields = [(names.ctype(f.type, export), c_ident(f.name)) for f in k.fields]
        _struct(out, name, fields)
    elif isinstance(k, Tuple):
        _struct(out, name, [(names.ctype(t, export), f"f{i}") for i, t in enumerate(k.types)])
    elif isinstance(k, FixedList):
        _struct(out, name, [(names.ctype(k.element, export), f"elems[{k.length}]")])
    elif isinstance(k, List):
        _struct(out, name, [(f"{const}{names.ctype(k.element, export)} *", "ptr"), ("size_t", "len")])
    elif isinstance(k, Map):
        entry = names.map_entry(name)
        _struct(out, entry, [(names.ctype(k.key, export), "key"), (names.ctype(k.value, export), "value")])
        _struct(out, name, [(f"{const}{entry} *", "ptr"), ("size_t", "len")])
    elif isinstance(k, Option_):
        _struct(out, name, [("bool", "is_some"), (names.ctype(k.type, export), "val")])
    elif isinstance(k, Result_):
        members = [(names.ctype(t, export), m) for t, m in ((k.ok, "ok"), (k.err, "err")) if t is not None]
        _struct(out, name, [("bool", "is_err")], members)
    elif isinstance(k, Variant):
        tag = _UINT[_disc_size(len(k.cases))]
        members = [(names.ctype(c.type, export), c_ident(c.name)) for c in k.cases if c.type is not None]
        _struct(out, name, [(tag, "tag")], members)
        for i, case in enumerate(k.cases):
            out.line(f"#define {names.case_macro(name, case.name)} {i}")
    elif isinstance(k, Enum_):
        out.line(f"typedef {_UINT[_disc_size(len(k.cases))]} {name};")
        for i, case in enumerate(k.cases):
            out.line(f"#define {names.case_macro(name, case.name)} {i}")
    elif isinstance(k, Flags):
        out.line(f"typedef {_UINT[flags_size(len(k.flags))]} {name};")
        for i, flag in enumerate(k.flags):
            out.line(f"#define {names.case_macro(name, flag.name)} ({1 << i}U)")
    out.line()


def _define_resource(names: CNames, td: TypeDef, export: bool, side: str, out: Block) -> None:
    rep, own, borrow = names.resource_names(td, export)
    guest_impl = names.guest_implements(td, export)
    for ln in comment(td.docs):
        out.line(ln)
    if side == "guest":
        if guest_impl:
            out.line(f"/* Define `struct {rep}`: the representation behind a handle (borrowed as a pointer). */")
            out.line(f"typedef struct {rep} {rep};")
        _struct(out, own, [("int32_t", "__handle")])
        if guest_impl:
            out.line(f"typedef {rep} *{borrow};")
        else:
            _struct(out, borrow, [("int32_t", "__handle")])
    elif guest_impl:
        _struct(out, own, [("int32_t", "rep")])
        _struct(out, borrow, [("int32_t", "rep")])
    else:
        out.line(f"/* Define `struct {rep}`: what a handle the guest holds stands for. */")
        out.line(f"typedef struct {rep} {rep};")
        out.line(f"typedef {rep} *{own};")
        out.line(f"typedef {rep} *{borrow};")
    out.line()


def _struct(out: Block, name: str, fields: list[tuple[str, str]], union: list[tuple[str, str]] | None = None) -> None:
    with out.braces(f"typedef struct {name}", f"}} {name};"):
        for ctype, member in fields:
            out.line(f"{ctype}{'' if ctype.endswith('*') else ' '}{member};")
        if union:
            with out.braces("union", "} val;"):
                for ctype, member in union:
                    out.line(f"{ctype}{'' if ctype.endswith('*') else ' '}{member};")


def _disc_size(n: int) -> int:
    return {Primitive.U8: 1, Primitive.U16: 2, Primitive.U32: 4}[discriminant_type(n)]


def layout_assert(names: CNames, td: TypeDef, export: bool, size: int, align: int) -> str | None:
    """A `_Static_assert` that the guest's C type has the canonical size and alignment."""
    if isinstance(td.kind, (Resource, Alias)):
        return None
    name = names.ctype(td, export)
    if not name:
        return None
    return (f"_Static_assert(sizeof({name}) == {size} && _Alignof({name}) == {align}, "
            f"\"{name}: canonical ABI layout\");")
