"""Shared-memory regions as the compiler sees them: grants, their windows in memory 0, the import check.

A firmware declares named regions and grants some of them to a module, each
read-only or read-write (docs/shared-memory.md).  The compiler is told the
module's grants (name, size, access) and places each granted region in a
*window* of memory 0's 32-bit address space, above anything the linear memory
can reach: loads and stores whose address falls in a window reach the
region's bytes where the firmware placed them, without a copy.  The layout is
a pure function of the grant list, so the module, its C header and the
firmware's grant table agree without talking to each other.

A module names a region by importing `region:NAME` from the `regions`
interface as a function `() -> i32`; the call is the window's base address,
a constant the compiler folds.  Importing a region that is not granted is a
LinkError at build time, one line naming the module, the region and the
grants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aot.errors import LinkError
from aot.wasm.module import FuncType, Module

REGIONS_MODULE = "wasi-ext:shared-memory/regions@0.1.0"
REGION_IMPORT_PREFIX = "region:"
REGION_IMPORT_TYPE = FuncType((), ("i32",))
# Windows start here and are laid out upwards in grant order: the top quarter
# of the 32-bit space, far above any linear memory a microcontroller can hold
# (a module whose memory may grow into it is refused, `check_below_windows`).
WINDOW_START = 0xC000_0000
WINDOW_END = 1 << 32
# Each window starts on a 64 KiB boundary: the base is recognisable in a
# debugger, and alignment tests on an address (atomics, strict-alignment
# targets) give the same answer in the window as at the region's host address,
# which the firmware aligns to at least 32 bytes.
WINDOW_ALIGN = 1 << 16
READ_ONLY, READ_WRITE = "ro", "rw"
_NAME = re.compile(r"^[a-z0-9-]{1,32}$")


@dataclass(frozen=True)
class RegionGrant:
    """One region granted to one module: its name, size in bytes and access ("ro" or "rw")."""

    name: str
    size: int
    access: str = READ_WRITE

    @property
    def writable(self) -> bool:
        return self.access == READ_WRITE

    @property
    def symbol(self) -> str:
        """The C symbol of the region's first byte, which the firmware defines (names have no '_')."""
        return region_symbol(self.name)


@dataclass(frozen=True)
class Window:
    """Where a granted region appears in memory 0: [base, base + size)."""

    grant: RegionGrant
    base: int

    @property
    def end(self) -> int:
        return self.base + self.grant.size


def region_symbol(name: str) -> str:
    return "waft_shm_region_" + name.replace("-", "_")


def check_name(name: str, where: str) -> str:
    """`name` if it is a valid region name, else LinkError naming `where`."""
    if not _NAME.match(name):
        raise LinkError(f"{where}: region name '{name}' must be 1 to 32 lowercase letters, digits or '-'")
    return name


def layout(grants: tuple[RegionGrant, ...] | list[RegionGrant]) -> list[Window]:
    """Each grant's window, in grant order; LinkError when they do not fit above WINDOW_START."""
    windows: list[Window] = []
    base = WINDOW_START
    seen: set[str] = set()
    for g in grants:
        check_name(g.name, "shared memory")
        if g.name in seen:
            raise LinkError(f"shared memory: region '{g.name}' is granted twice")
        if g.access not in (READ_ONLY, READ_WRITE):
            raise LinkError(f"shared memory: region '{g.name}': access must be ro or rw, not '{g.access}'")
        if not 1 <= g.size <= WINDOW_END - WINDOW_START:
            raise LinkError(f"shared memory: region '{g.name}' has size {g.size}; it must be 1 byte to 1 GiB")
        seen.add(g.name)
        if base + g.size > WINDOW_END:
            raise LinkError(f"shared memory: the granted regions need more than the 1 GiB of windows "
                            f"at {WINDOW_START:#x} (region '{g.name}' does not fit)")
        windows.append(Window(g, base))
        base = (base + g.size + WINDOW_ALIGN - 1) & ~(WINDOW_ALIGN - 1)
    return windows


def region_imports(module: Module) -> list[tuple[int, str]]:
    """(function import index, region name) of each `region:NAME` import of the module."""
    out = []
    index = 0
    for imp in module.imports:
        if imp.kind != "func":
            continue
        if imp.module == REGIONS_MODULE and imp.name.startswith(REGION_IMPORT_PREFIX):
            out.append((index, imp.name[len(REGION_IMPORT_PREFIX):]))
        index += 1
    return out


def check_imports(module: Module, grants: tuple[RegionGrant, ...] | list[RegionGrant], name: str) -> None:
    """LinkError, in one line, for a `region:NAME` import that is not granted or has the wrong type."""
    granted = {g.name for g in grants}
    for index, region in region_imports(module):
        if region not in granted:
            offered = ", ".join(sorted(granted)) or "none"
            raise LinkError(f"{name} imports shared-memory region '{region}', which is not granted to it "
                            f"(granted: {offered})")
        if module.func_type(index) != REGION_IMPORT_TYPE:
            raise LinkError(f"{name}: import '{REGION_IMPORT_PREFIX}{region}' from {REGIONS_MODULE} must be "
                            "a function () -> i32 (the window's base address)")


def check_below_windows(cap_bytes: int, name: str) -> None:
    """LinkError when memory 0 may grow into the windows (its cap reaches WINDOW_START)."""
    if cap_bytes > WINDOW_START:
        raise LinkError(f"{name}: linear memory may grow to {cap_bytes:,} bytes, into the shared-memory "
                        f"windows at {WINDOW_START:#x}; cap it (--max-pages) below {WINDOW_START >> 16} pages")


def parse_grant(spec: str, sizes: dict[str, int] | None = None) -> RegionGrant:
    """`NAME:SIZE[:ro|rw]` or, with `sizes` (the firmware's declarations), `NAME[:ro|rw]`."""
    parts = spec.split(":")
    access = READ_WRITE
    if parts and parts[-1] in (READ_ONLY, READ_WRITE):
        access = parts.pop()
    if len(parts) == 2 and sizes is None:
        name, size_text = parts
        if not re.fullmatch(r"0[xX][0-9a-fA-F]+|[0-9]+", size_text):
            raise LinkError(f"region grant '{spec}': size '{size_text}' is not a number")
        size = int(size_text, 0)
    elif len(parts) == 1 and sizes is not None:
        name = parts[0]
        if name not in sizes:
            raise LinkError(f"region grant '{spec}': the firmware declares no region '{name}' "
                            f"(declared: {', '.join(sorted(sizes)) or 'none'})")
        size = sizes[name]
    else:
        wanted = "NAME[:ro|rw] (the firmware's declaration gives the size)" if sizes is not None else "NAME:SIZE[:ro|rw]"
        raise LinkError(f"region grant '{spec}': expected {wanted}")
    check_name(name, f"region grant '{spec}'")
    return RegionGrant(name, size, access)
