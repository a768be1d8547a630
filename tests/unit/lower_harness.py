"""Run numeric opcodes through the real pipeline and compare raw bits with the spec.

Shared by test_lower_numeric.py, test_lower_compare.py and test_lower_convert.py.
A test describes functions (`Func`: params, result, a WAT body) and calls
with raw bit-pattern arguments; `run_calls` writes one WAT module and a C
driver, compiles them with `aot.compiler.compile_module` and the host cc,
links the real runtime (tests/unit/wasm_host.py) and returns, per call, the
trap code (0 for none) and the result's bits.  Bits, not C values, so NaN
payloads are checked exactly.

`spec_functions` reads the official spec scripts' single-opcode functions and
their assertions (through `wast2json`), so the tests can re-run them in
shapes the spectest runner does not: with every operand a constant, so that
LLVM's constant folding is checked against the spec too.
"""

from __future__ import annotations

import functools
import json
import math
import re
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from wasm_host import run_wat

SPEC_DIR = Path(__file__).resolve().parents[3] / "shared" / "wasm-spec-testsuite"

C_HELPERS = r"""
static float f32_of(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static double f64_of(uint64_t u) { double f; memcpy(&f, &u, 8); return f; }
static uint32_t bits_f32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static uint64_t bits_f64(double f) { uint64_t u; memcpy(&u, &f, 8); return u; }
#define CALL(expr) do { \
    waft_trap_frame f_; \
    waft_trap_push(&f_); \
    if (setjmp(f_.jmp) == 0) { \
        unsigned long long r_ = (unsigned long long)(expr); \
        waft_trap_pop(&f_); \
        printf("0 %llx\n", r_); \
    } else { \
        printf("%d 0\n", (int)f_.code); \
    } \
} while (0)
"""


def bit_width(valtype: str) -> int:
    return 32 if valtype in ("i32", "f32") else 64


@dataclass
class Func:
    """An exported function `name` of the generated module."""

    name: str
    params: Sequence[str]
    result: str
    body: str  # WAT instructions; parameters are locals 0, 1, ...

    def wat(self) -> str:
        params = "".join(f" (param {t})" for t in self.params)
        return f'  (func (export "{self.name}"){params} (result {self.result}) {self.body})'


def op_func(name: str, op: str, params: Sequence[str], result: str) -> Func:
    """A function that is just `op` applied to its parameters."""
    gets = " ".join(f"(local.get {i})" for i in range(len(params)))
    return Func(name, params, result, f"({op} {gets})")


@dataclass
class Call:
    func: str
    args: Sequence[int] = field(default_factory=tuple)  # raw bits


def _c_arg(valtype: str, bits: int) -> str:
    bits &= (1 << bit_width(valtype)) - 1
    return {
        "i32": f"(int32_t){bits:#x}u",
        "i64": f"(int64_t){bits:#x}ull",
        "f32": f"f32_of({bits:#x}u)",
        "f64": f"f64_of({bits:#x}ull)",
    }[valtype]


def _c_result(valtype: str, expr: str) -> str:
    return {"i32": f"(uint32_t){expr}", "i64": f"(uint64_t){expr}",
            "f32": f"bits_f32({expr})", "f64": f"bits_f64({expr})"}[valtype]


def run_calls(folder: Path, funcs: Sequence[Func], calls: Sequence[Call], opt: str = "2",
              target: Target | None = None) -> list[tuple[int, int]]:
    """Compile `funcs` with Waft (for `target`, a host variant), run `calls` on the host: [(trap code or 0, result bits)]."""
    by_name = {f.name: f for f in funcs}
    wat = "(module\n" + "\n".join(f.wat() for f in funcs) + "\n)\n"
    lines = []
    for call in calls:
        fn = by_name[call.func]
        args = "".join(", " + _c_arg(t, a) for t, a in zip(fn.params, call.args))
        lines.append(f"CALL({_c_result(fn.result, f'm_{fn.name}(inst{args})')});")
    out = run_wat(folder, wat, "\n".join(lines), extra_c=C_HELPERS, opt=opt, target=target)
    results = []
    for call, line in zip(calls, out, strict=True):
        code, value = line.split()
        mask = (1 << bit_width(by_name[call.func].result)) - 1
        results.append((int(code), int(value, 16) & mask))
    return results


