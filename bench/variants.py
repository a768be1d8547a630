"""Build one workload in one variant (native C, Waft, wasm2c) into a program for a target.

Every variant links the same harness (bench/harness.c) with a generated
"glue.h" that hides how the module is instantiated and called, so the timed
code around the module is identical.  Each build links with a map file; the
module's own flash and RAM are read from it (`module_footprint`), so the
figures are what the linker kept, section by section, not object-file sizes.

Flags that matter for a fair comparison:
- every C compile is -O2 with the target's cflags and -ffp-contract=off:
  Wasm has no fused multiply-add, and a C compiler that fuses would compute
  different float results (and checksums) than the module does;
- wasm2c runs with explicit bounds checks (WASM_RT_MEMCHECK_SIGNAL_HANDLER=0,
  the only choice on an MCU without an MMU; set on the host too so the
  comparison is like for like) and its stack-depth counting;
- Waft is compiled with its defaults: every bounds and stack check in place.
  The one exception is `waft_unchecked`, an explicitly unsafe build
  (`bounds_checks=False`) that exists only to measure the checks' share; it
  never enters the summary's Waft-vs-others figures.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from aot.compiler import compile_module
from aot.targets import Target
from waftkit.firmware.link import include_dirs, link
from waftkit.firmware.runtime import runtime_library

BENCH_DIR = Path(__file__).resolve().parent
WORKLOAD_DIR = BENCH_DIR / "workloads"
HARNESS = BENCH_DIR / "harness.c"
WASM2C_RUNTIME = Path("/usr/share/wabt/wasm2c")
WASM2C_HEADER = Path("/usr/include/wasm-rt.h")

PREFIX = "wl"  # the C prefix of every module: one module per program
WASM_MEMORY = 65536  # every workload module is one 64 KiB page (min == max)
CALLS_WORKLOAD = "calls"  # the call-overhead probe, not a timed workload
CALLS_EXPORTS = ("bench_empty", "bench_call_import")
# Workloads that use the C library (malloc/free, memcpy/memset, qsort, strcmp...): their Wasm is
# built against wasi-libc, which is compiled into the module (no WASI imports: nothing they call
# reaches the OS), and their native builds link the target's C library (newlib-nano on Cortex-M).
LIBC_WORKLOADS = frozenset({"linked_alloc", "coremark_libc"})
WASI_SYSROOT = "/usr"  # Debian's wasi-libc (NOTES.md): clang --target=wasm32-wasi --sysroot=/usr

C_FLAGS = ["-O2", "-ffp-contract=off", "-ffunction-sections", "-fdata-sections", "-std=gnu11"]

VARIANTS = ("native", "waft", "wasm2c", "native_clang", "waft_os", "waft_unchecked")

# clang for the native_clang reference: the same C through LLVM (as Waft's code is), so a
# difference between GCC's and LLVM's optimisers is not mistaken for a Wasm effect.
CLANG_TARGETS = {"cortex-m": "thumbv7em-none-eabi"}


class BuildError(RuntimeError):
    """A step of a benchmark build failed; the message holds the command and its output."""


@dataclass
class Build:
    workload: str
    variant: str
    program: Path
    map_file: Path | None
    module_objects: list[Path]  # the objects whose sections count as "the module"
    extra: dict = field(default_factory=dict)  # variant-specific facts for the report


def run(command: list[str], what: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    if proc.returncode != 0:
        raise BuildError(f"{what} failed:\n$ {' '.join(command)}\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def workload_source(workload: str, source: Path | None = None) -> Path:
    """A workload's C file: `source` for an out-of-tree one (bench/external.py), else bench/workloads/NAME.c."""
    return source or WORKLOAD_DIR / f"{workload}.c"


