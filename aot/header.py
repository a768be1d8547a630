"""Generate the C header of a compiled module (OUT.h), as docs/abi.md lays it out.

The header is what an embedder writes C against: the opaque instance type,
the imports struct, `P__initialize`/`P__instantiate`, one prototype per export
and one per imported function the embedder must supply, and a comment block
that maps every C symbol back to its Wasm name and type.  The driver,
`generate_header`, reads like the file it writes.
"""

from __future__ import annotations

import re

from aot import abi, cheader, shm
from aot.errors import TargetError, UnsupportedError
from aot.shadow_stack import RED_ZONE_BYTES
from aot.targets import Target
from aot.wasm.module import FuncType, GlobalType, Import, MemoryType, Module, TableType

_C_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")

# Words a parameter may not be called: C11 and C++ keywords (the header is
# usable from C++), macros of the standard headers an embedder is likely to
# include before this one, and the names the header itself gives parameters.
_RESERVED_WORDS = frozenset(
    """
    auto break case char const continue default do double else enum extern float for goto if
    inline int long register restrict return short signed sizeof static struct switch typedef
    union unsigned void volatile while alignas alignof and and_eq asm bitand bitor bool catch
    char16_t char32_t char8_t class compl concept consteval constexpr constinit const_cast
    co_await co_return co_yield decltype delete dynamic_cast explicit export false friend
    mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected
    public reinterpret_cast requires static_assert static_cast template this thread_local throw
    true try typeid typename using virtual wchar_t xor xor_eq
    assert complex errno imaginary noreturn offsetof setjmp longjmp stdin stdout stderr
    inst ctx imports
    """.split()
)


def generate_header(module: Module, prefix: str, instance_size: int, instance_align: int, target: Target,
                    *, max_unguarded_frame: int = 0, stack_pointer_offset: int | None = None) -> str:
    """The text of the module's C header (docs/abi.md, 'The instance').

    `max_unguarded_frame` is the largest native frame of the object's code
    that is pushed before its stack check (aot/lower/frames.py); the header
    refuses to compile where WAFT_STACK_MARGIN could not hold it.
    `stack_pointer_offset`, for a module its own immediate handlers interrupt
    (aot/shadow_stack.py), is where its shadow-stack pointer lives in the
    instance, for the interrupt vectors that move it past the red zone.
    """
    abi.check_prefix(prefix)
    if instance_align < 1 or instance_align & (instance_align - 1):
        raise ValueError(f"instance alignment {instance_align} is not a power of two")
    out: list[str] = []
    out += _banner(module, prefix, instance_size, instance_align, target.name)
    out += _open(prefix)
    out += _target_guard(prefix, target)
    out += _abi_version_check(prefix)
    out += _stack_margin_check(prefix, max_unguarded_frame)
    out += _instance_type(prefix, instance_size, instance_align)
    out += _stack_pointer_offset(prefix, stack_pointer_offset)
    out += _imports_struct(module, prefix)
    out += _lifecycle(prefix)
    out += _export_prototypes(module, prefix)
    out += _import_prototypes(module)
    out += _close(prefix)
    return "\n".join(out) + "\n"


# --- sections, in file order --------------------------------------------------


def _guard(prefix: str) -> str:
    return f"WAFT_MODULE_{prefix}_H"


def _banner(module: Module, prefix: str, size: int, align: int, target_name: str) -> list[str]:
    lines = [
        f"/* {prefix}.h: the C interface of a WebAssembly module compiled by Waft for target {_comment_safe(target_name)}.",
        " * Generated: do not edit.  The ABI is described in docs/abi.md and runtime_c/include/waft.h.",
        " *",
        f" * Instance: {size} bytes, aligned to {align}.",
        " *",
    ]
    exports = _export_rows(module, prefix)
    lines.append(" * Exports (Wasm name, type, C symbol):" if exports else " * Exports: none.")
    lines += _table_rows(exports)
    imports = [
        (imp.kind, f"{_quote(imp.module)} {_quote(imp.name)}", _describe_import(module, imp), symbol)
        for imp, symbol in _import_symbols(module)
    ]
    lines.append(" *")
    lines.append(" * Imports (Wasm module and name, type, C symbol or imports member):" if imports else " * Imports: none.")
    lines += _table_rows(imports)
    lines.append(" */")
    return lines


def _open(prefix: str) -> list[str]:
    return cheader.open_frame(_guard(prefix), ['"waft.h"'])


