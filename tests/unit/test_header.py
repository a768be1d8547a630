"""The generated module header: golden files, and every one compiles as C11 and C++.

Modules are built directly as `aot.wasm.module.Module` objects so these tests do
not depend on the decoder.  After an intended change to the header's shape,
regenerate the goldens with `WAFT_UPDATE_GOLDEN=1 pytest tests/unit/test_header.py`
and review the diff.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from aot.errors import UnsupportedError
from aot.header import abi_conditions, generate_header
from aot.targets import all_targets, load_target
from aot.wasm.module import (
    Export,
    Function,
    FuncType,
    Global,
    GlobalType,
    Import,
    Instr,
    Limits,
    MemoryType,
    Module,
    Names,
    TableType,
)

ROOT = Path(__file__).resolve().parents[2]
INCLUDE = ROOT / "runtime_c" / "include"
GOLDEN = Path(__file__).resolve().parent / "golden"


def _body() -> list[Instr]:
    return [Instr("end")]


def empty_module() -> Module:
    return Module()


def pid_module() -> Module:
    """A firmware-shaped module: a controller step, state in memory, sensor imports."""
    types = [
        FuncType(("f32", "f32"), ("f32",)),  # 0 step(setpoint, measured) -> output
        FuncType((), ("f32",)),  # 1 read_sensor
        FuncType(("i32",), ()),  # 2 log
        FuncType((), ()),  # 3 _start
    ]
    return Module(
        types=types,
        imports=[
            Import("env", "read_sensor", "func", 1),
            Import("env", "log", "func", 2),
        ],
        functions=[Function(0, body=_body()), Function(3, body=_body())],
        memories=[MemoryType(Limits(1, 1))],
        globals=[Global(GlobalType("f32", True), [Instr("f32.const", 0)])],
        exports=[
            Export("step", "func", 2),
            Export("_start", "func", 3),
            Export("memory", "memory", 0),
            Export("integral", "global", 0),
        ],
        names=Names(
            module="pid",
            functions={2: "step"},
            locals={2: {0: "setpoint", 1: "measured"}, 1: {0: "level"}},
        ),
    )


def kitchen_sink_module() -> Module:
    """Every import and export kind, multi-value, references, awkward names."""
    types = [
        FuncType(("i32", "i64", "f32", "f64"), ("i32", "i64")),  # 0 multi-value
        FuncType(("funcref", "externref"), ("externref",)),  # 1 references
        FuncType(("i32",), ("i32",)),  # 2
        FuncType(("i32", "i32"), ()),  # 3 fd_write-like
        FuncType(("i64",), ()),  # 4 conflicting re-import
    ]
    return Module(
        types=types,
        imports=[
            Import("wasi_snapshot_preview1", "fd_write", "func", 3),
            Import("env", "memory", "memory", MemoryType(Limits(1, 16, page_size_log2=0))),
            Import("env", "twice", "func", 2),
            Import("env", "table", "table", TableType("funcref", Limits(2))),
            Import("env", "g", "global", GlobalType("i64", False)),
            Import("env", "g", "global", GlobalType("i64", False)),
            Import("env", "twice", "func", 2),
            Import("env", "twice", "func", 4),
            Import("", "a-b", "func", 2),
        ],
        functions=[Function(0, body=_body()), Function(1, body=_body()), Function(2, body=_body())],
        tables=[TableType("externref", Limits(0, 8))],
        globals=[Global(GlobalType("funcref", False), [Instr("ref.null", "funcref")])],
        exports=[
            Export("multi", "func", 5),
            Export("refs", "func", 6),
            Export("a-b", "func", 7),
            Export("naïve */ ??/", "func", 7),
            Export("twice", "func", 1),
            Export("", "table", 1),
            Export("imported_mem", "memory", 0),
            Export("imported table", "table", 0),
            Export("g", "global", 0),
            Export("fn", "global", 2),
        ],
        names=Names(
            locals={
                5: {0: "n", 1: "count", 2: "scale", 3: "count"},  # duplicates: all fall back
                6: {0: "callback", 1: "p0"},  # p<N> is taken by fallbacks
                2: {0: "int"},  # a keyword
                7: {0: "__x"},
                0: {0: "fd", 1: "iovs"},
                1: {0: "value"},
            }
        ),
    )


# Golden cases are for cross targets, so the text is the same on any build machine
# (a host header names the host's architecture).
CASES = {
    "empty": (empty_module, "empty", 1, 1, "cortex-m0plus"),
    "pid": (pid_module, "pid", 65600, 16, "stm32f4"),
    "kitchen_sink": (kitchen_sink_module, "sink", 4096, 8, "mps2-an505"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_header_matches_golden(case):
    factory, prefix, size, align, target = CASES[case]
    text = generate_header(factory(), prefix, size, align, load_target(target))
    golden = GOLDEN / f"{case}.h"
    if os.environ.get("WAFT_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert golden.is_file(), f"no golden file {golden}: run with WAFT_UPDATE_GOLDEN=1"
    assert text == golden.read_text()


def _compile(compiler: str, std: str, source: Path, tmp_path: Path,
             flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [compiler, *flags, f"-std={std}", "-Wall", "-Wextra", "-Werror", f"-I{INCLUDE}", f"-I{tmp_path}", "-c", str(source), "-o", str(tmp_path / "out.o")],
        capture_output=True,
        text=True,
    )


def _target_compiler(target, language: str = "c") -> tuple[str, tuple[str, ...]]:
    """The target's own C (or C++) compiler and flags; skip when it is not installed."""
    cc = target.cc if language == "c" else (target.cc[: -len("gcc")] + "g++" if target.cc.endswith("gcc") else "c++")
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} is not installed")
    return cc, target.cflags