# --- values as bits ----------------------------------------------------------------


def f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f64_bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def bits_of(valtype: str, x: float | int) -> int:
    """Raw bits of a Python number in `valtype` (ints taken modulo 2^width)."""
    if valtype == "f32":
        return f32_bits(float(x))
    if valtype == "f64":
        return f64_bits(float(x))
    return int(x) & ((1 << bit_width(valtype)) - 1)


def is_nan(valtype: str, bits: int) -> bool:
    if valtype == "f32":
        return (bits & 0x7FFFFFFF) > 0x7F800000
    return (bits & 0x7FFFFFFFFFFFFFFF) > 0x7FF0000000000000


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


def wat_const(valtype: str, bits: int) -> str:
    """`(t.const ...)` whose immediate has exactly these bits (NaN payloads included)."""
    bits &= (1 << bit_width(valtype)) - 1
    if valtype in ("i32", "i64"):
        return f"({valtype}.const {bits:#x})"
    if is_nan(valtype, bits):
        sign = "-" if bits >> (bit_width(valtype) - 1) else ""
        payload = bits & (0x7FFFFF if valtype == "f32" else 0xFFFFFFFFFFFFF)
        return f"({valtype}.const {sign}nan:{payload:#x})"
    value = struct.unpack("<f", struct.pack("<I", bits))[0] if valtype == "f32" else \
        struct.unpack("<d", struct.pack("<Q", bits))[0]
    if math.isinf(value):
        return f"({valtype}.const {'-' if value < 0 else ''}inf)"
    text = value.hex()
    if math.copysign(1.0, value) < 0 and not text.startswith("-"):
        text = "-" + text
    return f"({valtype}.const {text})"


# --- the official spec tests, for functions that are one opcode on their params ---------

_FUNC = re.compile(
    r'\(func \(export "(?P<export>[^"]+)"\)(?P<params>(?:\s*\(param \$\w+ \w+\))*)'
    r'\s*\(result (?P<result>\w+)\)\s*\((?P<op>[a-z0-9_.]+)(?P<gets>(?:\s*\(local\.get \$\w+\))*)\)\)'
)


@dataclass
class SpecAssertion:
    line: int
    args: list[int]
    expected: str | int | None  # bits, "nan:canonical"/"nan:arithmetic", or None for a trap
    trap: str | None  # the expected trap message, for assert_trap


@dataclass
class SpecFunction:
    export: str
    op: str
    params: list[str]
    result: str
    assertions: list[SpecAssertion]


def spec_available() -> bool:
    return SPEC_DIR.is_dir() and shutil.which("wast2json") is not None


@functools.cache
def spec_functions(wast_name: str) -> tuple[SpecFunction, ...]:
    """The single-opcode functions of a spec script's first module, with their assertions.

    Functions are found in the .wast text (`(func (export "x") (param ...) (result t)
    (op (local.get $a) (local.get $b)))`, operands in parameter order); the
    assertions come from `wast2json`, which writes floats as raw bits.
    """
    wast = SPEC_DIR / wast_name
    text = wast.read_text()
    second_module = text.find("(module", text.find("(module") + 1)
    first = text if second_module < 0 else text[:second_module]
    functions: dict[str, SpecFunction] = {}
    for m in _FUNC.finditer(first):
        params = re.findall(r"\(param (\$\w+) (\w+)\)", m["params"])
        gets = re.findall(r"\(local\.get (\$\w+)\)", m["gets"])
        if [name for name, _ in params] != gets:
            continue  # operands not simply the parameters in order
        functions[m["export"]] = SpecFunction(m["export"], m["op"], [t for _, t in params], m["result"], [])

    with tempfile.TemporaryDirectory(prefix="waft-spec-json-") as folder:
        out = Path(folder) / (wast.stem + ".json")
        subprocess.run(["wast2json", str(wast), "-o", str(out)], check=True, capture_output=True)
        commands = json.loads(out.read_text())["commands"]
    modules_seen = 0
    for cmd in commands:
        if cmd["type"] == "module":
            modules_seen += 1
            continue
        if modules_seen != 1 or cmd["type"] not in ("assert_return", "assert_trap"):
            continue
        action = cmd["action"]
        fn = functions.get(action.get("field", ""))
        if action["type"] != "invoke" or fn is None:
            continue
        args = [int(a["value"]) for a in action["args"]]
        if cmd["type"] == "assert_return":
            (expected,) = cmd["expected"]
            value = expected["value"]
            fn.assertions.append(SpecAssertion(cmd["line"], args,
                                               value if value.startswith("nan") else int(value), None))
        else:
            fn.assertions.append(SpecAssertion(cmd["line"], args, None, cmd["text"]))
    return tuple(f for f in functions.values() if f.assertions)


