"""The Wasm binary decoder: bytes -> `aot.wasm.module.Module`, rejecting malformed input.

Table of contents:
    decode_module()          header, then each section in order, then the cross-section checks
    _Decoder.<section>()     one method per section kind
    _decode_expr()           the instruction decoder (function bodies and constant expressions)
    _read_u32 / _read_sleb   LEB128 with the spec's "too long" / "too large" rules
    _parse_names()           the "name" custom section (never fatal)

Everything is one forward pass over a `bytes` object with an integer position;
instructions are dispatched on their first byte through the tables in
`aot.wasm.opcodes`.  Errors are `DecodeError`s carrying section, function index (in
the function index space, imports first) and the byte offset in the module.
A module that is well formed but uses SIMD (v128 or any 0xFD opcode) decodes to
the end and then raises `UnsupportedError`, so a malformed module is always
reported as malformed.
"""

from __future__ import annotations

import gc
import struct

from aot import limits
from aot.errors import AotError, DecodeError, LimitError, UnsupportedError
from aot.wasm import opcodes as _oc
from aot.wasm.module import (
    DataSegment,
    ElemSegment,
    Export,
    Function,
    FuncType,
    Global,
    GlobalType,
    Import,
    Instr,
    Limits,
    MemArg,
    MemoryType,
    Module,
    Names,
    TableType,
)

MAGIC = b"\x00asm"
VERSION = b"\x01\x00\x00\x00"

SECTION_NAMES = {
    0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory",
    6: "global", 7: "export", 8: "start", 9: "element", 10: "code", 11: "data",
    12: "data count",
}
# Position of each known section in the required order (custom sections go anywhere).
SECTION_ORDER = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12}
EXTERNAL_KINDS = ("func", "table", "memory", "global")

# Functions may declare at most this many locals.  The format allows 2^32-1;
# a larger count would make us build a list of billions of entries, so past
# this (the limit V8 and SpiderMonkey use) the module is refused.
MAX_LOCALS = limits.MAX_LOCALS

_VALTYPES = _oc.VALTYPE_BYTES
_MAX_NESTING = limits.MAX_NESTING  # module constants: read in the instruction loop
_MAX_BR_TABLE_LABELS = limits.MAX_BR_TABLE_LABELS
_REFTYPES = _oc.REFTYPE_BYTES
_UNPACK_F32 = struct.Struct("<I").unpack_from
_UNPACK_F64 = struct.Struct("<Q").unpack_from


def decode_module(data: bytes) -> Module:
    """Decode a Wasm binary.

    Raises DecodeError when it is malformed, UnsupportedError when it is well
    formed but uses SIMD, LimitError (an UnsupportedError) when it is beyond one
    of the limits in aot/limits.py."""
    if not isinstance(data, bytes):
        data = bytes(data)
    # Decoding allocates one Instr per instruction and nothing cyclic; with
    # the cycle collector running, its generation-0 passes over all those
    # young objects cost about 40% of decode time on large modules.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _Decoder(data).run()
    finally:
        if gc_was_enabled:
            gc.enable()


# ---------------------------------------------------------------------------
# LEB128
# ---------------------------------------------------------------------------
def _eof(pos: int) -> DecodeError:
    return DecodeError("unexpected end of section or function", offset=pos)


def _check_limit(what: str, count: int, name: str, offset: int) -> None:
    """LimitError when `count` of `what` exceeds the limit `name` of aot/limits.py."""
    limit = getattr(limits, name)
    if count > limit:
        raise LimitError(f"too many {what}: {count:,} (Waft's limit is {limit:,}: {name} in aot/limits.py)",
                         offset=offset)


