"""The compile driver: Wasm bytes in, ELF object and C header out.

`compile_module` is the whole pipeline in memory (decode, validate, lower,
verify, optimise, emit, generate the header); `compile_file` runs it on a
file and writes OUT.o and OUT.h (and OUT.ll with `emit_llvm`) atomically:
everything is written to temporary files first and renamed into place only
when all of it succeeded, so a failure leaves no output behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aot import abi, combine, parallel, partition, shm
from aot.emit import (check_opt, emit_object, emit_optimised_object, function_signatures, parse_and_verify,
                      target_machine)
from aot.errors import AotError, TargetError
from aot.frame_sizes import FrameSizes, check_measurable, measure_frames
from aot.header import generate_header
from aot.lower.frames import (FRAME_BODY_SUFFIX, GUARD_SLACK, guard_optimised_ir, largest_unguarded_frame,
                              plan_frame_guards)
from aot.lower.module import LoweredModule, calling_convention, can_musttail, lower_module, memory_cap
from aot.outputs import write_all
from aot.parallel import PartitionCache
from aot.shm import RegionGrant
from aot.targets import Target
from aot.wasm.decode import decode_module
from aot.wasm.module import Module
from aot.wasm.validate import validate_module


# Compiles needed until the frame sizes agree with the guards: 1 without big frames, 2 with;
# a third only when guarding changed other functions' frames (inlining decisions).
MAX_FRAME_PASSES = 4


@dataclass
class CompileResult:
    object: bytes  # the ELF relocatable object
    header: str  # the module's C header (docs/abi.md)
    module: Module  # the decoded module
    prefix: str
    instance_size: int  # sizeof(P__instance) on the target
    instance_align: int  # its alignment
    llvm_ir: str = ""  # the optimised LLVM IR
    unoptimised_ir: str = ""  # the IR as lowered, before LLVM's pipeline
    frame_sizes: dict[str, int] = field(default_factory=dict)  # native frame bytes by LLVM function name
    frame_guards: dict[str, int] = field(default_factory=dict)  # functions checked before their frame
    # A module compiled in partitions (aot/parallel.py): each one's optimised IR; llvm_ir stays empty.
    optimised_parts: tuple[str, ...] = ()

    def optimised_ir(self) -> str:
        """The optimised LLVM IR as one module (a partitioned compile's parts linked together)."""
        if not self.optimised_parts:
            return self.llvm_ir
        linked = parse_and_verify(self.optimised_parts[0])
        for text in self.optimised_parts[1:]:
            linked.link_in(parse_and_verify(text))
        return str(linked)


def compile_module(
    data: bytes,
    target: Target,
    *,
    prefix: str,
    opt: str = "2",
    memory_cap_pages: int | None = None,
    table_cap: int | None = None,
    bounds_checks: bool = True,
    fit_check_name: str | None = None,
    regions: tuple[RegionGrant, ...] | list[RegionGrant] = (),
    jobs: int = 1,
    cache: PartitionCache | None = None,
) -> CompileResult:
    """Compile a Wasm binary for `target` under C prefix `prefix`.

    `memory_cap_pages` (64 KiB units) and `table_cap` (elements) bound the
    storage laid out in the instance (see aot/lower/module.py).
    `bounds_checks=False` is an explicitly unsafe build for measuring the
    checks' cost: loads and stores are not bounds-checked, so an out-of-bounds
    access corrupts memory instead of trapping.  Never the default.
    With `fit_check_name` (the module's name for the message), a module whose
    instance cannot fit the target's RAM is refused as soon as the lowering
    knows the instance's size, before LLVM's pipeline runs.  `regions` are
    the shared-memory regions granted to the module (aot/shm.py): each is
    reachable by loads and stores in its window of memory 0, and importing a
    region not among them is a LinkError.  A module big enough to be split
    (aot/partition.py) compiles in partitions, `jobs` processes at a time, each
    partition's result taken from and stored in `cache` (aot/parallel.py) when
    given; the object is the same for every `jobs`.  Raises an AotError
    subclass on bad input.
    """
    abi.check_prefix(prefix)
    opt = check_opt(opt)
    module = decode_module(data)
    validate_module(module)
    regions = tuple(regions)
    shm.check_imports(module, regions, fit_check_name or prefix)
    tm = target_machine(target, opt)
    check_measurable(tm)
    parts = partition.plan(data, module)
    if len(parts) > 1 and combine.can_combine():  # without ld.lld/llvm-objcopy: one module, as before
        return parallel.compile_partitions(data, module, parts, target, prefix=prefix, opt=opt, jobs=jobs,
                                           cache=cache, memory_cap_pages=memory_cap_pages, table_cap=table_cap,
                                           bounds_checks=bounds_checks, fit_check_name=fit_check_name,
                                           regions=regions)

    def lower(guards: dict[str, int]) -> LoweredModule:
        lowered = lower_module(module, target, prefix, tm.target_data, opt=opt,
                               memory_cap_pages=memory_cap_pages, table_cap=table_cap,
                               bounds_checks=bounds_checks, frame_guards=guards, regions=regions)
        if fit_check_name is not None:
            check_fits(module, lowered.instance_size, target, fit_check_name, memory_cap_pages)
        return lowered

    settled = compile_settled(lower, module, target, opt, prefix)
    header = generate_header(module, prefix, settled.lowered.instance_size, settled.lowered.instance_align, target,
                             max_unguarded_frame=settled.max_frame,
                             stack_pointer_offset=settled.lowered.stack_pointer_offset)
    return CompileResult(settled.object, header, module, prefix, settled.lowered.instance_size,
                         settled.lowered.instance_align, settled.optimised, settled.lowered.ir_text,
                         frame_sizes=settled.frames.sizes, frame_guards=settled.guards)


@dataclass
class Settled:
    """One compile unit through LLVM with its frames covered: compile_settled's result."""
    object: bytes
    optimised: str  # the optimised IR (with any guards added after optimisation)
    frames: FrameSizes
    guards: dict[str, int]
    lowered: LoweredModule  # the last lowering
    max_frame: int  # the largest frame no guard covers


def compile_settled(lower: Callable[[dict[str, int]], LoweredModule], module: Module, target: Target, opt: str,
                    what: str) -> Settled:
    """Lower (`lower(guards)`), optimise and generate code until every frame is covered by the stack check.

    Once when no frame exceeds the target's unguarded limit (aot/lower/frames.py); when some need a
    frame guard, the guards go into the optimised IR and only code generation runs again, or where
    that cannot be done (LLVM cloned a big-frame function), the whole compile runs again with them.
    """
    guards: dict[str, int] = {}
    for attempt in range(MAX_FRAME_PASSES):
        lowered = lower(guards)
        with measure_frames() as frames:
            obj, optimised = emit_object(lowered.ir_text, target, opt)
        defined = lowered.defined_functions
        planned = plan_frame_guards(frames.sizes, guards, target.max_unguarded_frame, defined)
        if planned is guards:
            break
        if attempt == 0:
            late = _guard_after_optimisation(optimised, planned, frames.sizes, lowered, module, target, opt)
            if late is not None:
                obj, optimised, frames, defined, guards = late
                break
        guards = planned
    else:
        raise AotError(f"internal error: the stack frames of {what} did not settle in {MAX_FRAME_PASSES} compiles")
    return Settled(obj, optimised, frames, guards, lowered, largest_unguarded_frame(frames.sizes, guards, defined))


def _guard_after_optimisation(optimised: str, planned: dict[str, int], sizes: dict[str, int],
                              lowered: LoweredModule, module: Module, target: Target, opt: str):
    """The first compile's optimised IR with `planned`'s guards, through code generation alone
    (aot/lower/frames.py): (object, IR, frame sizes, defined function names, the guards), or None
    where the guards cannot be added there or the frames do not settle with them."""
    # Only functions of ours, not LLVM's clones of them: callers call a clone directly, past a guard.
    if any(size > target.max_unguarded_frame and name not in lowered.defined_functions
           for name, size in sizes.items()):
        return None
    index = {name: i for i, name in enumerate(lowered.function_names)}
    if any(name not in index for name in planned):
        return None
    # The body's frame can come out a few bytes bigger than the function's was (seen: 8, a callee-saved
    # register more): a second slack up front, instead of another round of code generation.
    guards = {name: reserve + GUARD_SLACK for name, reserve in planned.items()}
    cconv = calling_convention(target)
    musttail = {name: can_musttail(target, bool(cconv), module.func_type(index[name]), module.func_type(index[name]))
                for name in guards}
    text = guard_optimised_ir(optimised, guards, signatures=function_signatures(optimised, list(guards)),
                              cconv=cconv, pointer_bits=target.pointer_bits, musttail=musttail)
    if text is None:
        return None
    with measure_frames() as frames:
        obj = emit_optimised_object(text, target, opt)
    defined = lowered.defined_functions | {name + FRAME_BODY_SUFFIX for name in guards}
    try:
        settled = plan_frame_guards(frames.sizes, guards, target.max_unguarded_frame, defined) is guards
    except AotError:
        return None
    return (obj, text, frames, defined, guards) if settled else None


def check_fits(module: Module, instance_size: int, target: Target, name: str,
               memory_cap_pages: int | None = None) -> None:
    """TargetError, with the figures, when a module's instance cannot fit the board's RAM.

    The instance holds linear memory at its build-time cap, so this is known
    at compile time; catching it here beats a linker overflow later.  The
    advice depends on where the memory comes from: a cap above the module's
    initial size can be lowered; the initial size itself is the module's.
    """
    if target.ram is None or instance_size <= target.ram.length:
        return
    memories = module.all_memories()
    initial = sum(m.limits.min << m.limits.page_size_log2 for m in memories)
    laid_out = sum(memory_cap(m, target, memory_cap_pages) << m.limits.page_size_log2
                   for m in module.memories)
    figures = (f"{name} needs {instance_size:,} bytes of RAM for its instance "
               f"({laid_out:,} bytes of linear memory at its build-time cap, {initial:,} initial) "
               f"and {target.name} has {target.ram.length:,}")
    if laid_out > initial:
        pages = max(1, initial >> 16)
        raise TargetError(f"{figures}: lower --max-pages (the module declares {pages} page(s) initially)")
    raise TargetError(f"{figures}: the module's initial memory alone does not fit, so no --max-pages "
                      "can help; build it with less (clang: -Wl,--initial-memory=65536 -Wl,-z,stack-size=8192)")


def compile_file(input: Path, output: Path, target: Target, *, emit_llvm: bool = False,
                 fits_board: bool = False, **options) -> CompileResult:
    """Compile `input` to `output` (.o) and its header (same stem, .h), atomically.

    `options` are compile_module's keywords; `prefix` defaults to the input's stem.
    With `fits_board`, a module whose instance cannot fit the target's RAM is
    refused (check_fits) before LLVM runs and before anything is written.
    Raises ValueError when `output` would be overwritten by one of its own side outputs.
    """
    input, output = Path(input), Path(output)
    outputs_named = output_paths(output, emit_llvm)
    options.setdefault("prefix", abi.prefix_from_filename(input.stem))
    result = compile_module(input.read_bytes(), target, fit_check_name=input.name if fits_board else None,
                            **options)
    contents = [result.object, result.header.encode()] + ([result.optimised_ir().encode()] if emit_llvm else [])
    write_all(list(zip(outputs_named, contents)))
    return result


def output_paths(output: Path, emit_llvm: bool = False) -> list[Path]:
    """The files `compile_file` writes for `-o output`: the object, its header, and the IR with `emit_llvm`.

    ValueError when two of them would be the same file (`-o add.h` names the
    object as its own header).
    """
    paths = [output, output.with_suffix(".h")] + ([output.with_suffix(".ll")] if emit_llvm else [])
    if output.suffix in (".h", ".ll") and output in paths[1:]:
        raise ValueError(f"-o {output}: the object would be overwritten by its own "
                         f"{'header' if output.suffix == '.h' else 'IR'}; name it {output.with_suffix('.o')}")
    return paths
