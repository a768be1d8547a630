"""Turn LLVM IR text into an ELF object for a target: target machine, verify, optimise, emit.

The target machine comes from `aot.targets.Target` (triple, CPU, features,
RISC-V ABI name).  Embedded targets use static relocations and the small code
model; the host uses position-independent code because Linux toolchains link
position-independent executables by default and reject absolute relocations
in them.

Optimisation runs LLVM's new pass manager with its standard per-module
pipeline (`-O0`..`-O3`).  Loops unroll at `-O2` and `-O3` only, and at `-O2`
only small loops, into at most two copies of the body, with a count known
only at run time only where they touch no memory (`unroll_limits`).
Why: LLVM's Cortex-M tuning unrolls small loops four to sixteen times, as
clang -O2 does, and that was most of the "Wasm tax" against native clang where
bounds checks cost nothing (crc32, fir, pid).  Unrolled that way, the
benchmark modules on stm32f4 were 1.010x native GCC's time instead of 1.053x
(geomean) but 57 % bigger, over both module-flash goals (bench/results);
with the `-O2` limits they are 1.029x for 7 % more code.  `-O3` unrolls as
LLVM likes.  LLVM's C API has no size level, so `-Os`/`-Oz` are
what clang makes of them: the `-O2` pipeline over functions carrying the
`optsize` (and for `z` also `minsize`) attribute, which the module driver adds
(`function_attributes_for_opt`).
"""

from __future__ import annotations

import io
import re
import struct
import sys
import threading
from functools import cache

import llvmlite.binding as llvm
from elftools.elf.elffile import ELFFile

from aot import arm_i64, strength_reduction
from aot.errors import AotError, TargetError
from aot.llvm_stderr import captured_stderr
from aot.targets import Target, is_arm_triple

OPT_LEVELS = ("0", "1", "2", "3", "s", "z")


@cache
def _init_llvm() -> None:
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    # DFA jump threading (off in LLVM's default pipeline) turns a `switch` on a
    # state variable inside a loop into direct jumps between the states: the
    # shape of parsers and protocol state machines, which clang otherwise
    # compiles 1.65x worse than GCC (bench: state_machine 126M -> 86M
    # instructions on the host, 1.76M -> 1.46M ticks on stm32f4).
    llvm.set_option("waft", "-enable-dfa-jump-thread")


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
    _check_cpu_and_features(target.name, target.triple, target.cpu, target.features, target.abi_name)
    return llvm_target.create_target_machine(
        cpu=target.cpu,
        features=target.features,
        opt=speed_level(opt),
        reloc="pic" if target.is_host else "static",
        codemodel="small",
        abiname=target.abi_name,
    )


_UNRECOGNISED = re.compile(r"'([^']*)' is not a recognized (processor|feature) for this target")


@cache
def _check_cpu_and_features(name: str, triple: str, cpu: str, features: str, abi_name: str) -> None:
    """TargetError when LLVM does not know the target's CPU or one of its features.

    LLVM only prints a warning for those and goes on with generic code (no
    FPU, no DSP instructions...), which would make a typo in a target.toml a
    silently slower or wrongly-ABI'd firmware.  The warning goes to the
    process's stderr from C++, so it is caught at the file-descriptor level,
    once per target description.
    """
    llvm_target = llvm.Target.from_triple(triple)
    with captured_stderr() as captured:
        llvm_target.create_target_machine(cpu=cpu, features=features, reloc="static",
                                          codemodel="small", abiname=abi_name)
    warnings = "".join(captured)
    unknown = dict.fromkeys(f"{kind} '{value}'" for value, kind in _UNRECOGNISED.findall(warnings))
    if unknown:
        raise TargetError(f"target '{name}': LLVM does not know {' or '.join(unknown)} for {triple} "
                          f"(check cpu and features in targets/{name}/target.toml)")
    other = warnings.strip()
    if other:  # anything else LLVM said about the description: pass it on, as it would have appeared
        sys.stderr.write(other + "\n")