def wasm_module(workload: str, out_dir: Path, source: Path | None = None, libc: bool | None = None) -> Path:
    """Compile a workload to a reactor-style Wasm module: one page, no WASI imports.

    `source` and `libc` describe an out-of-tree workload (bench/external.py);
    a built-in one is found by name.

    Freestanding (no libc) unless the workload is in LIBC_WORKLOADS: then wasi-libc's
    objects (memcpy, malloc, qsort...) are linked into the module, as clang-built WASI
    programs have them; `-nostartfiles` leaves out crt1's `_start`, which would pull in
    the WASI imports of argv, environ and exit that a reactor never uses.
    """
    out = out_dir / f"{workload}.wasm"
    exports = ["bench_run", "bench_verify"] + (list(CALLS_EXPORTS) if workload == CALLS_WORKLOAD else [])
    if libc is None:
        libc = workload in LIBC_WORKLOADS
    if libc:
        flavour = ["--target=wasm32-wasi", f"--sysroot={WASI_SYSROOT}", "-nostartfiles"]
    else:
        flavour = ["--target=wasm32", "-ffreestanding", "-nostdlib"]
    command = ["clang", *flavour, "-O2", "-ffp-contract=off",
               "-Wl,--no-entry", "-Wl,--strip-debug", "-Wl,-z,stack-size=8192",
               f"-Wl,--initial-memory={WASM_MEMORY}", f"-Wl,--max-memory={WASM_MEMORY}",
               *[f"-Wl,--export={name}" for name in exports]]
    if workload == CALLS_WORKLOAD:
        command.append("-Wl,--allow-undefined")  # env.host_nop becomes an import
    # bench.h is found beside built-in workloads and, through -I, by out-of-tree ones.
    run(command + [f"-I{WORKLOAD_DIR}", str(workload_source(workload, source)), "-o", str(out)],
        f"clang (wasm32) of {workload}")
    return out


def compile_c(target: Target, source: Path, obj: Path, flags: list[str] = ()) -> Path:
    includes = [f"-I{d}" for d in include_dirs(target)]
    run([target.cc, *target.cflags, *C_FLAGS, *includes, *flags, "-c", str(source), "-o", str(obj)],
        f"compiling {source.name} for {target.name}")
    return obj


def _link(target: Target, build_dir: Path, inputs: list[Path], name: str, cflags: list[str] = ()) -> tuple[Path, Path]:
    program = build_dir / (name if target.is_host else f"{name}.elf")
    map_file = build_dir / f"{name}.map"
    try:
        link(target, inputs, program, map_file=map_file, cflags=cflags)
    except Exception as exc:  # TargetError: keep its message, say which build
        raise BuildError(f"linking {name}: {exc}") from exc
    return program, map_file


def _harness(target: Target, build_dir: Path, glue: str, iterations: int, repeats: int,
             flags: list[str] = ()) -> Path:
    (build_dir / "glue.h").write_text(glue)
    return compile_c(target, HARNESS, build_dir / "harness.o",
                     [f"-I{build_dir}", f"-DBENCH_ITERATIONS={iterations}u", f"-DBENCH_REPEATS={repeats}", *flags])


def _calls_flags(workload: str) -> list[str]:
    return ["-DHAVE_CALLS"] if workload == CALLS_WORKLOAD else []


# --------------------------------------------------------------------------- native

def compile_clang(target: Target, source: Path, obj: Path, flags: list[str] = (), *,
                  libc: bool = False) -> Path:
    """Compile a workload with clang for the target, ABI-compatible with its cc.

    Freestanding, unless `libc`: then clang sees the C library's headers (on a
    bare-metal target, those of the cc's newlib) and treats memcpy, strlen...
    as the library functions they are, as GCC does.
    """
    if target.is_host:
        arch = []
    elif target.kind in CLANG_TARGETS:
        # The target's GCC cflags (-mcpu, -mthumb, -mfloat-abi, -mfpu) mean the same to clang.
        arch = [f"--target={CLANG_TARGETS[target.kind]}", *target.cflags]
        if libc:
            arch += ["-isystem", str(_cc_libc_headers(target))]
    else:
        raise BuildError(f"no clang triple for {target.kind} targets")
    mode = [] if libc else ["-ffreestanding"]
    run(["clang", *arch, *mode, *C_FLAGS, *flags, "-c", str(source), "-o", str(obj)],
        f"clang of {source.name} for {target.name}")
    return obj


