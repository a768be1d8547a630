"""Run single opcode handlers for real: build IR with them, optimise with LLVM, JIT, call.

A stand-in for the module driver while `aot/lower/module.py` is being
written: `HarnessModuleContext` provides the one thing handlers ask the
module for (`runtime_function("waft_trap")`), and a tiny C shim compiled with
the host cc gives `waft_trap` a real non-local exit (setjmp/longjmp), so a
trap is observed as its code, exactly as the runtime will report it.

Each case becomes `R f(ptr instance, params...)` whose body is the handlers'
output for a list of instructions (the parameters start on the value stack),
plus a wrapper `void f.call(ptr instance, ptr slots)` that reads the
arguments from 8-byte slots and writes the result into slot 0.  Values cross
as raw bit patterns so NaN payloads are checked exactly.

The same IR can be emitted as an object for any target (`emit_object`), which
the cross-target tests use to check libcalls against the ARM toolchain.
"""

from __future__ import annotations

import ctypes
import functools
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import llvmlite.binding as llvm
from llvmlite import ir

from aot.lower import compare, convert, numeric
from aot.lower.context import I32, PTR, FuncContext, llvm_type
from aot.module import Instr

HANDLERS = {**numeric.HANDLERS, **compare.HANDLERS, **convert.HANDLERS}

_SHIM_C = r"""
#include <setjmp.h>
#include <stdint.h>
static jmp_buf *current;
__attribute__((noreturn)) void waft_trap(int32_t code) { longjmp(*current, code); }
int32_t harness_call(void (*fn)(void *, void *), void *instance, void *slots) {
    jmp_buf env;
    jmp_buf *saved = current;
    current = &env;
    int code = setjmp(env);
    if (code == 0) fn(instance, slots);
    current = saved;
    return code;
}
"""


@functools.cache
def _shim() -> ctypes.CDLL:
    """Compile and load the setjmp/longjmp trap shim once per test session."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise RuntimeError("the lowering tests need a host C compiler (cc)")
    folder = Path(tempfile.mkdtemp(prefix="waft-lower-harness-"))
    (folder / "shim.c").write_text(_SHIM_C)
    subprocess.run([cc, "-O1", "-shared", "-fPIC", "-o", str(folder / "shim.so"), str(folder / "shim.c")],
                   check=True)
    lib = ctypes.CDLL(str(folder / "shim.so"), mode=ctypes.RTLD_GLOBAL)
    lib.harness_call.restype = ctypes.c_int32
    lib.harness_call.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    llvm.add_symbol("waft_trap", ctypes.cast(lib.waft_trap, ctypes.c_void_p).value)
    return lib


@functools.cache
def _init_llvm() -> None:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()


class HarnessModuleContext:
    """The part of ModuleContext the numeric handlers use."""

    def __init__(self, llmod: ir.Module) -> None:
        self.llmod = llmod

    def runtime_function(self, name: str) -> ir.Function:
        if name != "waft_trap":
            raise KeyError(f"the harness provides only waft_trap, not {name}")
        existing = self.llmod.globals.get(name)
        if existing is not None:
            return existing
        fn = ir.Function(self.llmod, ir.FunctionType(ir.VoidType(), [I32]), name=name)
        fn.attributes.add("noreturn")
        fn.attributes.add("nounwind")
        return fn


@dataclass
class Case:
    """One function to build: params start on the stack, then `body` runs."""

    name: str
    params: Sequence[str]
    result: str
    body: Sequence[Instr]


def add_case(llmod: ir.Module, case: Case) -> None:
    """Lower `case` into `llmod` as `case.name` plus its `case.name.call` wrapper."""
    mctx = HarnessModuleContext(llmod)
    param_types = [llvm_type(t) for t in case.params]
    result_type = llvm_type(case.result)
    fn = ir.Function(llmod, ir.FunctionType(result_type, [PTR, *param_types]), name=case.name)
    fn.attributes.add("nounwind")
    builder = ir.IRBuilder(fn.append_basic_block("entry"))
    fctx = FuncContext(mctx, 0, fn, builder)
    for arg in fn.args[1:]:
        fctx.push(arg)
    for instr in case.body:
        fctx.instr = instr
        HANDLERS[instr.op](fctx, instr)
    builder.ret(fctx.pop())
    assert not fctx.stack, "case left values on the stack"

    wrap = ir.Function(llmod, ir.FunctionType(ir.VoidType(), [PTR, PTR]), name=case.name + ".call")
    wrap.attributes.add("nounwind")
    b = ir.IRBuilder(wrap.append_basic_block("entry"))
    instance, slots = wrap.args
    args = []
    for i, ty in enumerate(param_types):
        slot = b.gep(slots, [ir.Constant(I32, 8 * i)])
        args.append(b.load(b.bitcast(slot, ir.PointerType(ty))))
    result = b.call(fn, [instance, *args])
    b.store(result, b.bitcast(slots, ir.PointerType(result_type)))
    b.ret_void()


def optimise(mod: llvm.ModuleRef, tm: llvm.TargetMachine, level: int = 2) -> None:
    """LLVM's standard pipeline, as the compiler will run it."""
    pto = llvm.create_pipeline_tuning_options(speed_level=level)
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(mod, pb)


