"""Link module objects, the runtime and a board's glue into a program for a target.

One place knows how a target's program is put together, so `waft run`,
`waft spectest` and the SCons firmware builder agree on it:

- host: the system C compiler links an ordinary Linux executable;
- Cortex-M: arm-none-eabi-gcc links a bare-metal ELF with the board's linker
  script (`targets/<name>/link.ld`, which INCLUDEs the shared section layout
  in `targets/common/cortex-m/`), the shared startup code and the semihosting
  console, newlib-nano, and `--gc-sections` so only what is used reaches flash;
- RISC-V: riscv64-unknown-elf-gcc with picolibc (`--specs=picolibc.specs` in
  the target's cflags) links a bare-metal ELF with the board's linker script
  (which INCLUDEs picolibc.ld), picolibc's startup code and its semihosting
  library for the exit status, plus `targets/common/riscv/semihost.c` so
  write() to stdout and stderr reaches the host.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from aot import abi
from aot.errors import TargetError
from aot.targets import TARGETS_DIR, Target
from waftkit.firmware.runtime import INCLUDE_DIR

CORTEX_M_GLUE = TARGETS_DIR / "common" / "cortex-m"
RISCV_GLUE = TARGETS_DIR / "common" / "riscv"


def board_sources(target: Target) -> list[Path]:
    """C files every program for `target` needs besides the runtime: startup, console."""
    if target.is_host:
        return []
    if target.kind == "cortex-m":
        return [CORTEX_M_GLUE / "startup.c", CORTEX_M_GLUE / "semihost.c"]
    if target.kind == "riscv":
        # picolibc's crt0 starts the program; semihost.c makes write(1|2) reach the host.
        return [RISCV_GLUE / "semihost.c"]
    raise TargetError(f"target '{target.name}': no board glue for {target.kind} targets yet")


def include_dirs(target: Target) -> list[Path]:
    """Header folders for C code that embeds modules: waft.h, and the board glue's."""
    dirs = [INCLUDE_DIR]
    if target.kind == "cortex-m":
        dirs.append(CORTEX_M_GLUE)
    return dirs


def linker_script(target: Target) -> Path | None:
    if target.is_host:
        return None
    script = target.directory / "link.ld"
    if not script.is_file():
        raise TargetError(f"target '{target.name}' has no linker script ({script})")
    return script


def printf_float_flags(target: Target) -> list[str]:
    """Link flags that give the C library's printf/scanf float conversions (%f, %g, %e).

    newlib-nano leaves them out unless the link asks (`-u _printf_float`,
    `-u _scanf_float`): they cost about 12 KB of flash on a Cortex-M (dtoa,
    multiprecision arithmetic, malloc, assert/abort, libgcc's soft double).
    Only C code in the firmware needs them: a Wasm module's printf is
    compiled into the module and never calls the board's C library.
    picolibc (RISC-V) chooses its printf at compile time instead: nothing to add.
    """
    if target.kind == "cortex-m":
        return ["-u", "_printf_float"]
    return []


def link_flags(target: Target, map_file: Path | None = None, *, printf_float: bool = True) -> list[str]:
    """Flags for the final link (given to the C compiler driver), before the inputs.

    `printf_float`: link the C library's float printf (printf_float_flags).
    The default keeps it for C firmware, whose authors expect %f; WASI firmware,
    whose only C is Waft's own, links without (wasi_firmware.link_firmware).
    """
    flags = list(target.cflags)
    if target.kind == "cortex-m":
        flags += ["-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections",
                  # libgcc.a objects lack .note.GNU-stack; bare metal has no executable-stack notion.
                  "-Wl,--no-warn-execstack",
                  f"-L{CORTEX_M_GLUE}", f"-T{linker_script(target)}"]
    elif target.kind == "riscv":
        # picolibc's semihosting crt0 and OS layer: stdout/stderr and exit(status) reach QEMU.
        flags += ["--crt0=semihost", "--oslib=semihost", "-Wl,--gc-sections",
                  "-Wl,--no-warn-execstack", f"-T{linker_script(target)}"]
    if printf_float:
        flags += printf_float_flags(target)
    if map_file is not None:
        flags.append(f"-Wl,-Map={map_file}")
    return flags


