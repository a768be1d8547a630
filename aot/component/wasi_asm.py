"""A tiny flat-text assembler for the Wasm functions path (b) generates (aot/component/wasi_p1.py).

    body = assemble("local.get $ptr i32.load offset=4 call $p1:fd_write", names)

One token stream in the flat text format: an op's mnemonic, then its
immediates.  Locals are named (`$ptr`, from `names`), numbers are decimal or
0x hex.  Memory ops take optional `offset=N` / `align=N` (natural alignment
by default).  `block`, `loop` and `if` take an optional result type written
`->i32`.  Symbols that only the linker can turn into indices stay symbolic in
the immediate: `call $p1:NAME` (a preview1 import), `call $h:NAME` (a helper
function), `call $realloc` (the lowering's realloc), `global.get $g:NAME` (a
generated global); `resolve_symbol` of the caller maps them.  `;; ...` to the
end of a line is a comment.

Generating binary Wasm straight from Python keeps the pipeline free of wabt
at user time, and the text keeps each WASI function readable next to the
canonical-ABI layout it implements.
"""

from __future__ import annotations

import re

from aot.wasm import opcodes as _oc
from aot.wasm.module import Instr, MemArg

_KINDS: dict[str, int] = {}
for _byte, _name in enumerate(_oc.NAMES):
    if _name is not None and _byte != 0x1C:
        _KINDS[_name] = _oc.IMM_KIND[_byte]
for _name, _kind in _oc.FC_OPS:
    _KINDS[_name] = 100 + _kind
_COMMENT = re.compile(r";;[^\n]*")


def assemble(text: str, local_names: dict[str, int], resolve_symbol,
             constants: dict[str, int] | None = None) -> list[Instr]:
    """`text` as instructions ending in `end`; ValueError on an unknown op, local or immediate (a generator bug).

    `constants` names integers a `*.const` or `offset=` may use instead of a number (`i32.const K_DESC`).
    """
    constants = constants or {}
    tokens = _COMMENT.sub(" ", text).split()
    out: list[Instr] = []
    i = 0

    def number(tok: str) -> int:
        return constants[tok] if tok in constants else int(tok, 0)

    while i < len(tokens):
        op = tokens[i]
        i += 1
        kind = _KINDS.get(op)
        if kind is None:
            raise ValueError(f"unknown op {op!r}")
        imm = None
        if kind == _oc.INDEX:
            tok = tokens[i]
            i += 1
            if op.startswith("local."):
                imm = local_names[tok[1:]] if tok.startswith("$") else number(tok)
            elif tok.startswith("$"):
                imm = resolve_symbol(tok[1:])
            else:
                imm = number(tok)
        elif kind == _oc.MEMARG:
            offset, align = 0, _oc.NATURAL_ALIGN[op]
            while i < len(tokens) and (tokens[i].startswith("offset=") or tokens[i].startswith("align=")):
                key, value = tokens[i].split("=")
                if key == "offset":
                    offset = number(value)
                else:
                    align = {1: 0, 2: 1, 4: 2, 8: 3}[number(value)]
                i += 1
            imm = MemArg(align, offset)
        elif kind in (_oc.I32_CONST, _oc.I64_CONST):
            imm = number(tokens[i])
            i += 1
        elif kind == _oc.BLOCK:
            if i < len(tokens) and tokens[i].startswith("->"):
                imm = tokens[i][2:]
                i += 1
        elif kind == _oc.ZERO_BYTE:
            imm = 0
        elif kind == 100 + _oc.FC_MEMORY_COPY:
            imm = (0, 0)
        elif kind == 100 + _oc.FC_MEMORY_FILL:
            imm = 0
        elif kind not in (_oc.NONE, _oc.END, _oc.ELSE, 100 + _oc.FC_NONE):
            raise ValueError(f"the assembler does not take {op}")
        out.append(Instr(op, imm))
    out.append(Instr("end"))
    return out
