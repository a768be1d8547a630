"""A small Wasm binary writer: `aot.wasm.module.Module` -> bytes, the inverse of `decode` for a subset.

Enough for modules Waft generates itself (the WIT dummy module, test
fixtures): type, import, function, table, memory, global, export, start and
code sections plus custom sections, with instruction bodies limited to the
handful of instructions in `_SIMPLE_OPS` and `_IMM_OPS`.  Anything outside the
subset (element and data segments, SIMD, other instructions) raises
`ValueError` naming it rather than writing a wrong module.  Sections are
written in the order the spec requires; every module written here decodes
with `aot.wasm.decode.decode_module` to an equal module.
"""

from __future__ import annotations

from aot.wasm.module import FuncType, GlobalType, Limits, MemoryType, Module, TableType

_VALTYPES = {"i32": 0x7F, "i64": 0x7E, "f32": 0x7D, "f64": 0x7C, "v128": 0x7B, "funcref": 0x70, "externref": 0x6F}
_EXTERN_KINDS = {"func": 0x00, "table": 0x01, "memory": 0x02, "global": 0x03}
_SIMPLE_OPS = {"unreachable": 0x00, "nop": 0x01, "return": 0x0F, "drop": 0x1A, "end": 0x0B}
_IMM_OPS = {"call": 0x10, "local.get": 0x20, "local.set": 0x21, "global.get": 0x23, "global.set": 0x24}


def encode_module(module: Module) -> bytes:
    """The binary form of `module` (see the module docstring for the subset)."""
    if module.elems or module.datas:
        raise ValueError("encode_module does not write element or data segments")
    out = bytearray(b"\0asm\x01\0\0\0")
    _section(out, 1, vec([_functype(ft) for ft in module.types]), bool(module.types))
    _section(out, 2, vec([_import(imp) for imp in module.imports]), bool(module.imports))
    _section(out, 3, vec([_u32(f.type_index) for f in module.functions]), bool(module.functions))
    _section(out, 4, vec([_tabletype(t) for t in module.tables]), bool(module.tables))
    _section(out, 5, vec([_limits(m.limits) for m in module.memories]), bool(module.memories))
    _section(out, 6, vec([_globaltype(g.type) + _expr(g.init + _end()) for g in module.globals]),
             bool(module.globals))
    _section(out, 7, vec([name(e.name) + bytes([_EXTERN_KINDS[e.kind]]) + _u32(e.index)
                           for e in module.exports]), bool(module.exports))
    _section(out, 8, _u32(module.start or 0), module.start is not None)
    _section(out, 10, vec([_body(f) for f in module.functions]), bool(module.functions))
    for section_name, payload in module.custom_sections:
        _section(out, 0, name(section_name) + payload, True)
    return bytes(out)


def _end():
    from aot.wasm.module import Instr

    return [Instr("end")]


def _section(out: bytearray, section_id: int, payload: bytes, present: bool) -> None:
    if present:
        out.append(section_id)
        out += _u32(len(payload)) + payload


def _u32(n: int) -> bytes:
    if not 0 <= n < 1 << 32:
        raise ValueError(f"{n} does not fit a u32")
    return uleb(n)


def uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def sleb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if (n == 0 and not byte & 0x40) or (n == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def vec(items: list[bytes]) -> bytes:
    return _u32(len(items)) + b"".join(items)


def name(text: str) -> bytes:
    raw = text.encode("utf-8")
    return _u32(len(raw)) + raw


def _valtype(vt: str) -> bytes:
    if vt not in _VALTYPES:
        raise ValueError(f"unknown value type {vt!r}")
    return bytes([_VALTYPES[vt]])


def _functype(ft: FuncType) -> bytes:
    return b"\x60" + vec([_valtype(v) for v in ft.params]) + vec([_valtype(v) for v in ft.results])


def _limits(limits: Limits) -> bytes:
    if limits.shared and limits.max is None:
        raise ValueError("a shared memory must have a maximum (the binary format has no flags for one without)")
    flags = (0x01 if limits.max is not None else 0) | (0x02 if limits.shared else 0) | \
        (0x08 if limits.page_size_log2 != 16 else 0)
    out = bytes([flags]) + _u32(limits.min)
    if limits.max is not None:
        out += _u32(limits.max)
    if limits.page_size_log2 != 16:
        out += _u32(limits.page_size_log2)
    return out


def _tabletype(t: TableType) -> bytes:
    return _valtype(t.elem_type) + _limits(t.limits)


def _globaltype(g: GlobalType) -> bytes:
    return _valtype(g.valtype) + bytes([1 if g.mutable else 0])


def _import(imp) -> bytes:
    head = name(imp.module) + name(imp.name) + bytes([_EXTERN_KINDS[imp.kind]])
    if imp.kind == "func":
        return head + _u32(imp.desc)
    if imp.kind == "memory":
        assert isinstance(imp.desc, MemoryType)
        return head + _limits(imp.desc.limits)
    if imp.kind == "table":
        return head + _tabletype(imp.desc)
    return head + _globaltype(imp.desc)


def _expr(instrs) -> bytes:
    out = bytearray()
    for ins in instrs:
        if ins.op in _SIMPLE_OPS:
            out.append(_SIMPLE_OPS[ins.op])
        elif ins.op in _IMM_OPS:
            out.append(_IMM_OPS[ins.op])
            out += _u32(ins.imm)
        elif ins.op == "i32.const":
            out.append(0x41)
            out += sleb(ins.imm)
        elif ins.op == "i64.const":
            out.append(0x42)
            out += sleb(ins.imm)
        else:
            raise ValueError(f"encode_module does not write the instruction {ins.op}")
    return bytes(out)


def _body(func) -> bytes:
    groups: list[tuple[int, str]] = []
    for vt in func.locals:
        if groups and groups[-1][1] == vt:
            groups[-1] = (groups[-1][0] + 1, vt)
        else:
            groups.append((1, vt))
    body = vec([_u32(n) + _valtype(vt) for n, vt in groups]) + _expr(func.body)
    return _u32(len(body)) + body