def link_libraries(target: Target) -> list[str]:
    """Libraries after the inputs: libm for the float helpers compiled code calls."""
    return ["-lm"]


def link_command(target: Target, inputs: Sequence[Path | str], output: Path, *,
                 map_file: Path | None = None, cflags: Sequence[str] = (),
                 printf_float: bool = True) -> list[str]:
    """The whole link command: C sources among `inputs` are compiled on the way."""
    includes = [f"-I{d}" for d in include_dirs(target)]
    sources = [str(p) for p in board_sources(target)] + [str(p) for p in inputs]
    return [target.cc, *link_flags(target, map_file, printf_float=printf_float), "-O2", "-std=gnu11", *includes, *cflags,
            *sources, *link_libraries(target), "-o", str(output)]


def link(target: Target, inputs: Sequence[Path | str], output: Path, *,
         map_file: Path | None = None, cflags: Sequence[str] = (), printf_float: bool = True) -> Path:
    """Link `inputs` (C files, objects, libraries) into `output`; TargetError on failure."""
    cmd = link_command(target, inputs, output, map_file=map_file, cflags=cflags, printf_float=printf_float)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        output.unlink(missing_ok=True)
        raise TargetError(overflow_message(target, output, proc.stderr)
                          or abi_mismatch_message(proc.stderr)
                          or f"link for {target.name} failed:\n{proc.stderr.strip()}")
    return output


# GNU ld's words when a memory region of the linker script is too small.
_OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")


def overflow_message(target: Target, output: Path, stderr: str) -> str | None:
    """One line for a link that failed because the firmware does not fit the board, else None.

    The linker says it in four lines of its own (and the RAM line names no
    cause); what a user needs is which memory, by how much, out of what, and
    what to make smaller.
    """
    found = {m.group(1).upper(): int(m.group(2)) for m in _OVERFLOW.finditer(stderr)}
    if not found:
        return None
    parts = []
    for region, excess in found.items():
        limit = {"RAM": target.ram, "FLASH": target.flash}.get(region)
        size = f" (the board has {limit.length:,})" if limit is not None else ""
        parts.append(f"{region} overflowed by {excess:,} bytes{size}")
    advice = ("make the instance or the pools smaller (--max-pages; --max-threads: each thread has its own "
              "stack and instance)" if "RAM" in found else "make the code smaller (-O s)")
    return f"{output.name} does not fit {target.name}: {', '.join(parts)}; {advice}"


_RUNTIME_ABI = re.compile(r"^#define WAFT_ABI_VERSION (\d+)\b", re.MULTILINE)


def runtime_abi_version() -> int:
    """WAFT_ABI_VERSION of the runtime this installation builds (runtime_c/include/waft.h)."""
    found = _RUNTIME_ABI.search((INCLUDE_DIR / "waft.h").read_text())
    if found is None:
        raise TargetError(f"{INCLUDE_DIR / 'waft.h'} defines no WAFT_ABI_VERSION")
    return int(found.group(1))


def abi_mismatch_message(stderr: str) -> str | None:
    """One line for a link that failed because an object and the runtime differ in ABI version, else None.

    Each object references waft_abi_v<N> for its own version N, which only a
    runtime of version N defines (runtime_c/src/abi_version.c); the linker's
    "undefined reference" names only one side.
    """
    versions = sorted({int(v) for v in abi.ABI_VERSION_UNDEFINED.findall(stderr)})
    if not versions:
        return None
    objects = " and ".join(str(v) for v in versions)
    return (f"ABI version mismatch: an object was compiled for Waft ABI version {objects}, but the runtime "
            f"is ABI version {runtime_abi_version()}: recompile the module with this waft, or link the "
            f"runtime it was built with (docs/lts.md)")