def host_target_machine() -> llvm.TargetMachine:
    _init_llvm()
    return llvm.Target.from_default_triple().create_target_machine(opt=2, jit=True)


class Jit:
    """A compiled module of cases, callable by name with raw bit patterns."""

    def __init__(self, cases: Sequence[Case], opt_level: int = 2) -> None:
        _init_llvm()
        self._shim = _shim()
        llmod = ir.Module(name="harness")
        for case in cases:
            add_case(llmod, case)
        self.ir_text = str(llmod)
        mod = llvm.parse_assembly(self.ir_text)
        mod.verify()
        tm = host_target_machine()
        if opt_level:
            optimise(mod, tm, opt_level)
        self.optimised_ir = str(mod)
        self._engine = llvm.create_mcjit_compiler(mod, tm)
        self._engine.finalize_object()
        self._cases = {case.name: case for case in cases}
        self._slots = (ctypes.c_uint64 * 8)()

    def call(self, name: str, *args: int) -> tuple[int, int]:
        """Call case `name` with raw-bit arguments; returns (trap code or 0, raw result bits)."""
        case = self._cases[name]
        for i, (ty, value) in enumerate(zip(case.params, args)):
            self._slots[i] = value & ((1 << bit_width(ty)) - 1)
        address = self._engine.get_function_address(name + ".call")
        code = self._shim.harness_call(address, None, ctypes.addressof(self._slots))
        return code, self._slots[0] & ((1 << bit_width(case.result)) - 1)


def bit_width(valtype: str) -> int:
    return 32 if valtype in ("i32", "f32") else 64


# --- values as bits ----------------------------------------------------------------


def f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f64_bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def bits_of(valtype: str, x: float | int) -> int:
    """Raw bits of a Python value in `valtype` (ints taken modulo 2^width)."""
    if valtype == "f32":
        return f32_bits(float(x))
    if valtype == "f64":
        return f64_bits(float(x))
    return int(x) & ((1 << bit_width(valtype)) - 1)


def is_nan(valtype: str, bits: int) -> bool:
    if valtype == "f32":
        return (bits & 0x7F800000) == 0x7F800000 and (bits & 0x007FFFFF) != 0
    return (bits & 0x7FF0000000000000) == 0x7FF0000000000000 and (bits & 0x000FFFFFFFFFFFFF) != 0


def is_canonical_nan(valtype: str, bits: int) -> bool:
    mask = 0x7FFFFFFF if valtype == "f32" else 0x7FFFFFFFFFFFFFFF
    canon = 0x7FC00000 if valtype == "f32" else 0x7FF8000000000000
    return bits & mask == canon


def is_arithmetic_nan(valtype: str, bits: int) -> bool:
    quiet = 0x00400000 if valtype == "f32" else 0x0008000000000000
    return is_nan(valtype, bits) and bool(bits & quiet)


def matches(valtype: str, expected: str | int, bits: int) -> bool:
    """Spec-test comparison: exact bits, or 'nan:canonical' / 'nan:arithmetic'."""
    if expected == "nan:canonical":
        return is_canonical_nan(valtype, bits)
    if expected == "nan:arithmetic":
        return is_arithmetic_nan(valtype, bits)
    return bits == int(expected) & ((1 << bit_width(valtype)) - 1)


# --- cross-target objects --------------------------------------------------------------


def emit_object(cases: Sequence[Case], triple: str, cpu: str, features: str, abiname: str = "",
                opt_level: int = 2) -> bytes:
    """The cases as an optimised ELF object for a target."""
    _init_llvm()
    llmod = ir.Module(name="harness")
    llmod.triple = triple
    for case in cases:
        add_case(llmod, case)
    mod = llvm.parse_assembly(str(llmod))
    mod.verify()
    tm = llvm.Target.from_triple(triple).create_target_machine(
        cpu=cpu, features=features, opt=opt_level, reloc="static", codemodel="small", abiname=abiname
    )
    optimise(mod, tm, opt_level)
    return tm.emit_object(mod)