def abi_conditions(target: Target) -> list[str]:
    """Preprocessor tests that hold exactly when C is compiled for the object's ABI on `target`.

    What must agree between the object and the C that includes its header:
    the architecture, the pointer size (every struct), the float calling
    convention (every float argument) and the byte order.  Not the exact core:
    a Cortex-M4 object links into a Cortex-M7 firmware.
    """
    conditions = []
    if target.is_arm:
        conditions += ["defined(__arm__)",
                       "defined(__ARM_PCS_VFP)" if target.hard_float_arm else "!defined(__ARM_PCS_VFP)"]
    elif target.triple.startswith("x86_64"):
        conditions.append("defined(__x86_64__)")
    elif target.triple.startswith("aarch64"):
        conditions.append("defined(__aarch64__)")
    elif target.triple.startswith("riscv32"):
        float_abi = {"ilp32f": "single", "ilp32d": "double"}.get(target.abi_name, "soft")
        conditions += ["defined(__riscv)", f"defined(__riscv_float_abi_{float_abi})"]
    else:
        raise TargetError(f"target '{target.name}': no C ABI check for triple {target.triple}")
    conditions += [f"__SIZEOF_POINTER__ == {target.pointer_bits // 8}",
                   "__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__"]
    return conditions


def _target_guard(prefix: str, target: Target) -> list[str]:
    # Compiled for another ABI, every struct offset and float argument would be
    # wrong and the program would crash far from the cause: stop at the #include.
    float_abi = "soft-float" if target.float_abi == "soft" else "hard-float"
    built_for = f"{target.name} ({target.triple}, {float_abi})"
    return [
        f"/* This header and its object were built for target {built_for}. */",
        f"#if !({' && '.join(abi_conditions(target))})",
        f'#error "{prefix}.h was generated for target {built_for}: compile this file for that target, '
        f'or regenerate the module with waft compile --target <yours>"',
        "#endif",
        "",
    ]


def _abi_version_check(prefix: str) -> list[str]:
    # The object references waft_abi_v<N> (a link error against another runtime); the
    # header stops a compile against another waft.h sooner, at the #include.
    version = abi.ABI_VERSION
    return [
        f"/* Built for Waft ABI version {version} (docs/lts.md). */",
        f"#if !defined(WAFT_ABI_VERSION) || WAFT_ABI_VERSION != {version}",
        f'#error "{prefix}.h was generated for Waft ABI version {version}, but this waft.h is another version '
        f'(see WAFT_ABI_VERSION): rebuild the module with the waft that matches your runtime"',
        "#endif",
        "",
    ]


def _stack_margin_check(prefix: str, max_frame: int) -> list[str]:
    # The entry check of a function runs after its frame is pushed, so the frame and
    # then the trap path must fit the margin below the limit (docs/security.md).
    name = abi.internal_symbol(prefix, "MAX_UNCHECKED_FRAME")
    return [
        "/* The largest stack frame this module's code pushes before checking the stack",
        " * (bytes): WAFT_STACK_MARGIN must hold it and the trap path. */",
        f"#define {name} {max_frame}",
        f"#if WAFT_STACK_MARGIN < {name} + WAFT_TRAP_STACK_RESERVE",
        f'#error "{prefix}.h: WAFT_STACK_MARGIN is too small for this module: its largest unchecked stack frame '
        f'is {max_frame} bytes, and the trap path needs WAFT_TRAP_STACK_RESERVE more"',
        "#endif",
        "",
    ]


def _stack_pointer_offset(prefix: str, offset: int | None) -> list[str]:
    if offset is None:
        return []
    name = abi.internal_symbol(prefix, "SHADOW_STACK_POINTER_OFFSET")
    return [
        "/* Where the C shadow-stack pointer (clang's __stack_pointer global) lives in an instance, in",
        " * bytes: the module imports wasi-ext:signals, and an interrupt vector entering one of its handlers moves it",
        f" * {RED_ZONE_BYTES} bytes (clang's red zone) lower for the handler's frames (docs/interrupts.md). */",
        f"#define {name} {offset}u",
        "",
    ]


def _instance_type(prefix: str, size: int, align: int) -> list[str]:
    # C has no empty arrays; one spare byte costs nothing and keeps
    # `sizeof(P__instance) >= size` true.
    return [
        "/* One instance of the module: memories, tables, globals and function references.",
        " * Opaque: put it in static storage, on the stack or in allocated memory;",
        f" * {abi.internal_symbol(prefix, 'instantiate')} sets it up. */",
        f"typedef struct {abi.internal_symbol(prefix, 'instance')} {{",
        f"    WAFT_ALIGNAS({align}) unsigned char opaque[{max(size, 1)}];",
        f"}} {abi.internal_symbol(prefix, 'instance')};",
        "",
    ]


