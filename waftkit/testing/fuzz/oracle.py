"""The oracle: run a plan on wasmtime (its Python bindings) and record what the spec says happens.

wasmtime is configured for the same language as Waft (Wasm 2.0 less SIMD,
plus tail calls and custom page sizes; extended constant expressions are
always on in it).  One engine serves every module; each module gets a fresh
store.  Traps are named in the runtime's words (`waft_strerror`), so an
outcome reads the same from either engine.

Floats cross the Python bindings as Python floats, through C float/double
conversions: values are exact, quiet NaN payloads survive, but a signalling
NaN comes back quietened.  `exact_argument` therefore gives the bits the
module will really see for an argument, and the comparison in `compare.py`
allows for the quietening of results.
"""

from __future__ import annotations

import ctypes
import struct
from functools import cache

from waftkit.testing.fuzz import generate
from waftkit.testing.fuzz.plan import ModuleRun, Outcome, Plan
from waftkit.testing.fuzz.tools import INSTALL_HINT, ToolMissing
from waftkit.testing.spectest.values import ANY_FUNC, Value
from waftkit.testing.spectest.wast import Action


def _wasmtime():
    try:
        import wasmtime
    except ImportError as exc:
        raise ToolMissing(f"the wasmtime Python package is not installed ({INSTALL_HINT})") from exc
    return wasmtime


# wasmtime's trap codes in the runtime's words (runtime_c/src/trap.c); both engines name a
# table index past the end "out of bounds table access", Waft says "undefined element" for
# call_indirect (compare.py accepts either).
_TRAPS = {
    "STACK_OVERFLOW": "call stack exhausted",
    "MEMORY_OUT_OF_BOUNDS": "out of bounds memory access",
    "TABLE_OUT_OF_BOUNDS": "out of bounds table access",
    "INDIRECT_CALL_TO_NULL": "uninitialized element",
    "BAD_SIGNATURE": "indirect call type mismatch",
    "INTEGER_OVERFLOW": "integer overflow",
    "INTEGER_DIVISION_BY_ZERO": "integer divide by zero",
    "BAD_CONVERSION_TO_INTEGER": "invalid conversion to integer",
    "UNREACHABLE": "unreachable",
    "NULL_REFERENCE": "null reference",
}


STACK_BYTES = 1 << 20


@cache
def engine():
    """One wasmtime engine for Waft's language."""
    wt = _wasmtime()
    config = wt.Config()
    config.wasm_multi_value = True
    config.wasm_bulk_memory = True
    config.wasm_reference_types = True
    config.wasm_tail_call = True
    config.wasm_custom_page_sizes = True
    for off in ("wasm_simd", "wasm_relaxed_simd", "wasm_threads", "wasm_memory64", "wasm_multi_memory",
                "wasm_gc", "wasm_function_references", "wasm_exceptions", "wasm_wide_arithmetic"):
        setattr(config, off, False)
    # A stated stack, not the version's default: how deep wasmtime recurses before "call stack
    # exhausted" (compare.py classes a difference in depth as a stack limit, not a bug).
    config.max_wasm_stack = STACK_BYTES
    # Modules are small; compiling them on one thread keeps the oracle from competing with
    # pytest-xdist's workers for the machine's cores.
    config.parallel_compilation = False
    return wt.Engine(config)


def available() -> str | None:
    """Why the oracle cannot run here, or None."""
    try:
        _wasmtime()
    except ToolMissing as exc:
        return str(exc)
    return None


# --- plans ---------------------------------------------------------------------------------------


def _valtype_name(vt) -> str:
    """The spec's name of a wasmtime ValType (compared, not printed: wasmtime-py 51 prints
    externref as "anyref")."""
    wt = _wasmtime()
    for name in ("i32", "i64", "f32", "f64", "funcref", "externref"):
        if vt == getattr(wt.ValType, name)():
            return name
    return str(vt)


# The spec-test harness that runs plans on Waft passes results back through 16 slots.
MAX_RESULTS = 16


