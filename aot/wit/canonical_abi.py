"""The canonical ABI, synchronous part: sizes, alignments, flattening and core signatures.

Each function follows the definition of the same name in CanonicalABI.md
(component-model, "Despecialization" to "Flattening"); the spec's Python is the
reference and the names are kept so the two can be read side by side:

    despecialization     tuple -> record, enum/option/result -> variant, map -> list of pairs,
                         done per kind below (`_as_record`, `_as_variant`)
    alignment(t)         bytes; a variant's discriminant is the smallest of u8/u16/u32 for its cases
    elem_size(t)         bytes a value takes in linear memory (as a list element or a field)
    flatten_type(t)      the core value types a value travels in when passed in registers
    flatten_functype()   a function's core signature for `canon lift` (an export) or
                         `canon lower` (an import): more than MAX_FLAT_PARAMS (16) flat params
                         go in memory behind one pointer; more than MAX_FLAT_RESULTS (1) flat
                         results come back through memory: a return pointer the caller passes
                         (lower) or a pointer the callee returns (lift)

plus what bindgen needs on top: field offsets of records and tuples, the
discriminant type and payload offset of variants.  Pointers are `ptr_type`
(`i32`, wasm32; `i64` for memory64).  Async lifting and lowering (preview 3) is
not here: the parser refuses `async`, `future`, `stream` and `error-context`.
"""

from __future__ import annotations

from dataclasses import dataclass

from aot.wit.types import (
    Alias, Borrow, Enum_, FixedList, Flags, Function, List, Map, Option_, Own, Primitive, Record, Resource,
    Result_, Tuple, Type, TypeDef, Variant,
)

MAX_FLAT_PARAMS = 16
MAX_FLAT_RESULTS = 1

_PRIM_SIZE = {
    Primitive.BOOL: 1, Primitive.U8: 1, Primitive.S8: 1, Primitive.U16: 2, Primitive.S16: 2,
    Primitive.U32: 4, Primitive.S32: 4, Primitive.U64: 8, Primitive.S64: 8,
    Primitive.F32: 4, Primitive.F64: 8, Primitive.CHAR: 4,
}
_PRIM_FLAT = {
    Primitive.BOOL: "i32", Primitive.U8: "i32", Primitive.S8: "i32", Primitive.U16: "i32",
    Primitive.S16: "i32", Primitive.U32: "i32", Primitive.S32: "i32", Primitive.U64: "i64",
    Primitive.S64: "i64", Primitive.F32: "f32", Primitive.F64: "f64", Primitive.CHAR: "i32",
}


@dataclass(frozen=True)
class CoreSignature:
    """A function's core Wasm type under the canonical ABI, and how its values travel."""

    params: tuple[str, ...]
    results: tuple[str, ...]
    params_in_memory: bool  # the flat params did not fit: one pointer to them (as a tuple) instead
    results_in_memory: bool  # the flat results did not fit: a return pointer (lower) or a returned one (lift)

    def __str__(self) -> str:
        return f"({' '.join(self.params)}) -> ({' '.join(self.results)})"


def discriminant_type(n: int) -> Primitive:
    """The smallest unsigned integer that numbers `n` cases (u8 up to 256 cases, then u16, u32)."""
    assert 0 < n < (1 << 32)
    if n <= 1 << 8:
        return Primitive.U8
    if n <= 1 << 16:
        return Primitive.U16
    return Primitive.U32


def flags_size(n: int) -> int:
    """Bytes of a flags value of `n` flags (a bit vector; the size is also its alignment)."""
    assert 0 < n <= 32
    return 1 if n <= 8 else 2 if n <= 16 else 4