def _imports_struct(module: Module, prefix: str) -> list[str]:
    name = abi.internal_symbol(prefix, "imports")
    lines = [
        "/* What the embedder supplies at instantiation: one ctx pointer per module of",
        " * imported functions (passed as their first argument), then a pointer to each",
        " * imported memory, table and global. */",
        f"typedef struct {name} {{",
    ]
    fields = abi.imports_struct_fields(module)
    for field in fields:
        if field.kind == "ctx":
            what = f"ctx for function imports from {_quote(field.module)}"
        else:
            what = f"imported {field.kind} {_quote(field.module)} {_quote(field.import_name or '')}"
        lines.append(f"    {_declare(field.c_type, field.name)}; /* {what} */")
    if not fields:
        lines.append("    void *unused; /* the module imports nothing */")
    lines += [f"}} {name};", ""]
    return lines


def _lifecycle(prefix: str) -> list[str]:
    instance = abi.internal_symbol(prefix, "instance")
    imports = abi.internal_symbol(prefix, "imports")
    initialize = abi.internal_symbol(prefix, "initialize")
    instantiate = abi.internal_symbol(prefix, "instantiate")
    return [
        "/* Raw initialisation (may trap: call it only behind a trap frame).  Zeroes and",
        " * sizes memories and tables, sets globals, applies active segments, runs start. */",
        f"void {initialize}(void *inst, void *imports);",
        "",
        "/* Initialise `inst` behind a trap boundary; WAFT_TRAP_NONE on success. */",
        f"static inline waft_trap_code {instantiate}({instance} *inst, const {imports} *imports) {{",
        f"    return waft_call_guarded({initialize}, inst, (void *)imports);",
        "}",
        "",
    ]


def _export_prototypes(module: Module, prefix: str) -> list[str]:
    if not module.exports:
        return []
    instance = abi.internal_symbol(prefix, "instance")
    lines = ["/* Exports.  Functions may trap: call them behind waft_call_guarded or a trap frame. */"]
    for export in module.exports:
        symbol = abi.export_symbol(prefix, export.name)
        if export.kind == "func":
            functype = module.func_type(export.index)
            names = _param_names(module, export.index, len(functype.params))
            lines.append(f"/* export {_quote(export.name)}: func {functype} */")
            lines.append(_prototype(symbol, f"{instance} *inst", functype, names) + ";")
        else:
            result = _accessor_type(module, export.kind, export.index)
            lines.append(f"/* export {_quote(export.name)}: {_describe_index(module, export.kind, export.index)} */")
            lines.append(f"{_declare(result, symbol)}({instance} *inst);")
    lines.append("")
    return lines


def _import_prototypes(module: Module) -> list[str]:
    functions = list(enumerate(module.imports_of("func")))
    if not functions:
        return []
    lines = [
        "/* Imported functions: the embedder defines these.  `ctx` is the imports struct's",
        " * pointer for the import's module. */",
    ]
    declared: dict[str, FuncType] = {}
    for func_index, imp in functions:
        symbol = abi.import_symbol(imp.module, imp.name)
        functype = module.types[imp.desc]
        if symbol in declared:
            if declared[symbol] != functype:
                # Wasm allows importing one name at two types; C cannot define
                # both, so say so here rather than emit a conflicting prototype.
                lines.append(
                    f"/* import {_quote(imp.module)} {_quote(imp.name)} again as func {functype}:"
                    f" conflicts with {declared[symbol]}; no C definition can satisfy both */"
                )
            continue
        declared[symbol] = functype
        if imp.module == shm.REGIONS_MODULE and imp.name.startswith(shm.REGION_IMPORT_PREFIX):
            lines.append(f"/* import {_quote(imp.module)} {_quote(imp.name)}: the region's window in memory 0,"
                         " a constant the compiler takes from the grants (docs/shared-memory.md): no C function */")
            continue
        names = _param_names(module, func_index, len(functype.params))
        lines.append(f"/* import {_quote(imp.module)} {_quote(imp.name)}: func {functype} */")
        lines.append(_prototype(symbol, "void *ctx", functype, names) + ";")
    lines.append("")
    return lines


def _close(prefix: str) -> list[str]:
    return cheader.close_frame(_guard(prefix))


# --- C spelling ----------------------------------------------------------------


def _c_type(valtype: str) -> str:
    try:
        return abi.C_TYPES[valtype]
    except KeyError:
        raise UnsupportedError(f"value type {valtype} has no C type in the Waft ABI yet") from None


def _declare(c_type: str, name: str) -> str:
    """`int32_t x`, `void *x`: a declaration with the pointer star against the name."""
    return f"{c_type}{name}" if c_type.endswith("*") else f"{c_type} {name}"