def _read_u32(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Unsigned LEB128 of at most 5 bytes whose value fits in 32 bits."""
    result = 0
    shift = 0
    start = pos
    while True:
        if pos >= end:
            raise _eof(pos)
        b = data[pos]
        pos += 1
        if shift == 28:
            if b & 0x80:
                raise DecodeError("integer representation too long", offset=start)
            if b & 0x70:
                raise DecodeError("integer too large", offset=start)
            return result | (b << 28), pos
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _read_sleb(data: bytes, pos: int, end: int, bits: int) -> tuple[int, int]:
    """Signed LEB128 for an N-bit integer (32, 33 or 64): at most ceil(N/7) bytes,
    and the unused bits of the last byte must be copies of the sign bit."""
    result = 0
    shift = 0
    start = pos
    last_shift = (bits - 1) // 7 * 7
    while True:
        if pos >= end:
            raise _eof(pos)
        b = data[pos]
        pos += 1
        if shift == last_shift:
            if b & 0x80:
                raise DecodeError("integer representation too long", offset=start)
            # Bits from the value's sign bit up to bit 6 must be all 0 or all 1.
            mask = 0x7F & ~((1 << (bits - shift - 1)) - 1)
            high = b & mask
            if high != 0 and high != mask:
                raise DecodeError("integer too large", offset=start)
            result |= (b & 0x7F) << shift
            if b & 0x40:
                result -= 1 << (shift + 7)
            return result, pos
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            if b & 0x40:
                result -= 1 << shift
            return result, pos


# ---------------------------------------------------------------------------
# Instructions
# ---------------------------------------------------------------------------
# SIMD opcodes are not compiled, but their immediates are skipped so that the
# rest of the module is still checked for malformation before we refuse it.
def _simd_imm_kind(sub: int) -> str:
    if sub <= 0x0B or sub in (0x5C, 0x5D):
        return "memarg"
    if sub in (0x0C, 0x0D):
        return "bytes16"
    if 0x15 <= sub <= 0x22:
        return "lane"
    if 0x54 <= sub <= 0x5B:
        return "memarg_lane"
    return "none"


class _ExprState:
    """What the instruction decoder needs from the module being decoded."""

    __slots__ = ("has_data_count", "simd")

    def __init__(self) -> None:
        self.has_data_count = False
        self.simd: tuple[str, int] | None = None  # (what, offset) of the first SIMD use


def _decode_expr(data: bytes, pos: int, end: int, st: _ExprState) -> tuple[list[Instr], int]:
    """Decode instructions up to and including the `end` that closes the expression.

    Returns the instructions (with that final `end`) and the position after it.
    `else` is only accepted directly inside an `if`, as the binary grammar says.
    """
    instrs: list[Instr] = []
    append = instrs.append
    names = _oc.NAMES
    kinds = _oc.IMM_KIND
    # One entry per open block: 1 for an `if` still waiting for `else`, else 0.
    blocks: list[int] = []
    read_u32 = _read_u32
    try:
        while True:
            if pos >= end:
                raise _eof(pos)
            start = pos
            b = data[pos]
            pos += 1
            kind = kinds[b]
            if kind == 0:  # NONE
                append(Instr(names[b], None, start))
            elif kind == 1:  # INDEX
                v = data[pos]
                if v < 0x80:
                    pos += 1
                else:
                    v, pos = read_u32(data, pos, end)
                append(Instr(names[b], v, start))
            elif kind == 2:  # MEMARG
                align = data[pos]
                if align < 0x80:
                    pos += 1
                else:
                    align, pos = read_u32(data, pos, end)
                off = data[pos]
                if off < 0x80:
                    pos += 1
                else:
                    off, pos = read_u32(data, pos, end)
                append(Instr(names[b], MemArg(align, off), start))
            elif kind == 3:  # I32_CONST
                v = data[pos]
                if v < 0x40:
                    pos += 1
                elif v < 0x80:
                    v -= 0x80
                    pos += 1
                else:
                    v, pos = _read_sleb(data, pos, end, 32)
                append(Instr("i32.const", v, start))
            elif kind == 10:  # END
                append(Instr("end", None, start))
                if not blocks:
                    return instrs, pos
                blocks.pop()
            elif kind == 7:  # BLOCK
                bt = data[pos]
                if bt == 0x40:
                    pos += 1
                    bt = None
                elif bt in _VALTYPES:
                    pos += 1
                    bt = _VALTYPES[bt]
                    if bt == "v128" and st.simd is None:
                        st.simd = ("v128 block type", start)
                else:
                    idx, pos = _read_sleb(data, pos, end, 33)
                    if idx < 0:
                        raise DecodeError("malformed block type", offset=start + 1)
                    bt = idx
                blocks.append(1 if b == 0x04 else 0)
                if len(blocks) > _MAX_NESTING:
                    _check_limit("blocks, loops and ifs nested", len(blocks), "MAX_NESTING", start)
                append(Instr(names[b], bt, start))
            elif kind == 4:  # I64_CONST
                v, pos = _read_sleb(data, pos, end, 64)
                append(Instr("i64.const", v, start))
            elif kind == 5:  # F32_CONST
                if pos + 4 > end:
                    raise _eof(end)
                append(Instr("f32.const", _UNPACK_F32(data, pos)[0], start))
                pos += 4
            elif kind == 6:  # F64_CONST
                if pos + 8 > end:
                    raise _eof(end)
                append(Instr("f64.const", _UNPACK_F64(data, pos)[0], start))
                pos += 8
            elif kind == 11:  # ELSE
                if not blocks or blocks[-1] != 1:
                    raise DecodeError("else without matching if", offset=start)
                blocks[-1] = 0
                append(Instr("else", None, start))
            elif kind == 8:  # BR_TABLE
                n, pos = read_u32(data, pos, end)
                if n > end - pos:  # each label takes at least one byte
                    raise _eof(end)
                if n > _MAX_BR_TABLE_LABELS:
                    _check_limit("labels in one br_table", n, "MAX_BR_TABLE_LABELS", start)
                labels = []
                for _ in range(n):
                    v, pos = read_u32(data, pos, end)
                    labels.append(v)
                default, pos = read_u32(data, pos, end)
                append(Instr("br_table", (tuple(labels), default), start))
            elif kind == 9:  # CALL_INDIRECT
                ti, pos = read_u32(data, pos, end)
                tab, pos = read_u32(data, pos, end)
                append(Instr(names[b], (ti, tab), start))
            elif kind == 12:  # ZERO_BYTE (memory.size / memory.grow)
                if pos >= end:
                    raise _eof(pos)
                if data[pos] != 0:
                    raise DecodeError("zero byte expected", offset=pos)
                pos += 1
                append(Instr(names[b], 0, start))
            elif kind == 13:  # SELECT_T
                n, pos = read_u32(data, pos, end)
                if n > end - pos:
                    raise _eof(end)
                types = []
                for _ in range(n):
                    t = _VALTYPES.get(data[pos])
                    if t is None:
                        raise DecodeError("malformed value type", offset=pos)
                    if t == "v128" and st.simd is None:
                        st.simd = ("v128 select", start)
                    types.append(t)
                    pos += 1
                append(Instr("select", tuple(types), start))
            elif kind == 14:  # REF_NULL
                t = _REFTYPES.get(data[pos])
                if t is None:
                    raise DecodeError("malformed reference type", offset=pos)
                pos += 1
                append(Instr("ref.null", t, start))
            elif kind == 15:  # 0xFC prefix
                pos = _decode_fc(data, pos, end, start, st, append)
            elif kind == 16:  # 0xFD prefix: SIMD
                pos = _skip_simd(data, pos, end, start, st)
            elif kind == 17:  # 0xFE prefix: threads (atomics)
                pos = _decode_fe(data, pos, end, start, append)
            else:
                raise DecodeError(f"illegal opcode 0x{b:02x}", offset=start)
    except IndexError:
        raise _eof(min(pos, len(data))) from None


def _decode_fc(data: bytes, pos: int, end: int, start: int, st: _ExprState, append) -> int:
    sub, pos = _read_u32(data, pos, end)
    if sub >= len(_oc.FC_OPS):
        raise DecodeError(f"illegal opcode 0xfc 0x{sub:x}", offset=start)
    name, kind = _oc.FC_OPS[sub]
    if kind == _oc.FC_NONE:
        append(Instr(name, None, start))
    elif kind == _oc.FC_INDEX:
        v, pos = _read_u32(data, pos, end)
        if name == "data.drop" and not st.has_data_count:
            raise DecodeError("data count section required", offset=start)
        append(Instr(name, v, start))
    elif kind == _oc.FC_TWO_INDEX:
        a, pos = _read_u32(data, pos, end)
        b, pos = _read_u32(data, pos, end)
        append(Instr(name, (a, b), start))
    elif kind == _oc.FC_MEMORY_INIT:
        v, pos = _read_u32(data, pos, end)
        if pos >= end:
            raise _eof(pos)
        if data[pos] != 0:
            raise DecodeError("zero byte expected", offset=pos)
        pos += 1
        if not st.has_data_count:
            raise DecodeError("data count section required", offset=start)
        append(Instr(name, (v, 0), start))
    elif kind == _oc.FC_MEMORY_COPY:
        if pos + 2 > end:
            raise _eof(end)
        if data[pos] != 0 or data[pos + 1] != 0:
            raise DecodeError("zero byte expected", offset=pos)
        pos += 2
        append(Instr(name, (0, 0), start))
    else:  # FC_MEMORY_FILL
        if pos >= end:
            raise _eof(pos)
        if data[pos] != 0:
            raise DecodeError("zero byte expected", offset=pos)
        pos += 1
        append(Instr(name, 0, start))
    return pos


def _decode_fe(data: bytes, pos: int, end: int, start: int, append) -> int:
    """One threads-proposal instruction: a memarg, or atomic.fence's reserved zero byte."""
    sub, pos = _read_u32(data, pos, end)
    name = _oc.FE_OPS.get(sub)
    if name is None:
        raise DecodeError(f"illegal opcode 0xfe 0x{sub:x}", offset=start)
    if name == "atomic.fence":
        if pos >= end:
            raise _eof(pos)
        if data[pos] != 0:
            raise DecodeError("zero byte expected", offset=pos)
        append(Instr(name, None, start))
        return pos + 1
    align, pos = _read_u32(data, pos, end)
    off, pos = _read_u32(data, pos, end)
    append(Instr(name, MemArg(align, off), start))
    return pos


def _skip_simd(data: bytes, pos: int, end: int, start: int, st: _ExprState) -> int:
    sub, pos = _read_u32(data, pos, end)
    if sub > 0xFF:
        raise DecodeError(f"illegal opcode 0xfd 0x{sub:x}", offset=start)
    if st.simd is None:
        st.simd = (f"SIMD opcode 0xfd 0x{sub:02x}", start)
    kind = _simd_imm_kind(sub)
    if kind in ("memarg", "memarg_lane"):
        _, pos = _read_u32(data, pos, end)
        _, pos = _read_u32(data, pos, end)
        if kind == "memarg_lane":
            pos += 1
    elif kind == "bytes16":
        pos += 16
    elif kind == "lane":
        pos += 1
    if pos > end:
        raise _eof(end)
    return pos


# ---------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------
class _Decoder:
    """One decoding run: the bytes, the position, the current section's end."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.end = len(data)
        self.module = Module()
        self.st = _ExprState()
        self.func_type_indices: list[int] | None = None
        self.simd_section: str | None = None
        self.simd_func: int | None = None
        self.module_locals = 0  # locals declared so far, all functions together
        self.element_entries = 0  # entries of the element segments so far

    # --- primitive readers, bounded by self.end ----------------------------
    def byte(self) -> int:
        if self.pos >= self.end:
            raise _eof(self.pos)
        b = self.data[self.pos]
        self.pos += 1
        return b

    def u32(self) -> int:
        v, self.pos = _read_u32(self.data, self.pos, self.end)
        return v

    def count(self, min_item_size: int = 1) -> int:
        """A vector length, refused early when the remaining bytes cannot hold it."""
        at = self.pos
        n = self.u32()
        if n * min_item_size > self.end - self.pos:
            raise DecodeError("length out of bounds: unexpected end of section or function", offset=at)
        return n

    def limited_count(self, what: str, name: str, already: int = 0) -> int:
        """A vector length that, with `already` items of the same index space, must stay within
        limit `name` (aot/limits.py)."""
        at = self.pos
        n = self.count()
        _check_limit(what, already + n, name, at)
        return n

    def bytes_(self) -> bytes:
        at = self.pos
        n = self.u32()
        if n > self.end - self.pos:
            raise DecodeError("length out of bounds: unexpected end of section or function", offset=at)
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def name(self) -> str:
        at = self.pos
        raw = self.bytes_()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("malformed UTF-8 encoding", offset=at) from None

    def valtype(self) -> str:
        at = self.pos
        t = _VALTYPES.get(self.byte())
        if t is None:
            raise DecodeError("malformed value type", offset=at)
        if t == "v128":
            self.note_simd("v128 value type", at)
        return t

    def reftype(self) -> str:
        at = self.pos
        t = _REFTYPES.get(self.byte())
        if t is None:
            raise DecodeError("malformed reference type", offset=at)
        return t

    def note_simd(self, what: str, offset: int) -> None:
        if self.st.simd is None:
            self.st.simd = (what, offset)

    def limits(self, is_memory: bool) -> Limits:
        at = self.pos
        flags = self.byte()
        if is_memory:
            # Bit 0: a maximum follows; bit 1: shared (threads); bit 3: custom page size.
            # The threads proposal's binary grammar has shared limits only with a maximum
            # (0x03): 0x02 is malformed, as Wasm 2.0's binary.wast also requires.
            if flags & 0x03 == 0x02:
                raise DecodeError(
                    "malformed memory limits flags: a shared memory must have a maximum", offset=at
                )
            if flags & 0x04:
                raise DecodeError(
                    "malformed memory limits flags: 64-bit memories (memory64) are not supported",
                    offset=at,
                )
            if flags & ~0x0B:
                raise DecodeError("malformed memory limits flags", offset=at)
        elif flags & ~0x01:
            raise DecodeError("malformed table limits flags", offset=at)
        lo = self.u32()
        hi = self.u32() if flags & 0x01 else None
        page_size_log2 = 16
        if flags & 0x08:
            ps_at = self.pos
            page_size_log2 = self.u32()
            # The proposal's decoder refuses exponents whose page size cannot
            # be represented; other non-{0,16} values are a validation error.
            if page_size_log2 >= 64:
                raise DecodeError("invalid custom page size", offset=ps_at)
        return Limits(lo, hi, page_size_log2=page_size_log2, shared=bool(flags & 0x02))

    def expr(self) -> list[Instr]:
        """A constant expression, without its final `end`."""
        instrs, self.pos = _decode_expr(self.data, self.pos, self.end, self.st)
        instrs.pop()
        return instrs

    # --- driver ------------------------------------------------------------
    def run(self) -> Module:
        data = self.data
        if len(data) < 4:
            raise DecodeError("unexpected end: magic header not detected", offset=0)
        if data[:4] != MAGIC:
            raise DecodeError("magic header not detected", offset=0)
        if len(data) < 8:
            raise DecodeError("unexpected end: unknown binary version", offset=4)
        if data[4:8] != VERSION:
            raise DecodeError("unknown binary version", offset=4)
        self.pos = 8
        last_order = 0
        last_id = 0
        handlers = {
            1: self.type_section, 2: self.import_section, 3: self.function_section,
            4: self.table_section, 5: self.memory_section, 6: self.global_section,
            7: self.export_section, 8: self.start_section, 9: self.element_section,
            10: self.code_section, 11: self.data_section, 12: self.data_count_section,
        }
        total = len(data)
        while self.pos < total:
            sec_at = self.pos
            self.end = total
            sid = self.byte()
            section = SECTION_NAMES.get(sid)
            try:
                if section is None:
                    raise DecodeError(f"malformed section id {sid}", offset=sec_at)
                size = self.u32()
                body_start = self.pos
                if size > total - body_start:
                    raise DecodeError(
                        "length out of bounds: section size exceeds the module size", offset=sec_at
                    )
                self.end = body_start + size
                if sid == 0:
                    self.custom_section()
                else:
                    order = SECTION_ORDER[sid]
                    if order <= last_order:
                        what = "duplicate" if sid == last_id else "out-of-order"
                        raise DecodeError(
                            f"unexpected content after last section: {what} {section} section",
                            offset=sec_at,
                        )
                    last_order, last_id = order, sid
                    handlers[sid]()
                    if self.pos != self.end:
                        raise DecodeError("section size mismatch", offset=self.pos)
            except AotError as e:
                if e.section is None:
                    e.section = section or f"id {sid}"
                raise
            self.pos = self.end
        self.end = total
        self.finish()
        return self.module

    def finish(self) -> None:
        m = self.module
        if self.func_type_indices is not None and self.func_type_indices and not m.functions:
            raise DecodeError(
                "function and code section have inconsistent lengths", section="code", offset=len(self.data)
            )
        if m.data_count is not None and m.data_count != len(m.datas):
            raise DecodeError(
                "data count and data section have inconsistent lengths",
                section="data", offset=len(self.data),
            )
        if self.st.simd is not None:
            what, offset = self.st.simd
            raise UnsupportedError(
                f"SIMD is not supported yet ({what})",
                section=self.simd_section, func_index=self.simd_func, offset=offset,
            )

    # --- the sections ------------------------------------------------------
    def type_section(self) -> None:
        for _ in range(self.limited_count("types", "MAX_TYPES")):
            at = self.pos
            form = self.byte()
            if form != 0x60:
                raise DecodeError(f"malformed function type: expected 0x60, got 0x{form:02x}", offset=at)
            nparams = self.limited_count("parameters in a function type", "MAX_PARAMS")
            params = tuple(self.valtype() for _ in range(nparams))
            nresults = self.limited_count("results in a function type", "MAX_RESULTS")
            results = tuple(self.valtype() for _ in range(nresults))
            self.module.types.append(FuncType(params, results))
        self._mark_simd("type")

    def import_section(self) -> None:
        for _ in range(self.limited_count("imports", "MAX_IMPORTS")):
            at = self.pos
            module_name = self.name()
            field = self.name()
            kind_at = self.pos
            kind = self.byte()
            if kind == 0:
                desc: object = self.u32()
            elif kind == 1:
                desc = TableType(self.reftype(), self.limits(False))
            elif kind == 2:
                desc = MemoryType(self.limits(True))
            elif kind == 3:
                desc = self.global_type()
            else:
                raise DecodeError(f"malformed import kind {kind}", offset=kind_at)
            self.module.imports.append(Import(module_name, field, EXTERNAL_KINDS[kind], desc, at))
        self._mark_simd("import")

    def global_type(self) -> GlobalType:
        t = self.valtype()
        at = self.pos
        mut = self.byte()
        if mut > 1:
            raise DecodeError("malformed mutability", offset=at)
        return GlobalType(t, mut == 1)

    def function_section(self) -> None:
        count = self.limited_count("functions (imported and defined)", "MAX_FUNCTIONS",
                                   self.module.num_imported_funcs)
        self.func_type_indices = [self.u32() for _ in range(count)]

    def table_section(self) -> None:
        for _ in range(self.limited_count("tables (imported and defined)", "MAX_TABLES",
                                          self.module.num_imported_tables)):
            self.module.tables.append(TableType(self.reftype(), self.limits(False)))

    def memory_section(self) -> None:
        for _ in range(self.count()):
            self.module.memories.append(MemoryType(self.limits(True)))

    def global_section(self) -> None:
        for _ in range(self.limited_count("globals (imported and defined)", "MAX_GLOBALS",
                                          self.module.num_imported_globals)):
            at = self.pos
            gt = self.global_type()
            self.module.globals.append(Global(gt, self.expr(), at))
        self._mark_simd("global")

    def export_section(self) -> None:
        for _ in range(self.limited_count("exports", "MAX_EXPORTS")):
            at = self.pos
            name = self.name()
            kind_at = self.pos
            kind = self.byte()
            if kind > 3:
                raise DecodeError(f"malformed export kind {kind}", offset=kind_at)
            self.module.exports.append(Export(name, EXTERNAL_KINDS[kind], self.u32(), at))

    def start_section(self) -> None:
        self.module.start = self.u32()

    def element_section(self) -> None:
        for _ in range(self.limited_count("element segments", "MAX_ELEMENT_SEGMENTS")):
            at = self.pos
            flags = self.u32()
            if flags > 7:
                raise DecodeError(f"malformed elements segment kind {flags}", offset=at)
            mode = "active" if not flags & 1 else ("declarative" if flags & 2 else "passive")
            table = 0
            offset_expr = None
            if mode == "active":
                if flags & 2:
                    table = self.u32()
                offset_expr = self.expr()
            elem_type = "funcref"
            if flags & 4:  # vec(expr)
                if flags & 3:
                    elem_type = self.reftype()
                init = [self.expr() for _ in range(self.element_count())]
            else:  # vec(funcidx)
                if flags & 3:
                    kind_at = self.pos
                    if self.byte() != 0x00:
                        raise DecodeError("malformed element kind", offset=kind_at)
                init = []
                for _ in range(self.element_count()):
                    ref_at = self.pos
                    init.append([Instr("ref.func", self.u32(), ref_at)])
            self.module.elems.append(ElemSegment(mode, elem_type, init, table, offset_expr, at))
        self._mark_simd("element")

    def element_count(self) -> int:
        """The entry count of an element segment, within MAX_ELEMENT_ENTRIES with the earlier segments'."""
        n = self.limited_count("entries in all element segments together", "MAX_ELEMENT_ENTRIES",
                               self.element_entries)
        self.element_entries += n
        return n

    def data_count_section(self) -> None:
        at = self.pos
        self.module.data_count = self.u32()
        _check_limit("data segments", self.module.data_count, "MAX_DATA_SEGMENTS", at)
        self.st.has_data_count = True

    def code_section(self) -> None:
        at = self.pos
        n = self.count()
        declared = self.func_type_indices or []
        if n != len(declared):
            raise DecodeError("function and code section have inconsistent lengths", offset=at)
        data = self.data
        base = self.module.num_imported_funcs
        functions = self.module.functions
        for i in range(n):
            func_index = base + i
            try:
                fat = self.pos
                size = self.u32()
                body_start = self.pos
                if size > self.end - body_start:
                    raise DecodeError("length out of bounds: function body past the section end", offset=fat)
                _check_limit("bytes in a function body", size, "MAX_FUNCTION_SIZE", fat)
                body_end = body_start + size
                section_end = self.end
                self.end = body_end
                locals_ = self._locals()
                body, pos = _decode_expr(data, self.pos, body_end, self.st)
                if pos != body_end:
                    raise DecodeError("section size mismatch: bytes after the function's final end", offset=pos)
                self.pos = body_end
                self.end = section_end
                functions.append(Function(declared[i], locals_, body, fat, size))
                if self.st.simd is not None and self.simd_section is None:
                    self.simd_section, self.simd_func = "code", func_index
            except AotError as e:
                if e.func_index is None:
                    e.func_index = func_index
                raise

    def _locals(self) -> list[str]:
        groups = []
        total = 0
        for _ in range(self.count(2)):
            at = self.pos
            n = self.u32()
            t = self.valtype()
            total += n
            if total >= 1 << 32:
                raise DecodeError("too many locals", offset=at)
            groups.append((n, t))
        _check_limit("locals in a function", total, "MAX_LOCALS", self.pos)
        self.module_locals += total
        _check_limit("locals in all functions together", self.module_locals, "MAX_MODULE_LOCALS", self.pos)
        out: list[str] = []
        for n, t in groups:
            out.extend([t] * n)
        return out

    def data_section(self) -> None:
        at0 = self.pos
        n = self.count()
        if self.module.data_count is not None and n != self.module.data_count:
            raise DecodeError("data count and data section have inconsistent lengths", offset=at0)
        _check_limit("data segments", n, "MAX_DATA_SEGMENTS", at0)
        total = 0
        for _ in range(n):
            at = self.pos
            flags = self.u32()
            if flags > 2:
                raise DecodeError(f"malformed data segment kind {flags}", offset=at)
            if flags == 1:
                segment = DataSegment("passive", self.bytes_(), 0, None, at)
            else:
                memory = self.u32() if flags == 2 else 0
                offset_expr = self.expr()
                segment = DataSegment("active", self.bytes_(), memory, offset_expr, at)
            total += len(segment.data)
            _check_limit("bytes of data in all segments together", total, "MAX_DATA_BYTES", at)
            self.module.datas.append(segment)
        self._mark_simd("data")

    def custom_section(self) -> None:
        name = self.name()
        payload = self.data[self.pos:self.end]
        if name == "name":
            names = _parse_names(payload)
            if names is not None:
                self.module.names = names
        else:
            self.module.custom_sections.append((name, payload))
        self.pos = self.end

    def _mark_simd(self, section: str) -> None:
        if self.st.simd is not None and self.simd_section is None:
            self.simd_section = section


# ---------------------------------------------------------------------------
# The "name" custom section
# ---------------------------------------------------------------------------
def _parse_names(payload: bytes) -> Names | None:
    """Module, function, local and global names; None if the section is malformed.

    Custom sections are not validated (spec 5.5.3), so a broken name section
    is ignored rather than making the module fail."""
    names = Names()
    end = len(payload)

    def name_at(pos: int, limit: int) -> tuple[str, int]:
        n, pos = _read_u32(payload, pos, limit)
        if n > limit - pos:
            raise DecodeError("name past the subsection end")
        return payload[pos:pos + n].decode("utf-8"), pos + n

    def name_map(pos: int, limit: int) -> tuple[dict[int, str], int]:
        out: dict[int, str] = {}
        count, pos = _read_u32(payload, pos, limit)
        for _ in range(count):
            idx, pos = _read_u32(payload, pos, limit)
            out[idx], pos = name_at(pos, limit)
        return out, pos

    try:
        pos = 0
        last_id = -1
        while pos < end:
            sub_id = payload[pos]
            pos += 1
            size, pos = _read_u32(payload, pos, end)
            sub_end = pos + size
            if sub_end > end or sub_id <= last_id:
                return None
            last_id = sub_id
            if sub_id == 0:
                names.module, p = name_at(pos, sub_end)
            elif sub_id == 1:
                names.functions, p = name_map(pos, sub_end)
            elif sub_id == 2:
                count, p = _read_u32(payload, pos, sub_end)
                for _ in range(count):
                    fidx, p = _read_u32(payload, p, sub_end)
                    names.locals[fidx], p = name_map(p, sub_end)
            elif sub_id == 7:  # extended name section: global names
                names.globals, p = name_map(pos, sub_end)
            else:  # other subsections (labels, types, ...) are skipped
                p = sub_end
            if p != sub_end:
                return None
            pos = sub_end
    except (DecodeError, UnicodeDecodeError, IndexError):
        return None
    return names