def _cc_libc_headers(target: Target) -> Path:
    """The C library's headers of a cross compiler: beside its libc.a (Debian's
    arm-none-eabi-gcc has no sysroot to ask for; newlib is /usr/lib/arm-none-eabi/{lib,include})."""
    libc = Path(run([target.cc, "-print-file-name=libc.a"], f"{target.cc} -print-file-name").strip())
    headers = libc.parent.parent / "include"
    if not (headers / "stdlib.h").is_file():
        raise BuildError(f"no C library headers beside {libc} for clang")
    return headers


def build_native(target: Target, workload: str, build_dir: Path, iterations: int, repeats: int,
                 compiler: str = "cc", source: Path | None = None, libc: bool | None = None) -> Build:
    """The workload's C compiled natively by the target's cc (or clang); `source`/`libc` as in wasm_module."""
    build_dir.mkdir(parents=True, exist_ok=True)
    source, obj, flags = workload_source(workload, source), build_dir / f"{workload}.o", [f"-I{WORKLOAD_DIR}"]
    if libc is None:
        libc = workload in LIBC_WORKLOADS
    if compiler == "clang":
        module = compile_clang(target, source, obj, flags, libc=libc)
    else:
        module = compile_c(target, source, obj, flags)
    glue = """/* native: the workload's C functions called directly. */
#include <stdint.h>
uint32_t bench_run(uint32_t iterations);
uint32_t bench_verify(void);
void bench_empty(void);
uint32_t bench_call_import(uint32_t n);
#define MOD_SETUP() ((void) 0)
#define MOD_INSTANTIATE() ((void) 0)
#define MOD_VERIFY() bench_verify()
#define MOD_RUN(n) bench_run(n)
#define MOD_EMPTY() bench_empty()
#define MOD_CALL_IMPORT(n) bench_call_import(n)
#define MOD_STATE_BYTES 0u
#define IMPORT_DEFINITION __attribute__((noinline)) void host_nop(void) { __asm__ volatile(""); }
"""
    harness = _harness(target, build_dir, glue, iterations, repeats, _calls_flags(workload))
    variant = "native_clang" if compiler == "clang" else "native"
    program, map_file = _link(target, build_dir, [harness, module], variant)
    return Build(workload, variant, program, map_file, [module])


def build_calibration(target: Target, build_dir: Path, iterations: int) -> Build:
    """A program whose bench_run is a 2-instruction loop (subs/bne) run n times: ticks per instruction."""
    build_dir.mkdir(parents=True, exist_ok=True)
    glue = """/* calibration: exactly 2 * n instructions between the two timer reads (plus a few). */
#include <stdint.h>
static uint32_t spin(uint32_t n) {
    uint32_t r = n;
    __asm__ volatile("1: subs %0, %0, #1\\n\\tbne 1b" : "+r"(r));
    return r;
}
#define MOD_SETUP() ((void) 0)
#define MOD_INSTANTIATE() ((void) 0)
#define MOD_VERIFY() 1u
#define MOD_RUN(n) spin(n)
"""
    # GCC reads Thumb-1 (Armv6-M) inline assembly in the old divided syntax, where `subs` does not exist.
    unified = ["-masm-syntax-unified"] if target.is_arm else []
    harness = _harness(target, build_dir, glue, iterations, 1, unified)
    program, map_file = _link(target, build_dir, [harness], "calibrate")
    return Build("calibration", "native", program, map_file, [])


# --------------------------------------------------------------------------- Waft