def parse_and_verify(ir_text: str) -> llvm.ModuleRef:
    """Parse IR text and run LLVM's verifier; a failure is a compiler bug, reported as AotError."""
    _init_llvm()
    try:
        mod = llvm.parse_assembly(ir_text)
        mod.verify()
    except RuntimeError as exc:
        raise AotError(f"internal error: the generated LLVM IR does not verify: {exc}") from None
    return mod


def unrolls_loops(opt: str) -> bool:
    """Whether LLVM's loop unrollers run: at -O2 and -O3, not for size (see the module docstring)."""
    return check_opt(opt) in ("2", "3")


def unroll_limits(opt: str) -> dict[str, int]:
    """LLVM's unroller options for `opt`: {option name: value}.

    At -O2: partial unrolling only of loops whose unrolled body costs at most
    120 (LLVM's code-size units; its default is 150), into at most two copies;
    full unrolling only of loops that run at most twice; runtime unrolling
    (a count known only when the loop starts, with a remainder loop), but
    only of loops that touch no memory: the others carry
    `llvm.loop.unroll.runtime.disable` (aot/lower/loop_hints.py).  Measured
    on stm32f4 (bench/results, docs/performance.md): against the earlier
    limits (cost 60, no runtime unrolling) pid -18 %, sha256 -6 %,
    huffman -3.5 %, matmul_float -4 %, aes_ttable +1.3 %; suite 0.852 ->
    0.866 of clang's speed, module flash 1.598 -> 1.502 of wasm2c's (the
    cost limit is what keeps it within 2/3).  Runtime unrolling of loops over
    memory lost: bareiss_int's short triangular loops +5 %, fft_fixed +2 %.
    At -O3: no count limits, LLVM's generic partial threshold (150) and
    runtime unrolling wherever the unroller can.  The options are process-wide,
    so every level sets all four, whatever ran before it; LLVM's own defaults
    differ from the -O3 values only where a target's tuning overrides them
    (Arm's declines runtime unrolling for loops with calls or more than two
    exits, x86's picks a partial threshold from its loop buffer).
    """
    if check_opt(opt) == "2":
        return {"unroll-max-count": 2, "unroll-full-max-count": 2, "unroll-partial-threshold": 120,
                "unroll-runtime": 1}
    return {"unroll-max-count": 0xFFFFFFFF, "unroll-full-max-count": 0xFFFFFFFF, "unroll-partial-threshold": 150,
            "unroll-runtime": 1}


def predicates_loop_exits(opt: str) -> bool:
    """Whether IndVarSimplify may predicate loop exits (`-indvars-predicate-loops`): at -O3 only.

    The transform rewrites a loop with several computable exits into tests of
    its exact exit count in the preheader.  In Wasm code every bounds check is
    such an exit (a branch to the trap block), so each checked loop's entry
    gains a chain of udiv (by the row stride) and umin, while the checks become
    loop-invariant.  For long loops that pays, and at -O3 it also leaves a loop
    with few enough exits for Arm's runtime unroller.  Nested short loops
    (triangular LU or matrix code, trips of 1 to 20) pay more on each entry
    than their checks cost: Embench's ud ran 850k ticks on stm32f4 with it,
    635k without (wasm2c: 649k); over bench/workloads at -O2 the geomean did
    not move (huffman +2 %, lu_decomp -2 %; docs/performance.md, "Held-out-style
    programs").  So -O2 and the size levels leave the exits where they are.
    """
    return check_opt(opt) == "3"


# The unroller's options are process-wide LLVM options read while the pipeline runs: one lock
# keeps two threads (SCons -j) at different levels from optimising under each other's.
_PIPELINE_LOCK = threading.Lock()


def optimise(mod: llvm.ModuleRef, tm: llvm.TargetMachine, opt: str, unroll_loops: bool = True) -> None:
    """Run LLVM's standard module pipeline (new pass manager) for `opt` in place."""
    level = speed_level(opt)
    pto = llvm.create_pipeline_tuning_options(speed_level=level)
    pto.loop_unrolling = unroll_loops
    pb = llvm.create_pass_builder(tm, pto)
    with _PIPELINE_LOCK:
        for name, value in unroll_limits(opt).items():
            llvm.set_option("waft", f"-{name}={value}")
        llvm.set_option("waft", f"-indvars-predicate-loops={'true' if predicates_loop_exits(opt) else 'false'}")
        pb.getModulePassManager().run(mod, pb)


