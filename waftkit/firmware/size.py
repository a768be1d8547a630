"""Flash and RAM used by a linked program, measured from its ELF and checked against the board.

Flash holds every allocated section that is loaded from it (code, read-only
data, the vector table, unwind tables, and the initial image of `.data`);
RAM holds `.data`, `.bss` and the stack the linker script reserves.  The
figures come from the section headers through pyelftools, so they are what
the linker actually placed, not an estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from aot.errors import TargetError
from aot.targets import MemoryRegion, Target


@dataclass(frozen=True)
class SizeReport:
    flash_used: int
    ram_used: int  # .data + .bss (static RAM), stack excluded
    stack: int  # bytes reserved for the main stack
    flash: MemoryRegion | None
    ram: MemoryRegion | None

    def lines(self) -> list[str]:
        def row(name: str, used: int, region: MemoryRegion | None, note: str = "") -> str:
            if region is None:
                return f"{name:<6} {used:>10,} bytes{note}"
            pct = 100.0 * used / region.length
            return f"{name:<6} {used:>10,} of {region.length:>10,} bytes ({pct:5.1f}%){note}"

        return [row("flash", self.flash_used, self.flash),
                row("RAM", self.ram_used + self.stack, self.ram,
                    f"  (static {self.ram_used:,} + stack {self.stack:,})")]

    def check(self, target: Target, elf: Path) -> None:
        """Raise TargetError with the figures when the program does not fit the board."""
        problems = []
        if self.flash and self.flash_used > self.flash.length:
            problems.append(f"flash needs {self.flash_used:,} bytes, the board has {self.flash.length:,}")
        if self.ram and self.ram_used + self.stack > self.ram.length:
            problems.append(f"RAM needs {self.ram_used + self.stack:,} bytes "
                            f"(static {self.ram_used:,} + stack {self.stack:,}), "
                            f"the board has {self.ram.length:,}")
        if problems:
            raise TargetError(f"{elf} does not fit {target.name}: " + "; ".join(problems))


def _in(region: MemoryRegion | None, address: int) -> bool:
    return region is not None and region.origin <= address < region.origin + region.length


def measure(elf_path: Path, target: Target) -> SizeReport:
    """Flash and RAM figures of a linked ELF for `target`."""
    flash_used = ram_used = stack = 0
    with elf_path.open("rb") as f:
        elf = ELFFile(f)
        # Load addresses come from the program headers: .data lives in RAM but
        # its initial image is loaded from flash.
        load_of = {}
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD":
                load_of[(seg["p_vaddr"], seg["p_memsz"])] = seg["p_paddr"]
        for sec in elf.iter_sections():
            if not sec["sh_flags"] & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
                continue
            addr, size = sec["sh_addr"], sec["sh_size"]
            lma = _load_address(addr, load_of)
            nobits = sec["sh_type"] == "SHT_NOBITS"
            if target.is_host:
                if nobits or sec["sh_flags"] & SH_FLAGS.SHF_WRITE:
                    ram_used += size
                else:
                    flash_used += size
                continue
            if _in(target.flash, addr) or (not nobits and _in(target.flash, lma)):
                flash_used += size
            if _in(target.ram, addr):
                ram_used += size
        symbols = elf.get_section_by_name(".symtab")
        if symbols is not None:
            top = symbols.get_symbol_by_name("__StackTop")
            limit = symbols.get_symbol_by_name("__StackLimit")
            if top and limit:
                stack = top[0]["st_value"] - limit[0]["st_value"]
    return SizeReport(flash_used, ram_used, stack, target.flash, target.ram)


def _load_address(addr: int, load_of: dict[tuple[int, int], int]) -> int:
    for (vaddr, memsz), paddr in load_of.items():
        if vaddr <= addr < vaddr + max(memsz, 1):
            return paddr + (addr - vaddr)
    return addr
