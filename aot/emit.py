"""Turn LLVM IR text into an ELF object for a target: target machine, verify, optimise, emit.

The target machine comes from `aot.targets.Target` (triple, CPU, features,
RISC-V ABI name).  Embedded targets use static relocations and the small code
model; the host uses position-independent code because Linux toolchains link
position-independent executables by default and reject absolute relocations
in them.

Optimisation runs LLVM's new pass manager with its standard per-module
pipeline (`-O0`..`-O3`).  LLVM's C API has no size level, so `-Os`/`-Oz` are
what clang makes of them: the `-O2` pipeline over functions carrying the
`optsize` (and for `z` also `minsize`) attribute, which the module driver adds
(`function_attributes_for_opt`).
"""

from __future__ import annotations

from functools import cache

import llvmlite.binding as llvm

from aot.errors import AotError
from aot.targets import Target

OPT_LEVELS = ("0", "1", "2", "3", "s", "z")


@cache
def _init_llvm() -> None:
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()


def check_opt(opt: str) -> str:
    """Validate an optimisation level; returns it or raises AotError."""
    opt = str(opt)
    if opt not in OPT_LEVELS:
        raise AotError(f"unknown optimisation level '{opt}' (use one of {', '.join(OPT_LEVELS)})")
    return opt


def speed_level(opt: str) -> int:
    """The pass pipeline level for an option: `s` and `z` run the -O2 pipeline."""
    return 2 if check_opt(opt) in ("s", "z") else int(opt)


def function_attributes_for_opt(opt: str) -> tuple[str, ...]:
    """Function attributes that carry a size level to LLVM (clang's -Os/-Oz do the same)."""
    opt = check_opt(opt)
    if opt == "s":
        return ("optsize",)
    if opt == "z":
        return ("optsize", "minsize")
    return ()


def target_machine(target: Target, opt: str = "2") -> llvm.TargetMachine:
    """An LLVM target machine for `target` at optimisation level `opt`."""
    _init_llvm()
    try:
        llvm_target = llvm.Target.from_triple(target.triple)
    except RuntimeError as exc:
        raise AotError(f"LLVM has no backend for target triple '{target.triple}': {exc}") from None
    return llvm_target.create_target_machine(
        cpu=target.cpu,
        features=target.features,
        opt=speed_level(opt),
        reloc="pic" if target.is_host else "static",
        codemodel="small",
        abiname=target.abi_name,
    )


def parse_and_verify(ir_text: str) -> llvm.ModuleRef:
    """Parse IR text and run LLVM's verifier; a failure is a compiler bug, reported as AotError."""
    _init_llvm()
    try:
        mod = llvm.parse_assembly(ir_text)
        mod.verify()
    except RuntimeError as exc:
        raise AotError(f"internal error: the generated LLVM IR does not verify: {exc}") from None
    return mod


def optimise(mod: llvm.ModuleRef, tm: llvm.TargetMachine, opt: str) -> None:
    """Run LLVM's standard module pipeline (new pass manager) for `opt` in place."""
    level = speed_level(opt)
    pto = llvm.create_pipeline_tuning_options(speed_level=level)
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(mod, pb)


def emit_object(ir_text: str, target: Target, opt: str = "2") -> tuple[bytes, str]:
    """Verify, optimise and compile IR text; returns (ELF object bytes, optimised IR text)."""
    tm = target_machine(target, opt)
    mod = parse_and_verify(ir_text)
    mod.triple = tm.triple
    mod.data_layout = str(tm.target_data)
    optimise(mod, tm, opt)
    mod.verify()
    return tm.emit_object(mod), str(mod)
