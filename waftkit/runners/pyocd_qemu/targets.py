"""pyOCD target types for QEMU's emulated Cortex-M boards, added to pyOCD's target table.

Declarative, like pyOCD's own `target/builtin/target_*.py`.  The emulated
flash has no controller and no flash algorithm: QEMU's debug stub writes it
like RAM, so the flash is declared as a writable ROM region and pyOCD's
loader (FileProgrammer) programs it with plain memory writes.
"""

from __future__ import annotations

from pyocd.core.memory_map import MemoryMap, RamRegion, RomRegion
from pyocd.coresight.coresight_target import CoreSightTarget


class QemuNetduinoPlus2(CoreSightTarget):
    """QEMU `netduinoplus2`: STM32F405 (Cortex-M4F), 1 MiB flash at 0x08000000, 128 KiB SRAM."""

    VENDOR = "QEMU"

    MEMORY_MAP = MemoryMap(
        RomRegion(start=0x08000000, length=0x100000, name="flash", access="rwx", is_boot_memory=True),
        RamRegion(start=0x20000000, length=0x20000, name="sram"),
    )

    def __init__(self, session) -> None:
        super().__init__(session, self.MEMORY_MAP)


TARGETS: dict[str, type[CoreSightTarget]] = {
    "qemu_netduinoplus2": QemuNetduinoPlus2,
}


def register() -> None:
    """Make the target types known to pyOCD (`-t qemu_netduinoplus2`); idempotent."""
    from pyocd.target import TARGET

    for name, cls in TARGETS.items():
        TARGET.setdefault(name, cls)
