"""The firmware's shared-memory regions: parse their declarations and grants, render them as C.

A firmware declares each region once, as `NAME:SIZE[@PLACEMENT]`:

    ring:1024              a static array (.bss), aligned and padded to the cache line
    ring:1024@.shm         the same, in linker section .shm (the board's linker script places it)
    adc:256@0x20010000     at a fixed address (a DMA buffer, a peripheral's RAM; boards only)
    half:512@ring+512      inside another region: bytes 512.. of `ring` under a name of its own

and grants regions to modules by their C prefix, as `MODULE=REGION[:ro|rw]`
(read-write when the access is left out): `consumer=ring:ro`.  The
compiler is given each module's grants in declaration order (aot/shm.py lays
out its windows from that list), and the firmware gets `render_c`/`render_h`:
the regions' storage, and one `waft_shm` per module (runtime_c/shm/waft_shm.h)
for its `regions` imports, whose `memory` the embedder sets after
instantiating.  Mistakes are a LinkError whose text is one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aot import shm
from aot.errors import LinkError
from aot.shm import RegionGrant
from aot.targets import Target

CACHE_LINE = 32  # regions are aligned and padded to it, so sync-* never touches a neighbour's line


@dataclass(frozen=True)
class Region:
    name: str
    size: int
    section: str | None = None   # linker section; None: .bss
    address: int | None = None   # fixed address
    parent: str | None = None    # inside another region...
    parent_offset: int = 0       # ...at this offset

    @property
    def symbol(self) -> str:
        return shm.region_symbol(self.name)


def _number(text: str, spec: str, what: str) -> int:
    if not re.fullmatch(r"0[xX][0-9a-fA-F]+|[0-9]+", text):
        raise LinkError(f"region '{spec}': {what} '{text}' is not a number")
    return int(text, 0)


def parse_region(spec: str) -> Region:
    """One declaration, `NAME:SIZE[@PLACEMENT]` (see the module docstring)."""
    body, at, placement = spec.partition("@")
    name, colon, size_text = body.partition(":")
    if not colon:
        raise LinkError(f"region '{spec}': expected NAME:SIZE[@.section|@0xADDRESS|@REGION+OFFSET]")
    shm.check_name(name, f"region '{spec}'")
    size = _number(size_text, spec, "size")
    if not 1 <= size <= shm.WINDOW_END - shm.WINDOW_START:
        raise LinkError(f"region '{spec}': size must be 1 byte to 1 GiB")
    if not at:
        return Region(name, size)
    if placement.startswith("."):
        if not re.fullmatch(r"\.[A-Za-z0-9_.]{1,63}", placement):
            raise LinkError(f"region '{spec}': '{placement}' is not a section name")
        return Region(name, size, section=placement)
    if re.fullmatch(r"0[xX][0-9a-fA-F]+|[0-9]+", placement):
        address = int(placement, 0)
        if address % CACHE_LINE or address + size > 1 << 32:
            raise LinkError(f"region '{spec}': a fixed address must be {CACHE_LINE}-byte aligned and "
                            "the region must end below 4 GiB")
        return Region(name, size, address=address)
    parent, plus, offset_text = placement.partition("+")
    shm.check_name(parent, f"region '{spec}'")
    return Region(name, size, parent=parent, parent_offset=_number(offset_text, spec, "offset") if plus else 0)


def parse_regions(specs: list[str], target: Target) -> dict[str, Region]:
    """The firmware's regions by name, checked against each other and the target."""
    regions: dict[str, Region] = {}
    for spec in specs:
        region = parse_region(str(spec))
        if region.name in regions:
            raise LinkError(f"region '{spec}': '{region.name}' is declared twice")
        if region.address is not None and target.is_host:
            raise LinkError(f"region '{spec}': a fixed address is for boards; {target.name} has no fixed memory map")
        regions[region.name] = region
    for region in regions.values():
        if region.parent is None:
            continue
        parent = regions.get(region.parent)
        if parent is None:
            raise LinkError(f"region '{region.name}': placed in '{region.parent}', which is not declared")
        if parent.parent is not None:
            raise LinkError(f"region '{region.name}': '{parent.name}' is itself inside another region; "
                            "place it in that one")
        if region.parent_offset + region.size > parent.size:
            raise LinkError(f"region '{region.name}': {region.parent_offset}+{region.size} bytes pass the end "
                            f"of '{parent.name}' ({parent.size} bytes)")
    return regions


