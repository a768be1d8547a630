"""aot/abi.py's mirror of the runtime header agrees with runtime_c/include/waft.h.

Three witnesses: the header's text (enum names and values in order), the real
C compilers (host cc and arm-none-eabi-gcc compile a probe whose constant
array holds every enum value, size and offset; pyelftools reads it back from
the object, so nothing has to run on the target) and LLVM's data layout for
each target (what the compiler's IR will assume).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import llvmlite.binding as llvm
import pytest
from elftools.elf.elffile import ELFFile
from llvmlite import ir

from aot import abi
from aot.targets import Target, load_target

ROOT = Path(__file__).resolve().parents[2]
INCLUDE = ROOT / "runtime_c" / "include"
HEADER = INCLUDE / "waft.h"

# Targets whose C compiler and LLVM layout are compared: the host and the two
# Arm profiles the boards use (v7E-M hard float, v6-M soft float).
PROBE_TARGETS = ["host", "stm32f4", "cortex-m0plus", "mps2-an505"]


def _have(cc: str) -> bool:
    return shutil.which(cc) is not None


def _target_or_skip(name: str) -> Target:
    target = load_target(name)
    if not _have(target.cc):
        pytest.skip(f"{target.cc} is not installed: cannot check the C layout for {name}")
    return target


# --- the header's text --------------------------------------------------------


def _header_enum() -> list[tuple[str, int]]:
    text = HEADER.read_text()
    body = re.search(r"typedef enum waft_trap_code \{(.*?)\} waft_trap_code;", text, re.S)
    assert body, "waft.h has no `typedef enum waft_trap_code {...}`"
    entries = re.findall(r"^\s*WAFT_TRAP_(\w+)\s*=\s*(0x[0-9a-fA-F]+|\d+)", body.group(1), re.M)
    # Names with `__` are not codes (WAFT_TRAP__FORCE_32BIT sizes the enum).
    return [(name, int(value, 0)) for name, value in entries if not name.startswith("_")]


def test_enum_names_and_values_match_the_header_text_in_order():
    assert _header_enum() == list(abi.TRAP_CODES.items())


def test_every_trap_code_has_a_message_and_codes_are_dense():
    assert list(abi.TRAP_MESSAGES) == list(abi.TRAP_CODES)
    assert sorted(abi.TRAP_CODES.values()) == list(range(len(abi.TRAP_CODES)))
    count = re.search(r"#define WAFT_TRAP_CODE_COUNT (\d+)", HEADER.read_text())
    assert count and int(count.group(1)) == len(abi.TRAP_CODES)


def test_every_trap_message_is_in_the_c_source():
    trap_c = (ROOT / "runtime_c" / "src" / "trap.c").read_text()
    for name, message in abi.TRAP_MESSAGES.items():
        assert f'[WAFT_TRAP_{name}] = "{message}"' in trap_c, name


def test_every_function_the_header_declares_is_mirrored():
    text = HEADER.read_text()
    declared = set(re.findall(r"^[A-Za-z_][\w\s\*]*?\b(waft_\w+)\(", text, re.M))
    assert declared == set(abi.RUNTIME_FUNCTIONS)
    noreturn = set(re.findall(r"^WAFT_NORETURN\s+void\s+(waft_\w+)\(", text, re.M))
    assert noreturn == abi.NORETURN_FUNCTIONS


# --- the C compilers' view ----------------------------------------------------


def _probe_items() -> list[tuple[str, str]]:
    """(label, C constant expression) for everything the mirror states."""
    items = [(f"trap.{name}", f"WAFT_TRAP_{name}") for name in abi.TRAP_CODES]
    items += [
        ("trap_code_count", "WAFT_TRAP_CODE_COUNT"),
        ("trap_exit_status", "WAFT_TRAP_EXIT_STATUS"),
        ("stack_margin", "WAFT_STACK_MARGIN"),
        ("sizeof.waft_trap_code", "sizeof(waft_trap_code)"),
    ]
    for struct_name, fields in abi.STRUCT_FIELDS.items():
        items.append((f"sizeof.{struct_name}", f"sizeof({struct_name})"))
        items.append((f"alignof.{struct_name}", f"_Alignof({struct_name})"))
        for field, _ in fields:
            items.append((f"offsetof.{struct_name}.{field}", f"offsetof({struct_name}, {field})"))
            items.append((f"sizeof.{struct_name}.{field}", f"sizeof((({struct_name} *)0)->{field})"))
    return items


def _c_view(target: Target, tmp_path: Path) -> dict[str, int]:
    """Compile the probe for `target` and read its constant array from the object."""
    items = _probe_items()
    source = tmp_path / "probe.c"
    source.write_text(
        '#include <stddef.h>\n#include <stdint.h>\n#include "waft.h"\n'
        "const uint64_t waft_probe[] = {\n"
        + "".join(f"    (uint64_t)({expr}),\n" for _, expr in items)
        + "};\n"
    )
    obj = tmp_path / "probe.o"
    subprocess.run(
        [target.cc, *target.cflags, "-std=c11", "-Wall", "-Werror", f"-I{INCLUDE}", "-c", str(source), "-o", str(obj)],
        check=True,
        capture_output=True,
        text=True,
    )
    with obj.open("rb") as f:
        elf = ELFFile(f)
        symbol = elf.get_section_by_name(".symtab").get_symbol_by_name("waft_probe")[0]
        section = elf.get_section(symbol["st_shndx"])
        data = section.data()[symbol["st_value"] : symbol["st_value"] + 8 * len(items)]
        order = "<" if elf.little_endian else ">"
    values = struct.unpack(f"{order}{len(items)}Q", data)
    return {label: value for (label, _), value in zip(items, values)}


def _target_data(target: Target) -> llvm.TargetData:
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    machine = llvm.Target.from_triple(target.triple).create_target_machine(
        cpu=target.cpu, features=target.features, reloc="static", codemodel="small"
    )
    return machine.target_data


def _llvm_offsets(struct_ty: ir.LiteralStructType, td: llvm.TargetData) -> list[int]:
    module = ir.Module()
    var = ir.GlobalVariable(module, struct_ty, "probe")
    var.initializer = ir.Constant(struct_ty, None)
    parsed = llvm.parse_assembly(str(module)).get_global_variable("probe").global_value_type
    return [td.get_element_offset(parsed, i) for i in range(len(struct_ty.elements))]


@pytest.mark.parametrize("target_name", PROBE_TARGETS)
def test_c_compiler_agrees_with_the_mirror(target_name, tmp_path):
    target = _target_or_skip(target_name)
    c = _c_view(target, tmp_path)
    for name, value in abi.TRAP_CODES.items():
        assert c[f"trap.{name}"] == value, name
    assert c["trap_code_count"] == len(abi.TRAP_CODES)
    assert c["trap_exit_status"] == abi.TRAP_EXIT_STATUS
    assert c["stack_margin"] == abi.STACK_MARGIN[target.kind]
    # Generated code passes trap codes as i32, even where enums are short by default.
    assert c["sizeof.waft_trap_code"] == 4


@pytest.mark.parametrize("target_name", PROBE_TARGETS)
def test_struct_layouts_agree_between_c_and_llvm(target_name, tmp_path):
    target = _target_or_skip(target_name)
    c = _c_view(target, tmp_path)
    td = _target_data(target)
    for struct_name, fields in abi.STRUCT_FIELDS.items():
        ty = abi.struct_type(struct_name, target.pointer_bits)
        assert ty.get_abi_size(td) == c[f"sizeof.{struct_name}"], struct_name
        assert ty.get_abi_alignment(td) == c[f"alignof.{struct_name}"], struct_name
        offsets = _llvm_offsets(ty, td)
        for i, (field, _) in enumerate(fields):
            assert offsets[i] == c[f"offsetof.{struct_name}.{field}"], f"{struct_name}.{field}"
            assert ty.elements[i].get_abi_size(td) == c[f"sizeof.{struct_name}.{field}"], f"{struct_name}.{field}"
            assert abi.field_index(struct_name, field) == i


def _prototype_check_source() -> str:
    """C that only compiles if every mirrored prototype and global type is exact."""
    lines = ['#include "waft.h"']
    for name, (result, params) in abi.RUNTIME_FUNCTIONS.items():
        lines.append(f"{result} (*check_{name})({', '.join(params) or 'void'}) = {name};")
    # Inside a function: a thread-local's address is not a constant initialiser.
    lines.append("void check_globals(void) {")
    for name, c_type in abi.RUNTIME_GLOBALS.items():
        lines.append(f"    {c_type} *check_{name} = &{name}; (void)check_{name};")
    lines.append("}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("target_name", ["host", "stm32f4"])
def test_helper_prototypes_match_the_header(target_name, tmp_path):
    target = _target_or_skip(target_name)
    source = tmp_path / "protos.c"
    source.write_text(_prototype_check_source())
    # -Werror turns gcc's incompatible-pointer-types warning into the failure we want.
    result = subprocess.run(
        [target.cc, *target.cflags, "-std=c11", "-Wall", "-Werror", f"-I{INCLUDE}", "-c", str(source), "-o", str(tmp_path / "p.o")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_llvm_function_types_follow_the_prototypes():
    grow = abi.runtime_function_type("waft_memory_grow", 32)
    assert str(grow) == "i32 (i8*, i32)"
    assert str(abi.runtime_function_type("waft_trap", 64)) == "void (i32)"
    assert str(abi.runtime_function_type("waft_func_signature_equal", 64)) == "i1 (i8*, i8*)"
    assert str(abi.runtime_function_type("waft_call_guarded", 32)) == "i32 (i8*, i8*, i8*)"
    assert str(abi.runtime_global_type("waft_stack_limit", 32)) == "i32"
    assert str(abi.runtime_global_type("waft_stack_limit", 64)) == "i64"


def test_strerror_returns_the_mirrored_messages(tmp_path):
    if not _have("cc"):
        pytest.skip("no host cc")
    source = tmp_path / "strerror.c"
    source.write_text(
        '#include <stdio.h>\n#include "waft.h"\n'
        "int main(void) {\n"
        "    for (int i = 0; i <= WAFT_TRAP_CODE_COUNT; i++) printf(\"%s\\n\", waft_strerror((waft_trap_code)i));\n"
        "    return 0;\n}\n"
    )
    exe = tmp_path / "strerror"
    sources = [str(p) for p in sorted((ROOT / "runtime_c" / "src").glob("*.c"))]
    sources += [str(p) for p in sorted((ROOT / "runtime_c" / "port" / "host").glob("*.c"))]
    subprocess.run(
        ["cc", "-std=c11", "-Wall", "-Werror", f"-I{INCLUDE}", str(source), *sources, "-o", str(exe)],
        check=True,
        capture_output=True,
        text=True,
    )
    lines = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.splitlines()
    assert lines == list(abi.TRAP_MESSAGES.values()) + ["unknown trap"]


# --- contradicting build options ----------------------------------------------


@pytest.mark.parametrize(
    "defines, message",
    [
        (["-DWAFT_PORT_HOST", "-DWAFT_PORT_CORTEX_M"], "contradict"),
        (["-DWAFT_STACK_MARGIN=16"], "WAFT_STACK_MARGIN_MIN"),
        (["-DWAFT_THREADS"], "single-threaded"),
        (["-DWAFT_PORT_CORTEX_M"], "bare-metal"),
    ],
)
def test_contradicting_build_options_stop_the_build(defines, message, tmp_path):
    source = tmp_path / "opts.c"
    source.write_text('#include "waft.h"\n')
    result = subprocess.run(
        ["cc", "-std=c11", *defines, f"-I{INCLUDE}", "-fsyntax-only", str(source)],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert message in result.stderr


def test_header_is_valid_cplusplus(tmp_path):
    cxx = shutil.which("c++") or shutil.which("g++")
    if cxx is None:
        pytest.skip("no C++ compiler")
    source = tmp_path / "user.cc"
    source.write_text('#include "waft.h"\nint main() { return waft_strerror(WAFT_TRAP_NONE) == nullptr; }\n')
    result = subprocess.run(
        [cxx, "-std=c++11", "-Wall", "-Werror", f"-I{INCLUDE}", "-fsyntax-only", str(source)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


# --- the imports struct -------------------------------------------------------


def test_imports_struct_fields_follow_the_documented_order():
    from aot.wasm.module import (
        FuncType,
        GlobalType,
        Import,
        Limits,
        MemoryType,
        Module,
        TableType,
    )

    module = Module(
        types=[FuncType(("i32",), ())],
        imports=[
            Import("env", "log", "func", 0),
            Import("env", "memory", "memory", MemoryType(Limits(1))),
            Import("wasi_snapshot_preview1", "fd_write", "func", 0),
            Import("env", "table", "table", TableType("funcref", Limits(0))),
            Import("env", "counter", "global", GlobalType("i32", True)),
            Import("env", "counter", "global", GlobalType("i32", False)),
            Import("env", "fn", "global", GlobalType("funcref", False)),
            Import("env", "log", "func", 0),
        ],
    )
    fields = abi.imports_struct_fields(module)
    assert [(f.name, f.c_type, f.kind) for f in fields] == [
        ("env", "void *", "ctx"),
        ("wasi_snapshot_preview1", "void *", "ctx"),
        ("env__memory", "waft_memory *", "memory"),
        ("env__table", "waft_table *", "table"),
        ("env__counter", "int32_t *", "global"),
        ("env__counter__2", "int32_t *", "global"),
        ("env__fn", "const waft_func **", "global"),
    ]
    assert [f.import_index for f in fields] == [None, None, 1, 3, 4, 5, 6]
    assert abi.imports_struct_fields(Module()) == []
