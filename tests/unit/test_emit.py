"""Objects for every target: right machine, symbols, float ABI, libcalls; links where a toolchain exists (aot/emit.py)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from elftools.elf.elffile import ELFFile
from wasm_host import wat_to_wasm

from aot.compiler import compile_module
from aot.emit import (
    OPT_LEVELS,
    add_vfp_args_attribute,
    check_opt,
    emit_object,
    machine_outliner_mode,
    predicates_loop_exits,
    speed_level,
    unroll_limits,
    unrolls_loops,
)
from aot.errors import AotError
from aot.targets import load_target
from waftkit.firmware.runtime import INCLUDE_DIR, runtime_library

CROSS_TARGETS = ["stm32f4", "cortex-m0plus", "mps2-an500", "mps2-an505", "riscv32-virt", "mps2-an386", "nrf52840"]

MODULE = r"""
(module
  (memory (export "mem") 1 1)
  (global (export "counter") (mut i32) (i32.const 0))
  (table (export "tab") 1 funcref)
  (elem (i32.const 0) $fmul)
  (func (export "div") (param i64 i64) (result i64) (i64.div_s (local.get 0) (local.get 1)))
  (func (export "dadd") (param f64 f64) (result f64) (f64.add (local.get 0) (local.get 1)))
  (func $fmul (export "fmul") (param f32 f32) (result f32) (f32.mul (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result f32) (f32.load (local.get 0)))
  (func (export "pair") (param i32) (result i32 i64) (local.get 0) (i64.extend_i32_u (local.get 0)))
  (func (export "indirect") (param f32 f32 i32) (result f32)
    (call_indirect (param f32 f32) (result f32) (local.get 0) (local.get 1) (local.get 2)))
  (func $count (export "count") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (return_call $count (i32.sub (local.get 0) (i32.const 1))))))
)
"""

EM_MACHINE = {"arm": "EM_ARM", "riscv": "EM_RISCV"}


@pytest.fixture(scope="module")
def module_wasm(tmp_path_factory) -> bytes:
    return wat_to_wasm(MODULE, tmp_path_factory.mktemp("emit"), "emit", ("tail-call",))


def _elf(obj: bytes) -> ELFFile:
    return ELFFile(io.BytesIO(obj))


def _symbols(elf: ELFFile) -> dict[str, object]:
    return {sym.name: sym for sym in elf.get_section_by_name(".symtab").iter_symbols() if sym.name}


def _file_attributes(elf: ELFFile) -> dict[str, object]:
    section = elf.get_section_by_name(".ARM.attributes")
    attrs = {}
    for sub in section.iter_subsections():
        for subsub in sub.iter_subsubsections():
            for attr in subsub.iter_attributes():
                attrs[attr.tag] = attr.value
    return attrs


@pytest.mark.parametrize("name", CROSS_TARGETS)
def test_cross_target_objects(module_wasm, name):
    target = load_target(name)
    result = compile_module(module_wasm, target, prefix="m")
    elf = _elf(result.object)
    assert elf["e_type"] == "ET_REL"
    assert elf["e_machine"] == EM_MACHINE["arm" if target.is_arm else "riscv"]
    symbols = _symbols(elf)
    for export in ("m_div", "m_dadd", "m_fmul", "m_pair", "m_mem", "m_counter", "m_tab", "m__initialize"):
        assert symbols[export]["st_info"]["bind"] == "STB_GLOBAL", export
        assert symbols[export]["st_shndx"] != "SHN_UNDEF", export
    # Signature strings are weak (linkonce_odr) so every object shares one copy.
    assert symbols["waft__sig_ff_f"]["st_info"]["bind"] == "STB_WEAK"
    # Internal functions stay local.
    assert all(sym["st_info"]["bind"] == "STB_LOCAL" for n, sym in symbols.items() if n.startswith("wasm."))
    assert symbols["waft_trap"]["st_shndx"] == "SHN_UNDEF"
    assert symbols["waft_stack_limit"]["st_shndx"] == "SHN_UNDEF"
    # No unwind tables: every function is nounwind (NOTES.md: EHABI pulls libgcc's unwinder).
    assert "__aeabi_unwind_cpp_pr0" not in symbols
    if target.is_arm:
        attrs = _file_attributes(elf)
        vfp_args = attrs.get("TAG_ABI_VFP_ARGS", 0)
        assert vfp_args == (1 if target.hard_float_arm else 0), attrs


def test_thumbv6m_uses_libgcc_helpers(module_wasm):
    result = compile_module(module_wasm, load_target("cortex-m0plus"), prefix="m")
    undefined = {n for n, s in _symbols(_elf(result.object)).items() if s["st_shndx"] == "SHN_UNDEF"}
    # LLVM picks the GNU names of the helpers here (NOTES.md); libgcc has both spellings,
    # and test_arm_objects_link_with_gcc proves they resolve.
    for gnu, aeabi in (("__divdi3", "__aeabi_ldivmod"), ("__adddf3", "__aeabi_dadd"), ("__mulsf3", "__aeabi_fmul")):
        assert gnu in undefined or aeabi in undefined, undefined


def test_hard_float_code_uses_vfp_registers(tmp_path, module_wasm):
    if shutil.which("arm-none-eabi-objdump") is None:
        pytest.skip("arm-none-eabi-objdump is not installed")
    result = compile_module(module_wasm, load_target("stm32f4"), prefix="m")
    obj = tmp_path / "m.o"
    obj.write_bytes(result.object)
    dump = subprocess.run(["arm-none-eabi-objdump", "-d", str(obj)], capture_output=True, text=True, check=True).stdout
    body = dump.split("<m_fmul>:")[1].split("\n\n")[0]
    # The export wrapper is a tail branch to the internal function (never inlined into it): check both.
    branch = re.search(r"\tb(?:\.[nw])?\t[0-9a-f]+ <(wasm\.[^>]+)>", body)
    if branch:
        assert "vmov" not in body, body
        body = dump.split(f"<{branch.group(1)}>:")[1].split("\n\n")[0]
    # Arguments arrive in s0/s1 and the result leaves in s0: no moves from core registers.
    assert re.search(r"vmul\w*\.f32\ts0, s0, s1", body), body
    assert "vmov" not in body, body


@pytest.mark.parametrize("name", ["stm32f4", "cortex-m0plus", "mps2-an505"])
def test_arm_objects_link_with_gcc(tmp_path, module_wasm, name):
    """arm-none-eabi-gcc links the object with the runtime at the target's float ABI, no --no-warn-mismatch."""
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    target = load_target(name)
    result = compile_module(module_wasm, target, prefix="m")
    (tmp_path / "m.o").write_bytes(result.object)
    (tmp_path / "m.h").write_text(result.header)
    (tmp_path / "main.c").write_text(r"""
        #include "waft.h"
        #include "m.h"
        static m__instance inst;
        volatile float out;
        int main(void) {
            m__imports imports;
            if (m__instantiate(&inst, &imports) != WAFT_TRAP_NONE) return 1;
            out = m_fmul(&inst, 1.5f, 2.0f) + (float)m_dadd(&inst, 1.0, 2.0);
            return (int)out;
        }
    """)
    lib = runtime_library(target, tmp_path / "build")
    proc = subprocess.run(
        [target.cc, *target.cflags, "--specs=nosys.specs", "-Wl,--defsym=__StackLimit=0x20000000",
         "-Wl,--fatal-warnings", "-Wl,--no-warn-rwx-segments", "-Wl,-z,noexecstack",
         f"-I{INCLUDE_DIR}", f"-I{tmp_path}", str(tmp_path / "main.c"), str(tmp_path / "m.o"), str(lib),
         "-o", str(tmp_path / "a.elf")],
        capture_output=True, text=True,
    )
    mismatch = [line for line in proc.stderr.splitlines() if "VFP register arguments" in line or "uses" in line]
    assert not mismatch, proc.stderr
    assert (tmp_path / "a.elf").exists(), proc.stderr