def parse_grants(specs: list[str], regions: dict[str, Region]) -> dict[str, list[RegionGrant]]:
    """Grants by module prefix, each module's in the order given; one-line LinkError otherwise."""
    grants: dict[str, list[RegionGrant]] = {}
    sizes = {name: r.size for name, r in regions.items()}
    for spec in specs:
        module, eq, grant_text = str(spec).partition("=")
        if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", module):
            raise LinkError(f"grant '{spec}': expected MODULE=REGION[:ro|rw] (MODULE: the module's C prefix)")
        grant = shm.parse_grant(grant_text, sizes)
        if any(g.name == grant.name for g in grants.get(module, ())):
            raise LinkError(f"grant '{spec}': region '{grant.name}' is granted to {module} twice")
        grants.setdefault(module, []).append(grant)
    for module, granted in grants.items():
        shm.layout(granted)  # too many windows: said here, before any module is compiled
    return grants


def render_c(regions: dict[str, Region], grants: dict[str, list[RegionGrant]], header: str = "waft_shm.h") -> str:
    """The regions' storage and each module's grant table (`PREFIX__shm`), as C (`header`: how to include waft_shm.h)."""
    out = ["/* Shared-memory regions and grants: generated by waftkit/firmware/shm_regions.py. */",
           f'#include "{header}"', ""]
    for r in regions.values():
        if r.parent is not None:
            parent = regions[r.parent].symbol
            out.append(f'__asm__(".globl {r.symbol}\\n\\t.set {r.symbol}, {parent} + {r.parent_offset}");')
        elif r.address is not None:
            out.append(f'__asm__(".globl {r.symbol}\\n\\t.set {r.symbol}, {r.address:#x}");')
        else:
            padded = r.size + (-r.size) % CACHE_LINE
            section = f', section("{r.section}")' if r.section else ""
            out.append(f"uint8_t {r.symbol}[{padded}] __attribute__((aligned({CACHE_LINE}){section}));")
    for r in regions.values():
        if r.parent is not None or r.address is not None:
            out.append(f"extern uint8_t {r.symbol}[];")
    for module, granted in grants.items():
        out.append("")
        out.append(f"static const waft_shm_grant {module}__shm_grants[] = {{")
        for w in shm.layout(granted):
            g = w.grant
            out.append(f'    {{"{g.name}", {g.symbol}, {w.base:#x}u, {g.size}u, {1 if g.writable else 0}}},')
        out.append("};")
        out.append(f"waft_shm {module}__shm = {{0, {module}__shm_grants, {len(granted)}u}};")
    return "\n".join(out) + "\n"


def render_h(regions: dict[str, Region], grants: dict[str, list[RegionGrant]]) -> str:
    """What native code sees: each region's bytes and size, each module's `waft_shm`."""
    out = ["/* Shared-memory regions and grants: generated by waftkit/firmware/shm_regions.py. */",
           "#ifndef WAFT_SHM_REGIONS_H", "#define WAFT_SHM_REGIONS_H", '#include "waft_shm.h"', ""]
    for r in regions.values():
        upper = r.name.upper().replace("-", "_")
        out.append(f"extern uint8_t {r.symbol}[];")
        out.append(f"#define WAFT_SHM_{upper}_SIZE {r.size}u")
    for module, granted in grants.items():
        out.append(f"extern waft_shm {module}__shm; /* set .memory to the module's memory 0 after instantiating */")
        for w in shm.layout(granted):
            upper = w.grant.name.upper().replace("-", "_")
            out.append(f"#define {module.upper()}_WINDOW_{upper} {w.base:#x}u /* '{w.grant.name}' in {module}'s memory 0 */")
    out += ["", "#endif", ""]
    return "\n".join(out)