@pytest.mark.parametrize("case", [*sorted(CASES), "kitchen_sink@host"])
def test_header_compiles_as_c11(case, tmp_path):
    factory, prefix, size, align, target_name = CASES[case.split("@")[0]]
    target = load_target(case.split("@")[1] if "@" in case else target_name)
    (tmp_path / f"{prefix}.h").write_text(generate_header(factory(), prefix, size, align, target))
    source = tmp_path / "user.c"
    # Include it twice (the guard) and check the instance's declared shape.
    source.write_text(
        f'#include "{prefix}.h"\n#include "{prefix}.h"\n'
        f"static {prefix}__instance instance;\n"
        f"_Static_assert(sizeof({prefix}__instance) == {max(size, 1)}, \"size\");\n"
        f"_Static_assert(_Alignof({prefix}__instance) == {align}, \"align\");\n"
        f"waft_trap_code run(const {prefix}__imports *imports) {{ return {prefix}__instantiate(&instance, imports); }}\n"
    )
    cc, flags = _target_compiler(target)
    result = _compile(cc, "c11", source, tmp_path, flags)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("case", sorted(CASES))
def test_header_compiles_as_cplusplus(case, tmp_path):
    factory, prefix, size, align, target_name = CASES[case]
    target = load_target(target_name)
    cxx, flags = _target_compiler(target, "c++")
    (tmp_path / f"{prefix}.h").write_text(generate_header(factory(), prefix, size, align, target))
    source = tmp_path / "user.cc"
    source.write_text(f'#include "{prefix}.h"\nstatic {prefix}__instance instance;\nvoid *use() {{ return &instance; }}\n')
    result = _compile(cxx, "c++11", source, tmp_path, flags)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("header_for,compiled_for", [
    ("stm32f4", "host"),           # the defect: a 32-bit hard-float header in a 64-bit host build
    ("host", "stm32f4"),
    ("stm32f4", "cortex-m0plus"),  # same architecture, other float calling convention
    ("cortex-m0plus", "stm32f4"),
    ("riscv32-virt", "stm32f4"),
])
def test_a_header_for_another_target_stops_the_c_compiler(header_for, compiled_for, tmp_path):
    target = load_target(compiled_for)
    cc, flags = _target_compiler(target)
    (tmp_path / "pid.h").write_text(generate_header(pid_module(), "pid", 64, 8, load_target(header_for)))
    source = tmp_path / "user.c"
    source.write_text('#include "pid.h"\n')
    result = _compile(cc, "c11", source, tmp_path, flags)
    assert result.returncode != 0
    assert f"pid.h was generated for target {header_for} (" in result.stderr, result.stderr


def test_every_target_has_an_abi_check():
    for target in all_targets():
        assert abi_conditions(target), target.name


def test_prototypes_follow_the_calling_conventions():
    text = generate_header(kitchen_sink_module(), "sink", 64, 8, load_target("host"))
    # Multi-value: void result, one out-pointer per result after the parameters.
    assert (
        "void sink_multi(sink__instance *inst, int32_t p0, int64_t p1, float p2, double p3,"
        " int32_t *result0, int64_t *result1);" in text
    )
    assert "void *sink_refs(sink__instance *inst, const waft_func *callback, void *p1);" in text
    # Imports take the module's ctx first; one prototype per symbol.
    assert "void wasi_snapshot_preview1__fd_write(void *ctx, int32_t fd, int32_t iovs);" in text
    assert "int32_t env__twice(void *ctx, int32_t value);" in text
    assert text.count("int32_t env__twice(void *ctx") == 1
    assert "int32_t ____a_x2db(void *ctx, int32_t p0);" in text
    # Accessors for the other export kinds.
    assert "waft_memory *sink_imported_mem(sink__instance *inst);" in text
    assert "waft_table *sink__(sink__instance *inst);" in text
    assert "int64_t *sink_g(sink__instance *inst);" in text
    assert "const waft_func **sink_fn(sink__instance *inst);" in text


