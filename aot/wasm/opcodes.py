"""The Wasm 2.0 (+ tail-call, extended-const, threads) opcode table: byte -> mnemonic, immediate shape, stack signature.

Built once at import.  `decode` dispatches on `IMM_KIND[byte]` to read the
immediates; `validate` checks every instruction with a fixed stack effect
through `SIGNATURES[op]` and handles the rest (control, variables, tables,
references, parametric ops) one by one.  Keeping the table in one place means
the decoder and the validator cannot disagree on which opcodes exist.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------
# Immediate kinds: how the decoder reads what follows the opcode byte.
# ---------------------------------------------------------------------------
ILLEGAL = -1
NONE = 0  # no immediates
INDEX = 1  # one u32 (label depth, function, local, global, table, elem, data index)
MEMARG = 2  # align u32, offset u32
I32_CONST = 3
I64_CONST = 4
F32_CONST = 5
F64_CONST = 6
BLOCK = 7  # block type (block, loop, if)
BR_TABLE = 8
CALL_INDIRECT = 9  # type index u32, table index u32
END = 10
ELSE = 11
ZERO_BYTE = 12  # memory.size / memory.grow: one reserved 0x00 byte (the memory index)
SELECT_T = 13  # vec(valtype)
REF_NULL = 14  # reftype byte
PREFIX_FC = 15
PREFIX_FD = 16  # SIMD: not supported
PREFIX_FE = 17  # threads: atomic memory accesses, wait/notify, fence

# Sub-opcode kinds after the 0xFC prefix.
FC_NONE = 0
FC_MEMORY_INIT = 1  # data index u32, reserved 0x00
FC_INDEX = 2  # one u32 (data.drop, elem.drop, table.grow/size/fill)
FC_MEMORY_COPY = 3  # two reserved 0x00
FC_MEMORY_FILL = 4  # one reserved 0x00
FC_TWO_INDEX = 5  # table.init (elem, table), table.copy (dst, src)

VALTYPE_BYTES: dict[int, str] = {
    0x7F: "i32",
    0x7E: "i64",
    0x7D: "f32",
    0x7C: "f64",
    0x7B: "v128",
    0x70: "funcref",
    0x6F: "externref",
}
REFTYPE_BYTES: dict[int, str] = {0x70: "funcref", 0x6F: "externref"}

NAMES: list[str | None] = [None] * 256
IMM_KIND: list[int] = [ILLEGAL] * 256

# Stack effect of every op whose effect does not depend on context or
# immediates: op -> (params, results).  Params are popped last-first.
SIGNATURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}

# Natural alignment (log2 of the access width in bytes) of each memory op.
NATURAL_ALIGN: dict[str, int] = {}


def _op(byte: int, name: str, kind: int = NONE, sig: tuple | None = None) -> None:
    NAMES[byte] = name
    IMM_KIND[byte] = kind
    if sig is not None:
        SIGNATURES[name] = (tuple(sig[0]), tuple(sig[1]))


# --- control ---------------------------------------------------------------
_op(0x00, "unreachable")
_op(0x01, "nop", sig=((), ()))
_op(0x02, "block", BLOCK)
_op(0x03, "loop", BLOCK)
_op(0x04, "if", BLOCK)
_op(0x05, "else", ELSE)
_op(0x0B, "end", END)
_op(0x0C, "br", INDEX)
_op(0x0D, "br_if", INDEX)
_op(0x0E, "br_table", BR_TABLE)
_op(0x0F, "return")
_op(0x10, "call", INDEX)
_op(0x11, "call_indirect", CALL_INDIRECT)
_op(0x12, "return_call", INDEX)
_op(0x13, "return_call_indirect", CALL_INDIRECT)

# --- parametric ------------------------------------------------------------
_op(0x1A, "drop")
_op(0x1B, "select")
_op(0x1C, "select", SELECT_T)

# --- variables and tables --------------------------------------------------
_op(0x20, "local.get", INDEX)
_op(0x21, "local.set", INDEX)
_op(0x22, "local.tee", INDEX)
_op(0x23, "global.get", INDEX)
_op(0x24, "global.set", INDEX)
_op(0x25, "table.get", INDEX)
_op(0x26, "table.set", INDEX)

# --- memory ----------------------------------------------------------------
_LOADS = [
    (0x28, "i32.load", "i32", 2), (0x29, "i64.load", "i64", 3),
    (0x2A, "f32.load", "f32", 2), (0x2B, "f64.load", "f64", 3),
    (0x2C, "i32.load8_s", "i32", 0), (0x2D, "i32.load8_u", "i32", 0),
    (0x2E, "i32.load16_s", "i32", 1), (0x2F, "i32.load16_u", "i32", 1),
    (0x30, "i64.load8_s", "i64", 0), (0x31, "i64.load8_u", "i64", 0),
    (0x32, "i64.load16_s", "i64", 1), (0x33, "i64.load16_u", "i64", 1),
    (0x34, "i64.load32_s", "i64", 2), (0x35, "i64.load32_u", "i64", 2),
]
for _b, _n, _t, _a in _LOADS:
    _op(_b, _n, MEMARG, (("i32",), (_t,)))
    NATURAL_ALIGN[_n] = _a
_STORES = [
    (0x36, "i32.store", "i32", 2), (0x37, "i64.store", "i64", 3),
    (0x38, "f32.store", "f32", 2), (0x39, "f64.store", "f64", 3),
    (0x3A, "i32.store8", "i32", 0), (0x3B, "i32.store16", "i32", 1),
    (0x3C, "i64.store8", "i64", 0), (0x3D, "i64.store16", "i64", 1),
    (0x3E, "i64.store32", "i64", 2),
]
for _b, _n, _t, _a in _STORES:
    _op(_b, _n, MEMARG, (("i32", _t), ()))
    NATURAL_ALIGN[_n] = _a
_op(0x3F, "memory.size", ZERO_BYTE)
_op(0x40, "memory.grow", ZERO_BYTE)

# --- constants -------------------------------------------------------------
_op(0x41, "i32.const", I32_CONST, ((), ("i32",)))
_op(0x42, "i64.const", I64_CONST, ((), ("i64",)))
_op(0x43, "f32.const", F32_CONST, ((), ("f32",)))
_op(0x44, "f64.const", F64_CONST, ((), ("f64",)))


# --- numeric ---------------------------------------------------------------
def _family(start: int, prefix: str, names: list[str], sig: tuple) -> int:
    for i, name in enumerate(names):
        _op(start + i, f"{prefix}.{name}", NONE, sig)
    return start + len(names)


_INT_CMP = ["eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"]
_FLOAT_CMP = ["eq", "ne", "lt", "gt", "le", "ge"]
_INT_UN = ["clz", "ctz", "popcnt"]
_INT_BIN = ["add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor",
            "shl", "shr_s", "shr_u", "rotl", "rotr"]
_FLOAT_UN = ["abs", "neg", "ceil", "floor", "trunc", "nearest", "sqrt"]
_FLOAT_BIN = ["add", "sub", "mul", "div", "min", "max", "copysign"]

_op(0x45, "i32.eqz", NONE, (("i32",), ("i32",)))
_family(0x46, "i32", _INT_CMP, (("i32", "i32"), ("i32",)))
_op(0x50, "i64.eqz", NONE, (("i64",), ("i32",)))
_family(0x51, "i64", _INT_CMP, (("i64", "i64"), ("i32",)))
_family(0x5B, "f32", _FLOAT_CMP, (("f32", "f32"), ("i32",)))
_family(0x61, "f64", _FLOAT_CMP, (("f64", "f64"), ("i32",)))
_family(0x67, "i32", _INT_UN, (("i32",), ("i32",)))
_family(0x6A, "i32", _INT_BIN, (("i32", "i32"), ("i32",)))
_family(0x79, "i64", _INT_UN, (("i64",), ("i64",)))
_family(0x7C, "i64", _INT_BIN, (("i64", "i64"), ("i64",)))
_family(0x8B, "f32", _FLOAT_UN, (("f32",), ("f32",)))
_family(0x92, "f32", _FLOAT_BIN, (("f32", "f32"), ("f32",)))
_family(0x99, "f64", _FLOAT_UN, (("f64",), ("f64",)))
_family(0xA0, "f64", _FLOAT_BIN, (("f64", "f64"), ("f64",)))

_CONVERSIONS = [
    (0xA7, "i32.wrap_i64", "i64", "i32"),
    (0xA8, "i32.trunc_f32_s", "f32", "i32"), (0xA9, "i32.trunc_f32_u", "f32", "i32"),
    (0xAA, "i32.trunc_f64_s", "f64", "i32"), (0xAB, "i32.trunc_f64_u", "f64", "i32"),
    (0xAC, "i64.extend_i32_s", "i32", "i64"), (0xAD, "i64.extend_i32_u", "i32", "i64"),
    (0xAE, "i64.trunc_f32_s", "f32", "i64"), (0xAF, "i64.trunc_f32_u", "f32", "i64"),
    (0xB0, "i64.trunc_f64_s", "f64", "i64"), (0xB1, "i64.trunc_f64_u", "f64", "i64"),
    (0xB2, "f32.convert_i32_s", "i32", "f32"), (0xB3, "f32.convert_i32_u", "i32", "f32"),
    (0xB4, "f32.convert_i64_s", "i64", "f32"), (0xB5, "f32.convert_i64_u", "i64", "f32"),
    (0xB6, "f32.demote_f64", "f64", "f32"),
    (0xB7, "f64.convert_i32_s", "i32", "f64"), (0xB8, "f64.convert_i32_u", "i32", "f64"),
    (0xB9, "f64.convert_i64_s", "i64", "f64"), (0xBA, "f64.convert_i64_u", "i64", "f64"),
    (0xBB, "f64.promote_f32", "f32", "f64"),
    (0xBC, "i32.reinterpret_f32", "f32", "i32"), (0xBD, "i64.reinterpret_f64", "f64", "i64"),
    (0xBE, "f32.reinterpret_i32", "i32", "f32"), (0xBF, "f64.reinterpret_i64", "i64", "f64"),
    # sign-extension operators
    (0xC0, "i32.extend8_s", "i32", "i32"), (0xC1, "i32.extend16_s", "i32", "i32"),
    (0xC2, "i64.extend8_s", "i64", "i64"), (0xC3, "i64.extend16_s", "i64", "i64"),
    (0xC4, "i64.extend32_s", "i64", "i64"),
]
for _b, _n, _src, _dst in _CONVERSIONS:
    _op(_b, _n, NONE, ((_src,), (_dst,)))

# --- reference types -------------------------------------------------------
_op(0xD0, "ref.null", REF_NULL)
_op(0xD1, "ref.is_null")
_op(0xD2, "ref.func", INDEX)

# --- prefixes --------------------------------------------------------------
IMM_KIND[0xFC] = PREFIX_FC
IMM_KIND[0xFD] = PREFIX_FD

# 0xFC sub-opcodes: index -> (name, kind)
FC_OPS: list[tuple[str, int]] = [
    ("i32.trunc_sat_f32_s", FC_NONE), ("i32.trunc_sat_f32_u", FC_NONE),
    ("i32.trunc_sat_f64_s", FC_NONE), ("i32.trunc_sat_f64_u", FC_NONE),
    ("i64.trunc_sat_f32_s", FC_NONE), ("i64.trunc_sat_f32_u", FC_NONE),
    ("i64.trunc_sat_f64_s", FC_NONE), ("i64.trunc_sat_f64_u", FC_NONE),
    ("memory.init", FC_MEMORY_INIT), ("data.drop", FC_INDEX),
    ("memory.copy", FC_MEMORY_COPY), ("memory.fill", FC_MEMORY_FILL),
    ("table.init", FC_TWO_INDEX), ("elem.drop", FC_INDEX),
    ("table.copy", FC_TWO_INDEX), ("table.grow", FC_INDEX),
    ("table.size", FC_INDEX), ("table.fill", FC_INDEX),
]
for _n, _src, _dst in [
    ("i32.trunc_sat_f32_s", "f32", "i32"), ("i32.trunc_sat_f32_u", "f32", "i32"),
    ("i32.trunc_sat_f64_s", "f64", "i32"), ("i32.trunc_sat_f64_u", "f64", "i32"),
    ("i64.trunc_sat_f32_s", "f32", "i64"), ("i64.trunc_sat_f32_u", "f32", "i64"),
    ("i64.trunc_sat_f64_s", "f64", "i64"), ("i64.trunc_sat_f64_u", "f64", "i64"),
]:
    SIGNATURES[_n] = ((_src,), (_dst,))
SIGNATURES["memory.copy"] = (("i32", "i32", "i32"), ())
SIGNATURES["memory.fill"] = (("i32", "i32", "i32"), ())

# 0xFE sub-opcodes (threads proposal): index -> name.  Every one but atomic.fence
# takes a memarg whose alignment must be exactly the natural one (ATOMIC_ALIGN);
# atomic.fence takes one reserved 0x00 byte.
IMM_KIND[0xFE] = PREFIX_FE
FE_OPS: dict[int, str] = {0x00: "memory.atomic.notify", 0x01: "memory.atomic.wait32",
                          0x02: "memory.atomic.wait64", 0x03: "atomic.fence"}
# Natural alignment (log2 of the access width) of each atomic memory op.
ATOMIC_ALIGN: dict[str, int] = {"memory.atomic.notify": 2, "memory.atomic.wait32": 2,
                                "memory.atomic.wait64": 3}
SIGNATURES["memory.atomic.notify"] = (("i32", "i32"), ("i32",))
SIGNATURES["memory.atomic.wait32"] = (("i32", "i32", "i64"), ("i32",))
SIGNATURES["memory.atomic.wait64"] = (("i32", "i64", "i64"), ("i32",))
SIGNATURES["atomic.fence"] = ((), ())
# (value type, access bits, name suffix) in the order of each group's sub-opcodes.
_ATOMIC_WIDTHS = [("i32", 32, ""), ("i64", 64, ""), ("i32", 8, "8"), ("i32", 16, "16"),
                  ("i64", 8, "8"), ("i64", 16, "16"), ("i64", 32, "32")]


def _atomic(sub: int, name: str, bits: int, sig: tuple) -> None:
    FE_OPS[sub] = name
    ATOMIC_ALIGN[name] = {8: 0, 16: 1, 32: 2, 64: 3}[bits]
    SIGNATURES[name] = sig


for _i, (_t, _bits, _sfx) in enumerate(_ATOMIC_WIDTHS):
    _u = "_u" if _sfx else ""
    _atomic(0x10 + _i, f"{_t}.atomic.load{_sfx}{_u}", _bits, (("i32",), (_t,)))
    _atomic(0x17 + _i, f"{_t}.atomic.store{_sfx}", _bits, (("i32", _t), ()))
    for _g, _rmw in enumerate(("add", "sub", "and", "or", "xor", "xchg")):
        _atomic(0x1E + 7 * _g + _i, f"{_t}.atomic.rmw{_sfx}.{_rmw}{_u}", _bits, (("i32", _t), (_t,)))
    _atomic(0x48 + _i, f"{_t}.atomic.rmw{_sfx}.cmpxchg{_u}", _bits, (("i32", _t, _t), (_t,)))

# Ops that may appear in a constant expression (Wasm 2.0 + extended-const).
CONST_OPS = frozenset({
    "i32.const", "i64.const", "f32.const", "f64.const", "ref.null", "ref.func", "global.get",
    "i32.add", "i32.sub", "i32.mul", "i64.add", "i64.sub", "i64.mul",
})
