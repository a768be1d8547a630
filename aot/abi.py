"""The C ABI of compiled modules, as Python: symbol names, signature strings, C types.

The rule is written out in docs/abi.md; this module is its one implementation
and `runtime_c/include/waft.h` its C side (tests/unit/test_abi.py checks that
they agree).  Contents:

- names: `mangle`/`demangle`, export/import/internal symbols, prefixes;
- value types: C types and signature strings;
- the ABI version (`ABI_VERSION`, `abi_version_symbol`), checked at link time;
- the runtime header mirrored: `TrapCode`/`TRAP_CODES`/`TRAP_MESSAGES`, struct
  layouts (`STRUCT_FIELDS`, `struct_type`) and helper prototypes
  (`RUNTIME_FUNCTIONS`, `runtime_function_type`) for the compiler's IR;
- the `P__imports` struct's members (`imports_struct_fields`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

from llvmlite import ir

from aot.wasm.module import FuncType, Module, ValType

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


def split_import_symbol(symbol: str) -> tuple[str, str]:
    """(module, name) of an import symbol; raises ValueError if it is not one.

    The separator is the first `__` after the first character: mangle's
    output never holds `__` past its first character, and only the empty
    name's encoding, `_`, can put a `_` right before it
    (docs/abi.md, 'Why this is unambiguous').
    """
    at = symbol.find("__", 1)
    if at < 0:
        raise ValueError(f"not an import symbol (no '__'): {symbol!r}")
    return demangle(symbol[:at]), demangle(symbol[at + 2 :])


# --- the runtime header, mirrored (runtime_c/include/waft.h) ----------------


# WAFT_ABI_VERSION: the version of this contract (docs/lts.md says what a bump means).
# Every object references `abi_version_symbol()`, which only a runtime of the same
# version defines, so a mismatch is a link error; the generated header checks it too.
ABI_VERSION = 1


def abi_version_symbol(version: int | None = None) -> str:
    """The link-time marker of ABI `version` (default: this compiler's): `waft_abi_v1`."""
    return f"waft_abi_v{ABI_VERSION if version is None else version}"


# The linker's words for an object whose ABI version the runtime does not have.
ABI_VERSION_UNDEFINED = re.compile(r"undefined reference to `waft_abi_v(\d+)'")


class TrapCode(IntEnum):
    """`waft_trap_code`, value for value (the C names are WAFT_TRAP_<name>)."""

    NONE = 0
    UNREACHABLE = 1
    MEMORY_OUT_OF_BOUNDS = 2
    INTEGER_DIVIDE_BY_ZERO = 3
    INTEGER_OVERFLOW = 4
    INVALID_CONVERSION = 5
    INDIRECT_CALL_TYPE_MISMATCH = 6
    UNDEFINED_ELEMENT = 7
    UNINITIALIZED_ELEMENT = 8
    TABLE_OUT_OF_BOUNDS = 9
    CALL_STACK_EXHAUSTED = 10
    NULL_REFERENCE = 11
    HOST = 12
    EXIT = 13
    UNALIGNED_ATOMIC = 14
    EXPECTED_SHARED_MEMORY = 15
    DEADLOCK = 16


# name -> value, in the header's order ("MEMORY_OUT_OF_BOUNDS": 2).
TRAP_CODES: dict[str, int] = {code.name: code.value for code in TrapCode}

# name -> what `waft_strerror` returns: the spec interpreter's trap messages, so
# an assert_trap's expected text can be matched against a trap code.
TRAP_MESSAGES: dict[str, str] = {
    "NONE": "no trap",
    "UNREACHABLE": "unreachable",
    "MEMORY_OUT_OF_BOUNDS": "out of bounds memory access",
    "INTEGER_DIVIDE_BY_ZERO": "integer divide by zero",
    "INTEGER_OVERFLOW": "integer overflow",
    "INVALID_CONVERSION": "invalid conversion to integer",
    "INDIRECT_CALL_TYPE_MISMATCH": "indirect call type mismatch",
    "UNDEFINED_ELEMENT": "undefined element",
    "UNINITIALIZED_ELEMENT": "uninitialized element",
    "TABLE_OUT_OF_BOUNDS": "out of bounds table access",
    "CALL_STACK_EXHAUSTED": "call stack exhausted",
    "NULL_REFERENCE": "null reference",
    "HOST": "host function trapped",
    "EXIT": "exit",
    "UNALIGNED_ATOMIC": "unaligned atomic",
    "EXPECTED_SHARED_MEMORY": "expected shared memory",
    "DEADLOCK": "deadlock: memory.atomic.wait without a timeout, and no other thread can notify",
}

# Exit status of a process whose trap reached no trap frame (WAFT_TRAP_EXIT_STATUS).
TRAP_EXIT_STATUS = 70

# WAFT_STACK_MARGIN's default per target kind (bytes kept free below the limit).
STACK_MARGIN: dict[str, int] = {"host": 64 * 1024, "cortex-m": 2 * 1024}

# Runtime globals generated code reads: name -> C type.
RUNTIME_GLOBALS: dict[str, str] = {
    "waft_stack_limit": "uintptr_t",
    "waft_trap_current": "waft_trap_frame *",
    "waft_exit_status": "int32_t",
}

# Struct layouts, field by field in declaration order: (field name, C type).
# C types used here: "ptr" (any data or function pointer), "size_t", "uint32_t".
STRUCT_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "waft_memory": (
        ("base", "ptr"),
        ("size", "size_t"),
        ("pages", "uint32_t"),
        ("max_pages", "uint32_t"),
        ("page_size_log2", "uint32_t"),
    ),
    "waft_table": (
        ("elems", "ptr"),
        ("size", "uint32_t"),
        ("max", "uint32_t"),
    ),
    "waft_func": (
        ("signature", "ptr"),
        ("code", "ptr"),
        ("instance", "ptr"),
    ),
}

