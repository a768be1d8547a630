"""One relocatable object from several: `ld.lld -r`, then chosen global symbols made local again.

Two parts of the compiler generate one module's code as several objects and
hand back one: partitions compiled in parallel (aot/parallel.py) and the
halves generated with and without loop strength reduction
(aot/strength_reduction.py).  Both make the module's `internal` symbols
`hidden` globals so that the pieces can refer to one another; `ld.lld -r`
joins the pieces, and `llvm-objcopy` then localizes those symbols, so the
combined object exports exactly what a single compile would and a firmware
linking two modules sees no clash.  `ld.lld` reads objects of every target
LLVM has, and gives the same bytes for the same inputs.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from aot.errors import AotError

COMBINERS = ("ld.lld", "llvm-objcopy")


def can_combine() -> bool:
    """Whether the tools that combine objects are installed (Debian packages lld, llvm)."""
    return all(shutil.which(tool) is not None for tool in COMBINERS)


def combine_objects(objects: list[bytes], what: str, localize: list[str] | None = None) -> bytes:
    """`objects` as one relocatable object; `localize` names the symbols to make local (None: every hidden one).

    `what` names the pieces in an error message ("the partitions' objects").
    """
    for tool in COMBINERS:
        if shutil.which(tool) is None:
            raise AotError(f"{tool} is not installed: combining {what} needs ld.lld and llvm-objcopy "
                           "(Debian packages lld, llvm)")
    with tempfile.TemporaryDirectory(prefix="waft-combine-") as tmp:
        inputs = []
        for i, obj in enumerate(objects):
            path = Path(tmp) / f"p{i:04d}.o"
            path.write_bytes(obj)
            inputs.append(str(path))
        out = Path(tmp) / "combined.o"
        if localize is None:
            local = "--localize-hidden"
        else:
            names = Path(tmp) / "localize.txt"
            names.write_text("".join(f"{name}\n" for name in localize))
            local = f"--localize-symbols={names}"
        for command in (["ld.lld", "-r", "-o", str(out), *inputs], ["llvm-objcopy", local, str(out)]):
            run = subprocess.run(command, capture_output=True, text=True)
            if run.returncode != 0:
                detail = (run.stderr.strip().splitlines() or ["no message"])[0]
                raise AotError(f"internal error: combining {what} failed ({command[0]}): {detail}")
        return out.read_bytes()
