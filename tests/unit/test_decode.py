"""Tests of aot.wasm.decode: each section, LEB128 edges, instruction shapes, error places, names, SIMD refusal.

Modules are written byte by byte with the small builder below, so every
offset an error reports can be checked against the byte it names.
"""

from __future__ import annotations

import struct

import pytest

from aot.errors import DecodeError, UnsupportedError
from aot.wasm.decode import MAX_LOCALS, _read_sleb, _read_u32, decode_module
from aot.wasm.module import (
    FuncType,
    GlobalType,
    Instr,
    Limits,
    MemArg,
    MemoryType,
    TableType,
)

# ---------------------------------------------------------------------------
# A tiny binary writer
# ---------------------------------------------------------------------------
HEADER = b"\x00asm\x01\x00\x00\x00"
I32, I64, F32, F64, V128, FUNCREF, EXTERNREF = 0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F


def uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def vec(items: list[bytes]) -> bytes:
    return uleb(len(items)) + b"".join(items)


def name(s: str) -> bytes:
    raw = s.encode()
    return uleb(len(raw)) + raw


def section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + uleb(len(payload)) + payload


def module(*sections: bytes) -> bytes:
    return HEADER + b"".join(sections)


def functype(params: list[int], results: list[int]) -> bytes:
    return b"\x60" + vec([bytes([p]) for p in params]) + vec([bytes([r]) for r in results])


def code_entry(body: bytes, local_groups: list[tuple[int, int]] = ()) -> bytes:
    payload = vec([uleb(n) + bytes([t]) for n, t in local_groups]) + body
    return uleb(len(payload)) + payload


def one_func(body: bytes, params=(), results=(), local_groups=()) -> bytes:
    """A module with one function of the given type and body (body must end with 0x0b)."""
    return module(
        section(1, vec([functype(list(params), list(results))])),
        section(3, vec([uleb(0)])),
        section(10, vec([code_entry(body, local_groups)])),
    )


def body_of(data: bytes) -> list[Instr]:
    return decode_module(data).functions[0].body


def ops(data: bytes) -> list[tuple[str, object]]:
    return [(i.op, i.imm) for i in body_of(data)]