def align_to(ptr: int, alignment: int) -> int:
    return -(-ptr // alignment) * alignment


def join(a: str, b: str) -> str:
    """The core type that carries both `a` and `b` (variant payloads share flat slots)."""
    if a == b:
        return a
    if {a, b} == {"i32", "f32"}:
        return "i32"
    return "i64"


class CanonicalAbi:
    """The canonical ABI for one pointer size, with the size/alignment/flattening of each type
    computed once (types are immutable after resolution)."""

    def __init__(self, ptr_type: str = "i32") -> None:
        assert ptr_type in ("i32", "i64")
        self.ptr_type = ptr_type
        self.ptr_size = 4 if ptr_type == "i32" else 8
        self._align: dict[TypeDef, int] = {}
        self._size: dict[TypeDef, int] = {}
        self._flat: dict[TypeDef, tuple[str, ...]] = {}

    # --- alignment and size ---------------------------------------------------------------

    def alignment(self, t: Type) -> int:
        if isinstance(t, TypeDef) and isinstance(t.kind, Alias):
            t = t.resolved()  # a chain of aliases is walked, not recursed
        if isinstance(t, Primitive):
            return self.ptr_size if t is Primitive.STRING else _PRIM_SIZE[t]
        cached = self._align.get(t)
        if cached is None:
            cached = self._align[t] = self._alignment(t)
        return cached

    def _alignment(self, t: TypeDef) -> int:
        k = t.kind
        if isinstance(k, Alias):
            return self.alignment(k.target)
        if isinstance(k, (List, Map)):
            return self.ptr_size
        if isinstance(k, FixedList):
            return self.alignment(k.element)
        if isinstance(k, (Record, Tuple)):
            return max((self.alignment(f) for f in _as_record(k)), default=1)
        if isinstance(k, (Variant, Enum_, Option_, Result_)):
            cases = _as_variant(k)
            return max(self.alignment(discriminant_type(len(cases))), self.max_case_alignment(cases))
        if isinstance(k, Flags):
            return flags_size(len(k.flags))
        if isinstance(k, (Own, Borrow)):
            return 4
        raise _not_a_value(t)

    def max_case_alignment(self, cases: list[Type | None]) -> int:
        return max((self.alignment(c) for c in cases if c is not None), default=1)

    def elem_size(self, t: Type) -> int:
        if isinstance(t, TypeDef) and isinstance(t.kind, Alias):
            t = t.resolved()  # a chain of aliases is walked, not recursed
        if isinstance(t, Primitive):
            return 2 * self.ptr_size if t is Primitive.STRING else _PRIM_SIZE[t]
        cached = self._size.get(t)
        if cached is None:
            cached = self._size[t] = self._elem_size(t)
        return cached

    size = elem_size

    def _elem_size(self, t: TypeDef) -> int:
        k = t.kind
        if isinstance(k, Alias):
            return self.elem_size(k.target)
        if isinstance(k, (List, Map)):
            return 2 * self.ptr_size
        if isinstance(k, FixedList):
            return k.length * self.elem_size(k.element)
        if isinstance(k, (Record, Tuple)):
            fields = _as_record(k)
            end = self.field_offsets(fields)[-1] + self.elem_size(fields[-1])
            return align_to(end, self.alignment(t))
        if isinstance(k, (Variant, Enum_, Option_, Result_)):
            cases = _as_variant(k)
            s = self.payload_offset(cases) + max((self.elem_size(c) for c in cases if c is not None), default=0)
            return align_to(s, self.alignment(t))
        if isinstance(k, Flags):
            return flags_size(len(k.flags))
        if isinstance(k, (Own, Borrow)):
            return 4
        raise _not_a_value(t)

    def field_offsets(self, fields: list[Type]) -> list[int]:
        """Offset of each field of a record or tuple (given as its field types) from its start."""
        offsets, s = [], 0
        for f in fields:
            s = align_to(s, self.alignment(f))
            offsets.append(s)
            s += self.elem_size(f)
        return offsets

    def payload_offset(self, cases: list[Type | None]) -> int:
        """Where a variant's payload starts: after the discriminant, aligned for every case."""
        return align_to(_PRIM_SIZE[discriminant_type(len(cases))], self.max_case_alignment(cases))

    # --- flattening ---------------------------------------------------------------------------

    def flatten_type(self, t: Type) -> tuple[str, ...]:
        if isinstance(t, TypeDef) and isinstance(t.kind, Alias):
            t = t.resolved()  # a chain of aliases is walked, not recursed
        if isinstance(t, Primitive):
            return (self.ptr_type, self.ptr_type) if t is Primitive.STRING else (_PRIM_FLAT[t],)
        cached = self._flat.get(t)
        if cached is None:
            cached = self._flat[t] = self._flatten(t)
        return cached

    def _flatten(self, t: TypeDef) -> tuple[str, ...]:
        k = t.kind
        if isinstance(k, Alias):
            return self.flatten_type(k.target)
        if isinstance(k, (List, Map)):
            return (self.ptr_type, self.ptr_type)
        if isinstance(k, FixedList):
            return self.flatten_type(k.element) * k.length
        if isinstance(k, (Record, Tuple)):
            return tuple(ft for f in _as_record(k) for ft in self.flatten_type(f))
        if isinstance(k, (Variant, Enum_, Option_, Result_)):
            cases = _as_variant(k)
            flat: list[str] = []
            for c in cases:
                if c is not None:
                    for i, ft in enumerate(self.flatten_type(c)):
                        if i < len(flat):
                            flat[i] = join(flat[i], ft)
                        else:
                            flat.append(ft)
            return self.flatten_type(discriminant_type(len(cases))) + tuple(flat)
        if isinstance(k, (Flags, Own, Borrow)):
            return ("i32",)
        raise _not_a_value(t)

    def flatten_types(self, ts: list[Type]) -> tuple[str, ...]:
        return tuple(ft for t in ts for ft in self.flatten_type(t))

    def flatten_functype(self, func: Function, context: str) -> CoreSignature:
        """`func`'s core signature: context "lower" for an import (`canon lower`), "lift" for an
        export (`canon lift`)."""
        assert context in ("lift", "lower")
        flat_params = self.flatten_types([p.type for p in func.params])
        flat_results = self.flatten_types([func.result] if func.result is not None else [])
        params_in_memory = len(flat_params) > MAX_FLAT_PARAMS
        if params_in_memory:
            flat_params = (self.ptr_type,)
        results_in_memory = len(flat_results) > MAX_FLAT_RESULTS
        if results_in_memory:
            if context == "lift":
                flat_results = (self.ptr_type,)
            else:
                flat_params += (self.ptr_type,)
                flat_results = ()
        return CoreSignature(flat_params, flat_results, params_in_memory, results_in_memory)

    def import_signature(self, func: Function) -> CoreSignature:
        return self.flatten_functype(func, "lower")

    def export_signature(self, func: Function) -> CoreSignature:
        return self.flatten_functype(func, "lift")


def _as_record(k: Record | Tuple) -> list[Type]:
    return [f.type for f in k.fields] if isinstance(k, Record) else list(k.types)


def _as_variant(k) -> list[Type | None]:
    """The case payloads of a variant-like kind, despecialized (CanonicalABI.md)."""
    if isinstance(k, Variant):
        return [c.type for c in k.cases]
    if isinstance(k, Enum_):
        return [None] * len(k.cases)
    if isinstance(k, Option_):
        return [None, k.type]
    return [k.ok, k.err]


def _not_a_value(t: TypeDef) -> ValueError:
    if isinstance(t.kind, Resource):
        return ValueError(f"resource `{t.name}` is not a value: pass it as own<{t.name}> or borrow<{t.name}>")
    return ValueError(f"{t!r} has no canonical ABI representation")