def make_plan(data: bytes, seed: int) -> Plan | None:
    """Call every exported function CALLS_PER_EXPORT times (arguments from `seed`), then read
    every exported global.  Functions with more than MAX_RESULTS results are not called.
    None when wasmtime cannot compile the module."""
    wt = _wasmtime()
    try:
        module = wt.Module(engine(), data)
    except wt.WasmtimeError:
        return None
    plan = Plan()
    globals_ = []
    for index, exp in enumerate(module.exports):
        ty = exp.type
        if isinstance(ty, wt.FuncType) and len(ty.results) <= MAX_RESULTS:
            params = tuple(_valtype_name(p) for p in ty.params)
            for call in range(generate.CALLS_PER_EXPORT):
                args = tuple(exact_argument(v) for v in generate.arguments(seed, index, call, params))
                plan.actions.append(Action("invoke", None, exp.name, args))
        elif isinstance(ty, wt.GlobalType):
            globals_.append(Action("get", None, exp.name))
    plan.actions += globals_
    return plan


# --- values across the bindings --------------------------------------------------------------------


def _f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def _f64_bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def exact_argument(value: Value) -> Value:
    """The argument as the module will receive it through the bindings."""
    if value.type == "f32":
        return Value("f32", _f32_bits(ctypes.c_float(_to_f32(value.bits)).value))
    if value.type == "f64":
        return Value("f64", _f64_bits(struct.unpack("<d", struct.pack("<Q", int(value.bits or 0)))[0]))
    return value


def _to_f32(bits) -> float:
    return struct.unpack("<f", struct.pack("<I", int(bits or 0)))[0]


def _to_val(wt, value: Value):
    if value.type == "i32":
        bits = int(value.bits or 0)
        return wt.Val.i32(bits - (1 << 32) if bits >> 31 else bits)
    if value.type == "i64":
        bits = int(value.bits or 0)
        return wt.Val.i64(bits - (1 << 64) if bits >> 63 else bits)
    if value.type == "f32":
        return wt.Val.f32(_to_f32(value.bits))
    if value.type == "f64":
        return wt.Val.f64(struct.unpack("<d", struct.pack("<Q", int(value.bits or 0)))[0])
    if value.type == "externref":
        return wt.Val.externref(value.bits)
    return wt.Val.funcref(None)


def _from_py(vtype: str, x) -> Value:
    if isinstance(x, _wasmtime().Val):
        x = x.value
    if vtype == "i32":
        return Value("i32", x & 0xFFFFFFFF)
    if vtype == "i64":
        return Value("i64", x & 0xFFFFFFFFFFFFFFFF)
    if vtype == "f32":
        return Value("f32", _f32_bits(x))
    if vtype == "f64":
        return Value("f64", _f64_bits(x))
    if vtype == "externref":
        return Value("externref", x)
    return Value("funcref", None if x is None else ANY_FUNC)


def _trap(wt, exc) -> Outcome | None:
    """The trap's outcome, or None when the exception is not a Wasm trap."""
    if not isinstance(exc, wt.Trap):
        return None
    code = exc.trap_code
    name = code.name if code is not None else ""
    return Outcome("trap", trap=_TRAPS.get(name, f"wasmtime trap {name or exc.message}"))


# --- running -------------------------------------------------------------------------------------------


def run(data: bytes, plan: Plan) -> ModuleRun:
    """Instantiate the module with no imports and run the plan's actions in order."""
    wt = _wasmtime()
    result = ModuleRun()
    try:
        module = wt.Module(engine(), data)
    except wt.WasmtimeError as exc:
        result.error, result.error_kind = str(exc).strip().splitlines()[0], "oracle"
        return result
    store = wt.Store(engine())
    try:
        instance = wt.Instance(store, module, [])
    except (wt.Trap, wt.WasmtimeError) as exc:
        trapped = _trap(wt, exc)
        if trapped is None:  # not a trap: a resource the oracle would not give
            result.error, result.error_kind = str(exc).strip().splitlines()[0], "oracle"
            return result
        result.instantiate = trapped
        return result
    result.instantiate = Outcome("ok")
    exports = instance.exports(store)
    for action in plan.actions:
        item = exports[action.field]
        if action.kind == "get":
            vtype = _valtype_name(item.type(store).content)
            result.outcomes.append(Outcome("ok", (_from_py(vtype, item.value(store)),)))
            continue
        results = [_valtype_name(r) for r in item.type(store).results]
        try:
            got = item(store, *(_to_val(wt, v) for v in action.args))
        except (wt.Trap, wt.WasmtimeError) as exc:
            trapped = _trap(wt, exc)
            if trapped is None:
                raise
            result.outcomes.append(trapped)
            continue
        values = [] if not results else [got] if len(results) == 1 else list(got)
        result.outcomes.append(Outcome("ok", tuple(_from_py(t, x) for t, x in zip(results, values))))
    return result