@pytest.mark.parametrize("name", ["host", "stm32f4", "riscv32-virt"])
def test_stack_limit_is_thread_local_on_hosts_only(module_wasm, name):
    """Each POSIX thread has its own waft_stack_limit; a board has one that its scheduler switches."""
    target = load_target(name)
    limit = _symbols(_elf(compile_module(module_wasm, target, prefix="m").object))["waft_stack_limit"]
    assert (limit["st_info"]["type"] == "STT_TLS") == target.is_host, limit["st_info"]


def test_opt_levels():
    assert OPT_LEVELS == ("0", "1", "2", "3", "s", "z")
    assert [speed_level(o) for o in OPT_LEVELS] == [0, 1, 2, 3, 2, 2]
    with pytest.raises(AotError, match="unknown optimisation level"):
        check_opt("4")


@pytest.mark.parametrize("opt", ["0", "s", "z", "3"])
def test_every_opt_level_compiles(module_wasm, opt):
    result = compile_module(module_wasm, load_target("host"), prefix="m", opt=opt)
    assert _elf(result.object)["e_type"] == "ET_REL"
    if opt in ("s", "z"):
        assert "optsize" in result.unoptimised_ir


# A loop with a trip count LLVM computes (n / 4 words), the kind -O2 unrolls.
SUM_LOOP = r"""
(module
  (memory 1 1)
  (func (export "sum") (param i32) (result i32) (local i32 i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get 2) (i32.const 64)))
      (local.set 1 (i32.add (local.get 1) (i32.load (i32.add (local.get 0) (i32.shl (local.get 2) (i32.const 2))))))
      (local.set 2 (i32.add (local.get 2) (i32.const 1)))
      (br 0)))
    (local.get 1)))
"""


