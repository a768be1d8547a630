"""The `compile` metric group: how fast Waft compiles a wasi-libc-sized module, at -O0 and -O2.

The module is bench/compile_throughput.py's: all of wasi-libc linked whole
with every symbol exported (about 1,100 functions, 320 KB of code: real C
compiled by clang).  Each level is compiled once for the target
(aot.compiler.compile_module: decode, validate, lower, LLVM's pipeline,
object emission), and the wall time gives seconds per module and functions
per second; decoding and validating are timed apart.  The compiled object
must be a relocatable ELF for the target's machine with a symbol for every
exported function, or the group fails.  On the host, wasmtime (Cranelift,
its Python package) compiling the same bytes is the peer; wasm3 is an
interpreter and compiles nothing.  There is no native figure: a C compiler
compiles C, not this module.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from elftools.elf.elffile import ELFFile

from aot.compiler import compile_module
from aot.targets import Target
from aot.wasm.decode import decode_module
from aot.wasm.validate import validate_module
from bench import compile_throughput
from bench.metrics.common import GroupResult, MetricError, Row, RunContext, Stat

TITLE = "Compile time: a wasi-libc-sized module (all of wasi-libc), -O0 and -O2"
LEVELS = ("0", "2")
_MACHINES = {"cortex-m": "EM_ARM", "riscv": "EM_RISCV"}


def check_object(target: Target, obj: bytes, exports: int) -> None:
    """The object is an ELF for the target with at least one symbol per exported function."""
    try:
        elf = ELFFile(io.BytesIO(obj))
        machine = elf["e_machine"]
        symtab = elf.get_section_by_name(".symtab")
        defined = sum(1 for s in symtab.iter_symbols() if s["st_shndx"] != "SHN_UNDEF") if symtab else 0
    except Exception as exc:  # noqa: BLE001 -- pyelftools' errors: not an object
        raise MetricError(f"the compiled object is no ELF: {exc}") from None
    want = _MACHINES.get(target.kind)
    if want is not None and machine != want:
        raise MetricError(f"the compiled object is for {machine}, not {want} ({target.name})")
    if defined < exports:
        raise MetricError(f"the compiled object defines {defined} symbols for {exports} exported functions")


def wasmtime_seconds(data: bytes) -> tuple[float | None, str | None]:
    """wasmtime's compile time of `data` on this machine, or None and why."""
    try:
        import wasmtime
    except ImportError:
        return None, "wasmtime: the Python package is not installed (pip install wasmtime)"
    engine = wasmtime.Engine()
    start = time.perf_counter()
    wasmtime.Module(engine, data)
    return time.perf_counter() - start, None


def measure(target: Target, ctx: RunContext) -> GroupResult:
    work = ctx.work / "compile"
    work.mkdir(parents=True, exist_ok=True)
    try:
        data = compile_throughput.build_large_module(work)
    except Exception as exc:  # noqa: BLE001 -- clang missing, wasi-libc missing: one line
        raise MetricError(f"linking all of wasi-libc into one module failed: {exc}") from None
    return figures(target, data, "all of wasi-libc")


def figures(target: Target, data: bytes, what: str) -> GroupResult:
    """The group's rows for module `data` (`what` names it in the notes)."""
    start = time.perf_counter()
    module = decode_module(data)
    decode_s = time.perf_counter() - start
    start = time.perf_counter()
    validate_module(module)
    validate_s = time.perf_counter() - start
    functions = len(module.functions)
    exports = sum(1 for e in module.exports if e.kind == "func")
    code_kb = sum(f.body_size for f in module.functions) / 1024
    table = [Row("decode_validate", "decode + validate: seconds per module", "s", None,
                 Stat(mean=decode_s + validate_s))]
    raw: dict = {"functions": functions, "exports": exports, "code_kb": round(code_kb, 1),
                 "wasm_bytes": len(data), "decode_s": decode_s, "validate_s": validate_s}
    peer_s, peer_missing = (wasmtime_seconds(data) if target.is_host else (None, None))
    for level in LEVELS:
        start = time.perf_counter()
        try:
            result = compile_module(data, target, prefix="libc", opt=level)
        except Exception as exc:  # noqa: BLE001 -- an AotError: the group fails in one line
            raise MetricError(f"compiling {what} at -O{level} failed: {exc}") from None
        seconds = time.perf_counter() - start
        check_object(target, result.object, exports)
        raw[f"O{level}"] = {"seconds": seconds, "object_bytes": len(result.object)}
        peers_s = {"wasmtime (Cranelift)": Stat(mean=peer_s)} if peer_s is not None and level == "2" else {}
        peers_f = {"wasmtime (Cranelift)": Stat(mean=functions / peer_s)} if peers_s else {}
        table += [
            Row(f"module_O{level}", f"compile -O{level}: seconds per module", "s", None, Stat(mean=seconds),
                peers=peers_s),
            Row(f"functions_O{level}", f"compile -O{level}: functions per second", "functions/s", None,
                Stat(mean=functions / seconds), peers=peers_f),
        ]
    notes = [f"The module: {what} ({functions:,} functions, {exports:,} exported, {code_kb:,.0f} KB of "
             f"code, {len(data) // 1024:,} KB file), compiled once per level for {target.name}; objects "
             + ", ".join(f"-O{lv} {raw[f'O{lv}']['object_bytes'] // 1024:,} KB" for lv in LEVELS)
             + ". Wall-clock seconds on this machine, one compile each (bench/compile_throughput.py has the "
               "scaling study)."]
    if target.is_host:
        notes.append(peer_missing or "wasmtime compiles for this machine with Cranelift at its default "
                                     "optimisation (speed), shown beside -O2.")
        notes.append("wasm3 interprets: it has no compile step to compare.")
    return GroupResult(name="compile", title=TITLE, unit="s", rows=table, notes=notes, raw=raw,
                       parameters={"levels": len(LEVELS)})
