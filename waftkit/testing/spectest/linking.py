"""Instantiate-time linking of spec-test modules, decided in Python before any C is written.

Three jobs:
- `rename_imports`: give every importing module its own import module names
  in the binary (`i<k>_<j>`), so each importer's import symbols are unique in
  the test image and the harness can define one forwarding thunk per import
  even when two modules import the same name with different types or from
  different instances;
- `SPECTEST`: the exports of the spec's `spectest` host module, with types;
- `match_import`: the spec's import matching (kinds, function types, limits
  subtyping, global mutability), which decides `assert_unlinkable`.
"""

from __future__ import annotations

from dataclasses import dataclass

from aot.wasm.module import FuncType, GlobalType, Limits, MemoryType, TableType

# --- the spectest host module -------------------------------------------------

SPECTEST: dict[str, tuple[str, object]] = {
    "print": ("func", FuncType((), ())),
    "print_i32": ("func", FuncType(("i32",), ())),
    "print_i64": ("func", FuncType(("i64",), ())),
    "print_f32": ("func", FuncType(("f32",), ())),
    "print_f64": ("func", FuncType(("f64",), ())),
    "print_i32_f32": ("func", FuncType(("i32", "f32"), ())),
    "print_f64_f64": ("func", FuncType(("f64", "f64"), ())),
    "global_i32": ("global", GlobalType("i32", False)),
    "global_i64": ("global", GlobalType("i64", False)),
    "global_f32": ("global", GlobalType("f32", False)),
    "global_f64": ("global", GlobalType("f64", False)),
    "table": ("table", TableType("funcref", Limits(10, 20))),
    "memory": ("memory", MemoryType(Limits(1, 2))),
    # The threads proposal's spectest adds a shared memory of the same size.
    "shared_memory": ("memory", MemoryType(Limits(1, 2, shared=True))),
}


# --- import matching ------------------------------------------------------------


def _limits_match(actual: Limits, wanted: Limits) -> bool:
    if actual.min < wanted.min:
        return False
    if wanted.max is not None and (actual.max is None or actual.max > wanted.max):
        return False
    return actual.page_size_log2 == wanted.page_size_log2 and actual.shared == wanted.shared


def match_import(kind: str, wanted: object, actual_kind: str, actual: object) -> str | None:
    """None if an export of `actual_kind`/`actual` satisfies the import, else why not."""
    if kind != actual_kind:
        return f"incompatible import type: wants a {kind}, the export is a {actual_kind}"
    if kind == "func":
        if wanted != actual:
            return f"incompatible import type: wants {wanted}, the export is {actual}"
    elif kind == "table":
        assert isinstance(wanted, TableType) and isinstance(actual, TableType)
        if wanted.elem_type != actual.elem_type or not _limits_match(actual.limits, wanted.limits):
            return f"incompatible import type: wants table {_lim(wanted.limits)} {wanted.elem_type}, " \
                   f"the export is {_lim(actual.limits)} {actual.elem_type}"
    elif kind == "memory":
        assert isinstance(wanted, MemoryType) and isinstance(actual, MemoryType)
        if not _limits_match(actual.limits, wanted.limits):
            return f"incompatible import type: wants memory {_lim(wanted.limits)}, " \
                   f"the export is {_lim(actual.limits)}"
    elif kind == "global":
        if wanted != actual:
            return f"incompatible import type: wants global {_glob(wanted)}, the export is {_glob(actual)}"
    return None


def _lim(limits: Limits) -> str:
    return f"{limits.min}" if limits.max is None else f"{limits.min}..{limits.max}"


def _glob(gt: object) -> str:
    assert isinstance(gt, GlobalType)
    return f"(mut {gt.valtype})" if gt.mutable else gt.valtype


# --- renaming imports in a binary ----------------------------------------------


class BinaryFormatError(Exception):
    """The bytes are not a Wasm binary this rewriter can walk."""


def _uleb(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise BinaryFormatError("truncated LEB128")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def _enc_uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _name(data: bytes, pos: int) -> tuple[str, int]:
    length, pos = _uleb(data, pos)
    return data[pos:pos + length].decode("utf-8"), pos + length


def _skip_limits(data: bytes, pos: int) -> int:
    flags, pos = _uleb(data, pos)
    _, pos = _uleb(data, pos)  # min
    if flags & 1:
        _, pos = _uleb(data, pos)  # max
    if flags & 8:
        _, pos = _uleb(data, pos)  # custom page size (log2)
    return pos


def _skip_reftype(data: bytes, pos: int) -> int:
    # A one-byte reference type, or a typed reference (0x63/0x64 heaptype).
    code = data[pos]
    pos += 1
    if code in (0x63, 0x64):
        _, pos = _uleb(data, pos)
    return pos


@dataclass(frozen=True)
class Renamed:
    data: bytes
    # new import module name -> original import module name
    names: dict[str, str]


def import_module_name(instance: int, index: int) -> str:
    """The import module name the `index`-th distinct import module of instance k gets."""
    return f"i{instance}_{index}"


def rename_imports(data: bytes, instance: int) -> Renamed:
    """Rewrite every import's module name to `i<instance>_<j>` (j: first-appearance order)."""
    if data[:4] != b"\0asm":
        raise BinaryFormatError("not a Wasm binary")
    pos = 8
    out = bytearray(data[:8])
    names: dict[str, str] = {}
    while pos < len(data):
        section_id = data[pos]
        size, body = _uleb(data, pos + 1)
        end = body + size
        if section_id != 2:
            out += data[pos:end]
            pos = end
            continue
        count, p = _uleb(data, body)
        new_body = bytearray(_enc_uleb(count))
        by_original: dict[str, str] = {}
        for _ in range(count):
            module, p = _name(data, p)
            field_start = p
            _, p = _name(data, p)
            kind = data[p]
            p += 1
            if kind == 0:
                _, p = _uleb(data, p)
            elif kind == 1:
                p = _skip_limits(data, _skip_reftype(data, p))
            elif kind == 2:
                p = _skip_limits(data, p)
            elif kind == 3:
                p = _skip_reftype(data, p) + 1  # valtype (one byte or typed ref), mut
            elif kind == 4:  # exception tag
                p += 1
                _, p = _uleb(data, p)
            else:
                raise BinaryFormatError(f"unknown import kind 0x{kind:02x}")
            if module not in by_original:
                new = import_module_name(instance, len(by_original))
                by_original[module] = new
                names[new] = module
            encoded = by_original[module].encode()
            new_body += _enc_uleb(len(encoded)) + encoded + data[field_start:p]
        if p != end:
            raise BinaryFormatError("import section size mismatch")
        out.append(2)
        out += _enc_uleb(len(new_body)) + new_body
        pos = end
    return Renamed(bytes(out), names)