def emit_object(ir_text: str, target: Target, opt: str = "2") -> tuple[bytes, str]:
    """Verify, optimise and compile IR text; returns (ELF object bytes, optimised IR text).

    On 32-bit Arm the optimised IR's 64-bit doublings are written as additions
    before code generation (aot/arm_i64.py); the IR returned is what was compiled.
    """
    tm = target_machine(target, opt)
    mod = parse_and_verify(ir_text)
    mod.triple = tm.triple
    mod.data_layout = str(tm.target_data)
    optimise(mod, tm, opt, unrolls_loops(opt))
    mod.verify()
    printed = None
    if target.is_arm:
        text = str(mod)
        printed = arm_i64.double_with_carry(text)
        if printed is not text:
            mod = parse_and_verify(printed)
    obj = generate_code(tm, mod, opt, printed)
    if target.hard_float_arm:
        obj = add_vfp_args_attribute(obj)
    return obj, str(mod)


def function_signatures(ir_text: str, names: list[str]) -> dict[str, tuple[str, list[str]]]:
    """{name: (return type, [parameter types])} as LLVM prints them, for the functions of `names` defined in
    `ir_text` (the others are left out)."""
    mod = parse_and_verify(ir_text)
    out = {}
    for name in names:
        try:
            fn = mod.get_function(name)
        except NameError:
            continue
        if fn.is_declaration:
            continue
        ret, *params = (str(t) for t in fn.global_value_type.elements)
        out[name] = (ret, params)
    return out


def emit_optimised_object(ir_text: str, target: Target, opt: str = "2") -> bytes:
    """Compile IR text that `emit_object` already optimised (frame guards added since): code generation only."""
    tm = target_machine(target, opt)
    mod = parse_and_verify(ir_text)
    obj = generate_code(tm, mod, opt)
    return add_vfp_args_attribute(obj) if target.hard_float_arm else obj


# LLVM reads its code-generator options when it builds each pipeline, and they are
# process-wide: one lock keeps two threads (SCons -j) from emitting under each other's.
_CODEGEN_LOCK = threading.Lock()


def machine_outliner_mode(opt: str) -> str:
    """The `-enable-machine-outliner` value for `opt`: `always` at -Oz, `never` otherwise.

    Why not LLVM's default: Arm and RISC-V target machines enable the Machine
    Outliner "by default", which outlines only from `minsize` functions
    (-Oz) but runs as a module pass at every level.  A module pass in the
    code generator keeps every function's machine code alive until the last
    function is done, so a 50,000-function module peaked at 2.2 GB on
    stm32f4 against 0.5 GB without it (bench/results/compile_scaling_*) —
    for no change in the code below -Oz.  At -Oz every function Waft emits
    is `minsize` (`function_attributes_for_opt`), so `always` outlines from
    exactly the functions the default would.
    """
    return "always" if check_opt(opt) == "z" else "never"


def strength_reduction_options(triple: str, reduce: bool) -> dict[str, str]:
    """Loop strength reduction's options for code for `triple`, with LSR (`reduce`) or without: {option: value}.

    On 32-bit Arm, with LSR it keeps a solution only when its cost model rates
    it better than the loop as it came, and does not steer towards
    pre-indexed addressing (regex -17 % against LLVM's defaults).  Other
    targets run LLVM's LSR as it is.  The options are process-wide: every
    code generation sets all three.
    """
    arm = is_arm_triple(triple)
    return {"disable-lsr": "false" if reduce else "true", "lsr-drop-solution": "true" if arm else "false",
            "lsr-preferred-addressing-mode": "none"}