def build_waft(target: Target, workload: str, build_dir: Path, iterations: int, repeats: int,
               wasm: Path, runtime_dir: Path, opt: str = "2", bounds_checks: bool = True) -> Build:
    """The module through Waft at `opt` ("2", the default, or "s": the size-tuned waft_os variant).

    `bounds_checks=False` is the unsafe waft_unchecked build, for the checks' share only.
    """
    build_dir.mkdir(parents=True, exist_ok=True)
    result = compile_module(wasm.read_bytes(), target, prefix=PREFIX, opt=opt, bounds_checks=bounds_checks)
    module = build_dir / f"{PREFIX}.o"
    module.write_bytes(result.object)
    (build_dir / f"{PREFIX}.h").write_text(result.header)
    (build_dir / f"{PREFIX}.ll").write_text(result.llvm_ir)
    glue = f"""/* waft: the module compiled ahead of time by Waft, one static instance, one trap frame. */
#include <setjmp.h>
#include "waft.h"
#include "{PREFIX}.h"
static {PREFIX}__instance instance;
static {PREFIX}__imports imports;
static waft_trap_frame frame;
#define MOD_SETUP() do {{ waft_trap_push(&frame); \\
    if (setjmp(frame.jmp)) {{ report("trap", (uint64_t) frame.code); return 2; }} }} while (0)
#define MOD_INSTANTIATE() do {{ waft_trap_code code_ = {PREFIX}__instantiate(&instance, &imports); \\
    if (code_ != WAFT_TRAP_NONE) {{ report("trap", (uint64_t) code_); return 2; }} }} while (0)
#define MOD_VERIFY() (uint32_t) {PREFIX}_bench_verify(&instance)
#define MOD_RUN(n) (uint32_t) {PREFIX}_bench_run(&instance, (int32_t) (n))
#define MOD_EMPTY() {PREFIX}_bench_empty(&instance)
#define MOD_CALL_IMPORT(n) {PREFIX}_bench_call_import(&instance, (int32_t) (n))
#define MOD_STATE_BYTES ((uint32_t) sizeof instance)
#define IMPORT_DEFINITION void env__host_nop(void *ctx) {{ (void) ctx; __asm__ volatile(""); }}
"""
    harness = _harness(target, build_dir, glue, iterations, repeats, _calls_flags(workload))
    library = runtime_library(target, runtime_dir)
    variant = "waft" if opt == "2" else f"waft_o{opt}"
    if not bounds_checks:
        variant += "_unchecked"
    program, map_file = _link(target, build_dir, [harness, module, library], variant)
    return Build(workload, variant, program, map_file, [module],
                 {"instance_bytes": result.instance_size, "object": module})


# --------------------------------------------------------------------------- wasm2c

def wasm2c_flags(target: Target, build_dir: Path) -> list[str]:
    """wasm2c's runtime configuration: explicit bounds checks, stack-depth counting."""
    # wasm-rt.h lives in /usr/include, which a cross compiler does not search:
    # give it a folder of its own rather than all of the host's headers.
    header_dir = build_dir / "wasm2c-include"
    header_dir.mkdir(exist_ok=True)
    link_path = header_dir / WASM2C_HEADER.name
    if not link_path.exists():
        link_path.symlink_to(WASM2C_HEADER)
    flags = ["-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0", f"-I{WASM2C_RUNTIME}", f"-I{header_dir}"]
    if not target.is_host:
        # newlib and picolibc have no <sys/mman.h>, which wasm-rt-impl.c includes (and,
        # without the signal handler, never uses).
        flags.append(f"-I{BENCH_DIR / 'wasm2c_stub'}")
    if target.kind == "cortex-m":
        # arm-none-eabi's short enums break wasm2c's va_arg of an enum.
        flags.append("-fno-short-enums")
    return flags


def wasm2c_objects(target: Target, wasm: Path, build_dir: Path, prefix: str, what: str,
                   module_name: str | None = None) -> tuple[Path, Path, Path, list[str]]:
    """`wasm` through wasm2c into `prefix`.c (module name `module_name`, default `prefix`), compiled by
    the target's C compiler at C_FLAGS (-O2) with wasm2c_flags' explicit bounds checks.

    Returns the module's object, wasm2c's runtime object, the generated header
    and the flags a C file that includes it needs: the one wasm2c build, for
    the speed workloads and the metric groups' peer column alike.
    """
    if shutil.which("wasm2c") is None:
        raise BuildError("wasm2c is not installed (Debian package wabt)")
    build_dir.mkdir(parents=True, exist_ok=True)
    source = build_dir / f"{prefix}.c"
    run(["wasm2c", str(wasm), "-n", module_name or prefix, "-o", str(source)], f"wasm2c of {what}")
    flags = wasm2c_flags(target, build_dir)
    module = compile_c(target, source, build_dir / f"{prefix}.o", flags)
    runtime = compile_c(target, WASM2C_RUNTIME / "wasm-rt-impl.c", build_dir / "wasm-rt-impl.o", flags)
    return module, runtime, build_dir / f"{prefix}.h", flags


