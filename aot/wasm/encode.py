"""The Wasm binary writer: any `aot.wasm.module.Module` the decoder produces -> bytes.

It covers every instruction the decoder reads (Wasm 2.0, tail calls,
extended-const, threads; not SIMD, which the decoder does not keep),
element and data segments and the data count section, and the LEB128 and
vector primitives other writers of Wasm bytes use (aot/wasm/rewrite.py,
aot/component/coremodule.py).  Its users: the modules Waft generates itself
(the WIT dummy module, test fixtures) and `waft unwrap`'s path (b)
(aot/component/fuse.py), which decodes a component's core modules,
renumbers their index spaces into one module and writes that module back.

The encoding chosen is always the most general one (element segments as
expressions with an explicit table, data segments with an explicit memory
only when it is not 0), so `decode_module(encode_module(m))` equals `m` up to
instruction offsets.  Custom sections other than those in
`module.custom_sections` are not written; of the name section, the module
and function names are.  What cannot be written (an unknown instruction or
value type, a shared memory without a maximum) is a ValueError naming it.
"""

from __future__ import annotations

import struct

from aot.wasm import opcodes as _oc
from aot.wasm.module import GlobalType, Instr, Limits, Module, TableType


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


_VALTYPES = {"i32": 0x7F, "i64": 0x7E, "f32": 0x7D, "f64": 0x7C, "v128": 0x7B, "funcref": 0x70, "externref": 0x6F}
_EXTERN_KINDS = {"func": 0x00, "table": 0x01, "memory": 0x02, "global": 0x03}

# mnemonic -> (opcode bytes, immediate kind); "select" with types is handled apart (0x1C).
_PLAIN: dict[str, tuple[bytes, int]] = {}
for _byte, _op in enumerate(_oc.NAMES):
    if _op is not None and _byte != 0x1C:
        _PLAIN[_op] = (bytes([_byte]), _oc.IMM_KIND[_byte])
for _sub, (_op, _kind) in enumerate(_oc.FC_OPS):
    _PLAIN[_op] = (b"\xfc" + uleb(_sub), 100 + _kind)
for _sub, _op in _oc.FE_OPS.items():
    _PLAIN[_op] = (b"\xfe" + uleb(_sub), 200)


def encode_module(module: Module) -> bytes:
    """The binary form of `module`; ValueError naming what cannot be written (an unknown op or value type)."""
    out = bytearray(b"\0asm\x01\0\0\0")
    sections = [
        (1, module.types, lambda ft: b"\x60" + vec([_vt(v) for v in ft.params]) + vec([_vt(v) for v in ft.results])),
        (2, module.imports, _import),
        (3, module.functions, lambda f: uleb(f.type_index)),
        (4, module.tables, _tabletype),
        (5, module.memories, lambda m: _limits(m.limits)),
        (6, module.globals, lambda g: _globaltype(g.type) + encode_expr(g.init, end=True)),
        (7, module.exports, lambda e: name(e.name) + bytes([_EXTERN_KINDS[e.kind]]) + uleb(e.index)),
    ]
    for section_id, items, encode in sections:
        if items:
            _section(out, section_id, vec([encode(item) for item in items]))
    if module.start is not None:
        _section(out, 8, uleb(module.start))
    if module.elems:
        _section(out, 9, vec([_elem(seg) for seg in module.elems]))
    if module.datas:
        _section(out, 12, uleb(len(module.datas)))
    if module.functions:
        _section(out, 10, vec([_body(f) for f in module.functions]))
    if module.datas:
        _section(out, 11, vec([_data(seg) for seg in module.datas]))
    if module.names is not None and (module.names.functions or module.names.module):
        _section(out, 0, name("name") + _names(module.names))
    for section_name, payload in module.custom_sections:
        _section(out, 0, name(section_name) + payload)
    return bytes(out)


def _names(names) -> bytes:
    """The name section: the module name (subsection 0) and function names (subsection 1); locals are not kept."""
    out = bytearray()
    if names.module:
        sub = name(names.module)
        out += b"\x00" + uleb(len(sub)) + sub
    if names.functions:
        sub = vec([uleb(i) + name(n) for i, n in sorted(names.functions.items())])
        out += b"\x01" + uleb(len(sub)) + sub
    return bytes(out)


def _section(out: bytearray, section_id: int, payload: bytes) -> None:
    out.append(section_id)
    out += uleb(len(payload)) + payload


def _vt(vt: str) -> bytes:
    if vt not in _VALTYPES:
        raise ValueError(f"unknown value type {vt!r}")
    return bytes([_VALTYPES[vt]])