def run_spec_folded(folder: Path, functions: Sequence[SpecFunction], stride: int = 1) -> list[str]:
    """Assertions as functions with constant operands (LLVM folds them); returns the failures.

    Traps must still happen at run time, with the right code.  With
    `stride` > 1, only every stride-th assertion is kept (traps always are):
    each is a function for LLVM to compile, and the big float scripts have
    thousands.
    """
    from aot.abi import TRAP_CODES, TRAP_MESSAGES

    trap_by_message = {msg: TRAP_CODES[name] for name, msg in TRAP_MESSAGES.items()}
    funcs: list[Func] = []
    checks: list[tuple[SpecFunction, SpecAssertion]] = []
    for fn in functions:
        for i, a in enumerate(fn.assertions):
            if i % stride and a.trap is None:
                continue
            consts = " ".join(wat_const(t, v) for t, v in zip(fn.params, a.args))
            funcs.append(Func(f"k{len(funcs)}", [], fn.result, f"({fn.op} {consts})"))
            checks.append((fn, a))
    results = run_calls(folder, funcs, [Call(f.name) for f in funcs])
    failures = []
    for (fn, a), (code, bits) in zip(checks, results):
        where = f"{fn.op} (line {a.line}) of {[hex(x) for x in a.args]}"
        if a.trap is not None:
            if code != trap_by_message[a.trap]:
                failures.append(f"{where}: expected trap '{a.trap}', got code {code}, result {bits:#x}")
        elif code != 0:
            failures.append(f"{where}: unexpected trap {code}")
        elif not matches(fn.result, a.expected, bits):
            exp = a.expected if isinstance(a.expected, str) else hex(a.expected)
            failures.append(f"{where}: expected {exp}, got {bits:#x}")
    return failures


def run_spec_opcodes_folded(folder: Path, wast_name: str,
                            handlers: Mapping[str, object]) -> tuple[list[SpecFunction], list[str]]:
    """`wast_name`'s single-opcode functions whose opcode is in `handlers`, and the
    failures of their assertions re-run with constant operands (`run_spec_folded`).

    The big float scripts are sampled (every third assertion, every trap):
    thousands of functions take LLVM minutes; the spectest runner runs them all
    unfolded.  No functions means nothing was run (the caller asserts there are some).
    """
    functions = [f for f in spec_functions(wast_name) if f.op in handlers]
    if not functions:
        return functions, []
    stride = 3 if wast_name.startswith(("f32", "f64")) else 1
    return functions, run_spec_folded(folder, functions, stride=stride)


# --- cross-target objects: every libcall must exist in the target's C libraries ---------------


def undefined_symbols(obj: bytes, folder: Path, nm: str) -> set[str]:
    path = folder / "probe.o"
    path.write_bytes(obj)
    out = subprocess.run([nm, "-u", str(path)], check=True, capture_output=True, text=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


@functools.cache
def arm_library_symbols(cflags: tuple[str, ...]) -> frozenset[str]:
    """Symbols defined by libgcc.a, libm.a and libc.a of the multilib these flags select."""
    gcc = "arm-none-eabi-gcc"
    libs = [subprocess.run([gcc, *cflags, "-print-libgcc-file-name"], check=True, capture_output=True,
                           text=True).stdout.strip()]
    for name in ("libm.a", "libc.a"):
        libs.append(subprocess.run([gcc, *cflags, f"-print-file-name={name}"], check=True, capture_output=True,
                                   text=True).stdout.strip())
    defined: set[str] = set()
    for lib in libs:
        out = subprocess.run(["arm-none-eabi-nm", "-g", "--defined-only", lib], capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3:
                defined.add(parts[2])
    return frozenset(defined)