def _prototype(symbol: str, first: str, functype: FuncType, names: list[str]) -> str:
    """A function declaration by docs/abi.md's calling conventions (out-pointers past one result)."""
    params = [first] + [_declare(_c_type(t), n) for t, n in zip(functype.params, names)]
    results = functype.results
    if len(results) == 1:
        return_type = _c_type(results[0])
    else:
        return_type = "void"
        params += [_declare(abi.global_c_type(t), f"result{i}") for i, t in enumerate(results)]
    return f"{_declare(return_type, symbol)}({', '.join(params)})"


def _accessor_type(module: Module, kind: str, index: int) -> str:
    if kind == "memory":
        return "waft_memory *"
    if kind == "table":
        return "waft_table *"
    if kind == "global":
        return abi.global_c_type(module.all_globals()[index].valtype)
    raise ValueError(f"unknown export kind {kind!r}")


def _param_names(module: Module, func_index: int, count: int) -> list[str]:
    """The name section's local names where they are usable C identifiers, else p0, p1..."""
    local_names = module.names.locals.get(func_index, {})
    names = []
    for i in range(count):
        name = local_names.get(i)
        names.append(name if name is not None and _usable_parameter_name(name) else f"p{i}")
    if len(set(names)) != len(names):
        # A kept name may equal another parameter's fallback (`p1`): fall back for all.
        names = [f"p{i}" for i in range(count)]
    return names


def _usable_parameter_name(name: str) -> bool:
    return (
        _C_IDENTIFIER.match(name) is not None
        and "__" not in name  # reserved in C++ and used by Waft's import symbols
        and not name.endswith("_t")  # POSIX reserves the suffix; int32_t and friends
        and not name.lower().startswith("waft")
        and name != name.upper()  # all-caps names are likely macros (NULL, EOF, I)
        and name not in _RESERVED_WORDS
        and not re.fullmatch(r"(result|p)\d+", name)
    )


# --- describing Wasm things in comments ------------------------------------------


def _quote(name: str) -> str:
    """A Wasm name as a C-string-like literal that is safe inside a /* comment */."""
    out = []
    for byte in name.encode("utf-8"):
        ch = chr(byte)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{byte:02x}")
    return '"' + _comment_safe("".join(out)) + '"'


def _comment_safe(text: str) -> str:
    # `*/` would end the comment; `??x` is a trigraph (and -Wtrigraphs warns).
    return text.replace("*/", "*\\/").replace("??", "?\\?")


def _describe_limits(minimum: int, maximum: int | None) -> str:
    return f"{minimum}.." + ("" if maximum is None else str(maximum))


def _describe(kind: str, typ: object) -> str:
    """A Wasm entity's type as text: `func [i32] -> []`, `memory 1..2 pages, page size 65536`."""
    if isinstance(typ, FuncType):
        return f"func {typ}"
    if isinstance(typ, MemoryType):
        return f"memory {_describe_limits(typ.limits.min, typ.limits.max)} pages, page size {typ.page_size}"
    if isinstance(typ, TableType):
        return f"table {typ.elem_type} {_describe_limits(typ.limits.min, typ.limits.max)}"
    if isinstance(typ, GlobalType):
        return f"global {'mut ' if typ.mutable else ''}{typ.valtype}"
    raise ValueError(f"cannot describe {kind} of type {typ!r}")


def _describe_index(module: Module, kind: str, index: int) -> str:
    if kind == "func":
        return _describe(kind, module.func_type(index))
    spaces = {"memory": module.all_memories, "table": module.all_tables, "global": module.all_globals}
    return _describe(kind, spaces[kind]()[index])


def _describe_import(module: Module, imp: Import) -> str:
    return _describe(imp.kind, module.types[imp.desc] if imp.kind == "func" else imp.desc)


def _export_rows(module: Module, prefix: str) -> list[tuple[str, str, str, str]]:
    rows = []
    for export in module.exports:
        description = _describe_index(module, export.kind, export.index)
        rows.append((export.kind, _quote(export.name), description, abi.export_symbol(prefix, export.name)))
    return rows


def _import_symbols(module: Module) -> list[tuple[Import, str]]:
    """Each import with its C symbol (functions) or imports-struct member (the rest)."""
    members = {f.import_index: f.name for f in abi.imports_struct_fields(module) if f.import_index is not None}
    result = []
    for index, imp in enumerate(module.imports):
        if imp.kind == "func":
            result.append((imp, abi.import_symbol(imp.module, imp.name)))
        else:
            result.append((imp, f"imports->{members[index]}"))
    return result


def _table_rows(rows: list[tuple[str, str, str, str]]) -> list[str]:
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return [
        f" *   {kind:<{widths[0]}}  {name:<{widths[1]}}  {desc:<{widths[2]}}  {symbol}".rstrip()
        for kind, name, desc, symbol in rows
    ]