# Link flags of a wasm2c program on Cortex-M: wasm2c_flags' -fno-short-enums in every object.
WASM2C_LINK_FLAGS = {"cortex-m": ["-fno-short-enums", "-Wl,--no-enum-size-warning"]}


def build_wasm2c(target: Target, workload: str, build_dir: Path, iterations: int, repeats: int,
                 wasm: Path) -> Build:
    module, runtime, header_path, flags = wasm2c_objects(target, wasm, build_dir, PREFIX, workload)
    has_imports = "struct Z_env_instance_t*" in header_path.read_text()
    env_arg = ", &env" if has_imports else ""
    glue = f"""/* wasm2c: the module translated to C by wasm2c 1.0.32, explicit bounds checks. */
#include "{PREFIX}.h"
static Z_{PREFIX}_instance_t instance;
{"struct Z_env_instance_t { int unused; }; static struct Z_env_instance_t env;" if has_imports else ""}
#define MOD_SETUP() wasm_rt_init()
#define MOD_INSTANTIATE() do {{ Z_{PREFIX}_init_module(); Z_{PREFIX}_instantiate(&instance{env_arg}); }} while (0)
#define MOD_VERIFY() Z_{PREFIX}Z_bench_verify(&instance)
#define MOD_RUN(n) Z_{PREFIX}Z_bench_run(&instance, (n))
#define MOD_EMPTY() Z_{PREFIX}Z_bench_empty(&instance)
#define MOD_CALL_IMPORT(n) Z_{PREFIX}Z_bench_call_import(&instance, (n))
#define MOD_STATE_BYTES ((uint32_t) sizeof instance)
#define IMPORT_DEFINITION void Z_envZ_host_nop(struct Z_env_instance_t *e) {{ (void) e; __asm__ volatile(""); }}
"""
    harness = _harness(target, build_dir, glue, iterations, repeats, _calls_flags(workload) + flags)
    link_flags = WASM2C_LINK_FLAGS.get(target.kind, [])
    program, map_file = _link(target, build_dir, [harness, module, runtime], "wasm2c", link_flags)
    return Build(workload, "wasm2c", program, map_file, [module], {"object": module})


# --------------------------------------------------------------------------- footprint

_SECTION_LINE = re.compile(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")


def module_footprint(map_file: Path, objects: list[Path]) -> dict[str, int]:
    """Bytes of code, read-only data, data and bss the linker kept from `objects`.

    Reads the "Linker script and memory map" part of a GNU ld map file, where
    each kept input section is listed with its size and the file it came from
    (a long section name puts the address and size on the next line).
    """
    wanted = {str(o.resolve()) for o in objects} | {str(o) for o in objects}
    sizes = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    lines = map_file.read_text().splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("Linker script and memory map"))
    except StopIteration:
        return sizes
    pending: str | None = None
    for line in lines[start:]:
        if line.startswith(" ") and not line.startswith("  ") and len(line.split()) == 1:
            pending = line.strip()  # a long section name; its figures follow on the next line
            continue
        m = _SECTION_LINE.match(line)
        if not m:
            pending = None
            continue
        name = m.group(1) or pending or ""
        pending = None
        size, origin = int(m.group(3), 16), m.group(4).strip()
        if size == 0 or origin not in wanted:
            continue
        sizes[_kind(name)] += size
    return sizes


def _kind(section: str) -> str:
    if section.startswith((".rodata", ".srodata")):
        return "rodata"
    if section.startswith((".data", ".sdata")):
        return "data"
    if section.startswith((".bss", ".sbss", "COMMON")):
        return "bss"
    return "text"  # .text*, and unwind tables (.ARM.exidx/.ARM.extab) that live in flash beside it
