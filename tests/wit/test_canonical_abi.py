"""The canonical ABI's sizes, alignments, flattening and core signatures, worked out by hand from
CanonicalABI.md's definitions (alignment, elem_size, flatten_type, flatten_functype)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aot.wit import CanonicalAbi, load_wit
from aot.wit.canonical_abi import MAX_FLAT_PARAMS, discriminant_type, join
from aot.wit.types import Primitive

from wit_helpers import write_wit

TYPES = """package a:b;
interface i {
  record pair { a: u8, b: u32 }
  record padded { a: u8, b: u64, c: u16 }
  record with-string { s: string, b: bool }
  variant v { none, byte(u8), big(u64), real(f32), text(string) }
  variant floats { a(f32), b(u32) }
  variant f64-or-i32 { a(f64), b(u32) }
  enum small { a, b, c }
  flags f8 { a1, a2, a3, a4, a5, a6, a7, a8 }
  flags f9 { b1, b2, b3, b4, b5, b6, b7, b8, b9 }
  flags f17 { c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17 }
  resource r;
  type opt-u8 = option<u8>;
  type opt-u64 = option<u64>;
  type res-unit = result;
  type res-str = result<string, u8>;
  type tup = tuple<u8, f64, u16>;
  type fixed = list<u16, 3>;
  type fixed-pairs = list<pair, 2>;
  type m = map<string, u32>;
  type alias = pair;
  type handle = own<r>;
  type borrowed = borrow<r>;
}
"""


@pytest.fixture(scope="module")
def types(tmp_path_factory) -> dict:
    _, main = load_wit(write_wit(tmp_path_factory.mktemp("abi"), {"a.wit": TYPES}))
    return main.interfaces["i"].types


@pytest.mark.parametrize("name, size, align, flat", [
    ("pair", 8, 4, ("i32", "i32")),
    ("padded", 24, 8, ("i32", "i64", "i32")),
    ("with-string", 12, 4, ("i32", "i32", "i32")),
    # discriminant u8, then payloads aligned to 8: max(u64, string=8 bytes) -> 8 + 8 = 16
    ("v", 16, 8, ("i32", "i64", "i32")),
    ("floats", 8, 4, ("i32", "i32")),  # join(f32, i32) = i32
    ("f64-or-i32", 16, 8, ("i32", "i64")),  # join(f64, i32) = i64
    ("small", 1, 1, ("i32",)),
    ("f8", 1, 1, ("i32",)),
    ("f9", 2, 2, ("i32",)),
    ("f17", 4, 4, ("i32",)),
    ("opt-u8", 2, 1, ("i32", "i32")),
    ("opt-u64", 16, 8, ("i32", "i64")),
    ("res-unit", 1, 1, ("i32",)),
    ("res-str", 12, 4, ("i32", "i32", "i32")),
    ("tup", 24, 8, ("i32", "f64", "i32")),
    ("fixed", 6, 2, ("i32", "i32", "i32")),
    ("fixed-pairs", 16, 4, ("i32",) * 4),
    ("m", 8, 4, ("i32", "i32")),
    ("alias", 8, 4, ("i32", "i32")),
    ("handle", 4, 4, ("i32",)),
    ("borrowed", 4, 4, ("i32",)),
])
def test_size_alignment_and_flattening(types, name: str, size: int, align: int, flat: tuple):
    abi = CanonicalAbi()
    t = types[name]
    assert (abi.elem_size(t), abi.alignment(t), abi.flatten_type(t)) == (size, align, flat)


@pytest.mark.parametrize("prim, size, flat", [
    (Primitive.BOOL, 1, ("i32",)), (Primitive.S8, 1, ("i32",)), (Primitive.U16, 2, ("i32",)),
    (Primitive.U32, 4, ("i32",)), (Primitive.S64, 8, ("i64",)), (Primitive.F32, 4, ("f32",)),
    (Primitive.F64, 8, ("f64",)), (Primitive.CHAR, 4, ("i32",)), (Primitive.STRING, 8, ("i32", "i32")),
])
def test_primitives(prim: Primitive, size: int, flat: tuple):
    abi = CanonicalAbi()
    assert (abi.elem_size(prim), abi.flatten_type(prim)) == (size, flat)


def test_memory64_pointers_are_eight_bytes(types):
    abi = CanonicalAbi("i64")
    assert abi.elem_size(Primitive.STRING) == 16 and abi.flatten_type(Primitive.STRING) == ("i64", "i64")
    assert (abi.elem_size(types["with-string"]), abi.alignment(types["with-string"])) == (24, 8)
    assert abi.flatten_type(types["v"]) == ("i32", "i64", "i64")


def test_field_offsets_and_payload_offset(types):
    abi = CanonicalAbi()
    assert abi.field_offsets([f.type for f in types["padded"].kind.fields]) == [0, 8, 16]
    assert abi.payload_offset([c.type for c in types["v"].kind.cases]) == 8
    assert abi.payload_offset([None, Primitive.U8]) == 1


def test_discriminants_grow_with_the_number_of_cases():
    assert [discriminant_type(n) for n in (1, 2, 256, 257, 65536, 65537)] == [
        Primitive.U8, Primitive.U8, Primitive.U8, Primitive.U16, Primitive.U16, Primitive.U32]


def test_join():
    assert [join("i32", "f32"), join("f32", "i32"), join("i32", "i64"), join("f32", "f64"), join("f64", "f64")] == [
        "i32", "i32", "i64", "i64", "f64"]


def test_resources_themselves_are_not_values(types):
    with pytest.raises(ValueError, match="resource `r` is not a value"):
        CanonicalAbi().elem_size(types["r"])


FUNCS = """package a:b;
interface i {
  none: func();
  scalar: func(a: u32, b: f64) -> s64;
  sixteen: func(a1: u32, a2: u32, a3: u32, a4: u32, a5: u32, a6: u32, a7: u32, a8: u32,
                a9: u32, a10: u32, a11: u32, a12: u32, a13: u32, a14: u32, a15: u32, a16: u32);
  seventeen: func(a1: u32, a2: u32, a3: u32, a4: u32, a5: u32, a6: u32, a7: u32, a8: u32,
                  a9: u32, a10: u32, a11: u32, a12: u32, a13: u32, a14: u32, a15: u32, a16: u32, a17: u8);
  strings: func(s: string) -> string;
  fallible: func() -> result<u32, string>;
  one-flat-result: func() -> result;
  method-like: func(x: list<u8, 16>) -> tuple<u8>;
}
"""


@pytest.mark.parametrize("name, lower, lift", [
    ("none", "() -> ()", "() -> ()"),
    ("scalar", "(i32 f64) -> (i64)", "(i32 f64) -> (i64)"),
    ("sixteen", "(" + " ".join(["i32"] * 16) + ") -> ()", "(" + " ".join(["i32"] * 16) + ") -> ()"),
    ("seventeen", "(i32) -> ()", "(i32) -> ()"),  # spilled: one pointer to the parameter tuple
    ("strings", "(i32 i32 i32) -> ()", "(i32 i32) -> (i32)"),  # import: return area; export: returned pointer
    ("fallible", "(i32) -> ()", "() -> (i32)"),
    ("one-flat-result", "() -> (i32)", "() -> (i32)"),
    ("method-like", "(" + " ".join(["i32"] * 16) + ") -> (i32)", "(" + " ".join(["i32"] * 16) + ") -> (i32)"),
])
def test_core_signatures_for_lower_and_lift(tmp_path: Path, name: str, lower: str, lift: str):
    _, main = load_wit(write_wit(tmp_path, {"a.wit": FUNCS}))
    func = main.interfaces["i"].functions[name]
    abi = CanonicalAbi()
    assert str(abi.import_signature(func)) == lower
    assert str(abi.export_signature(func)) == lift


def test_what_travels_in_memory_is_said(tmp_path: Path):
    _, main = load_wit(write_wit(tmp_path, {"a.wit": FUNCS}))
    abi = CanonicalAbi()
    fns = main.interfaces["i"].functions
    spilled = abi.import_signature(fns["seventeen"])
    assert spilled.params_in_memory and not spilled.results_in_memory
    s = abi.import_signature(fns["strings"])
    assert not s.params_in_memory and s.results_in_memory
    assert MAX_FLAT_PARAMS == 16 and not abi.import_signature(fns["sixteen"]).params_in_memory