def generate_code(tm: llvm.TargetMachine, mod: llvm.ModuleRef, opt: str = "2", ir_text: str | None = None) -> bytes:
    """Run the code generator on an optimised module; returns the ELF object.

    On 32-bit Arm at -O2 and -O3, loop strength reduction is chosen per
    function (aot/strength_reduction.py); at the size levels it is off.
    Elsewhere it runs in every function.  `ir_text` is `mod` as printed,
    when the caller has it (it saves printing a big module again).
    """
    _init_llvm()

    def options(reduce: bool) -> None:
        llvm.set_option("waft", f"-enable-machine-outliner={machine_outliner_mode(opt)}")
        for name, value in strength_reduction_options(tm.triple, reduce).items():
            llvm.set_option("waft", f"-{name}={value}")

    def emit_object(module: llvm.ModuleRef, reduce: bool) -> bytes:
        with _CODEGEN_LOCK:
            options(reduce)
            return tm.emit_object(module)

    def emit_assembly(module: llvm.ModuleRef, reduce: bool) -> str:
        with _CODEGEN_LOCK:
            options(reduce)
            return tm.emit_assembly(module)

    if not is_arm_triple(tm.triple):
        return emit_object(mod, True)
    if opt in ("2", "3"):
        return strength_reduction.generate(mod, emit_object, emit_assembly, ir_text)
    return emit_object(mod, False)


# --- Tag_ABI_VFP_args -----------------------------------------------------------------

TAG_FILE = 1
TAG_ABI_VFP_ARGS = 28


def add_vfp_args_attribute(obj: bytes) -> bytes:
    """Mark an Arm object as passing floats in VFP registers (Tag_ABI_VFP_args = 1).

    The code already uses the hard-float convention (every function is
    `arm_aapcs_vfpcc`), but llvmlite cannot set the target machine's float ABI,
    so LLVM leaves the tag out and GNU ld refuses to link the object with
    `-mfloat-abi=hard` code.  llvmlite also lacks the Arm assembler that module
    asm (`.eabi_attribute 28, 1`) would need.  So the tag is added to the
    finished object: the grown `.ARM.attributes` contents go at the end of the
    file and the section header is pointed at them (the old bytes stay behind,
    unreferenced).
    """
    elf = ELFFile(io.BytesIO(obj))
    if elf.elfclass != 32 or not elf.little_endian:
        raise AotError("internal error: expected a 32-bit little-endian Arm object")
    index = next((i for i, sec in enumerate(elf.iter_sections()) if sec.name == ".ARM.attributes"), None)
    if index is None:
        raise AotError("internal error: the Arm object has no .ARM.attributes section")
    section = elf.get_section(index)
    data = section.data()
    for sub in section.iter_subsections():
        for subsub in sub.iter_subsubsections():
            if any(attr.tag == "TAG_ABI_VFP_ARGS" for attr in subsub.iter_attributes()):
                return obj  # LLVM wrote it after all
    data = _insert_file_attribute(data, bytes([TAG_ABI_VFP_ARGS, 1]))
    out = bytearray(obj)
    new_offset = len(out)
    out += data
    header = elf["e_shoff"] + index * elf["e_shentsize"]
    # Elf32_Shdr: sh_name, sh_type, sh_flags, sh_addr, sh_offset (16), sh_size (20), ...
    struct.pack_into("<II", out, header + 16, new_offset, len(data))
    return bytes(out)


def _insert_file_attribute(data: bytes, attribute: bytes) -> bytes:
    """`data` (an .ARM.attributes section) with `attribute` added to the aeabi File attributes."""
    if data[:1] != b"A":
        raise AotError("internal error: unknown .ARM.attributes format")
    pos = 1
    while pos < len(data):
        (sub_len,) = struct.unpack_from("<I", data, pos)
        vendor_end = data.index(b"\0", pos + 4)
        if data[pos + 4 : vendor_end] == b"aeabi":
            inner = vendor_end + 1
            while inner < pos + sub_len:
                tag = data[inner]
                (size,) = struct.unpack_from("<I", data, inner + 1)
                if tag == TAG_FILE:
                    end = inner + size
                    grown = bytearray(data[:end] + attribute + data[end:])
                    struct.pack_into("<I", grown, pos, sub_len + len(attribute))
                    struct.pack_into("<I", grown, inner + 1, size + len(attribute))
                    return bytes(grown)
                inner += size
        pos += sub_len
    raise AotError("internal error: .ARM.attributes has no aeabi File attributes")
