"""Build runtime_c for a target into a cached static library, `libwaft.a`.

The library is the runtime core (`runtime_c/src`) plus the target's port
(`runtime_c/port/<host|cortex-m|riscv>`) and any extra sources a caller adds (WASI,
board glue), compiled with the target's C compiler and flags.  It lands in
`build_dir/runtime/<target>/<hash>/libwaft.a`, where the hash covers every
source and header, the flags, the defines and the compiler's identity: a
repeated call with the same inputs returns at once, a changed input gets a new
folder.  Builds happen in a private temporary folder and are published with
`os.replace`, so parallel pytest-xdist workers may race for the same library
safely (each publishes an identical file; the last rename wins).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from aot.errors import TargetError
from aot.package_data import RUNTIME_DIR
from aot.targets import Target

INCLUDE_DIR = RUNTIME_DIR / "include"
LIBRARY_NAME = "libwaft.a"

# Flags every runtime build gets, after the target's own cflags.  Sections per
# function let the firmware link drop the helpers a module never calls.
COMMON_CFLAGS = ("-O2", "-ffunction-sections", "-fdata-sections", "-std=c11", "-Wall", "-Wextra")

# Port folder and the define that selects it in waft.h, by target kind.
_PORTS = {"host": ("host", "WAFT_PORT_HOST"), "cortex-m": ("cortex-m", "WAFT_PORT_CORTEX_M"),
          "riscv": ("riscv", "WAFT_PORT_RISCV")}


def port_dir(target: Target) -> Path:
    """The port folder for `target`; TargetError when the runtime has none yet."""
    try:
        return RUNTIME_DIR / "port" / _PORTS[target.kind][0]
    except KeyError:
        known = ", ".join(sorted(_PORTS))
        raise TargetError(f"target '{target.name}': the runtime has no port for {target.kind} targets (ports: {known})") from None


def port_define(target: Target) -> str:
    """The macro that selects `target`'s port in waft.h (WAFT_PORT_HOST, WAFT_PORT_CORTEX_M...)."""
    port_dir(target)  # TargetError, with the message, for kinds without a port
    return _PORTS[target.kind][1]


def runtime_sources(target: Target) -> list[Path]:
    """The C files of the runtime core and the target's port, in a stable order."""
    return sorted((RUNTIME_DIR / "src").glob("*.c")) + sorted(port_dir(target).glob("*.c"))


def runtime_cflags(target: Target, defines: Sequence[str] = ()) -> list[str]:
    """Compiler flags for runtime sources (and for embedder code that includes waft.h)."""
    flags = [*target.cflags, *COMMON_CFLAGS, f"-D{port_define(target)}", f"-I{INCLUDE_DIR}"]
    flags += [f"-D{d}" for d in defines]
    return flags


def runtime_library(
    target: Target,
    build_dir: Path,
    extra_sources: Iterable[Path | str] = (),
    defines: Sequence[str] = (),
    cflags: Sequence[str] = (),
) -> Path:
    """Path of `libwaft.a` for `target`, building it unless an identical one exists.

    `extra_sources` are C files compiled and archived with the runtime;
    `defines` are `NAME` or `NAME=VALUE` strings passed as `-D`; `cflags`
    more flags after those (include folders an extra source needs: lwIP's).
    """
    port_dir(target)  # fail early, with the message, for kinds without a port
    extra = [Path(p).resolve() for p in extra_sources]
    for path in extra:
        if not path.is_file():
            raise FileNotFoundError(f"runtime source {path} does not exist")
    sources = runtime_sources(target) + extra
    cflags = [*runtime_cflags(target, defines), *cflags]
    # Sources from different folders may share a name (port.c): number the objects.
    objects = [f"{i:02d}_{src.stem}.o" for i, src in enumerate(sources)]

    digest = _content_hash(target, sources, cflags)
    out_dir = Path(build_dir) / "runtime" / target.name / digest
    library = out_dir / LIBRARY_NAME
    if library.is_file():
        return library

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".build-", dir=out_dir) as tmp:
        work = Path(tmp)
        commands = []
        for src, obj in zip(sources, objects):
            command = [target.cc, *cflags, "-c", str(src), "-o", str(work / obj)]
            commands.append(command)
            _run(command, f"compiling {src.name} for {target.name}")
        archive = work / LIBRARY_NAME
        command = [_archiver(target.cc), "rcs", str(archive), *(str(work / o) for o in objects)]
        commands.append(command)
        _run(command, f"archiving the runtime for {target.name}")
        # The commands, for whoever needs to reproduce the build by hand
        # (objects went to a temporary folder, shown as $TMP).
        log = "".join(" ".join(c) + "\n" for c in commands).replace(str(work), "$TMP")
        (work / "build.txt").write_text(log)
        os.replace(work / "build.txt", out_dir / "build.txt")
        os.replace(archive, library)
    return library


def _content_hash(target: Target, sources: list[Path], cflags: list[str]) -> str:
    h = hashlib.sha256()
    h.update(_compiler_identity(target.cc).encode())
    for flag in cflags:
        h.update(b"\0flag\0" + flag.encode())
    headers = sorted(INCLUDE_DIR.rglob("*.h")) + sorted(RUNTIME_DIR.glob("src/*.h"))
    headers += sorted(p for src in sources for p in src.parent.glob("*.h"))
    # Extra sources may keep their public headers in an include/ folder beside them (runtime_c/wasi_p1).
    headers += sorted(p for src in sources for p in src.parent.glob("include/*.h"))
    for path in sources + sorted(set(headers)):
        h.update(b"\0file\0" + str(path).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


@cache
def _compiler_identity(cc: str) -> str:
    """The compiler's path and version banner: a toolchain upgrade must rebuild."""
    path = shutil.which(cc)
    if path is None:
        raise TargetError(f"C compiler '{cc}' not found on PATH (install it, or pick another target)")
    version = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
    return f"{os.path.realpath(path)}\n{version}"


@cache
def _archiver(cc: str) -> str:
    """The `ar` that goes with `cc` (arm-none-eabi-ar for arm-none-eabi-gcc)."""
    found = subprocess.run([cc, "-print-prog-name=ar"], capture_output=True, text=True).stdout.strip()
    if found and (os.path.isabs(found) or shutil.which(found)):
        return found
    if cc.endswith("gcc"):
        sibling = cc[: -len("gcc")] + "ar"
        if shutil.which(sibling):
            return sibling
    return "ar"


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise TargetError(f"{what} failed ({' '.join(command)}):\n{result.stderr.strip()}")
