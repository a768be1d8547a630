"""Large and pathological-but-valid Wasm modules, written byte by byte.

The inputs of the compile-resource benchmark (`bench/compile_throughput.py
--scaling`) and of the compile-limit tests (`tests/unit/test_compile_limits.py`):
each generator returns the bytes of one valid module that stresses one
dimension of the compiler — many functions, one huge `br_table`, big data
or element segments, deep block nesting, many locals — with a size chosen
by the caller.  A few lines of binary writing (on aot.wasm.encode's LEB128
and vector primitives) instead of wat2wasm, so
that a million-entry `br_table` costs milliseconds to make and the tests
need no external tool.
"""

from __future__ import annotations

from aot.wasm.encode import name, sleb, uleb, vec

HEADER = b"\x00asm\x01\x00\x00\x00"
I32 = 0x7F
FUNCREF = 0x70
OP_BLOCK, OP_IF, OP_ELSE, OP_END, OP_BR_TABLE, OP_CALL = 0x02, 0x04, 0x05, 0x0B, 0x0E, 0x10
OP_LOCAL_GET, OP_LOCAL_SET, OP_GLOBAL_GET, OP_I32_CONST, OP_I32_ADD = 0x20, 0x21, 0x23, 0x41, 0x6A
VOID = 0x40


def section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + uleb(len(payload)) + payload


def functype(params: list[int], results: list[int]) -> bytes:
    return b"\x60" + vec([bytes([p]) for p in params]) + vec([bytes([r]) for r in results])


def code_entry(body: bytes, local_groups: list[tuple[int, int]] = ()) -> bytes:
    """One code-section entry: size, local groups (count, type), body (ending with `end`)."""
    payload = vec([uleb(n) + bytes([t]) for n, t in local_groups]) + body
    return uleb(len(payload)) + payload


def export_func(export_name: str, index: int) -> bytes:
    return name(export_name) + b"\x00" + uleb(index)


def assemble(types: list[bytes], funcs: list[int], codes: list[bytes], *, exports: list[bytes] = (),
             memory: bytes | None = None, table: bytes | None = None, elems: list[bytes] = (),
             datas: list[bytes] = ()) -> bytes:
    """A module from its parts, sections in the binary format's order."""
    parts = [HEADER, section(1, vec(types)), section(3, vec([uleb(t) for t in funcs]))]
    if table is not None:
        parts.append(section(4, vec([table])))
    if memory is not None:
        parts.append(section(5, vec([memory])))
    if exports:
        parts.append(section(7, vec(list(exports))))
    if elems:
        parts.append(section(9, vec(list(elems))))
    parts.append(section(10, vec(codes)))
    if datas:
        parts.append(section(11, vec(list(datas))))
    return b"".join(parts)


# --- the modules --------------------------------------------------------------------------


def many_functions(count: int, *, export_all: bool = False) -> bytes:
    """`count` small functions, each `(param i32) (result i32)` adding one and calling the next.

    About 10 bytes of code a function: the shape of a module full of small
    helpers (a language runtime's), and what issue 12 measured (50,000 of them
    in under 400 KB).  Each calls its successor so none is trivially the same.
    The first is exported, or with `export_all` every one (each export is a
    C wrapper and a header line more).
    """
    codes = []
    for i in range(count):
        body = bytes([OP_LOCAL_GET, 0, OP_I32_CONST, 1, OP_I32_ADD])
        if i + 1 < count:
            body += bytes([OP_CALL]) + uleb(i + 1)
        codes.append(code_entry(body + bytes([OP_END])))
    exports = [export_func(f"f{i}", i) for i in range(count if export_all else 1)]
    return assemble([functype([I32], [I32])], [0] * count, codes, exports=exports)


def many_exported_functions(count: int) -> bytes:
    """`many_functions` with every function exported."""
    return many_functions(count, export_all=True)


def big_br_table(entries: int) -> bytes:
    """One function whose `br_table` has `entries` labels over four enclosing blocks.

    `(func (param i32) (result i32) (block (block (block (block
       (br_table 0 1 2 3 0 1 ... (local.get 0))) (return 10)) (return 20)) (return 30)) 40)`
    """
    depth = 4
    body = bytes([OP_BLOCK, VOID]) * depth
    body += bytes([OP_LOCAL_GET, 0, OP_BR_TABLE]) + uleb(entries)
    body += bytes(i % depth for i in range(entries)) + bytes([0])
    for value in (10, 20, 30, 40):
        body += bytes([OP_END, OP_I32_CONST]) + sleb(value)
        if value != 40:
            body += bytes([0x0F])  # return
    body += bytes([OP_END])
    return assemble([functype([I32], [I32])], [0], [code_entry(body)], exports=[export_func("f", 0)])


