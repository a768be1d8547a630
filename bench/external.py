"""Out-of-tree workloads: a folder of the user's own C files, benched like bench/workloads/.

`waft bench --workloads DIR` runs every `DIR/*.c` in every variant beside (or,
with `-w`, instead of) the built-in workloads.  Each file keeps the contract of
bench/workloads/bench.h (`bench_run(n)` returns a checksum, `bench_verify()`
returns 1) and may include "bench.h".  One optional line anywhere in the file
sets how it is built and run:

    /* waft-bench: iterations=40 libc */

`iterations=N` is bench_run's n on a board (default 1000; the host runs
HOST_SCALE times more); `libc` builds the Wasm against wasi-libc and the native
programs against the target's C library, as the built-in LIBC_WORKLOADS are.
A file name that is not a C identifier, one that shadows a built-in workload,
or a directive this module does not know is refused with one line naming the
file, before anything is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ITERATIONS = 1000
_DIRECTIVE = re.compile(r"waft-bench:(.*?)(?:\*/|$)", re.MULTILINE)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class WorkloadDirError(ValueError):
    """An out-of-tree workload folder or one of its files cannot be benched (message: what and where)."""


@dataclass(frozen=True)
class Workload:
    """One out-of-tree workload: its C source and how to build and run it."""

    name: str
    source: Path
    iterations: int = DEFAULT_ITERATIONS
    libc: bool = False


def load_workload_dir(folder: Path, builtin: frozenset[str] | set[str] = frozenset()) -> dict[str, Workload]:
    """The workloads of `folder` (every *.c directly in it), by name; WorkloadDirError if any is unusable."""
    folder = Path(folder)
    if not folder.is_dir():
        raise WorkloadDirError(f"{folder}: not a folder of workloads")
    sources = sorted(folder.glob("*.c"))
    if not sources:
        raise WorkloadDirError(f"{folder}: no *.c workloads in it")
    workloads: dict[str, Workload] = {}
    for source in sources:
        name = source.stem
        if not _NAME.fullmatch(name):
            raise WorkloadDirError(f"{source}: a workload's file name must be a C identifier (it names the build)")
        if name in builtin:
            raise WorkloadDirError(f"{source}: '{name}' is already a built-in workload; rename the file")
        workloads[name] = _parse(source, name)
    return workloads


def _parse(source: Path, name: str) -> Workload:
    try:
        text = source.read_text(errors="replace")
    except OSError as exc:
        raise WorkloadDirError(f"{source}: cannot read it ({exc.strerror})") from None
    directives = _DIRECTIVE.findall(text)
    if len(directives) > 1:
        raise WorkloadDirError(f"{source}: more than one 'waft-bench:' line")
    iterations, libc = DEFAULT_ITERATIONS, False
    for word in directives[0].split() if directives else []:
        key, _, value = word.partition("=")
        if key == "libc" and not value:
            libc = True
        elif key == "iterations" and value.isdigit() and int(value) > 0:
            iterations = int(value)
        else:
            raise WorkloadDirError(f"{source}: unknown 'waft-bench:' setting '{word}' "
                                   "(known: iterations=N with N > 0, libc)")
    return Workload(name, source, iterations, libc)
