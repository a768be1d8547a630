"""The C ABI of compiled modules, as Python: symbol names, signature strings, C types.

The rule is written out in docs/abi.md; this module is its one implementation
and `runtime_c/include/waft.h` its C side (tests/unit/test_abi.py checks that
they agree).
"""

from __future__ import annotations

import re

from aot.module import FuncType, ValType

_PLAIN = re.compile(r"[A-Za-z0-9]+(_[A-Za-z0-9]+)*\Z")
_ALNUM = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_C_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

RESERVED_PREFIXES = ("waft",)


def mangle(name: str) -> str:
    """A Wasm name as a C identifier fragment (docs/abi.md, 'Names')."""
    if _PLAIN.match(name):
        return name
    out = ["_"]
    for byte in name.encode("utf-8"):
        if byte in _ALNUM:
            out.append(chr(byte))
        else:
            out.append(f"_x{byte:02x}")
    return "".join(out)


def demangle(fragment: str) -> str:
    """The inverse of `mangle`; raises ValueError on text `mangle` never produces."""
    if not fragment.startswith("_"):
        if not _PLAIN.match(fragment):
            raise ValueError(f"not a mangled name: {fragment!r}")
        return fragment
    data = bytearray()
    i = 1
    while i < len(fragment):
        ch = fragment[i]
        if ch == "_":
            hexdigits = fragment[i + 2 : i + 4]
            if fragment[i + 1 : i + 2] != "x" or not re.fullmatch(r"[0-9a-f]{2}", hexdigits):
                raise ValueError(f"not a mangled name: {fragment!r}")
            byte = int(hexdigits, 16)
            if byte in _ALNUM:
                raise ValueError(f"not a mangled name: {fragment!r}")
            data.append(byte)
            i += 4
        elif ord(ch) in _ALNUM:
            data.append(ord(ch))
            i += 1
        else:
            raise ValueError(f"not a mangled name: {fragment!r}")
    name = data.decode("utf-8")
    if _PLAIN.match(name):
        raise ValueError(f"not a mangled name (plain names are not encoded): {fragment!r}")
    return name


def check_prefix(prefix: str) -> str:
    """Validate a module prefix (`--name`); returns it or raises ValueError."""
    if not _C_IDENTIFIER.match(prefix) or "__" in prefix or prefix.endswith("_"):
        raise ValueError(
            f"module name '{prefix}' is not a plain C identifier "
            "(letters, digits and single underscores, not starting with a digit)"
        )
    if prefix.lower() in RESERVED_PREFIXES:
        raise ValueError(f"module name '{prefix}' is reserved for the runtime")
    return prefix


def prefix_from_filename(stem: str) -> str:
    """The default module prefix for an input file's stem."""
    prefix = re.sub(r"[^A-Za-z0-9]+", "_", stem).strip("_") or "module"
    if prefix[0].isdigit():
        prefix = "m_" + prefix
    if prefix.lower() in RESERVED_PREFIXES:
        prefix = prefix + "_module"
    return prefix


def export_symbol(prefix: str, name: str) -> str:
    """C symbol of an export: `P_` + mangle(name)."""
    return f"{prefix}_{mangle(name)}"


def import_symbol(module: str, name: str) -> str:
    """C symbol of an imported function: mangle(module) + `__` + mangle(name)."""
    return f"{mangle(module)}__{mangle(name)}"


def internal_symbol(prefix: str, word: str) -> str:
    """A symbol Waft generates for the module that is not an export: `P__word`."""
    return f"{prefix}__{word}"


# --- value types -------------------------------------------------------------

C_TYPES: dict[ValType, str] = {
    "i32": "int32_t",
    "i64": "int64_t",
    "f32": "float",
    "f64": "double",
    "funcref": "const waft_func *",
    "externref": "void *",
}

SIGNATURE_LETTERS: dict[ValType, str] = {
    "i32": "i",
    "i64": "I",
    "f32": "f",
    "f64": "F",
    "funcref": "r",
    "externref": "e",
    "v128": "v",
}


def signature_string(functype: FuncType) -> str:
    """`(i32, i64) -> f32` as "iI:f" (docs/abi.md, 'Value types in C')."""
    params = "".join(SIGNATURE_LETTERS[t] for t in functype.params)
    results = "".join(SIGNATURE_LETTERS[t] for t in functype.results)
    return f"{params}:{results}"


def signature_symbol(functype: FuncType) -> str:
    """The linkonce constant holding a signature string."""
    return "waft__sig_" + signature_string(functype).replace(":", "_")
