"""The compile driver: Wasm bytes in, ELF object and C header out.

`compile_module` is the whole pipeline in memory (decode, validate, lower,
verify, optimise, emit, generate the header); `compile_file` runs it on a
file and writes OUT.o and OUT.h (and OUT.ll with `emit_llvm`) atomically:
everything is written to temporary files first and renamed into place only
when all of it succeeded, so a failure leaves no output behind.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from aot import abi
from aot.decode import decode_module
from aot.emit import check_opt, emit_object, target_machine
from aot.errors import TargetError
from aot.header import generate_header
from aot.lower.module import lower_module
from aot.module import Module
from aot.targets import Target
from aot.validate import validate_module


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


def compile_module(
    data: bytes,
    target: Target,
    *,
    prefix: str,
    opt: str = "2",
    memory_cap_pages: int | None = None,
    table_cap: int | None = None,
    bounds_checks: bool = True,
) -> CompileResult:
    """Compile a Wasm binary for `target` under C prefix `prefix`.

    `memory_cap_pages` (64 KiB units) and `table_cap` (elements) bound the
    storage laid out in the instance (see aot/lower/module.py).
    `bounds_checks=False` is an explicitly unsafe build for measuring the
    checks' cost: loads and stores are not bounds-checked, so an out-of-bounds
    access corrupts memory instead of trapping.  Never the default.  Raises an
    AotError subclass on bad input.
    """
    abi.check_prefix(prefix)
    opt = check_opt(opt)
    module = decode_module(data)
    validate_module(module)
    tm = target_machine(target, opt)
    lowered = lower_module(module, target, prefix, tm.target_data, opt=opt,
                           memory_cap_pages=memory_cap_pages, table_cap=table_cap,
                           bounds_checks=bounds_checks)
    obj, optimised = emit_object(lowered.ir_text, target, opt)
    header = generate_header(module, prefix, lowered.instance_size, lowered.instance_align, target.name)
    return CompileResult(obj, header, module, prefix, lowered.instance_size, lowered.instance_align,
                         optimised, lowered.ir_text)


def check_fits(result: CompileResult, target: Target, name: str) -> None:
    """TargetError, with the figures, when the module's instance cannot fit the board's RAM.

    The instance holds linear memory at its build-time cap, so this is known
    at compile time; catching it here beats a linker overflow later.
    """
    if target.ram is None or result.instance_size <= target.ram.length:
        return
    initial = sum(m.limits.min << m.limits.page_size_log2 for m in result.module.all_memories())
    raise TargetError(
        f"{name} needs {result.instance_size:,} bytes of RAM for its instance "
        f"({initial:,} bytes of initial linear memory) and {target.name} has "
        f"{target.ram.length:,}: lower --max-pages, or build the module with less memory "
        "(clang: -Wl,--initial-memory=65536 -Wl,-z,stack-size=8192)")


def compile_file(input: Path, output: Path, target: Target, *, emit_llvm: bool = False,
                 fits_board: bool = False, **options) -> CompileResult:
    """Compile `input` to `output` (.o) and its header (same stem, .h), atomically.

    `options` are compile_module's keywords; `prefix` defaults to the input's stem.
    With `fits_board`, a module whose instance cannot fit the target's RAM is
    refused (check_fits) before anything is written.
    """
    input, output = Path(input), Path(output)
    options.setdefault("prefix", abi.prefix_from_filename(input.stem))
    result = compile_module(input.read_bytes(), target, **options)
    if fits_board:
        check_fits(result, target, input.name)
    outputs: list[tuple[Path, bytes]] = [
        (output, result.object),
        (output.with_suffix(".h"), result.header.encode()),
    ]
    if emit_llvm:
        outputs.append((output.with_suffix(".ll"), result.llvm_ir.encode()))
    _write_all(outputs)
    return result


def _write_all(outputs: list[tuple[Path, bytes]]) -> None:
    """Write every file to a temporary sibling, then rename them all into place."""
    temps: list[tuple[Path, Path]] = []
    try:
        for path, content in outputs:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps.append((Path(tmp), path))
            with os.fdopen(fd, "wb") as f:
                f.write(content)
        for tmp, path in temps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            if tmp.exists():
                tmp.unlink()