def big_data(total_bytes: int, segments: int = 1) -> bytes:
    """A memory just large enough for `segments` active data segments holding `total_bytes` together.

    The bytes are a pattern (not zeros) so nothing can fold them away.
    """
    pages = max(1, -(-total_bytes // 65536))
    memory = b"\x01" + uleb(pages) + uleb(pages)
    size = total_bytes // segments
    pattern = bytes(range(7, 256)) + bytes(range(7))
    datas = []
    for s in range(segments):
        chunk = (pattern * (size // len(pattern) + 2))[s % len(pattern):][:size]
        datas.append(b"\x00" + bytes([OP_I32_CONST]) + sleb(s * size) + bytes([OP_END]) + uleb(size) + chunk)
    body = bytes([OP_LOCAL_GET, 0, 0x2D, 0, 0, OP_END])  # i32.load8_u
    return assemble([functype([I32], [I32])], [0], [code_entry(body)], exports=[export_func("load8", 0)],
                    memory=memory, datas=datas)


def big_elem(entries: int, functions: int = 16) -> bytes:
    """A table of `entries` funcrefs filled by one active element segment cycling through `functions`."""
    codes = [code_entry(bytes([OP_I32_CONST]) + sleb(i) + bytes([OP_END])) for i in range(functions)]
    table = bytes([FUNCREF, 0x01]) + uleb(entries) + uleb(entries)
    elem = b"\x00" + bytes([OP_I32_CONST, 0, OP_END]) + uleb(entries) + b"".join(
        uleb(i % functions) for i in range(entries))
    return assemble([functype([], [I32])], [0] * functions, codes, exports=[export_func("f0", 0)],
                    table=table, elems=[elem])


def nested_blocks(depth: int) -> bytes:
    """One function with `depth` nested empty blocks around `local.get 0` (a big switch's shape)."""
    body = bytes([OP_BLOCK, VOID]) * depth + bytes([OP_END]) * depth
    body += bytes([OP_LOCAL_GET, 0, OP_END])
    return assemble([functype([I32], [I32])], [0], [code_entry(body)], exports=[export_func("f", 0)])


def nested_if_else(depth: int) -> bytes:
    """`depth` nested `(if (result i32) (local.get 0) (then ...) (else (i32.const 1)))`.

    The worst nesting found for LLVM: every level branches on the same
    condition, and EarlyCSE walks the dominated uses at each one (quadratic).
    """
    body = bytes([OP_LOCAL_GET, 0, OP_IF, I32]) * depth + bytes([OP_I32_CONST, 7])
    body += bytes([OP_ELSE, OP_I32_CONST, 1, OP_END]) * depth + bytes([OP_END])
    return assemble([functype([I32], [I32])], [0], [code_entry(body)], exports=[export_func("f", 0)])


def same_condition_ifs(count: int) -> bytes:
    """`count` if-statements one after the other, all on `local.get 0`: quadratic in LLVM, no limit bounds it."""
    one = bytes([OP_LOCAL_GET, 0, OP_IF, VOID, OP_LOCAL_GET, 1, OP_I32_CONST, 1, OP_I32_ADD, OP_LOCAL_SET, 1, OP_END])
    body = one * count + bytes([OP_LOCAL_GET, 1, OP_END])
    return assemble([functype([I32], [I32])], [0], [code_entry(body, [(1, I32)])], exports=[export_func("f", 0)])


def many_locals(locals_per_function: int, functions: int = 1) -> bytes:
    """`functions` functions declaring `locals_per_function` i32 locals each, and using the last one."""
    last = uleb(locals_per_function)  # local index of the last declared local (param 0 comes first)
    body = bytes([OP_LOCAL_GET, 0, OP_LOCAL_SET]) + last + bytes([OP_LOCAL_GET]) + last + bytes([OP_END])
    codes = [code_entry(body, [(locals_per_function, I32)]) for _ in range(functions)]
    return assemble([functype([I32], [I32])], [0] * functions, codes, exports=[export_func("f", 0)])


def declared_locals(total: int) -> bytes:
    """`total` declared locals in functions of 50,000 each (three bytes declare them all)."""
    per = min(total, 50_000)
    return many_locals(per, max(1, total // per))


def many_globals(count: int) -> bytes:
    """`count` mutable i32 globals with constant initial values, the last one returned by a function."""
    globals_ = [bytes([I32, 1, OP_I32_CONST]) + sleb(i) + bytes([OP_END]) for i in range(count)]
    body = bytes([OP_GLOBAL_GET]) + uleb(count - 1) + bytes([OP_END])
    return b"".join([HEADER, section(1, vec([functype([], [I32])])), section(3, vec([uleb(0)])),
                     section(6, vec(globals_)), section(7, vec([export_func("f", 0)])),
                     section(10, vec([code_entry(body)]))])


def many_imports(count: int) -> bytes:
    """`count` imported functions, each called by a function of its own."""
    imports = [name("env") + name(f"i{k}") + b"\x00" + uleb(0) for k in range(count)]
    codes = [code_entry(bytes([OP_LOCAL_GET, 0, OP_CALL]) + uleb(k) + bytes([OP_END])) for k in range(count)]
    return b"".join([HEADER, section(1, vec([functype([I32], [I32])])), section(2, vec(imports)),
                     section(3, vec([uleb(0)] * count)), section(10, vec(codes))])


def many_data_segments(count: int) -> bytes:
    """`count` active data segments of four bytes each."""
    return big_data(4 * count, segments=count)


# name -> (generator, what its size argument counts)
GENERATORS = {
    "functions": (many_functions, "functions"),
    "exported_functions": (many_exported_functions, "exported functions"),
    "br_table": (big_br_table, "br_table labels"),
    "data": (big_data, "bytes of data"),
    "data_segments": (many_data_segments, "data segments"),
    "element_entries": (big_elem, "element entries"),
    "globals": (many_globals, "globals"),
    "imports": (many_imports, "imported functions"),
    "nested_blocks": (nested_blocks, "nested blocks"),
    "nested_if_else": (nested_if_else, "nested if/else"),
    "same_condition_ifs": (same_condition_ifs, "ifs on one condition"),
    "locals": (declared_locals, "declared locals"),
}