# Every runtime function generated code may call: name -> (C result type, C
# parameter types), spelled exactly as in waft.h (the test compiles them
# against the header).  `runtime_function_type` turns them into LLVM types.
RUNTIME_FUNCTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "waft_trap": ("void", ("waft_trap_code",)),
    "waft_trap_unwind": ("void", ("waft_trap_code",)),  # the default waft_trap, for replacements
    "waft_exit": ("void", ("int32_t",)),
    "waft_strerror": ("const char *", ("waft_trap_code",)),
    "waft_trap_push": ("void", ("waft_trap_frame *",)),
    "waft_trap_pop": ("void", ("waft_trap_frame *",)),
    "waft_call_guarded": ("waft_trap_code", ("void (*)(void *, void *)", "void *", "void *")),
    "waft_stack_init": ("void", ()),
    "waft_memory_grow": ("int32_t", ("waft_memory *", "uint32_t")),
    "waft_memory_init": (
        "void",
        ("waft_memory *", "uint32_t", "const uint8_t *", "uint32_t", "uint32_t", "uint32_t"),
    ),
    "waft_memory_copy": ("void", ("waft_memory *", "uint32_t", "const waft_memory *", "uint32_t", "uint32_t")),
    "waft_memory_fill": ("void", ("waft_memory *", "uint32_t", "uint32_t", "uint32_t")),
    "waft_table_grow": ("int32_t", ("waft_table *", "uint32_t", "void *")),
    "waft_table_init": (
        "void",
        ("waft_table *", "uint32_t", "void *const *", "uint32_t", "uint32_t", "uint32_t"),
    ),
    "waft_table_copy": ("void", ("waft_table *", "uint32_t", "const waft_table *", "uint32_t", "uint32_t")),
    "waft_table_fill": ("void", ("waft_table *", "uint32_t", "void *", "uint32_t")),
    "waft_func_signature_equal": ("bool", ("const char *", "const char *")),
    "waft_atomic_wait32": ("uint32_t", ("volatile uint32_t *", "uint32_t", "int64_t")),
    "waft_atomic_wait64": ("uint32_t", ("volatile uint64_t *", "uint64_t", "int64_t")),
    "waft_atomic_notify": ("uint32_t", ("volatile void *", "uint32_t")),
    "waft_port_wait_block": ("uint32_t", ("volatile void *", "uint64_t", "uint32_t", "int64_t")),
    "waft_port_wait_wake": ("uint32_t", ("volatile void *", "uint32_t")),
    "waft_port_sleep_ns": ("void", ("uint64_t",)),
    "waft_port_memory_grow_lock": ("void", ()),
    "waft_port_memory_grow_unlock": ("void", ()),
    # The port layer: for embedders and board code more than for generated code.
    "waft_port_write_error": ("void", ("const char *",)),
    "waft_port_exit": ("void", ("int",)),
}

# Runtime functions that never return (LLVM `noreturn`).
NORETURN_FUNCTIONS = frozenset({"waft_trap", "waft_trap_unwind", "waft_exit", "waft_port_exit"})