def test_imports_struct_members_in_documented_order():
    text = generate_header(kitchen_sink_module(), "sink", 64, 8, load_target("host"))
    struct = text[text.index("typedef struct sink__imports {") : text.index("} sink__imports;")]
    members = [line.split(";")[0].strip() for line in struct.splitlines()[1:] if ";" in line]
    assert members == [
        "void *wasi_snapshot_preview1",
        "void *env",
        "void *_",
        "waft_memory *env__memory",
        "waft_table *env__table",
        "int64_t *env__g",
        "int64_t *env__g__2",
    ]


def test_a_module_without_imports_still_has_an_imports_struct():
    text = generate_header(empty_module(), "empty", 1, 1, load_target("host"))
    assert "void *unused;" in text


def test_parameter_names_fall_back_when_unusable_or_clashing():
    text = generate_header(pid_module(), "pid", 8, 8, load_target("stm32f4"))
    assert "float pid_step(pid__instance *inst, float setpoint, float measured);" in text
    assert "void env__log(void *ctx, int32_t level);" in text
    sink = generate_header(kitchen_sink_module(), "sink", 8, 8, load_target("host"))
    assert "sink__a_x2db(sink__instance *inst, int32_t p0)" in sink  # "__x" is reserved


def test_comment_block_names_every_export_and_import():
    text = generate_header(kitchen_sink_module(), "sink", 64, 8, load_target("host"))
    banner = text[: text.index("*/")]
    assert '"naïve' not in banner and '"na\\xc3\\xafve *\\/ ?\\?/"' in banner
    for symbol in ["sink_multi", "sink_refs", "sink__a_x2db", "sink_g", "wasi_snapshot_preview1__fd_write", "imports->env__g__2"]:
        assert symbol in banner, symbol


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="reserved"):
        generate_header(empty_module(), "waft", 8, 8, load_target("host"))
    with pytest.raises(ValueError, match="power of two"):
        generate_header(empty_module(), "m", 8, 3, load_target("host"))
    simd = Module(types=[FuncType(("v128",), ())], functions=[Function(0, body=_body())], exports=[Export("f", "func", 0)])
    with pytest.raises(UnsupportedError, match="v128"):
        generate_header(simd, "m", 8, 8, load_target("host"))


WAT = """
(module
  (import "env" "read_sensor" (func $read_sensor (param $channel i32) (result f32)))
  (import "env" "memory" (memory 1))
  (func (export "step") (param $setpoint f32) (param $measured f32) (result f32)
    (f32.sub (local.get $setpoint) (local.get $measured)))
  (func (export "divmod") (param $a i32) (param $b i32) (result i32 i32)
    (i32.div_u (local.get $a) (local.get $b)) (i32.rem_u (local.get $a) (local.get $b)))
  (global (export "ticks") (mut i64) (i64.const 0)))
"""


def test_header_from_a_decoded_module(tmp_path):
    """End to end with the real decoder: WAT -> wat2wasm (with names) -> decode -> header -> cc."""
    if shutil.which("wat2wasm") is None:
        pytest.skip("wat2wasm not installed")
    from aot.wasm.decode import decode_module

    wat = tmp_path / "ctl.wat"
    wat.write_text(WAT)
    wasm = tmp_path / "ctl.wasm"
    subprocess.run(["wat2wasm", "--debug-names", str(wat), "-o", str(wasm)], check=True, capture_output=True)
    text = generate_header(decode_module(wasm.read_bytes()), "ctl", 128, 8, load_target("host"))
    assert "float ctl_step(ctl__instance *inst, float setpoint, float measured);" in text
    assert "void ctl_divmod(ctl__instance *inst, int32_t a, int32_t b, int32_t *result0, int32_t *result1);" in text
    assert "int64_t *ctl_ticks(ctl__instance *inst);" in text
    assert "float env__read_sensor(void *ctx, int32_t channel);" in text
    assert "waft_memory *env__memory; /* imported memory" in text
    (tmp_path / "ctl.h").write_text(text)
    source = tmp_path / "user.c"
    source.write_text('#include "ctl.h"\n')
    result = _compile("cc", "c11", source, tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_margin_too_small_for_the_modules_unchecked_frames_stops_the_c_compiler(tmp_path):
    # Frames pushed before their stack check must fit WAFT_STACK_MARGIN (2 KiB on a board)
    # with the trap path: a header saying 1900 bytes cannot be built with the default...
    target = load_target("stm32f4")
    cc, flags = _target_compiler(target)
    (tmp_path / "pid.h").write_text(generate_header(pid_module(), "pid", 64, 8, target, max_unguarded_frame=1900))
    source = tmp_path / "user.c"
    source.write_text('#include "pid.h"\n')
    result = _compile(cc, "c11", source, tmp_path, flags)
    assert result.returncode != 0
    assert "pid.h: WAFT_STACK_MARGIN is too small for this module" in result.stderr, result.stderr
    # ...and builds once the margin holds it.
    result = _compile(cc, "c11", source, tmp_path, (*flags, "-DWAFT_STACK_MARGIN=2304u"))
    assert result.returncode == 0, result.stderr