def test_loops_unroll_twice_at_o2_freely_at_o3_not_for_size(tmp_path):
    """-O2 unrolls by at most two (flash is scarce), -O3 as LLVM's Cortex-M tuning likes, -O1/-Os/-Oz not at all."""
    assert [unrolls_loops(o) for o in OPT_LEVELS] == [False, False, True, True, False, False]
    assert unroll_limits("2")["unroll-max-count"] == 2 and unroll_limits("3")["unroll-max-count"] > 2
    wasm = wat_to_wasm(SUM_LOOP, tmp_path, "sum")
    target = load_target("stm32f4")
    results = {opt: compile_module(wasm, target, prefix="m", opt=opt) for opt in ("1", "2", "3", "s")}
    # The loop's loads, plus the stack limit's: one copy rolled, two at -O2, more at -O3.
    loads = {opt: r.llvm_ir.count("load i32") for opt, r in results.items()}
    assert loads["1"] == loads["s"] == 2 and loads["2"] == 3 and loads["3"] > 3, loads
    text = {opt: _text_size(r.object) for opt, r in results.items()}
    assert text["s"] < text["2"] < text["3"], text


# A loop whose body costs more than -O2's partial-unrolling threshold (120) and less than -O3's (150).
BIG_LOOP = "(module (memory 1 1) (func (export \"mix\") (param i32 i32) (result i32) (local i32)\n" + \
    "(block (loop (br_if 1 (i32.eqz (local.get 1)))\n" + "".join(
        f"(local.set 2 (i32.xor (i32.mul (local.get 2) (i32.const {2 * k + 3})) (i32.load offset={4 * k} (local.get 0))))\n"
        for k in range(10)) + \
    "(local.set 0 (i32.add (local.get 0) (i32.const 40))) (local.set 1 (i32.sub (local.get 1) (i32.const 1)))\n" + \
    "(br 0))) (local.get 2)))"


# A small loop whose trip count is only known at run time (`n - i`).
RUNTIME_LOOP = r"""
(module (memory 1 1)
  (func (export "fill") (param $i i32) (param $n i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store (i32.shl (local.get $i) (i32.const 2)) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))))
"""


def test_o2_leaves_bigger_loops_rolled(tmp_path):
    """-O2 unrolls only small loops (`unroll_limits`: flash); -O3 unrolls this one too."""
    wasm = wat_to_wasm(BIG_LOOP, tmp_path, "big")
    target = load_target("stm32f4")
    loads = {opt: compile_module(wasm, target, prefix="m", opt=opt).llvm_ir.count("load i32") for opt in ("2", "3")}
    assert loads["2"] == 1 + 10 and loads["3"] > 1 + 10, loads


# A loop that computes in registers, its trip count a parameter (pid's control loop is of this kind).
RUNTIME_COMPUTE = r"""
(module
  (func (export "mix") (param $x i32) (param $n i32) (result i32)
    (block (loop
      (br_if 1 (i32.eqz (local.get $n)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 747796405)) (i32.shr_u (local.get $x) (i32.const 7))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br 0)))
    (local.get $x)))
"""


def test_o2_runtime_unrolls_only_loops_that_touch_no_memory(tmp_path):
    """-O2 unrolls a loop whose trip count is known only at run time when it computes in registers
    (`unroll_limits`, aot/lower/loop_hints.py), not when it stores; -O3 unrolls both."""
    target = load_target("stm32f4")

    def count(wat: str, name: str, what: str) -> dict[str, int]:
        wasm = wat_to_wasm(wat, tmp_path, name)
        return {opt: _function_ir(compile_module(wasm, target, prefix="m", opt=opt).llvm_ir, "wasm.0").count(what)
                for opt in ("2", "3")}

    stores = count(RUNTIME_LOOP, "fill", "store i32")
    assert stores["2"] == 1 and stores["3"] > 1, stores
    multiplies = count(RUNTIME_COMPUTE, "mix", "mul i32")
    assert multiplies["2"] >= 2 and multiplies["3"] >= 2, multiplies