def _llvm_scalar(c_type: str, pointer_bits: int) -> ir.Type:
    """The LLVM type of one C type from the tables above, on a target with `pointer_bits`."""
    if c_type == "ptr" or c_type.endswith("*") or c_type.startswith("void (*)"):
        return ir.PointerType(ir.IntType(8))
    if c_type in ("int", "int32_t", "uint32_t", "waft_trap_code"):
        return ir.IntType(32)  # int is 32 bits on every target; waft_trap_code is forced to be
    if c_type in ("int64_t", "uint64_t"):
        return ir.IntType(64)
    if c_type in ("size_t", "uintptr_t"):
        return ir.IntType(pointer_bits)
    if c_type == "bool":
        return ir.IntType(1)  # returned zero-extended, as clang declares `zeroext i1`
    if c_type == "void":
        return ir.VoidType()
    raise ValueError(f"no LLVM type for C type {c_type!r}")


def struct_type(name: str, pointer_bits: int) -> ir.LiteralStructType:
    """The LLVM literal struct for `waft_memory`, `waft_table` or `waft_func`.

    Natural alignment everywhere, as the C compilers lay them out; field
    `STRUCT_FIELDS[name][i]` is element i (use `field_index` for GEPs).
    """
    return ir.LiteralStructType([_llvm_scalar(c, pointer_bits) for _, c in STRUCT_FIELDS[name]])


def field_index(struct: str, field_name: str) -> int:
    """Position of a field in `struct_type(struct, ...)`: `field_index("waft_memory", "size")` is 1."""
    for i, (name, _) in enumerate(STRUCT_FIELDS[struct]):
        if name == field_name:
            return i
    raise KeyError(f"{struct} has no field {field_name!r}")


def runtime_function_type(name: str, pointer_bits: int) -> ir.FunctionType:
    """The LLVM function type of runtime helper `name` (from RUNTIME_FUNCTIONS)."""
    result, params = RUNTIME_FUNCTIONS[name]
    return ir.FunctionType(
        _llvm_scalar(result, pointer_bits), [_llvm_scalar(p, pointer_bits) for p in params]
    )


def runtime_global_type(name: str, pointer_bits: int) -> ir.Type:
    """The LLVM type of runtime global `name` (`waft_stack_limit` is an intptr-sized integer)."""
    return _llvm_scalar(RUNTIME_GLOBALS[name], pointer_bits)


def global_c_type(valtype: ValType) -> str:
    """C type of a pointer to a global's storage: `int32_t *`, `const waft_func **`."""
    base = C_TYPES[valtype]
    return f"{base}*" if base.endswith("*") else f"{base} *"


# --- the imports struct (docs/abi.md, 'The instance') ------------------------


@dataclass(frozen=True)
class ImportsField:
    """One member of `P__imports`, all of which are pointers."""

    name: str  # the C member name
    c_type: str  # "void *", "waft_memory *", "waft_table *", "int32_t *"...
    kind: str  # "ctx" (one per function-import module), "memory", "table", "global"
    module: str  # the Wasm import module name
    import_name: str | None = None  # the Wasm import name; None for "ctx"
    import_index: int | None = None  # index into Module.imports; None for "ctx"


def imports_struct_fields(module: Module) -> list[ImportsField]:
    """The members of `P__imports`, in order; empty when the module imports nothing.

    One `void *` ctx per distinct module name of function imports (in order of
    first appearance, named mangle(module)), then one pointer per imported
    memory, table and global in import order, named by the import-symbol rule.
    Importing the same module.name twice (legal in Wasm) gives the later
    members `__2`, `__3`... suffixes, which no import symbol can end with.
    The C header adds `void *unused` when this list is empty.
    """
    fields: list[ImportsField] = []
    seen_modules: set[str] = set()
    for imp in module.imports:
        if imp.kind == "func" and imp.module not in seen_modules:
            seen_modules.add(imp.module)
            fields.append(ImportsField(mangle(imp.module), "void *", "ctx", imp.module))
    counts: dict[str, int] = {}
    for index, imp in enumerate(module.imports):
        if imp.kind == "func":
            continue
        symbol = import_symbol(imp.module, imp.name)
        counts[symbol] = counts.get(symbol, 0) + 1
        name = symbol if counts[symbol] == 1 else f"{symbol}__{counts[symbol]}"
        if imp.kind == "memory":
            c_type = "waft_memory *"
        elif imp.kind == "table":
            c_type = "waft_table *"
        elif imp.kind == "global":
            c_type = global_c_type(imp.desc.valtype)
        else:
            raise ValueError(f"unknown import kind {imp.kind!r}")
        fields.append(ImportsField(name, c_type, imp.kind, imp.module, imp.name, index))
    return fields
