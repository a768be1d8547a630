"""Take and compare snapshots of the Waft ABI: what docs/lts.md freezes for one WAFT_ABI_VERSION.

A snapshot is plain JSON, read from the real inputs by the real compilers:

- `functions`: every function waft.h declares, as the target's C compiler
  reads it (GCC's -aux-info prototypes), and the extern objects;
- `constants`: the trap codes and the other numbers of the contract
  (WAFT_TRAP_*, WAFT_WAIT_*, WAFT_TRAP_EXIT_STATUS...), evaluated by the compiler;
- `layouts`: per target, sizeof/alignof of each ABI struct and the offset of
  each field, from a probe compiled with that target's compiler (values come
  back as the sizes of arrays, read with nm: no program has to run);
- `wasi_snapshot_preview1`: each p1 function the runtime provides, with its
  core-Wasm signature and its C prototype (waft_wasi_p1.h, compiler-read);
- `bsp_hooks`: the functions a vendor BSP implements or calls
  (port_baremetal.h; waft_kernel_bsp.h, the kernel's SysTick and PendSV
  hooks; waft_net_nic.h, the NIC driver's under lwIP), so a drop-in's hooks
  stay put too.

`compare(old, new)` lists the differences in words, split into breaking ones
(something removed or changed: objects or firmware built against the old
snapshot would break) and additions (a new function, a new trap code).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from aot import abi
from aot.targets import load_target
from waftkit import wasi
from waftkit.firmware.embedding import KERNEL_DIR, SOCKETS_DIR
from waftkit.firmware.runtime import INCLUDE_DIR

# Targets whose layouts are frozen: each pointer size / float ABI / compiler family once.
LAYOUT_TARGETS = ("host", "stm32f4", "cortex-m0plus", "riscv32-virt")

# The structs an embedder or generated code touches, with their fields (waft.h).
STRUCTS = {name: [f for f, _ in fields] for name, fields in abi.STRUCT_FIELDS.items()}
STRUCTS["waft_trap_frame"] = ["jmp", "prev", "code"]

# Macros of the contract besides the trap codes (read from the header text, valued by the compiler).
_CONSTANT = re.compile(r"^#define (WAFT_(?:TRAP_\w+|WAIT_\w+|ABI_VERSION|STACK_MARGIN_MIN))\s", re.MULTILINE)
_ENUM = re.compile(r"^\s*(WAFT_TRAP_\w+)\s*=", re.MULTILINE)
_AUX = re.compile(r"^/\* (\S+):\d+:\w+ \*/ (.*);$")


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return proc


def _prototypes(cc: str, cflags: list[str], include: list[Path], header: str, prefix: str, work: Path) -> dict:
    """name -> prototype of every function `header` itself declares whose name starts with `prefix`."""
    probe = work / "aux.c"
    probe.write_text(f'#include "{header}"\n')
    aux = work / "aux.txt"
    _run([cc, *cflags, *(f"-I{d}" for d in include), "-aux-info", str(aux), "-fsyntax-only", str(probe)], work)
    out = {}
    for line in aux.read_text().splitlines():
        found = _AUX.match(line)
        if not found or Path(found.group(1)).name != header:
            continue
        proto = re.sub(r"\s+", " ", found.group(2)).strip()
        name = re.search(r"(\w+) \(", proto)
        if name and name.group(1).startswith(prefix):
            out[name.group(1)] = proto
    return out


def _externs(cc: str, cflags: list[str], include: Path, work: Path) -> dict:
    probe = work / "externs.c"
    probe.write_text('#include "waft.h"\n')
    text = _run([cc, *cflags, f"-I{include}", "-E", "-P", str(probe)], work).stdout
    out = {}
    for line in text.splitlines():
        if line.startswith("extern ") and "(" not in line:
            decl = re.sub(r"\s+", " ", line.rstrip(";")).strip()
            out[re.search(r"(\w+)$", decl).group(1)] = decl
    return out


def _values(cc: str, cflags: list[str], names: dict[str, str], include: Path, work: Path) -> dict[str, int]:
    """Evaluate C integer expressions (`names`: key -> expression) with the target's compiler.

    Each becomes the size of an array (`char v_key[expr + 1]`); nm -S reads the
    sizes back from the object.  Needs no program to run on the target.
    """
    keys = list(names)
    lines = ['#include <stddef.h>', '#include "waft.h"']
    lines += [f"__attribute__((used)) char waft_probe_{i}[({names[k]}) + 1];" for i, k in enumerate(keys)]
    probe = work / "values.c"
    probe.write_text("\n".join(lines) + "\n")
    obj = work / "values.o"
    _run([cc, *cflags, "-fno-common", f"-I{include}", "-c", str(probe), "-o", str(obj)], work)
    nm = nm_for(cc)
    sizes = {}
    for line in _run([nm, "-S", str(obj)], work).stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3].startswith("waft_probe_"):
            sizes[int(parts[3][len("waft_probe_"):])] = int(parts[1], 16) - 1
    return {k: sizes[i] for i, k in enumerate(keys)}


def nm_for(cc: str) -> str:
    """The `nm` of the toolchain that `cc` belongs to."""
    if cc.endswith("gcc"):
        sibling = cc[: -len("gcc")] + "nm"
        if shutil.which(sibling):
            return sibling
    return "nm"


def _constant_names(include: Path) -> list[str]:
    text = (include / "waft.h").read_text()
    names = _ENUM.findall(text) + _CONSTANT.findall(text)
    return [n for n in dict.fromkeys(names) if n not in ("WAFT_TRAP__FORCE_32BIT",)]


def available_targets() -> list[str]:
    """The layout targets whose C compiler is installed here."""
    return [t for t in LAYOUT_TARGETS if shutil.which(load_target(t).cc)]


def take(targets: list[str] | None = None, include: Path = INCLUDE_DIR) -> dict:
    """The snapshot of the ABI in `include` (default: this checkout's runtime_c/include), layouts for
    `targets` (default: all whose compiler is installed)."""
    targets = available_targets() if targets is None else targets
    host = load_target("host")
    board = load_target("stm32f4")
    with tempfile.TemporaryDirectory(prefix="waft-lts-") as tmp:
        work = Path(tmp)
        functions = _prototypes(host.cc, [], [include], "waft.h", "waft_", work)
        externs = _externs(host.cc, [], include, work)
        constants = _values(host.cc, [], {n: n for n in _constant_names(include)}, include, work)
        layouts = {}
        for name in targets:
            t = load_target(name)
            exprs = {}
            for struct, fields in STRUCTS.items():
                exprs[f"{struct}.sizeof"] = f"sizeof({struct})"
                exprs[f"{struct}.alignof"] = f"_Alignof({struct})"
                exprs.update({f"{struct}.{f}": f"offsetof({struct}, {f})" for f in fields})
            exprs["waft_trap_code.sizeof"] = "sizeof(waft_trap_code)"
            layouts[name] = _values(t.cc, list(t.cflags), exprs, include, work)
        p1_c = _prototypes(host.cc, [], [include, wasi.INCLUDE_DIR], "waft_wasi_p1.h",
                           "wasi_snapshot_preview1__", work)
        hooks = _prototypes(board.cc, list(board.cflags), [include, wasi.WASI_DIR, wasi.INCLUDE_DIR],
                            "port_baremetal.h", "waft_", work)
        hooks |= _prototypes(board.cc, list(board.cflags), [include, KERNEL_DIR], "waft_kernel_bsp.h", "waft_", work)
        hooks |= _prototypes(board.cc, list(board.cflags), [include, SOCKETS_DIR / "lwip"], "waft_net_nic.h",
                             "waft_", work)
    p1 = {f.name: {"wasm": abi.signature_string(f.functype), "c": p1_c.get(f.symbol)} for f in wasi.FUNCTIONS}
    return {
        "abi_version": abi.ABI_VERSION,
        "functions": functions,
        "externs": externs,
        "constants": constants,
        "layouts": layouts,
        "wasi_snapshot_preview1": p1,
        "bsp_hooks": hooks,
    }


@dataclass
class Differences:
    """What `compare` found: breaking changes (need a version bump) and additions (need a new golden)."""

    breaking: list[str] = field(default_factory=list)
    additions: list[str] = field(default_factory=list)


def _walk(path: str, old, new, diff: Differences) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            where = f"{path}.{key}" if path else key
            if key not in new:
                diff.breaking.append(f"{where} removed (was {_show(old[key])})")
            elif key not in old:
                diff.additions.append(f"{where} added ({_show(new[key])})")
            else:
                _walk(where, old[key], new[key], diff)
    elif old != new:
        diff.breaking.append(f"{path} changed: {_show(old)} -> {_show(new)}")


def _show(value) -> str:
    if isinstance(value, dict):
        return f"{{{len(value)} entries}}"
    return repr(value)


def compare(old: dict, new: dict, *, targets: list[str] | None = None) -> Differences:
    """What changed from snapshot `old` to `new`.  `targets` limits the layouts compared
    (a machine without one target's compiler cannot have taken its layout)."""
    diff = Differences()
    if targets is not None:
        old = {**old, "layouts": {t: v for t, v in old.get("layouts", {}).items() if t in targets}}
        new = {**new, "layouts": {t: v for t, v in new.get("layouts", {}).items() if t in targets}}
    old = {k: v for k, v in old.items() if k != "abi_version"}
    new = {k: v for k, v in new.items() if k != "abi_version"}
    _walk("", old, new, diff)
    # A new trap code or constant at the end is an addition; the code count moving with it is too.
    count = "constants.WAFT_TRAP_CODE_COUNT"
    if any(a.startswith("constants.WAFT_TRAP_") for a in diff.additions):
        diff.breaking = [b for b in diff.breaking if not b.startswith(count + " changed")]
    return diff


def explain(diff: Differences, version: int) -> str:
    """The failure message: what changed, and what to do."""
    lines = [f"the Waft ABI changed but WAFT_ABI_VERSION is still {version}:"]
    lines += [f"  - {b}" for b in diff.breaking]
    lines += [
        f"Objects and firmware built for ABI version {version} would break against this runtime.",
        (f"If the change is intended, bump WAFT_ABI_VERSION to {version + 1} in runtime_c/include/waft.h and "
         "ABI_VERSION in aot/abi.py, say why in docs/lts.md, and write the new golden with"),
        "  WAFT_UPDATE_GOLDEN=1 pytest tests/lts/test_abi_snapshot.py",
        "Otherwise undo it: docs/lts.md says what a release may change.",
    ]
    return "\n".join(lines)