def _function_ir(ir: str, name: str) -> str:
    match = re.search(rf"define [^\n]*@{re.escape(name)}\(.*?\n}}\n", ir, re.DOTALL)
    assert match, f"{name} is not in the IR"
    return match.group(0)


def _text_size(obj: bytes) -> int:
    return sum(section["sh_size"] for section in _elf(obj).iter_sections() if section.name.startswith(".text"))


def test_invalid_ir_is_reported_not_crashing():
    with pytest.raises(AotError, match="does not verify"):
        emit_object("define i32 @f() {\nentry:\n  ret i64 0\n}\n", load_target("host"))


def test_vfp_args_patch_is_idempotent(module_wasm):
    obj = compile_module(module_wasm, load_target("stm32f4"), prefix="m").object
    assert add_vfp_args_attribute(obj) == obj


def _repeated_work(functions: int) -> str:
    """WAT: functions that each do the same dozen stores, the Machine Outliner's favourite shape."""
    body = " ".join(f"(i32.store offset={4 * k} (local.get 0) (i32.const {1000 + 37 * k}))" for k in range(12))
    funcs = "\n".join(f'(func (export "f{i}") (param i32) {body})' for i in range(functions))
    return f"(module (memory 1 1)\n{funcs})"


def test_machine_outliner_runs_only_at_oz(tmp_path):
    """-Oz still outlines repeated sequences into OUTLINED_FUNCTION_*, on Arm and RISC-V.

    Below -Oz the pass is switched off (aot/emit.py, machine_outliner_mode): it
    would change no code there, only keep every function's machine code alive to
    the end of the module — which shows in memory, not in the object
    (bench/results/compile_scaling_stm32f4.md).
    """
    assert [machine_outliner_mode(o) for o in OPT_LEVELS] == ["never"] * 5 + ["always"]
    wasm = wat_to_wasm(_repeated_work(6), tmp_path, "repeated")
    for name in ("stm32f4", "riscv32-virt"):
        target = load_target(name)
        outlined = {}
        for opt in ("2", "z"):
            symbols = _symbols(_elf(compile_module(wasm, target, prefix="m", opt=opt).object))
            outlined[opt] = [s for s in symbols if s.startswith("OUTLINED_FUNCTION")]
        assert outlined["z"] and not outlined["2"], (name, outlined)


# Triangular loop nests with short trips, as in LU decomposition: every access is checked.
TRIANGULAR_C = r"""
int a[20][20];
int tri(int n) {
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j <= n; j++) {
            int w = a[j][i];
            for (int k = 0; k < i; k++) w -= a[j][k] * a[k][i];
            a[j][i] = w;
        }
    return a[n][n];
}
"""


def test_checked_loop_exits_are_not_predicated_in_the_preheader(tmp_path):
    """A checked loop's trap exits are left in the loop, not turned into exit-count arithmetic at its entry.

    With IndVarSimplify's exit predication (LLVM's default), each inner loop's
    entry computes its exact exit count against every check (udiv by the row
    stride, chains of umin): on Embench's ud that cost more than the checks
    themselves (`predicates_loop_exits` in aot/emit.py: -O3 only).
    """
    assert [predicates_loop_exits(o) for o in OPT_LEVELS] == [False, False, False, True, False, False]
    if shutil.which("clang") is None:
        pytest.skip("clang is not installed")
    source, wasm = tmp_path / "tri.c", tmp_path / "tri.wasm"
    source.write_text(TRIANGULAR_C)
    subprocess.run(["clang", "--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry", "-Wl,--export=tri",
                    "-Wl,--initial-memory=65536", "-Wl,--max-memory=65536", "-Wl,-z,stack-size=4096",
                    str(source), "-o", str(wasm)], check=True)
    target = load_target("stm32f4")
    ir = compile_module(wasm.read_bytes(), target, prefix="m").llvm_ir
    assert "@waft_trap" in ir  # the accesses are checked
    assert "udiv" not in ir and "llvm.umin" not in ir
    # -O3 predicates them (and the -O2 compile after it must not inherit that: the option is process-wide).
    assert "llvm.umin" in compile_module(wasm.read_bytes(), target, prefix="m", opt="3").llvm_ir
    assert "llvm.umin" not in compile_module(wasm.read_bytes(), target, prefix="m").llvm_ir