# ---------------------------------------------------------------------------
# Header and section framing
# ---------------------------------------------------------------------------
def test_empty_module() -> None:
    m = decode_module(HEADER)
    assert m.types == [] and m.functions == [] and m.start is None


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "unexpected end"),
        (b"\x00as", "unexpected end"),
        (b"\x00ASM\x01\x00\x00\x00", "magic header not detected"),
        (b"\x00asm\x01\x00\x00", "unexpected end"),
        (b"\x00asm\x02\x00\x00\x00", "unknown binary version"),
    ],
)
def test_header_errors(data: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_module(data)


def test_unknown_section_id_names_offset() -> None:
    with pytest.raises(DecodeError, match="malformed section id") as exc:
        decode_module(HEADER + b"\x0e\x01\x00")
    assert exc.value.offset == 8


def test_section_size_mismatch() -> None:
    # A type section claiming 5 bytes whose vector holds 4 (the 5th is extra).
    data = HEADER + b"\x01\x05" + vec([functype([], [])]) + b"\x00"
    with pytest.raises(DecodeError, match="section size mismatch") as exc:
        decode_module(data)
    assert exc.value.section == "type"
    assert exc.value.offset == 8 + 2 + 4


def test_section_past_end_of_module() -> None:
    with pytest.raises(DecodeError, match="length out of bounds"):
        decode_module(HEADER + b"\x01\x10\x00")


@pytest.mark.parametrize(
    "sections, what",
    [
        ([section(3, vec([])), section(1, vec([]))], "out-of-order type"),
        ([section(1, vec([])), section(1, vec([]))], "duplicate type"),
        ([section(10, vec([])), section(12, uleb(0))], "out-of-order data count"),
    ],
)
def test_section_order(sections: list[bytes], what: str) -> None:
    with pytest.raises(DecodeError, match=f"unexpected content after last section: {what}"):
        decode_module(module(*sections))


def test_custom_sections_anywhere_and_kept() -> None:
    data = module(
        section(0, name("first") + b"\x01\x02"),
        section(1, vec([])),
        section(0, name("second")),
    )
    m = decode_module(data)
    assert m.custom_sections == [("first", b"\x01\x02"), ("second", b"")]


def test_custom_section_name_must_be_utf8() -> None:
    with pytest.raises(DecodeError, match="malformed UTF-8 encoding") as exc:
        decode_module(module(section(0, b"\x02\xc0\x80")))
    assert exc.value.section == "custom"


# ---------------------------------------------------------------------------
# LEB128
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, value",
    [
        (b"\x00", 0),
        (b"\x7f", 127),
        (b"\x80\x01", 128),
        (b"\x80\x00", 0),  # redundant but allowed (within 5 bytes)
        (b"\x80\x80\x80\x80\x00", 0),
        (b"\xff\xff\xff\xff\x0f", 0xFFFFFFFF),
    ],
)
def test_u32_values(raw: bytes, value: int) -> None:
    assert _read_u32(raw, 0, len(raw)) == (value, len(raw))


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"\x80\x80\x80\x80\x80\x00", "integer representation too long"),
        (b"\xff\xff\xff\xff\x1f", "integer too large"),
        (b"\x80\x80\x80\x80\x10", "integer too large"),
        (b"\x80\x80", "unexpected end"),
    ],
)
def test_u32_errors(raw: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        _read_u32(raw, 0, len(raw))


@pytest.mark.parametrize(
    "raw, bits, value",
    [
        (b"\x7f", 32, -1),
        (b"\x3f", 32, 63),
        (b"\x40", 32, -64),
        (b"\xff\xff\xff\xff\x07", 32, 2**31 - 1),
        (b"\x80\x80\x80\x80\x78", 32, -(2**31)),
        (b"\xff\xff\xff\xff\x7f", 32, -1),
        (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00", 64, 2**63 - 1),
        (b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x7f", 64, -(2**63)),
        (b"\xff\xff\xff\xff\x0f", 33, 2**32 - 1),
    ],
)
def test_sleb_values(raw: bytes, bits: int, value: int) -> None:
    assert _read_sleb(raw, 0, len(raw), bits) == (value, len(raw))


@pytest.mark.parametrize(
    "raw, bits, message",
    [
        (b"\xff\xff\xff\xff\x0f", 32, "integer too large"),  # sign bit 0 but unused bits set
        (b"\x80\x80\x80\x80\x70", 32, "integer too large"),  # negative, unused bits not all 1
        (b"\x80\x80\x80\x80\x80\x00", 32, "integer representation too long"),
        (b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02", 64, "integer too large"),
        (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x41", 64, "integer too large"),
        (b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 64, "integer representation too long"),
    ],
)
def test_sleb_errors(raw: bytes, bits: int, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        _read_sleb(raw, 0, len(raw), bits)


def test_leb_error_in_code_names_function_and_offset() -> None:
    # i32.const with a 6-byte immediate, in the second function (index 1).
    bad = b"\x41\x80\x80\x80\x80\x80\x00\x1a\x0b"
    data = module(
        section(1, vec([functype([], [])])),
        section(3, vec([uleb(0), uleb(0)])),
        section(10, vec([code_entry(b"\x0b"), code_entry(bad)])),
    )
    with pytest.raises(DecodeError, match="integer representation too long") as exc:
        decode_module(data)
    e = exc.value
    assert (e.section, e.func_index) == ("code", 1)
    assert data[e.offset - 1:e.offset + 6] == b"\x41\x80\x80\x80\x80\x80\x00"
    assert "code section, function 1, offset 0x" in str(e)


# ---------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------
def test_type_section() -> None:
    m = decode_module(module(section(1, vec([
        functype([I32, I64], [F32]),
        functype([], [F64, FUNCREF, EXTERNREF]),
    ]))))
    assert m.types == [FuncType(("i32", "i64"), ("f32",)), FuncType((), ("f64", "funcref", "externref"))]


def test_type_section_rejects_bad_form_and_valtype() -> None:
    with pytest.raises(DecodeError, match="malformed function type"):
        decode_module(module(section(1, vec([b"\x61\x00\x00"]))))
    with pytest.raises(DecodeError, match="malformed value type") as exc:
        decode_module(module(section(1, vec([b"\x60\x01\x40\x00"]))))
    assert exc.value.offset == 8 + 2 + 3


def test_import_section_all_kinds() -> None:
    imports = [
        name("env") + name("f") + b"\x00" + uleb(0),
        name("env") + name("t") + b"\x01" + bytes([FUNCREF]) + b"\x01" + uleb(1) + uleb(10),
        name("env") + name("m") + b"\x02" + b"\x00" + uleb(2),
        name("env") + name("g") + b"\x03" + bytes([I64]) + b"\x01",
    ]
    m = decode_module(module(section(1, vec([functype([], [])])), section(2, vec(imports))))
    assert [(i.module, i.name, i.kind) for i in m.imports] == [
        ("env", "f", "func"), ("env", "t", "table"), ("env", "m", "memory"), ("env", "g", "global"),
    ]
    assert m.imports[0].desc == 0
    assert m.imports[1].desc == TableType("funcref", Limits(1, 10))
    assert m.imports[2].desc == MemoryType(Limits(2, None))
    assert m.imports[3].desc == GlobalType("i64", True)
    assert m.num_imported_funcs == 1 and m.num_imported_globals == 1


def test_import_errors() -> None:
    with pytest.raises(DecodeError, match="malformed import kind"):
        decode_module(module(section(2, vec([name("a") + name("b") + b"\x04\x00"]))))
    with pytest.raises(DecodeError, match="malformed mutability"):
        decode_module(module(section(2, vec([name("a") + name("b") + b"\x03\x7f\x02"]))))
    with pytest.raises(DecodeError, match="malformed UTF-8"):
        decode_module(module(section(2, vec([b"\x01\xff" + name("b") + b"\x00\x00"]))))


def test_table_memory_global_export_start() -> None:
    data = module(
        section(1, vec([functype([], [])])),
        section(3, vec([uleb(0)])),
        section(4, vec([bytes([EXTERNREF]) + b"\x00" + uleb(3)])),
        section(5, vec([b"\x01" + uleb(1) + uleb(2)])),
        section(6, vec([bytes([I32]) + b"\x00" + b"\x41" + sleb(-5) + b"\x0b"])),
        section(7, vec([name("run") + b"\x00" + uleb(0), name("mem") + b"\x02" + uleb(0)])),
        section(8, uleb(0)),
        section(10, vec([code_entry(b"\x0b")])),
    )
    m = decode_module(data)
    assert m.tables == [TableType("externref", Limits(3, None))]
    assert m.memories == [MemoryType(Limits(1, 2))]
    assert m.memories[0].page_size == 65536
    assert m.globals[0].type == GlobalType("i32", False)
    assert [(i.op, i.imm) for i in m.globals[0].init] == [("i32.const", -5)]  # no final end
    assert [(e.name, e.kind, e.index) for e in m.exports] == [("run", "func", 0), ("mem", "memory", 0)]
    assert m.start == 0


def test_limits_flags() -> None:
    with pytest.raises(DecodeError, match="malformed table limits flags"):
        decode_module(module(section(4, vec([b"\x70\x02\x00"]))))
    # Threads: 0x03 is a shared memory with a maximum; shared without one (0x02) is malformed.
    assert decode_module(module(section(5, vec([b"\x03\x00\x01"])))).memories == \
        [MemoryType(Limits(0, 1, shared=True))]
    with pytest.raises(DecodeError, match="a shared memory must have a maximum"):
        decode_module(module(section(5, vec([b"\x02\x00"]))))
    with pytest.raises(DecodeError, match="memory64"):
        decode_module(module(section(5, vec([b"\x04\x00"]))))
    with pytest.raises(DecodeError, match="malformed memory limits flags"):
        decode_module(module(section(5, vec([b"\x10\x00"]))))


def _elem_module(segment: bytes) -> bytes:
    return module(
        section(1, vec([functype([], [])])),
        section(3, vec([uleb(0), uleb(0)])),
        section(4, vec([b"\x70\x00\x01"])),
        section(9, vec([segment])),
        section(10, vec([code_entry(b"\x0b"), code_entry(b"\x0b")])),
    )


OFFSET0 = b"\x41\x00\x0b"
REF_FUNC_1 = b"\xd2\x01\x0b"
REF_NULL = b"\xd0\x70\x0b"


@pytest.mark.parametrize(
    "segment, mode, table, has_offset, elem_type, init",
    [
        (uleb(0) + OFFSET0 + vec([uleb(1)]), "active", 0, True, "funcref", [("ref.func", 1)]),
        (uleb(1) + b"\x00" + vec([uleb(0), uleb(1)]), "passive", 0, False, "funcref",
         [("ref.func", 0), ("ref.func", 1)]),
        (uleb(2) + uleb(0) + OFFSET0 + b"\x00" + vec([uleb(1)]), "active", 0, True, "funcref",
         [("ref.func", 1)]),
        (uleb(3) + b"\x00" + vec([uleb(0)]), "declarative", 0, False, "funcref", [("ref.func", 0)]),
        (uleb(4) + OFFSET0 + vec([REF_FUNC_1, REF_NULL]), "active", 0, True, "funcref",
         [("ref.func", 1), ("ref.null", "funcref")]),
        (uleb(5) + b"\x6f" + vec([b"\xd0\x6f\x0b"]), "passive", 0, False, "externref",
         [("ref.null", "externref")]),
        (uleb(6) + uleb(0) + OFFSET0 + b"\x70" + vec([REF_FUNC_1]), "active", 0, True, "funcref",
         [("ref.func", 1)]),
        (uleb(7) + b"\x70" + vec([REF_FUNC_1]), "declarative", 0, False, "funcref", [("ref.func", 1)]),
    ],
    ids=[f"flags{i}" for i in range(8)],
)
def test_element_segment_encodings(segment, mode, table, has_offset, elem_type, init) -> None:
    seg = decode_module(_elem_module(segment)).elems[0]
    assert seg.mode == mode and seg.table == table and seg.elem_type == elem_type
    assert (seg.offset_expr is not None) == has_offset
    if has_offset:
        assert [(i.op, i.imm) for i in seg.offset_expr] == [("i32.const", 0)]
    assert [[(i.op, i.imm) for i in expr] for expr in seg.init] == [[x] for x in init]


def test_element_segment_errors() -> None:
    with pytest.raises(DecodeError, match="malformed elements segment kind"):
        decode_module(_elem_module(uleb(8)))
    with pytest.raises(DecodeError, match="malformed element kind"):
        decode_module(_elem_module(uleb(1) + b"\x01" + vec([])))
    with pytest.raises(DecodeError, match="malformed reference type"):
        decode_module(_elem_module(uleb(5) + b"\x7f" + vec([])))


def test_data_segments_and_data_count() -> None:
    data = module(
        section(5, vec([b"\x00\x01"])),
        section(12, uleb(3)),
        section(11, vec([
            uleb(0) + OFFSET0 + vec([b"a", b"b"]),
            uleb(1) + vec([b"x"]),
            uleb(2) + uleb(0) + b"\x41\x08\x0b" + vec([]),
        ])),
    )
    m = decode_module(data)
    assert m.data_count == 3
    assert [(d.mode, d.data, d.memory) for d in m.datas] == [
        ("active", b"ab", 0), ("passive", b"x", 0), ("active", b"", 0),
    ]
    assert [(i.op, i.imm) for i in m.datas[2].offset_expr] == [("i32.const", 8)]


def test_data_count_mismatch() -> None:
    with pytest.raises(DecodeError, match="data count and data section have inconsistent lengths"):
        decode_module(module(section(5, vec([b"\x00\x01"])), section(12, uleb(2)),
                             section(11, vec([uleb(1) + vec([])]))))
    with pytest.raises(DecodeError, match="data count and data section have inconsistent lengths"):
        decode_module(module(section(12, uleb(1))))


def test_data_segment_kind() -> None:
    with pytest.raises(DecodeError, match="malformed data segment kind"):
        decode_module(module(section(11, vec([uleb(3)]))))


def test_function_and_code_counts_must_agree() -> None:
    with pytest.raises(DecodeError, match="function and code section have inconsistent lengths"):
        decode_module(module(section(1, vec([functype([], [])])), section(3, vec([uleb(0)]))))
    with pytest.raises(DecodeError, match="function and code section have inconsistent lengths"):
        decode_module(module(section(1, vec([functype([], [])])), section(3, vec([uleb(0)])),
                             section(10, vec([code_entry(b"\x0b"), code_entry(b"\x0b")]))))


def test_locals_are_expanded() -> None:
    f = decode_module(one_func(b"\x0b", params=[I32], local_groups=[(2, I64), (0, F32), (1, F64)])).functions[0]
    assert f.locals == ["i64", "i64", "f64"]
    assert f.body_size == 1 + 3 * 2 + 1


def test_too_many_locals() -> None:
    with pytest.raises(DecodeError, match="too many locals"):
        decode_module(one_func(b"\x0b", local_groups=[(0xFFFFFFFF, I32), (2, I64)]))
    with pytest.raises(UnsupportedError, match="too many locals"):
        decode_module(one_func(b"\x0b", local_groups=[(MAX_LOCALS + 1, I32)]))


# ---------------------------------------------------------------------------
# Instructions
# ---------------------------------------------------------------------------
def test_function_body_keeps_final_end_and_offsets() -> None:
    data = one_func(b"\x41\x2a\x1a\x0b")
    body = body_of(data)
    assert [(i.op, i.imm) for i in body] == [("i32.const", 42), ("drop", None), ("end", None)]
    for ins, byte in zip(body, (0x41, 0x1A, 0x0B)):
        assert data[ins.offset] == byte


def test_constants() -> None:
    nan_payload = 0x7FA00001  # a signalling NaN: the bits must survive as-is
    body = (b"\x41" + sleb(-2**31) + b"\x42" + sleb(-1) + b"\x42" + sleb(2**63 - 1)
            + b"\x43" + struct.pack("<I", nan_payload) + b"\x44" + struct.pack("<Q", 0xFFF8000000000001)
            + b"\x1a" * 5 + b"\x0b")
    assert ops(one_func(body))[:5] == [
        ("i32.const", -2**31), ("i64.const", -1), ("i64.const", 2**63 - 1),
        ("f32.const", nan_payload), ("f64.const", 0xFFF8000000000001),
    ]


def test_block_types() -> None:
    data = module(
        section(1, vec([functype([], []), functype([I32], [I32, I32])])),
        section(3, vec([uleb(0)])),
        section(10, vec([code_entry(
            b"\x02\x40\x0b" + b"\x03\x7f\x41\x00\x0b\x1a" + b"\x41\x00\x04\x01\x05\x0b\x1a\x1a\x0b"
        )])),
    )
    body = [(i.op, i.imm) for i in decode_module(data).functions[0].body]
    assert body[0] == ("block", None)
    assert body[2] == ("loop", "i32")
    assert body[7] == ("if", 1)
    assert body[8] == ("else", None)


def test_negative_block_type_index_is_malformed() -> None:
    with pytest.raises(DecodeError, match="malformed block type"):
        decode_module(one_func(b"\x02\x7a\x0b\x0b"))


def test_branch_call_memory_immediates() -> None:
    body = (b"\x02\x40"
            b"\x0e\x02\x00\x01\x00"  # br_table 0 1 (default 0)
            b"\x0b"
            b"\x41\x00\x11\x00\x00"  # call_indirect type 0 table 0
            b"\x41\x00\x28\x02\x10\x1a"  # i32.load align=4 offset=16
            b"\x3f\x00\x1a"  # memory.size
            b"\x41\x00\x36\x00\x80\x01"  # i32.store align=1 offset=128
            b"\x0b")
    got = ops(one_func(body))
    assert ("br_table", ((0, 1), 0)) in got
    assert ("call_indirect", (0, 0)) in got
    assert ("i32.load", MemArg(2, 16)) in got
    assert ("memory.size", 0) in got
    assert ("i32.store", MemArg(0, 128)) in got


def test_reference_and_parametric_ops() -> None:
    body = (b"\xd0\x70\xd1\x1a" + b"\xd2\x00\x1a"
            + b"\x41\x01\x41\x02\x41\x00\x1c\x01\x7f\x1a"
            + b"\x41\x01\x41\x02\x41\x00\x1b\x1a\x0b")
    got = ops(one_func(body))
    assert ("ref.null", "funcref") in got and ("ref.is_null", None) in got and ("ref.func", 0) in got
    assert ("select", ("i32",)) in got and ("select", None) in got


def test_prefixed_ops() -> None:
    body = (b"\xfc\x00" + b"\xfc\x07"
            + b"\xfc\x08\x00\x00" + b"\xfc\x09\x00"
            + b"\xfc\x0a\x00\x00" + b"\xfc\x0b\x00"
            + b"\xfc\x0c\x01\x00" + b"\xfc\x0d\x01"
            + b"\xfc\x0e\x00\x01" + b"\xfc\x0f\x00" + b"\xfc\x10\x00" + b"\xfc\x11\x00" + b"\x0b")
    data = module(
        section(1, vec([functype([], [])])), section(3, vec([uleb(0)])),
        section(12, uleb(1)), section(10, vec([code_entry(body)])),
        section(11, vec([uleb(1) + vec([b"z"])])),
    )
    got = [(i.op, i.imm) for i in decode_module(data).functions[0].body]
    assert got == [
        ("i32.trunc_sat_f32_s", None), ("i64.trunc_sat_f64_u", None),
        ("memory.init", (0, 0)), ("data.drop", 0), ("memory.copy", (0, 0)), ("memory.fill", 0),
        ("table.init", (1, 0)), ("elem.drop", 1), ("table.copy", (0, 1)),
        ("table.grow", 0), ("table.size", 0), ("table.fill", 0), ("end", None),
    ]


def test_tail_calls() -> None:
    got = ops(one_func(b"\x12\x00\x41\x00\x13\x00\x00\x0b"))
    assert got == [("return_call", 0), ("i32.const", 0), ("return_call_indirect", (0, 0)), ("end", None)]


def test_memory_init_needs_data_count() -> None:
    with pytest.raises(DecodeError, match="data count section required"):
        decode_module(one_func(b"\xfc\x09\x00\x0b"))


@pytest.mark.parametrize(
    "body, message",
    [
        (b"\x3f\x01\x1a\x0b", "zero byte expected"),
        (b"\x06\x0b", "illegal opcode 0x06"),
        (b"\xfc\x12\x0b", "illegal opcode 0xfc"),
        (b"\x05\x0b", "else without matching if"),
        (b"\x02\x40\x05\x0b\x0b", "else without matching if"),
        (b"\x01", "unexpected end"),
        (b"\x0b\x01", "section size mismatch"),
        (b"\x43\x00\x00", "unexpected end"),
    ],
)
def test_body_errors(body: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message) as exc:
        decode_module(one_func(body))
    assert exc.value.section == "code" and exc.value.func_index == 0


def test_function_index_counts_imports() -> None:
    data = module(
        section(1, vec([functype([], [])])),
        section(2, vec([name("env") + name("f") + b"\x00\x00"])),
        section(3, vec([uleb(0)])),
        section(10, vec([code_entry(b"\x06\x0b")])),
    )
    with pytest.raises(DecodeError) as exc:
        decode_module(data)
    assert exc.value.func_index == 1
    assert data[exc.value.offset] == 0x06


def test_constant_expression_may_hold_any_instruction() -> None:
    # Whether it is constant is the validator's call; the decoder just reads it.
    data = module(section(6, vec([bytes([I32]) + b"\x00\x41\x01\x41\x02\x6a\x0b"])))
    assert [i.op for i in decode_module(data).globals[0].init] == ["i32.const", "i32.const", "i32.add"]


def test_constant_expression_without_end() -> None:
    data = module(section(6, vec([bytes([I32]) + b"\x00\x41\x00"])))
    with pytest.raises(DecodeError, match="unexpected end") as exc:
        decode_module(data)
    assert exc.value.section == "global"


# ---------------------------------------------------------------------------
# The name section
# ---------------------------------------------------------------------------
def _name_section(*subsections: tuple[int, bytes]) -> bytes:
    return section(0, name("name") + b"".join(bytes([i]) + uleb(len(p)) + p for i, p in subsections))


def test_name_section() -> None:
    data = one_func(b"\x0b", params=[I32], local_groups=[(1, I64)]) + _name_section(
        (0, name("mod")),
        (1, vec([uleb(0) + name("main")])),
        (2, vec([uleb(0) + vec([uleb(0) + name("x"), uleb(1) + name("tmp")])])),
    )
    m = decode_module(data)
    assert m.names.module == "mod"
    assert m.names.functions == {0: "main"}
    assert m.names.locals == {0: {0: "x", 1: "tmp"}}
    assert m.func_name(0) == "main"
    assert m.custom_sections == []


@pytest.mark.parametrize(
    "subsections",
    [
        [(1, b"\x05\x00")],  # vector longer than the subsection
        [(1, vec([uleb(0) + b"\x01\xff"]))],  # bad UTF-8
        [(1, vec([])), (0, name("late"))],  # subsections out of order
        [(0, name("m") + b"\x00")],  # trailing byte in a subsection
    ],
)
def test_malformed_name_section_is_ignored(subsections) -> None:
    m = decode_module(one_func(b"\x0b") + _name_section(*subsections))
    assert m.names.module is None and m.names.functions == {}


# ---------------------------------------------------------------------------
# custom-page-sizes
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "limits, expected",
    [
        (b"\x08\x00\x00", Limits(0, None, page_size_log2=0)),
        (b"\x09\x01\x02\x00", Limits(1, 2, page_size_log2=0)),
        (b"\x08\x01\x10", Limits(1, None, page_size_log2=16)),
        (b"\x08" + uleb(0xFFFFFFFF) + b"\x00", Limits(0xFFFFFFFF, None, page_size_log2=0)),
        (b"\x08\x00\x01", Limits(0, None, page_size_log2=1)),  # decodes; invalid later
    ],
)
def test_custom_page_size_encoding(limits: bytes, expected: Limits) -> None:
    m = decode_module(module(section(5, vec([limits]))))
    assert m.memories[0].limits == expected


def test_custom_page_size_import() -> None:
    m = decode_module(module(section(2, vec([name("m") + name("mem") + b"\x02\x08\x00\x00"]))))
    assert m.imports[0].desc.page_size == 1


def test_custom_page_size_too_large_is_malformed() -> None:
    # From the proposal's binary tests: 2**65 cannot be represented.
    with pytest.raises(DecodeError, match="invalid custom page size") as exc:
        decode_module(HEADER + b"\x05\x04\x01\x08\x00\x41")
    assert exc.value.section == "memory" and exc.value.offset == 13


# ---------------------------------------------------------------------------
# SIMD
# ---------------------------------------------------------------------------
def test_simd_value_type_is_unsupported() -> None:
    with pytest.raises(UnsupportedError, match="SIMD is not supported yet") as exc:
        decode_module(module(section(1, vec([functype([V128], [])]))))
    assert exc.value.section == "type"


def test_simd_opcode_is_unsupported_with_place() -> None:
    body = b"\xfd\x0c" + bytes(16) + b"\x1a\x0b"  # v128.const 0; drop
    data = module(
        section(1, vec([functype([], [])])),
        section(3, vec([uleb(0), uleb(0)])),
        section(10, vec([code_entry(b"\x0b"), code_entry(body)])),
    )
    with pytest.raises(UnsupportedError, match="SIMD is not supported yet") as exc:
        decode_module(data)
    e = exc.value
    assert (e.section, e.func_index) == ("code", 1)
    assert data[e.offset] == 0xFD


def test_malformed_wins_over_simd() -> None:
    body = b"\xfd\x0c" + bytes(16) + b"\x1a\x0b"
    data = one_func(body) + section(11, vec([uleb(7)]))  # a broken data segment after the code
    with pytest.raises(DecodeError, match="malformed data segment kind"):
        decode_module(data)


def test_memoryview_input() -> None:
    data = one_func(b"\x0b")
    assert len(decode_module(memoryview(data)).functions) == 1


# ---------------------------------------------------------------------------
# Robustness: damaged input is refused with an AotError, never a crash
# ---------------------------------------------------------------------------
def test_mutated_modules_never_crash() -> None:
    import random

    from aot.errors import AotError
    from aot.wasm.validate import validate_module

    seeds = [
        _elem_module(uleb(6) + uleb(0) + OFFSET0 + b"\x70" + vec([REF_FUNC_1])),
        one_func(b"\x02\x40\x0e\x02\x00\x01\x00\x0b\x41\x00\x11\x00\x00\x41\x00\x28\x02\x10\x1a\x0b",
                 local_groups=[(2, I64)]),
        one_func(b"\x41\x00\x04\x7f\x42\x01\x05\x43\x00\x00\x80\x3f\x0b\x1a\xfc\x00\x0b"),
        module(section(5, vec([b"\x09\x01\x02\x00"])), section(12, uleb(1)),
               section(11, vec([uleb(1) + vec([b"x"])]))),
    ]
    rng = random.Random(20261127)
    for _ in range(3000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(data))
            r = rng.random()
            if r < 0.6:
                data[i] = rng.randrange(256)
            elif r < 0.8:
                del data[i]
            else:
                data.insert(i, rng.randrange(256))
        try:
            validate_module(decode_module(bytes(data)))
        except AotError:
            pass