def _limits(limits: Limits) -> bytes:
    if limits.shared and limits.max is None:
        raise ValueError("a shared memory must have a maximum")
    flags = (0x01 if limits.max is not None else 0) | (0x02 if limits.shared else 0) | \
        (0x08 if limits.page_size_log2 != 16 else 0)
    out = bytes([flags]) + uleb(limits.min)
    if limits.max is not None:
        out += uleb(limits.max)
    if limits.page_size_log2 != 16:
        out += uleb(limits.page_size_log2)
    return out


def _tabletype(t: TableType) -> bytes:
    return _vt(t.elem_type) + _limits(t.limits)


def _globaltype(g: GlobalType) -> bytes:
    return _vt(g.valtype) + bytes([1 if g.mutable else 0])


def _import(imp) -> bytes:
    head = name(imp.module) + name(imp.name) + bytes([_EXTERN_KINDS[imp.kind]])
    if imp.kind == "func":
        return head + uleb(imp.desc)
    if imp.kind == "memory":
        return head + _limits(imp.desc.limits)
    if imp.kind == "table":
        return head + _tabletype(imp.desc)
    return head + _globaltype(imp.desc)


def _elem(seg) -> bytes:
    items = vec([encode_expr(e, end=True) for e in seg.init])
    if seg.mode == "active":  # flags 6: explicit table, offset, reference type, expressions
        return b"\x06" + uleb(seg.table) + encode_expr(seg.offset_expr, end=True) + _vt(seg.elem_type) + items
    return (b"\x05" if seg.mode == "passive" else b"\x07") + _vt(seg.elem_type) + items


def _data(seg) -> bytes:
    payload = uleb(len(seg.data)) + seg.data
    if seg.mode == "passive":
        return b"\x01" + payload
    if seg.memory == 0:
        return b"\x00" + encode_expr(seg.offset_expr, end=True) + payload
    return b"\x02" + uleb(seg.memory) + encode_expr(seg.offset_expr, end=True) + payload


def _body(func) -> bytes:
    groups: list[list] = []
    for vt in func.locals:
        if groups and groups[-1][1] == vt:
            groups[-1][0] += 1
        else:
            groups.append([1, vt])
    body = vec([uleb(n) + _vt(vt) for n, vt in groups]) + encode_expr(func.body)
    return uleb(len(body)) + body


def encode_expr(instrs: list[Instr], end: bool = False) -> bytes:
    """Instructions as bytes; `end=True` appends the `end` a constant expression (kept without one) needs."""
    out = bytearray()
    for ins in instrs:
        _instr(out, ins.op, ins.imm)
    if end:
        out.append(0x0B)
    return bytes(out)


def _instr(out: bytearray, op: str, imm) -> None:
    if op == "select" and imm is not None:
        out.append(0x1C)
        out += vec([_vt(t) for t in imm])
        return
    found = _PLAIN.get(op)
    if found is None:
        raise ValueError(f"cannot write the instruction {op}")
    code, kind = found
    out += code
    if kind in (_oc.NONE, _oc.END, _oc.ELSE, 100 + _oc.FC_NONE):
        return
    if kind in (_oc.INDEX, 100 + _oc.FC_INDEX):
        out += uleb(imm)
    elif kind in (_oc.MEMARG, 200):
        if op == "atomic.fence":
            out.append(0)
        else:
            out += uleb(imm.align) + uleb(imm.offset)
    elif kind in (_oc.I32_CONST, _oc.I64_CONST):
        out += sleb(imm)
    elif kind == _oc.F32_CONST:
        out += struct.pack("<I", imm)
    elif kind == _oc.F64_CONST:
        out += struct.pack("<Q", imm)
    elif kind == _oc.BLOCK:
        if imm is None:
            out.append(0x40)
        elif isinstance(imm, str):
            out += _vt(imm)
        else:
            out += sleb(imm)
    elif kind == _oc.BR_TABLE:
        out += vec([uleb(d) for d in imm[0]]) + uleb(imm[1])
    elif kind == _oc.CALL_INDIRECT:
        out += uleb(imm[0]) + uleb(imm[1])
    elif kind == _oc.ZERO_BYTE:
        out.append(0)
    elif kind == _oc.REF_NULL:
        out += _vt(imm)
    elif kind == 100 + _oc.FC_TWO_INDEX:
        out += uleb(imm[0]) + uleb(imm[1])
    elif kind == 100 + _oc.FC_MEMORY_INIT:
        out += uleb(imm[0]) + b"\x00"
    elif kind == 100 + _oc.FC_MEMORY_COPY:
        out += b"\x00\x00"
    elif kind == 100 + _oc.FC_MEMORY_FILL:
        out.append(0)
    else:
        raise ValueError(f"cannot write the immediates of {op}")
